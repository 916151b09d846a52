/*
 * api.h — admin REST handlers shared between api.c (agents, health) and
 * api_policy.c (policies) and metrics.c (metrics).
 */
#ifndef ASSAY_API_H
#define ASSAY_API_H

#include <jansson.h>

#include "common/http.h"

struct vagent;

/* The longest round interval an admin may set (the config key's too). */
#define INTERVAL_MAX	86400

json_t	*api_agent_summary(const struct vagent *va);
json_t	*api_agent_detail(const struct vagent *va);

/*
 * An admin action on an agent this node attests (api_agent.c), run for a
 * local request or for a command another node queued: the HTTP status
 * and *reply (NULL: no body). body may be NULL; who names the requester.
 */
typedef int (*agent_op_fn)(struct vagent *va, json_t *body, const char *who,
	    json_t **reply);
agent_op_fn agent_op_find(const char *name);
void	api_agent_put(struct http_request *r);
void	api_agent_delete(struct http_request *r);
void	api_agent_attest(struct http_request *r);
void	api_agent_reset(struct http_request *r);
void	api_agent_start(struct http_request *r);
void	api_agent_stop(struct http_request *r);
void	api_policies_list(struct http_request *r);
void	api_policy_get(struct http_request *r);
void	api_policy_put(struct http_request *r);
void	api_policy_delete(struct http_request *r);
/* api_policy_ver.c */
void	api_policy_versions(struct http_request *r);
void	api_policy_version_get(struct http_request *r);
void	api_policy_rollback(struct http_request *r);
void	api_policy_promote(struct http_request *r);
/* api_policy_preview.c */
void	api_policy_preview(struct http_request *r);
struct verifier;
json_t	*api_policy_canary_json(struct verifier *v, const char *name);
/* A stored string (may be NULL: JSON null) as JSON, made safe (api.c). */
json_t	*api_opt_str(const char *s);
/* policy_dir holds name: 1 with 409 sent (api_policy.c). */
int	api_policy_managed(struct http_request *r, struct verifier *v,
	    const char *name);
void	api_metrics(struct http_request *r);
void	api_agent_result(struct http_request *r);	/* api_result.c */
void	api_keys(struct http_request *r);
void	api_agent_identity(struct http_request *r);

#endif
