/*
 * policy_ima_table.c — the lookup tables of a compiled ima: section
 * (layout in policy_ima_int.h): the digest arena with its open-addressing
 * hash table (8 tag bits a slot), and the name maps of allow: paths and
 * buffers: names, each with its run of digest offsets. Filled while the
 * section compiles (policy_ima.c), read-only afterwards.
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

static uint64_t
digest_hash(unsigned ai, const uint8_t *d, size_t n)
{
	uint64_t h;

	/* Digests are uniform already: 8 bytes are plenty. */
	memcpy(&h, d, sizeof(h) <= n ? sizeof(h) : n);
	h ^= (uint64_t)ai * 0x9e3779b97f4a7c15ULL;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

/* Arena offset of the digest, or -1. */
int64_t
ima_pol_digest_find(const struct ima_policy *p, unsigned ai, const uint8_t *d)
{
	size_t i, n = ima_algs[ai].size;
	const uint8_t *r;
	uint64_t h;
	uint32_t v;
	uint8_t tag;

	if (p->dtab == NULL)
		return -1;
	h = digest_hash(ai, d, n);
	tag = (uint8_t)(h >> 56);
	for (i = h & p->dmask;; i = (i + 1) & p->dmask) {
		if ((v = p->dtab[i]) == 0)
			return -1;
		if (p->dtag[i] != tag)
			continue;
		r = p->arena + v - 1;
		if (r[0] == ai && memcmp(r + 2, d, n) == 0)
			return v - 1;
	}
}

static void
slot_put(uint32_t *tab, uint8_t *tags, size_t mask, uint64_t h, uint32_t v)
{
	size_t i;

	for (i = h & mask; tab[i] != 0; i = (i + 1) & mask)
		;
	tab[i] = v;
	tags[i] = (uint8_t)(h >> 56);
}

/* Grow the table: re-insert by walking the arena (sequential reads). */
static void
digest_rehash(struct ima_policy *p, size_t size)
{
	size_t off, n;

	free(p->dtab);
	free(p->dtag);
	p->dtab = xcalloc(size, sizeof(*p->dtab));
	p->dtag = xcalloc(size, 1);
	p->dmask = size - 1;
	for (off = 0; off < p->alen; off += 2 + n) {
		n = ima_algs[p->arena[off]].size;
		slot_put(p->dtab, p->dtag, p->dmask, digest_hash(p->arena[off],
		    p->arena + off + 2, n), (uint32_t)off + 1);
	}
}

/* Insert (or find) a digest; its arena offset. */
uint32_t
ima_pol_digest_add(struct ima_policy *p, unsigned ai, const uint8_t *d, int flags)
{
	size_t n = ima_algs[ai].size;
	int64_t off;

	if ((off = ima_pol_digest_find(p, ai, d)) >= 0) {
		p->arena[off + 1] |= flags;
		return (uint32_t)off;
	}
	if (p->alen + 2 + n > p->acap) {
		p->acap = p->acap == 0 ? 64 * 1024 : p->acap * 2;
		p->arena = xreallocarray(p->arena, 1, p->acap);
	}
	off = (int64_t)p->alen;
	p->arena[p->alen] = (uint8_t)ai;
	p->arena[p->alen + 1] = (uint8_t)flags;
	memcpy(p->arena + p->alen + 2, d, n);
	p->alen += 2 + n;
	p->ndig++;
	if (p->dtab == NULL || p->ndig * 4 > (p->dmask + 1) * 3)
		digest_rehash(p, p->dtab == NULL ? 1024 : (p->dmask + 1) * 2);
	else
		slot_put(p->dtab, p->dtag, p->dmask, digest_hash(ai, d, n),
		    (uint32_t)off + 1);
	return (uint32_t)off;
}

const struct nrec *
ima_pol_name_find(const struct namemap *m, const char *s, size_t n)
{
	const struct nrec *r;
	size_t i;
	uint32_t v;

	if (m->tab == NULL)
		return NULL;
	for (i = hash_bytes((const uint8_t *)s, n, 0xcbf29ce484222325ULL) &
	    m->mask;; i = (i + 1) & m->mask) {
		if ((v = m->tab[i]) == 0)
			return NULL;
		r = &m->rec[v - 1];
		if (r->len == n && memcmp(m->names + r->name, s, n) == 0)
			return r;
	}
}

static void
name_rehash(struct namemap *m, size_t size)
{
	uint32_t *t = xcalloc(size, sizeof(*t));
	size_t i, j;

	for (i = 0; i < m->n; i++) {
		for (j = hash_bytes((const uint8_t *)m->names + m->rec[i].name,
		    m->rec[i].len, 0xcbf29ce484222325ULL) & (size - 1);
		    t[j] != 0; j = (j + 1) & (size - 1))
			;
		t[j] = (uint32_t)i + 1;
	}
	free(m->tab);
	m->tab = t;
	m->mask = size - 1;
}

/* A new name (caller checked it is not there); its record. */
struct nrec *
ima_pol_name_add(struct namemap *m, const char *s, size_t n, uint32_t refs)
{
	struct nrec *r;
	size_t i;

	if (m->tab == NULL || (m->n + 1) * 2 > m->mask + 1)
		name_rehash(m, m->tab == NULL ? 256 : (m->mask + 1) * 2);
	if (m->nlen + n > m->ncap) {
		m->ncap = m->ncap == 0 ? 64 * 1024 : m->ncap * 2;
		if (m->ncap < m->nlen + n)
			m->ncap = m->nlen + n;
		m->names = xreallocarray(m->names, 1, m->ncap);
	}
	if (m->n == m->cap) {
		m->cap = m->cap == 0 ? 256 : m->cap * 2;
		m->rec = xreallocarray(m->rec, m->cap, sizeof(*m->rec));
	}
	r = &m->rec[m->n++];
	r->name = (uint32_t)m->nlen;
	r->len = (uint32_t)n;
	r->refs = refs;
	r->nrefs = 0;
	memcpy(m->names + m->nlen, s, n);
	m->nlen += n;
	for (i = hash_bytes((const uint8_t *)s, n, 0xcbf29ce484222325ULL) &
	    m->mask; m->tab[i] != 0; i = (i + 1) & m->mask)
		;
	m->tab[i] = (uint32_t)m->n;	/* index + 1 */
	return r;
}

void
ima_pol_namemap_free(struct namemap *m)
{
	free(m->names);
	free(m->rec);
	free(m->tab);
}

/* Does the name's digest set hold arena offset off? */
int
ima_pol_name_has(const struct ima_policy *p, const struct nrec *r, uint32_t off)
{
	uint32_t i;

	for (i = 0; i < r->nrefs; i++)
		if (p->refs[r->refs + i] == off)
			return 1;
	return 0;
}
