/*
 * audit.h — the verifier's audit trail: one record per judged round and
 * per action that changes an agent's trust (enrollment, admission, reset,
 * stop, start, deletion, a policy change), sealed onto the agent's hash
 * chain (common/proto/audit_rec.h) and written by the store in the same
 * transaction as the agent change it belongs to (store_audit.h). Kept for
 * audit_retention seconds; 0 turns it off. Loop thread only.
 */
#ifndef ASSAY_AUDIT_H
#define ASSAY_AUDIT_H

#include <jansson.h>

#include "verifier/store_audit.h"
#include "verifier/verifier.h"

struct verify_job;

int	audit_on(const struct verifier *v);
/* The record of va's judged round j: the next store write carries it. */
void	audit_round(struct vagent *va, struct verify_job *j);
/*
 * The record of an action (kind "enroll", "admit", "reset", ...) by actor
 * (a certificate CN, or NULL for the verifier itself); extra: more fields
 * (stolen, may be NULL). The next store write of va carries it.
 */
void	audit_action(struct vagent *va, const char *kind, const char *actor,
	    json_t *extra);
/* extra for an enrollment: the EK certificate, EK and AK public keys. */
json_t	*audit_keys(const struct agent_rec *rec);
/*
 * agents.c, before a store write: seal the waiting record (if any) onto
 * va's chain into *au (1), or 0 when none waits. audit_refused: the write
 * with *au was refused; the chain position is read again next time.
 */
int	audit_seal(struct vagent *va, struct store_audit *au);
void	audit_refused(struct vagent *va, const struct store_audit *au);
/* Drop a waiting record (the agent leaves memory). */
void	audit_drop(struct vagent *va);
/* Delete va from the store with its "delete" record by actor. */
int	audit_delete(struct vagent *va, const char *actor,
	    const struct store_event *ev);

/* GET /v1/agents/{id}/audit?since=UNIX (api_audit.c) */
void	api_agent_audit(struct http_request *r);

#endif
