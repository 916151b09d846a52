/*
 * tpm2.c — the TPM hash-algorithm table (TPM_ALG_ID <-> name <-> size <->
 * OpenSSL digest) and a one-shot digest. The fetched EVP_MDs are cached
 * once per process (pthread_once) and never freed.
 */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/evidence/tpm2.h"

static const struct tpm2_hash hash_table[] = {
	{ TPM2_ALG_SHA1,	"sha1",		20,	"SHA1" },
	{ TPM2_ALG_SHA256,	"sha256",	32,	"SHA256" },
	{ TPM2_ALG_SHA384,	"sha384",	48,	"SHA384" },
	{ TPM2_ALG_SHA512,	"sha512",	64,	"SHA512" },
	{ TPM2_ALG_SM3_256,	"sm3_256",	32,	"SM3" },
};
#define NHASH	(sizeof(hash_table) / sizeof(hash_table[0]))

static EVP_MD *hash_md[NHASH];
static pthread_once_t hash_once = PTHREAD_ONCE_INIT;

static void
hash_fetch_all(void)
{
	size_t i;

	for (i = 0; i < NHASH; i++)
		hash_md[i] = EVP_MD_fetch(NULL, hash_table[i].ossl, NULL);
}

static int
hash_index(uint16_t alg)
{
	size_t i;

	for (i = 0; i < NHASH; i++)
		if (hash_table[i].alg == alg)
			return (int)i;
	return -1;
}

const struct tpm2_hash *
tpm2_hash_by_alg(uint16_t alg)
{
	int i = hash_index(alg);

	return i < 0 ? NULL : &hash_table[i];
}

const struct tpm2_hash *
tpm2_hash_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < NHASH; i++)
		if (strcasecmp(hash_table[i].name, name) == 0)
			return &hash_table[i];
	return NULL;
}

const EVP_MD *
tpm2_hash_md(uint16_t alg)
{
	int i = hash_index(alg);

	if (i < 0)
		return NULL;
	pthread_once(&hash_once, hash_fetch_all);
	return hash_md[i];
}

int
tpm2_hash(uint16_t alg, const void *p, size_t n, uint8_t *out, size_t *outlen)
{
	const EVP_MD *md = tpm2_hash_md(alg);
	unsigned int len = 0;

	if (md == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "hash algorithm 0x%04x not available", alg);
	if (EVP_Digest(p, n, out, &len, md, NULL) != 1)
		return assay_err_set(ASSAY_ERR_CRYPTO, "EVP_Digest failed");
	if (outlen != NULL)
		*outlen = len;
	return ASSAY_OK;
}

void
tpm2_hierarchy_qn(uint32_t handle, uint8_t out[4])
{
	out[0] = (uint8_t)(handle >> 24);
	out[1] = (uint8_t)(handle >> 16);
	out[2] = (uint8_t)(handle >> 8);
	out[3] = (uint8_t)handle;
}

int
tpm2_qualified_name(const uint8_t *parent_qn, size_t parent_len,
    const uint8_t *name, size_t name_len, uint8_t *out, size_t *outlen)
{
	const struct tpm2_hash *h;
	const EVP_MD *md;
	EVP_MD_CTX *ctx = NULL;
	unsigned int len = 0;
	uint16_t alg;
	int r = ASSAY_ERR_CRYPTO;

	if (name_len < 2 || parent_len > TPM2_NAME_MAX || name_len > TPM2_NAME_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "bad Name length");
	alg = (uint16_t)((name[0] << 8) | name[1]);
	if ((h = tpm2_hash_by_alg(alg)) == NULL || name_len != 2 + h->size)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "Name with nameAlg 0x%04x", alg);
	if ((md = tpm2_hash_md(alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "hash %s not available", h->name);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, parent_qn, parent_len) != 1 ||
	    EVP_DigestUpdate(ctx, name, name_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out + 2, &len) != 1) {
		assay_err_set(r, "qualified name digest failed");
		goto out;
	}
	out[0] = name[0];
	out[1] = name[1];
	*outlen = 2 + (size_t)len;
	r = ASSAY_OK;
 out:
	EVP_MD_CTX_free(ctx);
	return r;
}
