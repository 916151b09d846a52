/*
 * registrar.h — enrollment checks and credential crypto, all pure
 * (no I/O, no TPM): EK certificate chain validation against a CA bundle,
 * EK certificate key == EK public, AK attributes, and MakeCredential done
 * in software (RSA-OAEP and ECDH EKs) so the agent can prove with
 * ActivateCredential that its AK lives in the TPM that owns that EK.
 */
#ifndef ASSAY_REGISTRAR_H
#define ASSAY_REGISTRAR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/evidence/tpm_public.h"

struct ek_trust;	/* CA bundle + optional allowlist of EK public hashes */

/*
 * Load every *.pem / *.crt / *.der certificate in dir (roots and
 * intermediates) — or, if dir is a file, that bundle. allowlist (may be
 * NULL) is a file of hex SHA-256 digests of EK TPM2B_PUBLIC bodies, one a
 * line, '#' comments, for TPMs without EK certificates.
 */
int	ek_trust_load(const char *dir, const char *allowlist, struct ek_trust **out);
void	ek_trust_free(struct ek_trust *t);

/*
 * Check an agent's EK: with cert (DER), a chain to a trusted root is built
 * (intermediates from chain[] or the bundle), dates checked, and the
 * certificate key must equal ek. Without cert, ek must be allowlisted.
 * ASSAY_OK or ASSAY_ERR_PERM with detail naming the failed check.
 */
int	ek_verify(const struct ek_trust *t, const struct tpm2_public *ek,
	    const uint8_t *cert, size_t cert_len,
	    const uint8_t *const *chain, const size_t *chain_len, size_t nchain);

/*
 * Allowlist entry for an EK: lowercase hex SHA-256 over the TPM2B_PUBLIC
 * body, i.e. the marshalled TPMT_PUBLIC without the 2-byte size prefix
 * (what `tail -c +3 ek.pub | sha256sum` prints for tpm2_createek -u ek.pub).
 * tpm2b_public is the whole TPM2B_PUBLIC, prefix included; NULL when the
 * prefix does not match len or the body is empty. Caller frees.
 */
char	*ek_pub_hash_hex(const uint8_t *tpm2b_public, size_t len);

/*
 * TPM2_MakeCredential in software: protect secret (<= 64 bytes) for the
 * TPM holding ek, bound to the object name (the AK's). Outputs wire bytes
 * of TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET (size prefixes included).
 */
int	make_credential(const struct tpm2_public *ek, const uint8_t *name, size_t name_len,
	    const uint8_t *secret, size_t secret_len,
	    uint8_t **cred, size_t *cred_len, uint8_t **enc_secret, size_t *enc_secret_len);

#endif
