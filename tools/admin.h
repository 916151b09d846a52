/*
 * admin.h — assayctl's admin commands over the verifier's REST API
 * (agents, policy upload/list/show/delete, status, health): one handler
 * per row of the command table (cmd.c). The connection settings they
 * share, struct ctl, are in cmd.h.
 */
#ifndef ASSAY_ADMIN_H
#define ASSAY_ADMIN_H

#include "tools/cmd.h"

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
/*
 * GET path from the verifier; *raw: the body (NUL-terminated, caller
 * frees). 0, or the exit status after printing the error.
 */
int	admin_get_raw(struct ctl *c, const char *path, char **raw);

#endif
