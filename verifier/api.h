/*
 * api.h — admin REST handlers shared between api.c (agents, health) and
 * api_policy.c (policies) and metrics.c (metrics).
 */
#ifndef ASSAY_API_H
#define ASSAY_API_H

#include <jansson.h>

#include "common/http.h"

struct vagent;

json_t	*api_agent_summary(const struct vagent *va);
void	api_policies_list(struct http_request *r);
void	api_policy_get(struct http_request *r);
void	api_policy_put(struct http_request *r);
void	api_policy_delete(struct http_request *r);
void	api_metrics(struct http_request *r);

#endif
