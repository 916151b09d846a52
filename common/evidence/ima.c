/*
 * ima.c — parse Linux IMA measurement lists (binary; ASCII in
 * ima_ascii.c) into one array of entries or, binary, entry by entry
 * (ima_binary_next, for the one-pass replay), decode the fields of every
 * kernel template, and compute/check template hashes. Pure: bytes in,
 * entries out; binary entries point into the caller's buffer, ASCII
 * entries into l->owned.
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
#include "common/evidence/ima_int.h"
#include "common/evidence/tpm2.h"

#define IMA_ALG_NAME_MAX	64	/* CRYPTO_MAX_ALG_NAME */

const struct ima_tmpl_desc ima_tmpls[IMA_TMPL_MAX] = {
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
	char		 name[8];	/* see struct ima_tmpl_desc */
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
	return ima_tmpls[tmpl].name;
}

int
ima_tmpl_lookup(const uint8_t *p, size_t n)
{
	int i;

	if (n == 0 || n >= sizeof(ima_tmpls[0].name))
		return -1;
	for (i = 0; i < IMA_TMPL_MAX; i++)	/* strlen(name) == n: */
		if (ima_tmpls[i].name[n] == '\0' && ima_tmpls[i].name[n - 1] != '\0' &&
		    memcmp(ima_tmpls[i].name, p, n) == 0)
			return i;
	return -1;
}

uint16_t
ima_digest_alg_by_name(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0 || n >= sizeof(dalgs[0].name))
		return TPM2_ALG_NULL;
	for (i = 0; i < sizeof(dalgs) / sizeof(dalgs[0]); i++)	/* strlen == n */
		if (dalgs[i].name[n] == '\0' && dalgs[i].name[n - 1] != '\0' &&
		    memcmp(dalgs[i].name, p, n) == 0)
			return dalgs[i].alg;
	return TPM2_ALG_NULL;
}

int
ima_all_zero(const uint8_t *p, size_t n)
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
int
ima_decode_fields(struct ima_entry *e, const char **why)
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
	for (i = 0; i < sizeof(ima_tmpls[0].fields) && ima_tmpls[e->tmpl].fields[i] != F_END;
	    i++) {
		if ((r = cur_u32le(&c, &len)) != 0 || (r = cur_bytes(&c, len, &f)) != 0) {
			*why = "template field overruns the template data";
			return r;
		}
		switch (ima_tmpls[e->tmpl].fields[i]) {
		case F_DNG:
		case F_DNGV2:
			r = decode_digest_ng(f, ima_tmpls[e->tmpl].fields[i] == F_DNGV2,
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

void
ima_list_push(struct ima_list *l, size_t *cap, const struct ima_entry *e)
{
	if (l->n == *cap) {
		*cap = *cap < 64 ? 64 : *cap * 2;
		l->e = xreallocarray(l->e, *cap, sizeof(*l->e));
	}
	l->e[l->n++] = *e;
}

int
ima_frame_next(struct cur *c, size_t hlen, struct ima_frame *f,
    const char **why)
{
	struct cur e = *c, look;
	uint32_t len, nl;

	memset(f, 0, sizeof(*f));
	if (cur_u32le(&e, &f->pcr) != 0 || cur_bytes(&e, hlen, &f->thash) != 0 ||
	    cur_u32le(&e, &len) != 0) {
		*why = "entry header truncated";
		return ASSAY_ERR_TRUNCATED;
	}
	if (len == 0 || len > IMA_TEMPLATE_NAME_MAX) {
		*why = "template name length out of range";
		return ASSAY_ERR_FORMAT;
	}
	if (cur_bytes(&e, len, &f->tname) != 0) {
		*why = "template name truncated";
		return ASSAY_ERR_TRUNCATED;
	}
	if (len == 3 && memcmp(f->tname.p, "ima", 3) == 0) {
		/* digest[20] || u32 len || name: bound it before use */
		look = e;
		if (cur_skip(&look, 20) != 0 || cur_u32le(&look, &nl) != 0) {
			*why = "ima template data truncated";
			return ASSAY_ERR_TRUNCATED;
		}
		if (nl > IMA_OLD_NAME_MAX) {
			*why = "ima template name longer than 255";
			return ASSAY_ERR_RANGE;
		}
		len = 24 + nl;
	} else {
		if (cur_u32le(&e, &len) != 0) {
			*why = "template data length truncated";
			return ASSAY_ERR_TRUNCATED;
		}
		if (len > IMA_TEMPLATE_DATA_MAX) {
			*why = "template data longer than IMA_TEMPLATE_DATA_MAX";
			return ASSAY_ERR_RANGE;
		}
	}
	if (cur_bytes(&e, len, &f->tdata) != 0) {
		*why = "template data truncated";
		return ASSAY_ERR_TRUNCATED;
	}
	f->len = (size_t)(e.p - c->p);
	*c = e;
	return ASSAY_OK;
}

int
ima_binary_next(struct cur *c, uint16_t thash_alg, struct ima_entry *e,
    const char **why)
{
	const struct tpm2_hash *h;
	struct ima_frame f;
	struct cur at = *c;
	int r;

	if ((h = tpm2_hash_by_alg(thash_alg)) == NULL) {
		*why = "unknown template hash algorithm";
		return ASSAY_ERR_UNSUPPORTED;
	}
	if ((r = ima_frame_next(&at, h->size, &f, why)) != 0)
		return r;
	memset(e, 0, sizeof(*e));
	e->thash_alg = thash_alg;
	e->pcr = f.pcr;
	memcpy(e->thash, f.thash.p, f.thash.len);
	e->violation = ima_all_zero(f.thash.p, f.thash.len);
	if ((e->tmpl = ima_tmpl_lookup(f.tname.p, f.tname.len)) < 0) {
		*why = "unknown template";
		return ASSAY_ERR_UNSUPPORTED;
	}
	e->tdata = f.tdata;
	if ((r = ima_decode_fields(e, why)) != 0)
		return r;
	*c = at;
	return ASSAY_OK;
}

int
ima_parse_binary(const uint8_t *p, size_t n, uint16_t thash_alg,
    struct ima_list *out, size_t *consumed)
{
	const struct tpm2_hash *h;
	struct ima_list l = { 0 };
	struct ima_entry e;
	struct cur c;
	size_t cap, off = 0;
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
		if ((r = ima_binary_next(&c, thash_alg, &e, &why)) != 0)
			goto fail;
		ima_list_push(&l, &cap, &e);
		if (consumed != NULL)
			*consumed = n - cur_left(&c);
	}
	*out = l;
	return ASSAY_OK;
 fail:
	ima_binary_error(r, l.n, off, n, why);
	free(l.e);
	return r;
}

int
ima_binary_error(int r, size_t index, size_t off, size_t n, const char *why)
{
	if (r == ASSAY_ERR_TRUNCATED)
		return assay_err_set(r, "IMA entry %zu at offset %zu: %s (%zu "
		    "byte(s) left of a partial entry)", index, off, why, n - off);
	return assay_err_set(r, "IMA entry %zu at offset %zu: %s", index, off,
	    why);
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

/* ---- template hash ---- */

int
ima_entry_template_hash(const struct ima_entry *e, uint16_t alg,
    EVP_MD_CTX *ctx, uint8_t *out, size_t *outlen)
{
	static const uint8_t zeros[IMA_OLD_NAME_MAX + 1];
	struct cur v[3];
	int r;

	if (e->tmpl != IMA_TMPL_IMA) {
		v[0] = e->tdata;
		r = ima_hashv(ctx, alg, v, 1, out, outlen);
	} else if (e->digest.len != 20 || e->name.len > IMA_OLD_NAME_MAX) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "IMA template hash: "
		    "\"ima\" entry without a 20-byte digest");
	} else {
		/* digest || name zero-padded to 256 bytes */
		v[0] = e->digest;
		v[1] = e->name;
		cur_init(&v[2], zeros, sizeof(zeros) - e->name.len);
		r = ima_hashv(ctx, alg, v, 3, out, outlen);
	}
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
