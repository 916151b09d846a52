/*
 * test_doc_bin.c — the evidence document's binary form (format=2): round
 * trips with and without the IMA list, event log and identity; the parser
 * keeps the buffer (no copy) and still reads JSON answers of older agents;
 * every truncation, oversize length, trailing byte and misplaced member is
 * ASSAY_ERR_FORMAT with nothing returned; format=2 in the request.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/proto/doc.h"
#include "common/proto/quote_req.h"
#include "common/xmalloc.h"

static uint8_t *
pattern(size_t n, unsigned seed)
{
	uint8_t *p = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
	return p;
}

static void
doc_make(struct evidence_doc *d, int ima, int el)
{
	uint8_t dg[32];

	evidence_doc_init(d);
	d->attest_len = 120;
	d->attest = pattern(d->attest_len, 1);
	d->sig_len = 72;
	d->sig = pattern(d->sig_len, 2);
	memset(dg, 0x5a, sizeof(dg));
	ck_assert_int_eq(pcr_values_set(&d->pcrs, TPM2_ALG_SHA256, 10, dg, 32), 0);
	if (ima) {
		d->has_ima = 1;
		d->ima_from = 77;
		d->ima_count = 5;
		d->ima_more = 1;
		d->ima_thash_alg = TPM2_ALG_SHA256;
		d->ima_len = 100000;
		d->ima = pattern(d->ima_len, 3);
	}
	if (el) {
		d->eventlog_len = 3000;
		d->eventlog = pattern(d->eventlog_len, 4);
	}
	d->id_pub_len = 90;
	d->id_pub = pattern(d->id_pub_len, 5);
	d->id_attest_len = 140;
	d->id_attest = pattern(d->id_attest_len, 6);
	d->id_sig_len = 70;
	d->id_sig = pattern(d->id_sig_len, 7);
}

static void
same(const struct evidence_doc *a, const struct evidence_doc *b)
{
	ck_assert_uint_eq(a->attest_len, b->attest_len);
	ck_assert_mem_eq(a->attest, b->attest, a->attest_len);
	ck_assert_mem_eq(a->sig, b->sig, a->sig_len);
	ck_assert_int_eq(a->has_ima, b->has_ima);
	ck_assert_uint_eq(a->ima_len, b->ima_len);
	if (a->ima_len > 0)
		ck_assert_mem_eq(a->ima, b->ima, a->ima_len);
	ck_assert_uint_eq(a->ima_from, b->ima_from);
	ck_assert_uint_eq(a->ima_count, b->ima_count);
	ck_assert_int_eq(a->ima_more, b->ima_more);
	ck_assert_uint_eq(a->eventlog_len, b->eventlog_len);
	if (a->eventlog_len > 0)
		ck_assert_mem_eq(a->eventlog, b->eventlog, a->eventlog_len);
	ck_assert_int_eq(a->eventlog == NULL, b->eventlog == NULL);
	ck_assert_mem_eq(a->id_pub, b->id_pub, a->id_pub_len);
	ck_assert_mem_eq(a->id_sig, b->id_sig, a->id_sig_len);
}

START_TEST(round_trip)
{
	for (int ima = 0; ima < 2; ima++)
		for (int el = 0; el < 2; el++) {
			struct evidence_doc d, o;
			uint8_t *b;
			size_t n;

			doc_make(&d, ima, el);
			ck_assert_int_eq(evidence_doc_encode_bin(&d, &b, &n), 0);
			ck_assert_mem_eq(b, DOC_BIN_MAGIC, DOC_BIN_MAGIC_LEN);
			ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), 0);
			same(&d, &o);
			/* The list and the log lie in the received buffer. */
			ck_assert_ptr_eq(o.backing, b);
			if (ima)
				ck_assert(o.ima > b && o.ima + o.ima_len <= b + n);
			evidence_doc_free(&o);
			evidence_doc_free(&d);
		}
}
END_TEST

/* An older agent answers JSON: parse_take reads it all the same. */
START_TEST(json_answer)
{
	struct evidence_doc d, o;
	const char *ctype;
	uint8_t *b;
	size_t n;

	doc_make(&d, 1, 1);
	ck_assert_int_eq(evidence_doc_encode(&d, 0, &b, &n, &ctype), 0);
	ck_assert_str_eq(ctype, "application/json");
	ck_assert_int_eq(b[0], '{');
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), 0);
	ck_assert_ptr_null(o.backing);
	same(&d, &o);
	evidence_doc_free(&o);
	ck_assert_int_eq(evidence_doc_encode(&d, DOC_FORM_V2, &b, &n, &ctype), 0);
	ck_assert_str_eq(ctype, DOC_BIN_CTYPE);
	free(b);
	evidence_doc_free(&d);
}
END_TEST

static int
parse_copy(const uint8_t *p, size_t n, struct evidence_doc *o)
{
	uint8_t *c = xmalloc(n ? n : 1);

	memcpy(c, p, n);
	return evidence_doc_parse_take(c, n, o);
}

/* Every prefix of a valid document is refused, never read past. */
START_TEST(truncations)
{
	struct evidence_doc d, o;
	uint8_t *b;
	size_t n;

	doc_make(&d, 1, 1);
	d.ima_len = 300;		/* keep the loop short */
	ck_assert_int_eq(evidence_doc_encode_bin(&d, &b, &n), 0);
	for (size_t k = DOC_BIN_MAGIC_LEN; k < n; k++) {
		ck_assert_int_eq(parse_copy(b, k, &o), ASSAY_ERR_FORMAT);
		ck_assert_ptr_null(o.attest);
		ck_assert_ptr_null(o.backing);
	}
	/* One byte more is one byte too many. */
	b = xreallocarray(b, 1, n + 1);
	b[n] = 0;
	ck_assert_int_eq(parse_copy(b, n + 1, &o), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "after the event log"));
	free(b);
	evidence_doc_free(&d);
}
END_TEST

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A container from JSON text and raw IMA / event log bytes. */
static uint8_t *
container(const char *js, uint32_t ima_len, uint32_t el_len, size_t *n)
{
	size_t jl = strlen(js), off = DOC_BIN_MAGIC_LEN;
	uint8_t *b = xcalloc(1, off + 12 + jl + 16);

	memcpy(b, DOC_BIN_MAGIC, off);
	put32(b + off, (uint32_t)jl);
	memcpy(b + off + 4, js, jl);
	off += 4 + jl;
	put32(b + off, ima_len);
	off += 4 + (ima_len <= 8 ? ima_len : 0);
	put32(b + off, el_len);
	off += 4 + (el_len <= 8 ? el_len : 0);
	*n = off;
	return b;
}

#define QUOTE_JSON \
	"{\"version\":1,\"quote\":{\"message\":\"AAAA\",\"signature\":\"AAAA\"}," \
	"\"pcrs\":{}"

START_TEST(hostile)
{
	struct evidence_doc o;
	uint8_t *b;
	size_t n;

	/* valid, small */
	b = container(QUOTE_JSON ",\"ima\":{\"from\":0,\"count\":1}}", 4, 0, &n);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), 0);
	ck_assert_uint_eq(o.ima_len, 4);
	ck_assert_ptr_null(o.eventlog);
	evidence_doc_free(&o);
	/* IMA bytes without an "ima" member */
	b = container(QUOTE_JSON "}", 4, 0, &n);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "without"));
	/* the list inside the JSON part: not in this form */
	b = container(QUOTE_JSON ",\"ima\":{\"from\":0,\"count\":1,\"list\":\"AAAA\"}}",
	    0, 0, &n);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), ASSAY_ERR_FORMAT);
	/* nor the event log */
	b = container(QUOTE_JSON ",\"eventlog\":\"AAAA\"}", 0, 0, &n);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), ASSAY_ERR_FORMAT);
	/* lengths over the limits (the bytes are not there either) */
	b = container(QUOTE_JSON ",\"ima\":{\"from\":0,\"count\":1}}",
	    DOC_IMA_MAX + 1, 0, &n);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "at most"));
	b = container(QUOTE_JSON "}", 0, 0xffffffffu, &n);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), ASSAY_ERR_FORMAT);
	/* not JSON, JSON not an object */
	b = container("\x01\x02", 0, 0, &n);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), ASSAY_ERR_FORMAT);
	b = container("[1]", 0, 0, &n);
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), ASSAY_ERR_FORMAT);
	/* the magic alone, and a magic off by one byte (then it is "JSON") */
	b = xmemdup(DOC_BIN_MAGIC, DOC_BIN_MAGIC_LEN);
	ck_assert_int_eq(evidence_doc_parse_take(b, DOC_BIN_MAGIC_LEN, &o),
	    ASSAY_ERR_FORMAT);
	b = container(QUOTE_JSON "}", 0, 0, &n);
	b[7] = '3';
	ck_assert_int_eq(evidence_doc_parse_take(b, n, &o), ASSAY_ERR_FORMAT);
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

START_TEST(request_format)
{
	struct quote_req q, p;
	const char *kv[] = { "nonce", "00112233445566778899aabbccddeeff",
	    "pcrs", "sha256:0,1", "format", "2", NULL, NULL };
	char *path;

	memset(&q, 0, sizeof(q));
	q.nonce_len = 16;
	ck_assert_int_eq(pcr_selection_parse("sha256:0,1", &q.sel), 0);
	q.format = DOC_FORM_V2;
	path = quote_req_format(&q);
	ck_assert_ptr_nonnull(strstr(path, "&format=2"));
	ck_assert_ptr_null(strstr(path, "format_max"));
	free(path);
	ck_assert_int_eq(quote_req_parse(qget, kv, &p), 0);
	ck_assert_int_eq(p.format, DOC_FORM_V2);
	kv[5] = "1";
	ck_assert_int_eq(quote_req_parse(qget, kv, &p), 0);
	ck_assert_int_eq(p.format, DOC_FORM_JSON);
	kv[5] = "4";
	ck_assert_int_eq(quote_req_parse(qget, kv, &p), ASSAY_ERR_INVAL);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("doc_bin");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, json_answer);
	tcase_add_test(tc, truncations);
	tcase_add_test(tc, hostile);
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
