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

/* Digest algorithms a policy may name; an index into dig[]. */
struct ima_alg {
	const char	*name;
	uint16_t	 alg;
	size_t		 size;
};
extern const struct ima_alg ima_algs[];
#define NALGS	5

/*
 * One algorithm's distinct digests, sorted (memcmp order), with a bucket
 * index on their leading bits: digests are uniform, so a bucket holds a
 * few of them and a lookup reads the index and one or two cache lines.
 * While compiling, digests are only appended to `stage` (parse order);
 * ima_pol_finish() sorts, merges duplicates and builds the index.
 */
struct dset {
	uint8_t		*d;		/* n digests, ascending */
	uint32_t	*bkt;		/* bucket b is [bkt[b], bkt[b + 1]) */
	size_t		 n;
	unsigned	 shift;		/* bucket = leading 32 bits >> shift */
	uint32_t	 base;		/* global index of d[0] */
	uint8_t		*stage;		/* compiling: sn digests as parsed */
	uint8_t		*sflag;		/* compiling: DF_* of each */
	size_t		 sn, scap;
};

/*
 * Name -> digest set (paths of allow:, names of buffers:). Name i is
 * names[noff[i], noff[i + 1]), its digests refs[roff[i], roff[i + 1]).
 */
struct namemap {
	char		*names;
	size_t		 nlen, ncap;
	uint32_t	*noff, *roff;	/* n + 1 each */
	size_t		 n, cap;
	uint32_t	*tab;		/* name index + 1 */
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
	struct dset	 dig[NALGS];
	size_t		 ndig;		/* distinct digests (after finish) */
	size_t		 nstaged;	/* compiling: digests appended */
	uint8_t		*global;	/* bit per global index: allow_digests */
	uint32_t	*refs;		/* global digest indexes */
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

/* Global index of the digest, or -1. */
int64_t	ima_pol_digest_find(const struct ima_policy *p, unsigned ai,
	    const uint8_t *d);
int	ima_pol_digest_global(const struct ima_policy *p, int64_t idx);
/* Index of the name, or -1; whether its digest set holds global idx. */
int64_t	ima_pol_name_find(const struct namemap *m, const char *s, size_t n);
int	ima_pol_name_has(const struct ima_policy *p, const struct namemap *m,
	    int64_t name, int64_t idx);
void	ima_pol_glob_compile(const char *pat, struct glob *g);
/*
 * While compiling: append a digest (a staged reference for refs), add a
 * name (caller checked it is new; its digests are the refs appended until
 * ima_pol_name_done()), then finish: sort and index the digests, turn
 * staged references into global indexes, give back slack.
 */
uint32_t ima_pol_digest_add(struct ima_policy *p, unsigned ai,
	    const uint8_t *d, int flags);
void	ima_pol_name_add(struct namemap *m, const char *s, size_t n,
	    uint32_t refs);
void	ima_pol_name_done(struct namemap *m, uint32_t refs);
void	ima_pol_finish(struct ima_policy *p);
void	ima_pol_tables_free(struct ima_policy *p);
size_t	ima_pol_tables_bytes(const struct ima_policy *p);

/*
 * Runs (policy_ima_runs.c): before libyaml sees the text, lines it would
 * scan as consecutive one-digest block sequence entries ("  - sha256:..")
 * or one-line path entries ("  /usr/bin/x: [ \"sha256:..\" ]") are cut
 * to one line each run ("- _" or "_: []") in a reduced copy; the compile
 * decodes a run's digests itself when its marker comes out of libyaml as
 * a plain scalar at the recorded place, and compiles the original text
 * with libyaml alone otherwise.
 */
#define RUN_DIGESTS	0
#define RUN_PATHS	1
struct ima_run {
	size_t		 rchar;		/* char index of "_" in the reduced text */
	size_t		 rbyte;		/* its byte offset there */
	size_t		 oline;		/* original bytes: the first line, */
	size_t		 ostart, oend;	/* its content to the last one's end */
	int		 kind;		/* RUN_* */
};
struct ima_runs {
	char		*text;		/* reduced text, NUL-ended; NULL: no runs */
	size_t		 len;
	struct ima_run	*r;
	size_t		 n, cap;
};
void	ima_runs_find(const char *text, size_t len, struct ima_runs *rs);
void	ima_runs_free(struct ima_runs *rs);
size_t	ima_runs_orig(const struct ima_runs *rs, size_t rbyte);
/* One line of a run at *pos: its name (RUN_PATHS) and digest texts. */
struct ima_run_line {
	size_t		 ind;		/* leading spaces */
	const char	*name;
	size_t		 nlen;
	const char	*dig[16];
	size_t		 dlen[16];
	size_t		 ndig;
};
int	ima_run_line(const char *text, size_t end, int kind, size_t *pos,
	    struct ima_run_line *l);
const char *ima_digest_parse(const char *s, size_t n, unsigned *ai,
	    uint8_t *d);

#endif
