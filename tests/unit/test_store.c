/*
 * test_store.c — the SQLite store's records: agent round trips (every
 * field, NULLs kept NULL), deep copy, replace, list, delete with its
 * event, the event history (newest first, limit, per agent), policies,
 * and argument checks (ids, event types, states). Persistence and
 * failure behaviour: test_store_durability.c. Every test works in its own
 * mkdtemp directory (store_fixture.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "tests/unit/store_fixture.h"

static void
put_simple(struct store *s, const char *id, uint64_t ok, const char *evdetail)
{
	struct agent_rec a;
	struct store_event ev = { .type = "state", .detail = (char *)evdetail };

	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "%s", id);
	a.state = AGENT_TRUSTED;
	a.attest_ok = ok;
	put_ok(s, &a, evdetail != NULL ? &ev : NULL);
}

START_TEST(agent_round_trip_keeps_every_field)
{
	struct fx f;
	struct agent_rec a, b, c;

	fx_open(&f);
	agent_full(&a, "host-1");
	put_ok(f.s, &a, NULL);
	ck_assert_int_eq(store_agent_get(f.s, "host-1", &b), ASSAY_OK);
	agent_eq(&a, &b);

	/* NULL blobs and strings stay NULL, not empty. */
	agent_rec_free(&a);
	memset(&a, 0, sizeof(a));
	strcpy(a.id, "host-2");
	a.state = AGENT_REGISTERED;
	a.ek_pub = bytes(a.ek_pub_len = 10, 9);
	put_ok(f.s, &a, NULL);
	ck_assert_int_eq(store_agent_get(f.s, "host-2", &c), ASSAY_OK);
	agent_eq(&a, &c);
	ck_assert_ptr_null(c.ek_cert);
	ck_assert_ptr_null(c.verify_state);
	agent_rec_free(&a);
	agent_rec_free(&b);
	agent_rec_free(&c);
	fx_done(&f);
}
END_TEST

START_TEST(agent_copy_is_deep)
{
	struct agent_rec a, b;

	agent_full(&a, "host-1");
	agent_rec_copy(&b, &a);
	ck_assert_ptr_ne(a.ek_pub, b.ek_pub);
	ck_assert_ptr_ne(a.verify_state, b.verify_state);
	agent_eq(&a, &b);
	agent_rec_free(&a);
	ck_assert_ptr_null(a.ek_pub);
	ck_assert_int_eq(b.ek_pub[0], 1);
	agent_rec_free(&b);
}
END_TEST

START_TEST(agent_put_replaces)
{
	struct fx f;
	struct agent_rec a, b;

	fx_open(&f);
	agent_full(&a, "host-1");
	put_ok(f.s, &a, NULL);
	a.state = AGENT_TRUSTED;
	free(a.reason);
	a.reason = NULL;
	a.attest_ok++;
	put_ok(f.s, &a, NULL);
	ck_assert_int_eq(store_agent_get(f.s, "host-1", &b), ASSAY_OK);
	agent_eq(&a, &b);
	agent_rec_free(&a);
	agent_rec_free(&b);
	fx_done(&f);
}
END_TEST

START_TEST(agent_list_returns_all)
{
	struct fx f;
	struct agent_rec *as;
	size_t n;
	char id[32];

	fx_open(&f);
	ck_assert_int_eq(store_agent_list(f.s, &as, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 0);
	free(as);
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "agent-%03d", i);
		put_simple(f.s, id, (uint64_t)i, NULL);
	}
	ck_assert_int_eq(store_agent_list(f.s, &as, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 100);
	for (size_t i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "agent-%03zu", i);
		ck_assert_str_eq(as[i].id, id);
		ck_assert_uint_eq(as[i].attest_ok, i);
		agent_rec_free(&as[i]);
	}
	free(as);
	fx_done(&f);
}
END_TEST

START_TEST(agent_delete_removes_row_and_writes_event)
{
	struct fx f;
	struct agent_rec a;
	struct store_event ev = { .type = "deleted", .detail = "by admin" };
	struct store_event *evs;
	size_t n;

	fx_open(&f);
	put_simple(f.s, "host-1", 1, "1");
	ck_assert_int_eq(store_agent_delete(f.s, "host-1", &ev), ASSAY_OK);
	ck_assert_int_eq(store_agent_get(f.s, "host-1", &a), ASSAY_ERR_NOT_FOUND);
	/* History outlives the agent; the delete event names it. */
	ck_assert_int_eq(store_events_list(f.s, "host-1", 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(evs[0].type, "deleted");
	ck_assert_str_eq(evs[0].agent_id, "host-1");
	ck_assert_str_eq(evs[0].detail, "by admin");
	ck_assert_str_eq(evs[1].type, "state");
	events_free(evs, n);
	fx_done(&f);
}
END_TEST

START_TEST(agent_delete_missing_is_not_found_and_writes_nothing)
{
	struct fx f;
	struct store_event ev = { .type = "deleted" };
	struct store_event *evs;
	struct agent_rec a;
	size_t n;

	fx_open(&f);
	ck_assert_int_eq(store_agent_delete(f.s, "nobody", &ev),
	    ASSAY_ERR_NOT_FOUND);
	ck_assert_int_eq(store_events_list(f.s, NULL, 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 0);
	free(evs);
	/* The failed transaction was closed: later writes commit. */
	put_simple(f.s, "host-1", 1, "1");
	store_close(f.s);
	ck_assert_int_eq(store_open(f.db, &f.s), ASSAY_OK);
	ck_assert_int_eq(store_agent_get(f.s, "host-1", &a), ASSAY_OK);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(events_newest_first_with_limit_and_per_agent)
{
	struct fx f;
	struct store_event ev = { .type = "state", .old_state = "pending",
	    .new_state = "trusted", .failure_id = "quote.nonce" };
	struct store_event *evs;
	size_t n;
	char id[16], detail[16];

	fx_open(&f);
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "a%d", i % 2);
		snprintf(detail, sizeof(detail), "%d", i);
		ev.agent_id = id;
		ev.detail = detail;
		ev.time = 1000 + i;
		ck_assert_int_eq(store_event_add(f.s, &ev), ASSAY_OK);
	}
	ck_assert_int_eq(store_events_list(f.s, NULL, 3, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(evs[0].detail, "9");
	ck_assert_str_eq(evs[1].detail, "8");
	ck_assert_str_eq(evs[2].detail, "7");
	ck_assert(evs[0].seq > evs[1].seq);
	ck_assert(evs[0].time == 1009);
	ck_assert_str_eq(evs[0].old_state, "pending");
	ck_assert_str_eq(evs[0].new_state, "trusted");
	ck_assert_str_eq(evs[0].failure_id, "quote.nonce");
	events_free(evs, n);

	ck_assert_int_eq(store_events_list(f.s, "a0", 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(evs[i].agent_id, "a0");
		snprintf(detail, sizeof(detail), "%zu", 8 - 2 * i);
		ck_assert_str_eq(evs[i].detail, detail);
		store_event_free(&evs[i]);
	}
	free(evs);
	fx_done(&f);
}
END_TEST

START_TEST(event_without_type_is_inval)
{
	struct fx f;
	struct store_event ev = { .agent_id = "a" };

	fx_open(&f);
	ck_assert_int_eq(store_event_add(f.s, &ev), ASSAY_ERR_INVAL);
	fx_done(&f);
}
END_TEST

START_TEST(policy_put_get_list_delete)
{
	struct fx f;
	struct store_policy p, *ps;
	size_t n;

	fx_open(&f);
	ck_assert_int_eq(store_policy_put(f.s, "b-pol", "name: b\n"), ASSAY_OK);
	ck_assert_int_eq(store_policy_put(f.s, "a-pol", "name: a\n"), ASSAY_OK);
	ck_assert_int_eq(store_policy_put(f.s, "a-pol", "name: a2\n"), ASSAY_OK);
	ck_assert_int_eq(store_policy_get(f.s, "a-pol", &p), ASSAY_OK);
	ck_assert_str_eq(p.name, "a-pol");
	ck_assert_str_eq(p.text, "name: a2\n");
	ck_assert(p.updated >= time(NULL) - 5);
	store_policy_free(&p);
	ck_assert_int_eq(store_policy_list(f.s, &ps, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ps[0].name, "a-pol");
	ck_assert_str_eq(ps[1].name, "b-pol");
	store_policy_free(&ps[0]);
	store_policy_free(&ps[1]);
	free(ps);
	ck_assert_int_eq(store_policy_delete(f.s, "a-pol"), ASSAY_OK);
	ck_assert_int_eq(store_policy_get(f.s, "a-pol", &p), ASSAY_ERR_NOT_FOUND);
	ck_assert_int_eq(store_policy_delete(f.s, "a-pol"), ASSAY_ERR_NOT_FOUND);
	fx_done(&f);
}
END_TEST

START_TEST(overlong_id_is_inval)
{
	struct fx f;
	struct agent_rec a, b;
	struct store_event ev = { .type = "x" };
	struct store_event *evs;
	char longid[AGENT_ID_MAX + 1];
	size_t n;

	fx_open(&f);
	memset(longid, 'a', AGENT_ID_MAX);
	longid[AGENT_ID_MAX] = '\0';
	memset(&a, 0, sizeof(a));
	memset(a.id, 'a', sizeof(a.id));	/* no terminator */
	ck_assert_int_eq(store_agent_put(f.s, &a, NULL), ASSAY_ERR_INVAL);
	ck_assert_int_eq(store_agent_get(f.s, longid, &b), ASSAY_ERR_INVAL);
	ck_assert_int_eq(store_agent_delete(f.s, longid, NULL), ASSAY_ERR_INVAL);
	ck_assert_int_eq(store_events_list(f.s, longid, 1, &evs, &n),
	    ASSAY_ERR_INVAL);
	ev.agent_id = longid;
	ck_assert_int_eq(store_event_add(f.s, &ev), ASSAY_ERR_INVAL);
	/* The longest valid id works. */
	longid[AGENT_ID_MAX - 1] = '\0';
	memcpy(a.id, longid, AGENT_ID_MAX);
	put_ok(f.s, &a, NULL);
	ck_assert_int_eq(store_agent_get(f.s, longid, &b), ASSAY_OK);
	agent_rec_free(&b);
	fx_done(&f);
}
END_TEST

START_TEST(bad_state_is_inval)
{
	struct fx f;
	struct agent_rec a;

	fx_open(&f);
	memset(&a, 0, sizeof(a));
	strcpy(a.id, "h");
	a.state = AGENT_STATE_MAX;
	ck_assert_int_eq(store_agent_put(f.s, &a, NULL), ASSAY_ERR_INVAL);
	fx_done(&f);
}
END_TEST

START_TEST(state_names_round_trip)
{
	static const char *names[] = { "registered", "pending", "trusted",
	    "untrusted", "unreachable", "stopped" };
	int st;

	for (int i = 0; i < AGENT_STATE_MAX; i++) {
		ck_assert_str_eq(agent_state_name(i), names[i]);
		ck_assert_int_eq(agent_state_parse(names[i], &st), ASSAY_OK);
		ck_assert_int_eq(st, i);
	}
	ck_assert_ptr_null(agent_state_name(AGENT_STATE_MAX));
	ck_assert_ptr_null(agent_state_name(-1));
	ck_assert_int_eq(agent_state_parse("Trusted", &st), ASSAY_ERR_INVAL);
}
END_TEST

static Suite *
make_suite(int pg)
{
	Suite *s = suite_create(pg ? "store (PostgreSQL)" : "store (SQLite)");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, agent_round_trip_keeps_every_field);
	tcase_add_test(tc, agent_copy_is_deep);
	tcase_add_test(tc, agent_put_replaces);
	tcase_add_test(tc, agent_list_returns_all);
	tcase_add_test(tc, agent_delete_removes_row_and_writes_event);
	tcase_add_test(tc, agent_delete_missing_is_not_found_and_writes_nothing);
	tcase_add_test(tc, events_newest_first_with_limit_and_per_agent);
	tcase_add_test(tc, event_without_type_is_inval);
	tcase_add_test(tc, policy_put_get_list_delete);
	tcase_add_test(tc, overlong_id_is_inval);
	tcase_add_test(tc, bad_state_is_inval);
	tcase_add_test(tc, state_names_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fx_run_both(make_suite) == 0 ? 0 : 1;
}
