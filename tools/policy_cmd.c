/*
 * policy_cmd.c — `assayctl policy generate`: hash directory trees (paths
 * recorded below each --root), take the (name, digest) pairs of a
 * known-good IMA list, and record packages (Debian packages, a build
 * output directory as installed under a prefix) into an ima: policy,
 * optionally merged into an existing one and pruned to the newest
 * versions. The policy set and its writer: policy_gen.c; packages:
 * policy_pkg.c, policy_deb.c; reading the old policy: policy_merge.c;
 * `policy import-keylime`: policy_keylime.c.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "tools/cmd.h"
#include "tools/policy_cmd.h"
#include "tools/policy_cmd_int.h"
#include "tools/policy_deb.h"
#include "tools/policy_hash.h"
#include "tools/policy_merge.h"
#include "tools/policy_pkg.h"
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
			if (phash_file(g->h, full, &dg) == ASSAY_OK) {
				if (g->build != NULL)
					pkg_file_add(g->build, sub, dg);
				else
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

/* --keep N (0: not given) and --build's prefix; 0 or 2 (usage). */
static int
gen_pkg_opts(struct cmd_args *a, size_t *keep)
{
	const char *k = cmd_str(a, OPT_KEEP), *pfx = cmd_str(a, OPT_PREFIX);
	char *end;
	unsigned long v;

	*keep = 0;
	if (k != NULL) {
		v = strtoul(k, &end, 10);
		if (*k < '1' || *k > '9' || *end != '\0' || v > 1000)
			return cmd_usage(a);
		*keep = v;
	}
	if ((cmd_str(a, OPT_BUILD) != NULL) != (cmd_str(a, OPT_PACKAGE) !=
	    NULL) || (cmd_str(a, OPT_BUILD) != NULL) != (cmd_str(a,
	    OPT_PKG_VERSION) != NULL) || a->opt[OPT_BUILD].n > 1 ||
	    (pfx != NULL && (pfx[0] != '/' || cmd_str(a, OPT_BUILD) == NULL)))
		return cmd_usage(a);
	return 0;
}

/*
 * The excludes, template hash, name and bank of `policy generate` (a
 * --merge policy's when not given). 0, or 2 after a message (the row's
 * usage for a bad name, bank or hash).
 */
static int
gen_setup(struct cmd_args *a, struct gen *g, uint16_t *thash,
    const char **name, const char **bank)
{
	const struct tpm2_hash *th = tpm2_hash_by_alg(TPM2_ALG_SHA1);
	const char *v, *why;
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
	*name = cmd_str(a, OPT_NAME) != NULL ? cmd_str(a, OPT_NAME) : g->mname;
	*bank = cmd_str(a, OPT_BANK) != NULL ? cmd_str(a, OPT_BANK) :
	    g->mbank != NULL ? g->mbank : "sha256";
	if (g->mbank != NULL && strcmp(*bank, g->mbank) != 0) {
		fprintf(stderr, "error: --bank %s: the merged policy's bank is "
		    "%s\n", *bank, g->mbank);
		return 2;
	}
	if (*name == NULL || !policy_name_valid(*name) ||
	    (a->opt[OPT_ROOT].n == 0 && a->opt[OPT_IMA_LIST].n == 0 &&
	    a->opt[OPT_DEB].n == 0 && a->opt[OPT_BUILD].n == 0 &&
	    a->opt[OPT_MERGE].n == 0) ||
	    (g->h = tpm2_hash_by_name(*bank)) == NULL ||
	    tpm2_hash_md(g->h->alg) == NULL)
		return cmd_usage(a);
	*thash = th->alg;
	return 0;
}

/* Every --deb, then the --build directory, into g's packages. 0, or 2. */
static int
gen_packages(struct cmd_args *a, struct gen *g)
{
	const char *dir = cmd_str(a, OPT_BUILD), *pfx = cmd_str(a, OPT_PREFIX);
	struct pkg *p;
	char *top, *at;
	size_t i, n;
	int r;

	for (i = 0; i < a->opt[OPT_DEB].n; i++) {
		if (deb_read(a->opt[OPT_DEB].v[i], g->h, &p) != ASSAY_OK) {
			fprintf(stderr, "error: %s\n", assay_err_detail());
			return 2;
		}
		pkgset_put(&g->pkgs, p);
	}
	if (dir == NULL)
		return 0;
	top = xasprintf("build %s", dir);
	g->build = pkg_new(cmd_str(a, OPT_PACKAGE), cmd_str(a,
	    OPT_PKG_VERSION), NULL, top);
	free(top);
	at = xstrdup(pfx != NULL ? pfx : "/usr/local");
	for (n = strlen(at); n > 0 && at[n - 1] == '/'; n--)
		at[n - 1] = '\0';	/* "/" walks as "" */
	top = xstrdup(dir);
	for (n = strlen(top); n > 1 && top[n - 1] == '/'; n--)
		top[n - 1] = '\0';
	r = walk(g, top, at);
	free(top);
	free(at);
	if (r != ASSAY_OK) {
		fprintf(stderr, "error: %s\n", assay_err_detail());
		return 2;
	}
	pkgset_put(&g->pkgs, g->build);
	g->build = NULL;
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
	const char *name = NULL, *bank = NULL;
	struct gen g;
	uint16_t thash = TPM2_ALG_SHA1;
	size_t keep;
	int r;

	memset(&g, 0, sizeof(g));
	if ((r = gen_pkg_opts(a, &keep)) != 0 ||
	    (cmd_str(a, OPT_MERGE) != NULL &&
	    (r = policy_merge_read(cmd_str(a, OPT_MERGE), &g)) != 0) ||
	    (r = gen_setup(a, &g, &thash, &name, &bank)) != 0 ||
	    (r = gen_collect(a, &g, thash)) != 0 ||
	    (r = gen_packages(a, &g)) != 0)
		goto done;
	if (keep > 0)
		pkgset_keep(&g.pkgs, keep);
	if (policy_gen_write(&g, name, bank, cmd_str(a, OPT_OUTPUT)) !=
	    ASSAY_OK) {
		fprintf(stderr, "error: %s\n", assay_err_detail());
		r = 2;
	}
 done:
	policy_gen_free(&g);
	return r;
}
