/*
 * enroll.h — registrar endpoints (register, activate, status) and the
 * in-memory table of enrollments awaiting activation.
 */
#ifndef ASSAY_ENROLL_H
#define ASSAY_ENROLL_H

#include <stddef.h>
#include <stdint.h>

#include "common/http.h"

struct verifier;

void	api_register(struct http_request *r);
void	api_activate(struct http_request *r);
void	api_register_status(struct http_request *r);
void	enroll_free_all(struct verifier *v);

#endif
