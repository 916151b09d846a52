/*
 * test_ima.c — IMA list parsing: the corpus lists in tests/data/ima
 * (binary and ASCII, every template they hold), refusal of truncated and
 * malformed lists with the entry and offset, template-hash checks, and
 * ASCII/binary equivalence.
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

static size_t
count_tmpl(const struct ima_list *l, int tmpl)
{
	size_t i, c = 0;

	for (i = 0; i < l->n; i++)
		c += l->e[i].tmpl == tmpl;
	return c;
}

static void
all_thash_ok(const struct ima_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		ck_assert_msg(ima_entry_check_thash(&l->e[i], l->thash_alg) == ASSAY_OK,
		    "entry %zu: %s", i, assay_err_detail());
}

static const struct {
	const char	*file;
	size_t		 entries;
	int		 tmpl;
	size_t		 violations;
} corpus[] = {
	{ "h12ssl.binary_runtime_measurements", 2365, IMA_TMPL_IMA_NG, 2 },
	{ "sr630.binary_runtime_measurements", 3696, IMA_TMPL_IMA_SIG, 154 },
	{ "h12ssl.values.binary_runtime_measurements", 5071, IMA_TMPL_IMA_NG, 9 },
	{ "dl160-fwupd-report.evidence.binary_runtime_measurements", 16169,
	    IMA_TMPL_IMA_NG, 24 },
	{ "hahuri-invalid-eventlog.values.binary_runtime_measurements", 37,
	    IMA_TMPL_IMA_NG, 0 },
	{ "sml-ima-sha1-invalidated.bin", 1, IMA_TMPL_IMA, 1 },
	{ "sml-ima-sig-sha256-invalidated.bin", 2, IMA_TMPL_IMA_SIG, 1 },
};

START_TEST(corpus_binary_list_parses_with_valid_template_hashes)
{
	struct ima_list l;
	size_t n, i, v = 0, used;
	uint8_t *p = load(corpus[_i].file, &n);

	ck_assert_msg(ima_parse_binary(p, n, TPM2_ALG_SHA1, &l, &used) == ASSAY_OK,
	    "%s: %s", corpus[_i].file, assay_err_detail());
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(l.n, corpus[_i].entries);
	for (i = 0; i < l.n; i++)
		v += l.e[i].violation != 0;
	ck_assert_uint_eq(v, corpus[_i].violations);
	ck_assert_uint_ge(count_tmpl(&l, corpus[_i].tmpl), 1);
	all_thash_ok(&l);
	ima_list_free(&l);
	free(p);
}
END_TEST

START_TEST(hahuri_has_ima_buf_entries)
{
	struct ima_list l;
	size_t n, i;
	uint8_t *p = load("hahuri-invalid-eventlog.values.binary_runtime_measurements", &n);

	ck_assert_int_eq(ima_parse_binary(p, n, TPM2_ALG_SHA1, &l, NULL), ASSAY_OK);
	ck_assert_uint_eq(count_tmpl(&l, IMA_TMPL_IMA_BUF), 4);
	for (i = 0; i < l.n; i++) {
		ck_assert_uint_eq(l.e[i].dalg, TPM2_ALG_SHA256);
		ck_assert_uint_eq(l.e[i].digest.len, 32);
		if (l.e[i].tmpl == IMA_TMPL_IMA_BUF)
			ck_assert_uint_gt(l.e[i].buf.len, 0);
	}
	ima_list_free(&l);
	free(p);
}
END_TEST

/*
 * The tpm2-tss FAPI lists stop one byte (0x0a: the low byte of the next
 * entry's PCR index 10) or six bytes (PCR 10 + 2 bytes of a template
 * hash) into a further entry: cut lists, refused with entry and offset;
 * the complete entries before the cut parse.
 */
static const struct {
	const char	*file;
	size_t		 good;	/* bytes of complete entries */
	size_t		 entries;
	int		 tmpl;
	const char	*where;
} cut[] = {
	{ "sml-ima-sha1.bin", 916, 12, IMA_TMPL_IMA, "entry 12 at offset 916" },
	{ "sml-ima-ng-sha1.bin", 558, 6, IMA_TMPL_IMA_NG, "entry 6 at offset 558" },
	{ "sml-ima-sig-sha256.bin", 987, 9, IMA_TMPL_IMA_SIG, "entry 9 at offset 987" },
};

START_TEST(cut_tpm2tss_list_is_refused_with_entry_and_offset)
{
	struct ima_list l;
	size_t n, used;
	uint8_t *p = load(cut[_i].file, &n);

	ck_assert_int_eq(ima_parse_binary(p, n, TPM2_ALG_SHA1, &l, &used),
	    ASSAY_ERR_TRUNCATED);
	ck_assert_msg(strstr(assay_err_detail(), cut[_i].where) != NULL, "%s",
	    assay_err_detail());
	ck_assert_uint_eq(used, cut[_i].good);
	ck_assert_ptr_null(l.e);
	ck_assert_int_eq(ima_parse_binary(p, cut[_i].good, TPM2_ALG_SHA1, &l, NULL),
	    ASSAY_OK);
	ck_assert_uint_eq(l.n, cut[_i].entries);
	ck_assert_uint_eq(count_tmpl(&l, cut[_i].tmpl), l.n);
	all_thash_ok(&l);
	ima_list_free(&l);
	free(p);
}
END_TEST

START_TEST(truncated_invalidated_ng_list_is_refused_at_entry_0)
{
	struct ima_list l;
	size_t n;
	uint8_t *p = load("sml-ima-ng-sha1-invalidated.bin", &n);

	ck_assert_int_eq(ima_parse_binary(p, n, TPM2_ALG_SHA1, &l, NULL),
	    ASSAY_ERR_TRUNCATED);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(),
	    "entry 0 at offset 0: template data truncated"));
	free(p);
}
END_TEST

START_TEST(legacy_ima_template_decodes_digest_and_name)
{
	struct ima_list l;
	size_t n;
	uint8_t *p = load("sml-ima-sha1.bin", &n);

	ck_assert_int_eq(ima_parse_binary(p, 916, TPM2_ALG_SHA1, &l, NULL), ASSAY_OK);
	ck_assert_uint_eq(l.e[0].digest.len, 20);
	ck_assert_uint_eq(l.e[0].dalg, TPM2_ALG_SHA1);
	ck_assert_uint_eq(l.e[11].name.len, strlen("/scripts/init-top/blacklist"));
	ck_assert(memcmp(l.e[11].name.p, "/scripts/init-top/blacklist", 27) == 0);
	ima_list_free(&l);
	free(p);
}
END_TEST

START_TEST(ibm_acs_tampered_entry_fails_template_hash_by_name)
{
	struct ima_list l;
	size_t n, i, bad = 0, nbad = 0;
	uint8_t *p = load("imasig.log", &n);

	ck_assert_int_eq(ima_parse_binary(p, n, TPM2_ALG_SHA1, &l, NULL), ASSAY_OK);
	ck_assert_uint_eq(l.n, 1083);
	for (i = 0; i < l.n; i++)
		if (ima_entry_check_thash(&l.e[i], TPM2_ALG_SHA1) != ASSAY_OK) {
			ck_assert_int_eq(ima_entry_check_thash(&l.e[i],
			    TPM2_ALG_SHA1), ASSAY_FAIL);
			ck_assert_ptr_nonnull(strstr(assay_err_detail(),
			    "/usr/bin/xautt"));
			bad = i;
			nbad++;
		}
	ck_assert_uint_eq(nbad, 1);
	ck_assert_uint_eq(bad, 1079);
	ima_list_free(&l);
	free(p);
}
END_TEST

START_TEST(ascii_rendering_of_binary_list_gives_same_entries)
{
	static const char *files[] = {
		"h12ssl.values.binary_runtime_measurements",
		"sr630.binary_runtime_measurements",
		"hahuri-invalid-eventlog.values.binary_runtime_measurements",
		"imasig.log",
	};
	struct ima_list lb, la;
	struct buf txt;
	size_t n, i;
	uint8_t *p = load(files[_i], &n);

	ck_assert_int_eq(ima_parse_binary(p, n, TPM2_ALG_SHA1, &lb, NULL), ASSAY_OK);
	buf_init(&txt);
	gen_ascii(&txt, &lb);
	ck_assert_msg(ima_parse_ascii((const char *)txt.d, txt.len, &la) == ASSAY_OK,
	    "%s", assay_err_detail());
	ck_assert_uint_eq(la.n, lb.n);
	ck_assert_uint_eq(la.thash_alg, TPM2_ALG_SHA1);
	for (i = 0; i < la.n; i++) {
		ck_assert_int_eq(la.e[i].tmpl, lb.e[i].tmpl);
		ck_assert(memcmp(la.e[i].thash, lb.e[i].thash, 20) == 0);
		ck_assert_uint_eq(la.e[i].tdata.len, lb.e[i].tdata.len);
		ck_assert(memcmp(la.e[i].tdata.p, lb.e[i].tdata.p, la.e[i].tdata.len) == 0);
		ck_assert_uint_eq(la.e[i].dalg, lb.e[i].dalg);
		ck_assert_uint_eq(la.e[i].sig.len, lb.e[i].sig.len);
	}
	buf_free(&txt);
	ima_list_free(&la);
	ima_list_free(&lb);
	free(p);
}
END_TEST

START_TEST(legacy_ima_ascii_matches_binary)
{
	struct ima_list lb, la;
	struct buf txt;
	size_t n, i;
	uint8_t *p = load("sml-ima-sha1.bin", &n);

	ck_assert_int_eq(ima_parse_binary(p, 916, TPM2_ALG_SHA1, &lb, NULL), ASSAY_OK);
	buf_init(&txt);
	gen_ascii(&txt, &lb);
	ck_assert_int_eq(ima_parse_ascii((const char *)txt.d, txt.len, &la), ASSAY_OK);
	ck_assert_uint_eq(la.n, 12);
	for (i = 0; i < la.n; i++) {
		ck_assert_uint_eq(la.e[i].tdata.len, lb.e[i].tdata.len);
		ck_assert(memcmp(la.e[i].tdata.p, lb.e[i].tdata.p, la.e[i].tdata.len) == 0);
	}
	all_thash_ok(&la);
	buf_free(&txt);
	ima_list_free(&la);
	ima_list_free(&lb);
	free(p);
}
END_TEST

static const struct {
	const char	*file;
	size_t		 entries;
	int		 tmpl;
	uint16_t	 thash;
	uint16_t	 dalg;
} ascii[] = {
	{ "ascii_runtime_measurements.ima", 867, IMA_TMPL_IMA, TPM2_ALG_SHA1, TPM2_ALG_SHA1 },
	{ "ascii_runtime_measurements.ima-ng", 826, IMA_TMPL_IMA_NG, TPM2_ALG_SHA1, TPM2_ALG_SHA1 },
	{ "h12ssl.ascii_runtime_measurements", 2380, IMA_TMPL_IMA_NG, TPM2_ALG_SHA1, TPM2_ALG_SHA1 },
	{ "create-runtime-policy_ima-log-sha1", 2, IMA_TMPL_IMA_NG, TPM2_ALG_SHA1, TPM2_ALG_SHA1 },
	{ "create-runtime-policy_ima-log-sha256", 2, IMA_TMPL_IMA_NG, TPM2_ALG_SHA1, TPM2_ALG_SHA256 },
	{ "create-runtime-policy_ima-log-sha384", 2, IMA_TMPL_IMA_NG, TPM2_ALG_SHA1, TPM2_ALG_SHA384 },
	{ "create-runtime-policy_ima-log-sha512", 2, IMA_TMPL_IMA_NG, TPM2_ALG_SHA1, TPM2_ALG_SHA512 },
};

START_TEST(corpus_ascii_list_parses_with_valid_template_hashes)
{
	struct ima_list l;
	size_t n;
	uint8_t *p = load(ascii[_i].file, &n);

	ck_assert_msg(ima_parse_ascii((const char *)p, n, &l) == ASSAY_OK, "%s: %s",
	    ascii[_i].file, assay_err_detail());
	ck_assert_uint_eq(l.n, ascii[_i].entries);
	ck_assert_uint_eq(l.thash_alg, ascii[_i].thash);
	ck_assert_uint_eq(count_tmpl(&l, ascii[_i].tmpl), l.n);
	ck_assert_uint_eq(l.e[l.n - 1].dalg, ascii[_i].dalg);
	all_thash_ok(&l);
	ima_list_free(&l);
	free(p);
}
END_TEST

/* keylime's sm3/unknown logs: 32-byte template hashes (a per-bank list)
 * whose values are placeholders; the algorithm names are what matter. */
START_TEST(unknown_digest_algorithm_parses_with_null_alg_and_name)
{
	struct ima_list l;
	size_t n;
	uint8_t *p = load("create-runtime-policy_ima-log-unknown", &n);

	ck_assert_int_eq(ima_parse_ascii((const char *)p, n, &l), ASSAY_OK);
	ck_assert_uint_eq(l.thash_alg, TPM2_ALG_SHA256);
	ck_assert_uint_eq(l.e[1].dalg, TPM2_ALG_NULL);
	ck_assert_uint_eq(l.e[1].dalg_name.len, 7);
	ck_assert(memcmp(l.e[1].dalg_name.p, "unknown", 7) == 0);
	ck_assert_uint_eq(l.e[1].digest.len, 29);
	ima_list_free(&l);
	free(p);
}
END_TEST

START_TEST(sm3_spellings_map_to_sm3_256)
{
	size_t n;
	struct ima_list l;
	uint8_t *p = load("create-runtime-policy_ima-log-sm3_256", &n);

	ck_assert_uint_eq(ima_digest_alg_by_name((const uint8_t *)"sm3", 3), TPM2_ALG_SM3_256);
	ck_assert_uint_eq(ima_digest_alg_by_name((const uint8_t *)"sm3-256", 7), TPM2_ALG_SM3_256);
	ck_assert_uint_eq(ima_digest_alg_by_name((const uint8_t *)"md5", 3), TPM2_ALG_NULL);
	ck_assert_int_eq(ima_parse_ascii((const char *)p, n, &l), ASSAY_OK);
	ck_assert_uint_eq(l.e[1].dalg, TPM2_ALG_SM3_256);
	ima_list_free(&l);
	free(p);
}
END_TEST

START_TEST(ascii_bad_hex_is_refused_with_line)
{
	static const char txt[] =
	    "10 972d62ff5b3a74e89952e0980b2099eed49bf8f0 ima-ng sha1:e9002ba6c5a98f5b7a33dc6bbf9ac1863873b713 /init\n"
	    "10 972d62ff5b3a74e89952e0980b2099eed49bf8f0 ima-ng sha1:zz002ba6c5a98f5b7a33dc6bbf9ac1863873b713 /init\n";
	struct ima_list l;

	ck_assert_int_eq(ima_parse_ascii(txt, sizeof(txt) - 1, &l), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "line 2 (entry 1)"));
}
END_TEST

START_TEST(unknown_template_is_unsupported)
{
	struct buf b;
	struct ima_list l;
	uint8_t dg[32] = { 1 };

	buf_init(&b);
	gen_entry(&b, TPM2_ALG_SHA1, "evm-sig", "sha256", dg, 32, "/x", NULL, 0, 0);
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA1, &l, NULL),
	    ASSAY_ERR_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "unknown template"));
	buf_free(&b);
}
END_TEST

START_TEST(digest_size_must_match_known_algorithm)
{
	struct buf b;
	struct ima_list l;
	uint8_t dg[32] = { 1 };

	buf_init(&b);
	gen_entry(&b, TPM2_ALG_SHA1, "ima-ng", "sha256", dg, 20, "/x", NULL, 0, 0);
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA1, &l, NULL),
	    ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "does not match its algorithm"));
	buf_free(&b);
}
END_TEST

START_TEST(oversized_template_data_length_is_range_error)
{
	static const uint8_t hdr[] = { 10, 0, 0, 0 };
	struct buf b;
	struct ima_list l;
	uint8_t z[20] = { 1 };

	buf_init(&b);
	buf_put(&b, hdr, 4);
	buf_put(&b, z, 20);
	gen_u32le(&b, 6);
	buf_put(&b, "ima-ng", 6);
	gen_u32le(&b, IMA_TEMPLATE_DATA_MAX + 1);
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA1, &l, NULL),
	    ASSAY_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "IMA_TEMPLATE_DATA_MAX"));
	buf_free(&b);
}
END_TEST

START_TEST(name_without_nul_is_refused)
{
	struct buf b;
	struct ima_list l;
	uint8_t dg[20] = { 1 };

	buf_init(&b);
	gen_entry(&b, TPM2_ALG_SHA1, "ima-ng", "sha1", dg, 20, "/x", NULL, 0, 0);
	b.d[b.len - 1] = 'y';	/* the name's NUL */
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA1, &l, NULL),
	    ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not NUL-terminated"));
	buf_free(&b);
}
END_TEST

START_TEST(sha256_list_template_hashes_check_in_sha256)
{
	struct buf b;
	struct ima_list l;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA256, 50, 7);
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA256, &l, NULL), ASSAY_OK);
	ck_assert_uint_eq(l.n, 50);
	all_thash_ok(&l);
	ck_assert_int_eq(ima_entry_check_thash(&l.e[0], TPM2_ALG_SHA1), ASSAY_FAIL);
	ima_list_free(&l);
	buf_free(&b);
}
END_TEST

static Suite *
ima_suite(void)
{
	Suite *s = suite_create("ima");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, corpus_binary_list_parses_with_valid_template_hashes,
	    0, sizeof(corpus) / sizeof(corpus[0]));
	tcase_add_test(tc, hahuri_has_ima_buf_entries);
	tcase_add_loop_test(tc, cut_tpm2tss_list_is_refused_with_entry_and_offset,
	    0, sizeof(cut) / sizeof(cut[0]));
	tcase_add_test(tc, truncated_invalidated_ng_list_is_refused_at_entry_0);
	tcase_add_test(tc, legacy_ima_template_decodes_digest_and_name);
	tcase_add_test(tc, ibm_acs_tampered_entry_fails_template_hash_by_name);
	tcase_add_loop_test(tc, ascii_rendering_of_binary_list_gives_same_entries, 0, 4);
	tcase_add_test(tc, legacy_ima_ascii_matches_binary);
	tcase_add_loop_test(tc, corpus_ascii_list_parses_with_valid_template_hashes,
	    0, sizeof(ascii) / sizeof(ascii[0]));
	tcase_add_test(tc, unknown_digest_algorithm_parses_with_null_alg_and_name);
	tcase_add_test(tc, sm3_spellings_map_to_sm3_256);
	tcase_add_test(tc, ascii_bad_hex_is_refused_with_line);
	tcase_add_test(tc, unknown_template_is_unsupported);
	tcase_add_test(tc, digest_size_must_match_known_algorithm);
	tcase_add_test(tc, oversized_template_data_length_is_range_error);
	tcase_add_test(tc, name_without_nul_is_refused);
	tcase_add_test(tc, sha256_list_template_hashes_check_in_sha256);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ima_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
