/*
 * strmap.h — a string-keyed hash map (open addressing, linear probing,
 * tombstones) for in-memory indexes: agents by id, policies by name. Keys
 * are copied; values are the caller's. Not thread-safe.
 */
#ifndef ASSAY_STRMAP_H
#define ASSAY_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap	*strmap_new(void);
/* Frees the map and its keys; values are the caller's to free first. */
void		 strmap_free(struct strmap *m);
/* Insert or replace; returns the previous value (or NULL). */
void		*strmap_put(struct strmap *m, const char *key, void *val);
void		*strmap_get(const struct strmap *m, const char *key);
/* Remove; returns the value (or NULL). */
void		*strmap_del(struct strmap *m, const char *key);
size_t		 strmap_count(const struct strmap *m);
/*
 * Iterate: *pos starts at 0; returns 1 and fills key/val while entries
 * remain. The map must not change during iteration.
 */
int		 strmap_next(const struct strmap *m, size_t *pos, const char **key, void **val);

#endif
