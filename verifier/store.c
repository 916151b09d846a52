/*
 * store.c — the verifier's persistent state in SQLite: the database handle,
 * the schema and its migrations, open/close, one prepared statement per
 * operation (prepared at open, reset and cleared on every path), the
 * transaction wrappers and the shared row helpers (bind, read, collect,
 * get one, delete one, event insert). Every write runs in its own
 * BEGIN IMMEDIATE ... COMMIT, so an agent row and its event land together
 * or not at all.
 *
 * The operations live beside it: store_agent.c (agents), store_event.c
 * (event history), store_policy.c (policies), store_notify.c (the
 * notification queue, whose rows are inserted inside the agent's own
 * transaction by store_agent_put_notify), store_wq.c (the write-behind
 * queue for changes the disk did not take), store_retention.c (event
 * pruning); store_rec.c frees and copies the records they hand out. Internals shared between them: store_int.h.
 *
 * Threading: a store is used from one thread only (the verifier's event
 * loop); the connection is opened with SQLITE_OPEN_NOMUTEX and the error
 * detail is per thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

/* Milliseconds SQLite waits for a lock another process holds. */
#define STORE_BUSY_MS	5000

/* ---- schema ---------------------------------------------------------- */

/*
 * migrations[i] takes the schema from user_version i to i + 1, in one
 * transaction. Append only: never edit a migration that has shipped.
 * Unsigned 64-bit values (clock, counters) are stored as INTEGER holding the
 * same 64 bits as a signed value (see u64_to_i64), so they round-trip exactly.
 */
static const char *const migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE agents ("
	" id TEXT PRIMARY KEY NOT NULL, ek_pub BLOB, ek_cert BLOB, ak_pub BLOB,"
	" cert_cn TEXT, activated INTEGER NOT NULL DEFAULT 0,"
	" admitted INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
	" address TEXT, policy TEXT, interval INTEGER NOT NULL DEFAULT 0,"
	" reason TEXT, reason_detail TEXT,"
	" registered_at INTEGER NOT NULL DEFAULT 0,"
	" last_attested INTEGER NOT NULL DEFAULT 0,"
	" last_event_at INTEGER NOT NULL DEFAULT 0,"
	" clock_valid INTEGER NOT NULL DEFAULT 0,"
	" clock INTEGER NOT NULL DEFAULT 0,"
	" reset_count INTEGER NOT NULL DEFAULT 0,"
	" restart_count INTEGER NOT NULL DEFAULT 0,"
	" firmware_version INTEGER NOT NULL DEFAULT 0,"
	" attest_ok INTEGER NOT NULL DEFAULT 0,"
	" attest_fail INTEGER NOT NULL DEFAULT 0,"
	" poll_errors INTEGER NOT NULL DEFAULT 0, verify_state TEXT);"
	"CREATE TABLE policies (name TEXT PRIMARY KEY NOT NULL,"
	" text TEXT NOT NULL, updated INTEGER NOT NULL);"
	/* No foreign key to agents: history outlives a deleted agent. */
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL,"
	" agent_id TEXT, type TEXT NOT NULL,"
	" old_state TEXT, new_state TEXT, failure_id TEXT, detail TEXT);"
	"CREATE INDEX events_agent_seq ON events (agent_id, seq);",
	/*
	 * 2: notifications waiting for delivery, one row per event and
	 * target (a webhook URL or the command hook); the body is built from
	 * the event row at delivery. Deleted once delivered or given up.
	 */
	"CREATE TABLE notifications ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" event_seq INTEGER NOT NULL, target TEXT NOT NULL,"
	" created INTEGER NOT NULL, next_at INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX notifications_next ON notifications (next_at);",
	/*
	 * 3: retention and notice folding. count: identical notices folded
	 * into the row; last_time: when the last of them happened (= time
	 * for every other event); age-based pruning reads it.
	 */
	"ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE events ADD COLUMN last_time INTEGER NOT NULL DEFAULT 0;"
	"UPDATE events SET last_time = time;"
	"CREATE INDEX events_last_time ON events (last_time);",
};
#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))

#define EVENT_COLS \
	"seq, time, agent_id, type, old_state, new_state, failure_id, detail," \
	" count, last_time"

static const char *const stmt_sql[ST_MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_AGENT_PUT] = "INSERT OR REPLACE INTO agents (" AGENT_COLS ") VALUES"
	    " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_AGENT_GET] = "SELECT " AGENT_COLS " FROM agents WHERE id = ?",
	[ST_AGENT_DEL] = "DELETE FROM agents WHERE id = ?",
	[ST_AGENT_LIST] = "SELECT " AGENT_COLS " FROM agents ORDER BY id",
	[ST_EVENT_ADD] = "INSERT INTO events (time, agent_id, type, old_state,"
	    " new_state, failure_id, detail, last_time) VALUES (?1,?2,?3,?4,?5,"
	    "?6,?7,?1)",
	/* The agent's newest event that is not a notice of another id. */
	[ST_NOTICE_LAST] = "SELECT seq, type = 'notice' AND failure_id IS ?2"
	    " AND detail IS ?3 FROM events WHERE agent_id = ?1 AND"
	    " (type != 'notice' OR failure_id IS ?2) ORDER BY seq DESC LIMIT 1",
	[ST_NOTICE_FOLD] = "UPDATE events SET count = count + 1,"
	    " last_time = MAX(last_time, ?1) WHERE seq = ?2",
	[ST_EVENTS_ALL] = "SELECT " EVENT_COLS " FROM events"
	    " ORDER BY seq DESC LIMIT ?",
	[ST_EVENTS_AGENT] = "SELECT " EVENT_COLS " FROM events"
	    " WHERE agent_id = ? ORDER BY seq DESC LIMIT ?",
	[ST_POLICY_PUT] = "INSERT OR REPLACE INTO policies (name, text, updated)"
	    " VALUES (?,?,?)",
	[ST_POLICY_GET] = "SELECT name, text, updated FROM policies WHERE name = ?",
	[ST_POLICY_DEL] = "DELETE FROM policies WHERE name = ?",
	[ST_POLICY_LIST] = "SELECT name, text, updated FROM policies ORDER BY name",
};

sqlite3 *
store_sqlite(struct store *s)
{
	return s->db;
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

/* ---- helpers --------------------------------------------------------- */

int
store_db_err(struct store *s, const char *op)
{
	return assay_err_set(ASSAY_ERR_DB, "store %s: %s: %s (sqlite %d)",
	    s->path, op, sqlite3_errmsg(s->db), sqlite3_extended_errcode(s->db));
}

/* Run a statement that returns no rows; always resets it. */
int
store_step_done(struct store *s, enum stmt_id id, const char *op)
{
	sqlite3_stmt *st = s->st[id];
	int r = ASSAY_OK;

	if (sqlite3_step(st) != SQLITE_DONE)
		r = store_db_err(s, op);
	stmt_done(st);
	return r;
}

char *
store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t;

	if (sqlite3_column_type(st, i) == SQLITE_NULL ||
	    (t = sqlite3_column_text(st, i)) == NULL)
		return NULL;
	return xstrdup((const char *)t);
}

void
store_col_blob(sqlite3_stmt *st, int i, uint8_t **p, size_t *len)
{
	const void *b;
	int n;

	*p = NULL;
	*len = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return;
	b = sqlite3_column_blob(st, i);
	n = sqlite3_column_bytes(st, i);
	*p = xmemdup(n > 0 ? b : "", (size_t)n);	/* empty stays non-NULL */
	*len = (size_t)n;
}

int
store_check_id(const char *id)
{
	size_t len;

	if (id == NULL || (len = strnlen(id, AGENT_ID_MAX)) == 0)
		return assay_err_set(ASSAY_ERR_INVAL, "empty agent id");
	if (len > AGENT_ID_MAX - 1)
		return assay_err_set(ASSAY_ERR_INVAL,
		    "agent id longer than %d bytes", AGENT_ID_MAX - 1);
	return ASSAY_OK;
}

int
store_check_event(const struct store_event *ev)
{
	if (ev == NULL)
		return ASSAY_OK;
	if (ev->type == NULL || *ev->type == '\0')
		return assay_err_set(ASSAY_ERR_INVAL, "event without a type");
	if (ev->agent_id != NULL)
		return store_check_id(ev->agent_id);
	return ASSAY_OK;
}

int
store_note_write(struct store *s, int r)
{
	if (r == ASSAY_OK) {
		s->write_failed = 0;
		return r;
	}
	if (r != ASSAY_ERR_DB)
		return r;
	s->write_errors++;
	if (!s->write_failed && s->wq_len == 0)
		s->fail_since = clock_unix();
	s->write_failed = 1;
	free(s->fail_msg);
	s->fail_msg = xstrdup(assay_err_detail());
	return r;
}

int
store_tx_begin(struct store *s, const char *op)
{
	int r;

	if ((r = store_step_done(s, ST_BEGIN, op)) != ASSAY_OK)
		store_note_write(s, r);
	return r;
}

/* Undo the open transaction, if SQLite has not already rolled it back. */
static void
tx_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	if (sqlite3_step(s->st[ST_ROLLBACK]) != SQLITE_DONE)
		log_warnx("store %s: rollback: %s", s->path, sqlite3_errmsg(s->db));
	stmt_done(s->st[ST_ROLLBACK]);
}

/* Commit r == ASSAY_OK work, roll back otherwise; returns the outcome. */
int
store_tx_end(struct store *s, int r, const char *op)
{
	if (r == ASSAY_OK &&
	    (r = store_step_done(s, ST_COMMIT, op)) == ASSAY_OK)
		return store_note_write(s, ASSAY_OK);
	tx_rollback(s);
	return store_note_write(s, r);
}

/* Inside a transaction. agent_id fills in when ev->agent_id is NULL. */
/*
 * A notice identical to the agent's newest notice of that id, with no
 * other (non-notice) event of the agent after it, is folded into that row.
 * *folded: 1 when it was (s->last_seq is the row), 0: insert it.
 */
static int
notice_fold(struct store *s, const struct store_event *ev, const char *id,
    int64_t t, int *folded)
{
	struct binder b = { s->st[ST_NOTICE_LAST], SQLITE_OK };
	int64_t seq = 0;
	int rc, same = 0, r;

	*folded = 0;
	if (id == NULL || strcmp(ev->type, "notice") != 0)
		return ASSAY_OK;
	b_text(&b, 1, id);
	b_text(&b, 2, ev->failure_id);
	b_text(&b, 3, ev->detail);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		return store_db_err(s, "bind notice query");
	}
	if ((rc = sqlite3_step(b.st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(b.st, 0);
		same = sqlite3_column_int(b.st, 1);
	}
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? ASSAY_OK :
	    store_db_err(s, "notice query");
	stmt_done(b.st);
	if (r != ASSAY_OK || !same)
		return r;
	b.st = s->st[ST_NOTICE_FOLD];
	b_i64(&b, 1, t);
	b_i64(&b, 2, seq);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		return store_db_err(s, "bind notice fold");
	}
	if ((r = store_step_done(s, ST_NOTICE_FOLD, "fold notice")) != ASSAY_OK)
		return r;
	s->last_seq = seq;
	s->events_folded++;
	*folded = 1;
	return ASSAY_OK;
}

int
store_event_insert(struct store *s, const struct store_event *ev,
    const char *agent_id)
{
	struct binder b = { s->st[ST_EVENT_ADD], SQLITE_OK };
	const char *id = ev->agent_id != NULL ? ev->agent_id : agent_id;
	int64_t t = ev->time != 0 ? ev->time : clock_unix();
	int r, folded;

	if ((r = notice_fold(s, ev, id, t, &folded)) != ASSAY_OK || folded)
		return r;
	b_i64(&b, 1, t);
	b_text(&b, 2, id);
	b_text(&b, 3, ev->type);
	b_text(&b, 4, ev->old_state);
	b_text(&b, 5, ev->new_state);
	b_text(&b, 6, ev->failure_id);
	b_text(&b, 7, ev->detail);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		return store_db_err(s, "bind event");
	}
	if ((r = store_step_done(s, ST_EVENT_ADD, "insert event")) == ASSAY_OK)
		s->last_seq = sqlite3_last_insert_rowid(s->db);
	return r;
}

/* ---- rows: one reader for gets and lists ---------------------------- */

/* Step a bound statement for up to max rows into a new array; resets st. */
int
store_rows_collect(struct store *s, sqlite3_stmt *st,
    const struct row_kind *k, size_t max, void **out, size_t *n)
{
	uint8_t *v = NULL;
	size_t len = 0, cap = 0;
	int r = ASSAY_OK, rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	while (len < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = xreallocarray(v, cap, k->size);
		}
		memset(v + len * k->size, 0, k->size);
		if ((r = k->read(s, st, v + len * k->size)) != ASSAY_OK) {
			k->free(v + len * k->size);
			break;
		}
		len++;
	}
	if (r == ASSAY_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_db_err(s, k->what);
	stmt_done(st);
	if (r != ASSAY_OK) {
		for (size_t i = 0; i < len; i++)
			k->free(v + i * k->size);
		free(v);
		return r;
	}
	*out = v;
	*n = len;
	return ASSAY_OK;
}

/* The row whose key is key, into out (zeroed first). */
int
store_get_one(struct store *s, enum stmt_id id, const struct row_kind *k,
    const char *key, void *out)
{
	struct binder b = { s->st[id], SQLITE_OK };
	void *v;
	size_t n;
	int r;

	memset(out, 0, k->size);
	b_text(&b, 1, key);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		return store_db_err(s, k->what);
	}
	if ((r = store_rows_collect(s, b.st, k, 1, &v, &n)) != ASSAY_OK)
		return r;
	if (n == 0)
		r = assay_err_set(ASSAY_ERR_NOT_FOUND, "%s %s not found",
		    k->what, key);
	else
		memcpy(out, v, k->size);	/* contents move to out */
	free(v);
	return r;
}

/* Delete the row keyed key and log ev (may be NULL) in one transaction. */
int
store_delete_one(struct store *s, enum stmt_id id, const char *what,
    const char *key, const struct store_event *ev)
{
	struct binder b = { s->st[id], SQLITE_OK };
	int r;

	if ((r = store_tx_begin(s, "begin delete")) != 0)
		return r;
	b_text(&b, 1, key);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		r = store_db_err(s, "bind delete");
	} else
		r = store_step_done(s, id, "delete");
	if (r == ASSAY_OK && sqlite3_changes(s->db) == 0)
		r = assay_err_set(ASSAY_ERR_NOT_FOUND, "%s %s not found", what,
		    key);
	if (r == ASSAY_OK && ev != NULL)
		r = store_event_insert(s, ev, key);
	return store_tx_end(s, r, "commit delete");
}

/* ---- open / close / migrate ------------------------------------------ */

static int
exec_sql(struct store *s, const char *sql, const char *op)
{
	char *msg = NULL;
	int r = ASSAY_OK;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		r = assay_err_set(ASSAY_ERR_DB, "store %s: %s: %s", s->path, op,
		    msg != NULL ? msg : sqlite3_errmsg(s->db));
	}
	sqlite3_free(msg);
	return r;
}

/* One-row, one-column query (PRAGMAs); text copied into out if non-NULL. */
static int
query_one(struct store *s, const char *sql, int64_t *iv, char *out,
    size_t outlen)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int r = ASSAY_OK;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_err(s, sql);
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = store_db_err(s, sql);
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

static int
migrate(struct store *s)
{
	int64_t v;
	char sql[64];
	int r;

	if ((r = query_one(s, "PRAGMA user_version", &v, NULL, 0)) != 0)
		return r;
	if (v > SCHEMA_VERSION)
		return assay_err_set(ASSAY_ERR_DB, "store %s: schema version %lld "
		    "is newer than this verifier supports (%d); refusing to "
		    "open it", s->path, (long long)v, SCHEMA_VERSION);
	while (v < SCHEMA_VERSION) {
		if ((r = exec_sql(s, "BEGIN IMMEDIATE", "begin migration")) != 0)
			return r;
		/* Re-read under the write lock: another opener may have won. */
		if ((r = query_one(s, "PRAGMA user_version", &v, NULL, 0)) != 0)
			goto fail;
		if (v >= SCHEMA_VERSION) {
			r = exec_sql(s, "COMMIT", "commit migration");
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld",
		    (long long)v + 1);
		if ((r = exec_sql(s, migrations[v], "migration")) != 0 ||
		    (r = exec_sql(s, sql, "set user_version")) != 0 ||
		    (r = exec_sql(s, "COMMIT", "commit migration")) != 0)
			goto fail;
		if (v == 0)
			log_debug("store %s: schema created", s->path);
		else
			log_notice("store %s: schema migrated to version %lld",
			    s->path, (long long)v + 1);
		v++;
	}
	return ASSAY_OK;
 fail:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

int
store_open(const char *path, struct store **out)
{
	struct store *s;
	char mode[32];
	int fd, r;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->events_rows = -1;

	/* Create it 0600 ourselves; SQLite gives -wal/-shm the same mode. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) >= 0)
		close(fd);
	else if (errno != EEXIST) {
		r = assay_err_set(ASSAY_ERR_DB, "store %s: create: %s", path,
		    strerror(errno));
		goto out;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = s->db != NULL ? store_db_err(s, "open") :
		    assay_err_set(ASSAY_ERR_DB, "store %s: open failed", path);
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	/*
	 * WAL with synchronous=NORMAL: a commit is in the WAL (the OS page
	 * cache) before COMMIT returns, so it survives the process being
	 * killed at any point; only a power loss or kernel crash may lose the
	 * last few commits, never consistency.
	 */
	if ((r = query_one(s, "PRAGMA journal_mode=WAL", NULL, mode,
	    sizeof(mode))) != 0)
		goto out;
	if (strcmp(mode, "wal") != 0) {
		r = assay_err_set(ASSAY_ERR_DB, "store %s: cannot enable WAL "
		    "(journal_mode is %s)", path, mode);
		goto out;
	}
	if ((r = exec_sql(s, "PRAGMA synchronous=NORMAL; "
	    "PRAGMA foreign_keys=ON", "pragmas")) != 0)
		goto out;
	if ((r = migrate(s)) != 0)
		goto out;
	for (int i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			r = store_db_err(s, "prepare");
			goto out;
		}
	}
	*out = s;
	s = NULL;
 out:
	store_close(s);
	return r;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->wq_len > 0)
		log_err("store %s: %zu changes could not be written and are lost",
		    s->path, s->wq_len);
	store_wq_free(s);
	free(s->fail_msg);
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);	/* NULL is a no-op */
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store %s: close: %s", s->path, sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}
