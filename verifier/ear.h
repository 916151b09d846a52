/*
 * ear.h — signed attestation results in the EAR format of the IETF RATS
 * draft (draft-fv-rats-ear): the verifier's ES256 signing key and the
 * public keys it still publishes (JWKS, kid = RFC 7638 thumbprint), and
 * one agent's result as a compact JWT. Loaded at configure time; signing
 * runs on the loop thread (one ECDSA signature per request).
 */
#ifndef ASSAY_EAR_H
#define ASSAY_EAR_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "verifier/store.h"

#define EAR_PROFILE		"tag:github.com,2023:veraison/ear"
#define EAR_DEVELOPER		"https://github.com/assay/assay"
#define EAR_MAX_KEYS		16	/* current + previous keys published */

struct ear_keys;

/*
 * Load the signing key (PEM, EC P-256 private key) from key_path and the
 * previous public keys (PEM public or private keys, only the public half
 * kept) still published. verifier_id: ear.verifier-id "developer" (NULL:
 * EAR_DEVELOPER). ASSAY_ERR_CONFIG naming the file on any error.
 */
int	ear_keys_load(const char *key_path, char *const *prev, size_t nprev,
	    const char *verifier_id, struct ear_keys **out);
void	ear_keys_free(struct ear_keys *k);	/* NULL-safe; wipes the key */
/* The signing key's kid (RFC 7638 SHA-256 thumbprint, base64url). */
const char *ear_kid(const struct ear_keys *k);
/* The ear.verifier-id developer (results.verifier_id). */
const char *ear_developer(const struct ear_keys *k);
/* {"keys":[...]}: the signing key first, then the previous ones. */
json_t	*ear_jwks(const struct ear_keys *k);
/*
 * The EAR claims set for rec (see ear_claims.c for the rules): policy_rev
 * is the stored revision of policy_name (0: unknown), interval the agent's
 * effective round interval in seconds, now the current unix time.
 */
json_t	*ear_claims(const struct ear_keys *k, const struct agent_rec *rec,
	    const char *policy_name, int64_t policy_rev, long interval,
	    int64_t now);
/*
 * The RFC 7638 thumbprint of an EC P-256 public key (base64url), or NULL
 * for any other key: the kid of ours, the cnf.jkt of a host identity key.
 */
char	*ear_jwk_thumbprint(const EVP_PKEY *pk);
/* The claims signed as a compact JWT (ES256, kid, typ JWT); caller frees. */
char	*ear_sign(const struct ear_keys *k, const struct agent_rec *rec,
	    const char *policy_name, int64_t policy_rev, long interval,
	    int64_t now);

#endif
