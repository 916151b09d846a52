/*
 * test_ima_stream.c — the one-pass IMA replay (ima_binary_next,
 * ima_replay_binary, ima_replay_list): on the corpus lists and generated
 * ones it gives the PCR 10 values and counts of parse + ima_replay_all in
 * every bank and scheme; hostile bytes (truncated at every offset,
 * oversized lengths, zero-length names, unknown templates, tampered
 * template data) are refused with which check failed, the chains untouched.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "tests/unit/ima_gen.h"

static uint8_t *
load(const char *name, size_t *n)
{
	const char *dir = getenv("ASSAY_TEST_DATA");
	char *path = xasprintf("%s/ima/%s", dir ? dir : "tests/data", name);
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long sz;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	p = xmalloc(sz > 0 ? (size_t)sz : 1);
	ck_assert_uint_eq(fread(p, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	free(path);
	*n = (size_t)sz;
	return p;
}

/* Every bank of the SHA family under both schemes: seven chains. */
static size_t
all_chains(struct ima_chain *ch)
{
	static const uint16_t banks[] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256,
	    TPM2_ALG_SHA384, TPM2_ALG_SHA512 };
	size_t i, n = 0;

	for (i = 0; i < sizeof(banks) / sizeof(banks[0]); i++) {
		ima_chain_init(&ch[n++], banks[i], IMA_EXTEND_BANK_HASH);
		if (banks[i] != TPM2_ALG_SHA1)
			ima_chain_init(&ch[n++], banks[i], IMA_EXTEND_SHA1_PADDED);
	}
	return n;
}

/*
 * The one-pass replay of list p (template hashes in thash_alg) equals the
 * array parser + ima_replay_all() in every chain, and its tally the list's.
 */
static void
stream_equals_list(const uint8_t *p, size_t n, uint16_t thash_alg)
{
	struct ima_chain ch[IMA_CHAINS_MAX];
	struct ima_tally t;
	struct ima_list l;
	uint8_t pcr[TPM2_MAX_DIGEST];
	size_t nch, i, len, bad, viol = 0, tmpl[IMA_TMPL_MAX] = { 0 };

	nch = all_chains(ch);
	ck_assert_msg(ima_replay_binary(p, n, thash_alg, ch, nch, &t, &bad) ==
	    ASSAY_OK, "%s", assay_err_detail());
	ck_assert_uint_eq(bad, SIZE_MAX);
	ck_assert_int_eq(ima_parse_binary(p, n, thash_alg, &l, NULL), ASSAY_OK);
	ck_assert_uint_eq(t.entries, l.n);
	for (i = 0; i < l.n; i++) {
		viol += l.e[i].violation != 0;
		tmpl[l.e[i].tmpl]++;
	}
	ck_assert_uint_eq(t.violations, viol);
	ck_assert_mem_eq(t.tmpl, tmpl, sizeof(tmpl));
	for (i = 0; i < nch; i++) {
		ck_assert_int_eq(ima_replay_all(&l, ch[i].bank, ch[i].scheme, pcr,
		    &len, NULL), ASSAY_OK);
		ck_assert_uint_eq(len, ch[i].len);
		ck_assert_msg(memcmp(pcr, ch[i].pcr, len) == 0,
		    "bank 0x%04x scheme %d differs", ch[i].bank, ch[i].scheme);
	}
	ima_list_free(&l);
}

static const char *const corpus[] = {
	"h12ssl.binary_runtime_measurements",
	"sr630.binary_runtime_measurements",
	"h12ssl.values.binary_runtime_measurements",
	"hahuri-invalid-eventlog.values.binary_runtime_measurements",
	"sml-ima-sha1-invalidated.bin",
	"sml-ima-sig-sha256-invalidated.bin",
};

START_TEST(corpus_list_streams_to_the_array_replay_values)
{
	size_t n;
	uint8_t *p = load(corpus[_i], &n);

	stream_equals_list(p, n, TPM2_ALG_SHA1);
	free(p);
}
END_TEST

/* sha256 template hashes: the sha256 bank reuses them, sha1 is computed */
START_TEST(sha256_templated_list_with_violations_streams_alike)
{
	struct buf b;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA256, 40, 7);
	stream_equals_list(b.d, b.len, TPM2_ALG_SHA256);
	buf_free(&b);
}
END_TEST

/* Entries of other PCRs are checked and counted, never extended. */
START_TEST(entries_of_other_pcrs_count_but_do_not_extend)
{
	struct ima_chain ch, only10;
	struct buf b, b10;
	uint8_t dg[32] = { 7 };

	buf_init(&b);
	buf_init(&b10);
	gen_entry(&b, TPM2_ALG_SHA1, "ima-ng", "sha256", dg, 32, "/a", NULL, 0, 0);
	gen_entry(&b10, TPM2_ALG_SHA1, "ima-ng", "sha256", dg, 32, "/a", NULL, 0, 0);
	gen_entry(&b, TPM2_ALG_SHA1, "ima-ng", "sha256", dg, 32, "/b", NULL, 0, 0);
	b.d[b10.len] = 11;	/* the second entry's PCR */
	ima_chain_init(&ch, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
	ima_chain_init(&only10, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
	ck_assert_int_eq(ima_replay_binary(b.d, b.len, TPM2_ALG_SHA1, &ch, 1,
	    NULL, NULL), ASSAY_OK);
	ck_assert_int_eq(ima_replay_binary(b10.d, b10.len, TPM2_ALG_SHA1,
	    &only10, 1, NULL, NULL), ASSAY_OK);
	ck_assert_mem_eq(ch.pcr, only10.pcr, 32);
	stream_equals_list(b.d, b.len, TPM2_ALG_SHA1);
	buf_free(&b);
	buf_free(&b10);
}
END_TEST

START_TEST(empty_list_is_zero_entries_and_zero_pcrs)
{
	static const uint8_t zero[TPM2_MAX_DIGEST];
	struct ima_chain ch[IMA_CHAINS_MAX];
	struct ima_tally t;
	size_t nch = all_chains(ch), i;

	ck_assert_int_eq(ima_replay_binary(zero, 0, TPM2_ALG_SHA1, ch, nch, &t,
	    NULL), ASSAY_OK);
	ck_assert_uint_eq(t.entries, 0);
	for (i = 0; i < nch; i++)
		ck_assert_mem_eq(ch[i].pcr, zero, ch[i].len);
}
END_TEST

static void
same_cur(struct cur a, struct cur b)
{
	ck_assert_ptr_eq(a.p, b.p);
	ck_assert_uint_eq(a.len, b.len);
}

static void
same_entry(const struct ima_entry *a, const struct ima_entry *b)
{
	ck_assert_uint_eq(a->pcr, b->pcr);
	ck_assert_int_eq(a->tmpl, b->tmpl);
	ck_assert_uint_eq(a->thash_alg, b->thash_alg);
	ck_assert_mem_eq(a->thash, b->thash, sizeof(a->thash));
	ck_assert_int_eq(a->violation, b->violation);
	ck_assert_uint_eq(a->dalg, b->dalg);
	ck_assert_int_eq(a->verity, b->verity);
	ck_assert_uint_eq(a->modsig_dalg, b->modsig_dalg);
	same_cur(a->tdata, b->tdata);
	same_cur(a->digest, b->digest);
	same_cur(a->name, b->name);
	same_cur(a->sig, b->sig);
	same_cur(a->buf, b->buf);
	same_cur(a->modsig_digest, b->modsig_digest);
	same_cur(a->modsig, b->modsig);
	same_cur(a->dalg_name, b->dalg_name);
	same_cur(a->modsig_dalg_name, b->modsig_dalg_name);
}

/* ima_binary_next decodes what the array parser does, entry by entry. */
START_TEST(binary_next_decodes_the_parsers_entries)
{
	struct ima_list l;
	struct ima_entry e;
	struct cur c;
	const char *why;
	size_t n, i = 0;
	uint8_t *p = load("sr630.binary_runtime_measurements", &n);

	ck_assert_int_eq(ima_parse_binary(p, n, TPM2_ALG_SHA1, &l, NULL), ASSAY_OK);
	cur_init(&c, p, n);
	while (cur_left(&c) > 0) {
		ck_assert_int_eq(ima_binary_next(&c, TPM2_ALG_SHA1, &e, &why),
		    ASSAY_OK);
		ck_assert_uint_lt(i, l.n);
		same_entry(&e, &l.e[i]);
		i++;
	}
	ck_assert_uint_eq(i, l.n);
	ima_list_free(&l);
	free(p);
}
END_TEST

/* A list cut at every byte of its last entry: refused, nothing handed back. */
START_TEST(cut_anywhere_in_an_entry_is_truncated_and_chains_untouched)
{
	struct ima_chain ch;
	struct ima_entry e;
	struct buf b;
	struct cur c;
	const char *why;
	uint8_t dg[32] = { 3 }, mark[TPM2_MAX_DIGEST];
	size_t first, cut, bad;
	int r;

	buf_init(&b);
	gen_entry(&b, TPM2_ALG_SHA1, "ima-ng", "sha256", dg, 32, "/a", NULL, 0, 0);
	first = b.len;
	gen_entry(&b, TPM2_ALG_SHA1, "ima-sig", "sha256", dg, 32, "/b",
	    (const uint8_t *)"sig", 3, 0);
	memset(mark, 0xa5, sizeof(mark));
	for (cut = first + 1; cut < b.len; cut++) {
		ima_chain_init(&ch, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
		memcpy(ch.pcr, mark, sizeof(mark));
		r = ima_replay_binary(b.d, cut, TPM2_ALG_SHA1, &ch, 1, NULL, &bad);
		ck_assert_msg(r == ASSAY_ERR_TRUNCATED, "cut at %zu: %d", cut, r);
		ck_assert_ptr_nonnull(strstr(assay_err_detail(), "entry 1 at offset"));
		ck_assert_mem_eq(ch.pcr, mark, sizeof(mark));
		cur_init(&c, b.d + first, cut - first);
		ck_assert_int_eq(ima_binary_next(&c, TPM2_ALG_SHA1, &e, &why),
		    ASSAY_ERR_TRUNCATED);
		ck_assert_ptr_eq(c.p, b.d + first);	/* unmoved */
	}
	buf_free(&b);
}
END_TEST

/* u32 pcr, 20-byte template hash, template name tn (tl bytes). */
static void
header(struct buf *b, const char *tn, uint32_t tl)
{
	uint8_t th[20] = { 1 };

	gen_u32le(b, 10);
	buf_put(b, th, 20);
	gen_u32le(b, tl);
	buf_put(b, tn, tl);
}

static void
refused(const struct buf *b, int want, const char *why_part)
{
	struct ima_chain ch;

	ima_chain_init(&ch, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
	ck_assert_int_eq(ima_replay_binary(b->d, b->len, TPM2_ALG_SHA1, &ch, 1,
	    NULL, NULL), want);
	ck_assert_msg(strstr(assay_err_detail(), why_part) != NULL,
	    "detail \"%s\" lacks \"%s\"", assay_err_detail(), why_part);
}

START_TEST(oversized_template_data_length_is_range_error)
{
	struct buf b;

	buf_init(&b);
	header(&b, "ima-ng", 6);
	gen_u32le(&b, IMA_TEMPLATE_DATA_MAX + 1);
	refused(&b, ASSAY_ERR_RANGE, "IMA_TEMPLATE_DATA_MAX");
	buf_free(&b);
}
END_TEST

START_TEST(huge_template_data_length_is_range_not_overread)
{
	struct buf b;

	buf_init(&b);
	header(&b, "ima-ng", 6);
	gen_u32le(&b, 0xffffffffu);
	buf_put(&b, "xx", 2);
	refused(&b, ASSAY_ERR_RANGE, "IMA_TEMPLATE_DATA_MAX");
	buf_free(&b);
}
END_TEST

START_TEST(oversized_template_name_length_is_format_error)
{
	struct buf b;

	buf_init(&b);
	header(&b, "ima-ng-ima-ng-ima-ng", IMA_TEMPLATE_NAME_MAX + 1);
	refused(&b, ASSAY_ERR_FORMAT, "template name length out of range");
	buf_free(&b);
}
END_TEST

START_TEST(zero_length_template_name_is_format_error)
{
	struct buf b;

	buf_init(&b);
	header(&b, "", 0);
	gen_u32le(&b, 0);
	refused(&b, ASSAY_ERR_FORMAT, "template name length out of range");
	buf_free(&b);
}
END_TEST

/* A template name padded with NULs to another length is not "ima". */
START_TEST(nul_padded_template_name_is_unknown)
{
	struct buf b;

	buf_init(&b);
	header(&b, "ima\0\0", 5);
	gen_u32le(&b, 0);
	refused(&b, ASSAY_ERR_UNSUPPORTED, "unknown template");
	buf_free(&b);
}
END_TEST

START_TEST(zero_length_name_field_is_format_error)
{
	struct buf b, t;
	uint8_t dg[32] = { 1 };

	buf_init(&b);
	buf_init(&t);
	gen_u32le(&t, 6 + 2 + 32);
	buf_put(&t, "sha256:", 8);	/* with its NUL */
	buf_put(&t, dg, 32);
	gen_u32le(&t, 0);		/* n-ng: no bytes, not even the NUL */
	header(&b, "ima-ng", 6);
	gen_u32le(&b, (uint32_t)t.len);
	buf_put(&b, t.d, t.len);
	refused(&b, ASSAY_ERR_FORMAT, "not NUL-terminated");
	buf_free(&b);
	buf_free(&t);
}
END_TEST

/* The kernel's name for an empty path is one NUL: it parses, empty. */
START_TEST(empty_path_name_replays)
{
	struct ima_entry e;
	struct buf b;
	struct cur c;
	const char *why;
	uint8_t dg[32] = { 1 };

	buf_init(&b);
	gen_entry(&b, TPM2_ALG_SHA1, "ima-ng", "sha256", dg, 32, "", NULL, 0, 0);
	cur_init(&c, b.d, b.len);
	ck_assert_int_eq(ima_binary_next(&c, TPM2_ALG_SHA1, &e, &why), ASSAY_OK);
	ck_assert_uint_eq(e.name.len, 0);
	stream_equals_list(b.d, b.len, TPM2_ALG_SHA1);
	buf_free(&b);
}
END_TEST

START_TEST(field_overrunning_template_data_is_refused)
{
	struct buf b;

	buf_init(&b);
	header(&b, "ima-ng", 6);
	gen_u32le(&b, 8);
	gen_u32le(&b, 0x7fffffff);	/* d-ng "length" past the data */
	buf_put(&b, "abcd", 4);
	refused(&b, ASSAY_ERR_TRUNCATED, "template field overruns");
	buf_free(&b);
}
END_TEST

START_TEST(tampered_template_data_fails_at_its_index)
{
	struct ima_chain ch;
	struct buf b;
	size_t bad;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA1, 5, 0);
	b.d[b.len - 2] ^= 1;	/* a byte of the last entry's path */
	ima_chain_init(&ch, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
	ck_assert_int_eq(ima_replay_binary(b.d, b.len, TPM2_ALG_SHA1, &ch, 1,
	    NULL, &bad), ASSAY_FAIL);
	ck_assert_uint_eq(bad, 4);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "IMA entry 4"));
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "template hash"));
	buf_free(&b);
}
END_TEST

START_TEST(bad_arguments_are_refused_before_any_byte)
{
	struct ima_chain ch[IMA_CHAINS_MAX + 1];
	struct buf b;
	size_t i;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA1, 2, 0);
	for (i = 0; i <= IMA_CHAINS_MAX; i++)
		ima_chain_init(&ch[i], TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
	ck_assert_int_eq(ima_replay_binary(b.d, b.len, TPM2_ALG_SHA1, ch,
	    IMA_CHAINS_MAX + 1, NULL, NULL), ASSAY_ERR_INVAL);
	ima_chain_init(&ch[0], TPM2_ALG_SHA256, IMA_EXTEND_AUTO);
	ck_assert_int_eq(ima_replay_binary(b.d, b.len, TPM2_ALG_SHA1, ch, 1,
	    NULL, NULL), ASSAY_ERR_INVAL);
	ima_chain_init(&ch[0], 0x7777, IMA_EXTEND_BANK_HASH);
	ck_assert_uint_eq(ch[0].len, 0);
	ck_assert_int_eq(ima_replay_binary(b.d, b.len, TPM2_ALG_SHA1, ch, 1,
	    NULL, NULL), ASSAY_ERR_UNSUPPORTED);
	ima_chain_init(&ch[0], TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
	ck_assert_int_eq(ima_replay_binary(b.d, b.len, 0x7777, ch, 1, NULL,
	    NULL), ASSAY_ERR_UNSUPPORTED);
	buf_free(&b);
}
END_TEST

/* An ASCII list replays through ima_replay_list to the binary's values. */
START_TEST(ascii_list_replays_like_its_binary)
{
	struct ima_chain cb[IMA_CHAINS_MAX], ca[IMA_CHAINS_MAX];
	struct ima_tally tb, ta;
	struct ima_list lb, la;
	struct buf a;
	size_t n, nch, i;
	uint8_t *p = load("h12ssl.values.binary_runtime_measurements", &n);

	nch = all_chains(cb);
	all_chains(ca);
	ck_assert_int_eq(ima_replay_binary(p, n, TPM2_ALG_SHA1, cb, nch, &tb,
	    NULL), ASSAY_OK);
	ck_assert_int_eq(ima_parse_binary(p, n, TPM2_ALG_SHA1, &lb, NULL), ASSAY_OK);
	buf_init(&a);
	gen_ascii(&a, &lb);
	ck_assert_int_eq(ima_parse_ascii((const char *)a.d, a.len, &la), ASSAY_OK);
	ck_assert_int_eq(ima_replay_list(&la, ca, nch, &ta, NULL), ASSAY_OK);
	ck_assert_mem_eq(&ta, &tb, sizeof(ta));
	for (i = 0; i < nch; i++)
		ck_assert_mem_eq(ca[i].pcr, cb[i].pcr, cb[i].len);
	ima_list_free(&la);
	ima_list_free(&lb);
	buf_free(&a);
	free(p);
}
END_TEST

static Suite *
ima_stream_suite(void)
{
	Suite *s = suite_create("ima_stream");
	TCase *tc = tcase_create("stream");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, corpus_list_streams_to_the_array_replay_values,
	    0, sizeof(corpus) / sizeof(corpus[0]));
	tcase_add_test(tc, sha256_templated_list_with_violations_streams_alike);
	tcase_add_test(tc, entries_of_other_pcrs_count_but_do_not_extend);
	tcase_add_test(tc, empty_list_is_zero_entries_and_zero_pcrs);
	tcase_add_test(tc, binary_next_decodes_the_parsers_entries);
	tcase_add_test(tc, cut_anywhere_in_an_entry_is_truncated_and_chains_untouched);
	tcase_add_test(tc, oversized_template_data_length_is_range_error);
	tcase_add_test(tc, huge_template_data_length_is_range_not_overread);
	tcase_add_test(tc, oversized_template_name_length_is_format_error);
	tcase_add_test(tc, zero_length_template_name_is_format_error);
	tcase_add_test(tc, nul_padded_template_name_is_unknown);
	tcase_add_test(tc, zero_length_name_field_is_format_error);
	tcase_add_test(tc, empty_path_name_replays);
	tcase_add_test(tc, field_overrunning_template_data_is_refused);
	tcase_add_test(tc, tampered_template_data_fails_at_its_index);
	tcase_add_test(tc, bad_arguments_are_refused_before_any_byte);
	tcase_add_test(tc, ascii_list_replays_like_its_binary);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ima_stream_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
