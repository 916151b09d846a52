/*
 * debver.c — Debian version ordering (Debian policy §5.6.12): epoch,
 * upstream version, revision; '~' sorts before everything. Used to keep
 * the newest versions of a package in a generated policy.
 */
#include <string.h>

#include "tools/debver.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Weight of a character in a non-digit part; the end of a part is 0. */
static int
weight(char c)
{
	if (c == '\0' || is_digit(c))
		return 0;
	if (c == '~')
		return -1;
	if (is_alpha(c))
		return (unsigned char)c;
	return (unsigned char)c + 256;
}

/* Compare a[0..an) with b[0..bn) as an upstream version or a revision. */
static int
part_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	const char *ae = a + an, *be = b + bn;
	int wa, wb, first;

	while (a < ae || b < be) {
		while ((a < ae && !is_digit(*a)) || (b < be && !is_digit(*b))) {
			wa = a < ae ? weight(*a) : 0;
			wb = b < be ? weight(*b) : 0;
			if (wa != wb)
				return wa - wb;
			a += a < ae;
			b += b < be;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		first = 0;
		while (a < ae && b < be && is_digit(*a) && is_digit(*b)) {
			if (first == 0)
				first = *a - *b;
			a++;
			b++;
		}
		if (a < ae && is_digit(*a))
			return 1;
		if (b < be && is_digit(*b))
			return -1;
		if (first != 0)
			return first;
	}
	return 0;
}

struct dver {
	const char	*epoch, *up, *rev;
	size_t		 elen, ulen, rlen;
};

static void
split(const char *v, struct dver *d)
{
	const char *colon = strchr(v, ':'), *dash, *p;

	d->epoch = v;
	d->elen = 0;
	if (colon != NULL) {
		for (p = v; p < colon && is_digit(*p); p++)
			;
		if (p == colon) {
			d->elen = (size_t)(colon - v);
			v = colon + 1;
		}
	}
	dash = strrchr(v, '-');
	d->up = v;
	d->ulen = dash != NULL ? (size_t)(dash - v) : strlen(v);
	d->rev = dash != NULL ? dash + 1 : "";
	d->rlen = strlen(d->rev);
}

int
deb_version_cmp(const char *a, const char *b)
{
	struct dver x, y;
	int c;

	split(a, &x);
	split(b, &y);
	/* Epochs are numbers: compare them as a numeric part. */
	if ((c = part_cmp(x.epoch, x.elen, y.epoch, y.elen)) != 0 ||
	    (c = part_cmp(x.up, x.ulen, y.up, y.ulen)) != 0)
		return c;
	return part_cmp(x.rev, x.rlen, y.rev, y.rlen);
}
