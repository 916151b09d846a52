/*
 * test_doc_bin3.c — the evidence document's binary form 3 (doc.h,
 * doc_bin3.c): round trips of every combination of optional sections,
 * and the same struct from form 3 as from JSON and form 2; the IMA list
 * and event log left in the received buffer; every truncation, and each
 * malformation (lengths, tags out of order, repeated or unknown, trailing
 * bytes, PCR masks and sizes, IMA meta, partial identity) refused as
 * ASSAY_ERR_FORMAT naming its section; the format= / format_max= request
 * parameters (quote_req.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/proto/doc.h"
#include "common/proto/quote_req.h"
#include "common/xmalloc.h"

static uint8_t *
pattern(size_t n, unsigned seed)
{
	uint8_t *p = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
	return p;
}

enum { W_IMA = 1, W_LIST = 2, W_EL = 4, W_ID = 8, W_PCR1 = 16, W_PCR2 = 32,
	W_ALL = 63 };

/* A document with the parts in what (W_*). */
static void
doc_make(struct evidence_doc *d, unsigned what)
{
	uint8_t dg[64];

	evidence_doc_init(d);
	d->attest_len = 129;
	d->attest = pattern(d->attest_len, 1);
	d->sig_len = 262;
	d->sig = pattern(d->sig_len, 2);
	for (unsigned i = 0; i < 24; i += 3) {
		memset(dg, (int)(0x10 + i), sizeof(dg));
		if (what & W_PCR1)
			ck_assert_int_eq(pcr_values_set(&d->pcrs,
			    TPM2_ALG_SHA256, i, dg, 32), 0);
		if ((what & W_PCR2) && i % 2 == 0)
			ck_assert_int_eq(pcr_values_set(&d->pcrs,
			    TPM2_ALG_SHA1, i + 1, dg, 20), 0);
	}
	if (what & (W_IMA | W_LIST)) {
		d->has_ima = 1;
		d->ima_from = 1234567890123ull;
		d->ima_count = (what & W_LIST) ? 41 : 0;
		d->ima_more = (what & W_EL) != 0;
		d->ima_thash_alg = (what & W_ID) ? TPM2_ALG_SHA256 : TPM2_ALG_SHA1;
		if (what & W_LIST) {
			d->ima_len = 70001;
			d->ima = pattern(d->ima_len, 3);
		}
	}
	if (what & W_EL) {
		d->eventlog_len = 4097;
		d->eventlog = pattern(d->eventlog_len, 4);
	}
	if (what & W_ID) {
		d->id_pub_len = 90;
		d->id_pub = pattern(d->id_pub_len, 5);
		d->id_attest_len = 140;
		d->id_attest = pattern(d->id_attest_len, 6);
		d->id_sig_len = 70;
		d->id_sig = pattern(d->id_sig_len, 7);
	}
}

static void
same_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	ck_assert_uint_eq(an, bn);
	if (an > 0)
		ck_assert_mem_eq(a, b, an);
}

/* a and b say the same (whatever buffer holds them). */
static void
same(const struct evidence_doc *a, const struct evidence_doc *b)
{
	same_bytes(a->attest, a->attest_len, b->attest, b->attest_len);
	same_bytes(a->sig, a->sig_len, b->sig, b->sig_len);
	ck_assert_uint_eq(a->pcrs.nbanks, b->pcrs.nbanks);
	for (size_t k = 0; k < a->pcrs.nbanks; k++) {
		ck_assert_uint_eq(a->pcrs.bank[k].hash, b->pcrs.bank[k].hash);
		ck_assert_uint_eq(a->pcrs.bank[k].present,
		    b->pcrs.bank[k].present);
		for (unsigned i = 0; i < 24; i++)
			if (a->pcrs.bank[k].present & (1u << i))
				ck_assert_mem_eq(a->pcrs.bank[k].value[i],
				    b->pcrs.bank[k].value[i],
				    tpm2_hash_by_alg(a->pcrs.bank[k].hash)->size);
	}
	ck_assert_int_eq(a->has_ima, b->has_ima);
	ck_assert_uint_eq(a->ima_from, b->ima_from);
	ck_assert_uint_eq(a->ima_count, b->ima_count);
	ck_assert_int_eq(a->ima_more, b->ima_more);
	if (a->has_ima)
		ck_assert_uint_eq(a->ima_thash_alg, b->ima_thash_alg);
	same_bytes(a->ima, a->ima_len, b->ima, b->ima_len);
	ck_assert_int_eq(a->eventlog == NULL, b->eventlog == NULL);
	same_bytes(a->eventlog, a->eventlog_len, b->eventlog, b->eventlog_len);
	ck_assert_int_eq(a->id_pub == NULL, b->id_pub == NULL);
	same_bytes(a->id_pub, a->id_pub_len, b->id_pub, b->id_pub_len);
	same_bytes(a->id_attest, a->id_attest_len, b->id_attest,
	    b->id_attest_len);
	same_bytes(a->id_sig, a->id_sig_len, b->id_sig, b->id_sig_len);
}

/* d in form, parsed back into o. */
static void
through(const struct evidence_doc *d, int form, struct evidence_doc *o)
{
	const char *ctype;
	uint8_t *b;
	size_t n;

	ck_assert_int_eq(evidence_doc_encode(d, form, &b, &n, &ctype), 0);
	ck_assert_int_eq(evidence_doc_form(b, n), form);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, o), 0);
	if (form == DOC_FORM_V3) {
		ck_assert_str_eq(ctype, DOC_BIN_CTYPE);
		ck_assert_mem_eq(b, DOC_BIN3_MAGIC, DOC_BIN_MAGIC_LEN);
		/* The list and the log lie in the received buffer. */
		ck_assert_ptr_eq(o->backing, b);
		if (o->ima_len > 0)
			ck_assert(o->ima > b && o->ima + o->ima_len <= b + n);
		if (o->eventlog != NULL)
			ck_assert(o->eventlog > b &&
			    o->eventlog + o->eventlog_len <= b + n);
	}
}

/* Every combination, and the same struct as the JSON and form 2 give. */
START_TEST(round_trip)
{
	for (unsigned what = 0; what <= W_ALL; what++) {
		struct evidence_doc d, o3, oj, o2;

		doc_make(&d, what);
		through(&d, DOC_FORM_V3, &o3);
		same(&d, &o3);
		through(&d, DOC_FORM_JSON, &oj);
		same(&oj, &o3);
		through(&d, DOC_FORM_V2, &o2);
		same(&o2, &o3);
		evidence_doc_free(&o3);
		evidence_doc_free(&oj);
		evidence_doc_free(&o2);
		evidence_doc_free(&d);
	}
}
END_TEST

/* What form 3 cannot say is not encoded. */
START_TEST(unencodable)
{
	struct evidence_doc d;
	uint8_t *b;
	size_t n;

	doc_make(&d, W_IMA);
	d.ima_count = (uint64_t)INT64_MAX + 1;
	ck_assert_int_eq(evidence_doc_encode_bin3(&d, &b, &n), ASSAY_ERR_INVAL);
	ck_assert_ptr_null(b);
	evidence_doc_free(&d);
	doc_make(&d, 0);
	d.sig_len = 0;
	ck_assert_int_eq(evidence_doc_encode_bin3(&d, &b, &n), ASSAY_ERR_INVAL);
	evidence_doc_free(&d);
}
END_TEST

static int
parse_copy(const uint8_t *p, size_t n, struct evidence_doc *o)
{
	return evidence_doc_parse_take(xmemdup(p, n ? n : 1), n, o);
}

static size_t
sec_at(const uint8_t *b, size_t off)
{
	return off + 6 + ((size_t)b[off + 2] << 24 | (size_t)b[off + 3] << 16 |
	    (size_t)b[off + 4] << 8 | b[off + 5]);
}

/*
 * Every prefix is refused but those ending on a section boundary after
 * the PCR section (a document without the later, optional sections) but
 * inside the identity's three.
 */
START_TEST(truncations)
{
	struct evidence_doc d, o;
	size_t n, off, bound[16], nb = 0;
	uint8_t *b;

	doc_make(&d, W_ALL);
	d.ima_len = 300;		/* keep the loop short */
	d.eventlog_len = 200;
	ck_assert_int_eq(evidence_doc_encode_bin3(&d, &b, &n), 0);
	for (off = DOC_BIN_MAGIC_LEN; off < n; off = sec_at(b, off))
		/* after the PCRs, the IMA meta, list, event log, identity */
		if (b[off + 1] >= 3 && b[off + 1] != 7 && b[off + 1] != 8)
			bound[nb++] = sec_at(b, off);
	ck_assert_uint_eq(bound[nb - 1], n);
	ck_assert_uint_eq(nb, 5);
	for (size_t k = 0; k < n; k++) {
		int ok = 0;

		for (size_t i = 0; i < nb; i++)
			ok |= bound[i] == k;
		ck_assert_int_eq(parse_copy(b, k, &o), ok ? 0 : ASSAY_ERR_FORMAT);
		if (!ok) {
			ck_assert_ptr_null(o.attest);
			ck_assert_ptr_null(o.backing);
		}
		evidence_doc_free(&o);
	}
	/* Trailing bytes: a section header cut short, or tag 0. */
	b = xreallocarray(b, 1, n + 6);
	memset(b + n, 0, 6);
	for (size_t k = 1; k < 6; k++) {
		ck_assert_int_eq(parse_copy(b, n + k, &o), ASSAY_ERR_FORMAT);
		ck_assert_ptr_nonnull(strstr(assay_err_detail(),
		    "truncated section header after identity signature"));
	}
	ck_assert_int_eq(parse_copy(b, n + 6, &o), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "unknown section 0"));
	free(b);
	evidence_doc_free(&d);
}
END_TEST

/* A hand-made form 3 document. */
static void
sec(struct buf *b, unsigned tag, const void *p, size_t n)
{
	buf_put_u16be(b, (uint16_t)tag);
	buf_put_u32be(b, (uint32_t)n);
	buf_put(b, p, n);
}

static void
head(struct buf *b)
{
	static const uint8_t q[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	buf_init(b);
	buf_put(b, DOC_BIN3_MAGIC, DOC_BIN_MAGIC_LEN);
	sec(b, 1, q, sizeof(q));
	sec(b, 2, q, 4);
}

/* b's document refused, with detail containing what. */
static void
refused(struct buf *b, const char *what)
{
	struct evidence_doc o;
	size_t n;
	uint8_t *p = buf_steal(b, &n);
	int r = evidence_doc_parse_take(p, n, &o);

	ck_assert_msg(r == ASSAY_ERR_FORMAT, "accepted, want '%s'", what);
	ck_assert_msg(strstr(assay_err_detail(), what) != NULL,
	    "detail '%s', want '%s'", assay_err_detail(), what);
	ck_assert_ptr_null(o.attest);
}

static void
accepted(struct buf *b, struct evidence_doc *o)
{
	size_t n;
	uint8_t *p = buf_steal(b, &n);

	ck_assert_msg(evidence_doc_parse_take(p, n, o) == 0, "refused: %s",
	    assay_err_detail());
}

/* One PCR bank: alg, mask, then n bytes of values. */
static void
bank(struct buf *b, uint16_t alg, uint32_t mask, size_t n)
{
	uint8_t v[24 * 64];

	memset(v, 0xab, sizeof(v));
	buf_put_u16be(b, alg);
	buf_put_u32be(b, mask);
	buf_put(b, v, n);
}

static void
pcr_sec(struct buf *b, uint16_t alg, uint32_t mask, size_t n)
{
	struct buf s;

	buf_init(&s);
	bank(&s, alg, mask, n);
	sec(b, 3, s.d, s.len);
	buf_free(&s);
}

START_TEST(tags)
{
	struct evidence_doc o;
	struct buf b;

	head(&b);
	sec(&b, 3, NULL, 0);
	accepted(&b, &o);		/* the least: quote and no PCR values */
	ck_assert_uint_eq(o.pcrs.nbanks, 0);
	ck_assert_int_eq(o.has_ima, 0);
	evidence_doc_free(&o);
	head(&b);
	sec(&b, 3, NULL, 0);
	sec(&b, 3, NULL, 0);
	refused(&b, "PCR values section repeated");
	head(&b);
	sec(&b, 3, NULL, 0);
	sec(&b, 6, "x", 1);
	sec(&b, 5, "x", 1);
	refused(&b, "IMA list section out of order");
	head(&b);
	sec(&b, 3, NULL, 0);
	sec(&b, 10, "x", 1);
	refused(&b, "unknown section 10");
	head(&b);
	sec(&b, 0xffff, "x", 1);
	refused(&b, "unknown section 65535");
	head(&b);
	refused(&b, "no PCR values section");
	buf_init(&b);
	buf_put(&b, DOC_BIN3_MAGIC, DOC_BIN_MAGIC_LEN);
	refused(&b, "no quote message section");
	buf_init(&b);
	buf_put(&b, DOC_BIN3_MAGIC, DOC_BIN_MAGIC_LEN);
	sec(&b, 1, "m", 1);
	sec(&b, 3, NULL, 0);
	refused(&b, "no quote signature section");
}
END_TEST

START_TEST(lengths)
{
	uint8_t *big = pattern(ATTEST_MAX_SIZE + 1, 9);
	struct buf b;

	buf_init(&b);
	buf_put(&b, DOC_BIN3_MAGIC, DOC_BIN_MAGIC_LEN);
	sec(&b, 1, big, ATTEST_MAX_SIZE + 1);
	refused(&b, "quote message of 2049 bytes (1 to 2048)");
	buf_init(&b);
	buf_put(&b, DOC_BIN3_MAGIC, DOC_BIN_MAGIC_LEN);
	sec(&b, 1, NULL, 0);
	refused(&b, "quote message of 0 bytes");
	/* a length past the end, and over the limits without the bytes */
	head(&b);
	buf_put_u16be(&b, 3);
	buf_put_u32be(&b, 100);
	refused(&b, "PCR values truncated");
	head(&b);
	sec(&b, 3, NULL, 0);
	buf_put_u16be(&b, 5);
	buf_put_u32be(&b, DOC_IMA_MAX + 1);
	refused(&b, "IMA list of 41943041 bytes");
	head(&b);
	sec(&b, 3, NULL, 0);
	buf_put_u16be(&b, 6);
	buf_put_u32be(&b, 0xffffffffu);
	refused(&b, "event log of 4294967295 bytes");
	head(&b);
	sec(&b, 3, NULL, 0);
	sec(&b, 6, NULL, 0);
	refused(&b, "event log of 0 bytes");
	free(big);
}
END_TEST

START_TEST(pcr_values)
{
	struct evidence_doc o;
	struct buf b, s;

	head(&b);
	pcr_sec(&b, TPM2_ALG_SHA256, 0x000401, 64);
	accepted(&b, &o);
	ck_assert_ptr_nonnull(pcr_values_get(&o.pcrs, TPM2_ALG_SHA256, 10));
	ck_assert_ptr_null(pcr_values_get(&o.pcrs, TPM2_ALG_SHA256, 1));
	evidence_doc_free(&o);
	head(&b);
	pcr_sec(&b, TPM2_ALG_SHA256, 0x000401, 63);
	refused(&b, "sha256 needs 64 bytes of values, 63 left");
	head(&b);
	pcr_sec(&b, TPM2_ALG_SHA256, 0x000401, 65);
	refused(&b, "truncated bank header");
	head(&b);
	pcr_sec(&b, TPM2_ALG_SHA256, 0, 0);
	refused(&b, "sha256 mask 0x00000000");
	head(&b);
	pcr_sec(&b, TPM2_ALG_SHA256, 0x1000000, 32);
	refused(&b, "sha256 mask 0x01000000");
	head(&b);
	pcr_sec(&b, 0x0042, 1, 32);
	refused(&b, "unknown bank 0x0042");
	head(&b);
	buf_init(&s);
	bank(&s, TPM2_ALG_SHA1, 1, 20);
	bank(&s, TPM2_ALG_SHA256, 1, 32);
	bank(&s, TPM2_ALG_SHA1, 2, 20);
	sec(&b, 3, s.d, s.len);
	buf_free(&s);
	refused(&b, "bank sha1 twice");
}
END_TEST

static void
meta(struct buf *b, uint64_t from, uint16_t alg, uint8_t more, size_t len)
{
	struct buf s;

	buf_init(&s);
	buf_put_u64be(&s, from);
	buf_put_u64be(&s, 3);
	buf_put_u16be(&s, alg);
	buf_put_u8(&s, more);
	buf_put(&s, "\0\0", 2);
	sec(b, 4, s.d, len);
	buf_free(&s);
}

START_TEST(ima_and_identity)
{
	struct evidence_doc o;
	struct buf b;

	head(&b);
	sec(&b, 3, NULL, 0);
	meta(&b, 5, TPM2_ALG_SHA256, 1, 19);
	accepted(&b, &o);		/* an empty page */
	ck_assert_int_eq(o.has_ima, 1);
	ck_assert_uint_eq(o.ima_from, 5);
	ck_assert_uint_eq(o.ima_count, 3);
	ck_assert_int_eq(o.ima_more, 1);
	ck_assert_uint_eq(o.ima_thash_alg, TPM2_ALG_SHA256);
	ck_assert_uint_eq(o.ima_len, 0);
	evidence_doc_free(&o);
	head(&b);
	sec(&b, 3, NULL, 0);
	sec(&b, 5, "list", 4);
	refused(&b, "IMA list without its IMA meta");
	head(&b);
	sec(&b, 3, NULL, 0);
	meta(&b, 5, TPM2_ALG_SHA256, 1, 18);
	refused(&b, "IMA meta of 18 bytes (19)");
	head(&b);
	sec(&b, 3, NULL, 0);
	meta(&b, 5, TPM2_ALG_SHA256, 1, 20);
	refused(&b, "IMA meta of 20 bytes (1 to 19)");
	head(&b);
	sec(&b, 3, NULL, 0);
	meta(&b, 5, TPM2_ALG_SHA256, 2, 19);
	refused(&b, "more is 2");
	head(&b);
	sec(&b, 3, NULL, 0);
	meta(&b, 5, 0x0001, 0, 19);
	refused(&b, "template hash 0x0001");
	head(&b);
	sec(&b, 3, NULL, 0);
	meta(&b, (uint64_t)INT64_MAX + 1, TPM2_ALG_SHA1, 0, 19);
	refused(&b, "over 2^63-1");
	head(&b);
	sec(&b, 3, NULL, 0);
	sec(&b, 7, "pub", 3);
	sec(&b, 9, "sig", 3);
	refused(&b, "identity sections: all three");
	head(&b);
	sec(&b, 3, NULL, 0);
	sec(&b, 8, "msg", 3);
	refused(&b, "identity sections: all three");
}
END_TEST

static const char *
qget(void *ctx, const char *key)
{
	const char *const *kv = ctx;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], key) == 0)
			return kv[1];
	return NULL;
}

/* format_max: the newest form up to it; format=3 alone; bad values. */
START_TEST(request_format)
{
	static const struct {
		const char *format, *max;
		int want;
	} c[] = {
		{ "2", "3", DOC_FORM_V3 }, { "3", NULL, DOC_FORM_V3 },
		{ "2", "9", DOC_FORM_V3 }, { NULL, "2", DOC_FORM_V2 },
		{ "2", "1", DOC_FORM_V2 }, { NULL, NULL, DOC_FORM_JSON },
		{ "1", NULL, DOC_FORM_JSON }, { "4", NULL, -1 }, { "0", NULL, -1 },
		{ "23", NULL, -1 }, { "2", "0", -1 }, { "2", "x", -1 },
	};
	struct quote_req q, p;
	char *path;

	memset(&q, 0, sizeof(q));
	q.nonce_len = 16;
	ck_assert_int_eq(pcr_selection_parse("sha256:0,1", &q.sel), 0);
	q.format = DOC_FORM_V3;
	path = quote_req_format(&q);
	ck_assert_ptr_nonnull(strstr(path, "&format=2&format_max=3"));
	free(path);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *kv[10] = { "nonce", "00112233445566778899aabbccddeeff",
		    "pcrs", "sha256:0,1" };
		size_t k = 4;

		if (c[i].format != NULL) {
			kv[k++] = "format";
			kv[k++] = c[i].format;
		}
		if (c[i].max != NULL) {
			kv[k++] = "format_max";
			kv[k++] = c[i].max;
		}
		if (c[i].want < 0)
			ck_assert_int_eq(quote_req_parse(qget, kv, &p),
			    ASSAY_ERR_INVAL);
		else {
			ck_assert_int_eq(quote_req_parse(qget, kv, &p), 0);
			ck_assert_int_eq(p.format, c[i].want);
		}
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("doc_bin3");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, unencodable);
	tcase_add_test(tc, truncations);
	tcase_add_test(tc, tags);
	tcase_add_test(tc, lengths);
	tcase_add_test(tc, pcr_values);
	tcase_add_test(tc, ima_and_identity);
	tcase_add_test(tc, request_format);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
