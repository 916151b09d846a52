/*
 * test_store.c — the SQLite store: record round trips, lists, events,
 * policies, persistence across reopen, atomicity under kill -9 and a full
 * disk, schema version refusal, read-only files and argument checks.
 * Every test works in its own mkdtemp directory.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/store.h"

struct fx {
	char		*dir;
	char		*db;
	struct store	*s;
};

/*
 * Each test gets its own mkdtemp dir under one per-run base dir; the base
 * is removed by an unchecked fixture in the runner process, so a failed
 * test (whose forked child exits early) leaves nothing behind.
 */
static char *base_dir;

static void
base_setup(void)
{
	const char *t = getenv("TMPDIR");

	base_dir = xasprintf("%s/assay-store-XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(base_dir, 0755);	/* the read-only test drops to nobody */
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void
base_teardown(void)
{
	nftw(base_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(base_dir);
}

static void
fx_dir(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->dir = xasprintf("%s/t-XXXXXX", base_dir);
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	f->db = xasprintf("%s/verifier.db", f->dir);
}

/* A temp dir with an open store in it. */
static void
fx_open(struct fx *f)
{
	fx_dir(f);
	ck_assert_msg(store_open(f->db, &f->s) == ASSAY_OK, "store_open: %s",
	    assay_err_detail());
}

static void
fx_done(struct fx *f)
{
	store_close(f->s);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->db);
	free(f->dir);
}

static uint8_t *
bytes(size_t n, uint8_t seed)
{
	uint8_t *p = xmalloc(n);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
	return p;
}

/* A fully populated record, every field distinct. */
static void
agent_full(struct agent_rec *a, const char *id)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->ek_pub = bytes(a->ek_pub_len = 314, 1);
	a->ek_cert = bytes(a->ek_cert_len = 1021, 2);
	a->ak_pub = bytes(a->ak_pub_len = 280, 3);
	a->cert_cn = xstrdup("agent-cn");
	a->activated = 1;
	a->admitted = 1;
	a->state = AGENT_UNTRUSTED;
	a->address = xstrdup("10.0.0.7:8890");
	a->policy = xstrdup("web-fleet");
	a->interval = 30;
	a->reason = xstrdup("ima.not_allowed");
	a->reason_detail = xstrdup("/usr/bin/evil sha256:00ff");
	a->registered_at = 1700000000;
	a->last_attested = 1700000100;
	a->last_event_at = -5;
	a->clock.valid = 1;
	a->clock.clock = 0xffffffffffffffffULL;
	a->clock.reset_count = 0xfffffffeU;
	a->clock.restart_count = 7;
	a->clock.firmware_version = 0x8000000000000000ULL;
	a->attest_ok = 0x7fffffffffffffffULL;
	a->attest_fail = 0x8000000000000001ULL;
	a->poll_errors = 3;
	a->verify_state = xstrdup("{\"ima_count\":12,\"pcr10\":\"ab\"}");
}

static void
blob_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	ck_assert_uint_eq(alen, blen);
	if (a == NULL || b == NULL)
		ck_assert(a == b);
	else
		ck_assert_int_eq(memcmp(a, b, alen), 0);
}

static void
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		ck_assert(a == b);
	else
		ck_assert_str_eq(a, b);
}

static void
agent_eq(const struct agent_rec *a, const struct agent_rec *b)
{
	ck_assert_str_eq(a->id, b->id);
	blob_eq(a->ek_pub, a->ek_pub_len, b->ek_pub, b->ek_pub_len);
	blob_eq(a->ek_cert, a->ek_cert_len, b->ek_cert, b->ek_cert_len);
	blob_eq(a->ak_pub, a->ak_pub_len, b->ak_pub, b->ak_pub_len);
	str_eq(a->cert_cn, b->cert_cn);
	ck_assert_int_eq(a->activated, b->activated);
	ck_assert_int_eq(a->admitted, b->admitted);
	ck_assert_int_eq(a->state, b->state);
	str_eq(a->address, b->address);
	str_eq(a->policy, b->policy);
	ck_assert_int_eq(a->interval, b->interval);
	str_eq(a->reason, b->reason);
	str_eq(a->reason_detail, b->reason_detail);
	ck_assert(a->registered_at == b->registered_at);
	ck_assert(a->last_attested == b->last_attested);
	ck_assert(a->last_event_at == b->last_event_at);
	ck_assert_int_eq(a->clock.valid, b->clock.valid);
	ck_assert(a->clock.clock == b->clock.clock);
	ck_assert_uint_eq(a->clock.reset_count, b->clock.reset_count);
	ck_assert_uint_eq(a->clock.restart_count, b->clock.restart_count);
	ck_assert(a->clock.firmware_version == b->clock.firmware_version);
	ck_assert(a->attest_ok == b->attest_ok);
	ck_assert(a->attest_fail == b->attest_fail);
	ck_assert(a->poll_errors == b->poll_errors);
	str_eq(a->verify_state, b->verify_state);
}

static void
put_ok(struct store *s, const struct agent_rec *a, const struct store_event *ev)
{
	ck_assert_msg(store_agent_put(s, a, ev) == ASSAY_OK, "put %s: %s",
	    a->id, assay_err_detail());
}

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

static void
events_free(struct store_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_event_free(&evs[i]);
	free(evs);
}

static void
integrity_ok(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * Atomicity: every put wrote agent.attest_ok = k with an event detail "k",
 * k counting up from 1. So each agent's newest event carries its attest_ok,
 * and the number of events equals the highest attest_ok. Returns that.
 */
static uint64_t
agents_match_events(struct store *s)
{
	struct agent_rec *as;
	struct store_event *evs, *all;
	size_t n, nev, nall;
	uint64_t max = 0;

	ck_assert_int_eq(store_agent_list(s, &as, &n), ASSAY_OK);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(store_events_list(s, as[i].id, 1, &evs, &nev),
		    ASSAY_OK);
		ck_assert_uint_eq(nev, 1);
		ck_assert_uint_eq(strtoull(evs[0].detail, NULL, 10),
		    as[i].attest_ok);
		if (as[i].attest_ok > max)
			max = as[i].attest_ok;
		events_free(evs, nev);
		agent_rec_free(&as[i]);
	}
	free(as);
	ck_assert_int_eq(store_events_list(s, NULL, 0, &all, &nall), ASSAY_OK);
	ck_assert_uint_eq(nall, max);
	events_free(all, nall);
	return max;
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

START_TEST(reopen_keeps_everything)
{
	struct fx f;
	struct agent_rec a, b;
	struct store_policy p;
	struct store_event *evs;
	size_t n;
	struct store_event ev = { .type = "registered" };

	fx_open(&f);
	agent_full(&a, "host-1");
	put_ok(f.s, &a, &ev);
	ck_assert_int_eq(store_policy_put(f.s, "pol", "text"), ASSAY_OK);
	store_close(f.s);
	f.s = NULL;
	ck_assert_int_eq(store_open(f.db, &f.s), ASSAY_OK);
	ck_assert_int_eq(store_agent_get(f.s, "host-1", &b), ASSAY_OK);
	agent_eq(&a, &b);
	ck_assert_int_eq(store_policy_get(f.s, "pol", &p), ASSAY_OK);
	ck_assert_str_eq(p.text, "text");
	ck_assert_int_eq(store_events_list(f.s, "host-1", 0, &evs, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(evs[0].type, "registered");
	ck_assert(evs[0].time > 0);	/* time 0 means now */
	events_free(evs, n);
	store_policy_free(&p);
	agent_rec_free(&a);
	agent_rec_free(&b);
	fx_done(&f);
}
END_TEST

START_TEST(db_file_is_created_0600)
{
	struct fx f;
	struct stat sb;

	fx_open(&f);
	ck_assert_int_eq(stat(f.db, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	fx_done(&f);
}
END_TEST

START_TEST(missing_parent_dir_is_db_error)
{
	struct fx f;
	struct store *s = NULL;
	char *p;

	fx_dir(&f);
	p = xasprintf("%s/no/such/dir/v.db", f.dir);
	ck_assert_int_eq(store_open(p, &s), ASSAY_ERR_DB);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "create"));
	free(p);
	fx_done(&f);
}
END_TEST

/* Continues the count from the newest event, so rounds can follow a kill. */
static void
child_writer(const char *db, int fd)
{
	struct store *s;
	struct store_event *last;
	char detail[32];
	struct agent_rec a;
	struct store_event ev = { .type = "state", .detail = detail };
	uint64_t k = 1;
	size_t n;

	if (store_open(db, &s) != ASSAY_OK)
		_exit(2);
	if (store_events_list(s, NULL, 1, &last, &n) != ASSAY_OK)
		_exit(3);
	if (n == 1)
		k = strtoull(last[0].detail, NULL, 10) + 1;
	memset(&a, 0, sizeof(a));
	a.state = AGENT_TRUSTED;
	a.ek_pub = bytes(a.ek_pub_len = 400, 5);
	for (uint64_t done = 1;; k++, done++) {
		snprintf(a.id, sizeof(a.id), "agent-%llu",
		    (unsigned long long)(k % 20));
		snprintf(detail, sizeof(detail), "%llu", (unsigned long long)k);
		a.attest_ok = k;
		if (store_agent_put(s, &a, &ev) != ASSAY_OK)
			_exit(4);
		if (done == 50 && write(fd, "x", 1) != 1)
			_exit(5);
	}
}

/* Kill -9 a writer at a random point, check, repeat on the same file. */
START_TEST(killed_writer_leaves_consistent_db)
{
	struct fx f;
	int pfd[2], status;
	uint64_t prev = 0, now;
	char c;
	pid_t pid;

	fx_dir(&f);
	srand((unsigned)getpid());
	for (int round = 0; round < 12; round++) {
		ck_assert_int_eq(pipe(pfd), 0);
		if ((pid = fork()) == 0) {
			close(pfd[0]);
			child_writer(f.db, pfd[1]);
			_exit(1);
		}
		ck_assert_int_gt(pid, 0);
		close(pfd[1]);
		ck_assert_int_eq(read(pfd[0], &c, 1), 1);
		close(pfd[0]);
		usleep(rand() % 5000);	/* land anywhere in a transaction */
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "writer exited on its own (status %d)", status);

		integrity_ok(f.db);
		ck_assert_int_eq(store_open(f.db, &f.s), ASSAY_OK);
		now = agents_match_events(f.s);
		ck_assert_uint_ge(now, prev + 50);	/* acknowledged writes kept */
		prev = now;
		store_close(f.s);
		f.s = NULL;
	}
	fx_done(&f);
}
END_TEST

/* Writes until the file size limit bites; reports the last committed k. */
static void
child_fill(const char *db, int fd)
{
	struct store *s;
	char detail[32];
	struct agent_rec a;
	struct store_event ev = { .type = "state", .detail = detail };
	struct rlimit rl = { 1 << 20, 1 << 20 };
	uint64_t k, last = 0;
	int r = ASSAY_OK;

	signal(SIGXFSZ, SIG_IGN);
	if (store_open(db, &s) != ASSAY_OK)
		_exit(2);
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		_exit(3);
	memset(&a, 0, sizeof(a));
	a.state = AGENT_TRUSTED;
	a.ek_cert = bytes(a.ek_cert_len = 16384, 5);
	for (k = 1; k < 10000; k++) {
		snprintf(a.id, sizeof(a.id), "agent-%llu",
		    (unsigned long long)k);
		snprintf(detail, sizeof(detail), "%llu", (unsigned long long)k);
		a.attest_ok = k;
		if ((r = store_agent_put(s, &a, &ev)) != ASSAY_OK)
			break;
		last = k;
	}
	if (write(fd, &last, sizeof(last)) != sizeof(last))
		_exit(4);
	/* A later write fails cleanly too, without crashing. */
	a.attest_ok = ++k;
	if (r != ASSAY_ERR_DB || store_agent_put(s, &a, &ev) != ASSAY_ERR_DB)
		_exit(5);
	store_close(s);
	_exit(0);
}

START_TEST(full_disk_write_fails_and_rolls_back)
{
	struct fx f;
	int pfd[2], status;
	uint64_t last;
	pid_t pid;

	fx_dir(&f);
	ck_assert_int_eq(store_open(f.db, &f.s), ASSAY_OK);
	store_close(f.s);
	f.s = NULL;
	ck_assert_int_eq(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		child_fill(f.db, pfd[1]);
	}
	ck_assert_int_gt(pid, 0);
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &last, sizeof(last)), sizeof(last));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "filler status %d", status);
	ck_assert_uint_gt(last, 0);

	integrity_ok(f.db);
	ck_assert_int_eq(store_open(f.db, &f.s), ASSAY_OK);
	ck_assert_uint_eq(agents_match_events(f.s), last);
	fx_done(&f);
}
END_TEST

START_TEST(newer_schema_is_refused)
{
	struct fx f;
	sqlite3 *db;

	fx_open(&f);
	store_close(f.s);
	f.s = NULL;
	ck_assert_int_eq(sqlite3_open(f.db, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 999", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(store_open(f.db, &f.s), ASSAY_ERR_DB);
	ck_assert_ptr_null(f.s);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "newer"));
	fx_done(&f);
}
END_TEST

/*
 * Runs as an unprivileged user when we are root, since root writes
 * through file modes. Exit code names the step that went wrong.
 */
static int
readonly_steps(const char *db)
{
	struct store *s;
	struct agent_rec a;

	if (store_open(db, &s) != ASSAY_OK)
		return 10;
	memset(&a, 0, sizeof(a));
	strcpy(a.id, "host-1");
	if (store_agent_put(s, &a, NULL) != ASSAY_OK)
		return 11;
	store_close(s);
	if (chmod(db, 0400) != 0)
		return 12;
	if (store_open(db, &s) != ASSAY_OK)
		return 13;
	a.attest_ok = 5;
	if (store_agent_put(s, &a, NULL) != ASSAY_ERR_DB)
		return 14;
	if (strstr(assay_err_detail(), "readonly") == NULL)
		return 15;
	if (store_policy_put(s, "p", "t") != ASSAY_ERR_DB)
		return 16;
	/* Still usable for reads, and the failed write left no trace. */
	if (store_agent_get(s, "host-1", &a) != ASSAY_OK || a.attest_ok != 0)
		return 17;
	agent_rec_free(&a);
	store_close(s);
	return 0;
}

START_TEST(write_to_readonly_db_is_db_error)
{
	struct fx f;
	int status;
	pid_t pid;

	fx_dir(&f);
	if (geteuid() == 0)
		ck_assert_int_eq(chown(f.dir, 65534, 65534), 0);
	if ((pid = fork()) == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(2);
		_exit(readonly_steps(f.db));
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "read-only child failed at step %d (status %d)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1, status);
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

int
main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

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
	tcase_add_test(tc, reopen_keeps_everything);
	tcase_add_test(tc, db_file_is_created_0600);
	tcase_add_test(tc, missing_parent_dir_is_db_error);
	tcase_add_test(tc, killed_writer_leaves_consistent_db);
	tcase_add_test(tc, full_disk_write_fails_and_rolls_back);
	tcase_add_test(tc, newer_schema_is_refused);
	tcase_add_test(tc, write_to_readonly_db_is_db_error);
	tcase_add_test(tc, overlong_id_is_inval);
	tcase_add_test(tc, bad_state_is_inval);
	tcase_add_test(tc, state_names_round_trip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
