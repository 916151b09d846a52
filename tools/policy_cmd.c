/*
 * policy_cmd.c — `assayctl policy generate`: hash directory trees (paths
 * recorded below each --root) and/or take the (name, digest) pairs of a
 * known-good IMA list into an ima: policy; and cmd_policy_offline, which
 * dispatches `policy generate` and `policy import-keylime`
 * (policy_keylime.c). The policy set and its writer: policy_gen.c.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
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

/* Every (name, digest) of a known-good IMA list. */
static int
take_list(struct gen *g, const char *path, int ascii, uint16_t thash)
{
	const struct tpm2_hash *h;
	struct ima_list l = { 0 };
	const struct ima_entry *e;
	char *buf, *hex, *dg;
	size_t len, i, nlen;
	int r;

	if ((r = policy_read_file(path, &buf, &len)) != 0)
		return r;
	r = ascii ? ima_parse_ascii(buf, len, &l) :
	    ima_parse_binary((const uint8_t *)buf, len, thash, &l, NULL);
	if (r != 0) {
		r = assay_err_set(r, "%s: %s", path, assay_err_detail());
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

static int
usage_generate(void)
{
	fprintf(stderr, "usage: assayctl policy generate --name N [--bank ALG] "
	    "[--exclude GLOB]... [--root DIR]... [--ima-list FILE [--ascii]] "
	    "[--thash ALG] [-o OUT.yaml]\n");
	return 2;
}

static int
cmd_generate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "bank", required_argument, NULL, 'b' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "root", required_argument, NULL, 'r' },
		{ "ima-list", required_argument, NULL, 'l' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "thash", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *name = NULL, *bank = "sha256", *out = NULL, *why;
	const struct tpm2_hash *th = tpm2_hash_by_alg(TPM2_ALG_SHA1);
	char **roots = NULL, **lists = NULL, *top;
	size_t nroots = 0, nlists = 0, i, n;
	struct gen g;
	int c, ascii = 0, r = ASSAY_OK;

	memset(&g, 0, sizeof(g));
	optind = 0;	/* full reset: the main getopt ran in "+" mode */
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'b': bank = optarg; break;
		case 'o': out = optarg; break;
		case 'a': ascii = 1; break;
		case 'x':
			if ((why = ima_glob_invalid(optarg)) != NULL) {
				fprintf(stderr, "--exclude %s: %s\n", optarg, why);
				r = 2;
				goto done;
			}
			g.excl = xreallocarray(g.excl, g.nexcl + 1, sizeof(char *));
			g.excl[g.nexcl++] = xstrdup(optarg);
			break;
		case 'r':
			roots = xreallocarray(roots, nroots + 1, sizeof(char *));
			roots[nroots++] = optarg;
			break;
		case 'l':
			lists = xreallocarray(lists, nlists + 1, sizeof(char *));
			lists[nlists++] = optarg;
			break;
		case 't':
			if ((th = tpm2_hash_by_name(optarg)) == NULL) {
				r = usage_generate();
				goto done;
			}
			break;
		default:
			r = usage_generate();
			goto done;
		}
	}
	if (name == NULL || !policy_name_valid(name) || optind != argc ||
	    (nroots == 0 && nlists == 0) ||
	    (g.h = tpm2_hash_by_name(bank)) == NULL || tpm2_hash_md(g.h->alg) == NULL) {
		r = usage_generate();
		goto done;
	}
	for (i = 0; i < nroots && r == ASSAY_OK; i++) {
		top = xstrdup(roots[i]);
		for (n = strlen(top); n > 1 && top[n - 1] == '/'; n--)
			top[n - 1] = '\0';
		r = walk(&g, strcmp(top, "/") == 0 ? "" : top, "");
		free(top);
	}
	for (i = 0; i < nlists && r == ASSAY_OK; i++)
		r = take_list(&g, lists[i], ascii, th->alg);
	if (r == ASSAY_OK)
		r = policy_gen_write(&g, name, bank, out);
	if (r != ASSAY_OK) {
		fprintf(stderr, "error: %s\n", assay_err_detail());
		r = 2;
	}
 done:
	policy_gen_free(&g);
	free(roots);
	free(lists);
	return r;
}

int
cmd_policy_offline(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "generate") == 0)
		return cmd_generate(argc, argv);
	if (argc >= 1 && strcmp(argv[0], "import-keylime") == 0)
		return cmd_policy_import_keylime(argc, argv);
	fprintf(stderr, "usage: assayctl policy generate|import-keylime ...\n");
	return 2;
}
