/*
 * test_debver.c — Debian version ordering (policy §5.6.12) on known
 * pairs: epochs, '~' before everything, revisions, numeric parts.
 */
#include <check.h>
#include <stdlib.h>

#include "tools/debver.h"

static int
sign(int c)
{
	return c < 0 ? -1 : c > 0;
}

/* a < b, and the reverse, and each equal to itself. */
static void
less(const char *a, const char *b)
{
	ck_assert_msg(sign(deb_version_cmp(a, b)) == -1, "%s < %s", a, b);
	ck_assert_msg(sign(deb_version_cmp(b, a)) == 1, "%s > %s", b, a);
	ck_assert_int_eq(deb_version_cmp(a, a), 0);
}

START_TEST(tilde_sorts_before_the_release)
{
	less("1.0~rc1", "1.0");
	less("1.0~rc1", "1.0~rc2");
	less("1.0~~", "1.0~");
	less("1.0~rc1-1", "1.0-1");
}
END_TEST

START_TEST(epoch_decides_first)
{
	less("2.0", "1:0.9");
	less("1:9.9", "2:0.1");
	ck_assert_int_eq(deb_version_cmp("0:1.0", "1.0"), 0);
}
END_TEST

START_TEST(revisions_compare_after_upstream)
{
	less("1.0-1", "1.0-1.1");
	less("9.1-1", "9.1-1+deb12u1");
	less("1.0-9", "1.0-10");
	less("1.0", "1.0-1");
	ck_assert_int_eq(deb_version_cmp("1.0", "1.0-0"), 0);
	less("1.0-1-1", "1.0-1-2");	/* the revision is after the last '-' */
}
END_TEST

START_TEST(numbers_compare_as_numbers)
{
	less("1.9", "1.10");
	less("2.9.0", "2.10");
	ck_assert_int_eq(deb_version_cmp("1.01", "1.1"), 0);
	less("1.0a", "1.0b");
	less("1.0", "1.0a");
	less("1.0a", "1.0+");	/* letters before other characters */
	less("9.1-1", "9.1-2");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("debver");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, tilde_sorts_before_the_release);
	tcase_add_test(tc, epoch_decides_first);
	tcase_add_test(tc, revisions_compare_after_upstream);
	tcase_add_test(tc, numbers_compare_as_numbers);
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
