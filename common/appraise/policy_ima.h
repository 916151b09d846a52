/*
 * policy_ima.h — the compiled ima: section of a policy and the per-entry
 * check the verifier runs on every new IMA measurement.
 *
 *   ima:
 *     allow: { /usr/bin/bash: ["sha256:<hex>", ...], ... }
 *     allow_digests: ["sha256:<hex>", ...]      # any path
 *     exclude: [glob, ...]                       # see ima_glob_match()
 *     keys: ["<PEM public key or X.509 certificate>", ...]
 *     require_signature: false
 *     unknown: fail | warn
 *     buffers: { kexec-cmdline: ["sha256:<hex>"], ... }   # ima-buf by name
 *     packages:                                  # allowed as allow: is
 *       - { name: N, version: V, files: { /usr/bin/x: "sha256:<hex>" } }
 *
 * Digests are "alg:hex" (sha1, sha256, sha384, sha512, sm3_256) or bare hex
 * whose length names the algorithm (40 sha1, 64 sha256, 96 sha384, 128
 * sha512). The compiled structure is immutable and shared by threads.
 */
#ifndef ASSAY_POLICY_IMA_H
#define ASSAY_POLICY_IMA_H

#include <stddef.h>
#include <stdint.h>

#include "common/evidence/ima.h"
#include "common/evidence/verdict.h"

struct ima_policy;
struct policy;

/*
 * Compile the ima: section of a whole policy document (YAML or JSON) with
 * libyaml's event API, so that a million digests never become a node tree.
 * *out is NULL when the document has no top-level ima: key. On success
 * [*vstart, *vend) is the byte range of the section's value in text, which
 * the caller blanks before loading the rest of the document as a tree.
 * Errors: ASSAY_ERR_CONFIG with "line N: ..." (YAML errors included).
 */
int	ima_policy_compile(const char *text, size_t len,
	    struct ima_policy **out, size_t *vstart, size_t *vend);
void	ima_policy_free(struct ima_policy *p);		/* NULL-safe */

/*
 * Check one entry, in order: excluded path -> ok; ima-buf -> buffers:
 * allowlist by name; a signature with keys configured -> verified
 * (ima.signature if bad, or from an unknown key while require_signature);
 * require_signature without a signature -> ima.signature; the digest
 * allowed for the path or in allow_digests -> ok; otherwise
 * ima.not_allowed (unknown: fail) or the notice ima.unknown (warn) for an
 * unknown path and digest; a known path with another digest is always
 * ima.not_allowed. Details name the path and the "alg:hex" digest.
 */
void	ima_policy_check(const struct ima_policy *p, const struct ima_entry *e,
	    struct verdict *vd);

/* The policy's ima: section, NULL without one (also declared in policy.h). */
const struct ima_policy *policy_ima(const struct policy *p);
/* Whether the policy accepts PCR 10 extended the pre-5.8 way (SHA-1). */
int	ima_policy_legacy_extend(const struct ima_policy *p);

/* Figures for tools and benchmarks. */
struct ima_policy_stats {
	size_t	digests;	/* distinct digests */
	size_t	paths;
	size_t	buffers;
	size_t	excludes;
	size_t	keys;
	size_t	bytes;		/* heap held by the compiled section */
};
void	ima_policy_stats(const struct ima_policy *p, struct ima_policy_stats *st);

/*
 * Glob matching as exclude: uses it. Segments are split at '/'; a segment
 * "**" matches any number of segments (zero included), '*' inside a
 * segment any run of characters except '/', everything else is literal.
 * So "/tmp/" "**" matches /tmp and everything under it, "/proc/" "*" "/fd"
 * matches /proc/1/fd. Patterns must be absolute; '**' must be a whole
 * segment. ima_glob_invalid() returns NULL or why pat is rejected.
 */
const char *ima_glob_invalid(const char *pat);
int	ima_glob_match(const char *pat, const char *path, size_t pathlen);

#endif
