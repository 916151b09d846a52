/*
 * dsse.h — the Dead Simple Signing Envelope (secure-systems-lab/dsse,
 * envelope.md and protocol.md): PAE, a strict envelope parser, building
 * and signing an envelope, verifying one signature, and a set of trusted
 * signers (public keys and X.509 CAs) an envelope is checked against.
 * Algorithms: ECDSA P-256 with SHA-256 (DER signatures) and Ed25519;
 * every other key type or curve is refused. Our extension for X.509
 * signers: a signature object may carry "x5c": [base64 DER certificate,
 * leaf first, then intermediates]; DSSE readers ignore unknown members.
 * dsse.c: encoding, parsing, signing; dsse_trust.c: the trusted signers.
 */
#ifndef ASSAY_DSSE_H
#define ASSAY_DSSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define DSSE_ENVELOPE_MAX	(64u * 1024 * 1024)	/* envelope JSON bytes */
#define DSSE_SIGS_MAX		16	/* signatures in one envelope */
#define DSSE_TYPE_MAX		256	/* payloadType bytes */
#define DSSE_KEYID_MAX		256	/* keyid bytes */
#define DSSE_SIG_MAX		512	/* decoded signature bytes */
#define DSSE_X5C_MAX		8	/* certificates in one x5c */
#define DSSE_CERT_MAX		16384	/* decoded certificate bytes */

struct dsse_sig {
	char		*keyid;		/* NULL when absent; sanitized, a hint only */
	uint8_t		*sig;
	size_t		 sig_len;
	STACK_OF(X509)	*x5c;		/* NULL when absent; leaf first */
};

struct dsse_env {
	char		*type;		/* payloadType */
	uint8_t		*payload;	/* decoded, NUL-terminated (not counted) */
	size_t		 payload_len;
	struct dsse_sig	 sigs[DSSE_SIGS_MAX];
	size_t		 nsigs;		/* 1..DSSE_SIGS_MAX */
};

/*
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body,
 * LEN in ASCII decimal. *out is malloc'ed (caller frees).
 */
int	dsse_pae(const char *type, const uint8_t *body, size_t len,
	    uint8_t **out, size_t *outlen);

/*
 * Parse an envelope: a JSON object (no duplicate members) with string
 * payloadType (1..DSSE_TYPE_MAX bytes), string payload (base64, standard
 * or URL-safe alphabet, padded or not) and 1..DSSE_SIGS_MAX signatures,
 * each an object with a non-empty base64 "sig", an optional string
 * "keyid" and an optional "x5c". Unknown members are ignored. Errors:
 * ASSAY_ERR_RANGE (over DSSE_ENVELOPE_MAX or a bound above),
 * ASSAY_ERR_FORMAT, each with a detail naming the member. *out is
 * zeroed first; on error nothing needs freeing.
 */
int	dsse_env_parse(const uint8_t *json, size_t len, struct dsse_env *out);
void	dsse_env_free(struct dsse_env *e);	/* members only; NULL-safe */

/*
 * 0 for an ECDSA P-256 or Ed25519 key; ASSAY_ERR_UNSUPPORTED naming the
 * key type or curve otherwise.
 */
int	dsse_key_check(EVP_PKEY *key);
/* "sha256:" + hex SHA-256 of the DER SubjectPublicKeyInfo of key. */
int	dsse_keyid(EVP_PKEY *key, char **out);

/*
 * A new envelope over body with one signature by key (P-256 or Ed25519),
 * keyid = dsse_keyid(key); with certs (leaf first, may be NULL) its x5c,
 * the leaf's key having to be key's. *out_json: compact JSON, malloc'ed.
 */
int	dsse_sign(const char *type, const uint8_t *body, size_t len,
	    EVP_PKEY *key, STACK_OF(X509) *certs, char **out_json);

/*
 * 0 if sig is key's signature over msg (a PAE), ASSAY_FAIL if not,
 * ASSAY_ERR_UNSUPPORTED for a key dsse_key_check refuses.
 */
int	dsse_sig_verify(const uint8_t *msg, size_t len, const uint8_t *sig,
	    size_t sig_len, EVP_PKEY *key);

/* Trusted signers. */
struct dsse_trust;

struct dsse_trust *dsse_trust_new(void);
void	dsse_trust_free(struct dsse_trust *t);	/* NULL-safe */
/*
 * Add every PEM object of path: "PUBLIC KEY" (P-256 or Ed25519; a
 * signature verifies under it directly) or "CERTIFICATE" (a CA: a
 * signature's x5c leaf must chain to it, at the current time, through the
 * x5c intermediates, and its key verify the signature). Anything else, an
 * empty file, or a key dsse_key_check refuses: an error naming path.
 */
int	dsse_trust_add_pem_file(struct dsse_trust *t, const char *path);
/* The same for one key or one CA certificate (references taken). */
int	dsse_trust_add_key(struct dsse_trust *t, EVP_PKEY *key);
int	dsse_trust_add_ca(struct dsse_trust *t, X509 *ca);
size_t	dsse_trust_count(const struct dsse_trust *t);
/* Signer i for logs: "key sha256:HEX" or "CA SUBJECT"; NULL past the end. */
const char *dsse_trust_describe(const struct dsse_trust *t, size_t i);

/*
 * Verify e against t: accepted when at least one signature verifies
 * under any trusted signer (the others are then ignored). On success
 * *signer (may be NULL) gets "key sha256:HEX" or "x509 LEAF-SUBJECT
 * (CA CA-SUBJECT)" (RFC 2253 one-line subjects) and *keyid (may be
 * NULL) the keyid of the key that verified; both malloc'ed. Otherwise
 * ASSAY_ERR_PERM with a detail naming the keyids seen and why x5c chains
 * failed; ASSAY_ERR_CONFIG for an empty t.
 */
int	dsse_env_verify(const struct dsse_env *e, const struct dsse_trust *t,
	    char **signer, char **keyid);

#endif
