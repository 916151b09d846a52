/*
 * test_policy_pkg.c — the packages a generated policy records: a version
 * given again replaces the old, --keep retains the newest versions of
 * each name in Debian order, and the written packages: section compiles
 * to exactly its files (plain paths as run lines, others quoted).
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
#include "tools/policy_pkg.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"

START_TEST(keep_retains_the_newest_versions_of_each_name)
{
	static const char *const vers[] = { "1.10-1", "1.2-1", "1:0.1",
	    "1.9~rc1" };
	struct pkgset s = { NULL, 0 };
	size_t i;

	for (i = 0; i < 4; i++)
		pkgset_put(&s, pkg_new("a", vers[i], NULL, NULL));
	pkgset_put(&s, pkg_new("b", "1", NULL, NULL));
	pkgset_put(&s, pkg_new("a", "1.2-1", NULL, "replaced"));
	ck_assert_uint_eq(s.n, 5);
	pkgset_keep(&s, 2);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.v[0]->version, "1.10-1");
	ck_assert_str_eq(s.v[1]->version, "1:0.1");
	ck_assert_str_eq(s.v[2]->name, "b");
	pkgset_keep(&s, 1);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.v[0]->version, "1:0.1");
	pkgset_free(&s);
}
END_TEST

/* Failures of an ima-ng entry (path, sha256 hex) against ip. */
static size_t
check(const struct ima_policy *ip, const char *path, const char *hex)
{
	struct ima_entry e;
	struct verdict vd;
	uint8_t d[32];
	size_t n;

	memset(&e, 0, sizeof(e));
	e.pcr = 10;
	e.tmpl = IMA_TMPL_IMA_NG;
	cur_init(&e.name, path, strlen(path));
	ck_assert_int_eq(hex_decode(hex, d, sizeof(d), &n), 0);
	e.dalg = TPM2_ALG_SHA256;
	cur_init(&e.digest, d, n);
	verdict_init(&vd);
	ima_policy_check(ip, &e, &vd);
	return vd.nfail;
}

START_TEST(written_section_compiles_to_its_files)
{
	struct pkgset s = { NULL, 0 };
	struct policy *pol = NULL;
	struct pkg *p;
	char *text = NULL;
	size_t len = 0;
	FILE *o;

	p = pkg_new("a", "1", "all", "deb sha256:" D2);
	pkg_file_add(p, "/usr/bin/plain", "sha256:" D1);
	pkg_file_add(p, "/usr/share/with space \"q\":x", "sha256:" D2);
	pkg_file_add(p, "/usr/bin/also+plain_1.0", "sha256:" D2);
	pkgset_put(&s, p);
	pkgset_put(&s, pkg_new("b", "2", NULL, NULL));
	o = open_memstream(&text, &len);
	fputs("name: t\nbank: sha256\nima:\n", o);
	pkgset_write(o, &s);
	fclose(o);
	ck_assert_ptr_nonnull(strstr(text, "        /usr/bin/plain: [ \"sha256:"
	    D1 "\" ]\n"));
	ck_assert_ptr_nonnull(strstr(text, "        \"/usr/share/with space "
	    "\\\"q\\\":x\": \"sha256:" D2 "\"\n"));
	ck_assert_ptr_nonnull(strstr(text, "      files: {}\n"));
	ck_assert_msg(policy_compile(text, len, NULL, &pol) == ASSAY_OK, "%s",
	    assay_err_detail());
	ck_assert_uint_eq(check(policy_ima(pol), "/usr/bin/plain", D1), 0);
	ck_assert_uint_eq(check(policy_ima(pol), "/usr/bin/plain", D2), 1);
	ck_assert_uint_eq(check(policy_ima(pol),
	    "/usr/share/with space \"q\":x", D2), 0);
	ck_assert_uint_eq(check(policy_ima(pol), "/usr/bin/also+plain_1.0",
	    D2), 0);
	policy_unref(pol);
	free(text);
	pkgset_free(&s);
}
END_TEST

START_TEST(a_path_twice_in_a_package_is_found)
{
	struct pkg *p = pkg_new("a", "1", NULL, NULL);

	pkg_file_add(p, "/b", "sha256:" D1);
	pkg_file_add(p, "/a", "sha256:" D1);
	ck_assert_ptr_null(pkg_duplicate(p));
	pkg_file_add(p, "/b", "sha256:" D2);
	ck_assert_str_eq(pkg_duplicate(p), "/b");
	ck_assert_str_eq(pkg_file_find(p, "/a"), "sha256:" D1);
	ck_assert_ptr_null(pkg_file_find(p, "/c"));
	pkg_free(p);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("policy_pkg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, keep_retains_the_newest_versions_of_each_name);
	tcase_add_test(tc, written_section_compiles_to_its_files);
	tcase_add_test(tc, a_path_twice_in_a_package_is_found);
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
