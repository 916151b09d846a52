/*
 * ima_hash.c — the one hash function of the IMA hot loop (template hashes,
 * per-bank template digests, PCR extends): H_alg over a few byte ranges.
 * Pure, no globals.
 *
 * Speed: for SHA-1 and SHA-2 it calls OpenSSL's SHA*_Init/Update/Final
 * directly, with the state on the stack. Through EVP, OpenSSL 3.0 frees
 * and allocates the provider's context on every EVP_DigestInit_ex2 even
 * when the context is reused: about 60 ns on top of the ~60 ns the hash of
 * one ~100-byte entry takes, which doubled a 100,000-entry replay. Those
 * functions are deprecated in 3.0 (not removed) and bypass the provider
 * layer (a FIPS-provider-only configuration does not reach them: these
 * hashes check measurement lists, they protect no secret). Where OpenSSL
 * is built without them, and for every other algorithm (SM3), EVP with
 * the caller's reused context does the work.
 */
#define OPENSSL_SUPPRESS_DEPRECATED	/* SHA*_Init & co, see above */

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/ima_int.h"
#include "common/evidence/tpm2.h"

static int
hash_fail(uint16_t alg)
{
	return assay_err_set(ASSAY_ERR_CRYPTO, "hash 0x%04x failed", alg);
}

#ifndef OPENSSL_NO_DEPRECATED_3_0
/* H over v[0..nv) with OpenSSL's low-level T functions, into out. */
#define LOWLEVEL(T, INIT, UPDATE, FINAL, SIZE) do {			\
	T s;								\
	size_t i;							\
									\
	if (INIT(&s) != 1)						\
		return hash_fail(alg);					\
	for (i = 0; i < nv; i++)					\
		if (UPDATE(&s, v[i].p, v[i].len) != 1)			\
			return hash_fail(alg);				\
	if (FINAL(out, &s) != 1)					\
		return hash_fail(alg);					\
	*outlen = (SIZE);						\
	return ASSAY_OK;						\
} while (0)
#endif

static int
hash_evp(EVP_MD_CTX *ctx, uint16_t alg, const struct cur *v, size_t nv,
    uint8_t *out, size_t *outlen)
{
	EVP_MD_CTX *own = NULL;
	const EVP_MD *md;
	unsigned int olen;
	size_t i;
	int r = ASSAY_OK;

	if ((md = tpm2_hash_md(alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "hash algorithm 0x%04x", alg);
	if (ctx == NULL && (ctx = own = EVP_MD_CTX_new()) == NULL)
		return assay_err_set(ASSAY_ERR_CRYPTO, "EVP_MD_CTX_new");
	if (!EVP_DigestInit_ex2(ctx, md, NULL)) {
		r = hash_fail(alg);
		goto out;
	}
	for (i = 0; i < nv; i++)
		if (!EVP_DigestUpdate(ctx, v[i].p, v[i].len)) {
			r = hash_fail(alg);
			goto out;
		}
	if (!EVP_DigestFinal_ex(ctx, out, &olen)) {
		r = hash_fail(alg);
		goto out;
	}
	*outlen = olen;
 out:
	EVP_MD_CTX_free(own);
	return r;
}

int
ima_hash_have(uint16_t alg)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
	if (alg == TPM2_ALG_SHA1 || alg == TPM2_ALG_SHA256 ||
	    alg == TPM2_ALG_SHA384 || alg == TPM2_ALG_SHA512)
		return 1;
#endif
	return tpm2_hash_md(alg) != NULL;
}

int
ima_hashv(EVP_MD_CTX *ctx, uint16_t alg, const struct cur *v, size_t nv,
    uint8_t *out, size_t *outlen)
{
#ifndef OPENSSL_NO_DEPRECATED_3_0
	switch (alg) {
	case TPM2_ALG_SHA1:
		LOWLEVEL(SHA_CTX, SHA1_Init, SHA1_Update, SHA1_Final,
		    SHA_DIGEST_LENGTH);
	case TPM2_ALG_SHA256:
		LOWLEVEL(SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final,
		    SHA256_DIGEST_LENGTH);
	case TPM2_ALG_SHA384:
		LOWLEVEL(SHA512_CTX, SHA384_Init, SHA384_Update, SHA384_Final,
		    SHA384_DIGEST_LENGTH);
	case TPM2_ALG_SHA512:
		LOWLEVEL(SHA512_CTX, SHA512_Init, SHA512_Update, SHA512_Final,
		    SHA512_DIGEST_LENGTH);
	default:
		break;
	}
#endif
	return hash_evp(ctx, alg, v, nv, out, outlen);
}
