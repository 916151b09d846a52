/*
 * test_policy_cmd.c — offline policy tools: Keylime exclude regexes to
 * globs (what converts, what is refused and why); a generated policy
 * compiles and allows exactly the files it was generated from.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "tools/cmd.h"
#include "tools/policy_cmd.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"

static int
conv(const char *re, char *out[2], const char **why)
{
	*why = NULL;
	return keylime_regex_to_globs(re, out, why);
}

START_TEST(regex_dir_tail_becomes_double_star)
{
	const char *why;
	char *g[2];

	ck_assert_int_eq(conv("/var/log/.*", g, &why), 1);
	ck_assert_str_eq(g[0], "/var/log/**");
	free(g[0]);
	ck_assert_int_eq(conv("^/tmp/.*$", g, &why), 1);
	ck_assert_str_eq(g[0], "/tmp/**");
	free(g[0]);
}
END_TEST

START_TEST(regex_anchored_literal_stays_exact)
{
	const char *why;
	char *g[2];

	ck_assert_int_eq(conv("^/etc/mtab$", g, &why), 1);
	ck_assert_str_eq(g[0], "/etc/mtab");
	free(g[0]);
	ck_assert_int_eq(conv("/proc/[^/]*/fd$", g, &why), 1);
	ck_assert_str_eq(g[0], "/proc/*/fd");
	free(g[0]);
	ck_assert_int_eq(conv("/usr/lib/libx\\.so$", g, &why), 1);
	ck_assert_str_eq(g[0], "/usr/lib/libx.so");
	free(g[0]);
}
END_TEST

START_TEST(regex_unanchored_literal_is_a_prefix)
{
	const char *why;
	char *g[2];

	ck_assert_int_eq(conv("/var/log/wtmp", g, &why), 2);
	ck_assert_str_eq(g[0], "/var/log/wtmp*");
	ck_assert_str_eq(g[1], "/var/log/wtmp*/**");
	free(g[0]);
	free(g[1]);
}
END_TEST

START_TEST(regex_without_glob_equivalent_is_refused)
{
	const char *why;
	char *g[2];

	ck_assert_int_eq(conv("/usr/(a|b)", g, &why), 0);
	ck_assert_str_eq(why, "uses regex syntax with no glob equivalent");
	ck_assert_int_eq(conv("/usr/.*/x", g, &why), 0);
	ck_assert_str_eq(why, "'.*' before the end has no glob equivalent");
	ck_assert_int_eq(conv("boot_aggregate", g, &why), 0);
	ck_assert_str_eq(why, "does not start with an absolute path");
	ck_assert_ptr_null(g[0]);
}
END_TEST

START_TEST(converted_globs_are_valid_and_match)
{
	const char *why;
	char *g[2];

	ck_assert_int_eq(conv("/var/log/wtmp", g, &why), 2);
	ck_assert_ptr_null(ima_glob_invalid(g[0]));
	ck_assert_ptr_null(ima_glob_invalid(g[1]));
	ck_assert(ima_glob_match(g[0], "/var/log/wtmp.1", 15));
	ck_assert(ima_glob_match(g[1], "/var/log/wtmpx/a", 16));
	free(g[0]);
	free(g[1]);
}
END_TEST

START_TEST(generated_policy_allows_its_tree)
{
	/* sha256("hello\n") */
	static const uint8_t d[32] = { 0x58, 0x91, 0xb5, 0xb5, 0x22, 0xd5,
	    0xdf, 0x08, 0x6d, 0x0f, 0xf0, 0xb1, 0x10, 0xfb, 0xd9, 0xd2, 0x1b,
	    0xb4, 0xfc, 0x71, 0x63, 0xaf, 0x34, 0xd0, 0x82, 0x86, 0xa2, 0xe8,
	    0x46, 0xf6, 0xbe, 0x03 };
	char dir[] = "/tmp/assay-gen-XXXXXX", *file, *out, text[4096];
	char *words[9] = { "policy" }, **argv = words + 1;
	struct policy *p = NULL;
	struct ima_entry e;
	struct verdict vd;
	uint8_t other[32] = { 0 };
	FILE *f;
	size_t n;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	file = xasprintf("%s/hello", dir);
	out = xasprintf("%s.yaml", dir);
	f = fopen(file, "w");
	fputs("hello\n", f);
	fclose(f);
	argv[0] = "generate"; argv[1] = "--name"; argv[2] = "g";
	argv[3] = "--root"; argv[4] = dir; argv[5] = "-o"; argv[6] = out;
	argv[7] = NULL;
	ck_assert_int_eq(cmd_run(NULL, 8, words), 0);
	f = fopen(out, "r");
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	ck_assert_int_eq(policy_compile(text, n, NULL, &p), 0);
	memset(&e, 0, sizeof(e));
	e.tmpl = IMA_TMPL_IMA_NG;
	e.dalg = TPM2_ALG_SHA256;
	cur_init(&e.name, "/hello", 6);
	cur_init(&e.digest, d, 32);
	verdict_init(&vd);
	ima_policy_check(policy_ima(p), &e, &vd);
	ck_assert_uint_eq(vd.nfail, 0);
	cur_init(&e.digest, other, 32);
	ima_policy_check(policy_ima(p), &e, &vd);
	ck_assert_str_eq(vd.fail[0].id, "ima.not_allowed");
	policy_unref(p);
	unlink(file);
	unlink(out);
	rmdir(dir);
	free(file);
	free(out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy_cmd");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, regex_dir_tail_becomes_double_star);
	tcase_add_test(tc, regex_anchored_literal_stays_exact);
	tcase_add_test(tc, regex_unanchored_literal_is_a_prefix);
	tcase_add_test(tc, regex_without_glob_equivalent_is_refused);
	tcase_add_test(tc, converted_globs_are_valid_and_match);
	tcase_add_test(tc, generated_policy_allows_its_tree);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
