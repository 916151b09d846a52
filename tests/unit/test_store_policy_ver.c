/*
 * test_store_policy_ver.c — policy versions in the store, on SQLite and
 * on PostgreSQL (store_fixture.h): every put is a new numbered immutable
 * version with its hash and provenance, numbers are never reused (not
 * even after the name is deleted), a canary leaves the version in force
 * alone, select (rollback, promotion) puts a stored version back in force
 * and drops the canary, and a failed write changes nothing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "verifier/store.h"
#include "verifier/store_int.h"
#include "tests/unit/store_fixture.h"

START_TEST(versions_are_numbered_with_provenance)
{
	struct fx f;
	struct store_policy p;
	struct store_policy_version pv, *list;
	struct policy_meta m = { "admin-cn", "key sha256:ab", 1700000000,
	    "{\"payloadType\":\"x\"}" };
	int64_t v1, v2;
	size_t n;

	fx_open(&f);
	ck_assert_int_eq(store_policy_put_version(f.s, "p", "name: a\n", NULL,
	    NULL, &v1), ASSAY_OK);
	ck_assert_int_eq(store_policy_put_version(f.s, "p", "name: b\n", &m,
	    NULL, &v2), ASSAY_OK);
	ck_assert_int_eq(v1, 1);
	ck_assert_int_eq(v2, 2);
	ck_assert_int_eq(store_policy_get(f.s, "p", &p), ASSAY_OK);
	ck_assert_int_eq(p.version, 2);
	ck_assert_str_eq(p.text, "name: b\n");
	ck_assert_int_eq(p.canary_version, 0);
	store_policy_free(&p);
	ck_assert_int_eq(store_policy_version_get(f.s, "p", 2, &pv), ASSAY_OK);
	ck_assert_str_eq(pv.uploader, "admin-cn");
	ck_assert_str_eq(pv.signer, "key sha256:ab");
	ck_assert_int_eq(pv.signed_at, 1700000000);
	ck_assert_str_eq(pv.envelope, "{\"payloadType\":\"x\"}");
	ck_assert_str_eq(pv.text, "name: b\n");
	ck_assert_int_eq(pv.size, 8);
	ck_assert_uint_eq(strlen(pv.sha256), 64);
	store_policy_version_free(&pv);
	ck_assert_int_eq(store_policy_versions(f.s, "p", &list, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(list[0].version, 1);
	ck_assert_ptr_null(list[0].signer);
	ck_assert_ptr_null(list[0].text);	/* lists carry no text */
	ck_assert_str_ne(list[0].sha256, list[1].sha256);
	for (size_t i = 0; i < n; i++)
		store_policy_version_free(&list[i]);
	free(list);
	ck_assert_int_eq(store_policy_version_get(f.s, "p", 3, &pv),
	    ASSAY_ERR_NOT_FOUND);
	fx_done(&f);
}
END_TEST

START_TEST(numbers_survive_delete)
{
	struct fx f;
	int64_t v;

	fx_open(&f);
	ck_assert_int_eq(store_policy_put_version(f.s, "p", "name: a\n", NULL,
	    NULL, &v), ASSAY_OK);
	ck_assert_int_eq(store_policy_delete(f.s, "p"), ASSAY_OK);
	ck_assert_int_eq(store_policy_put_version(f.s, "p", "name: c\n", NULL,
	    NULL, &v), ASSAY_OK);
	ck_assert_int_eq(v, 2);
	fx_done(&f);
}
END_TEST

START_TEST(canary_then_select)
{
	struct fx f;
	struct store_policy p;
	int64_t v, rev;

	fx_open(&f);
	/* no policy yet: a canary has nothing to sit beside */
	ck_assert_int_eq(store_policy_put_version(f.s, "p", "name: a\n", NULL,
	    "h1", &v), ASSAY_ERR_NOT_FOUND);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(store_policy_put_version(f.s, "p", "name: a\n", NULL,
	    NULL, &v), ASSAY_OK);
	ck_assert_int_eq(v, 1);		/* the refused canary used no number */
	rev = store_policy_last_rev(f.s);
	ck_assert_int_eq(store_policy_put_version(f.s, "p", "name: b\n", NULL,
	    "h1,h2", &v), ASSAY_OK);
	ck_assert_int_eq(v, 2);
	ck_assert_int_ne(store_policy_last_rev(f.s), rev);
	ck_assert_int_eq(store_policy_get(f.s, "p", &p), ASSAY_OK);
	ck_assert_int_eq(p.version, 1);
	ck_assert_str_eq(p.text, "name: a\n");
	ck_assert_int_eq(p.canary_version, 2);
	ck_assert_str_eq(p.canary_agents, "h1,h2");
	store_policy_free(&p);
	/* promotion */
	ck_assert_int_eq(store_policy_select(f.s, "p", 2), ASSAY_OK);
	ck_assert_int_eq(store_policy_get(f.s, "p", &p), ASSAY_OK);
	ck_assert_int_eq(p.version, 2);
	ck_assert_str_eq(p.text, "name: b\n");
	ck_assert_int_eq(p.canary_version, 0);
	ck_assert_ptr_null(p.canary_agents);
	store_policy_free(&p);
	/* rollback */
	ck_assert_int_eq(store_policy_select(f.s, "p", 1), ASSAY_OK);
	ck_assert_int_eq(store_policy_get(f.s, "p", &p), ASSAY_OK);
	ck_assert_int_eq(p.version, 1);
	ck_assert_str_eq(p.text, "name: a\n");
	store_policy_free(&p);
	ck_assert_int_eq(store_policy_select(f.s, "p", 9), ASSAY_ERR_NOT_FOUND);
	ck_assert_int_eq(store_policy_get(f.s, "p", &p), ASSAY_OK);
	ck_assert_int_eq(p.version, 1);
	store_policy_free(&p);
	fx_done(&f);
}
END_TEST

START_TEST(agent_keeps_policy_version)
{
	struct fx f;
	struct agent_rec a, b;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	strcpy(a.id, "h1");
	a.state = AGENT_TRUSTED;
	a.policy = "p";
	a.policy_version = 7;
	ck_assert_int_eq(store_agent_put(f.s, &a, NULL), ASSAY_OK);
	ck_assert_int_eq(store_agent_get(f.s, "h1", &b), ASSAY_OK);
	ck_assert_int_eq(b.policy_version, 7);
	agent_rec_free(&b);
	fx_done(&f);
}
END_TEST

static Suite *
make_suite(int pg)
{
	Suite *s = suite_create(pg ? "store policy versions (PostgreSQL)" :
	    "store policy versions (SQLite)");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, versions_are_numbered_with_provenance);
	tcase_add_test(tc, numbers_survive_delete);
	tcase_add_test(tc, canary_then_select);
	tcase_add_test(tc, agent_keeps_policy_version);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fx_run_both(make_suite) == 0 ? 0 : 1;
}
