/*
 * admin.h — assayctl's admin commands over the verifier's REST API
 * (agents, policy upload/list/show/delete, status, health): one handler
 * per row of the command table (cmd.c). The connection settings they
 * share, struct ctl, are in cmd.h.
 */
#ifndef ASSAY_ADMIN_H
#define ASSAY_ADMIN_H

#include <jansson.h>

#include "tools/cmd.h"

/*
 * One API call: 0 (JSON answer in *out, or the raw body in *raw, either
 * may be NULL), 1 after printing the verifier's refusal, 2 after printing
 * a transport or usage error. With --json the body is printed.
 */
int	ctl_call(struct ctl *c, const char *method, const char *path,
	    const char *ctype, const void *body, size_t len, json_t **out,
	    char **raw);
/* Member k of o as a string, or "-". */
const char *ctl_str(json_t *o, const char *k);
/* t (unix s) as ISO 8601 UTC in buf, or "never" for 0. */
const char *ctl_when(json_int_t t, char *buf, size_t len);

int	cmd_agents_list(struct cmd_args *a);
int	cmd_agents_show(struct cmd_args *a);
int	cmd_agents_admit(struct cmd_args *a);
int	cmd_agents_events(struct cmd_args *a);
/* attest, reset, stop, start: POST /v1/agents/ID/<the row's word> */
int	cmd_agents_post(struct cmd_args *a);
int	cmd_agents_delete(struct cmd_args *a);
int	cmd_policy_list(struct cmd_args *a);
int	cmd_policy_upload(struct cmd_args *a);
int	cmd_policy_show(struct cmd_args *a);
int	cmd_policy_delete(struct cmd_args *a);
int	cmd_status(struct cmd_args *a);
int	cmd_health(struct cmd_args *a);
int	cmd_nodes(struct cmd_args *a);
/* policy_ver_cmd.c */
int	cmd_policy_versions(struct cmd_args *a);
int	cmd_policy_rollback(struct cmd_args *a);
int	cmd_policy_promote(struct cmd_args *a);
int	cmd_policy_preview(struct cmd_args *a);
/*
 * GET path from the verifier; *raw: the body (NUL-terminated, caller
 * frees). 0, or the exit status after printing the error.
 */
int	admin_get_raw(struct ctl *c, const char *path, char **raw);

#endif
