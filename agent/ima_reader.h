/*
 * ima_reader.h — the agent's view of the kernel's binary IMA measurement
 * list: an index of entry offsets kept across requests, so that serving
 * entries from N reads only what was appended since the last request,
 * plus the bytes asked for. A list that shrank or was replaced (reboot,
 * test rewrite) is re-indexed from the start.
 */
#ifndef ASSAY_IMA_READER_H
#define ASSAY_IMA_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ima_reader {
	char		*path;
	uint16_t	 thash_alg;	/* template-hash alg of the list */
	size_t		 hlen;
	uint64_t	 n;		/* complete entries indexed */
	uint64_t	*off;		/* off[i] = start of entry i; off[n] = end */
	size_t		 cap;
	dev_t		 dev;
	ino_t		 ino;
};

/* path of a binary list; thash_alg TPM2_ALG_SHA1 for the classic list. */
void	ima_reader_init(struct ima_reader *r, const char *path, uint16_t thash_alg);
void	ima_reader_free(struct ima_reader *r);
/* Index whatever complete entries were appended since the last call. */
int	ima_reader_update(struct ima_reader *r);
/*
 * Bytes of entries [from, n) after an update; *count gets n - from.
 * from > n (the list restarted) gives from = n, zero entries.
 */
int	ima_reader_get(struct ima_reader *r, uint64_t from, uint8_t **out,
	    size_t *len, uint64_t *count);
/*
 * A page of whole entries from `from`: at most max entries (0: no count
 * limit) and at most max_bytes bytes (at least one entry when any remain
 * and it fits); *more = 1 when indexed entries follow the page.
 */
int	ima_reader_page(struct ima_reader *r, uint64_t from, uint64_t max,
	    size_t max_bytes, uint8_t **out, size_t *len, uint64_t *count,
	    int *more);
/*
 * Count complete entries in p[0..n) (binary list framing only, no
 * template parsing); *used gets their byte length. ASSAY_ERR_FORMAT when
 * the bytes cannot be a list (absurd lengths).
 */
int	ima_frame(const uint8_t *p, size_t n, size_t hlen, uint64_t max,
	    uint64_t *entries, size_t *used, uint64_t *offsets);

#endif
