/*
 * buf.h — the one bounds-checked cursor through which all untrusted bytes
 * are read, and a growable output buffer for marshalling. A read past the
 * end returns ASSAY_ERR_TRUNCATED and leaves the cursor unchanged.
 */
#ifndef ASSAY_BUF_H
#define ASSAY_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct cur {
	const uint8_t	*p;
	size_t		 len;
};

/*
 * The small readers are inline: parsers call them per field, millions of
 * times for an IMA list.
 */
static inline void
cur_init(struct cur *c, const void *p, size_t len)
{
	c->p = p;
	c->len = p == NULL ? 0 : len;
}

static inline size_t
cur_left(const struct cur *c)
{
	return c->len;
}

static inline int
cur_take(struct cur *c, size_t n, const uint8_t **p)
{
	if (n > c->len)
		return ASSAY_ERR_TRUNCATED;
	*p = c->p;
	c->p += n;
	c->len -= n;
	return ASSAY_OK;
}

static inline int
cur_u8(struct cur *c, uint8_t *v)
{
	const uint8_t *p;

	if (cur_take(c, 1, &p) != 0)
		return ASSAY_ERR_TRUNCATED;
	*v = p[0];
	return ASSAY_OK;
}

static inline int
cur_u16be(struct cur *c, uint16_t *v)
{
	const uint8_t *p;

	if (cur_take(c, 2, &p) != 0)
		return ASSAY_ERR_TRUNCATED;
	*v = (uint16_t)((p[0] << 8) | p[1]);
	return ASSAY_OK;
}

static inline int
cur_u32be(struct cur *c, uint32_t *v)
{
	const uint8_t *p;

	if (cur_take(c, 4, &p) != 0)
		return ASSAY_ERR_TRUNCATED;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	return ASSAY_OK;
}

static inline int
cur_u16le(struct cur *c, uint16_t *v)
{
	const uint8_t *p;

	if (cur_take(c, 2, &p) != 0)
		return ASSAY_ERR_TRUNCATED;
	*v = (uint16_t)(p[0] | (p[1] << 8));
	return ASSAY_OK;
}

static inline int
cur_u32le(struct cur *c, uint32_t *v)
{
	const uint8_t *p;

	if (cur_take(c, 4, &p) != 0)
		return ASSAY_ERR_TRUNCATED;
	*v = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
	return ASSAY_OK;
}

static inline int
cur_bytes(struct cur *c, size_t n, struct cur *out)
{
	const uint8_t *p;

	if (cur_take(c, n, &p) != 0)
		return ASSAY_ERR_TRUNCATED;
	out->p = p;
	out->len = n;
	return ASSAY_OK;
}

int	cur_u64be(struct cur *c, uint64_t *v);
int	cur_u64le(struct cur *c, uint64_t *v);
/* Copy the next n bytes into dst. */
int	cur_copy(struct cur *c, void *dst, size_t n);
int	cur_skip(struct cur *c, size_t n);
/* TPM2B: u16be size, then size bytes; size must be <= max. */
int	cur_tpm2b(struct cur *c, size_t max, struct cur *out);
/* ASSAY_ERR_FORMAT unless the cursor is exhausted ("trailing bytes"). */
int	cur_end(const struct cur *c);

struct buf {
	uint8_t	*d;
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *b);
void	buf_free(struct buf *b);		/* wipes: buffers may hold secrets */
void	buf_reserve(struct buf *b, size_t n);
void	buf_put(struct buf *b, const void *p, size_t n);
void	buf_put_u8(struct buf *b, uint8_t v);
void	buf_put_u16be(struct buf *b, uint16_t v);
void	buf_put_u32be(struct buf *b, uint32_t v);
void	buf_put_u64be(struct buf *b, uint64_t v);
void	buf_put_tpm2b(struct buf *b, const void *p, size_t n);
/* Hand the bytes to the caller (who frees them); b is reset. */
uint8_t	*buf_steal(struct buf *b, size_t *len);

#endif
