/*
 * ima_ascii.c — parse the ASCII form of an IMA measurement list
 * (ascii_runtime_measurements, or Keylime's copies of it): each line is
 * re-encoded in place as the binary list entry the kernel hashed, then
 * decoded by the same field decoder as a binary list (ima.c), so one
 * parser judges both forms. Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/ima.h"
#include "common/evidence/ima_int.h"
#include "common/evidence/tpm2.h"

/* Decode n hex chars at s into dst; -1 on odd length or bad char. */
static int
unhex(const uint8_t *s, size_t n, uint8_t *dst)
{
	size_t i;
	int hi, lo;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n; i += 2) {
		if ((hi = hex_digit_value(s[i])) < 0 || (lo = hex_digit_value(s[i + 1])) < 0)
			return -1;
		dst[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void
put_u32le(uint8_t *d, uint32_t v)
{
	d[0] = v & 0xff;
	d[1] = (v >> 8) & 0xff;
	d[2] = (v >> 16) & 0xff;
	d[3] = (v >> 24) & 0xff;
}

/* Emit one "u32 len || data" field into *w; data from a hex token. */
static int
emit_hex_field(uint8_t **w, struct cur tok)
{
	if (unhex(tok.p, tok.len, *w + 4) != 0)
		return -1;
	put_u32le(*w, (uint32_t)(tok.len / 2));
	*w += 4 + tok.len / 2;
	return 0;
}

/* d-ng style token "prefix:hex" -> "prefix:\0" + bytes. */
static int
emit_digest_field(uint8_t **w, struct cur tok)
{
	const uint8_t *colon = NULL;
	size_t i, plen, hlen;

	for (i = tok.len; i > 0; i--)
		if (tok.p[i - 1] == ':') {
			colon = tok.p + i - 1;
			break;
		}
	if (colon == NULL)
		return -1;
	plen = (size_t)(colon - tok.p) + 1;
	hlen = tok.len - plen;
	memcpy(*w + 4, tok.p, plen);
	(*w)[4 + plen] = '\0';
	if (unhex(colon + 1, hlen, *w + 4 + plen + 1) != 0)
		return -1;
	put_u32le(*w, (uint32_t)(plen + 1 + hlen / 2));
	*w += 4 + plen + 1 + hlen / 2;
	return 0;
}

static int
next_token(struct cur *line, struct cur *tok)
{
	const uint8_t *sp;

	if (line->len == 0)
		return -1;
	sp = memchr(line->p, ' ', line->len);
	tok->p = line->p;
	tok->len = sp == NULL ? line->len : (size_t)(sp - line->p);
	line->p += tok->len;
	line->len -= tok->len;
	if (sp != NULL) {
		line->p++;
		line->len--;
	}
	return 0;
}

/* Split the last space-separated token off the end of line. */
static void
last_token(struct cur *line, struct cur *tok)
{
	size_t i;

	for (i = line->len; i > 0; i--)
		if (line->p[i - 1] == ' ')
			break;
	if (i == 0) {		/* no space: the field is absent (empty) */
		tok->p = line->p + line->len;
		tok->len = 0;
		return;
	}
	tok->p = line->p + i;
	tok->len = line->len - i;
	line->len = i - 1;
}

/* Skip the "%2d " padding and parse the decimal PCR number into e. */
static int
ascii_pcr(struct cur *line, struct ima_entry *e, const char **why)
{
	struct cur tok;
	uint32_t pcr = 0;
	size_t i;

	while (line->len > 0 && line->p[0] == ' ') {	/* "%2d " */
		line->p++;
		line->len--;
	}
	if (next_token(line, &tok) != 0 || tok.len == 0 || tok.len > 4) {
		*why = "bad PCR number";
		return ASSAY_ERR_FORMAT;
	}
	for (i = 0; i < tok.len; i++) {
		if (tok.p[i] < '0' || tok.p[i] > '9') {
			*why = "bad PCR number";
			return ASSAY_ERR_FORMAT;
		}
		pcr = pcr * 10 + (uint32_t)(tok.p[i] - '0');
	}
	e->pcr = pcr;
	return 0;
}

/* Parse the template hash into e; the first line picks *thash_alg. */
static int
ascii_thash(struct cur *line, uint16_t *thash_alg, struct ima_entry *e,
    const char **why)
{
	const struct tpm2_hash *h;
	struct cur tok;

	if (next_token(line, &tok) != 0) {
		*why = "missing template hash";
		return ASSAY_ERR_FORMAT;
	}
	if (*thash_alg == 0) {		/* first line decides */
		switch (tok.len / 2) {
		case 20: *thash_alg = TPM2_ALG_SHA1; break;
		case 32: *thash_alg = TPM2_ALG_SHA256; break;
		case 48: *thash_alg = TPM2_ALG_SHA384; break;
		case 64: *thash_alg = TPM2_ALG_SHA512; break;
		default: break;
		}
	}
	if ((h = tpm2_hash_by_alg(*thash_alg)) == NULL || tok.len != 2 * h->size ||
	    unhex(tok.p, tok.len, e->thash) != 0) {
		*why = "bad template hash";
		return ASSAY_ERR_FORMAT;
	}
	e->thash_alg = *thash_alg;
	e->violation = ima_all_zero(e->thash, h->size);
	return 0;
}

/* Emit the legacy "ima" template data: 20-byte digest, then the name. */
static int
ascii_emit_ima(struct cur digest, struct cur name, uint8_t **w,
    const char **why)
{
	if (digest.len != 40 || unhex(digest.p, 40, *w) != 0) {
		*why = "bad ima template digest";
		return ASSAY_ERR_FORMAT;
	}
	if (name.len > IMA_OLD_NAME_MAX) {
		*why = "ima template name longer than 255";
		return ASSAY_ERR_RANGE;
	}
	put_u32le(*w + 20, (uint32_t)name.len);
	memcpy(*w + 24, name.p, name.len);
	*w += 24 + name.len;
	return 0;
}

/* Emit ng-style template data: digest field, NUL-ended name, tail fields. */
static int
ascii_emit_ng(int tmpl, struct cur digest, struct cur name,
    const struct cur *tail, size_t nafter, uint8_t **w, const char **why)
{
	size_t i;
	int r;

	if (emit_digest_field(w, digest) != 0) {
		*why = "bad file digest field";
		return ASSAY_ERR_FORMAT;
	}
	if (name.len > IMA_NAME_MAX) {
		*why = "name longer than IMA_NAME_MAX";
		return ASSAY_ERR_RANGE;
	}
	put_u32le(*w, (uint32_t)name.len + 1);
	memcpy(*w + 4, name.p, name.len);
	(*w)[4 + name.len] = '\0';
	*w += 4 + name.len + 1;
	for (i = 0; i < nafter; i++) {
		if (ima_tmpls[tmpl].fields[2 + i] == F_DMODSIG && tail[i].len > 0)
			r = emit_digest_field(w, tail[i]);
		else
			r = emit_hex_field(w, tail[i]);
		if (r != 0) {
			*why = "bad hex field";
			return ASSAY_ERR_FORMAT;
		}
	}
	return 0;
}

/*
 * One ASCII line into e, its template data written at *w. A line's
 * binary form is never longer than the line plus 4 bytes per field and
 * the NULs (bounded by the caller's reservation).
 */
static int
ascii_line(struct cur line, uint16_t *thash_alg, uint8_t **w,
    struct ima_entry *e, const char **why)
{
	struct cur tok, tail[4];
	uint8_t *start = *w;
	size_t i, nafter = 0;
	int r;

	if ((r = ascii_pcr(&line, e, why)) != 0 ||
	    (r = ascii_thash(&line, thash_alg, e, why)) != 0)
		return r;
	if (next_token(&line, &tok) != 0 ||
	    (e->tmpl = ima_tmpl_lookup(tok.p, tok.len)) < 0) {
		*why = "unknown template";
		return ASSAY_ERR_UNSUPPORTED;
	}
	for (i = 2; i < sizeof(ima_tmpls[0].fields) && ima_tmpls[e->tmpl].fields[i] != F_END; i++)
		nafter++;
	/* the digest field: first token */
	if (next_token(&line, &tok) != 0) {
		*why = "missing file digest";
		return ASSAY_ERR_FORMAT;
	}
	/* trailing hex fields, then the name is what remains */
	for (i = nafter; i > 0; i--)
		last_token(&line, &tail[i - 1]);
	if (memchr(line.p, '\0', line.len) != NULL) {
		*why = "NUL inside the name";
		return ASSAY_ERR_FORMAT;
	}
	if (e->tmpl == IMA_TMPL_IMA)
		r = ascii_emit_ima(tok, line, w, why);
	else
		r = ascii_emit_ng(e->tmpl, tok, line, tail, nafter, w, why);
	if (r != 0)
		return r;
	e->tdata.p = start;
	e->tdata.len = (size_t)(*w - start);
	if (e->tdata.len > IMA_TEMPLATE_DATA_MAX) {
		*why = "template data longer than IMA_TEMPLATE_DATA_MAX";
		return ASSAY_ERR_RANGE;
	}
	return ima_decode_fields(e, why);
}

int
ima_parse_ascii(const char *p, size_t n, struct ima_list *out)
{
	return ima_parse_ascii_alg(p, n, 0, out);
}

int
ima_parse_ascii_alg(const char *p, size_t n, uint16_t thash_alg,
    struct ima_list *out)
{
	struct ima_list l = { 0 };
	struct ima_entry e;
	struct cur line;
	const uint8_t *s = (const uint8_t *)p, *nl;
	size_t lines = 0, i, off, lineno = 0, cap;
	uint8_t *w;
	const char *why = NULL;
	int r = ASSAY_OK;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		if (s[i] == '\n')
			lines++;
	lines++;
	if (lines > IMA_LIST_MAX_ENTRIES + 1)
		return assay_err_set(ASSAY_ERR_RANGE, "IMA ASCII list: too many lines");
	/* each line grows by at most 4 bytes per field and two NULs */
	l.owned = xmalloc(n + lines * 32 + 1);
	w = l.owned;
	cap = lines;
	l.e = xreallocarray(NULL, cap, sizeof(*l.e));
	l.thash_alg = thash_alg;
	for (off = 0; off < n; off = (size_t)(nl - s) + 1) {
		lineno++;
		nl = memchr(s + off, '\n', n - off);
		if (nl == NULL)
			nl = s + n;
		line.p = s + off;
		line.len = (size_t)(nl - line.p);
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len == 0)
			continue;
		memset(&e, 0, sizeof(e));
		if ((r = ascii_line(line, &l.thash_alg, &w, &e, &why)) != 0) {
			assay_err_set(r, "IMA ASCII line %zu (entry %zu): %s",
			    lineno, l.n, why);
			ima_list_free(&l);
			return r;
		}
		ima_list_push(&l, &cap, &e);
		if (nl == s + n)
			break;
	}
	if (l.thash_alg == 0)
		l.thash_alg = TPM2_ALG_SHA1;	/* empty list */
	*out = l;
	return ASSAY_OK;
}
