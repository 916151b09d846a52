/*
 * policy_ima_int.h — internals of the compiled ima: section shared by
 * policy_ima.c (compile), policy_ima_table.c (its tables) and
 * policy_ima_check.c (globs and the check).
 * Not for other modules: they use policy_ima.h.
 */
#ifndef ASSAY_POLICY_IMA_INT_H
#define ASSAY_POLICY_IMA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/evidence/ima_sig.h"
#include "common/appraise/policy_ima.h"

#define IMA_POLICY_DIGESTS_MAX	(32u * 1024 * 1024)
#define IMA_POLICY_NAMES_MAX	(8u * 1024 * 1024)
#define IMA_POLICY_GLOBS_MAX	4096
#define IMA_POLICY_KEYS_MAX	64
#define DF_GLOBAL		0x01	/* in allow_digests */

/* Digest algorithms a policy may name; index stored in the arena. */
struct ima_alg {
	const char	*name;
	uint16_t	 alg;
	size_t		 size;
};
extern const struct ima_alg ima_algs[];
#define NALGS	5

struct nrec {
	uint32_t	name;		/* offset in names */
	uint32_t	len;
	uint32_t	refs;		/* first index in refs */
	uint32_t	nrefs;
};

/* Name -> digest set (paths of allow:, names of buffers:). */
struct namemap {
	char		*names;
	size_t		 nlen, ncap;
	struct nrec	*rec;
	size_t		 n, cap;
	uint32_t	*tab;		/* rec index + 1 */
	size_t		 mask;
};

struct glob {
	char		*pat;
	size_t		 len;
	int		 kind;		/* GLOB_* */
};
#define GLOB_LITERAL	0
#define GLOB_PREFIX	1	/* "/dir/" + "**": pat holds "/dir/" */
#define GLOB_GENERAL	2

struct ima_policy {
	uint8_t		*arena;
	size_t		 alen, acap;
	uint32_t	*dtab;
	uint8_t		*dtag;		/* hash bits per slot: fewer arena reads */
	size_t		 dmask, ndig;
	uint32_t	*refs;
	size_t		 nrefs, rcap;
	struct namemap	 paths, bufs;
	struct glob	*globs;
	size_t		 nglobs;
	struct ima_key	*keys;
	size_t		 nkeys;
	int		 require_sig;
	int		 warn_unknown;
	int		 legacy_extend;	/* accept the SHA-1-padded extend scheme */
};

int64_t	ima_pol_digest_find(const struct ima_policy *p, unsigned ai,
	    const uint8_t *d);
const struct nrec *ima_pol_name_find(const struct namemap *m, const char *s,
	    size_t n);
int	ima_pol_name_has(const struct ima_policy *p, const struct nrec *r,
	    uint32_t off);
void	ima_pol_glob_compile(const char *pat, struct glob *g);
/* While compiling: add a digest (its arena offset) or a name. */
uint32_t ima_pol_digest_add(struct ima_policy *p, unsigned ai,
	    const uint8_t *d, int flags);
struct nrec *ima_pol_name_add(struct namemap *m, const char *s, size_t n,
	    uint32_t refs);
void	ima_pol_namemap_free(struct namemap *m);

#endif
