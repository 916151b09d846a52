/*
 * test_store_faults.c — the store when writes fail and as it grows: the
 * write-behind queue (a change that cannot be written is kept and lands
 * later, in order, with its event and notification rows; nothing written
 * after it overtakes it; a delete waits for it), the health figures, notice
 * folding and retention (by age, per agent, in bounded steps). Writes are
 * made to fail with the database's own read-only switch (SQLite's PRAGMA
 * query_only, PostgreSQL's default_transaction_read_only). Runs on SQLite
 * and, with ASSAY_TEST_PG_URI set, again on PostgreSQL.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "verifier/store_int.h"
#include "tests/unit/store_fixture.h"

static void
writable(struct store *s, int on)
{
	struct db *db = store_db(s);
	const char *sql;

	if (db_kind(db) == DB_PG)
		sql = on ? "SET default_transaction_read_only = off" :
		    "SET default_transaction_read_only = on";
	else
		sql = on ? "PRAGMA query_only=0" : "PRAGMA query_only=1";
	ck_assert_int_eq(db_exec(db, sql, "test"), ASSAY_OK);
}

static struct store_event
state_ev(const char *old, const char *new_, const char *fid, int64_t t)
{
	struct store_event ev = { 0 };

	ev.time = t;
	ev.type = "state";
	ev.old_state = (char *)old;
	ev.new_state = (char *)new_;
	ev.failure_id = (char *)fid;
	return ev;
}

static struct store_event
notice_ev(const char *fid, const char *detail, int64_t t)
{
	struct store_event ev = { 0 };

	ev.time = t;
	ev.type = "notice";
	ev.failure_id = (char *)fid;
	ev.detail = (char *)detail;
	return ev;
}

static int64_t
count_rows(struct store *s, const char *sql)
{
	struct db_stmt *st;
	int64_t n = -1;

	ck_assert_int_eq(db_prepare(store_db(s), sql, "test", &st), ASSAY_OK);
	if (db_step(st) == DB_ROW)
		n = db_col_i64(st, 0);
	db_finalize(st);
	return n;
}

START_TEST(failed_change_is_queued_and_lands_in_order)
{
	struct fx f;
	struct agent_rec a, b, got;
	struct store_event ev = state_ev("trusted", "untrusted", "pcr.value", 100);
	struct store_event reg = { .time = 101, .type = "registered" };
	struct store_event *evs;
	struct store_notification *nq;
	struct store_health h;
	const char *targets[1] = { "https://hooks.example/assay" };
	size_t n, landed;

	fx_open(&f);
	agent_full(&a, "host-a");
	a.state = AGENT_TRUSTED;
	put_ok(f.s, &a, NULL);
	writable(f.s, 0);

	a.state = AGENT_UNTRUSTED;
	ck_assert_int_eq(store_agent_save(f.s, &a, &ev, targets, 1),
	    ASSAY_ERR_DB);
	store_health(f.s, &h);
	ck_assert_int_eq(h.failing, 1);
	ck_assert_uint_eq(h.pending, 1);
	ck_assert_ptr_nonnull(h.error);
	ck_assert_int_gt(h.since, 0);

	/* A record-only change folds into the queued one; another agent queues. */
	a.attest_fail = 77;
	ck_assert_int_eq(store_agent_save(f.s, &a, NULL, NULL, 0), ASSAY_ERR_DB);
	ck_assert_uint_eq(store_wq_len(f.s), 1);
	agent_full(&b, "host-b");
	ck_assert_int_eq(store_agent_save(f.s, &b, &reg, NULL, 0), ASSAY_ERR_DB);
	ck_assert_uint_eq(store_wq_len(f.s), 2);

	/* Still read-only: a forced retry fails and keeps both. */
	ck_assert_int_eq(store_wq_flush(f.s, 1, &landed), ASSAY_ERR_DB);
	ck_assert_uint_eq(landed, 0);
	ck_assert_uint_eq(store_wq_len(f.s), 2);
	ck_assert_int_eq(store_agent_get(f.s, "host-a", &got), ASSAY_OK);
	ck_assert_int_eq(got.state, AGENT_TRUSTED);	/* nothing landed yet */
	agent_rec_free(&got);

	writable(f.s, 1);
	ck_assert_int_eq(store_wq_flush(f.s, 1, &landed), ASSAY_OK);
	ck_assert_uint_eq(landed, 2);
	store_health(f.s, &h);
	ck_assert_int_eq(h.failing, 0);
	ck_assert_uint_eq(h.pending, 0);
	ck_assert_ptr_null(h.error);

	ck_assert_int_eq(store_agent_get(f.s, "host-a", &got), ASSAY_OK);
	agent_eq(&got, &a);		/* the newest record, untrusted */
	agent_rec_free(&got);
	ck_assert_int_eq(store_events_list(f.s, NULL, 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);	/* newest first: b's, then a's */
	ck_assert_str_eq(evs[0].type, "registered");
	ck_assert_str_eq(evs[1].type, "state");
	ck_assert_str_eq(evs[1].failure_id, "pcr.value");
	ck_assert(evs[1].time == 100);	/* when it happened, not when it landed */
	ck_assert(evs[1].seq < evs[0].seq);
	ck_assert_int_eq(store_notify_pending(f.s, INT64_MAX, 10, &nq, &n),
	    ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(nq[0].target, targets[0]);
	ck_assert(nq[0].ev.seq == evs[1].seq);
	ck_assert_str_eq(nq[0].ev.new_state, "untrusted");
	store_notification_free(&nq[0]);
	free(nq);
	events_free(evs, 2);
	agent_rec_free(&a);
	agent_rec_free(&b);
	fx_done(&f);
}
END_TEST

START_TEST(later_change_waits_behind_queued_one)
{
	struct fx f;
	struct agent_rec a;
	struct store_event e1 = state_ev("trusted", "untrusted", "pcr.value", 10);
	struct store_event e2 = state_ev("untrusted", "pending", NULL, 11);
	struct store_event *evs;
	size_t n;

	fx_open(&f);
	agent_full(&a, "host-a");
	writable(f.s, 0);
	ck_assert_int_eq(store_agent_save(f.s, &a, &e1, NULL, 0), ASSAY_ERR_DB);
	writable(f.s, 1);
	/* Backing off: the next change queues behind, even though it could land. */
	ck_assert_int_eq(store_agent_save(f.s, &a, &e2, NULL, 0), ASSAY_ERR_DB);
	ck_assert_uint_eq(store_wq_len(f.s), 2);
	ck_assert_int_eq(store_events_list(f.s, "host-a", 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 0);
	free(evs);
	/* Backoff over: the next write flushes the queue first, in order. */
	f.s->wq_retry_at = 0;
	a.state = AGENT_PENDING;
	ck_assert_int_eq(store_agent_save(f.s, &a, NULL, NULL, 0), ASSAY_OK);
	ck_assert_uint_eq(store_wq_len(f.s), 0);
	ck_assert_int_eq(store_events_list(f.s, "host-a", 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(evs[0].new_state, "pending");
	ck_assert_str_eq(evs[1].new_state, "untrusted");
	events_free(evs, n);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(delete_waits_for_queued_changes)
{
	struct fx f;
	struct agent_rec a, got;
	struct store_event e1 = state_ev("trusted", "untrusted", "pcr.value", 10);
	struct store_event del = { .type = "deleted" };

	fx_open(&f);
	agent_full(&a, "host-a");
	put_ok(f.s, &a, NULL);
	writable(f.s, 0);
	ck_assert_int_eq(store_agent_save(f.s, &a, &e1, NULL, 0), ASSAY_ERR_DB);
	/* Failing: the delete is refused (the agent stays, the change waits). */
	ck_assert_int_eq(store_agent_delete(f.s, "host-a", &del), ASSAY_ERR_DB);
	ck_assert_uint_eq(store_wq_len(f.s), 1);
	writable(f.s, 1);
	/* Recovered: the queued change lands first, then the delete. */
	ck_assert_int_eq(store_agent_delete(f.s, "host-a", &del), ASSAY_OK);
	ck_assert_uint_eq(store_wq_len(f.s), 0);
	ck_assert_int_eq(store_agent_get(f.s, "host-a", &got), ASSAY_ERR_NOT_FOUND);
	ck_assert_int_eq(count_rows(f.s, "SELECT COUNT(*) FROM events WHERE"
	    " agent_id = 'host-a'"), 2);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(refused_change_is_not_queued)
{
	struct fx f;
	struct agent_rec a;
	struct store_event bad = { .type = "" };

	fx_open(&f);
	agent_full(&a, "host-a");
	writable(f.s, 0);
	ck_assert_int_eq(store_agent_save(f.s, &a, &bad, NULL, 0),
	    ASSAY_ERR_INVAL);
	ck_assert_uint_eq(store_wq_len(f.s), 0);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(repeated_notice_folds_into_one_row)
{
	struct fx f;
	struct agent_rec a;
	struct store_event n1 = notice_ev("ima.unknown", "/usr/bin/x", 100);
	struct store_event n2 = notice_ev("ima.unknown", "/usr/bin/x", 110);
	struct store_event n3 = notice_ev("ima.unknown", "/usr/bin/x", 120);
	struct store_event other = notice_ev("tpm.clock", "skew", 115);
	struct store_health h;
	struct store_event *evs;
	size_t n;

	fx_open(&f);
	agent_full(&a, "host-a");
	put_ok(f.s, &a, &n1);
	put_ok(f.s, &a, &n2);
	put_ok(f.s, &a, &other);	/* another notice id does not break the run */
	put_ok(f.s, &a, &n3);
	ck_assert_int_eq(store_events_list(f.s, "host-a", 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(evs[0].failure_id, "tpm.clock");
	ck_assert(evs[0].count == 1);
	ck_assert_str_eq(evs[1].failure_id, "ima.unknown");
	ck_assert(evs[1].count == 3);
	ck_assert(evs[1].time == 100);		/* first seen */
	ck_assert(evs[1].last_time == 120);	/* last seen */
	events_free(evs, n);
	store_health(f.s, &h);
	ck_assert_uint_eq(h.events_folded, 2);
	fx_done(&f);
	agent_rec_free(&a);
}
END_TEST

START_TEST(notice_after_other_event_or_detail_is_new_row)
{
	struct fx f;
	struct agent_rec a;
	struct store_event n1 = notice_ev("ima.unknown", "/usr/bin/x", 100);
	struct store_event nd = notice_ev("ima.unknown", "/usr/bin/y", 101);
	struct store_event st = state_ev("trusted", "untrusted", "pcr.value", 102);
	struct store_event *evs;
	size_t n;

	fx_open(&f);
	agent_full(&a, "host-a");
	put_ok(f.s, &a, &n1);
	put_ok(f.s, &a, &nd);	/* other detail: new row */
	put_ok(f.s, &a, &st);
	nd.time = 103;
	put_ok(f.s, &a, &nd);	/* a state change came between: new row */
	ck_assert_int_eq(store_events_list(f.s, "host-a", 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 4);
	for (size_t i = 0; i < n; i++)
		ck_assert(evs[i].count == 1);
	events_free(evs, n);
	/* Another agent's identical notice is its own row. */
	snprintf(a.id, sizeof(a.id), "host-b");
	put_ok(f.s, &a, &n1);
	ck_assert_int_eq(count_rows(f.s, "SELECT COUNT(*) FROM events"), 5);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(prune_by_age_uses_last_seen_and_keeps_queued)
{
	struct fx f;
	struct agent_rec a;
	struct store_event old = state_ev("trusted", "untrusted", "x", 1000);
	struct store_event recent = state_ev("untrusted", "trusted", NULL, 9000);
	struct store_event n1 = notice_ev("ima.unknown", "/a", 1000);
	struct store_event n2 = notice_ev("ima.unknown", "/a", 9500);
	struct store_event hooked = state_ev("x", "y", NULL, 1001);
	const char *targets[1] = { "cmd" };
	size_t del;

	fx_open(&f);
	agent_full(&a, "host-a");
	put_ok(f.s, &a, &old);
	ck_assert_int_eq(store_agent_put_notify(f.s, &a, &hooked, targets, 1),
	    ASSAY_OK);
	put_ok(f.s, &a, &recent);
	put_ok(f.s, &a, &n1);
	put_ok(f.s, &a, &n2);	/* folded: last seen 9500 */
	ck_assert_int_eq(store_events_prune(f.s, 10000, 5000, 0, 100, &del),
	    ASSAY_OK);
	ck_assert_uint_eq(del, 1);	/* only "old": hooked waits for delivery */
	ck_assert_int_eq(count_rows(f.s, "SELECT COUNT(*) FROM events WHERE"
	    " failure_id = 'x'"), 0);
	ck_assert_int_eq(count_rows(f.s, "SELECT COUNT(*) FROM events"), 3);
	ck_assert_int_eq(f.s->events_rows, 3);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(prune_per_agent_keeps_newest_in_small_steps)
{
	struct fx f;
	struct agent_rec a;
	struct store_event ev = state_ev("a", "b", NULL, 0);
	struct store_health h;
	size_t del, total = 0;
	int steps = 0;

	fx_open(&f);
	agent_full(&a, "host-a");
	for (int i = 0; i < 30; i++) {
		ev.time = 1000 + i;
		put_ok(f.s, &a, &ev);
	}
	snprintf(a.id, sizeof(a.id), "host-b");
	for (int i = 0; i < 5; i++)
		put_ok(f.s, &a, &ev);
	do {
		ck_assert_int_eq(store_events_prune(f.s, 2000, 0, 10, 7, &del),
		    ASSAY_OK);
		ck_assert_uint_le(del, 7);
		total += del;
		ck_assert_int_lt(++steps, 10);
	} while (del == 7);
	ck_assert_uint_eq(total, 20);
	ck_assert_int_eq(count_rows(f.s, "SELECT COUNT(*) FROM events WHERE"
	    " agent_id = 'host-a'"), 10);
	ck_assert_int_eq(count_rows(f.s, "SELECT MIN(time) FROM events WHERE"
	    " agent_id = 'host-a'"), 1020);	/* the newest ten stay */
	ck_assert_int_eq(count_rows(f.s, "SELECT COUNT(*) FROM events WHERE"
	    " agent_id = 'host-b'"), 5);
	store_health(f.s, &h);
	ck_assert_int_eq(h.events_rows, 15);
	ck_assert_uint_eq(h.events_pruned, 20);
	ck_assert_uint_gt(h.db_bytes, 0);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(no_limits_prune_nothing)
{
	struct fx f;
	struct agent_rec a;
	struct store_event ev = state_ev("a", "b", NULL, 1);
	size_t del;

	fx_open(&f);
	agent_full(&a, "host-a");
	put_ok(f.s, &a, &ev);
	ck_assert_int_eq(store_events_prune(f.s, INT64_MAX / 2, 0, 0, 100, &del),
	    ASSAY_OK);
	ck_assert_uint_eq(del, 0);
	ck_assert_int_eq(f.s->events_rows, 1);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

static Suite *
make_suite(int pg)
{
	Suite *s = suite_create(pg ? "store_faults (PostgreSQL)" : "store_faults (SQLite)");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, failed_change_is_queued_and_lands_in_order);
	tcase_add_test(tc, later_change_waits_behind_queued_one);
	tcase_add_test(tc, delete_waits_for_queued_changes);
	tcase_add_test(tc, refused_change_is_not_queued);
	tcase_add_test(tc, repeated_notice_folds_into_one_row);
	tcase_add_test(tc, notice_after_other_event_or_detail_is_new_row);
	tcase_add_test(tc, prune_by_age_uses_last_seen_and_keeps_queued);
	tcase_add_test(tc, prune_per_agent_keeps_newest_in_small_steps);
	tcase_add_test(tc, no_limits_prune_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fx_run_both(make_suite) == 0 ? 0 : 1;
}
