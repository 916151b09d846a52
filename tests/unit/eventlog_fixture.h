/*
 * eventlog_fixture.h — helpers for the event log suites: read a log from
 * tests/data/eventlog (or $ASSAY_TEST_DATA/eventlog) and build crafted
 * crypto-agile or SHA-1 logs event by event.
 */
#ifndef ASSAY_EVENTLOG_FIXTURE_H
#define ASSAY_EVENTLOG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "common/evidence/eventlog.h"

static inline uint8_t *
fx_read(const char *name, size_t *len)
{
	const char *dir = getenv("ASSAY_TEST_DATA");
	char *path = xasprintf("%s/eventlog/%s", dir ? dir : "tests/data", name);
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = xmalloc(n > 0 ? (size_t)n : 1);
	if (fread(d, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	free(path);
	*len = (size_t)n;
	return d;
}

static inline void
fx_u16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	buf_put(b, x, 2);
}

static inline void
fx_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24) };

	buf_put(b, x, 4);
}

/* Spec ID Event03 announcing algs (sha1=0x4 size 20, sha256=0xb size 32...). */
static inline void
fx_specid(struct buf *b, const uint16_t *algs, const uint16_t *sizes, size_t n)
{
	uint8_t zero[20] = { 0 };
	size_t i;

	fx_u32(b, 0);
	fx_u32(b, EV_NO_ACTION);
	buf_put(b, zero, 20);
	fx_u32(b, (uint32_t)(16 + 4 + 4 + 4 + 4 * n + 1));
	buf_put(b, "Spec ID Event03", 16);
	fx_u32(b, 0);
	buf_put_u8(b, 0);	/* minor */
	buf_put_u8(b, 2);	/* major */
	buf_put_u8(b, 0);
	buf_put_u8(b, 2);	/* uintnSize */
	fx_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		fx_u16(b, algs[i]);
		fx_u16(b, sizes[i]);
	}
	buf_put_u8(b, 0);
}

/* TCG_PCR_EVENT2 with one sha256 digest filled with byte fill. */
static inline void
fx_event2(struct buf *b, uint32_t pcr, uint32_t type, uint8_t fill,
    const void *data, size_t len)
{
	uint8_t d[32];

	memset(d, fill, sizeof(d));
	fx_u32(b, pcr);
	fx_u32(b, type);
	fx_u32(b, 1);
	fx_u16(b, 0x000b);
	buf_put(b, d, 32);
	fx_u32(b, (uint32_t)len);
	buf_put(b, data, len);
}

static inline void
fx_sha256_only(struct buf *b)
{
	static const uint16_t a[] = { 0x000b }, s[] = { 32 };

	buf_init(b);
	fx_specid(b, a, s, 1);
}

#endif
