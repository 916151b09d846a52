/*
 * policy_ima_check.c — exclude globs and ima_policy_check(): the verdict
 * for one IMA entry against a compiled ima: section (see policy_ima.h
 * for the order of the rules).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/evidence/ima.h"
#include "common/evidence/ima_sig.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "common/appraise/policy_ima.h"
#include "common/appraise/policy_ima_int.h"

/* ---- globs ------------------------------------------------------------ */

/* End of the segment starting at pos: the next '/' or len. */
static size_t
seg_end(const char *s, size_t len, size_t pos)
{
	const char *q = memchr(s + pos, '/', len - pos);

	return q == NULL ? len : (size_t)(q - s);
}

/* One segment against a pattern segment: '*' matches any run. */
static int
seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = ++pi;
			mark = si;
		} else if (pi < pn && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star;
			si = ++mark;
		} else
			return 0;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static int
is_dstar(const char *p, size_t len, size_t pos)
{
	return seg_end(p, len, pos) - pos == 2 && p[pos] == '*' &&
	    p[pos + 1] == '*';
}

int
ima_glob_match(const char *pat, const char *path, size_t pathlen)
{
	size_t plen = strlen(pat), pi = 0, si = 0, pe, se;
	size_t star_p = (size_t)-1, star_s = 0;

	/* Positions are segment starts; len + 1 means "past the end". */
	while (si <= pathlen) {
		se = seg_end(path, pathlen, si);
		if (pi <= plen && is_dstar(pat, plen, pi)) {
			pi = seg_end(pat, plen, pi) + 1;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi <= plen) {
			pe = seg_end(pat, plen, pi);
			if (seg_match(pat + pi, pe - pi, path + si, se - si)) {
				pi = pe + 1;
				si = se + 1;
				continue;
			}
		}
		if (star_p == (size_t)-1)
			return 0;
		/* Let the last '**' eat one more segment. */
		star_s = seg_end(path, pathlen, star_s) + 1;
		si = star_s;
		pi = star_p;
	}
	while (pi <= plen && is_dstar(pat, plen, pi))
		pi = seg_end(pat, plen, pi) + 1;
	return pi > plen;
}

const char *
ima_glob_invalid(const char *pat)
{
	size_t len = strlen(pat), i, e;

	if (len == 0 || pat[0] != '/')
		return "must be an absolute path";
	if (len > IMA_NAME_MAX)
		return "is too long";
	for (i = 0; i <= len; i = e + 1) {
		e = seg_end(pat, len, i);
		if (memmem(pat + i, e - i, "**", 2) != NULL &&
		    !is_dstar(pat, len, i))
			return "uses '**' inside a segment (it must be a whole "
			    "segment)";
	}
	return NULL;
}

void
ima_pol_glob_compile(const char *pat, struct glob *g)
{
	size_t len = strlen(pat);

	g->pat = xstrdup(pat);
	g->len = len;
	if (strchr(pat, '*') == NULL)
		g->kind = GLOB_LITERAL;
	else if (len >= 3 && strcmp(pat + len - 3, "/**") == 0 &&
	    memchr(pat, '*', len - 2) == NULL) {
		g->kind = GLOB_PREFIX;
		g->pat[len - 2] = '\0';
		g->len = len - 2;		/* "/dir/" */
	} else
		g->kind = GLOB_GENERAL;
}

static int
excluded(const struct ima_policy *p, const char *path, size_t n)
{
	const struct glob *g;
	size_t i;

	for (i = 0; i < p->nglobs; i++) {
		g = &p->globs[i];
		switch (g->kind) {
		case GLOB_LITERAL:
			if (n == g->len && memcmp(path, g->pat, n) == 0)
				return 1;
			break;
		case GLOB_PREFIX:
			/* "/dir/" "**" also matches "/dir" itself. */
			if ((n >= g->len && memcmp(path, g->pat, g->len) == 0) ||
			    (n == g->len - 1 && memcmp(path, g->pat, n) == 0))
				return 1;
			break;
		default:
			if (ima_glob_match(g->pat, path, n))
				return 1;
			break;
		}
	}
	return 0;
}

static int
alg_index(uint16_t alg, size_t len)
{
	size_t i;

	for (i = 0; i < NALGS; i++)
		if (ima_algs[i].alg == alg && ima_algs[i].size == len)
			return (int)i;
	return -1;
}

void
ima_policy_stats(const struct ima_policy *p, struct ima_policy_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->digests = p->ndig;
	st->paths = p->paths.n;
	st->buffers = p->bufs.n;
	st->excludes = p->nglobs;
	st->keys = p->nkeys;
	st->bytes = sizeof(*p) + ima_pol_tables_bytes(p);
}

/* ---- check ------------------------------------------------------------- */

/* Printable copy of an entry name for details. */
static void
printable(const struct cur *c, char *out, size_t outsz)
{
	size_t i, n = c->len;

	if (n > 0 && c->p[n - 1] == '\0')
		n--;
	if (n >= outsz)
		n = outsz - 1;
	for (i = 0; i < n; i++)
		out[i] = (c->p[i] >= 0x20 && c->p[i] < 0x7f) ? (char)c->p[i] : '?';
	out[n] = '\0';
}

/* "alg:hex" of the entry's digest. */
static void
digest_str(const struct ima_entry *e, char *out, size_t outsz)
{
	static const char hx[] = "0123456789abcdef";
	const struct tpm2_hash *h = tpm2_hash_by_alg(e->dalg);
	size_t i, o;

	o = (size_t)snprintf(out, outsz, "%s:", h != NULL ? h->name : "unknown");
	for (i = 0; i < e->digest.len && o + 2 < outsz; i++) {
		out[o++] = hx[e->digest.p[i] >> 4];
		out[o++] = hx[e->digest.p[i] & 15];
	}
	out[o < outsz ? o : outsz - 1] = '\0';
}

static void
unknown(const struct ima_policy *p, struct verdict *vd, const char *what,
    const char *name, const char *dig)
{
	if (p->warn_unknown)
		verdict_notice(vd, FID_IMA_UNKNOWN, "%s %.100s: %s unknown to the "
		    "policy", what, name, dig);
	else
		verdict_fail(vd, FID_IMA_NOT_ALLOWED, "%s %.100s: %s unknown to "
		    "the policy", what, name, dig);
}

/* Signature step: 1 if it settles the entry (verified or failed). */
static int
check_signature(const struct ima_policy *p, const struct ima_entry *e,
    const char *name, struct verdict *vd)
{
	const struct ima_key *k = NULL;
	struct ima_sig s;
	size_t i;

	if (e->sig.len == 0) {
		if (e->modsig.len > 0 && p->require_sig) {
			verdict_fail(vd, FID_IMA_SIGNATURE, "%.180s: modsig "
			    "verification unsupported", name);
			return 1;
		}
		if (p->require_sig && e->modsig.len == 0) {
			verdict_fail(vd, FID_IMA_SIGNATURE, "%.180s: no signature",
			    name);
			return 1;
		}
		return 0;
	}
	if (p->nkeys == 0) {
		if (p->require_sig) {
			verdict_fail(vd, FID_IMA_SIGNATURE, "%.180s: signed, but "
			    "the policy has no keys", name);
			return 1;
		}
		return 0;
	}
	if (ima_sig_parse(e->sig.p, e->sig.len, &s) != 0) {
		verdict_fail(vd, FID_IMA_SIGNATURE, "%.150s: malformed signature "
		    "(%.80s)", name, assay_err_detail());
		return 1;
	}
	for (i = 0; i < p->nkeys && k == NULL; i++)
		if (ima_key_has_id(&p->keys[i], s.keyid))
			k = &p->keys[i];
	if (k == NULL) {
		if (!p->require_sig)
			return 0;
		verdict_fail(vd, FID_IMA_SIGNATURE, "%.180s: signed by unknown "
		    "key %08x", name, s.keyid);
		return 1;
	}
	if (ima_sig_verify(&s, k->pkey, e->dalg, e->digest.p,
	    e->digest.len) != ASSAY_OK) {
		verdict_fail(vd, FID_IMA_SIGNATURE, "%.150s: %.90s", name,
		    assay_err_detail());
		return 1;
	}
	return 1;	/* a good signature from a policy key: allowed */
}

void
ima_policy_check(const struct ima_policy *p, const struct ima_entry *e,
    struct verdict *vd)
{
	char name[192], dig[8 + 2 * TPM2_MAX_DIGEST];
	size_t nlen = e->name.len;
	int64_t off = -1, rec;
	int ai;

	if (nlen > 0 && e->name.p[nlen - 1] == '\0')
		nlen--;
	/* Which rules judge an entry is decided from bound bytes (bind.h). */
	switch (bind_ima_kind(e)) {
	case BIND_IMA_VIOLATION:
		/* Before anything reads its name, template or digest. */
		printable(&e->name, name, sizeof(name));
		verdict_fail(vd, FID_IMA_NOT_ALLOWED, "measurement violation (a "
		    "file changed or opened for write while measured; the name "
		    "'%.120s' is covered by no digest)", name);
		return;
	case BIND_IMA_BUFFER:
		printable(&e->name, name, sizeof(name));
		digest_str(e, dig, sizeof(dig));
		if ((ai = alg_index(e->dalg, e->digest.len)) >= 0)
			off = ima_pol_digest_find(p, (unsigned)ai, e->digest.p);
		if ((rec = ima_pol_name_find(&p->bufs, (const char *)e->name.p,
		    nlen)) < 0)
			unknown(p, vd, "buffer", name, dig);
		else if (off < 0 || !ima_pol_name_has(p, &p->bufs, rec, off))
			verdict_fail(vd, FID_IMA_NOT_ALLOWED, "buffer %.100s: %s "
			    "not allowed", name, dig);
		return;
	case BIND_IMA_FILE:
		break;
	}
	if (excluded(p, (const char *)e->name.p, nlen))
		return;
	printable(&e->name, name, sizeof(name));
	digest_str(e, dig, sizeof(dig));
	if ((ai = alg_index(e->dalg, e->digest.len)) >= 0)
		off = ima_pol_digest_find(p, (unsigned)ai, e->digest.p);
	if (check_signature(p, e, name, vd))
		return;
	if (ima_pol_digest_global(p, off))
		return;
	if ((rec = ima_pol_name_find(&p->paths, (const char *)e->name.p,
	    nlen)) >= 0) {
		if (off >= 0 && ima_pol_name_has(p, &p->paths, rec, off))
			return;
		verdict_fail(vd, FID_IMA_NOT_ALLOWED, "%.100s: %s not allowed for "
		    "this path", name, dig);
		return;
	}
	unknown(p, vd, "file", name, dig);
}
