/*
 * enroll.h — registrar endpoints (register, activate, status) and the
 * re-enrollment action run where an agent is attested.
 */
#ifndef ASSAY_ENROLL_H
#define ASSAY_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/http.h"

struct verifier;
struct vagent;

void	api_register(struct http_request *r);
void	api_activate(struct http_request *r);
void	api_register_status(struct http_request *r);
/* The "reenroll" admin action (api.h agent_op_fn): new AK and certificate. */
int	enroll_reenroll_op(struct vagent *va, json_t *body, const char *who,
	    json_t **reply);

#endif
