/*
 * test_store_batch.c — grouped round writes (store.h, store_batch_*): on
 * SQLite a record saved alone joins one open transaction, seen at once by
 * the store itself and by another connection only once committed (by
 * store_batch_commit, by the next write that carries an event, at
 * STORE_BATCH_MAX records, at close); on PostgreSQL every save still
 * commits on its own (the lease check per write stays). Each test in its
 * own mkdtemp directory (store_fixture.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "tests/unit/store_fixture.h"

/* attest_ok of agent id as another connection reads it; -1: no row. */
static int64_t
other_attest_ok(const struct fx *f, const char *id)
{
	struct db *db;
	struct db_stmt *st;
	int64_t v = -1;

	ck_assert_msg(db_open(f->db, &db) == ASSAY_OK, "%s", assay_err_detail());
	ck_assert_msg(db_prepare(db, "SELECT attest_ok FROM agents WHERE id = ?",
	    "read", &st) == ASSAY_OK, "%s", assay_err_detail());
	db_bind_text(st, 1, id);
	if (db_step(st) == DB_ROW)
		v = db_col_i64(st, 0);
	db_finalize(st);
	db_close(db);
	return v;
}

static void
save_round(struct store *s, const char *id, uint64_t ok)
{
	struct agent_rec a;

	agent_full(&a, id);
	a.attest_ok = ok;
	ck_assert_msg(store_agent_save(s, &a, NULL, NULL, 0) == ASSAY_OK,
	    "save %s: %s", id, assay_err_detail());
	agent_rec_free(&a);
}

START_TEST(record_alone_waits_for_the_commit)
{
	struct fx f;
	struct agent_rec b;

	fx_open(&f);
	save_round(f.s, "host-1", 1);
	save_round(f.s, "host-1", 2);
	/* The store itself reads the newest record at once. */
	ck_assert_int_eq(store_agent_get(f.s, "host-1", &b), ASSAY_OK);
	ck_assert(b.attest_ok == 2);
	agent_rec_free(&b);
	if (fx_pg) {
		/* One node or many: each write commits with its lease check. */
		ck_assert_uint_eq(store_batch_pending(f.s), 0);
		ck_assert(other_attest_ok(&f, "host-1") == 2);
	} else {
		ck_assert_uint_eq(store_batch_pending(f.s), 2);
		ck_assert(other_attest_ok(&f, "host-1") == -1);
		ck_assert_int_eq(store_batch_commit(f.s), ASSAY_OK);
		ck_assert_uint_eq(store_batch_pending(f.s), 0);
		ck_assert(other_attest_ok(&f, "host-1") == 2);
	}
	fx_done(&f);
}
END_TEST

START_TEST(event_write_lands_the_group_first)
{
	struct fx f;
	struct agent_rec a;
	struct store_event ev = { .type = "state", .detail = "pending -> trusted" };

	fx_open(&f);
	save_round(f.s, "host-1", 5);
	agent_full(&a, "host-2");
	a.attest_ok = 6;
	ck_assert_int_eq(store_agent_save(f.s, &a, &ev, NULL, 0), ASSAY_OK);
	agent_rec_free(&a);
	ck_assert_uint_eq(store_batch_pending(f.s), 0);
	ck_assert(other_attest_ok(&f, "host-1") == 5);
	ck_assert(other_attest_ok(&f, "host-2") == 6);
	fx_done(&f);
}
END_TEST

START_TEST(group_commits_at_its_size)
{
	struct fx f;
	char id[32];

	fx_open(&f);
	for (int i = 0; i < STORE_BATCH_MAX; i++) {
		snprintf(id, sizeof(id), "host-%d", i);
		save_round(f.s, id, (uint64_t)i + 1);
	}
	ck_assert_uint_eq(store_batch_pending(f.s), 0);
	ck_assert(other_attest_ok(&f, "host-0") == 1);
	snprintf(id, sizeof(id), "host-%d", STORE_BATCH_MAX - 1);
	ck_assert(other_attest_ok(&f, id) == STORE_BATCH_MAX);
	fx_done(&f);
}
END_TEST

START_TEST(close_commits_the_group)
{
	struct fx f;
	struct agent_rec b;

	fx_open(&f);
	save_round(f.s, "host-1", 9);
	store_close(f.s);
	ck_assert(other_attest_ok(&f, "host-1") == 9);
	ck_assert_int_eq(store_open(f.db, &f.s), ASSAY_OK);
	ck_assert_int_eq(store_agent_get(f.s, "host-1", &b), ASSAY_OK);
	ck_assert(b.attest_ok == 9);
	agent_rec_free(&b);
	fx_done(&f);
}
END_TEST

START_TEST(delete_after_grouped_record_removes_it)
{
	struct fx f;
	struct agent_rec b;

	fx_open(&f);
	save_round(f.s, "host-1", 3);
	ck_assert_int_eq(store_agent_delete(f.s, "host-1", NULL), ASSAY_OK);
	ck_assert_uint_eq(store_batch_pending(f.s), 0);
	ck_assert_int_eq(store_agent_get(f.s, "host-1", &b), ASSAY_ERR_NOT_FOUND);
	ck_assert(other_attest_ok(&f, "host-1") == -1);
	fx_done(&f);
}
END_TEST

static Suite *
make_suite(int pg)
{
	Suite *s = suite_create(pg ? "store batch (PostgreSQL)" :
	    "store batch (SQLite)");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, record_alone_waits_for_the_commit);
	tcase_add_test(tc, event_write_lands_the_group_first);
	tcase_add_test(tc, group_commits_at_its_size);
	tcase_add_test(tc, close_commits_the_group);
	tcase_add_test(tc, delete_after_grouped_record_removes_it);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fx_run_both(make_suite) == 0 ? 0 : 1;
}
