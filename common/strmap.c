/*
 * strmap.c — open-addressing string hash map (FNV-1a, power-of-two table,
 * grown at 70% load counting tombstones).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "common/xmalloc.h"

static char tombstone;
#define TOMB (&tombstone)

struct slot {
	char	*key;		/* NULL empty, TOMB deleted */
	void	*val;
};

struct strmap {
	struct slot	*s;
	size_t		 cap;	/* power of two */
	size_t		 n;	/* live entries */
	size_t		 used;	/* live + tombstones */
};

static uint64_t
hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *k != '\0'; k++) {
		h ^= (unsigned char)*k;
		h *= 1099511628211ULL;
	}
	return h;
}

struct strmap *
strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof(*m));

	m->cap = 16;
	m->s = xcalloc(m->cap, sizeof(*m->s));
	return m;
}

void
strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++)
		if (m->s[i].key != NULL && m->s[i].key != TOMB)
			free(m->s[i].key);
	free(m->s);
	free(m);
}

static struct slot *
find(const struct strmap *m, const char *key)
{
	size_t i = hash(key) & (m->cap - 1);

	for (;;) {
		struct slot *s = &m->s[i];

		if (s->key == NULL)
			return NULL;
		if (s->key != TOMB && strcmp(s->key, key) == 0)
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

static void
grow(struct strmap *m)
{
	struct slot *old = m->s;
	size_t oldcap = m->cap;

	if (m->n * 2 >= m->cap)
		m->cap *= 2;
	m->s = xcalloc(m->cap, sizeof(*m->s));
	m->used = m->n;
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].key == NULL || old[i].key == TOMB)
			continue;
		j = hash(old[i].key) & (m->cap - 1);
		while (m->s[j].key != NULL)
			j = (j + 1) & (m->cap - 1);
		m->s[j] = old[i];
	}
	free(old);
}

void *
strmap_put(struct strmap *m, const char *key, void *val)
{
	struct slot *s;
	size_t i;

	if ((s = find(m, key)) != NULL) {
		void *prev = s->val;

		s->val = val;
		return prev;
	}
	if ((m->used + 1) * 10 >= m->cap * 7)
		grow(m);
	i = hash(key) & (m->cap - 1);
	while (m->s[i].key != NULL && m->s[i].key != TOMB)
		i = (i + 1) & (m->cap - 1);
	if (m->s[i].key == NULL)
		m->used++;
	m->s[i].key = xstrdup(key);
	m->s[i].val = val;
	m->n++;
	return NULL;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	struct slot *s = find(m, key);

	return s == NULL ? NULL : s->val;
}

void *
strmap_del(struct strmap *m, const char *key)
{
	struct slot *s = find(m, key);
	void *val;

	if (s == NULL)
		return NULL;
	val = s->val;
	free(s->key);
	s->key = TOMB;
	s->val = NULL;
	m->n--;
	return val;
}

size_t
strmap_count(const struct strmap *m)
{
	return m->n;
}

int
strmap_next(const struct strmap *m, size_t *pos, const char **key, void **val)
{
	while (*pos < m->cap) {
		struct slot *s = &m->s[(*pos)++];

		if (s->key != NULL && s->key != TOMB) {
			*key = s->key;
			*val = s->val;
			return 1;
		}
	}
	return 0;
}
