/*
 * policy_cmd.c — `assayctl policy generate`: hash directory trees (paths
 * recorded below each --root) and/or take the (name, digest) pairs of a
 * known-good IMA list into an ima: policy. The policy set and its
 * writer: policy_gen.c; `policy import-keylime`: policy_keylime.c.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tools/cmd.h"
#include "tools/policy_cmd.h"
#include "tools/policy_cmd_int.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"

static int
excluded_by(struct gen *g, const char *path)
{
	size_t i;

	for (i = 0; i < g->nexcl; i++)
		if (ima_glob_match(g->excl[i], path, strlen(path)))
			return 1;
	return 0;
}

static int
hash_file(const struct tpm2_hash *h, const char *path, char **out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	FILE *f;
	size_t n;
	char *hex;
	int r = ASSAY_OK;

	if ((f = fopen(path, "rb")) == NULL) {
		EVP_MD_CTX_free(ctx);
		return assay_err_set(ASSAY_ERR_IO, "%s: %s", path,
		    strerror(errno));
	}
	if (ctx == NULL || EVP_DigestInit_ex(ctx, tpm2_hash_md(h->alg),
	    NULL) != 1)
		r = assay_err_set(ASSAY_ERR_CRYPTO, "digest init failed");
	while (r == ASSAY_OK && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (EVP_DigestUpdate(ctx, buf, n) != 1)
			r = assay_err_set(ASSAY_ERR_CRYPTO, "digest failed");
	if (r == ASSAY_OK && ferror(f))
		r = assay_err_set(ASSAY_ERR_IO, "%s: read error", path);
	if (r == ASSAY_OK && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		r = assay_err_set(ASSAY_ERR_CRYPTO, "digest failed");
	fclose(f);
	EVP_MD_CTX_free(ctx);
	if (r != ASSAY_OK)
		return r;
	hex = hex_encode(md, mdlen);
	*out = xasprintf("%s:%s", h->name, hex);
	free(hex);
	return ASSAY_OK;
}

/* Walk dir (its path below root is rel, "" at the top). */
static int
walk(struct gen *g, const char *dir, const char *rel)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *full, *sub, *dg;
	int r = ASSAY_OK;

	/* The filesystem root walks as "" so that children read "/name". */
	if ((d = opendir(dir[0] != '\0' ? dir : "/")) == NULL)
		return assay_err_set(ASSAY_ERR_IO, "%s: %s", dir[0] != '\0' ? dir : "/",
		    strerror(errno));
	while (r == ASSAY_OK && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		full = xasprintf("%s/%s", dir, de->d_name);
		sub = xasprintf("%s/%s", rel, de->d_name);
		if (lstat(full, &st) != 0) {
			fprintf(stderr, "warning: %s: %s\n", full, strerror(errno));
			g->warnings++;
		} else if (excluded_by(g, sub)) {
			;
		} else if (S_ISDIR(st.st_mode)) {
			r = walk(g, full, sub);
		} else if (S_ISREG(st.st_mode)) {
			if (hash_file(g->h, full, &dg) == ASSAY_OK) {
				policy_gen_add(g, sub, strlen(sub), dg, 0);
				free(dg);
			} else {
				fprintf(stderr, "warning: %s\n", assay_err_detail());
				g->warnings++;
			}
		}
		free(full);
		free(sub);
	}
	closedir(d);
	return r;
}

/* Every (name, digest) of a known-good IMA list. 0, or 2 after a message. */
static int
take_list(struct gen *g, const char *path, int ascii, uint16_t thash)
{
	const struct tpm2_hash *h;
	struct ima_list l = { 0 };
	const struct ima_entry *e;
	uint8_t *buf;
	char *hex, *dg;
	size_t len, i, nlen;
	int r;

	if (cmd_load(path, POLICY_CMD_FILE_MAX, &buf, &len) != 0)
		return 2;
	r = ascii ? ima_parse_ascii((char *)buf, len, &l) :
	    ima_parse_binary(buf, len, thash, &l, NULL);
	if (r != 0) {
		fprintf(stderr, "error: %s: %s\n", path, assay_err_detail());
		r = 2;
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		e = &l.e[i];
		if (e->violation || e->digest.len == 0 || e->name.len == 0 ||
		    (h = tpm2_hash_by_alg(e->dalg)) == NULL)
			continue;
		nlen = e->name.len;
		if (e->name.p[nlen - 1] == '\0')
			nlen--;
		if (memchr(e->name.p, '\0', nlen) != NULL)
			continue;
		if (nlen == 14 && memcmp(e->name.p, "boot_aggregate", 14) == 0)
			continue;	/* checked against the PCRs instead */
		hex = hex_encode(e->digest.p, e->digest.len);
		dg = xasprintf("%s:%s", h->name, hex);
		policy_gen_add(g, (const char *)e->name.p, nlen, dg,
		    e->tmpl == IMA_TMPL_IMA_BUF);
		free(hex);
		free(dg);
	}
 out:
	ima_list_free(&l);
	free(buf);
	return r;
}

/*
 * The excludes, template hash and bank of `policy generate`. 0, or 2
 * after a message (the row's usage for a bad name, bank or hash).
 */
static int
gen_setup(struct cmd_args *a, struct gen *g, uint16_t *thash)
{
	const struct tpm2_hash *th = tpm2_hash_by_alg(TPM2_ALG_SHA1);
	const char *bank = cmd_str(a, OPT_BANK), *v, *why;
	size_t i;

	for (i = 0; i < a->opt[OPT_EXCLUDE].n; i++) {
		v = a->opt[OPT_EXCLUDE].v[i];
		if ((why = ima_glob_invalid(v)) != NULL) {
			fprintf(stderr, "--exclude %s: %s\n", v, why);
			return 2;
		}
		g->excl = xreallocarray(g->excl, g->nexcl + 1, sizeof(char *));
		g->excl[g->nexcl++] = xstrdup(v);
	}
	if ((v = cmd_str(a, OPT_THASH)) != NULL &&
	    (th = tpm2_hash_by_name(v)) == NULL)
		return cmd_usage(a);
	if (!policy_name_valid(cmd_str(a, OPT_NAME)) ||
	    (a->opt[OPT_ROOT].n == 0 && a->opt[OPT_IMA_LIST].n == 0) ||
	    (g->h = tpm2_hash_by_name(bank != NULL ? bank : "sha256")) == NULL ||
	    tpm2_hash_md(g->h->alg) == NULL)
		return cmd_usage(a);
	*thash = th->alg;
	return 0;
}

/* Hash every --root tree, then take every --ima-list. 0, or 2. */
static int
gen_collect(struct cmd_args *a, struct gen *g, uint16_t thash)
{
	const struct cmd_val *roots = &a->opt[OPT_ROOT];
	const struct cmd_val *lists = &a->opt[OPT_IMA_LIST];
	char *top;
	size_t i, n;
	int r = ASSAY_OK;

	for (i = 0; i < roots->n && r == ASSAY_OK; i++) {
		top = xstrdup(roots->v[i]);
		for (n = strlen(top); n > 1 && top[n - 1] == '/'; n--)
			top[n - 1] = '\0';
		r = walk(g, strcmp(top, "/") == 0 ? "" : top, "");
		free(top);
	}
	if (r != ASSAY_OK) {
		fprintf(stderr, "error: %s\n", assay_err_detail());
		return 2;
	}
	for (i = 0; i < lists->n; i++)
		if (take_list(g, lists->v[i], cmd_flag(a, OPT_ASCII), thash) != 0)
			return 2;
	return 0;
}

int
cmd_policy_generate(struct cmd_args *a)
{
	const char *bank = cmd_str(a, OPT_BANK);
	struct gen g;
	uint16_t thash = TPM2_ALG_SHA1;
	int r;

	memset(&g, 0, sizeof(g));
	if ((r = gen_setup(a, &g, &thash)) != 0 ||
	    (r = gen_collect(a, &g, thash)) != 0)
		goto done;
	if (policy_gen_write(&g, cmd_str(a, OPT_NAME), bank != NULL ? bank :
	    "sha256", cmd_str(a, OPT_OUTPUT)) != ASSAY_OK) {
		fprintf(stderr, "error: %s\n", assay_err_detail());
		r = 2;
	}
 done:
	policy_gen_free(&g);
	return r;
}
