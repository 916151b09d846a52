/*
 * policy_ima_table.c — the lookup tables of a compiled ima: section
 * (layout in policy_ima_int.h): per algorithm, the sorted digest array with
 * its bucket index (built once at the end from the digests appended while
 * parsing: a counting sort on the leading bits, then each small bucket
 * sorted and its duplicates merged), the allow_digests bitmap, and the
 * name maps of allow: paths and buffers: names, each with its run of
 * digest indexes. Filled while the section compiles (policy_ima.c),
 * read-only afterwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "common/appraise/policy_ima_int.h"

/* ---- hashing and the tables ---------------------------------------- */

static uint64_t
hash_bytes(const uint8_t *p, size_t n, uint64_t h)
{
	size_t i;

	/* FNV-1a, then a final mix: keys are admin-chosen, probes bounded. */
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

#define REF_ALG(r)	((r) >> 29)	/* staged reference: alg << 29 | index */
#define REF_IDX(r)	((r) & 0x1fffffffu)

static uint32_t
lead32(const uint8_t *d)
{
	return (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | d[3];
}

static size_t
bucket_of(const struct dset *s, const uint8_t *d)
{
	return (size_t)((uint64_t)lead32(d) >> s->shift);
}

static uint64_t
lead64(const uint8_t *d)
{
	return (uint64_t)lead32(d) << 32 | lead32(d + 4);
}

/* Global index of the digest, or -1. */
int64_t
ima_pol_digest_find(const struct ima_policy *p, unsigned ai, const uint8_t *d)
{
	const struct dset *s = &p->dig[ai];
	size_t n = ima_algs[ai].size, lo, hi, mid;
	uint64_t k, e;
	int c;

	if (s->n == 0)
		return -1;
	lo = s->bkt[bucket_of(s, d)];
	hi = s->bkt[bucket_of(s, d) + 1];
	while (hi - lo > 8) {	/* a crowded bucket (chosen digests): halve */
		mid = lo + (hi - lo) / 2;
		if ((c = memcmp(s->d + mid * n, d, n)) == 0)
			return (int64_t)s->base + (int64_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ascending: the first 8 bytes, as a number, decide nearly always. */
	for (k = lead64(d); lo < hi; lo++) {
		if ((e = lead64(s->d + lo * n)) > k)
			break;
		if (e == k && memcmp(s->d + lo * n + 8, d + 8, n - 8) == 0)
			return (int64_t)s->base + (int64_t)lo;
	}
	return -1;
}

int
ima_pol_digest_global(const struct ima_policy *p, int64_t idx)
{
	return idx >= 0 && (p->global[idx >> 3] >> (idx & 7) & 1) != 0;
}

/* Append a digest in parse order; its staged reference. */
uint32_t
ima_pol_digest_add(struct ima_policy *p, unsigned ai, const uint8_t *d,
    int flags)
{
	struct dset *s = &p->dig[ai];
	size_t n = ima_algs[ai].size;

	if (s->sn == s->scap) {
		s->scap = s->scap == 0 ? 4096 : s->scap * 2;
		s->stage = xreallocarray(s->stage, s->scap, n);
		s->sflag = xreallocarray(s->sflag, s->scap, 1);
	}
	memcpy(s->stage + s->sn * n, d, n);
	s->sflag[s->sn] = (uint8_t)flags;
	p->nstaged++;
	return (uint32_t)ai << 29 | (uint32_t)s->sn++;
}

/* ---- sorting one algorithm's digests ------------------------------- */

static void
swap_el(uint8_t *d, uint32_t *src, size_t i, size_t j, size_t n)
{
	uint8_t t[64];		/* the largest digest, sha512 */
	uint32_t ts;

	memcpy(t, d + i * n, n);
	memcpy(d + i * n, d + j * n, n);
	memcpy(d + j * n, t, n);
	ts = src[i];
	src[i] = src[j];
	src[j] = ts;
}

static void
sift(uint8_t *d, uint32_t *src, size_t n, size_t root, size_t end)
{
	size_t c;

	while ((c = 2 * root + 1) < end) {
		if (c + 1 < end && memcmp(d + c * n, d + (c + 1) * n, n) < 0)
			c++;
		if (memcmp(d + root * n, d + c * n, n) >= 0)
			return;
		swap_el(d, src, root, c, n);
		root = c;
	}
}

/* Sort cnt digests (and their staged indexes): few, unless chosen. */
static void
sort_bucket(uint8_t *d, uint32_t *src, size_t cnt, size_t n)
{
	size_t i, j;

	if (cnt <= 16) {
		for (i = 1; i < cnt; i++)
			for (j = i; j > 0 &&
			    memcmp(d + (j - 1) * n, d + j * n, n) > 0; j--)
				swap_el(d, src, j - 1, j, n);
		return;
	}
	for (i = cnt / 2; i-- > 0;)
		sift(d, src, n, i, cnt);
	for (i = cnt; i-- > 1;) {
		swap_el(d, src, 0, i, n);
		sift(d, src, n, 0, i);
	}
}

/*
 * Sort, merge and index one algorithm's staged digests (a counting sort
 * on the leading bits, then each bucket); set their allow_digests bits.
 * Returns staged index -> global index, NULL if none were staged.
 */
static uint32_t *
dset_finish(struct ima_policy *p, struct dset *s, size_t n, uint32_t base)
{
	size_t nb = 1, b, i, j, w = 0, lo, hi;
	uint32_t *cnt, *src, *perm;
	unsigned bits = 0;
	uint8_t *d;

	s->base = base;
	if (s->sn == 0)
		return NULL;
	while ((nb << 2) < s->sn && bits < 24) {	/* about 4 a bucket */
		nb <<= 1;
		bits++;
	}
	s->shift = 32 - bits;
	cnt = xcalloc(nb + 1, sizeof(*cnt));
	for (i = 0; i < s->sn; i++)
		cnt[bucket_of(s, s->stage + i * n) + 1]++;
	for (b = 0; b < nb; b++)
		cnt[b + 1] += cnt[b];
	d = xreallocarray(NULL, s->sn, n);
	src = xreallocarray(NULL, s->sn, sizeof(*src));
	for (i = 0; i < s->sn; i++) {	/* cnt[b] ends as bucket b's end */
		j = cnt[bucket_of(s, s->stage + i * n)]++;
		memcpy(d + j * n, s->stage + i * n, n);
		src[j] = (uint32_t)i;
	}
	free(s->stage);
	s->stage = NULL;
	perm = xreallocarray(NULL, s->sn, sizeof(*perm));
	s->bkt = xreallocarray(NULL, nb + 1, sizeof(*s->bkt));
	for (b = 0, lo = 0; b < nb; b++, lo = hi) {
		hi = cnt[b];
		s->bkt[b] = (uint32_t)w;
		sort_bucket(d + lo * n, src + lo, hi - lo, n);
		for (j = lo; j < hi; j++) {
			/* equal digests share a bucket and are adjacent now */
			if (w == s->bkt[b] ||
			    memcmp(d + (w - 1) * n, d + j * n, n) != 0) {
				if (w != j)
					memcpy(d + w * n, d + j * n, n);
				w++;
			}
			perm[src[j]] = base + (uint32_t)(w - 1);
			if (s->sflag[src[j]] & DF_GLOBAL)
				p->global[(base + w - 1) >> 3] |=
				    (uint8_t)(1u << ((base + w - 1) & 7));
		}
	}
	s->bkt[nb] = (uint32_t)w;
	s->n = w;
	s->d = xreallocarray(d, w, n);
	free(cnt);
	free(src);
	free(s->sflag);
	s->sflag = NULL;
	s->sn = s->scap = 0;
	return perm;
}

static void
namemap_shrink(struct namemap *m)
{
	if (m->n == 0)
		return;
	m->names = xreallocarray(m->names, m->nlen, 1);
	m->ncap = m->nlen;
	m->cap = m->n + 1;
	m->noff = xreallocarray(m->noff, m->cap, sizeof(*m->noff));
	m->roff = xreallocarray(m->roff, m->cap, sizeof(*m->roff));
}

/* After the parse: sort and index, staged references -> global indexes. */
void
ima_pol_finish(struct ima_policy *p)
{
	uint32_t *perm[NALGS], base = 0, r;
	size_t ai, i;

	p->global = xcalloc(p->nstaged / 8 + 1, 1);
	for (ai = 0; ai < NALGS; ai++) {
		perm[ai] = dset_finish(p, &p->dig[ai], ima_algs[ai].size, base);
		base += (uint32_t)p->dig[ai].n;
	}
	p->ndig = base;
	for (i = 0; i < p->nrefs; i++) {
		r = p->refs[i];
		p->refs[i] = perm[REF_ALG(r)][REF_IDX(r)];
	}
	for (ai = 0; ai < NALGS; ai++)
		free(perm[ai]);
	p->global = xreallocarray(p->global, p->ndig / 8 + 1, 1);
	if (p->nrefs > 0 && p->nrefs < p->rcap) {
		p->refs = xreallocarray(p->refs, p->nrefs, sizeof(*p->refs));
		p->rcap = p->nrefs;
	}
	namemap_shrink(&p->paths);
	namemap_shrink(&p->bufs);
}

/* ---- names ---------------------------------------------------------- */

static uint64_t
name_hash(const char *s, size_t n)
{
	return hash_bytes((const uint8_t *)s, n, 0xcbf29ce484222325ULL);
}

int64_t
ima_pol_name_find(const struct namemap *m, const char *s, size_t n)
{
	size_t i;
	uint32_t v;

	if (m->tab == NULL)
		return -1;
	for (i = name_hash(s, n) & m->mask;; i = (i + 1) & m->mask) {
		if ((v = m->tab[i]) == 0)
			return -1;
		v--;
		if (m->noff[v + 1] - m->noff[v] == n &&
		    memcmp(m->names + m->noff[v], s, n) == 0)
			return v;
	}
}

static void
name_rehash(struct namemap *m, size_t size)
{
	uint32_t *t = xcalloc(size, sizeof(*t));
	size_t i, j;

	for (i = 0; i < m->n; i++) {
		for (j = name_hash(m->names + m->noff[i], m->noff[i + 1] -
		    m->noff[i]) & (size - 1); t[j] != 0; j = (j + 1) & (size - 1))
			;
		t[j] = (uint32_t)i + 1;
	}
	free(m->tab);
	m->tab = t;
	m->mask = size - 1;
}

/* A new name (caller checked it is not there); its digests start at refs. */
void
ima_pol_name_add(struct namemap *m, const char *s, size_t n, uint32_t refs)
{
	size_t i;

	if (m->tab == NULL || (m->n + 1) * 2 > m->mask + 1)
		name_rehash(m, m->tab == NULL ? 256 : (m->mask + 1) * 2);
	if (m->nlen + n > m->ncap) {
		m->ncap = m->ncap == 0 ? 64 * 1024 : m->ncap * 2;
		if (m->ncap < m->nlen + n)
			m->ncap = m->nlen + n;
		m->names = xreallocarray(m->names, 1, m->ncap);
	}
	if (m->n + 2 > m->cap) {
		m->cap = m->cap == 0 ? 256 : m->cap * 2;
		m->noff = xreallocarray(m->noff, m->cap, sizeof(*m->noff));
		m->roff = xreallocarray(m->roff, m->cap, sizeof(*m->roff));
	}
	m->noff[m->n] = (uint32_t)m->nlen;
	m->roff[m->n] = refs;
	memcpy(m->names + m->nlen, s, n);
	m->nlen += n;
	m->n++;
	m->noff[m->n] = (uint32_t)m->nlen;
	m->roff[m->n] = refs;
	for (i = name_hash(s, n) & m->mask; m->tab[i] != 0;
	    i = (i + 1) & m->mask)
		;
	m->tab[i] = (uint32_t)m->n;	/* index + 1 */
}

/* The last name's digests end at refs. */
void
ima_pol_name_done(struct namemap *m, uint32_t refs)
{
	m->roff[m->n] = refs;
}

/* Does the name's digest set hold global index idx? */
int
ima_pol_name_has(const struct ima_policy *p, const struct namemap *m,
    int64_t name, int64_t idx)
{
	uint32_t i;

	for (i = m->roff[name]; i < m->roff[name + 1]; i++)
		if (p->refs[i] == idx)
			return 1;
	return 0;
}

/* ---- freeing and figures -------------------------------------------- */

static void
namemap_free(struct namemap *m)
{
	free(m->names);
	free(m->noff);
	free(m->roff);
	free(m->tab);
}

void
ima_pol_tables_free(struct ima_policy *p)
{
	size_t ai;

	for (ai = 0; ai < NALGS; ai++) {
		free(p->dig[ai].d);
		free(p->dig[ai].bkt);
		free(p->dig[ai].stage);
		free(p->dig[ai].sflag);
	}
	free(p->global);
	free(p->refs);
	namemap_free(&p->paths);
	namemap_free(&p->bufs);
}

static size_t
namemap_bytes(const struct namemap *m)
{
	return m->ncap + m->cap * 2 * sizeof(uint32_t) +
	    (m->tab != NULL ? (m->mask + 1) * sizeof(uint32_t) : 0);
}

/* Heap held by the digest and name tables of a finished section. */
size_t
ima_pol_tables_bytes(const struct ima_policy *p)
{
	size_t ai, b = p->ndig / 8 + 1 + p->rcap * sizeof(uint32_t);

	for (ai = 0; ai < NALGS; ai++)
		if (p->dig[ai].n > 0)
			b += p->dig[ai].n * ima_algs[ai].size +
			    (((size_t)1 << (32 - p->dig[ai].shift)) + 1) *
			    sizeof(uint32_t);
	return b + namemap_bytes(&p->paths) + namemap_bytes(&p->bufs);
}
