/*
 * policy_env.h — signed Assay policies: a DSSE envelope (common/dsse.h)
 * with payloadType POLICY_ENV_TYPE whose payload is the statement, compact
 * JSON {"_type":POLICY_ENV_STMT_TYPE,"name":NAME,"signed_at":UNIX_SECONDS,
 * "policy":POLICY_TEXT}. The name is signed, so a signature cannot be
 * moved to another policy name. Format: assay-policy(5), SIGNED POLICIES.
 */
#ifndef ASSAY_POLICY_ENV_H
#define ASSAY_POLICY_ENV_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/dsse.h"

#define POLICY_ENV_TYPE		"application/vnd.assay.policy+json"
#define POLICY_ENV_STMT_TYPE	"https://assay.dev/policy/v1"
/* The HTTP Content-Type an envelope is uploaded with. */
#define POLICY_ENV_CTYPE	"application/vnd.dsse+json"
#define POLICY_ENV_MAX		DSSE_ENVELOPE_MAX	/* 64 MiB */

struct policy_stmt {
	char	*name;
	int64_t	 signed_at;	/* seconds since the epoch, as signed */
	char	*text;		/* the policy, NUL-terminated, no NUL inside */
	size_t	 text_len;
	char	*signer;	/* who verified (dsse_env_verify), NULL unverified */
	char	*keyid;		/* the key that verified, NULL unverified */
};

void	policy_stmt_free(struct policy_stmt *s);	/* members; NULL-safe */

/*
 * 1 if body looks like a DSSE envelope (optional whitespace, '{', and a
 * "payloadType" member name somewhere): cheap, no allocation, no parse.
 */
int	policy_env_sniff(const uint8_t *body, size_t len);

/*
 * Open an envelope. trust NULL: parse only (no signature check, signer
 * and keyid NULL). Otherwise a signature must verify under trust.
 * Errors, each with a detail: ASSAY_ERR_RANGE (over POLICY_ENV_MAX),
 * ASSAY_ERR_FORMAT (not an envelope, wrong payloadType, bad statement:
 * _type, name [A-Za-z0-9._-]{1,64}, signed_at, policy, unknown members),
 * ASSAY_ERR_PERM (no signature verifies under the trusted signers,
 * naming the keyids seen), ASSAY_ERR_CONFIG (trust has no signers).
 * *out is zeroed first and filled only on success.
 */
int	policy_env_open(const uint8_t *env, size_t len,
	    const struct dsse_trust *trust, struct policy_stmt *out);

/*
 * A signed envelope for the policy text (no NUL, valid UTF-8) named name
 * at signed_at, signed by key (P-256 or Ed25519), with certs (leaf first,
 * may be NULL) as the signature's x5c. *out_json malloc'ed, no newline.
 */
int	policy_env_seal(const char *name, const char *text, size_t len,
	    int64_t signed_at, EVP_PKEY *key, STACK_OF(X509) *certs,
	    char **out_json);

#endif
