/*
 * tpm2.h — TPM 2.0 constants (TCG Part 2) and the hash-algorithm table:
 * TPM_ALG_ID <-> name <-> digest size <-> OpenSSL digest. Pure, no I/O.
 */
#ifndef ASSAY_TPM2_H
#define ASSAY_TPM2_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define TPM2_GENERATED_VALUE	0xff544347u
#define TPM2_ST_ATTEST_QUOTE	0x8018u
#define TPM2_ST_ATTEST_CERTIFY	0x8017u

#define TPM2_ALG_RSA		0x0001u
#define TPM2_ALG_SHA1		0x0004u
#define TPM2_ALG_HMAC		0x0005u
#define TPM2_ALG_AES		0x0006u
#define TPM2_ALG_KEYEDHASH	0x0008u
#define TPM2_ALG_SHA256		0x000bu
#define TPM2_ALG_SHA384		0x000cu
#define TPM2_ALG_SHA512		0x000du
#define TPM2_ALG_NULL		0x0010u
#define TPM2_ALG_SM3_256	0x0012u
#define TPM2_ALG_RSASSA		0x0014u
#define TPM2_ALG_RSAES		0x0015u
#define TPM2_ALG_RSAPSS		0x0016u
#define TPM2_ALG_OAEP		0x0017u
#define TPM2_ALG_ECDSA		0x0018u
#define TPM2_ALG_ECDH		0x0019u
#define TPM2_ALG_ECC		0x0023u
#define TPM2_ALG_SYMCIPHER	0x0025u
#define TPM2_ALG_CFB		0x0043u

#define TPM2_ECC_NIST_P256	0x0003u
#define TPM2_ECC_NIST_P384	0x0004u
#define TPM2_ECC_NIST_P521	0x0005u

/* TPMA_OBJECT bits */
#define TPMA_OBJECT_FIXEDTPM		0x00000002u
#define TPMA_OBJECT_STCLEAR		0x00000004u
#define TPMA_OBJECT_FIXEDPARENT		0x00000010u
#define TPMA_OBJECT_SENSITIVEDATAORIGIN	0x00000020u
#define TPMA_OBJECT_USERWITHAUTH	0x00000040u
#define TPMA_OBJECT_ADMINWITHPOLICY	0x00000080u
#define TPMA_OBJECT_NODA		0x00000400u
#define TPMA_OBJECT_ENCRYPTEDDUPLICATION 0x00000800u
#define TPMA_OBJECT_RESTRICTED		0x00010000u
#define TPMA_OBJECT_DECRYPT		0x00020000u
#define TPMA_OBJECT_SIGN_ENCRYPT	0x00040000u

#define TPM2_MAX_DIGEST		64	/* SHA-512 */
#define TPM2_PCR_COUNT		24
#define TPM2_MAX_BANKS		8

struct tpm2_hash {
	uint16_t	 alg;
	const char	*name;		/* "sha256" */
	size_t		 size;
	const char	*ossl;		/* OpenSSL fetch name, NULL if unavailable */
};

/* NULL when the algorithm is not a hash we know. */
const struct tpm2_hash	*tpm2_hash_by_alg(uint16_t alg);
const struct tpm2_hash	*tpm2_hash_by_name(const char *name);
/* Fetched EVP_MD for alg (cached, never freed), NULL if OpenSSL lacks it. */
const EVP_MD		*tpm2_hash_md(uint16_t alg);
/* One-shot digest; ASSAY_ERR_UNSUPPORTED for unknown algs. */
int	tpm2_hash(uint16_t alg, const void *p, size_t n, uint8_t *out, size_t *outlen);

#define TPM2_RH_OWNER		0x40000001u
#define TPM2_RH_ENDORSEMENT	0x4000000bu
#define TPM2_RH_PLATFORM	0x4000000cu
#define TPM2_NAME_MAX		(2 + TPM2_MAX_DIGEST)

/*
 * Qualified Name (TCG Part 1, 16): QN(obj) = nameAlg || H_nameAlg(QN(parent)
 * || Name(obj)), nameAlg taken from the first two bytes of name. For a
 * primary key the parent QN is the hierarchy handle, 4 bytes big-endian
 * (use tpm2_hierarchy_qn). A quote's qualifiedSigner is the AK's QN: for an
 * AK under the EK, QN = tpm2_qualified_name(QN(EK), Name(AK)) with
 * QN(EK) = tpm2_qualified_name(hierarchy_qn(ENDORSEMENT), Name(EK)).
 * out holds TPM2_NAME_MAX bytes.
 */
int	tpm2_qualified_name(const uint8_t *parent_qn, size_t parent_len,
	    const uint8_t *name, size_t name_len, uint8_t *out, size_t *outlen);
void	tpm2_hierarchy_qn(uint32_t handle, uint8_t out[4]);

#endif
