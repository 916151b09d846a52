/*
 * ima.c — parse Linux IMA measurement lists (binary and ASCII) into one
 * array of entries, decode the fields of every kernel template, and
 * compute/check template hashes. Pure: bytes in, entries out; binary
 * entries point into the caller's buffer, ASCII entries into l->owned.
 *
 * Kernel facts this follows (security/integrity/ima): ima_fs.c
 * ima_measurements_show() writes per entry u32 pcr, the template digest,
 * u32 name length, the name, then (all templates but "ima") u32 template
 * data length and the fields each as u32 length + data; for "ima" the "d"
 * field is written without length (20 bytes) and "n" as u32 strlen + the
 * string without its NUL. ima_template_lib.c: d-ng is "<alg>:\0" + digest,
 * d-ngv2 "<ima|verity>:<alg>:\0" + digest, strings (n, n-ng) carry their
 * NUL and have spaces replaced by '_', a violation's digest is zeros.
 * ima_crypto.c ima_calc_field_array_hash: H(u32 len || data ...) over the
 * fields, except for "ima": H(digest || name zero-padded to 256 bytes).
 *
 * Unknown file-digest algorithms (md5, sha3-*, "unknown") are not a parse
 * error: dalg is TPM2_ALG_NULL and dalg_name holds the name as listed; the
 * policy decides. Known algorithms must carry a digest of their size
 * (violations excepted: old kernels record 20 zero bytes whatever the alg).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"

#define IMA_OLD_NAME_MAX	255	/* IMA_EVENT_NAME_LEN_MAX */
#define IMA_ALG_NAME_MAX	64	/* CRYPTO_MAX_ALG_NAME */

enum ima_field {
	F_END = 0, F_D, F_N, F_DNG, F_NNG, F_SIG, F_BUF, F_DNGV2, F_DMODSIG,
	F_MODSIG
};

static const struct {
	const char	*name;
	uint8_t		 fields[6];
} tmpls[IMA_TMPL_MAX] = {
	[IMA_TMPL_IMA] =	{ "ima",	{ F_D, F_N } },
	[IMA_TMPL_IMA_NG] =	{ "ima-ng",	{ F_DNG, F_NNG } },
	[IMA_TMPL_IMA_SIG] =	{ "ima-sig",	{ F_DNG, F_NNG, F_SIG } },
	[IMA_TMPL_IMA_BUF] =	{ "ima-buf",	{ F_DNG, F_NNG, F_BUF } },
	[IMA_TMPL_IMA_MODSIG] =	{ "ima-modsig",
	    { F_DNG, F_NNG, F_SIG, F_DMODSIG, F_MODSIG } },
	[IMA_TMPL_IMA_NGV2] =	{ "ima-ngv2",	{ F_DNGV2, F_NNG } },
	[IMA_TMPL_IMA_SIGV2] =	{ "ima-sigv2",	{ F_DNGV2, F_NNG, F_SIG } },
};

/* Kernel hash_algo_name[] spellings (and keylime's) -> TPM alg. */
static const struct {
	const char	*name;
	uint16_t	 alg;
} dalgs[] = {
	{ "sha1",	TPM2_ALG_SHA1 },
	{ "sha256",	TPM2_ALG_SHA256 },
	{ "sha384",	TPM2_ALG_SHA384 },
	{ "sha512",	TPM2_ALG_SHA512 },
	{ "sm3",	TPM2_ALG_SM3_256 },
	{ "sm3-256",	TPM2_ALG_SM3_256 },
	{ "sm3_256",	TPM2_ALG_SM3_256 },
};

const char *
ima_template_name(int tmpl)
{
	if (tmpl < 0 || tmpl >= IMA_TMPL_MAX)
		return "unknown";
	return tmpls[tmpl].name;
}

static int
tmpl_lookup(const uint8_t *p, size_t n)
{
	int i;

	for (i = 0; i < IMA_TMPL_MAX; i++)
		if (strlen(tmpls[i].name) == n && memcmp(tmpls[i].name, p, n) == 0)
			return i;
	return -1;
}

uint16_t
ima_digest_alg_by_name(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(dalgs) / sizeof(dalgs[0]); i++)
		if (strlen(dalgs[i].name) == n && memcmp(dalgs[i].name, p, n) == 0)
			return dalgs[i].alg;
	return TPM2_ALG_NULL;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int
alg_name_ok(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0 || n > IMA_ALG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		    p[i] == '-' || p[i] == '_'))
			return 0;
	return 1;
}

/*
 * "[type:]alg:\0digest" (d-ng, d-modsig, d-ngv2). The prefix ends at the
 * first NUL, which must follow a ':'.
 */
static int
decode_digest_ng(struct cur f, int v2, int violation, uint16_t *alg,
    struct cur *algname, struct cur *digest, int *verity, const char **why)
{
	const uint8_t *nul, *colon;
	const struct tpm2_hash *h;
	size_t plen;

	nul = memchr(f.p, '\0', f.len > IMA_ALG_NAME_MAX + 16 ?
	    IMA_ALG_NAME_MAX + 16 : f.len);
	if (nul == NULL || nul == f.p || nul[-1] != ':') {
		*why = "digest without \"<alg>:\\0\" prefix";
		return ASSAY_ERR_FORMAT;
	}
	plen = (size_t)(nul - f.p) - 1;		/* without the ':' */
	algname->p = f.p;
	algname->len = plen;
	if (v2) {
		colon = memchr(f.p, ':', plen);
		if (colon == NULL) {
			*why = "d-ngv2 without a digest type";
			return ASSAY_ERR_FORMAT;
		}
		if ((size_t)(colon - f.p) == 3 && memcmp(f.p, "ima", 3) == 0)
			*verity = 0;
		else if ((size_t)(colon - f.p) == 6 && memcmp(f.p, "verity", 6) == 0)
			*verity = 1;
		else {
			*why = "d-ngv2 digest type is neither ima nor verity";
			return ASSAY_ERR_FORMAT;
		}
		algname->p = colon + 1;
		algname->len = plen - (size_t)(colon + 1 - f.p);
	}
	if (!alg_name_ok(algname->p, algname->len)) {
		*why = "bad digest algorithm name";
		return ASSAY_ERR_FORMAT;
	}
	digest->p = nul + 1;
	digest->len = f.len - (size_t)(nul + 1 - f.p);
	*alg = ima_digest_alg_by_name(algname->p, algname->len);
	if (*alg != TPM2_ALG_NULL && (h = tpm2_hash_by_alg(*alg)) != NULL &&
	    digest->len != h->size && !violation) {
		*why = "file digest size does not match its algorithm";
		return ASSAY_ERR_FORMAT;
	}
	if (digest->len == 0 || digest->len > TPM2_MAX_DIGEST) {
		*why = "file digest size out of range";
		return ASSAY_ERR_FORMAT;
	}
	return ASSAY_OK;
}

/* A kernel string field: bytes, one terminating NUL, none inside. */
static int
decode_string(struct cur f, struct cur *name, const char **why)
{
	if (f.len == 0 || f.p[f.len - 1] != '\0') {
		*why = "name field not NUL-terminated";
		return ASSAY_ERR_FORMAT;
	}
	if (f.len - 1 > IMA_NAME_MAX) {
		*why = "name longer than IMA_NAME_MAX";
		return ASSAY_ERR_RANGE;
	}
	if (memchr(f.p, '\0', f.len - 1) != NULL) {
		*why = "NUL inside the name";
		return ASSAY_ERR_FORMAT;
	}
	name->p = f.p;
	name->len = f.len - 1;
	return ASSAY_OK;
}

/*
 * Decode e->tdata according to e->tmpl. For "ima" the data is the binary
 * list form (digest[20], u32 strlen, name).
 */
static int
decode_fields(struct ima_entry *e, const char **why)
{
	struct cur c = e->tdata, f;
	uint32_t len;
	size_t i;
	int r;

	if (e->tmpl == IMA_TMPL_IMA) {
		if ((r = cur_bytes(&c, 20, &e->digest)) != 0 ||
		    (r = cur_u32le(&c, &len)) != 0) {
			*why = "ima template data truncated";
			return r;
		}
		if (len > IMA_OLD_NAME_MAX) {
			*why = "ima template name longer than 255";
			return ASSAY_ERR_RANGE;
		}
		if ((r = cur_bytes(&c, len, &e->name)) != 0) {
			*why = "ima template name truncated";
			return r;
		}
		if (memchr(e->name.p, '\0', e->name.len) != NULL) {
			*why = "NUL inside the name";
			return ASSAY_ERR_FORMAT;
		}
		e->dalg = TPM2_ALG_SHA1;
		e->dalg_name.p = (const uint8_t *)"sha1";
		e->dalg_name.len = 4;
		if ((r = cur_end(&c)) != 0)
			*why = "trailing bytes in ima template data";
		return r;
	}
	for (i = 0; i < sizeof(tmpls[0].fields) && tmpls[e->tmpl].fields[i] != F_END;
	    i++) {
		if ((r = cur_u32le(&c, &len)) != 0 || (r = cur_bytes(&c, len, &f)) != 0) {
			*why = "template field overruns the template data";
			return r;
		}
		switch (tmpls[e->tmpl].fields[i]) {
		case F_DNG:
		case F_DNGV2:
			r = decode_digest_ng(f, tmpls[e->tmpl].fields[i] == F_DNGV2,
			    e->violation, &e->dalg, &e->dalg_name, &e->digest,
			    &e->verity, why);
			break;
		case F_NNG:
			r = decode_string(f, &e->name, why);
			break;
		case F_SIG:
			e->sig = f;
			break;
		case F_BUF:
			e->buf = f;
			break;
		case F_DMODSIG:
			if (f.len == 0)
				break;
			r = decode_digest_ng(f, 0, e->violation, &e->modsig_dalg,
			    &e->modsig_dalg_name, &e->modsig_digest, &e->verity, why);
			break;
		case F_MODSIG:
			e->modsig = f;
			break;
		default:
			r = ASSAY_ERR_FORMAT;
			break;
		}
		if (r != 0)
			return r;
	}
	if ((r = cur_end(&c)) != 0)
		*why = "trailing bytes after the template fields";
	return r;
}

static void
list_push(struct ima_list *l, size_t *cap, const struct ima_entry *e)
{
	if (l->n == *cap) {
		*cap = *cap < 64 ? 64 : *cap * 2;
		l->e = xreallocarray(l->e, *cap, sizeof(*l->e));
	}
	l->e[l->n++] = *e;
}

int
ima_parse_binary(const uint8_t *p, size_t n, uint16_t thash_alg,
    struct ima_list *out, size_t *consumed)
{
	const struct tpm2_hash *h;
	struct ima_list l = { 0 };
	struct ima_entry e;
	struct cur c, tname, th;
	size_t cap, off;
	uint32_t len;
	const char *why = NULL;
	int r = ASSAY_OK;

	memset(out, 0, sizeof(*out));
	if (consumed != NULL)
		*consumed = 0;
	if ((h = tpm2_hash_by_alg(thash_alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "IMA template hash algorithm 0x%04x", thash_alg);
	l.thash_alg = thash_alg;
	cap = n / 96 + 16;
	if (cap > IMA_LIST_MAX_ENTRIES)
		cap = IMA_LIST_MAX_ENTRIES;
	l.e = xreallocarray(NULL, cap, sizeof(*l.e));
	cur_init(&c, p, n);
	while (cur_left(&c) > 0) {
		off = n - cur_left(&c);
		if (l.n >= IMA_LIST_MAX_ENTRIES) {
			r = ASSAY_ERR_RANGE;
			why = "too many entries";
			goto fail;
		}
		memset(&e, 0, sizeof(e));
		e.thash_alg = thash_alg;
		if ((r = cur_u32le(&c, &e.pcr)) != 0 ||
		    (r = cur_bytes(&c, h->size, &th)) != 0 ||
		    (r = cur_u32le(&c, &len)) != 0) {
			why = "entry header truncated";
			goto fail;
		}
		memcpy(e.thash, th.p, h->size);
		e.violation = all_zero(e.thash, h->size);
		if (len == 0 || len > IMA_TEMPLATE_NAME_MAX) {
			r = ASSAY_ERR_FORMAT;
			why = "template name length out of range";
			goto fail;
		}
		if ((r = cur_bytes(&c, len, &tname)) != 0) {
			why = "template name truncated";
			goto fail;
		}
		if ((e.tmpl = tmpl_lookup(tname.p, tname.len)) < 0) {
			r = ASSAY_ERR_UNSUPPORTED;
			why = "unknown template";
			goto fail;
		}
		if (e.tmpl == IMA_TMPL_IMA) {
			/* digest[20] || u32 len || name: bound it before use */
			struct cur look = c;
			uint32_t nl;

			if ((r = cur_skip(&look, 20)) != 0 ||
			    (r = cur_u32le(&look, &nl)) != 0) {
				why = "ima template data truncated";
				goto fail;
			}
			if (nl > IMA_OLD_NAME_MAX) {
				r = ASSAY_ERR_RANGE;
				why = "ima template name longer than 255";
				goto fail;
			}
			len = 24 + nl;
		} else {
			if ((r = cur_u32le(&c, &len)) != 0) {
				why = "template data length truncated";
				goto fail;
			}
			if (len > IMA_TEMPLATE_DATA_MAX) {
				r = ASSAY_ERR_RANGE;
				why = "template data longer than IMA_TEMPLATE_DATA_MAX";
				goto fail;
			}
		}
		if ((r = cur_bytes(&c, len, &e.tdata)) != 0) {
			why = "template data truncated";
			goto fail;
		}
		if ((r = decode_fields(&e, &why)) != 0)
			goto fail;
		list_push(&l, &cap, &e);
		if (consumed != NULL)
			*consumed = n - cur_left(&c);
	}
	*out = l;
	return ASSAY_OK;
 fail:
	if (r == ASSAY_ERR_TRUNCATED)
		assay_err_set(r, "IMA entry %zu at offset %zu: %s (%zu byte(s) "
		    "left of a partial entry)", l.n, off, why, n - off);
	else
		assay_err_set(r, "IMA entry %zu at offset %zu: %s", l.n, off, why);
	free(l.e);
	return r;
}

void
ima_list_free(struct ima_list *l)
{
	if (l == NULL)
		return;
	free(l->e);
	free(l->owned);
	memset(l, 0, sizeof(*l));
}

/* ---- ASCII ---- */

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

/*
 * One ASCII line into e, its template data written at *w. A line's
 * binary form is never longer than the line plus 4 bytes per field and
 * the NULs (bounded by the caller's reservation).
 */
static int
ascii_line(struct cur line, uint16_t *thash_alg, uint8_t **w,
    struct ima_entry *e, const char **why)
{
	const struct tpm2_hash *h;
	struct cur tok, tail[4];
	uint8_t *start = *w;
	uint32_t pcr = 0;
	size_t i, nafter = 0;
	int r;

	while (line.len > 0 && line.p[0] == ' ') {	/* "%2d " */
		line.p++;
		line.len--;
	}
	if (next_token(&line, &tok) != 0 || tok.len == 0 || tok.len > 4) {
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
	if (next_token(&line, &tok) != 0) {
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
	e->violation = all_zero(e->thash, h->size);
	if (next_token(&line, &tok) != 0 ||
	    (e->tmpl = tmpl_lookup(tok.p, tok.len)) < 0) {
		*why = "unknown template";
		return ASSAY_ERR_UNSUPPORTED;
	}
	for (i = 2; i < sizeof(tmpls[0].fields) && tmpls[e->tmpl].fields[i] != F_END; i++)
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
	if (e->tmpl == IMA_TMPL_IMA) {
		if (tok.len != 40 || unhex(tok.p, 40, *w) != 0) {
			*why = "bad ima template digest";
			return ASSAY_ERR_FORMAT;
		}
		if (line.len > IMA_OLD_NAME_MAX) {
			*why = "ima template name longer than 255";
			return ASSAY_ERR_RANGE;
		}
		put_u32le(*w + 20, (uint32_t)line.len);
		memcpy(*w + 24, line.p, line.len);
		*w += 24 + line.len;
	} else {
		if (emit_digest_field(w, tok) != 0) {
			*why = "bad file digest field";
			return ASSAY_ERR_FORMAT;
		}
		if (line.len > IMA_NAME_MAX) {
			*why = "name longer than IMA_NAME_MAX";
			return ASSAY_ERR_RANGE;
		}
		put_u32le(*w, (uint32_t)line.len + 1);
		memcpy(*w + 4, line.p, line.len);
		(*w)[4 + line.len] = '\0';
		*w += 4 + line.len + 1;
		for (i = 0; i < nafter; i++) {
			if (tmpls[e->tmpl].fields[2 + i] == F_DMODSIG && tail[i].len > 0)
				r = emit_digest_field(w, tail[i]);
			else
				r = emit_hex_field(w, tail[i]);
			if (r != 0) {
				*why = "bad hex field";
				return ASSAY_ERR_FORMAT;
			}
		}
	}
	e->tdata.p = start;
	e->tdata.len = (size_t)(*w - start);
	if (e->tdata.len > IMA_TEMPLATE_DATA_MAX) {
		*why = "template data longer than IMA_TEMPLATE_DATA_MAX";
		return ASSAY_ERR_RANGE;
	}
	return decode_fields(e, why);
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
		list_push(&l, &cap, &e);
		if (nl == s + n)
			break;
	}
	if (l.thash_alg == 0)
		l.thash_alg = TPM2_ALG_SHA1;	/* empty list */
	*out = l;
	return ASSAY_OK;
}

/* ---- template hash ---- */

int
ima_entry_template_hash(const struct ima_entry *e, uint16_t alg,
    EVP_MD_CTX *ctx, uint8_t *out, size_t *outlen)
{
	static const uint8_t zeros[IMA_OLD_NAME_MAX + 1];
	EVP_MD_CTX *own = NULL;
	const EVP_MD *md;
	unsigned int olen;
	int r = ASSAY_ERR_CRYPTO;

	if ((md = tpm2_hash_md(alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "hash algorithm 0x%04x", alg);
	if (ctx == NULL && (ctx = own = EVP_MD_CTX_new()) == NULL)
		return assay_err_set(ASSAY_ERR_CRYPTO, "EVP_MD_CTX_new");
	if (!EVP_DigestInit_ex2(ctx, md, NULL))
		goto out;
	if (e->tmpl == IMA_TMPL_IMA) {
		if (e->digest.len != 20 || e->name.len > IMA_OLD_NAME_MAX)
			goto out;
		if (!EVP_DigestUpdate(ctx, e->digest.p, 20) ||
		    !EVP_DigestUpdate(ctx, e->name.p, e->name.len) ||
		    !EVP_DigestUpdate(ctx, zeros, sizeof(zeros) - e->name.len))
			goto out;
	} else if (!EVP_DigestUpdate(ctx, e->tdata.p, e->tdata.len))
		goto out;
	if (!EVP_DigestFinal_ex(ctx, out, &olen))
		goto out;
	*outlen = olen;
	r = ASSAY_OK;
 out:
	EVP_MD_CTX_free(own);
	if (r != ASSAY_OK)
		assay_err_set(r, "IMA template hash");
	return r;
}

int
ima_entry_check_thash(const struct ima_entry *e, uint16_t thash_alg)
{
	uint8_t d[TPM2_MAX_DIGEST];
	size_t dlen;
	int r;

	if (e->violation)
		return ASSAY_OK;
	if ((r = ima_entry_template_hash(e, thash_alg, NULL, d, &dlen)) != 0)
		return r;
	if (memcmp(d, e->thash, dlen) != 0)
		return assay_err_set(ASSAY_FAIL, "IMA entry \"%.*s\": template "
		    "hash does not match its template data",
		    (int)(e->name.len > 200 ? 200 : e->name.len),
		    (const char *)e->name.p);
	return ASSAY_OK;
}
