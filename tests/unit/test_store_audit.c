/*
 * test_store_audit.c — the audit trail in the store (verifier/store_audit.c),
 * on SQLite and on PostgreSQL: a record lands in the agent change's own
 * transaction (a record that does not follow the head refuses the whole
 * change: no agent write, no event), the head moves one seq at a time and
 * survives the agent's deletion, policy texts are stored once, records
 * list in pages, and retention deletes old records in bounded steps but
 * never an agent's head.
 */
#include "tests/unit/store_fixture.h"

#include "verifier/store_audit.h"

/* A sealed record of id at seq after prev, at time t; *au owns copies. */
static void
mk(struct store_audit *au, const char *id, int64_t seq, const char *prev,
    int64_t t)
{
	json_t *o = json_pack("{s:s, s:I}", "kind", "round", "time", (json_int_t)t);
	char hash[AUDIT_HASH_HEX], *text;

	ck_assert_int_eq(audit_rec_seal(o, id, seq, prev, &text, hash), ASSAY_OK);
	memset(au, 0, sizeof(*au));
	au->agent_id = xstrdup(id);
	au->seq = seq;
	au->time = t;
	au->kind = xstrdup("round");
	au->record = text;
	au->hash = xstrdup(hash);
	json_decref(o);
}

/* Records 1..n of id at times t0, t0 + 1, ... written with agent puts. */
static void
put_chain(struct store *s, struct agent_rec *a, int n, int64_t t0)
{
	char prev[AUDIT_HASH_HEX] = AUDIT_ZERO_HASH;
	struct store_audit au;

	for (int i = 1; i <= n; i++) {
		mk(&au, a->id, i, prev, t0 + i - 1);
		ck_assert_msg(store_agent_put_audit(s, a, NULL, NULL, 0, &au) ==
		    ASSAY_OK, "%s", assay_err_detail());
		memcpy(prev, au.hash, AUDIT_HASH_HEX);
		store_audit_free(&au);
	}
}

static size_t
count_records(struct store *s, const char *id)
{
	struct store_audit *l;
	size_t n;

	ck_assert_int_eq(store_audit_list(s, id, 0, INT64_MAX, 0, 1000,
	    &l, &n), ASSAY_OK);
	for (size_t i = 0; i < n; i++)
		store_audit_free(&l[i]);
	free(l);
	return n;
}

START_TEST(record_lands_with_its_agent_change)
{
	struct fx f;
	struct agent_rec a, got;
	struct store_event ev = { .type = "state", .new_state = "trusted" };
	struct store_audit au, *l;
	char hash[AUDIT_HASH_HEX];
	int64_t seq;
	size_t n;

	fx_open(&f);
	agent_full(&a, "a1");
	mk(&au, "a1", 1, AUDIT_ZERO_HASH, 100);
	ck_assert_int_eq(store_agent_put_audit(f.s, &a, &ev, NULL, 0, &au),
	    ASSAY_OK);
	ck_assert_int_eq(store_agent_get(f.s, "a1", &got), ASSAY_OK);
	agent_rec_free(&got);
	ck_assert_int_eq(store_audit_head(f.s, "a1", &seq, hash), ASSAY_OK);
	ck_assert_int_eq(seq, 1);
	ck_assert_str_eq(hash, au.hash);
	ck_assert_int_eq(store_audit_list(f.s, "a1", 0, INT64_MAX, 0, 10,
	    &l, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(l[0].record, au.record);
	ck_assert_int_eq(l[0].time, 100);
	store_audit_free(&l[0]);
	free(l);
	store_audit_free(&au);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(record_off_the_head_refuses_the_change)
{
	struct fx f;
	struct agent_rec a, got;
	struct store_event ev = { .type = "state", .new_state = "trusted" };
	struct store_event *evs;
	struct store_audit au;
	char hash[AUDIT_HASH_HEX];
	int64_t seq;
	size_t n;

	fx_open(&f);
	agent_full(&a, "a1");
	put_chain(f.s, &a, 2, 100);
	a.state = AGENT_TRUSTED;
	mk(&au, "a1", 4, AUDIT_ZERO_HASH, 200);		/* seq 3 skipped */
	ck_assert_int_eq(store_agent_put_audit(f.s, &a, &ev, NULL, 0, &au),
	    ASSAY_ERR_STATE);
	store_audit_free(&au);
	mk(&au, "a1", 2, AUDIT_ZERO_HASH, 200);		/* seq 2 again */
	ck_assert_int_eq(store_agent_put_audit(f.s, &a, &ev, NULL, 0, &au),
	    ASSAY_ERR_STATE);
	/* Nothing of the change landed: state, event, record, head. */
	ck_assert_int_eq(store_agent_get(f.s, "a1", &got), ASSAY_OK);
	ck_assert_int_eq(got.state, AGENT_UNTRUSTED);
	agent_rec_free(&got);
	ck_assert_int_eq(store_events_list(f.s, "a1", 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 0);
	free(evs);
	ck_assert_uint_eq(count_records(f.s, "a1"), 2);
	ck_assert_int_eq(store_audit_head(f.s, "a1", &seq, hash), ASSAY_OK);
	ck_assert_int_eq(seq, 2);
	store_audit_free(&au);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

/*
 * Rounds with their audit records join the open group of round writes
 * (SQLite); a record off its chain's head takes the whole group back with
 * it and counts as a lost group, so the verifier reads its heads again.
 */
START_TEST(records_join_the_round_group)
{
	struct fx f;
	struct agent_rec a, b;
	struct store_audit au, bu, bad;
	char hash[AUDIT_HASH_HEX];
	int64_t seq;
	int sqlite;

	fx_open(&f);
	sqlite = store_kind(f.s) == DB_SQLITE;
	agent_full(&a, "a1");
	agent_full(&b, "b1");
	mk(&au, "a1", 1, AUDIT_ZERO_HASH, 100);
	mk(&bu, "b1", 1, AUDIT_ZERO_HASH, 100);
	ck_assert_int_eq(store_agent_save_audit(f.s, &a, NULL, NULL, 0, &au),
	    ASSAY_OK);
	ck_assert_int_eq(store_agent_save_audit(f.s, &b, NULL, NULL, 0, &bu),
	    ASSAY_OK);
	ck_assert_uint_eq(store_batch_pending(f.s), (sqlite ? 2 : 0));
	ck_assert_int_eq(store_batch_commit(f.s), ASSAY_OK);
	ck_assert_int_eq(store_audit_head(f.s, "b1", &seq, hash), ASSAY_OK);
	ck_assert_int_eq(seq, 1);
	store_audit_free(&bu);
	/* b1's record 2 waits in the group; a1's record 3 skips 2 */
	mk(&bu, "b1", 2, hash, 101);
	mk(&bad, "a1", 3, au.hash, 101);
	ck_assert_int_eq(store_agent_save_audit(f.s, &b, NULL, NULL, 0, &bu),
	    ASSAY_OK);
	ck_assert_int_eq(store_agent_save_audit(f.s, &a, NULL, NULL, 0, &bad),
	    ASSAY_ERR_STATE);
	ck_assert_uint_eq(store_batch_pending(f.s), 0);
	/* on SQLite b1's record 2 went back with the group, into the queue */
	ck_assert_uint_eq(store_wq_len(f.s), (sqlite ? 1 : 0));
	ck_assert_int_eq(store_audit_head(f.s, "b1", &seq, hash), ASSAY_OK);
	ck_assert_int_eq(seq, (sqlite ? 1 : 2));
	ck_assert_int_eq(store_wq_flush(f.s, 1, NULL), ASSAY_OK);
	ck_assert_int_eq(store_audit_head(f.s, "b1", &seq, hash), ASSAY_OK);
	ck_assert_int_eq(seq, 2);
	store_audit_free(&au);
	store_audit_free(&bu);
	store_audit_free(&bad);
	agent_rec_free(&a);
	agent_rec_free(&b);
	fx_done(&f);
}
END_TEST

START_TEST(head_of_unknown_agent_is_zero)
{
	struct fx f;
	char hash[AUDIT_HASH_HEX];
	int64_t seq = 9;

	fx_open(&f);
	ck_assert_int_eq(store_audit_head(f.s, "nobody", &seq, hash), ASSAY_OK);
	ck_assert_int_eq(seq, 0);
	ck_assert_str_eq(hash, AUDIT_ZERO_HASH);
	fx_done(&f);
}
END_TEST

START_TEST(delete_keeps_chain_and_moves_head)
{
	struct fx f;
	struct agent_rec a, got;
	struct store_audit *l, au;
	char hash[AUDIT_HASH_HEX];
	int64_t seq;
	size_t n;

	fx_open(&f);
	agent_full(&a, "a1");
	put_chain(f.s, &a, 2, 100);
	ck_assert_int_eq(store_audit_list(f.s, "a1", 1, INT64_MAX, 0, 10,
	    &l, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	mk(&au, "a1", 3, l[0].hash, 300);
	store_audit_free(&l[0]);
	free(l);
	ck_assert_int_eq(store_agent_delete_audit(f.s, "a1", NULL, &au), ASSAY_OK);
	ck_assert_int_eq(store_agent_get(f.s, "a1", &got), ASSAY_ERR_NOT_FOUND);
	ck_assert_int_eq(store_audit_head(f.s, "a1", &seq, hash), ASSAY_OK);
	ck_assert_int_eq(seq, 3);
	ck_assert_str_eq(hash, au.hash);
	ck_assert_uint_eq(count_records(f.s, "a1"), 3);
	store_audit_free(&au);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

/* Record 1 of id naming policy sha with text. */
static void
put_with_policy(struct store *s, const char *id, const char *sha,
    const char *text)
{
	struct agent_rec a;
	struct store_audit au;

	agent_full(&a, id);
	mk(&au, id, 1, AUDIT_ZERO_HASH, 100);
	au.pol_sha256 = xstrdup(sha);
	au.pol_name = xstrdup("fleet");
	au.pol_text = xstrdup(text);
	ck_assert_msg(store_agent_put_audit(s, &a, NULL, NULL, 0, &au) ==
	    ASSAY_OK, "%s", assay_err_detail());
	store_audit_free(&au);
	agent_rec_free(&a);
}

START_TEST(policy_text_is_stored_once)
{
	struct fx f;
	char *name, *text;

	fx_open(&f);
	put_with_policy(f.s, "a1", "ab12", "name: fleet\n");
	put_with_policy(f.s, "a2", "ab12", "other");	/* first one stays */
	ck_assert_int_eq(store_audit_policy(f.s, "ab12", &name, &text), ASSAY_OK);
	ck_assert_str_eq(name, "fleet");
	ck_assert_str_eq(text, "name: fleet\n");
	free(name);
	free(text);
	ck_assert_int_eq(store_audit_policy(f.s, "cd34", &name, &text),
	    ASSAY_ERR_NOT_FOUND);
	fx_done(&f);
}
END_TEST

START_TEST(list_pages_and_since)
{
	struct fx f;
	struct agent_rec a;
	struct store_audit *l;
	size_t n;

	fx_open(&f);
	agent_full(&a, "a1");
	put_chain(f.s, &a, 5, 100);	/* times 100..104 */
	ck_assert_int_eq(store_audit_list(f.s, "a1", 2, INT64_MAX, 0, 2,
	    &l, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(l[0].seq, 3);
	ck_assert_int_eq(l[1].seq, 4);
	for (size_t i = 0; i < n; i++)
		store_audit_free(&l[i]);
	free(l);
	ck_assert_int_eq(store_audit_list(f.s, "a1", 0, INT64_MAX, 103, 10,
	    &l, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(l[0].seq, 4);
	for (size_t i = 0; i < n; i++)
		store_audit_free(&l[i]);
	free(l);
	/* Nothing past upto (the head an export began with). */
	ck_assert_int_eq(store_audit_list(f.s, "a1", 0, 3, 0, 10, &l, &n),
	    ASSAY_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(l[2].seq, 3);
	for (size_t i = 0; i < n; i++)
		store_audit_free(&l[i]);
	free(l);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(prune_old_records_never_the_head)
{
	struct fx f;
	struct agent_rec a;
	struct store_audit *l;
	size_t n, del;

	fx_open(&f);
	agent_full(&a, "a1");
	put_chain(f.s, &a, 3, 100);	/* all old */
	agent_rec_free(&a);
	agent_full(&a, "a2");
	put_chain(f.s, &a, 2, 5000);	/* young */
	ck_assert_int_eq(store_audit_prune(f.s, 6000, 1000, 100, &del), ASSAY_OK);
	ck_assert_uint_eq(del, 2);
	ck_assert_int_eq(store_audit_list(f.s, "a1", 0, INT64_MAX, 0, 10,
	    &l, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(l[0].seq, 3);	/* the head stays */
	store_audit_free(&l[0]);
	free(l);
	ck_assert_uint_eq(count_records(f.s, "a2"), 2);
	/* 0 keeps everything */
	ck_assert_int_eq(store_audit_prune(f.s, 1000000, 0, 100, &del), ASSAY_OK);
	ck_assert_uint_eq(del, 0);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

START_TEST(prune_is_bounded_per_step)
{
	struct fx f;
	struct agent_rec a;
	size_t del;

	fx_open(&f);
	agent_full(&a, "a1");
	put_chain(f.s, &a, 6, 100);
	ck_assert_int_eq(store_audit_prune(f.s, 6000, 1000, 2, &del), ASSAY_OK);
	ck_assert_uint_eq(del, 2);
	ck_assert_uint_eq(count_records(f.s, "a1"), 4);
	ck_assert_int_eq(store_audit_prune(f.s, 6000, 1000, 100, &del), ASSAY_OK);
	ck_assert_uint_eq(del, 3);
	ck_assert_uint_eq(count_records(f.s, "a1"), 1);
	agent_rec_free(&a);
	fx_done(&f);
}
END_TEST

static Suite *
make_suite(int pg)
{
	Suite *s = suite_create(pg ? "store_audit (PostgreSQL)" :
	    "store_audit (SQLite)");
	TCase *tc = tcase_create("core");

	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, record_lands_with_its_agent_change);
	tcase_add_test(tc, record_off_the_head_refuses_the_change);
	tcase_add_test(tc, head_of_unknown_agent_is_zero);
	tcase_add_test(tc, records_join_the_round_group);
	tcase_add_test(tc, delete_keeps_chain_and_moves_head);
	tcase_add_test(tc, policy_text_is_stored_once);
	tcase_add_test(tc, list_pages_and_since);
	tcase_add_test(tc, prune_old_records_never_the_head);
	tcase_add_test(tc, prune_is_bounded_per_step);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fx_run_both(make_suite) == 0 ? 0 : 1;
}
