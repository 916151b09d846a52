/*
 * quote_req.h — the verifier's request for one round's evidence, the one
 * definition both sides use: the verifier formats it, the agent parses
 * it (the answer is the evidence document, doc.h).
 *
 *   GET /v1/quote?nonce=HEX&pcrs=SEL[&ima_from=N&ima_max=M&ima_bytes=B]
 *                [&eventlog=1][&identity=1][&format=F[&format_max=M]]
 *
 * nonce: QUOTE_NONCE_MIN..QUOTE_NONCE_MAX bytes (the verifier sends
 * QUOTE_NONCE_LEN); pcrs: a PCR selection ("sha256:0,1,2+sha1:10",
 * pcr.h); ima_from: the first IMA entry wanted (its presence asks for
 * IMA), ima_max: entries at most, ima_bytes: list bytes at most (doc.h's
 * paging rules); eventlog=1: the firmware event log too; identity=1: the
 * host identity key's certification by the AK over the same nonce, when
 * the agent has such a key (doc.h); format=F: the answer in form F of
 * the document (doc.h: 1 JSON, 2 and 3 binary; absent: 1); format_max=M:
 * the newest form the verifier reads: an agent that knows this parameter
 * answers in the newest form it knows up to M (when newer than F). The
 * verifier asks format=2&format_max=3: agents that know forms 1 and 2
 * only refuse format=3 but ignore format_max and answer form 2; agents
 * older than format=2 answer JSON. Agents older than identity=1 refuse
 * nothing: unknown parameters are ignored.
 */
#ifndef ASSAY_PROTO_QUOTE_REQ_H
#define ASSAY_PROTO_QUOTE_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "common/evidence/pcr.h"

#define QUOTE_NONCE_MIN		16
#define QUOTE_NONCE_MAX		64	/* TPM2B_DATA of a quote's qualifyingData */
#define QUOTE_NONCE_LEN		32	/* what the verifier sends */
#define QUOTE_PATH		"/v1/quote"

struct quote_req {
	uint8_t			 nonce[QUOTE_NONCE_MAX];
	size_t			 nonce_len;
	struct pcr_selection	 sel;
	int			 ima;		/* IMA entries asked */
	uint64_t		 ima_from;
	uint64_t		 ima_max;	/* 0: not limited by count */
	uint64_t		 ima_bytes;	/* 0: the most a page may hold */
	int			 eventlog;
	int			 identity;	/* certify the identity key */
	int			 format;	/* DOC_FORM_* to answer in (0: JSON) */
};

/* The request's path and query (caller frees); NULL on bad fields. */
char	*quote_req_format(const struct quote_req *q);

/* A query parameter's decoded value, NULL when absent. */
typedef const char *(*quote_query_fn)(void *ctx, const char *key);
/* Parse a request from its query parameters; 0 or ASSAY_ERR_INVAL. */
int	quote_req_parse(quote_query_fn get, void *ctx, struct quote_req *out);

#endif
