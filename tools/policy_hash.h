/*
 * policy_hash.h — file digests as the offline policy tools write them
 * ("alg:hex"), streamed: a file on disk or the bytes of an archive member.
 */
#ifndef ASSAY_POLICY_HASH_H
#define ASSAY_POLICY_HASH_H

#include <stddef.h>

struct tpm2_hash;
struct phash;

/* A digest in progress of algorithm h (aborts if OpenSSL cannot). */
struct phash *phash_new(const struct tpm2_hash *h);
int	phash_update(struct phash *ph, const void *p, size_t n);
/* "alg:hex" into *out (caller frees); frees ph. */
int	phash_final(struct phash *ph, char **out);
void	phash_free(struct phash *ph);		/* NULL-safe */
/* The digest of the file at path, read in 64 KiB blocks. */
int	phash_file(const struct tpm2_hash *h, const char *path, char **out);

#endif
