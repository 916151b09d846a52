/*
 * test_strmap.c — the string-keyed hash map: insert/replace/lookup,
 * deletion across tombstones, growth, iteration and the live count.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strmap.h"
#include "common/xmalloc.h"

/* Distinct non-NULL values that need no allocation. */
#define VAL(i)	((void *)(uintptr_t)((i) + 1))

static void
key(char *buf, size_t n, size_t i)
{
	snprintf(buf, n, "agent-%zu", i);
}

START_TEST(put_then_get_returns_the_value)
{
	struct strmap *m = strmap_new();

	ck_assert_ptr_null(strmap_put(m, "a", VAL(1)));
	ck_assert_ptr_null(strmap_put(m, "b", VAL(2)));
	ck_assert_ptr_eq(strmap_get(m, "a"), VAL(1));
	ck_assert_ptr_eq(strmap_get(m, "b"), VAL(2));
	ck_assert_ptr_null(strmap_get(m, "c"));
	ck_assert_ptr_null(strmap_get(m, ""));
	strmap_free(m);
}
END_TEST

START_TEST(put_copies_the_key)
{
	struct strmap *m = strmap_new();
	char k[16] = "volatile";

	strmap_put(m, k, VAL(1));
	memset(k, 'x', sizeof(k) - 1);
	ck_assert_ptr_eq(strmap_get(m, "volatile"), VAL(1));
	ck_assert_ptr_null(strmap_get(m, k));
	strmap_free(m);
}
END_TEST

START_TEST(put_existing_key_replaces_and_returns_previous)
{
	struct strmap *m = strmap_new();

	ck_assert_ptr_null(strmap_put(m, "k", VAL(1)));
	ck_assert_ptr_eq(strmap_put(m, "k", VAL(2)), VAL(1));
	ck_assert_ptr_eq(strmap_put(m, "k", VAL(3)), VAL(2));
	ck_assert_ptr_eq(strmap_get(m, "k"), VAL(3));
	ck_assert_uint_eq(strmap_count(m), 1);
	strmap_free(m);
}
END_TEST

START_TEST(del_returns_value_and_removes_only_that_key)
{
	struct strmap *m = strmap_new();

	strmap_put(m, "a", VAL(1));
	strmap_put(m, "b", VAL(2));
	ck_assert_ptr_eq(strmap_del(m, "a"), VAL(1));
	ck_assert_ptr_null(strmap_get(m, "a"));
	ck_assert_ptr_eq(strmap_get(m, "b"), VAL(2));
	ck_assert_ptr_null(strmap_del(m, "a"));
	ck_assert_ptr_null(strmap_del(m, "never"));
	ck_assert_uint_eq(strmap_count(m), 1);
	strmap_free(m);
}
END_TEST

/*
 * Delete every other key of a table with long probe chains: the keys
 * that were probed past the deleted slots must still be found.
 */
START_TEST(del_leaves_other_keys_reachable_across_tombstones)
{
	struct strmap *m = strmap_new();
	char k[32];
	size_t i, n = 2000;

	for (i = 0; i < n; i++) {
		key(k, sizeof(k), i);
		strmap_put(m, k, VAL(i));
	}
	for (i = 0; i < n; i += 2) {
		key(k, sizeof(k), i);
		ck_assert_ptr_eq(strmap_del(m, k), VAL(i));
	}
	for (i = 0; i < n; i++) {
		key(k, sizeof(k), i);
		if (i % 2 == 0)
			ck_assert_ptr_null(strmap_get(m, k));
		else
			ck_assert_ptr_eq(strmap_get(m, k), VAL(i));
	}
	ck_assert_uint_eq(strmap_count(m), n / 2);
	strmap_free(m);
}
END_TEST

START_TEST(reinsert_after_del_reuses_the_key)
{
	struct strmap *m = strmap_new();

	strmap_put(m, "x", VAL(1));
	strmap_del(m, "x");
	ck_assert_ptr_null(strmap_put(m, "x", VAL(2)));
	ck_assert_ptr_eq(strmap_get(m, "x"), VAL(2));
	ck_assert_uint_eq(strmap_count(m), 1);
	strmap_free(m);
}
END_TEST

/* Insert/delete churn on a small live set: tombstones must not fill the table. */
START_TEST(churn_of_put_and_del_keeps_working)
{
	struct strmap *m = strmap_new();
	char k[32];
	size_t i;

	for (i = 0; i < 50000; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_null(strmap_put(m, k, VAL(i)));
		if (i >= 5) {
			key(k, sizeof(k), i - 5);
			ck_assert_ptr_eq(strmap_del(m, k), VAL(i - 5));
		}
	}
	ck_assert_uint_eq(strmap_count(m), 5);
	for (i = 50000 - 5; i < 50000; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_eq(strmap_get(m, k), VAL(i));
	}
	strmap_free(m);
}
END_TEST

START_TEST(grows_to_100k_keys_all_retrievable)
{
	struct strmap *m = strmap_new();
	char k[32];
	size_t i, n = 100000;

	for (i = 0; i < n; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_null(strmap_put(m, k, VAL(i)));
	}
	ck_assert_uint_eq(strmap_count(m), n);
	for (i = 0; i < n; i++) {
		key(k, sizeof(k), i);
		ck_assert_ptr_eq(strmap_get(m, k), VAL(i));
	}
	key(k, sizeof(k), n);
	ck_assert_ptr_null(strmap_get(m, k));
	strmap_free(m);
}
END_TEST

START_TEST(next_visits_every_live_key_exactly_once)
{
	struct strmap *m = strmap_new();
	size_t n = 5000, i, pos = 0, visits = 0;
	unsigned char *seen = xcalloc(n, 1);
	const char *k;
	char kb[32];
	void *v;

	for (i = 0; i < n; i++) {
		key(kb, sizeof(kb), i);
		strmap_put(m, kb, VAL(i));
	}
	for (i = 0; i < n; i += 3) {
		key(kb, sizeof(kb), i);
		strmap_del(m, kb);
	}
	while (strmap_next(m, &pos, &k, &v)) {
		size_t idx = (uintptr_t)v - 1;

		ck_assert_uint_lt(idx, n);
		ck_assert_msg(idx % 3 != 0, "deleted key %s visited", k);
		key(kb, sizeof(kb), idx);
		ck_assert_str_eq(k, kb);
		ck_assert_uint_eq(seen[idx], 0);
		seen[idx] = 1;
		visits++;
	}
	ck_assert_uint_eq(visits, strmap_count(m));
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(seen[i], i % 3 != 0);
	/* exhausted: stays exhausted */
	ck_assert_int_eq(strmap_next(m, &pos, &k, &v), 0);
	free(seen);
	strmap_free(m);
}
END_TEST

START_TEST(next_on_empty_map_yields_nothing)
{
	struct strmap *m = strmap_new();
	size_t pos = 0;
	const char *k;
	void *v;

	ck_assert_int_eq(strmap_next(m, &pos, &k, &v), 0);
	strmap_free(m);
}
END_TEST

START_TEST(count_tracks_puts_replaces_and_dels)
{
	struct strmap *m = strmap_new();

	ck_assert_uint_eq(strmap_count(m), 0);
	strmap_put(m, "a", VAL(1));
	strmap_put(m, "b", VAL(2));
	ck_assert_uint_eq(strmap_count(m), 2);
	strmap_put(m, "a", VAL(3));
	ck_assert_uint_eq(strmap_count(m), 2);
	strmap_del(m, "a");
	ck_assert_uint_eq(strmap_count(m), 1);
	strmap_del(m, "a");
	ck_assert_uint_eq(strmap_count(m), 1);
	strmap_del(m, "b");
	ck_assert_uint_eq(strmap_count(m), 0);
	strmap_free(m);
}
END_TEST

START_TEST(free_null_is_a_no_op)
{
	strmap_free(NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, put_then_get_returns_the_value);
	tcase_add_test(tc, put_copies_the_key);
	tcase_add_test(tc, put_existing_key_replaces_and_returns_previous);
	tcase_add_test(tc, del_returns_value_and_removes_only_that_key);
	tcase_add_test(tc, del_leaves_other_keys_reachable_across_tombstones);
	tcase_add_test(tc, reinsert_after_del_reuses_the_key);
	tcase_add_test(tc, churn_of_put_and_del_keeps_working);
	tcase_add_test(tc, grows_to_100k_keys_all_retrievable);
	tcase_add_test(tc, next_visits_every_live_key_exactly_once);
	tcase_add_test(tc, next_on_empty_map_yields_nothing);
	tcase_add_test(tc, count_tracks_puts_replaces_and_dels);
	tcase_add_test(tc, free_null_is_a_no_op);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
