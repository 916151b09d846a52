/*
 * identity.h — the host identity the verifier issues, one encoder and one
 * parser used by both sides (GET /v1/agents/ID/identity, and the push
 * verdict's "identity"):
 *
 *   {"spiffe_id":"spiffe://TD/host/ID", "certificate":"<PEM leaf>",
 *    "chain":"<PEM CA certificates>", "not_before":T, "not_after":T}
 *
 * The leaf certifies the agent's TPM-resident identity key (certify.h)
 * until not_after (unix seconds). Parsing is strict on types and sizes;
 * OpenSSL reads the PEM (one leaf; 1..IDENT_CHAIN_MAX in the chain), the
 * leaf's validity must match the numbers, and the parsed certificates are
 * what the caller gets, written again as PEM. Unknown keys are ignored.
 * Pure, no I/O.
 */
#ifndef ASSAY_PROTO_IDENTITY_H
#define ASSAY_PROTO_IDENTITY_H

#include <stdint.h>

#include <jansson.h>

#define IDENT_PEM_MAX		16384	/* bytes of "certificate" */
#define IDENT_CHAIN_PEM_MAX	65536	/* bytes of "chain" */
#define IDENT_CHAIN_MAX		8	/* certificates in "chain" */
#define IDENT_SPIFFE_MAX	2048	/* bytes of "spiffe_id" */
#define IDENT_PATH		"/v1/agents/%s/identity"

struct ident_doc {
	char	*spiffe_id;
	char	*cert;			/* PEM: the leaf */
	char	*chain;			/* PEM: issuing CA first */
	int64_t	 not_before, not_after;	/* unix seconds */
};

/* d as JSON; NULL if a member is missing. */
json_t	*ident_doc_encode(const struct ident_doc *d);
/* 0 with *out owned by the caller, or ASSAY_ERR_FORMAT/INVAL (*out empty). */
int	ident_doc_parse(const json_t *j, struct ident_doc *out);
void	ident_doc_free(struct ident_doc *d);
void	ident_doc_copy(struct ident_doc *dst, const struct ident_doc *src);

#endif
