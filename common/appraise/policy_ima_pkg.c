/*
 * policy_ima_pkg.c — the packages: key of an ima: section: reference
 * values by package and version (see assay-policy(5)):
 *
 *   packages:
 *     - name: coreutils
 *       version: "9.1-1"
 *       arch: amd64                  # optional
 *       source: "deb sha256:<hex>"   # optional, informative
 *       files: { "/usr/bin/ls": "sha256:<hex>", ... }
 *
 * Several versions of a package may be listed (an update window). Every
 * (path, digest) of every listed version is allowed as an allow: entry
 * is: after the parse the digests of each path, over all packages and
 * allow: itself, become that path's one set in the allow: path map.
 * Digests must use the policy's bank; (name, version) must be unique.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"
#include "common/appraise/policy_ima_int.h"
#include "common/appraise/policy_ima_parse.h"

#define PKG_FIELD_MAX	256	/* name, version, arch */
#define PKG_SOURCE_MAX	4096

/* One (path, staged digest reference) of some package. */
struct pkgref {
	size_t		 off;		/* path in k->names */
	const char	*s;		/* the same, once the parse is over */
	uint32_t	 n;
	uint32_t	 ref;
};

struct pkgid {
	char		*id;		/* "name\0version" */
	size_t		 len, line;
};

struct ima_pkgs {
	char		*names;
	size_t		 nlen, ncap;
	struct pkgref	*v;
	size_t		 n, cap;
	struct pkgid	*ids;
	size_t		 nids;
	size_t		 alg_line[NALGS];	/* first line using each, 0 none */
};

void
ima_pkgs_free(struct ima_pkgs *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nids; i++)
		free(k->ids[i].id);
	free(k->ids);
	free(k->names);
	free(k->v);
	free(k);
}

/* The path being listed and one digest of it (an item of its value). */
struct fctx {
	const char	*path;
	size_t		 plen;
};

static int
file_digest(struct icx *cx, const struct fctx *f, const char *s, size_t n)
{
	struct ima_pkgs *k = cx->pkgs;
	uint8_t d[TPM2_MAX_DIGEST];
	const char *why;
	unsigned ai = 0;

	if ((why = ima_digest_parse(s, n, &ai, d)) != NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: '%.*s' %s",
		    icx_line(cx), (int)(n < 80 ? n : 80), s, why);
	if (cx->p->nstaged >= IMA_POLICY_DIGESTS_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: more than %u "
		    "digests", icx_line(cx), IMA_POLICY_DIGESTS_MAX);
	if (k->alg_line[ai] == 0)
		k->alg_line[ai] = icx_line(cx);
	if (k->nlen + f->plen > k->ncap) {
		k->ncap = k->ncap == 0 ? 64 * 1024 : k->ncap * 2;
		if (k->ncap < k->nlen + f->plen)
			k->ncap = k->nlen + f->plen;
		k->names = xreallocarray(k->names, 1, k->ncap);
	}
	if (k->n == k->cap) {
		k->cap = k->cap == 0 ? 1024 : k->cap * 2;
		k->v = xreallocarray(k->v, k->cap, sizeof(*k->v));
	}
	memcpy(k->names + k->nlen, f->path, f->plen);
	k->v[k->n].off = k->nlen;
	k->v[k->n].n = (uint32_t)f->plen;
	k->v[k->n].ref = ima_pol_digest_add(cx->p, ai, d, 0);
	k->n++;
	k->nlen += f->plen;
	return ASSAY_OK;
}

static int
item_file_digest(struct icx *cx, void *arg)
{
	const char *s;
	size_t n;
	int r;

	if ((r = icx_scalar(cx, "a package file's digest", &s, &n)) != 0)
		return r;
	return file_digest(cx, arg, s, n);
}

static int
file_path_ok(struct icx *cx, const char *s, size_t n)
{
	if (n == 0 || s[0] != '/' || n > IMA_NAME_MAX)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: package "
		    "file '%.*s' is not an absolute path", icx_line(cx),
		    (int)(n < 200 ? n : 200), s);
	return ASSAY_OK;
}

/*
 * A run of one-line "/path: [ digest, ... ]" entries (policy_ima_runs.c)
 * as keys of files:, read from the original text; then its "[]" value.
 */
static int
files_run(struct icx *cx)
{
	const struct ima_run *run = cx->run;
	size_t pos = run->oline, at = run->rchar + 3, i;	/* "_: []" */
	struct ima_run_line l;
	struct fctx f;
	int r;

	if (run->kind != RUN_PATHS)
		return assay_err_set(ASSAY_ERR_CONFIG, "a run out of place");
	while (pos <= run->oend) {
		if (ima_run_line(cx->otext, run->oend + 1, run->kind, &pos,
		    &l) != 0)
			return assay_err_set(ASSAY_ERR_CONFIG, "a run changed");
		f.path = l.name;
		f.plen = l.nlen;
		if ((r = file_path_ok(cx, l.name, l.nlen)) != 0)
			return r;
		for (i = 0; i < l.ndig; i++)
			if ((r = file_digest(cx, &f, l.dig[i], l.dlen[i])) != 0)
				return r;
	}
	if ((r = icx_next(cx)) != 0)
		return r;
	if (cx->ev.type != YAML_SEQUENCE_START_EVENT ||
	    cx->ev.start_mark.index != at || (r = icx_next(cx)) != 0 ||
	    cx->ev.type != YAML_SEQUENCE_END_EVENT)
		return r != 0 ? r : assay_err_set(ASSAY_ERR_CONFIG, "a run out "
		    "of place");
	return ASSAY_OK;
}

/* files: absolute path -> digest (or a list of digests). */
static int
pkg_files(struct icx *cx)
{
	struct fctx f;
	char *path;
	int r;

	if (cx->ev.type != YAML_MAPPING_START_EVENT)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: a package's "
		    "files must map paths to digests", icx_line(cx));
	for (;;) {
		if ((r = icx_next(cx)) != 0)
			return r;
		if (cx->ev.type == YAML_MAPPING_END_EVENT)
			return ASSAY_OK;
		if (cx->run != NULL) {
			if ((r = files_run(cx)) != 0)
				return r;
			continue;
		}
		if ((r = icx_scalar(cx, "a package file", &f.path,
		    &f.plen)) != 0 || (r = file_path_ok(cx, f.path, f.plen)) != 0)
			return r;
		path = xstrndup(f.path, f.plen);	/* the next event frees it */
		f.path = path;
		r = icx_next(cx);
		if (r == 0)
			r = icx_each(cx, "a package file's digests",
			    item_file_digest, &f);
		free(path);
		if (r != 0)
			return r;
	}
}

/* A string field of a package, copied into *out (NULL: given twice). */
static int
pkg_string(struct icx *cx, const char *key, size_t max, char **out)
{
	const char *s;
	size_t n;
	int r;

	if (*out != NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: duplicate "
		    "package key '%s'", icx_line(cx), key);
	if ((r = icx_scalar(cx, key, &s, &n)) != 0)
		return r;
	if (n == 0 || n > max)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: package %s is "
		    "empty or too long", icx_line(cx), key);
	*out = xstrndup(s, n);
	return ASSAY_OK;
}

/* One package mapping; current event is its start. */
static int
pkg_one(struct icx *cx)
{
	struct ima_pkgs *k = cx->pkgs;
	char *name = NULL, *version = NULL, *arch = NULL, *source = NULL;
	char **f;
	size_t line = icx_line(cx), nn;
	const char *s, *key;
	size_t n;
	int r, files = 0;

	if (cx->ev.type != YAML_MAPPING_START_EVENT)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: a package must "
		    "be a mapping", line);
	for (;;) {
		if ((r = icx_next(cx)) != 0)
			goto out;
		if (cx->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if ((r = icx_scalar(cx, "a package key", &s, &n)) != 0)
			goto out;
		if (strcmp(s, "files") == 0) {
			if (files++ > 0) {
				r = assay_err_set(ASSAY_ERR_CONFIG, "line %zu: "
				    "duplicate package key 'files'",
				    icx_line(cx));
				goto out;
			}
			if ((r = icx_next(cx)) != 0 || (r = pkg_files(cx)) != 0)
				goto out;
			continue;
		}
		if (strcmp(s, "name") == 0)
			f = &name;
		else if (strcmp(s, "version") == 0)
			f = &version;
		else if (strcmp(s, "arch") == 0)
			f = &arch;
		else if (strcmp(s, "source") == 0)
			f = &source;
		else {
			r = assay_err_set(ASSAY_ERR_CONFIG, "line %zu: unknown "
			    "package key '%.64s'", icx_line(cx), s);
			goto out;
		}
		key = f == &name ? "name" : f == &version ? "version" :
		    f == &arch ? "arch" : "source";
		if ((r = icx_next(cx)) != 0 || (r = pkg_string(cx, key,
		    f == &source ? PKG_SOURCE_MAX : PKG_FIELD_MAX, f)) != 0)
			goto out;
	}
	if (name == NULL || version == NULL || !files) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "line %zu: a package needs "
		    "name, version and files", line);
		goto out;
	}
	k->ids = xreallocarray(k->ids, k->nids + 1, sizeof(*k->ids));
	nn = strlen(name);
	k->ids[k->nids].len = nn + 1 + strlen(version);
	k->ids[k->nids].id = xmalloc(k->ids[k->nids].len + 1);
	memcpy(k->ids[k->nids].id, name, nn + 1);
	memcpy(k->ids[k->nids].id + nn + 1, version, strlen(version) + 1);
	k->ids[k->nids++].line = line;
 out:
	free(name);
	free(version);
	free(arch);
	free(source);
	return r;
}

static int
item_pkg(struct icx *cx, void *arg)
{
	return pkg_one(cx);
}

int
ima_pkgs_section(struct icx *cx)
{
	if (cx->pkgs == NULL)
		cx->pkgs = xcalloc(1, sizeof(*cx->pkgs));
	if (cx->ev.type != YAML_SEQUENCE_START_EVENT)
		return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: packages must "
		    "be a list", icx_line(cx));
	return icx_each(cx, "packages", item_pkg, NULL);
}

static int
id_cmp(const void *a, const void *b)
{
	const struct pkgid *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if ((c = memcmp(x->id, y->id, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int
ref_cmp(const void *a, const void *b)
{
	const struct pkgref *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c;

	if ((c = memcmp(x->s, y->s, n)) != 0)
		return c;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* The bank's digests only; (name, version) unique. */
static int
pkgs_validate(struct icx *cx)
{
	struct ima_pkgs *k = cx->pkgs;
	const char *bank = cx->bank[0] != '\0' ? cx->bank : "sha256";
	size_t i;

	for (i = 0; i < NALGS; i++)
		if (strcmp(ima_algs[i].name, bank) == 0)
			break;
	for (size_t a = 0; i < NALGS && a < NALGS; a++)
		if (a != i && k->alg_line[a] != 0)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: package "
			    "files must have %s digests (the policy's bank), "
			    "not %s", k->alg_line[a], bank, ima_algs[a].name);
	if (k->nids > 1)
		qsort(k->ids, k->nids, sizeof(*k->ids), id_cmp);
	for (i = 1; i < k->nids; i++)
		if (id_cmp(&k->ids[i - 1], &k->ids[i]) == 0)
			return assay_err_set(ASSAY_ERR_CONFIG, "line %zu: package "
			    "%s version %s listed twice", k->ids[i].line >
			    k->ids[i - 1].line ? k->ids[i].line :
			    k->ids[i - 1].line, k->ids[i].id, k->ids[i].id +
			    strlen(k->ids[i].id) + 1);
	return ASSAY_OK;
}

/*
 * Each allow: path's set, in place order, followed by the package digests
 * of that path (grp[i]: first + 1 of its group in the sorted k->v).
 */
static void
pkgs_extend(struct ima_policy *p, const struct ima_pkgs *k,
    const size_t *grp)
{
	struct namemap *m = &p->paths;
	uint32_t *refs, *roff, w = 0;
	size_t i, j, cap = p->nrefs + k->n;

	refs = xreallocarray(NULL, cap > 0 ? cap : 1, sizeof(*refs));
	roff = xreallocarray(NULL, m->n + 1, sizeof(*roff));
	for (i = 0; i < m->n; i++) {
		roff[i] = w;
		for (j = m->roff[i]; j < m->roff[i + 1]; j++)
			refs[w++] = p->refs[j];
		for (j = grp[i]; j > 0 && j - 1 < k->n &&
		    ref_cmp(&k->v[grp[i] - 1], &k->v[j - 1]) == 0; j++)
			refs[w++] = k->v[j - 1].ref;
	}
	roff[m->n] = w;
	if (m->n > 0)
		memcpy(m->roff, roff, (m->n + 1) * sizeof(*roff));
	free(roff);
	free(p->refs);
	p->refs = refs;
	p->nrefs = w;
	p->rcap = cap > 0 ? cap : 1;
}

int
ima_pkgs_finish(struct icx *cx)
{
	struct ima_pkgs *k = cx->pkgs;
	struct ima_policy *p = cx->p;
	struct namemap *m = &p->paths;
	size_t i, j, *grp, nold = m->n;
	int64_t at;
	int r;

	if (k == NULL)
		return ASSAY_OK;
	if ((r = pkgs_validate(cx)) != 0)
		return r;
	for (i = 0; i < k->n; i++)
		k->v[i].s = k->names + k->v[i].off;
	if (k->n > 1)
		qsort(k->v, k->n, sizeof(*k->v), ref_cmp);
	grp = xcalloc(nold + 1, sizeof(*grp));
	for (i = 0; i < k->n; i = j) {
		for (j = i + 1; j < k->n && ref_cmp(&k->v[i], &k->v[j]) == 0; j++)
			;
		if ((at = ima_pol_name_find(m, k->v[i].s, k->v[i].n)) >= 0)
			grp[at] = i + 1;
	}
	pkgs_extend(p, k, grp);
	free(grp);
	for (i = 0; i < k->n; i = j) {	/* paths only packages list */
		for (j = i + 1; j < k->n && ref_cmp(&k->v[i], &k->v[j]) == 0; j++)
			;
		at = ima_pol_name_find(m, k->v[i].s, k->v[i].n);
		if (at >= 0 && (size_t)at < nold)
			continue;
		if (m->n >= IMA_POLICY_NAMES_MAX)
			return assay_err_set(ASSAY_ERR_CONFIG, "more than %u "
			    "paths in allow: and packages:",
			    IMA_POLICY_NAMES_MAX);
		ima_pol_name_add(m, k->v[i].s, k->v[i].n, (uint32_t)p->nrefs);
		for (; i < j; i++)
			p->refs[p->nrefs++] = k->v[i].ref;
		ima_pol_name_done(m, (uint32_t)p->nrefs);
	}
	return ASSAY_OK;
}
