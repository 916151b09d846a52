/*
 * ima_sig.h — IMA/EVM file signatures (security.ima "digsig" xattr values
 * as recorded in the ima-sig / ima-sigv2 template 'sig' field) and the
 * public keys that verify them. Pure: bytes in, verdict out.
 *
 * Format (kernel struct signature_v2_hdr, all big-endian):
 *   u8 type (EVM_IMA_XATTR_DIGSIG = 3), u8 version (2 or 3),
 *   u8 hash_algo (kernel enum hash_algo), u32 keyid, u16 sig_size, sig.
 * Version 2 signs the file digest itself: RSA PKCS#1 v1.5 with the
 * DigestInfo of hash_algo, ECDSA (DER, X9.62) over the digest. Version 3
 * signs H(ima_file_id) = H(type || hash_algo || digest).
 */
#ifndef ASSAY_IMA_SIG_H
#define ASSAY_IMA_SIG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"

#define IMA_XATTR_DIGSIG	3	/* EVM_IMA_XATTR_DIGSIG */
#define IMA_SIG_HDR_LEN		9
#define IMA_SIG_MAX		4096	/* bigger than any RSA-16384 signature */

/* kernel include/uapi/linux/hash_info.h */
#define IMA_HASH_SHA1		2
#define IMA_HASH_SHA256		4
#define IMA_HASH_SHA384		5
#define IMA_HASH_SHA512		6
#define IMA_HASH_SHA224		7
#define IMA_HASH_SM3_256	17

struct ima_sig {
	uint8_t		type;
	uint8_t		version;
	uint8_t		hash_algo;	/* kernel enum hash_algo */
	uint16_t	dalg;		/* the same as a TPM alg id, 0 if unknown */
	uint32_t	keyid;		/* last 4 bytes of the key's id */
	struct cur	sig;		/* points into the input */
};

/*
 * Parse a signature_v2_hdr + signature. ASSAY_ERR_TRUNCATED / FORMAT for
 * short or inconsistent input (sig_size must match what follows exactly),
 * ASSAY_ERR_UNSUPPORTED for another type, version or unknown hash_algo.
 */
int	ima_sig_parse(const uint8_t *p, size_t n, struct ima_sig *out);

/* TPM alg id for a kernel hash_algo number and back; 0 / -1 if unknown. */
uint16_t ima_hash_algo_to_tpm(uint8_t hash_algo);
int	ima_hash_algo_from_tpm(uint16_t alg);

/*
 * A verification key (RSA or EC). Its IMA key ids: the last 4 bytes of the
 * certificate's SubjectKeyIdentifier (what the kernel matches for keys on
 * its keyrings) and of SHA-1 over the public key (i2d_PublicKey: PKCS#1
 * RSAPublicKey or the EC point, what evmctl uses without a certificate and
 * what "subjectKeyIdentifier=hash" puts in a certificate).
 */
struct ima_key {
	EVP_PKEY	*pkey;
	size_t		 nids;
	uint32_t	 keyid[2];
};

/*
 * Load a key from PEM ("PUBLIC KEY" or "CERTIFICATE")
 * or DER (SubjectPublicKeyInfo or X.509 certificate). ASSAY_ERR_FORMAT if
 * unreadable, ASSAY_ERR_UNSUPPORTED for key types other than RSA and EC.
 */
int	ima_key_load(const uint8_t *p, size_t n, struct ima_key *out);
void	ima_key_clear(struct ima_key *k);	/* frees pkey; NULL-safe */
int	ima_key_has_id(const struct ima_key *k, uint32_t keyid);

/*
 * Verify sig over the measured file digest (algorithm dalg, TPM alg id).
 * ASSAY_OK if it verifies; ASSAY_FAIL with detail if the signature is
 * wrong, or its hash algorithm differs from dalg (nothing to check it
 * against); ASSAY_ERR_* for internal errors.
 */
int	ima_sig_verify(const struct ima_sig *s, EVP_PKEY *pkey, uint16_t dalg,
	    const uint8_t *digest, size_t dlen);

#endif
