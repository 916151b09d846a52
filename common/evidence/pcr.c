/*
 * pcr.c — PCR selections (text form and TPML_PCR_SELECTION wire form), sets
 * of PCR values per bank, the quote's pcrDigest, and the tpm2-tools
 * "serialized" PCR dump (tpm2_quote -o). Pure: no I/O, no globals.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"

#define PCR_MASK_ALL	((1u << TPM2_PCR_COUNT) - 1)

static int
sel_find(const struct pcr_selection *sel, uint16_t hash)
{
	size_t i;

	for (i = 0; i < sel->n; i++)
		if (sel->bank[i].hash == hash)
			return (int)i;
	return -1;
}

/* One decimal PCR index 0..23 at *sp; advances *sp. */
static int
parse_index(const char **sp, unsigned *out)
{
	const char *s = *sp;
	unsigned v = 0;
	int digits = 0;

	while (isdigit((unsigned char)*s) && digits < 3) {
		v = v * 10 + (unsigned)(*s - '0');
		s++;
		digits++;
	}
	if (digits == 0 || isdigit((unsigned char)*s))
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "PCR index expected at \"%.16s\"", *sp);
	if (v >= TPM2_PCR_COUNT)
		return assay_err_set(ASSAY_ERR_RANGE, "PCR index %u > 23", v);
	*out = v;
	*sp = s;
	return ASSAY_OK;
}

/* "sha256:0,1,3-7"; s points at the bank name, ends at '+' or NUL. */
static int
parse_bank(const char **sp, struct pcr_selection *sel)
{
	const struct tpm2_hash *h;
	const char *s = *sp, *colon;
	char name[16];
	uint32_t mask = 0;
	unsigned lo, hi, i;
	int r;

	if ((colon = strchr(s, ':')) == NULL || (size_t)(colon - s) >= sizeof(name))
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "PCR selection \"%.32s\": expected bank:list", s);
	memcpy(name, s, (size_t)(colon - s));
	name[colon - s] = '\0';
	if ((h = tpm2_hash_by_name(name)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "PCR selection: unknown bank \"%s\"", name);
	if (sel_find(sel, h->alg) >= 0)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "PCR selection: bank %s given twice", h->name);
	if (sel->n >= TPM2_MAX_BANKS)
		return assay_err_set(ASSAY_ERR_RANGE, "PCR selection: too many banks");
	s = colon + 1;
	for (;;) {
		if ((r = parse_index(&s, &lo)) != 0)
			return r;
		hi = lo;
		if (*s == '-') {
			s++;
			if ((r = parse_index(&s, &hi)) != 0)
				return r;
			if (hi < lo)
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "PCR selection: range %u-%u reversed", lo, hi);
		}
		for (i = lo; i <= hi; i++)
			mask |= 1u << i;
		if (*s != ',')
			break;
		s++;
	}
	if (*s != '\0' && *s != '+')
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "PCR selection: unexpected \"%.16s\"", s);
	sel->bank[sel->n].hash = h->alg;
	sel->bank[sel->n].mask = mask;
	sel->n++;
	*sp = s;
	return ASSAY_OK;
}

int
pcr_selection_parse(const char *s, struct pcr_selection *out)
{
	struct pcr_selection sel;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&sel, 0, sizeof(sel));
	if (s == NULL || *s == '\0')
		return assay_err_set(ASSAY_ERR_FORMAT, "empty PCR selection");
	for (;;) {
		if ((r = parse_bank(&s, &sel)) != 0)
			return r;
		if (*s == '\0')
			break;
		s++;	/* '+' */
	}
	*out = sel;
	return ASSAY_OK;
}

char *
pcr_selection_format(const struct pcr_selection *sel)
{
	const struct tpm2_hash *h;
	struct buf b;
	char tmp[16];
	size_t i, len;
	unsigned p;
	int first;

	buf_init(&b);
	for (i = 0; i < sel->n; i++) {
		if (i > 0)
			buf_put_u8(&b, '+');
		if ((h = tpm2_hash_by_alg(sel->bank[i].hash)) != NULL)
			buf_put(&b, h->name, strlen(h->name));
		else {
			snprintf(tmp, sizeof(tmp), "0x%04x", sel->bank[i].hash);
			buf_put(&b, tmp, strlen(tmp));
		}
		buf_put_u8(&b, ':');
		first = 1;
		for (p = 0; p < TPM2_PCR_COUNT; p++) {
			if ((sel->bank[i].mask & (1u << p)) == 0)
				continue;
			snprintf(tmp, sizeof(tmp), "%s%u", first ? "" : ",", p);
			buf_put(&b, tmp, strlen(tmp));
			first = 0;
		}
	}
	buf_put_u8(&b, '\0');
	return (char *)buf_steal(&b, &len);
}

int
pcr_selection_unmarshal(struct cur *c, struct pcr_selection *out)
{
	struct pcr_selection sel;
	struct cur save = *c;
	uint32_t count, i;
	uint16_t hash;
	uint8_t size, byte;
	uint32_t mask;
	unsigned j;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&sel, 0, sizeof(sel));
	if ((r = cur_u32be(c, &count)) != 0)
		goto out;
	if (count > TPM2_MAX_BANKS) {
		r = assay_err_set(ASSAY_ERR_RANGE,
		    "TPML_PCR_SELECTION: %u banks", count);
		goto out;
	}
	for (i = 0; i < count; i++) {
		if ((r = cur_u16be(c, &hash)) != 0 || (r = cur_u8(c, &size)) != 0)
			goto out;
		if (size < 3 || size > 4) {
			r = assay_err_set(ASSAY_ERR_FORMAT,
			    "TPMS_PCR_SELECTION: sizeofSelect %u", size);
			goto out;
		}
		mask = 0;
		for (j = 0; j < size; j++) {
			if ((r = cur_u8(c, &byte)) != 0)
				goto out;
			mask |= (uint32_t)byte << (8 * j);
		}
		if ((mask & ~PCR_MASK_ALL) != 0) {
			r = assay_err_set(ASSAY_ERR_RANGE,
			    "TPMS_PCR_SELECTION: PCR above 23 selected");
			goto out;
		}
		if (tpm2_hash_by_alg(hash) == NULL) {
			r = assay_err_set(ASSAY_ERR_UNSUPPORTED,
			    "TPMS_PCR_SELECTION: unknown bank 0x%04x", hash);
			goto out;
		}
		if (sel_find(&sel, hash) >= 0) {
			r = assay_err_set(ASSAY_ERR_FORMAT,
			    "TPMS_PCR_SELECTION: bank 0x%04x twice", hash);
			goto out;
		}
		sel.bank[sel.n].hash = hash;
		sel.bank[sel.n].mask = mask;
		sel.n++;
	}
	*out = sel;
	r = ASSAY_OK;
 out:
	if (r == ASSAY_ERR_TRUNCATED)
		assay_err_set(r, "TPML_PCR_SELECTION truncated");
	if (r != ASSAY_OK)
		*c = save;
	return r;
}

void
pcr_selection_marshal(const struct pcr_selection *sel, struct buf *b)
{
	size_t i;

	buf_put_u32be(b, (uint32_t)sel->n);
	for (i = 0; i < sel->n; i++) {
		buf_put_u16be(b, sel->bank[i].hash);
		buf_put_u8(b, 3);
		buf_put_u8(b, (uint8_t)(sel->bank[i].mask & 0xff));
		buf_put_u8(b, (uint8_t)((sel->bank[i].mask >> 8) & 0xff));
		buf_put_u8(b, (uint8_t)((sel->bank[i].mask >> 16) & 0xff));
	}
}

int
pcr_selection_equal(const struct pcr_selection *a, const struct pcr_selection *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->bank[i].hash != b->bank[i].hash ||
		    a->bank[i].mask != b->bank[i].mask)
			return 0;
	return 1;
}

void
pcr_values_init(struct pcr_values *v)
{
	/*
	 * Empty: no bank. A bank's slots are read only through its present
	 * bits, set when the bank is added (pcr_values_set), so the 12 KiB
	 * of values need no clearing (this runs several times a round).
	 */
	v->nbanks = 0;
}

static int
values_bank(const struct pcr_values *v, uint16_t hash)
{
	size_t i;

	for (i = 0; i < v->nbanks; i++)
		if (v->bank[i].hash == hash)
			return (int)i;
	return -1;
}

int
pcr_values_set(struct pcr_values *v, uint16_t hash, unsigned pcr,
    const uint8_t *d, size_t len)
{
	const struct tpm2_hash *h;
	int i;

	if ((h = tpm2_hash_by_alg(hash)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "unknown PCR bank 0x%04x", hash);
	if (pcr >= TPM2_PCR_COUNT)
		return assay_err_set(ASSAY_ERR_RANGE, "PCR %u > 23", pcr);
	if (len != h->size)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "PCR %s:%u: value of %zu bytes, want %zu", h->name, pcr,
		    len, h->size);
	if ((i = values_bank(v, hash)) < 0) {
		if (v->nbanks >= TPM2_MAX_BANKS)
			return assay_err_set(ASSAY_ERR_RANGE, "too many PCR banks");
		i = (int)v->nbanks++;
		v->bank[i].hash = hash;
		v->bank[i].present = 0;
	}
	memcpy(v->bank[i].value[pcr], d, len);
	v->bank[i].present |= 1u << pcr;
	return ASSAY_OK;
}

const uint8_t *
pcr_values_get(const struct pcr_values *v, uint16_t hash, unsigned pcr)
{
	int i;

	if (pcr >= TPM2_PCR_COUNT || (i = values_bank(v, hash)) < 0)
		return NULL;
	if ((v->bank[i].present & (1u << pcr)) == 0)
		return NULL;
	return v->bank[i].value[pcr];
}

int
pcr_values_digest(const struct pcr_values *v, const struct pcr_selection *sel,
    uint16_t alg, uint8_t *out, size_t *outlen)
{
	const struct tpm2_hash *bh;
	const EVP_MD *md;
	EVP_MD_CTX *ctx = NULL;
	const uint8_t *d;
	unsigned int len = 0;
	size_t i;
	unsigned p;
	int r = ASSAY_ERR_CRYPTO;

	if ((md = tpm2_hash_md(alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "digest algorithm 0x%04x not available", alg);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, md, NULL) != 1) {
		assay_err_set(r, "digest init failed");
		goto out;
	}
	for (i = 0; i < sel->n; i++) {
		if ((bh = tpm2_hash_by_alg(sel->bank[i].hash)) == NULL) {
			r = assay_err_set(ASSAY_ERR_UNSUPPORTED,
			    "unknown PCR bank 0x%04x", sel->bank[i].hash);
			goto out;
		}
		for (p = 0; p < TPM2_PCR_COUNT; p++) {
			if ((sel->bank[i].mask & (1u << p)) == 0)
				continue;
			if ((d = pcr_values_get(v, bh->alg, p)) == NULL) {
				r = assay_err_set(ASSAY_ERR_NOT_FOUND,
				    "no value for PCR %s:%u", bh->name, p);
				goto out;
			}
			if (EVP_DigestUpdate(ctx, d, bh->size) != 1) {
				assay_err_set(r, "digest update failed");
				goto out;
			}
		}
	}
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1) {
		assay_err_set(r, "digest final failed");
		goto out;
	}
	*outlen = len;
	r = ASSAY_OK;
 out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/*
 * tpm2-tools' serialized dump is the in-memory TSS structs, host order
 * (little-endian here): TPML_PCR_SELECTION {u32 count; 16 x {u16 hash,
 * u8 sizeofSelect, u8 pcrSelect[4], 1 pad}}, u32 n, n x TPML_DIGEST
 * {u32 count; 8 x {u16 size, u8 buffer[64]}}.
 */
#define TT_NUM_BANKS		16
#define TT_SEL_SIZE		8
#define TT_DIGESTS_PER_LIST	8
#define TT_DIGEST_SIZE		(2 + 64)
#define TT_MAX_LISTS		((TPM2_PCR_COUNT * TPM2_MAX_BANKS + 7) / 8)

/* The one error for a dump that ends early. */
static int
tt_truncated(void)
{
	return assay_err_set(ASSAY_ERR_TRUNCATED, "PCR dump truncated");
}

/* One used TPMS_PCR_SELECTION slot e, appended to sel. */
static int
tt_sel_entry(struct cur *e, struct pcr_selection *sel)
{
	uint32_t mask, j;
	uint16_t hash;
	uint8_t size, byte;

	if (cur_u16le(e, &hash) != 0 || cur_u8(e, &size) != 0)
		return tt_truncated();
	if (size > 4)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "PCR dump: sizeofSelect %u", size);
	mask = 0;
	for (j = 0; j < 4; j++) {
		if (cur_u8(e, &byte) != 0)
			return tt_truncated();
		if (j < size)
			mask |= (uint32_t)byte << (8 * j);
	}
	if ((mask & ~PCR_MASK_ALL) != 0)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "PCR dump: PCR above 23 selected");
	if (tpm2_hash_by_alg(hash) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "PCR dump: unknown bank 0x%04x", hash);
	if (sel_find(sel, hash) >= 0)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "PCR dump: bank 0x%04x twice", hash);
	sel->bank[sel->n].hash = hash;
	sel->bank[sel->n].mask = mask;
	sel->n++;
	return ASSAY_OK;
}

/* The dump's TPML_PCR_SELECTION (count, then all 16 slots) into sel. */
static int
tt_parse_selection(struct cur *c, struct pcr_selection *sel)
{
	struct cur e;
	uint32_t count, i;
	int r;

	if (cur_u32le(c, &count) != 0)
		return tt_truncated();
	if (count > TPM2_MAX_BANKS)
		return assay_err_set(ASSAY_ERR_RANGE, "PCR dump: %u banks", count);
	for (i = 0; i < TT_NUM_BANKS; i++) {
		if (cur_bytes(c, TT_SEL_SIZE, &e) != 0)
			return tt_truncated();
		if (i >= count)
			continue;
		if ((r = tt_sel_entry(&e, sel)) != 0)
			return r;
	}
	return ASSAY_OK;
}

/* Advance (*bank, *pcr) to the next selected PCR; 0, or -1 past the end. */
static int
tt_next_pcr(const struct pcr_selection *sel, size_t *bank, unsigned *pcr)
{
	while (*bank < sel->n && (*pcr >= TPM2_PCR_COUNT ||
	    (sel->bank[*bank].mask & (1u << *pcr)) == 0)) {
		if (++*pcr >= TPM2_PCR_COUNT) {
			(*bank)++;
			*pcr = 0;
		}
	}
	return *bank < sel->n ? 0 : -1;
}

/* The TPML_DIGEST lists: each digest is the next selected PCR's value. */
static int
tt_parse_digests(struct cur *c, const struct pcr_selection *sel,
    struct pcr_values *vals)
{
	const struct tpm2_hash *h;
	struct cur e, dig;
	uint32_t nlists, ndig, i, j;
	uint16_t dsize;
	size_t bank = 0;
	unsigned pcr = 0;
	int r;

	if (cur_u32le(c, &nlists) != 0)
		return tt_truncated();
	if (nlists > TT_MAX_LISTS)
		return assay_err_set(ASSAY_ERR_RANGE, "PCR dump: %u lists", nlists);
	for (i = 0; i < nlists; i++) {
		if (cur_u32le(c, &ndig) != 0)
			return tt_truncated();
		if (ndig > TT_DIGESTS_PER_LIST)
			return assay_err_set(ASSAY_ERR_RANGE,
			    "PCR dump: %u digests in a list", ndig);
		for (j = 0; j < TT_DIGESTS_PER_LIST; j++) {
			if (cur_bytes(c, TT_DIGEST_SIZE, &e) != 0)
				return tt_truncated();
			if (j >= ndig)
				continue;
			if (cur_u16le(&e, &dsize) != 0)
				return tt_truncated();
			if (dsize > TPM2_MAX_DIGEST)
				return assay_err_set(ASSAY_ERR_RANGE,
				    "PCR dump: digest of %u bytes", dsize);
			if (cur_bytes(&e, dsize, &dig) != 0)
				return tt_truncated();
			if (tt_next_pcr(sel, &bank, &pcr) != 0)
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "PCR dump: more digests than selected PCRs");
			h = tpm2_hash_by_alg(sel->bank[bank].hash);
			if ((r = pcr_values_set(vals, h->alg, pcr, dig.p,
			    dig.len)) != 0)
				return r;
			pcr++;
		}
	}
	return ASSAY_OK;
}

int
pcr_tpm2tools_parse(const uint8_t *p, size_t n, struct pcr_selection *selp,
    struct pcr_values *vals)
{
	struct pcr_selection sel;
	const struct tpm2_hash *h;
	struct cur c;
	uint32_t i, j;
	int r;

	memset(&sel, 0, sizeof(sel));
	pcr_values_init(vals);
	memset(selp, 0, sizeof(*selp));
	cur_init(&c, p, n);
	if ((r = tt_parse_selection(&c, &sel)) != 0 ||
	    (r = tt_parse_digests(&c, &sel, vals)) != 0)
		return r;
	/* every selected PCR must have received its value */
	for (i = 0; i < sel.n; i++) {
		h = tpm2_hash_by_alg(sel.bank[i].hash);
		for (j = 0; j < TPM2_PCR_COUNT; j++)
			if ((sel.bank[i].mask & (1u << j)) != 0 &&
			    pcr_values_get(vals, h->alg, j) == NULL)
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "PCR dump: no value for %s:%u", h->name, j);
	}
	if (cur_end(&c) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "PCR dump: trailing bytes");
	*selp = sel;
	return ASSAY_OK;
}
