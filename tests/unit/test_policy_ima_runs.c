/*
 * test_policy_ima_runs.c — the runs that let a big ima: section skip
 * libyaml's scanner (policy_ima_runs.c): what is cut and how offsets map
 * back, and that a compile says what libyaml alone says where the lines
 * only look like runs (block scalars, quoted or plain continuations, flow
 * collections, bad digests, duplicate paths).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"
#include "common/appraise/policy_ima_int.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "4444444444444444444444444444444444444444444444444444444444444444"
#define S1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char runs_yaml[] =
    "name: t\n"
    "ima:\n"
    "  allow:\n"
    "    /a: [ \"sha256:" D1 "\" ]\n"
    "    /b: [ " D2 ", \"sha1:" S1 "\" ]\n"
    "  allow_digests:\n"
    "    - " D3 "\n"
    "    - sha256:" D4 "\n"
    "  unknown: fail\n"
    "bank: sha256\n";

/* The verdict of one sha256 (or sha1 by length) file entry; NULL if ok. */
static const char *
judge(const struct policy *pol, const char *path, const char *hex)
{
	static char id[64];
	struct ima_entry e;
	struct verdict vd;
	uint8_t d[TPM2_MAX_DIGEST];
	size_t n;

	memset(&e, 0, sizeof(e));
	e.pcr = 10;
	e.tmpl = IMA_TMPL_IMA_NG;
	cur_init(&e.name, path, strlen(path));
	ck_assert_int_eq(hex_decode(hex, d, sizeof(d), &n), 0);
	e.dalg = n == 20 ? TPM2_ALG_SHA1 : TPM2_ALG_SHA256;
	cur_init(&e.digest, d, n);
	verdict_init(&vd);
	ima_policy_check(policy_ima(pol), &e, &vd);
	if (vd.nfail == 0)
		return NULL;
	snprintf(id, sizeof(id), "%s", vd.fail[0].id);
	return id;
}

static struct policy *
compile_ok(const char *text)
{
	struct policy *p = NULL;

	ck_assert_msg(policy_compile(text, strlen(text), "t", &p) == ASSAY_OK,
	    "%s", assay_err_detail());
	ck_assert_ptr_nonnull(policy_ima(p));
	return p;
}

static int
compile_err(const char *text)
{
	struct policy *p = NULL;
	int r = policy_compile(text, strlen(text), "t", &p);

	ck_assert_ptr_null(p);
	return r;
}

START_TEST(runs_cut_to_one_marker_line_each)
{
	struct ima_runs rs;
	const char *a = strstr(runs_yaml, "/a"), *b_end;

	b_end = strchr(strstr(runs_yaml, "/b"), '\n');
	ima_runs_find(runs_yaml, strlen(runs_yaml), &rs);
	ck_assert_uint_eq(rs.n, 2);
	ck_assert_str_eq(rs.text, "name: t\nima:\n  allow:\n    _: []\n"
	    "  allow_digests:\n    - _\n  unknown: fail\nbank: sha256\n");
	ck_assert_uint_eq(rs.r[0].kind, RUN_PATHS);
	ck_assert_uint_eq(rs.r[1].kind, RUN_DIGESTS);
	ck_assert_uint_eq(ima_runs_orig(&rs, rs.r[0].rbyte),
	    (size_t)(a - runs_yaml));
	ck_assert_uint_eq(ima_runs_orig(&rs, rs.r[0].rbyte + 5),
	    (size_t)(b_end - runs_yaml));
	ck_assert_uint_eq(ima_runs_orig(&rs, 3), 3);
	ima_runs_free(&rs);
}
END_TEST

START_TEST(runs_count_characters_like_libyaml)
{
	/* "é" is two bytes, one character; a BOM is none. */
	static const char text[] = "\xef\xbb\xbf# caf\xc3\xa9\nl:\n  - " D1
	    "\n  - " D2 "\n";
	struct ima_runs rs;

	ima_runs_find(text, strlen(text), &rs);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_uint_eq(rs.r[0].rbyte, 3 + 8 + 3 + 4);
	ck_assert_uint_eq(rs.r[0].rchar, 7 + 3 + 4);
	ima_runs_free(&rs);
}
END_TEST

START_TEST(runs_compile_to_the_same_policy)
{
	struct policy *p = compile_ok(runs_yaml);

	ck_assert_ptr_null(judge(p, "/a", D1));
	ck_assert_str_eq(judge(p, "/a", D2), "ima.not_allowed");
	ck_assert_ptr_null(judge(p, "/b", D2));
	ck_assert_ptr_null(judge(p, "/b", S1));
	ck_assert_ptr_null(judge(p, "/anything", D3));
	ck_assert_ptr_null(judge(p, "/anything", D4));
	ck_assert_str_eq(judge(p, "/anything", D1), "ima.not_allowed");
	policy_unref(p);
	/* the cut after the section is where the original says */
	ck_assert_int_eq(compile_err("ima:\n  allow_digests:\n    - " D1 "\n"
	    "    - " D2 "\nbank: sha7\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 5: unknown bank (want "
	    "sha1, sha256, sha384 or sha512)");
}
END_TEST

START_TEST(lines_in_a_block_scalar_are_text)
{
	struct policy *p = compile_ok("description: |\n  - " D1 "\n  - " D2
	    "\nima:\n  allow_digests:\n  - " D3 "\n  - " D4 "\n");

	ck_assert_str_eq(judge(p, "/x", D1), "ima.not_allowed");
	ck_assert_ptr_null(judge(p, "/x", D3));
	policy_unref(p);
}
END_TEST

START_TEST(lines_in_quoted_or_plain_scalars_are_text)
{
	struct policy *p = compile_ok("description: \"x\n  - " D1 "\n  - " D2
	    "\n  y\"\nima:\n  allow_digests: [ " D3 " ]\n");

	ck_assert_str_eq(judge(p, "/x", D1), "ima.not_allowed");
	policy_unref(p);
	p = compile_ok("description: x\n  - " D1 "\n  - " D2 "\nima:\n"
	    "  allow_digests: [ " D3 " ]\n");
	ck_assert_str_eq(judge(p, "/x", D2), "ima.not_allowed");
	ck_assert_ptr_null(judge(p, "/x", D3));
	policy_unref(p);
}
END_TEST

START_TEST(path_lines_in_a_flow_mapping_need_commas)
{
	ck_assert_int_eq(compile_err("ima:\n  allow: {\n    /a: [ \"" D1
	    "\" ]\n    /b: [ \"" D2 "\" ]\n  }\n"), ASSAY_ERR_CONFIG);
}
END_TEST

START_TEST(lines_after_a_path_run_scan_as_after_the_original)
{
	/* a flow sequence takes no continuation line; a "_" value would */
	ck_assert_int_eq(compile_err("ima:\n  allow:\n    /a: [ \"" D1 "\" ]\n"
	    "    /b: [ \"" D2 "\" ]\n      y\n"), ASSAY_ERR_CONFIG);
}
END_TEST

START_TEST(bad_digest_in_a_run_names_its_line)
{
	ck_assert_int_eq(compile_err("ima:\n  allow_digests:\n    - " D1 "\n"
	    "    - sha256:zz" D1 "\n    - " D2 "\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: 'sha256:zz" D1 "' has "
	    "the wrong length for its algorithm");
	ck_assert_int_eq(compile_err("ima:\n  allow:\n    /a: [ \"" D1 "\" ]\n"
	    "    /b: [ \"" D2 "\" ]\n    /a: [ \"" D3 "\" ]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 5: '/a' listed twice in "
	    "allow");
}
END_TEST

START_TEST(runs_outside_the_section_are_skipped)
{
	struct policy *p = compile_ok("measured_boot: {}\nima:\n  allow:\n"
	    "    /a: [ \"" D1 "\" ]\n    /b: [ \"" D2 "\" ]\n  buffers:\n"
	    "    kexec-cmdline:\n      - " D3 "\n      - " D4 "\n");

	ck_assert_ptr_null(judge(p, "/b", D2));
	ck_assert_str_eq(judge(p, "/b", D3), "ima.not_allowed");
	policy_unref(p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("policy_ima_runs");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, runs_cut_to_one_marker_line_each);
	tcase_add_test(tc, runs_count_characters_like_libyaml);
	tcase_add_test(tc, runs_compile_to_the_same_policy);
	tcase_add_test(tc, lines_in_a_block_scalar_are_text);
	tcase_add_test(tc, lines_in_quoted_or_plain_scalars_are_text);
	tcase_add_test(tc, path_lines_in_a_flow_mapping_need_commas);
	tcase_add_test(tc, lines_after_a_path_run_scan_as_after_the_original);
	tcase_add_test(tc, bad_digest_in_a_run_names_its_line);
	tcase_add_test(tc, runs_outside_the_section_are_skipped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int nfail;

	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
