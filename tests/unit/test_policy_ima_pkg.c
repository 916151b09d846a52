/*
 * test_policy_ima_pkg.c — the packages: key of an ima: section: every
 * listed version's (path, digest) is allowed like an allow: entry (with
 * allow:'s own set united), a listed path with another digest fails,
 * and bad sections are refused with the line and the reason.
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

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "4444444444444444444444444444444444444444444444444444444444444444"
#define D9 "9999999999999999999999999999999999999999999999999999999999999999"
#define S1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Two versions of demo (an update window), one of other, and allow:. */
static const char window_yaml[] =
    "name: t\n"
    "bank: sha256\n"
    "ima:\n"
    "  allow:\n"
    "    \"/usr/bin/shared\": [ \"sha256:" D4 "\" ]\n"
    "  packages:\n"
    "    - name: demo\n"
    "      version: \"1.0-1\"\n"
    "      arch: amd64\n"
    "      source: \"deb sha256:" D9 "\"\n"
    "      files:\n"
    "        \"/usr/bin/demo\": \"sha256:" D1 "\"\n"
    "        \"/usr/bin/shared\": \"sha256:" D3 "\"\n"
    "    - name: demo\n"
    "      version: \"1.1-1\"\n"
    "      files:\n"
    "        \"/usr/bin/demo\": \"sha256:" D2 "\"\n"
    "    - name: other\n"
    "      version: \"2\"\n"
    "      files: { \"/usr/lib/other.so\": [ \"sha256:" D3 "\" ] }\n"
    "  unknown: fail\n";

struct fx {
	struct policy		*pol;
	const struct ima_policy	*ip;
	struct ima_entry	 e;
	uint8_t			 d[TPM2_MAX_DIGEST];
	char			 name[256];
	struct verdict		 vd;
};

static void
fx_compile(struct fx *f, const char *text)
{
	int r;

	memset(f, 0, sizeof(*f));
	r = policy_compile(text, strlen(text), NULL, &f->pol);
	ck_assert_msg(r == ASSAY_OK, "%s", assay_err_detail());
	f->ip = policy_ima(f->pol);
	ck_assert_ptr_nonnull(f->ip);
}

/* Check an ima-ng entry (path, sha256 hex); the number of failures. */
static size_t
fx_check(struct fx *f, const char *path, const char *hex)
{
	size_t n;

	memset(&f->e, 0, sizeof(f->e));
	f->e.pcr = 10;
	f->e.tmpl = IMA_TMPL_IMA_NG;
	snprintf(f->name, sizeof(f->name), "%s", path);
	cur_init(&f->e.name, f->name, strlen(f->name));
	ck_assert_int_eq(hex_decode(hex, f->d, sizeof(f->d), &n), 0);
	f->e.dalg = TPM2_ALG_SHA256;
	cur_init(&f->e.digest, f->d, n);
	verdict_init(&f->vd);
	ima_policy_check(f->ip, &f->e, &f->vd);
	return f->vd.nfail;
}

/* The compile error of text (which must fail); its message. */
static const char *
compile_err(const char *text)
{
	struct policy *p = NULL;
	int r = policy_compile(text, strlen(text), "t", &p);

	ck_assert_int_eq(r, ASSAY_ERR_CONFIG);
	ck_assert_ptr_null(p);
	return assay_err_detail();
}

START_TEST(every_version_of_a_package_is_allowed)
{
	struct fx f;

	fx_compile(&f, window_yaml);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/demo", D1), 0);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/demo", D2), 0);
	ck_assert_uint_eq(fx_check(&f, "/usr/lib/other.so", D3), 0);
	policy_unref(f.pol);
}
END_TEST

START_TEST(listed_path_with_another_digest_fails)
{
	struct fx f;

	fx_compile(&f, window_yaml);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/demo", D3), 1);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert_uint_eq(fx_check(&f, "/usr/lib/other.so", D1), 1);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/unlisted", D1), 1);
	policy_unref(f.pol);
}
END_TEST

START_TEST(package_digests_unite_with_allow)
{
	struct fx f;
	struct ima_policy_stats st;

	fx_compile(&f, window_yaml);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/shared", D4), 0);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/shared", D3), 0);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/shared", D1), 1);
	ima_policy_stats(f.ip, &st);
	ck_assert_uint_eq(st.paths, 3);
	ck_assert_uint_eq(st.digests, 4);
	policy_unref(f.pol);
}
END_TEST

START_TEST(packages_alone_make_a_section)
{
	static const char text[] =
	    "name: t\n"
	    "ima:\n"
	    "  packages:\n"
	    "    - { name: a, version: \"1\", files: {} }\n"
	    "    - name: b\n"
	    "      version: \"1\"\n"
	    "      files:\n"
	    "        \"/bin/b\": \"" D1 "\"\n";
	struct fx f;

	fx_compile(&f, text);
	ck_assert_uint_eq(fx_check(&f, "/bin/b", D1), 0);
	ck_assert_uint_eq(fx_check(&f, "/bin/b", D2), 1);
	policy_unref(f.pol);
}
END_TEST

START_TEST(fast_path_lines_inside_files_compile)
{
	/* Lines the runs would cut ("/p: [ d ]", "- d") inside files:. */
	static const char text[] =
	    "name: t\n"
	    "ima:\n"
	    "  packages:\n"
	    "    - name: a\n"
	    "      version: \"1\"\n"
	    "      files:\n"
	    "        /usr/bin/a: [ \"sha256:" D1 "\" ]\n"
	    "        /usr/bin/b: [ \"sha256:" D2 "\" ]\n"
	    "        /usr/bin/c: [ \"sha256:" D3 "\" ]\n"
	    "        /usr/bin/d:\n"
	    "          - sha256:" D1 "\n"
	    "          - sha256:" D4 "\n";
	struct fx f;

	fx_compile(&f, text);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/b", D2), 0);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/d", D4), 0);
	ck_assert_uint_eq(fx_check(&f, "/usr/bin/c", D1), 1);
	policy_unref(f.pol);
}
END_TEST

START_TEST(duplicate_name_and_version_is_refused)
{
	static const char text[] =
	    "name: t\n"
	    "ima:\n"
	    "  packages:\n"
	    "    - { name: a, version: \"1\", files: {} }\n"
	    "    - { name: a, version: \"2\", files: {} }\n"
	    "    - { name: a, version: \"1\", files: {} }\n";

	ck_assert_str_eq(compile_err(text), "line 6: package a version 1 "
	    "listed twice");
}
END_TEST

START_TEST(missing_or_empty_fields_are_refused)
{
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - { name: a, files: {} }\n"),
	    "line 3: a package needs name, version and files");
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - { name: a, version: \"1\" }\n"),
	    "line 3: a package needs name, version and files");
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - { name: \"\", version: \"1\", files: {} }\n"),
	    "line 3: package name is empty or too long");
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - { name: [a], version: \"1\", files: {} }\n"),
	    "line 3: name must be a string");
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - { name: a, version: \"1\", files: {}, epoch: 2 }\n"),
	    "line 3: unknown package key 'epoch'");
	ck_assert_str_eq(compile_err("ima:\n  packages: { a: 1 }\n"),
	    "line 2: packages must be a list");
}
END_TEST

START_TEST(bad_files_are_refused)
{
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - { name: a, version: \"1\", files: [ x ] }\n"),
	    "line 3: a package's files must map paths to digests");
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - { name: a, version: \"1\", files: { usr/bin/a: \"" D1
	    "\" } }\n"),
	    "line 3: package file 'usr/bin/a' is not an absolute path");
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - { name: a, version: \"1\", files: { /a: \"sha256:12\" } }\n"),
	    "line 3: 'sha256:12' has the wrong length for its algorithm");
}
END_TEST

START_TEST(digest_of_another_bank_is_refused)
{
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - name: a\n      version: \"1\"\n      files:\n"
	    "        /a: \"sha1:" S1 "\"\n"),
	    "line 6: package files must have sha256 digests (the policy's "
	    "bank), not sha1");
	/* The bank may come after ima:, and names the algorithm. */
	ck_assert_str_eq(compile_err("ima:\n  packages:\n"
	    "    - name: a\n      version: \"1\"\n      files:\n"
	    "        /a: \"sha256:" D1 "\"\nbank: sha384\n"),
	    "line 6: package files must have sha384 digests (the policy's "
	    "bank), not sha256");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("policy_ima_pkg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, every_version_of_a_package_is_allowed);
	tcase_add_test(tc, listed_path_with_another_digest_fails);
	tcase_add_test(tc, package_digests_unite_with_allow);
	tcase_add_test(tc, packages_alone_make_a_section);
	tcase_add_test(tc, fast_path_lines_inside_files_compile);
	tcase_add_test(tc, duplicate_name_and_version_is_refused);
	tcase_add_test(tc, missing_or_empty_fields_are_refused);
	tcase_add_test(tc, bad_files_are_refused);
	tcase_add_test(tc, digest_of_another_bank_is_refused);
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
