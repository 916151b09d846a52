/*
 * policy_hash.c — streamed file digests as "alg:hex" for the offline
 * policy tools: trees and build directories (policy_cmd.c), members of
 * Debian packages and the packages themselves (policy_deb.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tools/policy_hash.h"

struct phash {
	EVP_MD_CTX		*ctx;
	const struct tpm2_hash	*h;
};

struct phash *
phash_new(const struct tpm2_hash *h)
{
	struct phash *ph = xcalloc(1, sizeof(*ph));

	ph->h = h;
	if ((ph->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ph->ctx, tpm2_hash_md(h->alg), NULL) != 1) {
		fprintf(stderr, "fatal: digest init failed\n");
		abort();
	}
	return ph;
}

int
phash_update(struct phash *ph, const void *p, size_t n)
{
	if (n > 0 && EVP_DigestUpdate(ph->ctx, p, n) != 1)
		return assay_err_set(ASSAY_ERR_CRYPTO, "digest failed");
	return ASSAY_OK;
}

void
phash_free(struct phash *ph)
{
	if (ph == NULL)
		return;
	EVP_MD_CTX_free(ph->ctx);
	free(ph);
}

int
phash_final(struct phash *ph, char **out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *hex;
	int r = ASSAY_OK;

	*out = NULL;
	if (EVP_DigestFinal_ex(ph->ctx, md, &mdlen) != 1)
		r = assay_err_set(ASSAY_ERR_CRYPTO, "digest failed");
	else {
		hex = hex_encode(md, mdlen);
		*out = xasprintf("%s:%s", ph->h->name, hex);
		free(hex);
	}
	phash_free(ph);
	return r;
}

int
phash_file(const struct tpm2_hash *h, const char *path, char **out)
{
	struct phash *ph;
	uint8_t buf[65536];
	FILE *f;
	size_t n;
	int r = ASSAY_OK;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return assay_err_set(ASSAY_ERR_IO, "%s: %s", path,
		    strerror(errno));
	ph = phash_new(h);
	while (r == ASSAY_OK && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		r = phash_update(ph, buf, n);
	if (r == ASSAY_OK && ferror(f))
		r = assay_err_set(ASSAY_ERR_IO, "%s: read error", path);
	fclose(f);
	if (r != ASSAY_OK) {
		phash_free(ph);
		return r;
	}
	return phash_final(ph, out);
}
