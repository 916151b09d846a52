/*
 * xmalloc.h — allocation that never returns NULL: failure aborts the
 * process, so callers never check. Also the secret-wiping free.
 */
#ifndef ASSAY_XMALLOC_H
#define ASSAY_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
/* xstrdup, or NULL for NULL. */
char	*xstrdup_or_null(const char *);
char	*xstrndup(const char *, size_t);
void	*xmemdup(const void *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Wipe n bytes of p (may be NULL) and free it. */
void	 freezero_secret(void *p, size_t n);

#endif
