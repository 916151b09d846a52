/*
 * test_store_cluster.c — many verifiers on one database, as two store
 * handles opened on the same target with node names "a" and "b": the
 * lease that guards every agent write, acquiring from a live or a dead
 * owner, claiming unheld and orphaned agents, release, the command rows
 * between nodes, enrollments waiting for activation, policy revisions
 * and users, leased notifications (PostgreSQL) and the per-state counts.
 * Liveness is the database clock: a node is live for ttl ms after its
 * heartbeat (never beating: dead). Runs on SQLite and, with
 * ASSAY_TEST_PG_URI, on PostgreSQL (store_fixture.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_int.h"
#include "tests/unit/store_fixture.h"

#define LIVE_TTL	60000		/* ms: every beating node is live */
#define SHORT_TTL	300		/* ms: a node that stops beating dies */
#define PAST_TTL_US	450000		/* us slept to outlive SHORT_TTL */

/* Another handle on f's database, named node (NULL: no node). */
static struct store *
open_node(struct fx *f, const char *node)
{
	struct store *s;

	ck_assert_msg(store_open(f->db, &s) == ASSAY_OK, "store_open: %s",
	    assay_err_detail());
	store_set_node(s, node);
	return s;
}

static void
beat(struct store *s, int64_t leases)
{
	ck_assert_msg(store_node_beat(s, 1, leases, "ok") == ASSAY_OK,
	    "beat %s: %s", store_node(s), assay_err_detail());
}

static void
acquire_ok(struct store *s, const char *id, int64_t ttl)
{
	char *owner = NULL;

	ck_assert_msg(store_lease_acquire(s, id, ttl, &owner) == ASSAY_OK,
	    "%s acquires %s: %s", store_node(s), id, assay_err_detail());
	ck_assert_ptr_null(owner);
}

/* The lease holder of id (NULL: none) equals want; *live (may be NULL). */
static void
owner_is(struct store *s, const char *id, int64_t ttl, const char *want,
    int *live)
{
	char *owner;
	int l;

	ck_assert_int_eq(store_lease_owner(s, id, ttl, &owner, &l), ASSAY_OK);
	str_eq(owner, want);
	if (live != NULL)
		*live = l;
	free(owner);
}

static void
put_agent(struct store *s, const char *id, int admitted, int state,
    const char *policy)
{
	struct agent_rec a;

	agent_full(&a, id);
	a.admitted = admitted;
	a.state = state;
	free(a.policy);
	a.policy = policy != NULL ? xstrdup(policy) : NULL;
	put_ok(s, &a, NULL);
	agent_rec_free(&a);
}

static int
has_id(char **ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

/* No id in both lists. */
static void
disjoint(char **x, size_t nx, char **y, size_t ny)
{
	for (size_t i = 0; i < nx; i++)
		ck_assert_msg(!has_id(y, ny, x[i]), "%s claimed twice", x[i]);
}

/* store_leases_mine(s) holds exactly ids. */
static void
mine_is(struct store *s, char **ids, size_t n)
{
	char **m;
	size_t nm;

	ck_assert_int_eq(store_leases_mine(s, &m, &nm), ASSAY_OK);
	ck_assert_uint_eq(nm, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(has_id(m, nm, ids[i]), "%s: %s not mine",
		    store_node(s), ids[i]);
	store_ids_free(m, nm);
}

START_TEST(lease_guards_every_agent_write)
{
	struct fx f;
	struct store *b;
	struct agent_rec x, got;
	uint64_t lost;

	fx_open(&f);
	store_set_node(f.s, "a");
	b = open_node(&f, "b");
	agent_full(&x, "x");
	acquire_ok(f.s, "x", LIVE_TTL);
	put_ok(f.s, &x, NULL);

	lost = store_lease_lost_count(b);
	x.poll_errors = 99;
	ck_assert_int_eq(store_agent_put(b, &x, NULL), ASSAY_ERR_STATE);
	ck_assert_int_eq(store_agent_get(b, "x", &got), ASSAY_OK);
	ck_assert(got.poll_errors == 3);
	agent_rec_free(&got);
	ck_assert_int_eq(store_agent_delete(b, "x", NULL), ASSAY_ERR_STATE);
	ck_assert_int_eq(store_agent_get(f.s, "x", &got), ASSAY_OK);
	agent_rec_free(&got);
	ck_assert_uint_eq(store_lease_lost_count(b), lost + 2);
	ck_assert_uint_eq(store_lease_lost_count(f.s), 0);
	owner_is(b, "x", LIVE_TTL, "a", NULL);

	ck_assert_int_eq(store_agent_delete(f.s, "x", NULL), ASSAY_OK);
	ck_assert_int_eq(store_agent_get(b, "x", &got), ASSAY_ERR_NOT_FOUND);
	owner_is(b, "x", LIVE_TTL, NULL, NULL);
	/* Without a lease row, a node may not create the agent either. */
	ck_assert_int_eq(store_agent_put(f.s, &x, NULL), ASSAY_ERR_STATE);

	/* Without a node, writes ignore leases (one verifier). */
	acquire_ok(f.s, "y", LIVE_TTL);
	store_set_node(b, NULL);
	ck_assert_ptr_null(store_node(b));
	strcpy(x.id, "y");
	put_ok(b, &x, NULL);
	ck_assert_int_eq(store_agent_get(f.s, "y", &got), ASSAY_OK);
	ck_assert(got.poll_errors == 99);
	agent_rec_free(&got);
	ck_assert_int_eq(store_agent_delete(b, "y", NULL), ASSAY_OK);
	ck_assert_uint_eq(store_lease_lost_count(b), lost + 2);
	agent_rec_free(&x);
	store_close(b);
	fx_done(&f);
}
END_TEST

START_TEST(acquire_respects_live_owner)
{
	struct fx f;
	struct store *b;
	struct agent_rec x;
	char *owner = NULL;
	int live;

	fx_open(&f);
	store_set_node(f.s, "a");
	b = open_node(&f, "b");
	beat(f.s, 0);
	acquire_ok(f.s, "x", LIVE_TTL);
	acquire_ok(f.s, "x", LIVE_TTL);		/* already ours */
	ck_assert_int_eq(store_lease_acquire(b, "x", LIVE_TTL, &owner),
	    ASSAY_ERR_BUSY);
	ck_assert_ptr_nonnull(owner);
	ck_assert_str_eq(owner, "a");
	free(owner);
	owner_is(b, "x", LIVE_TTL, "a", &live);
	ck_assert_int_eq(live, 1);

	usleep(PAST_TTL_US);
	owner_is(b, "x", SHORT_TTL, "a", &live);
	ck_assert_int_eq(live, 0);
	acquire_ok(b, "x", SHORT_TTL);
	owner_is(f.s, "x", SHORT_TTL, "b", &live);
	ck_assert_int_eq(live, 0);		/* b never beat */
	beat(b, 1);
	owner_is(f.s, "x", SHORT_TTL, "b", &live);
	ck_assert_int_eq(live, 1);

	/* a lost x: its writes are refused now. */
	agent_full(&x, "x");
	ck_assert_int_eq(store_agent_put(f.s, &x, NULL), ASSAY_ERR_STATE);
	put_ok(b, &x, NULL);
	agent_rec_free(&x);
	store_close(b);
	fx_done(&f);
}
END_TEST

static void
claim_n(struct store *s, int64_t ttl, int64_t max, char ***ids, size_t *n)
{
	ck_assert_msg(store_lease_claim(s, ttl, max, ids, n) == ASSAY_OK,
	    "%s claims: %s", store_node(s), assay_err_detail());
}

static void
nodes_check(struct store *s)
{
	struct store_node *v;
	size_t n;

	ck_assert_int_eq(store_nodes_list(s, SHORT_TTL, &v, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].node, "a");
	ck_assert_int_eq(v[0].live, 0);
	ck_assert(v[0].leases == 0);
	ck_assert(v[0].leases_reported == 2);
	ck_assert(v[0].age_ms >= SHORT_TTL);
	ck_assert_str_eq(v[1].node, "b");
	ck_assert_int_eq(v[1].live, 1);
	ck_assert(v[1].leases == 6);
	ck_assert_str_eq(v[1].status, "ok");
	for (size_t i = 0; i < n; i++)
		store_node_free(&v[i]);
	free(v);
}

START_TEST(claim_takes_unheld_and_dead_only)
{
	struct fx f;
	struct store *a, *b;
	char **ia, **ib, **ic, id[16];
	size_t na, nb, nc;
	int64_t live, admitted, min_leases;

	fx_open(&f);
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "agent-%d", i);
		put_agent(f.s, id, 1, AGENT_TRUSTED, "p");
	}
	put_agent(f.s, "waiting", 0, AGENT_REGISTERED, NULL);
	a = open_node(&f, "a");
	b = open_node(&f, "b");
	beat(a, 0);
	claim_n(a, LIVE_TTL, 2, &ia, &na);
	ck_assert_uint_eq(na, 2);
	ck_assert(!has_id(ia, na, "waiting"));
	beat(b, 0);
	claim_n(b, LIVE_TTL, 10, &ib, &nb);
	ck_assert_uint_eq(nb, 4);
	ck_assert(!has_id(ib, nb, "waiting"));
	disjoint(ia, na, ib, nb);
	mine_is(a, ia, na);
	mine_is(b, ib, nb);
	beat(a, 2);
	beat(b, 4);
	ck_assert_int_eq(store_fleet_view(f.s, LIVE_TTL, &live, &admitted,
	    &min_leases), ASSAY_OK);
	ck_assert(live == 2 && admitted == 6 && min_leases == 2);
	/* Nothing is left while both live. */
	claim_n(b, LIVE_TTL, 10, &ic, &nc);
	ck_assert_uint_eq(nc, 0);
	free(ic);

	usleep(PAST_TTL_US);
	beat(b, 4);
	claim_n(b, SHORT_TTL, 10, &ic, &nc);
	ck_assert_uint_eq(nc, 2);
	for (size_t i = 0; i < na; i++)
		ck_assert(has_id(ic, nc, ia[i]));
	mine_is(a, NULL, 0);
	ck_assert_int_eq(store_fleet_view(f.s, SHORT_TTL, &live, &admitted,
	    &min_leases), ASSAY_OK);
	ck_assert(live == 1 && admitted == 6 && min_leases == 4);
	nodes_check(f.s);
	store_ids_free(ia, na);
	store_ids_free(ib, nb);
	store_ids_free(ic, nc);
	store_close(a);
	store_close(b);
	fx_done(&f);
}
END_TEST

START_TEST(release_and_reclaim)
{
	struct fx f;
	struct store *a, *b;
	char **ids;
	size_t n;

	fx_open(&f);
	put_agent(f.s, "x", 1, AGENT_TRUSTED, NULL);
	a = open_node(&f, "a");
	b = open_node(&f, "b");
	beat(a, 0);
	beat(b, 0);
	acquire_ok(a, "x", LIVE_TTL);
	claim_n(b, LIVE_TTL, 10, &ids, &n);
	ck_assert_uint_eq(n, 0);
	free(ids);

	ck_assert_int_eq(store_lease_release(b, "x"), ASSAY_OK);
	owner_is(b, "x", LIVE_TTL, "a", NULL);
	ck_assert_int_eq(store_lease_release(a, "x"), ASSAY_OK);
	owner_is(b, "x", LIVE_TTL, NULL, NULL);
	mine_is(a, NULL, 0);

	/* Released by a live node: free for the next claim. */
	claim_n(b, LIVE_TTL, 10, &ids, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ids[0], "x");
	store_ids_free(ids, n);
	owner_is(a, "x", LIVE_TTL, "b", NULL);
	store_close(a);
	store_close(b);
	fx_done(&f);
}
END_TEST

static void
result_is(struct store *s, int64_t id, int done, int status,
    const char *result)
{
	char *res;
	int d, st;

	ck_assert_msg(store_command_result(s, id, &d, &st, &res) == ASSAY_OK,
	    "command %lld: %s", (long long)id, assay_err_detail());
	ck_assert_int_eq(d, done);
	ck_assert_int_eq(st, status);
	str_eq(res, result);
	free(res);
}

static size_t
commands_count(struct store *s)
{
	struct store_command *c;
	size_t n;

	ck_assert_int_eq(store_commands_mine(s, &c, &n), ASSAY_OK);
	for (size_t i = 0; i < n; i++)
		store_command_free(&c[i]);
	free(c);
	return n;
}

START_TEST(commands_round_trip)
{
	static const char *res = "{\"state\":\"pending\"}";
	struct fx f;
	struct store *b;
	struct store_command *c;
	int64_t id;
	size_t n;
	char *r;
	int d, st;

	fx_open(&f);
	store_set_node(f.s, "a");
	b = open_node(&f, "b");
	ck_assert_int_eq(store_command_add(f.s, "x", "reset", "why", &id),
	    ASSAY_OK);
	ck_assert(id > 0);
	ck_assert_uint_eq(commands_count(b), 0);	/* b holds no x yet */
	acquire_ok(b, "x", LIVE_TTL);
	ck_assert_int_eq(store_commands_mine(b, &c, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert(c[0].id == id);
	ck_assert_str_eq(c[0].agent_id, "x");
	ck_assert_str_eq(c[0].op, "reset");
	ck_assert_str_eq(c[0].arg, "why");
	ck_assert_str_eq(c[0].origin, "a");
	ck_assert(c[0].age_ms >= 0);
	store_command_free(&c[0]);
	free(c);
	ck_assert_uint_eq(commands_count(f.s), 0);
	result_is(f.s, id, 0, 0, NULL);

	ck_assert_int_eq(store_command_done(b, id, 202, res), ASSAY_OK);
	result_is(f.s, id, 1, 202, res);
	ck_assert_uint_eq(commands_count(b), 0);
	/* Answered once: a second answer changes nothing. */
	ck_assert_int_eq(store_command_done(b, id, 500, "{}"), ASSAY_OK);
	result_is(f.s, id, 1, 202, res);
	ck_assert_int_eq(store_command_result(f.s, id + 1000, &d, &st, &r),
	    ASSAY_ERR_NOT_FOUND);
	ck_assert_ptr_null(r);

	usleep(20000);
	ck_assert_int_eq(store_commands_prune(f.s, 0), ASSAY_OK);
	ck_assert_int_eq(store_command_result(b, id, &d, &st, &r),
	    ASSAY_ERR_NOT_FOUND);
	store_close(b);
	fx_done(&f);
}
END_TEST

static void
room_is(struct store *s, const char *key, const char *cn, const char *ek,
    int64_t now, const int64_t want[4])
{
	struct store_enroll_counts c;

	ck_assert_int_eq(store_enroll_room(s, key, cn, ek, now, &c), ASSAY_OK);
	ck_assert_msg(c.total == want[0] && c.by_cert == want[1] &&
	    c.by_ek == want[2] && c.same_key == want[3], "room %s: total %lld"
	    " by_cert %lld by_ek %lld same_key %lld", key, (long long)c.total,
	    (long long)c.by_cert, (long long)c.by_ek, (long long)c.same_key);
}

static void
enroll_rec(struct agent_rec *r, const char *id)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->cert_cn = xstrdup("cn");
	r->ek_pub = bytes(r->ek_pub_len = 314, 1);
	r->ak_pub = bytes(r->ak_pub_len = 280, 3);
	r->address = xstrdup("10.0.0.9:8890");
}

START_TEST(enrollments)
{
	/* total, by_cert, by_ek, same_key */
	static const int64_t other[4] = { 1, 1, 1, 0 };
	static const int64_t same[4] = { 1, 0, 0, 1 };
	static const int64_t stranger[4] = { 1, 0, 0, 0 };
	static const int64_t none[4] = { 0, 0, 0, 0 };
	struct fx f;
	struct store *b;
	struct agent_rec rec, got;
	uint8_t secret[32], out[32];
	int64_t now = time(NULL);
	int64_t old[4] = { 3, 0, 0, 0 };

	fx_open(&f);
	b = open_node(&f, "b");
	enroll_rec(&rec, "x");
	memset(secret, 0x5a, sizeof(secret));
	secret[31] = 1;
	ck_assert_int_eq(store_enroll_put(f.s, "x\ncn", &rec, "h1", secret,
	    sizeof(secret), now + 300), ASSAY_OK);
	room_is(b, "y\ncn", "cn", "h1", now, other);
	room_is(b, "x\ncn", "cn", "h1", now, same);
	room_is(b, "y\ncn2", "cn2", "h2", now, stranger);

	ck_assert_int_eq(store_enroll_take(b, "x\ncn", now, &got, out,
	    sizeof(out)), ASSAY_OK);
	ck_assert_str_eq(got.id, "x");
	str_eq(got.cert_cn, "cn");
	str_eq(got.address, rec.address);
	blob_eq(got.ek_pub, got.ek_pub_len, rec.ek_pub, rec.ek_pub_len);
	blob_eq(got.ak_pub, got.ak_pub_len, rec.ak_pub, rec.ak_pub_len);
	ck_assert_ptr_null(got.ek_cert);
	ck_assert_int_eq(memcmp(out, secret, sizeof(secret)), 0);
	agent_rec_free(&got);
	/* One try per credential. */
	ck_assert_int_eq(store_enroll_take(b, "x\ncn", now, &got, out,
	    sizeof(out)), ASSAY_ERR_NOT_FOUND);
	room_is(b, "x\ncn", "cn", "h1", now, none);

	/* Expired: not counted, not taken, removed by expire. */
	ck_assert_int_eq(store_enroll_put(f.s, "z\ncn", &rec, "h1", secret,
	    sizeof(secret), now - 10), ASSAY_OK);
	room_is(b, "q", "cq", "hq", now, none);
	ck_assert_int_eq(store_enroll_take(b, "z\ncn", now, &got, out,
	    sizeof(out)), ASSAY_ERR_NOT_FOUND);
	ck_assert_ptr_null(got.cert_cn);
	ck_assert_int_eq(store_enroll_put(f.s, "e1", &rec, "h1", secret,
	    sizeof(secret), now - 10), ASSAY_OK);
	ck_assert_int_eq(store_enroll_put(f.s, "e2", &rec, "h1", secret,
	    sizeof(secret), now - 20), ASSAY_OK);
	ck_assert_int_eq(store_enroll_put(f.s, "live", &rec, "h1", secret,
	    sizeof(secret), now + 300), ASSAY_OK);
	room_is(b, "q", "cq", "hq", now - 1000, old);	/* as seen earlier */
	ck_assert_int_eq(store_enroll_expire(b, now), ASSAY_OK);
	old[0] = 1;
	room_is(b, "q", "cq", "hq", now - 1000, old);
	ck_assert_int_eq(store_enroll_take(f.s, "live", now, &got, out,
	    sizeof(out)), ASSAY_OK);
	agent_rec_free(&got);
	agent_rec_free(&rec);
	store_close(b);
	fx_done(&f);
}
END_TEST

/* p's revision as b sees it, by get and by the revisions list. */
static void
rev_seen(struct store *b, int64_t want)
{
	struct store_policy p, *v;
	size_t n, hits = 0;

	ck_assert_int_eq(store_policy_get(b, "p", &p), ASSAY_OK);
	ck_assert(p.rev == want);
	store_policy_free(&p);
	ck_assert_int_eq(store_policy_revs(b, &v, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_null(v[i].text);
		if (strcmp(v[i].name, "p") == 0) {
			ck_assert(v[i].rev == want);
			hits++;
		}
		store_policy_free(&v[i]);
	}
	free(v);
	ck_assert_uint_eq(hits, 1);
}

START_TEST(policy_revisions)
{
	struct fx f;
	struct store *b;
	int64_t r1, r2, users;

	fx_open(&f);
	b = open_node(&f, NULL);
	ck_assert(store_policy_last_rev(f.s) == 0);
	ck_assert_int_eq(store_policy_put(f.s, "other", "name: o\n"), ASSAY_OK);
	ck_assert_int_eq(store_policy_put(f.s, "p", "name: p\n"), ASSAY_OK);
	r1 = store_policy_last_rev(f.s);
	ck_assert(r1 > 0);
	rev_seen(b, r1);
	ck_assert_int_eq(store_policy_put(f.s, "p", "name: p2\n"), ASSAY_OK);
	r2 = store_policy_last_rev(f.s);
	ck_assert(r2 > 0 && r2 != r1);
	rev_seen(b, r2);
	ck_assert(store_policy_last_rev(b) == 0);	/* b put nothing */

	put_agent(f.s, "u1", 1, AGENT_TRUSTED, "p");
	put_agent(f.s, "u2", 1, AGENT_PENDING, "p");
	put_agent(b, "u3", 0, AGENT_REGISTERED, "p");
	put_agent(b, "o1", 1, AGENT_TRUSTED, "other");
	put_agent(b, "n1", 0, AGENT_REGISTERED, NULL);
	ck_assert_int_eq(store_policy_users(b, "p", &users), ASSAY_OK);
	ck_assert(users == 3);
	ck_assert_int_eq(store_policy_users(f.s, "other", &users), ASSAY_OK);
	ck_assert(users == 1);
	ck_assert_int_eq(store_policy_users(f.s, "none", &users), ASSAY_OK);
	ck_assert(users == 0);
	store_close(b);
	fx_done(&f);
}
END_TEST

static void
pending_is(struct store *s, int64_t now, size_t want, int64_t *id,
    int attempts)
{
	struct store_notification *v;
	size_t n;

	ck_assert_msg(store_notify_pending(s, now, 10, &v, &n) == ASSAY_OK,
	    "pending: %s", assay_err_detail());
	ck_assert_msg(n == want, "%s: %zu pending, want %zu", store_node(s),
	    n, want);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(v[i].target, "https://hook.example/x");
		ck_assert_str_eq(v[i].ev.agent_id, "x");
		ck_assert_str_eq(v[i].ev.type, "state");
		ck_assert_int_eq(v[i].attempts, attempts);
		*id = v[i].id;
		store_notification_free(&v[i]);
	}
	free(v);
}

START_TEST(notifications_leased)
{
	static const char *target[] = { "https://hook.example/x" };
	struct store_event ev = { .type = "state", .old_state = "pending",
	    .new_state = "trusted" };
	struct fx f;
	struct store *a, *b;
	struct agent_rec x;
	int64_t now, id = 0;

	fx_open(&f);
	if (db_kind(store_db(f.s)) == DB_SQLITE) {
		printf("(notifications_leased: PostgreSQL only, skipped on "
		    "SQLite)\n");
		fx_done(&f);
		return;
	}
	agent_full(&x, "x");
	ck_assert_int_eq(store_agent_put_notify(f.s, &x, &ev, target, 1),
	    ASSAY_OK);
	agent_rec_free(&x);
	now = time(NULL);	/* not before the row's next_at */
	a = open_node(&f, "a");
	b = open_node(&f, "b");
	pending_is(a, now, 1, &id, 0);
	ck_assert(id > 0);
	pending_is(b, now, 0, NULL, 0);		/* leased to a */
	pending_is(a, now, 0, NULL, 0);		/* a has it in hand */
	ck_assert_int_eq(store_notify_retry(a, id, now, 1), ASSAY_OK);
	pending_is(b, now, 1, &id, 1);
	pending_is(a, now, 0, NULL, 0);		/* now b's */
	ck_assert_int_eq(store_notify_done(b, id), ASSAY_OK);
	store_close(a);
	store_close(b);
	fx_done(&f);
}
END_TEST

START_TEST(state_counts)
{
	static const int want[AGENT_STATE_MAX] = {
		[AGENT_REGISTERED] = 3, [AGENT_TRUSTED] = 2,
		[AGENT_UNTRUSTED] = 1, [AGENT_STOPPED] = 1,
	};
	struct fx f;
	struct store *b, *c;
	int64_t counts[AGENT_STATE_MAX];

	fx_open(&f);
	b = open_node(&f, NULL);
	c = open_node(&f, "c");
	ck_assert_int_eq(store_state_counts(c, counts), ASSAY_OK);
	for (int i = 0; i < AGENT_STATE_MAX; i++)
		ck_assert(counts[i] == 0);
	put_agent(f.s, "r1", 0, AGENT_REGISTERED, NULL);
	put_agent(f.s, "r2", 0, AGENT_REGISTERED, NULL);
	put_agent(b, "r3", 0, AGENT_REGISTERED, NULL);
	put_agent(f.s, "t1", 1, AGENT_TRUSTED, "p");
	put_agent(b, "t2", 1, AGENT_TRUSTED, "p");
	put_agent(b, "u1", 1, AGENT_UNTRUSTED, "p");
	put_agent(f.s, "s1", 1, AGENT_STOPPED, "p");
	put_agent(f.s, "gone", 1, AGENT_PENDING, "p");
	ck_assert_int_eq(store_agent_delete(b, "gone", NULL), ASSAY_OK);
	ck_assert_int_eq(store_state_counts(c, counts), ASSAY_OK);
	for (int i = 0; i < AGENT_STATE_MAX; i++)
		ck_assert_msg(counts[i] == want[i], "%s: %lld, want %d",
		    agent_state_name(i), (long long)counts[i], want[i]);
	store_close(b);
	store_close(c);
	fx_done(&f);
}
END_TEST

static Suite *
make_suite(int pg)
{
	Suite *s = suite_create(pg ? "store cluster (PostgreSQL)" :
	    "store cluster (SQLite)");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, lease_guards_every_agent_write);
	tcase_add_test(tc, acquire_respects_live_owner);
	tcase_add_test(tc, claim_takes_unheld_and_dead_only);
	tcase_add_test(tc, release_and_reclaim);
	tcase_add_test(tc, commands_round_trip);
	tcase_add_test(tc, enrollments);
	tcase_add_test(tc, policy_revisions);
	tcase_add_test(tc, notifications_leased);
	tcase_add_test(tc, state_counts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return fx_run_both(make_suite) == 0 ? 0 : 1;
}
