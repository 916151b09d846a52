/*
 * test_store_durability.c — the SQLite store on disk: persistence across
 * reopen, the file's mode, a missing parent dir, atomicity under kill -9
 * and a full disk, refusal of a newer schema, and a read-only file.
 * Record-level behaviour: test_store.c. Every test works in its own
 * mkdtemp directory (store_fixture.h).
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "tests/unit/store_fixture.h"

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

int
main(void)
{
	Suite *s = suite_create("store_durability");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, reopen_keeps_everything);
	tcase_add_test(tc, db_file_is_created_0600);
	tcase_add_test(tc, missing_parent_dir_is_db_error);
	tcase_add_test(tc, killed_writer_leaves_consistent_db);
	tcase_add_test(tc, full_disk_write_fails_and_rolls_back);
	tcase_add_test(tc, newer_schema_is_refused);
	tcase_add_test(tc, write_to_readonly_db_is_db_error);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
