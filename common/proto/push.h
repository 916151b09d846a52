/*
 * push.h — the push-mode messages, one encoder and one parser each, used
 * by both sides. A push agent accepts no connection: it asks the
 * verifier for a challenge and posts the evidence document (doc.h) back.
 *
 *   POST /v1/agents/ID/challenge  {}
 *   200  {"challenge":HEX64, "request":"/v1/quote?nonce=..&pcrs=..",
 *         "deadline_ms":N, "max_bytes":B}       a round
 *   200  {"wait_ms":N}                          nothing due yet
 *   POST /v1/agents/ID/evidence?challenge=HEX64  <evidence document>
 *   200  {"state":S, "failure_id":F|null, "detail":D|null, "next_ms":N
 *         [, "ear":JWT]          the signed result, when the verifier signs
 *                                results (ear.h)
 *         [, "identity":{...}]}  the host identity (identity.h), when the
 *                                verifier issues them and this host holds
 *                                one now
 *
 * request: exactly the pull request's path and query (quote_req.h);
 * deadline_ms: the evidence must arrive within it from the challenge's
 * receipt; max_bytes: the largest evidence body the verifier takes.
 * Parsing is strict on types, encodings and ranges; unknown keys are
 * ignored (a newer verifier may say more). Pure, no I/O.
 */
#ifndef ASSAY_PROTO_PUSH_H
#define ASSAY_PROTO_PUSH_H

#include <stdint.h>

#include <jansson.h>

#include "common/proto/identity.h"
#include "common/proto/quote_req.h"

#define PUSH_CHALLENGE_HEX	64		/* 32 random bytes */
#define PUSH_DEADLINE_MAX_MS	600000		/* deadline_ms: 1..this */
#define PUSH_WAIT_MAX_MS	600000		/* wait_ms, next_ms: 0..this */
#define PUSH_REQUEST_MAX	4096		/* bytes of "request" */
#define PUSH_STATE_MAX		64		/* bytes of state, failure_id */
#define PUSH_EAR_MAX		16384		/* bytes of the verdict's "ear" */
#define PUSH_CHALLENGE_PATH	"/v1/agents/%s/challenge"
#define PUSH_EVIDENCE_PATH	"/v1/agents/%s/evidence"	/* ?challenge=HEX64 */

/* id[0] == '\0': a wait (wait_ms), not a round (the other fields). */
struct push_challenge {
	char		 id[PUSH_CHALLENGE_HEX + 1];
	char		*request;
	int64_t		 deadline_ms;
	uint64_t	 max_bytes;
	int64_t		 wait_ms;
};

struct push_verdict {
	char		*state;			/* "trusted", ... */
	char		*failure_id;		/* NULL: none */
	char		*detail;		/* NULL: none */
	int64_t		 next_ms;
	char		*ear;			/* the signed result (EAR JWT), or NULL */
	int		 has_identity;
	struct ident_doc identity;		/* when has_identity */
};

/* 1 if s is exactly PUSH_CHALLENGE_HEX lowercase hex digits. */
int	push_challenge_id_valid(const char *s);

/* c as JSON (a round when c->id is set, else a wait); NULL if c is invalid. */
json_t	*push_challenge_encode(const struct push_challenge *c);
/* 0 with *out owned by the caller, or ASSAY_ERR_FORMAT/INVAL (*out empty). */
int	push_challenge_parse(const json_t *j, struct push_challenge *out);
void	push_challenge_free(struct push_challenge *c);

/* v as JSON; NULL if v is invalid. */
json_t	*push_verdict_encode(const struct push_verdict *v);
int	push_verdict_parse(const json_t *j, struct push_verdict *out);
void	push_verdict_free(struct push_verdict *v);

/* The quote request a challenge carries: its query parsed by quote_req_parse. */
int	push_request_parse(const char *request, struct quote_req *q);

#endif
