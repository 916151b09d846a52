/*
 * policy_pkg.h — the packages: section the offline policy tools write:
 * packages with their version, architecture, provenance and files'
 * digests; a set of them keyed by (name, version), pruned to the newest
 * versions of each name, written sorted (see assay-policy(5)).
 */
#ifndef ASSAY_POLICY_PKG_H
#define ASSAY_POLICY_PKG_H

#include <stddef.h>
#include <stdio.h>

struct pkg_file {
	char	*path;		/* absolute, as installed */
	char	*digest;	/* "alg:hex" */
};

struct pkg {
	char		*name, *version;
	char		*arch, *source;	/* NULL: not known */
	struct pkg_file	*f;
	size_t		 nf, fcap;
};

struct pkgset {
	struct pkg	**v;
	size_t		  n;
};

/* An empty package; any argument may be NULL (set later). */
struct pkg *pkg_new(const char *name, const char *version, const char *arch,
	    const char *source);
void	pkg_free(struct pkg *p);			/* NULL-safe */
void	pkg_file_add(struct pkg *p, const char *path, const char *digest);
/* The digest of path in p, or NULL. */
const char *pkg_file_find(const struct pkg *p, const char *path);

/* Sort p's files by path; the first path listed twice, or NULL. */
const char *pkg_duplicate(struct pkg *p);

/* Add p (the set owns it), replacing a package of the same name, version. */
void	pkgset_put(struct pkgset *s, struct pkg *p);
/* Keep, per name, the keep newest versions (Debian order); keep >= 1. */
void	pkgset_keep(struct pkgset *s, size_t keep);
/* Sorted by name, then version (Debian order); files by path. */
void	pkgset_sort(struct pkgset *s);
/* "  packages:" and its list, sorted; nothing for an empty set. */
void	pkgset_write(FILE *o, struct pkgset *s);
void	pkgset_free(struct pkgset *s);			/* contents */

#endif
