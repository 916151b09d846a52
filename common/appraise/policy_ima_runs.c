/*
 * policy_ima_runs.c — the digest syntax of an ima: section ("alg:hex" or
 * bare hex) and the runs that let a big section skip libyaml's scanner
 * (about 6 ns a byte): lines that can only be one-digest block sequence
 * entries or one-line path entries, in block context, are cut to one
 * marker line a run in a reduced copy of the text (see policy_ima_int.h).
 * The compile trusts a run only when libyaml hands back its marker as the
 * plain scalar "_" at the recorded place outside flow collections: the
 * text before it is the same, so the original lines scan as the same
 * entries; and the marker ends as they do (a plain scalar that must stay
 * "_", or a closed flow sequence), so the text after it scans the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "common/appraise/policy_ima_int.h"

/* Hex digit values, 0xff for anything else (a table: 1M digests). */
static const uint8_t hexv[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Parse s into algorithm index and bytes; NULL or what is wrong. */
const char *
ima_digest_parse(const char *s, size_t n, unsigned *ai, uint8_t *d)
{
	const char *colon = memchr(s, ':', n), *h;
	size_t hl, i;
	uint8_t a, b, bad = 0;

	if (colon != NULL) {
		for (i = 0; i < NALGS; i++)
			if ((size_t)(colon - s) == strlen(ima_algs[i].name) &&
			    memcmp(s, ima_algs[i].name, (size_t)(colon - s)) == 0)
				break;
		if (i == NALGS)
			return "names an unknown algorithm (want sha1, sha256, "
			    "sha384, sha512 or sm3_256)";
		h = colon + 1;
		hl = n - (size_t)(h - s);
		if (hl != 2 * ima_algs[i].size)
			return "has the wrong length for its algorithm";
	} else {
		h = s;
		hl = n;
		for (i = 0; i < NALGS; i++)
			if (hl == 2 * ima_algs[i].size)
				break;
		if (i == NALGS)
			return "is not a digest (want alg:hex, or 40, 64, 96 or "
			    "128 hex digits)";
	}
	*ai = (unsigned)i;
	for (i = 0; i < hl / 2; i++) {
		a = hexv[(unsigned char)h[2 * i]];
		b = hexv[(unsigned char)h[2 * i + 1]];
		bad |= (a | b) & 0xf0;
		d[i] = (uint8_t)(a << 4 | (b & 0x0f));
	}
	return bad ? "is not hex" : NULL;
}

/* ---- run lines ------------------------------------------------------- */

#define RUN_MIN		2	/* lines; fewer are left to libyaml */
#define RUN_NAME_MAX	1000	/* under libyaml's 1024 for a simple key */
#define DIGEST_TEXT_MIN	40	/* sha1 in hex */

/* Path characters a plain key may hold with no YAML meaning. */
static int
path_ch(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
	    (c | 0x20) <= 'z') || c == '/' || c == '.' || c == '_' ||
	    c == '-' || c == '+';
}

/* Digest token characters: letters, digits, ':', '_'. */
static const uint8_t tok[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Length of the digest token at i. */
static size_t
tok_len(const char *t, size_t i, size_t end)
{
	const unsigned char *u = (const unsigned char *)t;
	size_t j = i;

	while (end - j >= 4 && tok[u[j]] & tok[u[j + 1]] & tok[u[j + 2]] &
	    tok[u[j + 3]])
		j += 4;
	while (j < end && tok[u[j]])
		j++;
	return j - i;
}

/*
 * Whether s can only be one scalar of that text: not starting or ending
 * with ':' (a key), and no ':' at all where bare in a flow sequence.
 */
static int
tok_ok(const char *s, size_t n, int colon_ok)
{
	if (n < DIGEST_TEXT_MIN || s[0] == ':' || s[n - 1] == ':')
		return 0;
	return colon_ok || memchr(s, ':', n) == NULL;
}

/* "/path: [ item, ... ]" from i to eol; the items quoted or bare hex. */
static int
path_line(const char *t, size_t i, size_t eol, struct ima_run_line *l)
{
	size_t n;
	int q;

	l->name = t + i;
	while (i < eol && path_ch((unsigned char)t[i]))
		i++;
	l->nlen = (size_t)(t + i - l->name);
	if (l->nlen == 0 || l->name[0] != '/' || l->nlen > RUN_NAME_MAX ||
	    eol - i < 3 || memcmp(t + i, ": [", 3) != 0)
		return -1;
	for (i += 3;; i++) {
		while (i < eol && t[i] == ' ')
			i++;
		q = i < eol && t[i] == '"';
		i += (size_t)q;
		n = tok_len(t, i, eol);
		if (l->ndig == 16 || !tok_ok(t + i, n, q))
			return -1;
		l->dig[l->ndig] = t + i;
		l->dlen[l->ndig++] = n;
		i += n;
		if (q && (i >= eol || t[i++] != '"'))
			return -1;
		while (i < eol && t[i] == ' ')
			i++;
		if (i < eol && t[i] == ']')
			break;
		if (i >= eol || t[i] != ',')
			return -1;
	}
	return i + 1 == eol ? 0 : -1;
}

/* Parse the run line of that kind at *pos, then step past it. */
int
ima_run_line(const char *t, size_t end, int kind, size_t *pos,
    struct ima_run_line *l)
{
	const char *nl = memchr(t + *pos, '\n', end - *pos);
	size_t i = *pos, eol;

	if (nl == NULL)
		return -1;
	eol = (size_t)(nl - t);
	while (i < eol && t[i] == ' ')
		i++;
	l->ind = i - *pos;
	l->ndig = 0;
	if (kind == RUN_DIGESTS) {
		if (eol - i < 2 || t[i] != '-' || t[i + 1] != ' ' ||
		    tok_len(t, i + 2, eol) != eol - i - 2 ||
		    !tok_ok(t + i + 2, eol - i - 2, 1))
			return -1;
		l->dig[0] = t + i + 2;
		l->dlen[0] = eol - i - 2;
		l->ndig = 1;
	} else if (path_line(t, i, eol, l) != 0)
		return -1;
	*pos = eol + 1;
	return 0;
}

/* libyaml's character count of UTF-8 bytes: continuation bytes are not. */
static size_t
count_chars(const char *s, size_t n)
{
	size_t i, c = n;

	for (i = 0; i < n; i++)
		c -= ((unsigned char)s[i] & 0xc0) == 0x80;
	return c;
}

/* Lines of one kind and indentation from *pos; *last the end of the last. */
static size_t
run_extent(const char *t, size_t len, int kind, size_t *pos, size_t *last)
{
	struct ima_run_line l;
	size_t cnt = 0, p = *pos, ind = 0;

	while (p < len && ima_run_line(t, len, kind, &p, &l) == 0 &&
	    (cnt == 0 || l.ind == ind)) {
		ind = l.ind;
		*pos = p;
		*last = p - 1;
		cnt++;
	}
	return cnt;
}

static void
run_add(struct ima_runs *rs, size_t *o, size_t *chars, size_t ind, int kind,
    size_t oline, size_t oend)
{
	static const char *const mark[] = { "- _\n", "_: []\n" };
	size_t at = ind + (kind == RUN_DIGESTS ? 2 : 0), n = strlen(mark[kind]);
	struct ima_run *r;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap == 0 ? 64 : rs->cap * 2;
		rs->r = xreallocarray(rs->r, rs->cap, sizeof(*rs->r));
	}
	r = &rs->r[rs->n++];
	r->rbyte = *o + at;
	r->rchar = *chars + at;
	r->oline = oline;
	r->ostart = oline + at;
	r->oend = oend;
	r->kind = kind;
	memset(rs->text + *o, ' ', ind);
	memcpy(rs->text + *o + ind, mark[kind], n);
	*o += ind + n;
	*chars += ind + n;
}

void
ima_runs_find(const char *t, size_t len, struct ima_runs *rs)
{
	struct ima_run_line l;
	size_t pos = 0, copied = 0, o = 0, chars = 0, first, last = 0, at;
	const char *nl;
	int kind;

	memset(rs, 0, sizeof(*rs));
	/* UTF-16 (a BOM says so to libyaml) counts otherwise: no runs. */
	if (len >= 2 && ((unsigned char)t[0] == 0xfe ||
	    (unsigned char)t[0] == 0xff))
		return;
	if (len >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
		chars = (size_t)-1;	/* count_chars() sees the BOM as one */
	rs->text = xmalloc(len + 1);	/* runs only shorten the text */
	while (pos < len) {
		first = pos;
		for (kind = RUN_DIGESTS; kind <= RUN_PATHS; kind++) {
			pos = first;
			if (run_extent(t, len, kind, &pos, &last) >= RUN_MIN)
				break;
		}
		if (kind > RUN_PATHS) {
			nl = memchr(t + first, '\n', len - first);
			pos = nl != NULL ? (size_t)(nl - t) + 1 : len;
			continue;
		}
		memcpy(rs->text + o, t + copied, first - copied);
		o += first - copied;
		chars += count_chars(t + copied, first - copied);
		at = first;
		(void)ima_run_line(t, len, kind, &at, &l);
		run_add(rs, &o, &chars, l.ind, kind, first, last);
		copied = pos;
	}
	if (rs->n == 0) {
		ima_runs_free(rs);
		return;
	}
	memcpy(rs->text + o, t + copied, len - copied);
	rs->len = o + len - copied;
	rs->text[rs->len] = '\0';	/* for people and tests; libyaml has len */
}

void
ima_runs_free(struct ima_runs *rs)
{
	free(rs->text);
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

/* The original byte offset of byte offset x of the reduced text. */
size_t
ima_runs_orig(const struct ima_runs *rs, size_t x)
{
	const struct ima_run *r;
	size_t lo = 0, hi = rs->n, mid, end;

	while (lo < hi) {	/* the last run at or before x */
		mid = lo + (hi - lo) / 2;
		if (rs->r[mid].rbyte <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return x;
	r = &rs->r[lo - 1];
	if (x == r->rbyte)
		return r->ostart;
	end = r->rbyte + (r->kind == RUN_DIGESTS ? 1 : 5);	/* "_", "_: []" */
	return x >= end ? x - end + r->oend : r->oend;
}
