/*
 * db_sqlite.c — the SQLite backend of db.h: one file opened read-write,
 * created 0600, in WAL mode with synchronous=NORMAL (a commit survives the
 * process being killed at any point; a power loss may lose the last few,
 * never consistency). Statements are sqlite3_stmt with persistent
 * preparation; "@NOWMS" becomes SQLite's clock in milliseconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/db_int.h"
#include "verifier/db_sqlite.h"

/* Milliseconds SQLite waits for a lock another process holds. */
#define SQ_BUSY_MS	5000

/*
 * WAL pages before a commit checkpoints them into the file: SQLite's
 * default, said so that the WAL's bound is ours (about 4 MB, 4 KiB pages,
 * plus one transaction). A longer WAL copies a hot agent page once for
 * more rounds (bench_store: 7.7 -> 6.8 us a round write at 4000 pages)
 * but each checkpoint then holds the loop four times as long: at 20,000
 * agents with the audit trail on, 4000 pages gave 1,330 rounds/s and 284
 * timed-out polls, 1000 pages 1,936 rounds/s and none (fleet_sim.sh).
 */
#define SQ_WAL_PAGES	"1000"

#define SQ_NOWMS	"(CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER))"

struct sq_db {
	struct db_base	 base;
	sqlite3		*db;
	char		*path;
};

struct sq_stmt {
	struct db_stmt_base	 base;
	struct sq_db		*db;
	sqlite3_stmt		*st;
	int			 rc;		/* first binding error */
	int			 done;		/* stepped to the end */
	int64_t			 changes;
	const char		*op;
};

static int
sq_err(struct sq_db *d, const char *op)
{
	return assay_err_set(ASSAY_ERR_DB, "store %s: %s: %s (sqlite %d)",
	    d->path, op, sqlite3_errmsg(d->db), sqlite3_extended_errcode(d->db));
}

/* sql with every "@NOWMS" replaced; caller frees. */
char *
db_sql_subst(const char *sql, const char *token, const char *with)
{
	size_t tl = strlen(token), wl = strlen(with), n = 0, len;
	const char *p, *q;
	char *out, *o;

	for (p = sql; (q = strstr(p, token)) != NULL; p = q + tl)
		n++;
	len = strlen(sql) + n * wl + 1;
	o = out = xmalloc(len);
	for (p = sql; (q = strstr(p, token)) != NULL; p = q + tl) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, with, wl);
		o += wl;
	}
	strcpy(o, p);	/* sized above */
	return out;
}

static int
sq_query_text(struct sq_db *d, const char *sql, char *out, size_t outlen,
    int64_t *iv)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int r = ASSAY_OK;

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_err(d, sql);
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = sq_err(d, sql);
		goto out;
	}
	if (iv != NULL)
		*iv = sqlite3_column_int64(st, 0);
	if (out != NULL) {
		t = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", t != NULL ? (const char *)t : "");
	}
 out:
	sqlite3_finalize(st);
	return r;
}

int
sq_open(const char *path, struct db **out)
{
	struct sq_db *d;
	char mode[32];
	int fd, r;

	*out = NULL;
	d = xcalloc(1, sizeof(*d));
	d->base.kind = DB_SQLITE;
	d->path = xstrdup(path);
	/* Create it 0600 ourselves; SQLite gives -wal/-shm the same mode. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) >= 0)
		close(fd);
	else if (errno != EEXIST) {
		r = assay_err_set(ASSAY_ERR_DB, "store %s: create: %s", path,
		    strerror(errno));
		goto out;
	}
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = d->db != NULL ? sq_err(d, "open") :
		    assay_err_set(ASSAY_ERR_DB, "store %s: open failed", path);
		goto out;
	}
	sqlite3_extended_result_codes(d->db, 1);
	sqlite3_busy_timeout(d->db, SQ_BUSY_MS);
	if ((r = sq_query_text(d, "PRAGMA journal_mode=WAL", mode,
	    sizeof(mode), NULL)) != 0)
		goto out;
	if (strcmp(mode, "wal") != 0) {
		r = assay_err_set(ASSAY_ERR_DB, "store %s: cannot enable WAL "
		    "(journal_mode is %s)", path, mode);
		goto out;
	}
	if ((r = sq_exec((struct db *)d, "PRAGMA synchronous=NORMAL; "
	    "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=" SQ_WAL_PAGES,
	    "pragmas")) != 0)
		goto out;
	*out = (struct db *)d;
	d = NULL;
 out:
	sq_close((struct db *)d);
	return r;
}

void
sq_close(struct db *db)
{
	struct sq_db *d = (struct sq_db *)db;

	if (d == NULL)
		return;
	if (d->db != NULL && sqlite3_close(d->db) != SQLITE_OK)
		log_warnx("store %s: close: %s", d->path, sqlite3_errmsg(d->db));
	free(d->path);
	free(d);
}

const char *
sq_name(const struct db *db)
{
	return ((const struct sq_db *)db)->path;
}

int
sq_exec(struct db *db, const char *sql, const char *op)
{
	struct sq_db *d = (struct sq_db *)db;
	char *msg = NULL, *s = db_sql_subst(sql, "@NOWMS", SQ_NOWMS);
	int r = ASSAY_OK;

	if (sqlite3_exec(d->db, s, NULL, NULL, &msg) != SQLITE_OK)
		r = assay_err_set(ASSAY_ERR_DB, "store %s: %s: %s", d->path, op,
		    msg != NULL ? msg : sqlite3_errmsg(d->db));
	sqlite3_free(msg);
	free(s);
	return r;
}

int
sq_in_tx(const struct db *db)
{
	return !sqlite3_get_autocommit(((const struct sq_db *)db)->db);
}

void
sq_rollback(struct db *db)
{
	struct sq_db *d = (struct sq_db *)db;

	if (!sq_in_tx(db))
		return;	/* SQLite may have rolled back already */
	if (sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		log_warnx("store %s: rollback: %s", d->path,
		    sqlite3_errmsg(d->db));
}

int
sq_prepare(struct db *db, const char *sql, const char *op,
    struct db_stmt **out)
{
	struct sq_db *d = (struct sq_db *)db;
	struct sq_stmt *s;
	char *text = db_sql_subst(sql, "@NOWMS", SQ_NOWMS);
	int r = ASSAY_OK;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->base.kind = DB_SQLITE;
	s->db = d;
	s->op = op;
	if (sqlite3_prepare_v3(d->db, text, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->st, NULL) != SQLITE_OK) {
		r = sq_err(d, op);
		free(s);
	} else
		*out = (struct db_stmt *)s;
	free(text);
	return r;
}

void
sq_finalize(struct db_stmt *st)
{
	struct sq_stmt *s = (struct sq_stmt *)st;

	if (s == NULL)
		return;
	sqlite3_finalize(s->st);
	free(s);
}

void
sq_bind_i64(struct db_stmt *st, int idx, int64_t v)
{
	struct sq_stmt *s = (struct sq_stmt *)st;

	if (s->rc == SQLITE_OK)
		s->rc = sqlite3_bind_int64(s->st, idx, v);
}

void
sq_bind_text(struct db_stmt *st, int idx, const char *v)
{
	struct sq_stmt *s = (struct sq_stmt *)st;

	if (s->rc != SQLITE_OK)
		return;
	s->rc = v == NULL ? sqlite3_bind_null(s->st, idx) :
	    sqlite3_bind_text(s->st, idx, v, -1, SQLITE_STATIC);
}

void
sq_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
	struct sq_stmt *s = (struct sq_stmt *)st;

	if (s->rc != SQLITE_OK)
		return;
	s->rc = sqlite3_bind_blob64(s->st, idx, p != NULL ? p : "", len,
	    SQLITE_STATIC);
}

int
sq_step(struct db_stmt *st)
{
	struct sq_stmt *s = (struct sq_stmt *)st;
	int rc;

	if (s->rc != SQLITE_OK)
		return assay_err_set(ASSAY_ERR_DB, "store %s: %s: bind: %s",
		    s->db->path, s->op, sqlite3_errstr(s->rc));
	if (s->done)
		return DB_DONE;
	rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE) {
		s->done = 1;
		s->changes = sqlite3_changes64(s->db->db);
		return DB_DONE;
	}
	return sq_err(s->db, s->op);
}

int64_t
sq_changes(const struct db_stmt *st)
{
	return ((const struct sq_stmt *)st)->changes;
}

void
sq_reset(struct db_stmt *st)
{
	struct sq_stmt *s = (struct sq_stmt *)st;

	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	s->rc = SQLITE_OK;
	s->done = 0;
}

int
sq_col_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(((struct sq_stmt *)st)->st, i) == SQLITE_NULL;
}

int64_t
sq_col_i64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(((struct sq_stmt *)st)->st, i);
}

const char *
sq_col_text(struct db_stmt *st, int i)
{
	sqlite3_stmt *s = ((struct sq_stmt *)st)->st;

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(s, i);
}

const void *
sq_col_blob(struct db_stmt *st, int i, size_t *len)
{
	sqlite3_stmt *s = ((struct sq_stmt *)st)->st;
	const void *p;

	*len = 0;
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_blob(s, i);
	*len = (size_t)sqlite3_column_bytes(s, i);
	return p != NULL ? p : "";	/* empty stays non-NULL */
}

int
sq_schema_version(struct db *db, int *v)
{
	int64_t iv = 0;
	int r;

	r = sq_query_text((struct sq_db *)db, "PRAGMA user_version", NULL, 0,
	    &iv);
	*v = (int)iv;
	return r;
}

/* One step under the write lock: re-read the version, apply, bump. */
static int
sq_migrate_one(struct sq_db *d, const char *step, int target, int *done)
{
	char sql[64];
	int v, r;

	*done = 0;
	if ((r = sq_exec((struct db *)d, "BEGIN IMMEDIATE",
	    "begin migration")) != 0)
		return r;
	if ((r = sq_schema_version((struct db *)d, &v)) != 0)
		goto fail;
	if (v >= target) {	/* another opener won */
		*done = 1;
		return sq_exec((struct db *)d, "COMMIT", "commit migration");
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", target);
	if ((r = sq_exec((struct db *)d, step, "migration")) != 0 ||
	    (r = sq_exec((struct db *)d, sql, "set user_version")) != 0 ||
	    (r = sq_exec((struct db *)d, "COMMIT", "commit migration")) != 0)
		goto fail;
	return ASSAY_OK;
 fail:
	sq_rollback((struct db *)d);
	return r;
}

int
sq_migrate(struct db *db, const char *const *steps, int n, int *from)
{
	struct sq_db *d = (struct sq_db *)db;
	int v, r, done, zero = 0;

	if (from == NULL)
		from = &zero;
	if ((r = sq_schema_version(db, &v)) != 0)
		return r;
	*from = v;
	if (v > n)
		return assay_err_set(ASSAY_ERR_DB, "store %s: schema version %d "
		    "is newer than this verifier supports (%d); refusing to "
		    "open it", d->path, v, n);
	for (; v < n; v++) {
		if ((r = sq_migrate_one(d, steps[v], v + 1, &done)) != 0)
			return r;
		if (!done && *from > 0)
			log_notice("store %s: schema migrated to version %d",
			    d->path, v + 1);
	}
	return ASSAY_OK;
}

uint64_t
sq_size(struct db *db)
{
	struct sq_db *d = (struct sq_db *)db;
	struct stat st;
	char wal[4096];
	uint64_t n = 0;

	if (stat(d->path, &st) == 0)
		n += (uint64_t)st.st_size;
	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", d->path) < sizeof(wal) &&
	    stat(wal, &st) == 0)
		n += (uint64_t)st.st_size;
	return n;
}
