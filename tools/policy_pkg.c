/*
 * policy_pkg.c — the packages of a generated policy: what was built or
 * packaged, one entry per (name, version), with its files' digests;
 * replacing a version, keeping the newest versions of each name (Debian
 * order, debver.c) and the sorted YAML writer of the packages: section.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "tools/debver.h"
#include "tools/policy_cmd_int.h"
#include "tools/policy_pkg.h"

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct pkg *
pkg_new(const char *name, const char *version, const char *arch,
    const char *source)
{
	struct pkg *p = xcalloc(1, sizeof(*p));

	p->name = dup_or_null(name);
	p->version = dup_or_null(version);
	p->arch = dup_or_null(arch);
	p->source = dup_or_null(source);
	return p;
}

void
pkg_free(struct pkg *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nf; i++) {
		free(p->f[i].path);
		free(p->f[i].digest);
	}
	free(p->f);
	free(p->name);
	free(p->version);
	free(p->arch);
	free(p->source);
	free(p);
}

void
pkg_file_add(struct pkg *p, const char *path, const char *digest)
{
	if (p->nf == p->fcap) {
		p->fcap = p->fcap == 0 ? 64 : p->fcap * 2;
		p->f = xreallocarray(p->f, p->fcap, sizeof(*p->f));
	}
	p->f[p->nf].path = xstrdup(path);
	p->f[p->nf].digest = xstrdup(digest);
	p->nf++;
}

const char *
pkg_file_find(const struct pkg *p, const char *path)
{
	size_t i;

	for (i = p->nf; i-- > 0;)
		if (strcmp(p->f[i].path, path) == 0)
			return p->f[i].digest;
	return NULL;
}

void
pkgset_put(struct pkgset *s, struct pkg *p)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i]->name, p->name) == 0 &&
		    strcmp(s->v[i]->version, p->version) == 0) {
			pkg_free(s->v[i]);
			s->v[i] = p;
			return;
		}
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = p;
}

/* Name ascending, then version ascending in Debian order. */
static int
pkg_cmp(const void *a, const void *b)
{
	const struct pkg *x = *(struct pkg *const *)a;
	const struct pkg *y = *(struct pkg *const *)b;
	int c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	if ((c = deb_version_cmp(x->version, y->version)) != 0)
		return c;
	return strcmp(x->version, y->version);	/* "1.0" and "1.00" apart */
}

static int
file_cmp(const void *a, const void *b)
{
	const struct pkg_file *x = a, *y = b;

	return strcmp(x->path, y->path);
}

const char *
pkg_duplicate(struct pkg *p)
{
	size_t i;

	if (p->nf > 1)
		qsort(p->f, p->nf, sizeof(*p->f), file_cmp);
	for (i = 1; i < p->nf; i++)
		if (strcmp(p->f[i - 1].path, p->f[i].path) == 0)
			return p->f[i].path;
	return NULL;
}

void
pkgset_sort(struct pkgset *s)
{
	struct pkg *p;
	size_t i, j, w;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), pkg_cmp);
	for (i = 0; i < s->n; i++) {
		p = s->v[i];
		if (p->nf > 1)
			qsort(p->f, p->nf, sizeof(*p->f), file_cmp);
		for (j = w = 0; j < p->nf; j++) {	/* one digest a path */
			if (w > 0 && strcmp(p->f[w - 1].path, p->f[j].path) == 0) {
				free(p->f[j].path);
				free(p->f[j].digest);
				continue;
			}
			p->f[w++] = p->f[j];
		}
		p->nf = w;
	}
}

void
pkgset_keep(struct pkgset *s, size_t keep)
{
	size_t i, j, w = 0, end;

	pkgset_sort(s);
	for (i = 0; i < s->n; i = end) {
		for (end = i + 1; end < s->n &&
		    strcmp(s->v[i]->name, s->v[end]->name) == 0; end++)
			;
		for (j = i; j < end; j++) {	/* ascending: newest last */
			if (end - j > keep)
				pkg_free(s->v[j]);
			else
				s->v[w++] = s->v[j];
		}
	}
	s->n = w;
}

static void
write_field(FILE *o, const char *key, const char *v, int first)
{
	if (v == NULL)
		return;
	fprintf(o, "    %s %s: ", first ? "-" : " ", key);
	policy_yaml_quote(o, v);
	fputc('\n', o);
}

/*
 * One file. A path of plain characters is written as the verifier's
 * compile reads fastest, a run line ("/usr/bin/ls: [ \"sha256:..\" ]",
 * see policy_ima_runs.c); any other path quoted, with its digest.
 */
static void
write_file(FILE *o, const struct pkg_file *f)
{
	const unsigned char *c = (const unsigned char *)f->path;
	size_t n = strlen(f->path);

	for (; *c != '\0'; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= 'A' && *c <= 'Z') || *c == '/' || *c == '.' ||
		    *c == '_' || *c == '-' || *c == '+'))
			break;
	fputs("        ", o);
	if (*c == '\0' && f->path[0] == '/' && n <= 1000) {
		fprintf(o, "%s: [ ", f->path);
		policy_yaml_quote(o, f->digest);
		fputs(" ]\n", o);
		return;
	}
	policy_yaml_quote(o, f->path);
	fputs(": ", o);
	policy_yaml_quote(o, f->digest);
	fputc('\n', o);
}

void
pkgset_write(FILE *o, struct pkgset *s)
{
	const struct pkg *p;
	size_t i, j;

	if (s->n == 0)
		return;
	pkgset_sort(s);
	fputs("  packages:\n", o);
	for (i = 0; i < s->n; i++) {
		p = s->v[i];
		write_field(o, "name", p->name, 1);
		write_field(o, "version", p->version, 0);
		write_field(o, "arch", p->arch, 0);
		write_field(o, "source", p->source, 0);
		if (p->nf == 0) {
			fputs("      files: {}\n", o);
			continue;
		}
		fputs("      files:\n", o);
		for (j = 0; j < p->nf; j++)
			write_file(o, &p->f[j]);
	}
}

void
pkgset_free(struct pkgset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		pkg_free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
