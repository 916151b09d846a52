/*
 * buf.c — the bounds-checked input cursor and the growable output buffer.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"

int
cur_u64be(struct cur *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (cur_left(c) < 8)
		return ASSAY_ERR_TRUNCATED;
	(void)cur_u32be(c, &hi);
	(void)cur_u32be(c, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return ASSAY_OK;
}

int
cur_u64le(struct cur *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (cur_left(c) < 8)
		return ASSAY_ERR_TRUNCATED;
	(void)cur_u32le(c, &lo);
	(void)cur_u32le(c, &hi);
	*v = (uint64_t)hi << 32 | lo;
	return ASSAY_OK;
}

int
cur_copy(struct cur *c, void *dst, size_t n)
{
	const uint8_t *p;

	if (cur_take(c, n, &p) != 0)
		return ASSAY_ERR_TRUNCATED;
	if (n > 0)
		memcpy(dst, p, n);
	return ASSAY_OK;
}

int
cur_skip(struct cur *c, size_t n)
{
	const uint8_t *p;

	return cur_take(c, n, &p);
}

int
cur_tpm2b(struct cur *c, size_t max, struct cur *out)
{
	struct cur save = *c;
	uint16_t n;

	if (cur_u16be(c, &n) != 0)
		return ASSAY_ERR_TRUNCATED;
	if (n > max) {
		*c = save;
		return ASSAY_ERR_RANGE;
	}
	if (cur_bytes(c, n, out) != 0) {
		*c = save;
		return ASSAY_ERR_TRUNCATED;
	}
	return ASSAY_OK;
}

int
cur_end(const struct cur *c)
{
	return c->len == 0 ? ASSAY_OK : ASSAY_ERR_FORMAT;
}

void
buf_init(struct buf *b)
{
	b->d = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	freezero_secret(b->d, b->cap);
	buf_init(b);
}

void
buf_reserve(struct buf *b, size_t n)
{
	size_t cap;

	if (b->cap - b->len >= n)
		return;
	cap = b->cap == 0 ? 64 : b->cap;
	while (cap - b->len < n)
		cap *= 2;
	b->d = xreallocarray(b->d, 1, cap);
	b->cap = cap;
}

void
buf_put(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n > 0)
		memcpy(b->d + b->len, p, n);
	b->len += n;
}

void
buf_put_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void
buf_put_u16be(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { v >> 8, v & 0xff };

	buf_put(b, x, 2);
}

void
buf_put_u32be(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };

	buf_put(b, x, 4);
}

void
buf_put_u64be(struct buf *b, uint64_t v)
{
	buf_put_u32be(b, (uint32_t)(v >> 32));
	buf_put_u32be(b, (uint32_t)v);
}

void
buf_put_tpm2b(struct buf *b, const void *p, size_t n)
{
	buf_put_u16be(b, (uint16_t)n);
	buf_put(b, p, n);
}

uint8_t *
buf_steal(struct buf *b, size_t *len)
{
	uint8_t *d = b->d;

	if (d == NULL)
		d = xcalloc(1, 1);
	*len = b->len;
	buf_init(b);
	return d;
}
