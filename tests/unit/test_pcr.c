/*
 * test_pcr.c — PCR selection text and wire forms, PCR value sets, the
 * pcrDigest, the tpm2-tools serialized dump, and the hash table.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tests/unit/quote_fixture.h"

START_TEST(selection_parses_lists_ranges_and_banks)
{
	struct pcr_selection s;

	ck_assert_int_eq(pcr_selection_parse("sha256:0,1,2+sha1:10", &s), ASSAY_OK);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.bank[0].hash, TPM2_ALG_SHA256);
	ck_assert_uint_eq(s.bank[0].mask, 0x7);
	ck_assert_uint_eq(s.bank[1].hash, TPM2_ALG_SHA1);
	ck_assert_uint_eq(s.bank[1].mask, 1u << 10);
	ck_assert_int_eq(pcr_selection_parse("sha384:0-7,10,23", &s), ASSAY_OK);
	ck_assert_uint_eq(s.bank[0].mask, 0xff | (1u << 10) | (1u << 23));
}
END_TEST

START_TEST(selection_rejects_bad_text)
{
	static const struct { const char *s; int err; } bad[] = {
		{ "", ASSAY_ERR_FORMAT },
		{ "sha256", ASSAY_ERR_FORMAT },
		{ "sha256:", ASSAY_ERR_FORMAT },
		{ "sha256:24", ASSAY_ERR_RANGE },
		{ "sha256:7-3", ASSAY_ERR_FORMAT },
		{ "sha256:1,", ASSAY_ERR_FORMAT },
		{ "sha256:1 ", ASSAY_ERR_FORMAT },
		{ "sha256:1+", ASSAY_ERR_FORMAT },
		{ "md5:1", ASSAY_ERR_UNSUPPORTED },
		{ "sha256:1+sha256:2", ASSAY_ERR_FORMAT },
		{ "sha256:0001", ASSAY_ERR_FORMAT },
	};
	struct pcr_selection s;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pcr_selection_parse(bad[i].s, &s) == bad[i].err,
		    "\"%s\"", bad[i].s);
}
END_TEST

START_TEST(selection_formats_in_selection_order)
{
	struct pcr_selection s;
	char *t;

	ck_assert_int_eq(pcr_selection_parse("sha256:10,0-2+sha1:7", &s), ASSAY_OK);
	t = pcr_selection_format(&s);
	ck_assert_str_eq(t, "sha256:0,1,2,10+sha1:7");
	free(t);
}
END_TEST

START_TEST(selection_wire_round_trip)
{
	struct pcr_selection s, u;
	struct buf b;
	struct cur c;

	ck_assert_int_eq(pcr_selection_parse("sha1:0-7+sha256:0-10,23", &s), ASSAY_OK);
	buf_init(&b);
	pcr_selection_marshal(&s, &b);
	ck_assert_uint_eq(b.len, 4 + 2 * 6);
	ck_assert_int_eq(b.d[7], 0xff);	/* sha1 pcrSelect[0] */
	cur_init(&c, b.d, b.len);
	ck_assert_int_eq(pcr_selection_unmarshal(&c, &u), ASSAY_OK);
	ck_assert_uint_eq(cur_left(&c), 0);
	ck_assert(pcr_selection_equal(&s, &u));
	buf_free(&b);
}
END_TEST

static int
unmarshal_bytes(const uint8_t *p, size_t n, struct pcr_selection *s)
{
	struct cur c;

	cur_init(&c, p, n);
	return pcr_selection_unmarshal(&c, s);
}

START_TEST(selection_unmarshal_accepts_four_byte_select)
{
	static const uint8_t in[] = { 0, 0, 0, 1, 0x00, 0x0b, 4, 0x01, 0, 0x80, 0 };
	struct pcr_selection s;

	ck_assert_int_eq(unmarshal_bytes(in, sizeof(in), &s), ASSAY_OK);
	ck_assert_uint_eq(s.bank[0].mask, 1u | (1u << 23));
}
END_TEST

START_TEST(selection_unmarshal_rejects_pcr_above_23)
{
	static const uint8_t in[] = { 0, 0, 0, 1, 0x00, 0x0b, 4, 0, 0, 0, 0x01 };
	struct pcr_selection s;

	ck_assert_int_eq(unmarshal_bytes(in, sizeof(in), &s), ASSAY_ERR_RANGE);
}
END_TEST

START_TEST(selection_unmarshal_rejects_bad_select_size)
{
	static const uint8_t small[] = { 0, 0, 0, 1, 0x00, 0x0b, 2, 0xff, 0xff };
	static const uint8_t big[] = { 0, 0, 0, 1, 0x00, 0x0b, 5, 0, 0, 0, 0, 0 };
	struct pcr_selection s;

	ck_assert_int_eq(unmarshal_bytes(small, sizeof(small), &s), ASSAY_ERR_FORMAT);
	ck_assert_int_eq(unmarshal_bytes(big, sizeof(big), &s), ASSAY_ERR_FORMAT);
}
END_TEST

START_TEST(selection_unmarshal_rejects_many_banks_and_truncation)
{
	static const uint8_t many[] = { 0, 0, 0, 9 };
	static const uint8_t shortsel[] = { 0, 0, 0, 1, 0x00, 0x0b, 3, 0xff };
	static const uint8_t dup[] = { 0, 0, 0, 2, 0x00, 0x0b, 3, 1, 0, 0,
	    0x00, 0x0b, 3, 2, 0, 0 };
	static const uint8_t unknown[] = { 0, 0, 0, 1, 0x12, 0x34, 3, 1, 0, 0 };
	struct pcr_selection s;
	struct cur c;

	ck_assert_int_eq(unmarshal_bytes(many, sizeof(many), &s), ASSAY_ERR_RANGE);
	cur_init(&c, shortsel, sizeof(shortsel));
	ck_assert_int_eq(pcr_selection_unmarshal(&c, &s), ASSAY_ERR_TRUNCATED);
	ck_assert_uint_eq(cur_left(&c), sizeof(shortsel));
	ck_assert_int_eq(unmarshal_bytes(dup, sizeof(dup), &s), ASSAY_ERR_FORMAT);
	ck_assert_int_eq(unmarshal_bytes(unknown, sizeof(unknown), &s),
	    ASSAY_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(selection_equal_is_order_and_mask_sensitive)
{
	struct pcr_selection a, b;

	pcr_selection_parse("sha1:1+sha256:2", &a);
	pcr_selection_parse("sha256:2+sha1:1", &b);
	ck_assert(!pcr_selection_equal(&a, &b));
	pcr_selection_parse("sha1:1+sha256:2,3", &b);
	ck_assert(!pcr_selection_equal(&a, &b));
	pcr_selection_parse("sha1:1+sha256:2", &b);
	ck_assert(pcr_selection_equal(&a, &b));
}
END_TEST

START_TEST(values_set_checks_length_index_and_bank)
{
	struct pcr_values v;
	uint8_t d[64] = { 1 };

	pcr_values_init(&v);
	ck_assert_int_eq(pcr_values_set(&v, TPM2_ALG_SHA256, 3, d, 32), ASSAY_OK);
	ck_assert_ptr_nonnull(pcr_values_get(&v, TPM2_ALG_SHA256, 3));
	ck_assert_ptr_null(pcr_values_get(&v, TPM2_ALG_SHA256, 4));
	ck_assert_ptr_null(pcr_values_get(&v, TPM2_ALG_SHA1, 3));
	ck_assert_int_eq(pcr_values_set(&v, TPM2_ALG_SHA256, 3, d, 20), ASSAY_ERR_RANGE);
	ck_assert_int_eq(pcr_values_set(&v, TPM2_ALG_SHA256, 24, d, 32), ASSAY_ERR_RANGE);
	ck_assert_int_eq(pcr_values_set(&v, 0x4242, 1, d, 32), ASSAY_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(digest_is_hash_of_selected_values_in_order)
{
	struct pcr_values v;
	struct pcr_selection s;
	uint8_t a[20], b[32], c[32], cat[84], want[48], got[64];
	unsigned int wl;
	size_t gl;

	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	memset(c, 0xcc, sizeof(c));
	pcr_values_init(&v);
	pcr_values_set(&v, TPM2_ALG_SHA256, 9, c, 32);
	pcr_values_set(&v, TPM2_ALG_SHA256, 2, b, 32);
	pcr_values_set(&v, TPM2_ALG_SHA1, 5, a, 20);
	ck_assert_int_eq(pcr_selection_parse("sha1:5+sha256:9,2", &s), ASSAY_OK);
	memcpy(cat, a, 20);
	memcpy(cat + 20, b, 32);
	memcpy(cat + 52, c, 32);
	EVP_Digest(cat, sizeof(cat), want, &wl, EVP_sha384(), NULL);
	ck_assert_int_eq(pcr_values_digest(&v, &s, TPM2_ALG_SHA384, got, &gl), ASSAY_OK);
	ck_assert_uint_eq(gl, 48);
	ck_assert_int_eq(memcmp(got, want, 48), 0);
}
END_TEST

START_TEST(digest_reports_missing_value)
{
	struct pcr_values v;
	struct pcr_selection s;
	uint8_t d[32] = { 0 }, out[64];
	size_t n;

	pcr_values_init(&v);
	pcr_values_set(&v, TPM2_ALG_SHA256, 0, d, 32);
	pcr_selection_parse("sha256:0,4", &s);
	ck_assert_int_eq(pcr_values_digest(&v, &s, TPM2_ALG_SHA256, out, &n),
	    ASSAY_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "sha256:4"));
}
END_TEST

START_TEST(tpm2tools_dump_of_two_banks_parses)
{
	struct pcr_selection s, want;
	struct pcr_values v;
	uint8_t *p;
	size_t n;

	p = qf_read("rsa-pss-2bank", "q.pcrs", &n);
	ck_assert_int_eq(pcr_tpm2tools_parse(p, n, &s, &v), ASSAY_OK);
	pcr_selection_parse("sha1:0-7+sha256:0-10", &want);
	ck_assert(pcr_selection_equal(&s, &want));
	ck_assert_uint_eq(v.nbanks, 2);
	ck_assert_uint_eq(v.bank[0].present, 0xff);
	ck_assert_uint_eq(v.bank[1].present, 0x7ff);
	free(p);
}
END_TEST

START_TEST(tpm2tools_dump_rejects_truncation_and_trailing)
{
	struct pcr_selection s;
	struct pcr_values v;
	uint8_t *p, *q;
	size_t n, i;

	p = qf_read("ecc-p256", "q.pcrs", &n);
	for (i = 0; i < n; i += 7)
		ck_assert_int_eq(pcr_tpm2tools_parse(p, i, &s, &v), ASSAY_ERR_TRUNCATED);
	q = xmalloc(n + 1);
	memcpy(q, p, n);
	q[n] = 0;
	ck_assert_int_eq(pcr_tpm2tools_parse(q, n + 1, &s, &v), ASSAY_ERR_FORMAT);
	/* a digest of the wrong size for its bank */
	memcpy(q, p, n);
	q[132 + 4 + 4] = 20;
	ck_assert_int_eq(pcr_tpm2tools_parse(q, n, &s, &v), ASSAY_ERR_RANGE);
	free(q);
	free(p);
}
END_TEST

START_TEST(hash_table_maps_ids_names_and_sizes)
{
	const struct tpm2_hash *h;
	uint8_t out[64];
	size_t n;

	h = tpm2_hash_by_name("sha384");
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->alg, TPM2_ALG_SHA384);
	ck_assert_uint_eq(h->size, 48);
	ck_assert_ptr_eq(tpm2_hash_by_alg(TPM2_ALG_SHA1), tpm2_hash_by_name("sha1"));
	ck_assert_uint_eq(tpm2_hash_by_alg(TPM2_ALG_SM3_256)->size, 32);
	ck_assert_ptr_null(tpm2_hash_by_alg(TPM2_ALG_RSA));
	ck_assert_ptr_null(tpm2_hash_by_name("md5"));
	ck_assert_ptr_nonnull(tpm2_hash_md(TPM2_ALG_SHA512));
	ck_assert_int_eq(tpm2_hash(TPM2_ALG_SHA1, "abc", 3, out, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 20);
	ck_assert_uint_eq(out[0], 0xa9);	/* SHA1("abc") = a9993e36... */
	ck_assert_int_eq(tpm2_hash(TPM2_ALG_NULL, "abc", 3, out, &n),
	    ASSAY_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(qualified_name_matches_keylime_quote_signer)
{
	struct tpm2_quote_info qi;
	uint8_t *msg, *ek, *name, qn[TPM2_NAME_MAX];
	size_t ml, el, nl, qnl;

	msg = qf_read("keylime", "q.msg", &ml);
	ek = qf_read("keylime", "ek.pub", &el);
	name = qf_read("keylime", "ak.name", &nl);
	qf_qualified_name(ek, el, name, nl, qn, &qnl);
	ck_assert_int_eq(tpm2_attest_parse(msg, ml, &qi), ASSAY_OK);
	ck_assert_uint_eq(qi.h.qualified_signer.len, qnl);
	ck_assert_int_eq(memcmp(qi.h.qualified_signer.p, qn, qnl), 0);
	ck_assert_int_ne(memcmp(qi.h.qualified_signer.p, name, nl), 0);
	ck_assert_int_eq(tpm2_qualified_name(qn, qnl, name, 5, qn, &qnl),
	    ASSAY_ERR_UNSUPPORTED);
	free(msg);
	free(ek);
	free(name);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pcr");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, selection_parses_lists_ranges_and_banks);
	tcase_add_test(tc, selection_rejects_bad_text);
	tcase_add_test(tc, selection_formats_in_selection_order);
	tcase_add_test(tc, selection_wire_round_trip);
	tcase_add_test(tc, selection_unmarshal_accepts_four_byte_select);
	tcase_add_test(tc, selection_unmarshal_rejects_pcr_above_23);
	tcase_add_test(tc, selection_unmarshal_rejects_bad_select_size);
	tcase_add_test(tc, selection_unmarshal_rejects_many_banks_and_truncation);
	tcase_add_test(tc, selection_equal_is_order_and_mask_sensitive);
	tcase_add_test(tc, values_set_checks_length_index_and_bank);
	tcase_add_test(tc, digest_is_hash_of_selected_values_in_order);
	tcase_add_test(tc, digest_reports_missing_value);
	tcase_add_test(tc, tpm2tools_dump_of_two_banks_parses);
	tcase_add_test(tc, tpm2tools_dump_rejects_truncation_and_trailing);
	tcase_add_test(tc, hash_table_maps_ids_names_and_sizes);
	tcase_add_test(tc, qualified_name_matches_keylime_quote_signer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
