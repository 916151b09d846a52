/*
 * doc_bin3.c — the evidence document's binary form 3 (doc.h): tagged
 * sections, no JSON, no base64, no hex on a round's path. The encoder
 * writes the sections in tag order; the parser reads them through one
 * bounds-checked cursor, strictly (tags known, increasing, lengths in
 * range, nothing after the last), copies the few small fields (quote,
 * signature, identity) and leaves the IMA list and event log where they
 * lie in the received buffer, which the document keeps.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/evidence/tpm_public.h"
#include "common/proto/doc.h"
#include "common/proto/doc_int.h"
#include "common/xmalloc.h"

enum {
	SEC_QUOTE_MSG = 1,
	SEC_QUOTE_SIG,
	SEC_PCRS,
	SEC_IMA_META,
	SEC_IMA_LIST,
	SEC_EVENTLOG,
	SEC_ID_PUB,
	SEC_ID_MSG,
	SEC_ID_SIG,
	SEC_LAST = SEC_ID_SIG
};

#define SEC_HDR_LEN	6		/* u16be tag | u32be len */
#define IMA_META_LEN	19		/* u64be from, count | u16be alg | u8 more */
#define PCR_MASK_ALL	((1u << TPM2_PCR_COUNT) - 1)
#define PCR_BANK_HDR	6		/* u16be alg | u32be mask */
#define PCRS_MAX	(TPM2_MAX_BANKS * (PCR_BANK_HDR + \
			 TPM2_PCR_COUNT * TPM2_MAX_DIGEST))
#define COUNT_MAX	((uint64_t)INT64_MAX)	/* what JSON's integers hold */

static const struct {
	const char	*name;
	size_t		 max;
} sections[SEC_LAST + 1] = {
	[SEC_QUOTE_MSG]	= { "quote message", ATTEST_MAX_SIZE },
	[SEC_QUOTE_SIG]	= { "quote signature", SIGNATURE_MAX_SIZE },
	[SEC_PCRS]	= { "PCR values", PCRS_MAX },
	[SEC_IMA_META]	= { "IMA meta", IMA_META_LEN },
	[SEC_IMA_LIST]	= { "IMA list", DOC_IMA_MAX },
	[SEC_EVENTLOG]	= { "event log", DOC_EVENTLOG_MAX },
	[SEC_ID_PUB]	= { "identity public", TPM_PUBLIC_MAX_SIZE },
	[SEC_ID_MSG]	= { "identity message", ATTEST_MAX_SIZE },
	[SEC_ID_SIG]	= { "identity signature", SIGNATURE_MAX_SIZE },
};

static size_t
popcount24(uint32_t m)
{
	size_t n = 0;

	for (m &= PCR_MASK_ALL; m != 0; m &= m - 1)
		n++;
	return n;
}

/* The PCR section's length: banks with a known hash and values only. */
static size_t
pcrs_len(const struct pcr_values *v)
{
	size_t n = 0;

	for (size_t k = 0; k < v->nbanks; k++) {
		const struct tpm2_hash *h = tpm2_hash_by_alg(v->bank[k].hash);
		uint32_t m = v->bank[k].present & PCR_MASK_ALL;

		if (h != NULL && m != 0)
			n += PCR_BANK_HDR + popcount24(m) * h->size;
	}
	return n;
}

static void
put_sec(struct buf *b, unsigned tag, const void *p, size_t n)
{
	buf_put_u16be(b, (uint16_t)tag);
	buf_put_u32be(b, (uint32_t)n);
	buf_put(b, p, n);
}

static void
put_pcrs(struct buf *b, const struct pcr_values *v)
{
	buf_put_u16be(b, SEC_PCRS);
	buf_put_u32be(b, (uint32_t)pcrs_len(v));
	for (size_t k = 0; k < v->nbanks; k++) {
		const struct tpm2_hash *h = tpm2_hash_by_alg(v->bank[k].hash);
		uint32_t m = v->bank[k].present & PCR_MASK_ALL;

		if (h == NULL || m == 0)
			continue;
		buf_put_u16be(b, v->bank[k].hash);
		buf_put_u32be(b, m);
		for (unsigned i = 0; i < TPM2_PCR_COUNT; i++)
			if (m & (1u << i))
				buf_put(b, v->bank[k].value[i], h->size);
	}
}

static int
len_ok(size_t n, unsigned tag)
{
	return n > 0 && n <= sections[tag].max;
}

/* Whether form 3 can say d (the parser's rules, from the sender's side). */
static int
encodable(const struct evidence_doc *d)
{
	if (!len_ok(d->attest_len, SEC_QUOTE_MSG) ||
	    !len_ok(d->sig_len, SEC_QUOTE_SIG) ||
	    (d->has_ima && (d->ima_len > DOC_IMA_MAX ||
	    d->ima_from > COUNT_MAX || d->ima_count > COUNT_MAX)) ||
	    (d->eventlog != NULL && d->eventlog_len > DOC_EVENTLOG_MAX))
		return 0;
	return d->id_pub == NULL || (len_ok(d->id_pub_len, SEC_ID_PUB) &&
	    len_ok(d->id_attest_len, SEC_ID_MSG) &&
	    len_ok(d->id_sig_len, SEC_ID_SIG));
}

int
evidence_doc_encode_bin3(const struct evidence_doc *d, uint8_t **out,
    size_t *len)
{
	size_t il = d->has_ima ? d->ima_len : 0;
	size_t el = d->eventlog != NULL ? d->eventlog_len : 0;
	uint16_t thash;
	struct buf b;

	*out = NULL;
	*len = 0;
	if (!encodable(d))
		return assay_err_set(ASSAY_ERR_INVAL, "evidence: cannot encode");
	buf_init(&b);
	buf_reserve(&b, DOC_BIN_MAGIC_LEN + SEC_LAST * SEC_HDR_LEN +
	    d->attest_len + d->sig_len + pcrs_len(&d->pcrs) + IMA_META_LEN +
	    il + el + (d->id_pub != NULL ? d->id_pub_len + d->id_attest_len +
	    d->id_sig_len : 0));
	buf_put(&b, DOC_BIN3_MAGIC, DOC_BIN_MAGIC_LEN);
	put_sec(&b, SEC_QUOTE_MSG, d->attest, d->attest_len);
	put_sec(&b, SEC_QUOTE_SIG, d->sig, d->sig_len);
	put_pcrs(&b, &d->pcrs);
	if (d->has_ima) {
		/* As the JSON form names it: an unknown alg goes as sha1. */
		thash = tpm2_hash_by_alg(d->ima_thash_alg) != NULL ?
		    d->ima_thash_alg : TPM2_ALG_SHA1;
		buf_put_u16be(&b, SEC_IMA_META);
		buf_put_u32be(&b, IMA_META_LEN);
		buf_put_u64be(&b, d->ima_from);
		buf_put_u64be(&b, d->ima_count);
		buf_put_u16be(&b, thash);
		buf_put_u8(&b, d->ima_more != 0);
		if (il > 0)
			put_sec(&b, SEC_IMA_LIST, d->ima, il);
	}
	if (el > 0)
		put_sec(&b, SEC_EVENTLOG, d->eventlog, el);
	if (d->id_pub != NULL) {
		put_sec(&b, SEC_ID_PUB, d->id_pub, d->id_pub_len);
		put_sec(&b, SEC_ID_MSG, d->id_attest, d->id_attest_len);
		put_sec(&b, SEC_ID_SIG, d->id_sig, d->id_sig_len);
	}
	*out = buf_steal(&b, len);
	return ASSAY_OK;
}

/* The sections after the magic by tag (p NULL: absent). */
static int
sections_read(struct cur *c, struct cur sec[SEC_LAST + 1])
{
	unsigned last = 0;
	uint16_t tag;
	uint32_t n;

	while (cur_left(c) > 0) {
		if (cur_u16be(c, &tag) != 0 || cur_u32be(c, &n) != 0)
			return assay_err_set(ASSAY_ERR_FORMAT, "evidence: "
			    "truncated section header after %s", last == 0 ?
			    "the magic" : sections[last].name);
		if (tag == 0 || tag > SEC_LAST)
			return assay_err_set(ASSAY_ERR_FORMAT, "evidence: "
			    "unknown section %u", tag);
		if (tag <= last)
			return assay_err_set(ASSAY_ERR_FORMAT, "evidence: %s "
			    "section %s", sections[tag].name, tag == last ?
			    "repeated" : "out of order");
		if (n > sections[tag].max || (n == 0 && tag != SEC_PCRS))
			return assay_err_set(ASSAY_ERR_FORMAT, "evidence: %s of "
			    "%u bytes (%d to %zu)", sections[tag].name, n,
			    tag != SEC_PCRS, sections[tag].max);
		if (cur_bytes(c, n, &sec[tag]) != 0)
			return assay_err_set(ASSAY_ERR_FORMAT, "evidence: %s "
			    "truncated", sections[tag].name);
		last = tag;
	}
	return ASSAY_OK;
}

/* One bank of the PCR section into out. */
static int
pcr_bank_parse(struct cur *c, struct pcr_values *out)
{
	const struct tpm2_hash *h;
	const uint8_t *p;
	uint16_t alg;
	uint32_t mask;
	size_t need;

	if (cur_u16be(c, &alg) != 0 || cur_u32be(c, &mask) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: PCR values: "
		    "truncated bank header");
	if ((h = tpm2_hash_by_alg(alg)) == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: PCR values: "
		    "unknown bank 0x%04x", alg);
	if (mask == 0 || (mask & ~PCR_MASK_ALL) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: PCR values: "
		    "%s mask 0x%08x (PCRs 0..23, at least one)", h->name, mask);
	for (size_t k = 0; k < out->nbanks; k++)
		if (out->bank[k].hash == alg)
			return assay_err_set(ASSAY_ERR_FORMAT, "evidence: PCR "
			    "values: bank %s twice", h->name);
	if (out->nbanks >= TPM2_MAX_BANKS)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: PCR values: "
		    "more than %d banks", TPM2_MAX_BANKS);
	need = popcount24(mask) * h->size;
	if (cur_take(c, need, &p) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: PCR values: %s "
		    "needs %zu bytes of values, %zu left", h->name, need,
		    cur_left(c));
	for (unsigned i = 0; i < TPM2_PCR_COUNT; i++)
		if (mask & (1u << i)) {
			(void)pcr_values_set(out, alg, i, p, h->size);
			p += h->size;
		}
	return ASSAY_OK;
}

static int
pcrs_parse(struct cur c, struct pcr_values *out)
{
	int r;

	while (cur_left(&c) > 0)
		if ((r = pcr_bank_parse(&c, out)) != 0)
			return r;
	return ASSAY_OK;
}

static int
ima_meta_parse(struct cur c, struct evidence_doc *d)
{
	uint8_t more = 0;

	if (c.len != IMA_META_LEN)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: IMA meta of %zu "
		    "bytes (%d)", c.len, IMA_META_LEN);
	(void)cur_u64be(&c, &d->ima_from);
	(void)cur_u64be(&c, &d->ima_count);
	(void)cur_u16be(&c, &d->ima_thash_alg);
	(void)cur_u8(&c, &more);
	if (d->ima_from > COUNT_MAX || d->ima_count > COUNT_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: IMA meta: "
		    "from or count over 2^63-1");
	if (tpm2_hash_by_alg(d->ima_thash_alg) == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: IMA meta: "
		    "template hash 0x%04x not a known hash", d->ima_thash_alg);
	if (more > 1)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: IMA meta: "
		    "more is %u, not 0 or 1", more);
	d->has_ima = 1;
	d->ima_more = more;
	return ASSAY_OK;
}

/* Which sections must, may not, or must together be there. */
static int
sections_check(const struct cur sec[SEC_LAST + 1])
{
	int nid = (sec[SEC_ID_PUB].p != NULL) + (sec[SEC_ID_MSG].p != NULL) +
	    (sec[SEC_ID_SIG].p != NULL);

	for (unsigned t = SEC_QUOTE_MSG; t <= SEC_PCRS; t++)
		if (sec[t].p == NULL)
			return assay_err_set(ASSAY_ERR_FORMAT, "evidence: no %s "
			    "section", sections[t].name);
	if (sec[SEC_IMA_LIST].p != NULL && sec[SEC_IMA_META].p == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: an IMA list "
		    "without its IMA meta");
	if (nid != 0 && nid != 3)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: identity "
		    "sections: all three (public, message, signature) or none");
	return ASSAY_OK;
}

static uint8_t *
dup_sec(const struct cur *s, size_t *len)
{
	*len = s->len;
	return xmemdup(s->p, s->len);
}

int
doc_parse_bin3(uint8_t *body, size_t len, struct evidence_doc *out)
{
	struct cur c, sec[SEC_LAST + 1];
	int r;

	/* Filled in place (no copy of the 12 KiB of PCR values); emptied
	 * again on error. */
	evidence_doc_init(out);
	memset(sec, 0, sizeof(sec));
	cur_init(&c, body, len);
	(void)cur_skip(&c, DOC_BIN_MAGIC_LEN);
	if ((r = sections_read(&c, sec)) != 0 ||
	    (r = sections_check(sec)) != 0 ||
	    (r = pcrs_parse(sec[SEC_PCRS], &out->pcrs)) != 0 ||
	    (sec[SEC_IMA_META].p != NULL &&
	    (r = ima_meta_parse(sec[SEC_IMA_META], out)) != 0)) {
		evidence_doc_free(out);
		return r;
	}
	out->attest = dup_sec(&sec[SEC_QUOTE_MSG], &out->attest_len);
	out->sig = dup_sec(&sec[SEC_QUOTE_SIG], &out->sig_len);
	if (sec[SEC_ID_PUB].p != NULL) {
		out->id_pub = dup_sec(&sec[SEC_ID_PUB], &out->id_pub_len);
		out->id_attest = dup_sec(&sec[SEC_ID_MSG], &out->id_attest_len);
		out->id_sig = dup_sec(&sec[SEC_ID_SIG], &out->id_sig_len);
	}
	/* body outlives the document: the list and the log point into it. */
	out->backing = body;
	if (out->has_ima) {
		/* An empty page points at the body, as in form 2. */
		out->ima = sec[SEC_IMA_LIST].p != NULL ?
		    body + (sec[SEC_IMA_LIST].p - body) : body;
		out->ima_len = sec[SEC_IMA_LIST].len;
	}
	if (sec[SEC_EVENTLOG].p != NULL) {
		out->eventlog = body + (sec[SEC_EVENTLOG].p - body);
		out->eventlog_len = sec[SEC_EVENTLOG].len;
	}
	return ASSAY_OK;
}
