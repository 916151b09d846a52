/*
 * test_db.c — the db.h interface, on each backend: SQLite (a file in a
 * per-run temp dir) and, when ASSAY_TEST_PG_URI names a scratch database,
 * PostgreSQL (skipped with a note otherwise; tests/lib/pg.sh starts one).
 * Values round trip (int64 extremes, NULL, UTF-8, blobs with NULs, empty
 * blobs), placeholders and @NOWMS, changes, transactions, migrations (also
 * two at once), and on PostgreSQL reconnection after the server ends our
 * session: statements work again, an open transaction's commit fails.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"

enum { BK_SQLITE, BK_PG, BK_MAX };

static char *base_dir;
static const char *pg_uri;

static void
base_setup(void)
{
	const char *t = getenv("TMPDIR");

	base_dir = xasprintf("%s/assay-db-XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
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

/* The target of backend bk for this test, NULL if PostgreSQL is not set up. */
static char *
target(int bk)
{
	static int n;
	char *dir;

	if (bk == BK_PG)
		return pg_uri != NULL ? xstrdup(pg_uri) : NULL;
	/* Forked tests share the counter's start: a dir per process. */
	dir = xasprintf("%s/%ld-%d", base_dir, (long)getpid(), n++);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	return dir;
}

/*
 * A clean database of backend bk (NULL: PostgreSQL not configured). On
 * PostgreSQL the tables the tests use are dropped first.
 */
static struct db *
fresh_db(int bk)
{
	struct db *db;
	char *t, *path;

	if ((t = target(bk)) == NULL)
		return NULL;
	path = bk == BK_PG ? xstrdup(t) : xasprintf("%s/test.db", t);
	ck_assert_msg(db_open(path, &db) == 0, "%s", assay_err_detail());
	free(path);
	free(t);
	ck_assert_int_eq(db_kind(db), bk == BK_PG ? DB_PG : DB_SQLITE);
	if (bk == BK_PG)
		ck_assert_msg(db_exec(db, "DROP TABLE IF EXISTS t_vals, t_mig_a, "
		    "t_mig_b, assay_schema", "drop") == 0, "%s",
		    assay_err_detail());
	return db;
}

static const char *
blob_type(const struct db *db)
{
	return db_kind(db) == DB_PG ? "BYTEA" : "BLOB";
}

static void
exec_ok(struct db *db, const char *sql)
{
	ck_assert_msg(db_exec(db, sql, "test") == 0, "%s: %s", sql,
	    assay_err_detail());
}

static struct db_stmt *
prep(struct db *db, const char *sql)
{
	struct db_stmt *st;

	ck_assert_msg(db_prepare(db, sql, "test", &st) == 0, "%s: %s", sql,
	    assay_err_detail());
	return st;
}

/* The values table: id, a BIGINT, a TEXT and a blob. */
static void
make_vals(struct db *db)
{
	char *sql;

	sql = xasprintf("CREATE TABLE t_vals (id BIGINT PRIMARY KEY, i BIGINT, "
	    "s TEXT, b %s)", blob_type(db));
	exec_ok(db, sql);
	free(sql);
}

static void
insert_val(struct db *db, int64_t id, int64_t i)
{
	struct db_stmt *st = prep(db, "INSERT INTO t_vals (id, i) VALUES (?, ?)");

	db_bind_i64(st, 1, id);
	db_bind_i64(st, 2, i);
	ck_assert_msg(db_run(st) == 0, "%s", assay_err_detail());
	db_finalize(st);
}

static int64_t
scalar(struct db *db, const char *sql)
{
	struct db_stmt *st = prep(db, sql);
	int64_t v;

	ck_assert_msg(db_step(st) == DB_ROW, "%s: %s", sql, assay_err_detail());
	v = db_col_i64(st, 0);
	db_finalize(st);
	return v;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

START_TEST(values_round_trip)
{
	static const char utf8[] = "gr\xc3\xbc\xc3\x9f \xe2\x9c\x93 'q' ?";
	static const uint8_t nuls[] = { 0, 'a', 0, 0xff, 0 };
	struct db *db = fresh_db(_i);
	struct db_stmt *st;
	const void *p;
	size_t len;

	if (db == NULL)
		return;
	make_vals(db);
	st = prep(db, "INSERT INTO t_vals (id, i, s, b) VALUES (?, ?, ?, ?)");
	db_bind_i64(st, 1, 1);
	db_bind_i64(st, 2, INT64_MIN);
	db_bind_text(st, 3, utf8);
	db_bind_blob(st, 4, nuls, sizeof(nuls));
	ck_assert_msg(db_run(st) == 0, "%s", assay_err_detail());
	db_bind_i64(st, 1, 2);
	db_bind_i64(st, 2, INT64_MAX);
	db_bind_text(st, 3, NULL);
	db_bind_blob(st, 4, "", 0);
	ck_assert_msg(db_run(st) == 0, "%s", assay_err_detail());
	db_finalize(st);

	st = prep(db, "SELECT i, s, b FROM t_vals ORDER BY id");
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert(db_col_i64(st, 0) == INT64_MIN);
	ck_assert_str_eq(db_col_text(st, 1), utf8);
	p = db_col_blob(st, 2, &len);
	ck_assert_uint_eq(len, sizeof(nuls));
	ck_assert_mem_eq(p, nuls, sizeof(nuls));
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert(db_col_i64(st, 0) == INT64_MAX);
	ck_assert(db_col_null(st, 1));
	ck_assert_ptr_null(db_col_text(st, 1));
	ck_assert(!db_col_null(st, 2));		/* empty, not NULL */
	db_col_blob(st, 2, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(db_step(st), DB_DONE);
	db_finalize(st);
	db_close(db);
}
END_TEST

START_TEST(numbered_placeholders_are_reused)
{
	struct db *db = fresh_db(_i);
	struct db_stmt *st;

	if (db == NULL)
		return;
	st = prep(db, "SELECT CAST(?1 AS BIGINT) + CAST(?1 AS BIGINT), "
	    "CAST(?2 AS TEXT), '?'");
	db_bind_i64(st, 1, 21);
	db_bind_text(st, 2, "two");
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_int_eq(db_col_i64(st, 0), 42);
	ck_assert_str_eq(db_col_text(st, 1), "two");
	ck_assert_str_eq(db_col_text(st, 2), "?");	/* a literal stays */
	db_finalize(st);

	st = prep(db, "SELECT CAST(? AS BIGINT) - CAST(? AS BIGINT)");
	db_bind_i64(st, 1, 10);
	db_bind_i64(st, 2, 3);
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_int_eq(db_col_i64(st, 0), 7);
	db_finalize(st);
	db_close(db);
}
END_TEST

START_TEST(nowms_is_the_clock)
{
	struct db *db = fresh_db(_i);
	int64_t now;

	if (db == NULL)
		return;
	now = scalar(db, "SELECT @NOWMS");
	ck_assert_msg(llabs(now - wall_ms()) < 5000, "@NOWMS %lld, clock %lld",
	    (long long)now, (long long)wall_ms());
	db_close(db);
}
END_TEST

START_TEST(changes_counts_updated_rows)
{
	struct db *db = fresh_db(_i);
	struct db_stmt *st;

	if (db == NULL)
		return;
	make_vals(db);
	insert_val(db, 1, 10);
	insert_val(db, 2, 20);
	insert_val(db, 3, 30);
	st = prep(db, "UPDATE t_vals SET i = i + 1 WHERE id >= ?");
	db_bind_i64(st, 1, 2);
	ck_assert_msg(db_run(st) == 0, "%s", assay_err_detail());
	ck_assert_int_eq(db_changes(st), 2);
	db_finalize(st);
	ck_assert_int_eq(scalar(db, "SELECT CAST(SUM(i) AS BIGINT) FROM t_vals"), 62);
	db_close(db);
}
END_TEST

START_TEST(rollback_forgets_commit_keeps)
{
	struct db *db = fresh_db(_i);

	if (db == NULL)
		return;
	make_vals(db);
	ck_assert(!db_in_tx(db));
	ck_assert_int_eq(db_begin(db), 0);
	ck_assert(db_in_tx(db));
	insert_val(db, 1, 1);
	db_rollback(db);
	ck_assert(!db_in_tx(db));
	ck_assert_int_eq(scalar(db, "SELECT COUNT(*) FROM t_vals"), 0);

	ck_assert_int_eq(db_begin(db), 0);
	insert_val(db, 2, 2);
	ck_assert_msg(db_commit(db) == 0, "%s", assay_err_detail());
	ck_assert(!db_in_tx(db));
	ck_assert_int_eq(scalar(db, "SELECT COUNT(*) FROM t_vals"), 1);
	db_rollback(db);		/* none open: nothing happens */
	ck_assert_int_eq(scalar(db, "SELECT COUNT(*) FROM t_vals"), 1);
	db_close(db);
}
END_TEST

START_TEST(error_names_database_and_operation)
{
	struct db *db = fresh_db(_i);
	struct db_stmt *st = NULL;

	if (db == NULL)
		return;
	ck_assert_int_eq(db_prepare(db, "SELEC 1", "probe.op", &st),
	    ASSAY_ERR_DB);
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "probe.op"));
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), db_name(db)));
	db_close(db);
}
END_TEST

static const struct db_migration steps[] = {
	{ "CREATE TABLE t_mig_a (x BIGINT)",
	  /* Slow enough for a second migrator to arrive meanwhile. */
	  "CREATE TABLE t_mig_a (x BIGINT); SELECT pg_sleep(0.3)" },
	{ "CREATE TABLE t_mig_b (y TEXT); INSERT INTO t_mig_a VALUES (7)",
	  "CREATE TABLE t_mig_b (y TEXT); INSERT INTO t_mig_a VALUES (7)" },
};

START_TEST(migrate_from_empty_then_noop_then_newer_refused)
{
	struct db *db = fresh_db(_i);
	int from = -1, v = -1;

	if (db == NULL)
		return;
	ck_assert_int_eq(db_schema_version(db, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_msg(db_migrate(db, steps, 2, &from) == 0, "%s",
	    assay_err_detail());
	ck_assert_int_eq(from, 0);
	ck_assert_int_eq(db_schema_version(db, &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(scalar(db, "SELECT x FROM t_mig_a"), 7);

	ck_assert_int_eq(db_migrate(db, steps, 2, &from), 0);
	ck_assert_int_eq(from, 2);
	ck_assert_int_eq(scalar(db, "SELECT COUNT(*) FROM t_mig_a"), 1);

	ck_assert_int_eq(db_migrate(db, steps, 1, NULL), ASSAY_ERR_DB);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "newer"));
	ck_assert_int_eq(db_schema_version(db, &v), 0);
	ck_assert_int_eq(v, 2);
	db_close(db);
}
END_TEST

/* Two processes migrate the same empty database at once: both succeed. */
START_TEST(concurrent_migrators_take_turns)
{
	struct db *db = fresh_db(_i), *other;
	const char *name;
	char *path;
	pid_t pid;
	int st, v;

	if (db == NULL)
		return;
	name = db_name(db);
	path = _i == BK_PG ? xstrdup(pg_uri) : xstrdup(name);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		if (db_open(path, &other) != 0 ||
		    db_migrate(other, steps, 2, NULL) != 0) {
			fprintf(stderr, "child: %s\n", assay_err_detail());
			_exit(1);
		}
		db_close(other);
		_exit(0);
	}
	ck_assert_msg(db_migrate(db, steps, 2, NULL) == 0, "%s",
	    assay_err_detail());
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(db_schema_version(db, &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(scalar(db, "SELECT COUNT(*) FROM t_mig_a"), 1);
	free(path);
	db_close(db);
}
END_TEST

/* SQLite: WAL, checkpointed every 1000 pages (db_sqlite.c: its bound). */
START_TEST(sqlite_wal_checkpoints_every_1000_pages)
{
	struct db *db = fresh_db(BK_SQLITE);

	ck_assert_int_eq(scalar(db, "PRAGMA wal_autocheckpoint"), 1000);
	ck_assert_int_eq(scalar(db, "SELECT journal_mode = 'wal' FROM"
	    " pragma_journal_mode"), 1);
	db_close(db);
}
END_TEST

START_TEST(pg_name_hides_password)
{
	struct db *db = NULL;

	ck_assert_int_eq(db_open("postgresql://u:sEcReT1@127.0.0.1:1/x?"
	    "connect_timeout=2&password=sEcReT2", &db), ASSAY_ERR_DB);
	ck_assert_ptr_null(db);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "127.0.0.1:1/x"));
	ck_assert_ptr_null(strstr(assay_err_detail(), "sEcReT"));
}
END_TEST

/* Our own session ended by the server (as a restart or an admin would). */
static void
terminate_self(struct db *db)
{
	ck_assert_int_eq(db_exec(db, "SELECT pg_terminate_backend("
	    "pg_backend_pid())", "terminate"), ASSAY_ERR_DB);
	sleep_ms(DB_RECONNECT_MS + 100);
}

START_TEST(pg_statement_works_after_reconnect)
{
	struct db *db = fresh_db(BK_PG);
	struct db_stmt *st;

	if (db == NULL)
		return;
	st = prep(db, "SELECT CAST(? AS BIGINT) + 1");
	db_bind_i64(st, 1, 1);
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_int_eq(db_col_i64(st, 0), 2);
	db_reset(st);
	terminate_self(db);
	db_bind_i64(st, 1, 41);		/* prepared again on the new session */
	ck_assert_msg(db_step(st) == DB_ROW, "%s", assay_err_detail());
	ck_assert_int_eq(db_col_i64(st, 0), 42);
	db_finalize(st);
	db_close(db);
}
END_TEST

START_TEST(pg_commit_fails_after_connection_lost_in_tx)
{
	struct db *db = fresh_db(BK_PG);

	if (db == NULL)
		return;
	make_vals(db);
	ck_assert_int_eq(db_begin(db), 0);
	insert_val(db, 1, 1);
	terminate_self(db);
	ck_assert(db_in_tx(db));
	ck_assert_int_eq(db_commit(db), ASSAY_ERR_DB);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "connection lost"));
	db_rollback(db);
	ck_assert(!db_in_tx(db));
	ck_assert_int_eq(scalar(db, "SELECT COUNT(*) FROM t_vals"), 0);
	db_close(db);
}
END_TEST

START_TEST(pg_statements_fail_until_rollback_after_lost_tx)
{
	struct db *db = fresh_db(BK_PG);
	struct db_stmt *st;

	if (db == NULL)
		return;
	st = prep(db, "SELECT 1");
	ck_assert_int_eq(db_begin(db), 0);
	terminate_self(db);
	ck_assert_int_eq(db_step(st), ASSAY_ERR_DB);
	db_reset(st);
	db_rollback(db);
	ck_assert_msg(db_step(st) == DB_ROW, "%s", assay_err_detail());
	db_finalize(st);
	db_close(db);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("both");
	TCase *pg = tcase_create("pg");
	SRunner *sr;
	int nf;

	pg_uri = getenv("ASSAY_TEST_PG_URI");
	if (pg_uri != NULL && *pg_uri == '\0')
		pg_uri = NULL;
	if (pg_uri == NULL)
		printf("test_db: ASSAY_TEST_PG_URI unset: PostgreSQL cases "
		    "skipped\n");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_loop_test(tc, values_round_trip, 0, BK_MAX);
	tcase_add_loop_test(tc, numbered_placeholders_are_reused, 0, BK_MAX);
	tcase_add_loop_test(tc, nowms_is_the_clock, 0, BK_MAX);
	tcase_add_loop_test(tc, changes_counts_updated_rows, 0, BK_MAX);
	tcase_add_loop_test(tc, rollback_forgets_commit_keeps, 0, BK_MAX);
	tcase_add_loop_test(tc, error_names_database_and_operation, 0, BK_MAX);
	tcase_add_loop_test(tc, migrate_from_empty_then_noop_then_newer_refused,
	    0, BK_MAX);
	tcase_add_loop_test(tc, concurrent_migrators_take_turns, 0, BK_MAX);
	tcase_add_test(tc, pg_name_hides_password);
	tcase_add_test(tc, sqlite_wal_checkpoints_every_1000_pages);
	suite_add_tcase(s, tc);
	tcase_set_timeout(pg, 60);
	tcase_add_test(pg, pg_statement_works_after_reconnect);
	tcase_add_test(pg, pg_commit_fails_after_connection_lost_in_tx);
	tcase_add_test(pg, pg_statements_fail_until_rollback_after_lost_tx);
	suite_add_tcase(s, pg);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
