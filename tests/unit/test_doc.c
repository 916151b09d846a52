/*
 * test_doc.c — the evidence document's JSON form: a full round trip, and
 * the strict decoder's rejections, each with ASSAY_ERR_FORMAT and a detail
 * that names the offending field.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/proto/doc.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"

static uint8_t *
pattern(size_t n, unsigned seed)
{
	uint8_t *p = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
	return p;
}

/* attest, sig, sha1 PCRs 0-7 and sha256 PCRs 0-10 + 16, ima, eventlog. */
static void
doc_full(struct evidence_doc *d)
{
	uint8_t dg[32];
	unsigned i;

	evidence_doc_init(d);
	d->attest_len = 145;
	d->attest = pattern(d->attest_len, 1);
	d->sig_len = 70;
	d->sig = pattern(d->sig_len, 2);
	for (i = 0; i < 8; i++) {
		memset(dg, (int)(0xa0 + i), 20);
		ck_assert_int_eq(pcr_values_set(&d->pcrs, TPM2_ALG_SHA1, i, dg, 20), 0);
	}
	for (i = 0; i <= 16; i++) {
		if (i > 10 && i != 16)
			continue;
		memset(dg, (int)(0x10 + i), 32);
		ck_assert_int_eq(pcr_values_set(&d->pcrs, TPM2_ALG_SHA256, i, dg, 32), 0);
	}
	d->has_ima = 1;
	d->ima_from = 1234;
	d->ima_count = 3;
	d->ima_len = 999;
	d->ima = pattern(d->ima_len, 3);
	d->eventlog_len = 4097;
	d->eventlog = pattern(d->eventlog_len, 4);
}

/* The full document as JSON; the caller mutates and frees it. */
static json_t *
json_full(void)
{
	struct evidence_doc d;
	json_t *j;

	doc_full(&d);
	j = evidence_doc_to_json(&d);
	evidence_doc_free(&d);
	ck_assert_ptr_nonnull(j);
	return j;
}

/* Decoding j must fail with ASSAY_ERR_FORMAT, a detail containing want,
 * and leave out empty. */
static void
assert_rejects(json_t *j, const char *want)
{
	struct evidence_doc d;
	int r;

	assay_err_clear();
	r = evidence_doc_from_json(j, &d);
	ck_assert_int_eq(r, ASSAY_ERR_FORMAT);
	ck_assert_msg(strstr(assay_err_detail(), want) != NULL,
	    "detail '%s' does not name '%s'", assay_err_detail(), want);
	ck_assert_ptr_null(d.attest);
	ck_assert_ptr_null(d.sig);
	ck_assert_ptr_null(d.ima);
	ck_assert_ptr_null(d.eventlog);
	ck_assert_uint_eq(d.pcrs.nbanks, 0);
	json_decref(j);
}

static void
assert_text_rejects(const char *text, const char *want)
{
	struct evidence_doc d;
	int r;

	assay_err_clear();
	r = evidence_doc_parse((const uint8_t *)text, strlen(text), &d);
	ck_assert_int_eq(r, ASSAY_ERR_FORMAT);
	ck_assert_msg(strstr(assay_err_detail(), want) != NULL,
	    "detail '%s' does not name '%s'", assay_err_detail(), want);
	ck_assert_ptr_null(d.attest);
}

static json_t *
pcr_bank(json_t *j, const char *bank)
{
	json_t *b = json_object_get(json_object_get(j, "pcrs"), bank);

	ck_assert_ptr_nonnull(b);
	return b;
}

START_TEST(round_trip_keeps_every_field)
{
	struct evidence_doc a, b;
	json_t *j;

	doc_full(&a);
	j = evidence_doc_to_json(&a);
	ck_assert_int_eq(evidence_doc_from_json(j, &b), ASSAY_OK);
	ck_assert_uint_eq(b.attest_len, a.attest_len);
	ck_assert_int_eq(memcmp(b.attest, a.attest, a.attest_len), 0);
	ck_assert_uint_eq(b.sig_len, a.sig_len);
	ck_assert_int_eq(memcmp(b.sig, a.sig, a.sig_len), 0);
	ck_assert_uint_eq(b.pcrs.nbanks, 2);
	for (size_t k = 0; k < a.pcrs.nbanks; k++) {
		uint16_t h = a.pcrs.bank[k].hash;
		size_t sz = h == TPM2_ALG_SHA1 ? 20 : 32;

		for (unsigned i = 0; i < TPM2_PCR_COUNT; i++) {
			const uint8_t *x = pcr_values_get(&a.pcrs, h, i);
			const uint8_t *y = pcr_values_get(&b.pcrs, h, i);

			ck_assert_msg((x == NULL) == (y == NULL),
			    "bank %04x PCR %u presence differs", h, i);
			if (x != NULL)
				ck_assert_int_eq(memcmp(x, y, sz), 0);
		}
	}
	ck_assert_int_eq(b.has_ima, 1);
	ck_assert(b.ima_from == 1234);
	ck_assert(b.ima_count == 3);
	ck_assert_uint_eq(b.ima_len, a.ima_len);
	ck_assert_int_eq(memcmp(b.ima, a.ima, a.ima_len), 0);
	ck_assert_uint_eq(b.eventlog_len, a.eventlog_len);
	ck_assert_int_eq(memcmp(b.eventlog, a.eventlog, a.eventlog_len), 0);
	json_decref(j);
	evidence_doc_free(&a);
	evidence_doc_free(&b);
}
END_TEST

START_TEST(round_trip_through_text_keeps_every_field)
{
	struct evidence_doc a, b;
	json_t *j;
	char *s;

	doc_full(&a);
	j = evidence_doc_to_json(&a);
	s = json_dumps(j, JSON_COMPACT);
	ck_assert_int_eq(evidence_doc_parse((uint8_t *)s, strlen(s), &b), ASSAY_OK);
	ck_assert_uint_eq(b.attest_len, a.attest_len);
	ck_assert_int_eq(memcmp(b.attest, a.attest, a.attest_len), 0);
	ck_assert_uint_eq(b.pcrs.nbanks, 2);
	ck_assert_int_eq(memcmp(pcr_values_get(&b.pcrs, TPM2_ALG_SHA256, 16),
	    pcr_values_get(&a.pcrs, TPM2_ALG_SHA256, 16), 32), 0);
	ck_assert_uint_eq(b.eventlog_len, a.eventlog_len);
	free(s);
	json_decref(j);
	evidence_doc_free(&a);
	evidence_doc_free(&b);
}
END_TEST

START_TEST(ima_and_eventlog_are_optional)
{
	struct evidence_doc a, b;
	json_t *j;

	doc_full(&a);
	free(a.ima);
	a.ima = NULL;
	a.has_ima = 0;
	free(a.eventlog);
	a.eventlog = NULL;
	j = evidence_doc_to_json(&a);
	ck_assert_ptr_null(json_object_get(j, "ima"));
	ck_assert_ptr_null(json_object_get(j, "eventlog"));
	ck_assert_int_eq(evidence_doc_from_json(j, &b), ASSAY_OK);
	ck_assert_int_eq(b.has_ima, 0);
	ck_assert_ptr_null(b.eventlog);
	json_decref(j);
	evidence_doc_free(&a);
	evidence_doc_free(&b);
}
END_TEST

START_TEST(rejects_unknown_top_level_key)
{
	json_t *j = json_full();

	json_object_set_new(j, "nonce", json_string("00"));
	assert_rejects(j, "nonce");
}
END_TEST

START_TEST(rejects_wrong_version)
{
	json_t *j = json_full();

	json_object_set_new(j, "version", json_integer(2));
	assert_rejects(j, "version");
}
END_TEST

START_TEST(rejects_version_as_string)
{
	json_t *j = json_full();

	json_object_set_new(j, "version", json_string("1"));
	assert_rejects(j, "version");
}
END_TEST

START_TEST(rejects_missing_quote)
{
	json_t *j = json_full();

	json_object_del(j, "quote");
	assert_rejects(j, "quote");
}
END_TEST

START_TEST(rejects_missing_quote_signature)
{
	json_t *j = json_full();

	json_object_del(json_object_get(j, "quote"), "signature");
	assert_rejects(j, "quote.signature");
}
END_TEST

START_TEST(rejects_bad_base64_in_quote_message)
{
	json_t *j = json_full();

	json_object_set_new(json_object_get(j, "quote"), "message",
	    json_string("AAAA*AAA"));
	assert_rejects(j, "quote.message");
}
END_TEST

START_TEST(rejects_attest_larger_than_attest_max)
{
	json_t *j = json_full();
	uint8_t *big = pattern(ATTEST_MAX_SIZE + 1, 9);
	char *s = base64_encode(big, ATTEST_MAX_SIZE + 1);

	json_object_set_new(json_object_get(j, "quote"), "message", json_string(s));
	free(s);
	free(big);
	assert_rejects(j, "quote.message");
}
END_TEST

START_TEST(accepts_attest_of_exactly_attest_max)
{
	struct evidence_doc d;
	json_t *j = json_full();
	uint8_t *big = pattern(ATTEST_MAX_SIZE, 9);
	char *s = base64_encode(big, ATTEST_MAX_SIZE);

	json_object_set_new(json_object_get(j, "quote"), "message", json_string(s));
	ck_assert_int_eq(evidence_doc_from_json(j, &d), ASSAY_OK);
	ck_assert_uint_eq(d.attest_len, ATTEST_MAX_SIZE);
	evidence_doc_free(&d);
	free(s);
	free(big);
	json_decref(j);
}
END_TEST

START_TEST(rejects_unknown_pcr_bank)
{
	json_t *j = json_full();
	json_t *bank = json_object();

	json_object_set_new(bank, "0", json_string("00"));
	json_object_set_new(json_object_get(j, "pcrs"), "md5", bank);
	assert_rejects(j, "md5");
}
END_TEST

START_TEST(rejects_pcr_index_24)
{
	json_t *j = json_full();
	char *hex = hex_encode((uint8_t[32]){ 0 }, 32);

	json_object_set_new(pcr_bank(j, "sha256"), "24", json_string(hex));
	free(hex);
	assert_rejects(j, "'24'");
}
END_TEST

START_TEST(rejects_pcr_index_with_leading_zero)
{
	json_t *j = json_full();
	char *hex = hex_encode((uint8_t[32]){ 0 }, 32);

	json_object_set_new(pcr_bank(j, "sha256"), "01", json_string(hex));
	free(hex);
	assert_rejects(j, "'01'");
}
END_TEST

START_TEST(rejects_negative_pcr_index)
{
	json_t *j = json_full();
	char *hex = hex_encode((uint8_t[32]){ 0 }, 32);

	json_object_set_new(pcr_bank(j, "sha256"), "-1", json_string(hex));
	free(hex);
	assert_rejects(j, "'-1'");
}
END_TEST

START_TEST(rejects_digest_of_wrong_length_for_bank)
{
	json_t *j = json_full();
	char *hex = hex_encode((uint8_t[32]){ 0 }, 20);

	/* a sha1-sized digest in the sha256 bank */
	json_object_set_new(pcr_bank(j, "sha256"), "3", json_string(hex));
	free(hex);
	assert_rejects(j, "pcrs.sha256.3");
}
END_TEST

START_TEST(rejects_negative_ima_from)
{
	json_t *j = json_full();

	json_object_set_new(json_object_get(j, "ima"), "from", json_integer(-1));
	assert_rejects(j, "ima.from");
}
END_TEST

START_TEST(more_flag_round_trips_and_is_absent_when_clear)
{
	struct evidence_doc d, b;
	json_t *j;

	doc_full(&d);
	j = evidence_doc_to_json(&d);
	/* Not "more": old verifiers (strict keys) still read unpaged lists. */
	ck_assert_ptr_null(json_object_get(json_object_get(j, "ima"), "more"));
	ck_assert_int_eq(evidence_doc_from_json(j, &b), ASSAY_OK);
	ck_assert_int_eq(b.ima_more, 0);
	evidence_doc_free(&b);
	json_decref(j);
	d.ima_more = 1;
	j = evidence_doc_to_json(&d);
	ck_assert(json_is_true(json_object_get(json_object_get(j, "ima"), "more")));
	ck_assert_int_eq(evidence_doc_from_json(j, &b), ASSAY_OK);
	ck_assert_int_eq(b.ima_more, 1);
	ck_assert(b.ima_from == 1234 && b.ima_count == 3 && b.ima_len == 999);
	evidence_doc_free(&b);
	json_decref(j);
	evidence_doc_free(&d);
}
END_TEST

START_TEST(rejects_more_that_is_not_a_boolean)
{
	json_t *j = json_full();

	json_object_set_new(json_object_get(j, "ima"), "more", json_integer(1));
	assert_rejects(j, "ima.more");
}
END_TEST

START_TEST(rejects_ima_list_over_the_page_byte_cap)
{
	json_t *j = json_full();
	uint8_t *big = xcalloc(1, (size_t)DOC_IMA_MAX + 3);
	char *b64 = base64_encode(big, (size_t)DOC_IMA_MAX + 3);

	json_object_set_new(json_object_get(j, "ima"), "list", json_string(b64));
	free(b64);
	free(big);
	assert_rejects(j, "ima.list");
}
END_TEST

START_TEST(page_full_by_count_or_by_bytes)
{
	struct evidence_doc d;

	evidence_doc_init(&d);
	d.ima_count = 4;
	d.ima_len = 1000;
	ck_assert(evidence_doc_page_full(&d, 4, 0));
	ck_assert(evidence_doc_page_full(&d, 3, 0));	/* over-full: an old agent */
	ck_assert(!evidence_doc_page_full(&d, 5, 0));
	ck_assert(!evidence_doc_page_full(&d, 0, 0));
	/* The next entry (at most DOC_IMA_ENTRY_MAX) might not have fitted. */
	d.ima_len = DOC_IMA_MAX - DOC_IMA_ENTRY_MAX + 1;
	ck_assert(evidence_doc_page_full(&d, 5, 0));
	d.ima_len = DOC_IMA_MAX - DOC_IMA_ENTRY_MAX;
	ck_assert(!evidence_doc_page_full(&d, 0, 0));
	/* A smaller byte cap asked (ima_bytes): full by that cap. */
	d.ima_len = 1024 * 1024 - DOC_IMA_ENTRY_MAX + 1;
	ck_assert(evidence_doc_page_full(&d, 0, 1024 * 1024));
	d.ima_len = 1024 * 1024 - DOC_IMA_ENTRY_MAX;
	ck_assert(!evidence_doc_page_full(&d, 0, 1024 * 1024));
	/* A cap below the smallest page counts as the smallest page. */
	d.ima_len = DOC_IMA_PAGE_MIN - DOC_IMA_ENTRY_MAX;
	ck_assert(!evidence_doc_page_full(&d, 0, 1000));
}
END_TEST

START_TEST(page_cap_is_clamped_alike_on_both_sides)
{
	ck_assert_uint_eq(doc_ima_page_cap(0), DOC_IMA_MAX);
	ck_assert_uint_eq(doc_ima_page_cap(1), DOC_IMA_PAGE_MIN);
	ck_assert_uint_eq(doc_ima_page_cap(DOC_IMA_PAGE_MIN + 1), DOC_IMA_PAGE_MIN + 1);
	ck_assert_uint_eq(doc_ima_page_cap((uint64_t)DOC_IMA_MAX + 1), DOC_IMA_MAX);
	ck_assert_uint_eq(doc_ima_page_cap(UINT64_MAX), DOC_IMA_MAX);
	/* the smallest page holds the largest entry three times over */
	ck_assert_uint_ge(DOC_IMA_PAGE_MIN, 3 * DOC_IMA_ENTRY_MAX);
}
END_TEST

START_TEST(largest_document_fits_the_transport_limit)
{
	/* The numbers doc.h documents; http_client.c asserts the same. */
	ck_assert_uint_eq(DOC_B64_LEN(3), 4);
	ck_assert_uint_eq(DOC_B64_LEN(4), 8);
	ck_assert_uint_le(DOC_MAX_SIZE, 64u * 1024 * 1024);
	ck_assert_uint_ge((size_t)DOC_IMA_MAX, (size_t)DOC_IMA_ENTRY_MAX);
}
END_TEST

START_TEST(rejects_json_syntax_error)
{
	assert_text_rejects("{\"version\":1,\"quote\":{", "JSON");
}
END_TEST

START_TEST(rejects_duplicate_keys)
{
	json_t *j = json_full();
	char *s = json_dumps(j, JSON_COMPACT), *t;
	size_t n = strlen(s);

	/* {"version":1,... -> {"version":1,"version":1,... */
	ck_assert_int_eq(strncmp(s, "{\"version\":1,", 13), 0);
	t = xmalloc(n + 13 + 1);
	memcpy(t, s, 13);
	memcpy(t + 13, s + 1, n - 1 + 1);
	assert_text_rejects(t, "duplicate");
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "\"version\""));
	free(t);
	free(s);
	json_decref(j);
}
END_TEST

START_TEST(rejects_non_object_document)
{
	assert_rejects(json_array(), "evidence");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("doc");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, round_trip_keeps_every_field);
	tcase_add_test(tc, round_trip_through_text_keeps_every_field);
	tcase_add_test(tc, ima_and_eventlog_are_optional);
	tcase_add_test(tc, rejects_unknown_top_level_key);
	tcase_add_test(tc, rejects_wrong_version);
	tcase_add_test(tc, rejects_version_as_string);
	tcase_add_test(tc, rejects_missing_quote);
	tcase_add_test(tc, rejects_missing_quote_signature);
	tcase_add_test(tc, rejects_bad_base64_in_quote_message);
	tcase_add_test(tc, rejects_attest_larger_than_attest_max);
	tcase_add_test(tc, accepts_attest_of_exactly_attest_max);
	tcase_add_test(tc, rejects_unknown_pcr_bank);
	tcase_add_test(tc, rejects_pcr_index_24);
	tcase_add_test(tc, rejects_pcr_index_with_leading_zero);
	tcase_add_test(tc, rejects_negative_pcr_index);
	tcase_add_test(tc, rejects_digest_of_wrong_length_for_bank);
	tcase_add_test(tc, rejects_negative_ima_from);
	tcase_add_test(tc, more_flag_round_trips_and_is_absent_when_clear);
	tcase_add_test(tc, rejects_more_that_is_not_a_boolean);
	tcase_add_test(tc, rejects_ima_list_over_the_page_byte_cap);
	tcase_add_test(tc, page_full_by_count_or_by_bytes);
	tcase_add_test(tc, page_cap_is_clamped_alike_on_both_sides);
	tcase_add_test(tc, largest_document_fits_the_transport_limit);
	tcase_add_test(tc, rejects_json_syntax_error);
	tcase_add_test(tc, rejects_duplicate_keys);
	tcase_add_test(tc, rejects_non_object_document);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
