/*
 * store.c — the verifier's persistent state in SQLite: agents, policies and
 * the event history. Owns the database handle, the schema and its
 * migrations, and one prepared statement per operation (prepared at open,
 * reset and cleared on every path). Every write runs in its own
 * BEGIN IMMEDIATE ... COMMIT, so an agent row and its event land together
 * or not at all.
 *
 * Notification rows are read and updated by store_notify.c; they are
 * inserted here, inside the agent's transaction (store_agent_put_notify).
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

#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

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
};
#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Agent columns; the enum gives each its index (bind index is + 1). */
#define AGENT_COLS \
	"id, ek_pub, ek_cert, ak_pub, cert_cn, activated, admitted, state," \
	" address, policy, interval, reason, reason_detail, registered_at," \
	" last_attested, last_event_at, clock_valid, clock, reset_count," \
	" restart_count, firmware_version, attest_ok, attest_fail," \
	" poll_errors, verify_state"
enum {
	AC_ID, AC_EK_PUB, AC_EK_CERT, AC_AK_PUB, AC_CERT_CN, AC_ACTIVATED,
	AC_ADMITTED, AC_STATE, AC_ADDRESS, AC_POLICY, AC_INTERVAL, AC_REASON,
	AC_REASON_DETAIL, AC_REGISTERED_AT, AC_LAST_ATTESTED, AC_LAST_EVENT_AT,
	AC_CLOCK_VALID, AC_CLOCK, AC_RESET_COUNT, AC_RESTART_COUNT,
	AC_FIRMWARE_VERSION, AC_ATTEST_OK, AC_ATTEST_FAIL, AC_POLL_ERRORS,
	AC_VERIFY_STATE, AC_MAX
};

#define EVENT_COLS \
	"seq, time, agent_id, type, old_state, new_state, failure_id, detail"

enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_AGENT_PUT, ST_AGENT_GET, ST_AGENT_DEL, ST_AGENT_LIST,
	ST_EVENT_ADD, ST_EVENTS_ALL, ST_EVENTS_AGENT,
	ST_POLICY_PUT, ST_POLICY_GET, ST_POLICY_DEL, ST_POLICY_LIST,
	ST_MAX
};

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
	    " new_state, failure_id, detail) VALUES (?,?,?,?,?,?,?)",
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

struct store {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*st[ST_MAX];
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

static int
db_err(struct store *s, const char *op)
{
	return assay_err_set(ASSAY_ERR_DB, "store %s: %s: %s (sqlite %d)",
	    s->path, op, sqlite3_errmsg(s->db), sqlite3_extended_errcode(s->db));
}

/* Same 64 bits, as the signed integer SQLite stores; no overflow UB. */
static int64_t
u64_to_i64(uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		return (int64_t)v;
	return (int64_t)(v - (uint64_t)INT64_MAX - 1) + INT64_MIN;
}

static uint64_t
i64_to_u64(int64_t v)
{
	return (uint64_t)v;	/* modulo 2^64: exact inverse of u64_to_i64 */
}

static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Binding accumulates the first error; later binds are skipped. */
struct binder {
	sqlite3_stmt	*st;
	int		 rc;
};

static void
b_i64(struct binder *b, int idx, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->st, idx, v);
}

static void
b_text(struct binder *b, int idx, const char *v)
{
	if (b->rc != SQLITE_OK)
		return;
	if (v == NULL)
		b->rc = sqlite3_bind_null(b->st, idx);
	else
		b->rc = sqlite3_bind_text(b->st, idx, v, -1, SQLITE_STATIC);
}

static void
b_blob(struct binder *b, int idx, const uint8_t *p, size_t len)
{
	if (b->rc != SQLITE_OK)
		return;
	if (p == NULL)
		b->rc = sqlite3_bind_null(b->st, idx);
	else
		b->rc = sqlite3_bind_blob64(b->st, idx, p, len, SQLITE_STATIC);
}

/* Run a statement that returns no rows; always resets it. */
static int
step_done(struct store *s, enum stmt_id id, const char *op)
{
	sqlite3_stmt *st = s->st[id];
	int r = ASSAY_OK;

	if (sqlite3_step(st) != SQLITE_DONE)
		r = db_err(s, op);
	stmt_done(st);
	return r;
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t;

	if (sqlite3_column_type(st, i) == SQLITE_NULL ||
	    (t = sqlite3_column_text(st, i)) == NULL)
		return NULL;
	return xstrdup((const char *)t);
}

static void
col_blob(sqlite3_stmt *st, int i, uint8_t **p, size_t *len)
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

static int
check_id(const char *id)
{
	size_t len;

	if (id == NULL || (len = strnlen(id, AGENT_ID_MAX)) == 0)
		return assay_err_set(ASSAY_ERR_INVAL, "empty agent id");
	if (len > AGENT_ID_MAX - 1)
		return assay_err_set(ASSAY_ERR_INVAL,
		    "agent id longer than %d bytes", AGENT_ID_MAX - 1);
	return ASSAY_OK;
}

static int
check_event(const struct store_event *ev)
{
	if (ev == NULL)
		return ASSAY_OK;
	if (ev->type == NULL || *ev->type == '\0')
		return assay_err_set(ASSAY_ERR_INVAL, "event without a type");
	if (ev->agent_id != NULL)
		return check_id(ev->agent_id);
	return ASSAY_OK;
}

static int
tx_begin(struct store *s, const char *op)
{
	return step_done(s, ST_BEGIN, op);
}

/* Undo the open transaction, if SQLite has not already rolled it back. */
static void
tx_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	if (sqlite3_step(s->st[ST_ROLLBACK]) != SQLITE_DONE)
		log_warn("store %s: rollback: %s", s->path, sqlite3_errmsg(s->db));
	stmt_done(s->st[ST_ROLLBACK]);
}

/* Commit r == ASSAY_OK work, roll back otherwise; returns the outcome. */
static int
tx_end(struct store *s, int r, const char *op)
{
	if (r == ASSAY_OK && (r = step_done(s, ST_COMMIT, op)) == ASSAY_OK)
		return ASSAY_OK;
	tx_rollback(s);
	return r;
}

/* Inside a transaction. agent_id fills in when ev->agent_id is NULL. */
static int
event_insert(struct store *s, const struct store_event *ev,
    const char *agent_id)
{
	struct binder b = { s->st[ST_EVENT_ADD], SQLITE_OK };

	b_i64(&b, 1, ev->time != 0 ? ev->time : (int64_t)time(NULL));
	b_text(&b, 2, ev->agent_id != NULL ? ev->agent_id : agent_id);
	b_text(&b, 3, ev->type);
	b_text(&b, 4, ev->old_state);
	b_text(&b, 5, ev->new_state);
	b_text(&b, 6, ev->failure_id);
	b_text(&b, 7, ev->detail);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		return db_err(s, "bind event");
	}
	return step_done(s, ST_EVENT_ADD, "insert event");
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
		return db_err(s, sql);
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = db_err(s, sql);
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
		r = s->db != NULL ? db_err(s, "open") :
		    assay_err_set(ASSAY_ERR_DB, "store %s: open failed", path);
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
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
			r = db_err(s, "prepare");
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
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);	/* NULL is a no-op */
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warn("store %s: close: %s", s->path, sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

/* ---- agents ---------------------------------------------------------- */

static int
agent_bind(struct store *s, const struct agent_rec *a)
{
	struct binder b = { s->st[ST_AGENT_PUT], SQLITE_OK };

	b_text(&b, AC_ID + 1, a->id);
	b_blob(&b, AC_EK_PUB + 1, a->ek_pub, a->ek_pub_len);
	b_blob(&b, AC_EK_CERT + 1, a->ek_cert, a->ek_cert_len);
	b_blob(&b, AC_AK_PUB + 1, a->ak_pub, a->ak_pub_len);
	b_text(&b, AC_CERT_CN + 1, a->cert_cn);
	b_i64(&b, AC_ACTIVATED + 1, a->activated);
	b_i64(&b, AC_ADMITTED + 1, a->admitted);
	b_text(&b, AC_STATE + 1, agent_state_name(a->state));
	b_text(&b, AC_ADDRESS + 1, a->address);
	b_text(&b, AC_POLICY + 1, a->policy);
	b_i64(&b, AC_INTERVAL + 1, a->interval);
	b_text(&b, AC_REASON + 1, a->reason);
	b_text(&b, AC_REASON_DETAIL + 1, a->reason_detail);
	b_i64(&b, AC_REGISTERED_AT + 1, a->registered_at);
	b_i64(&b, AC_LAST_ATTESTED + 1, a->last_attested);
	b_i64(&b, AC_LAST_EVENT_AT + 1, a->last_event_at);
	b_i64(&b, AC_CLOCK_VALID + 1, a->clock.valid);
	b_i64(&b, AC_CLOCK + 1, u64_to_i64(a->clock.clock));
	b_i64(&b, AC_RESET_COUNT + 1, a->clock.reset_count);
	b_i64(&b, AC_RESTART_COUNT + 1, a->clock.restart_count);
	b_i64(&b, AC_FIRMWARE_VERSION + 1, u64_to_i64(a->clock.firmware_version));
	b_i64(&b, AC_ATTEST_OK + 1, u64_to_i64(a->attest_ok));
	b_i64(&b, AC_ATTEST_FAIL + 1, u64_to_i64(a->attest_fail));
	b_i64(&b, AC_POLL_ERRORS + 1, u64_to_i64(a->poll_errors));
	b_text(&b, AC_VERIFY_STATE + 1, a->verify_state);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		return db_err(s, "bind agent");
	}
	return ASSAY_OK;
}

/* Current row of st into a (zeroed by the caller). */
static int
agent_read(struct store *s, sqlite3_stmt *st, void *p)
{
	struct agent_rec *a = p;
	const unsigned char *t;
	int r;

	t = sqlite3_column_text(st, AC_ID);
	if (t == NULL || check_id((const char *)t) != ASSAY_OK)
		return assay_err_set(ASSAY_ERR_DB, "store %s: agent row with a "
		    "bad id", s->path);
	memcpy(a->id, t, strlen((const char *)t) + 1);
	t = sqlite3_column_text(st, AC_STATE);
	if ((r = agent_state_parse((const char *)t, &a->state)) != ASSAY_OK)
		return assay_err_set(ASSAY_ERR_DB, "store %s: agent %s: unknown "
		    "state in the database", s->path, a->id);
	col_blob(st, AC_EK_PUB, &a->ek_pub, &a->ek_pub_len);
	col_blob(st, AC_EK_CERT, &a->ek_cert, &a->ek_cert_len);
	col_blob(st, AC_AK_PUB, &a->ak_pub, &a->ak_pub_len);
	a->cert_cn = col_text(st, AC_CERT_CN);
	a->activated = sqlite3_column_int(st, AC_ACTIVATED);
	a->admitted = sqlite3_column_int(st, AC_ADMITTED);
	a->address = col_text(st, AC_ADDRESS);
	a->policy = col_text(st, AC_POLICY);
	a->interval = sqlite3_column_int(st, AC_INTERVAL);
	a->reason = col_text(st, AC_REASON);
	a->reason_detail = col_text(st, AC_REASON_DETAIL);
	a->registered_at = sqlite3_column_int64(st, AC_REGISTERED_AT);
	a->last_attested = sqlite3_column_int64(st, AC_LAST_ATTESTED);
	a->last_event_at = sqlite3_column_int64(st, AC_LAST_EVENT_AT);
	a->clock.valid = sqlite3_column_int(st, AC_CLOCK_VALID);
	a->clock.clock = i64_to_u64(sqlite3_column_int64(st, AC_CLOCK));
	a->clock.reset_count = (uint32_t)sqlite3_column_int64(st, AC_RESET_COUNT);
	a->clock.restart_count =
	    (uint32_t)sqlite3_column_int64(st, AC_RESTART_COUNT);
	a->clock.firmware_version =
	    i64_to_u64(sqlite3_column_int64(st, AC_FIRMWARE_VERSION));
	a->attest_ok = i64_to_u64(sqlite3_column_int64(st, AC_ATTEST_OK));
	a->attest_fail = i64_to_u64(sqlite3_column_int64(st, AC_ATTEST_FAIL));
	a->poll_errors = i64_to_u64(sqlite3_column_int64(st, AC_POLL_ERRORS));
	a->verify_state = col_text(st, AC_VERIFY_STATE);
	return ASSAY_OK;
}

/* ---- rows: one reader for gets and lists ---------------------------- */

static int
event_read(struct store *s, sqlite3_stmt *st, void *p)
{
	struct store_event *e = p;

	e->seq = sqlite3_column_int64(st, 0);
	e->time = sqlite3_column_int64(st, 1);
	e->agent_id = col_text(st, 2);
	e->type = col_text(st, 3);
	e->old_state = col_text(st, 4);
	e->new_state = col_text(st, 5);
	e->failure_id = col_text(st, 6);
	e->detail = col_text(st, 7);
	return ASSAY_OK;
}

static int
policy_read(struct store *s, sqlite3_stmt *st, void *p)
{
	struct store_policy *pol = p;

	pol->name = col_text(st, 0);
	pol->text = col_text(st, 1);
	pol->updated = sqlite3_column_int64(st, 2);
	return ASSAY_OK;
}

static void agent_free_v(void *p) { agent_rec_free(p); }
static void event_free_v(void *p) { store_event_free(p); }
static void policy_free_v(void *p) { store_policy_free(p); }

struct row_kind {
	const char	*what;
	size_t		 size;
	int		(*read)(struct store *, sqlite3_stmt *, void *);
	void		(*free)(void *);
};
static const struct row_kind agent_rows =
    { "agent", sizeof(struct agent_rec), agent_read, agent_free_v };
static const struct row_kind event_rows =
    { "event", sizeof(struct store_event), event_read, event_free_v };
static const struct row_kind policy_rows =
    { "policy", sizeof(struct store_policy), policy_read, policy_free_v };

/* Step a bound statement for up to max rows into a new array; resets st. */
static int
rows_collect(struct store *s, sqlite3_stmt *st, const struct row_kind *k,
    size_t max, void **out, size_t *n)
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
		r = db_err(s, k->what);
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
static int
get_one(struct store *s, enum stmt_id id, const struct row_kind *k,
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
		return db_err(s, k->what);
	}
	if ((r = rows_collect(s, b.st, k, 1, &v, &n)) != ASSAY_OK)
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
static int
delete_one(struct store *s, enum stmt_id id, const char *what,
    const char *key, const struct store_event *ev)
{
	struct binder b = { s->st[id], SQLITE_OK };
	int r;

	if ((r = tx_begin(s, "begin delete")) != 0)
		return r;
	b_text(&b, 1, key);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		r = db_err(s, "bind delete");
	} else
		r = step_done(s, id, "delete");
	if (r == ASSAY_OK && sqlite3_changes(s->db) == 0)
		r = assay_err_set(ASSAY_ERR_NOT_FOUND, "%s %s not found", what,
		    key);
	if (r == ASSAY_OK && ev != NULL)
		r = event_insert(s, ev, key);
	return tx_end(s, r, "commit delete");
}

/* ---- agents ---------------------------------------------------------- */

int
store_agent_put(struct store *s, const struct agent_rec *a,
    const struct store_event *ev)
{
	return store_agent_put_notify(s, a, ev, NULL, 0);
}

int
store_agent_put_notify(struct store *s, const struct agent_rec *a,
    const struct store_event *ev, const char *const *targets, size_t ntargets)
{
	int r;

	if ((r = check_id(a->id)) != 0 || (r = check_event(ev)) != 0)
		return r;
	if (ntargets > 0 && ev == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "notification without an "
		    "event");
	for (size_t i = 0; i < ntargets; i++)
		if (targets[i] == NULL || *targets[i] == '\0')
			return assay_err_set(ASSAY_ERR_INVAL, "empty notification "
			    "target");
	if (agent_state_name(a->state) == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "agent %s: bad state %d",
		    a->id, a->state);
	if ((r = tx_begin(s, "begin agent put")) != 0)
		return r;
	if ((r = agent_bind(s, a)) == ASSAY_OK)
		r = step_done(s, ST_AGENT_PUT, "put agent");
	if (r == ASSAY_OK && ev != NULL)
		r = event_insert(s, ev, a->id);
	if (r == ASSAY_OK && ntargets > 0)
		r = store_notify_insert_tx(s, sqlite3_last_insert_rowid(s->db),
		    targets, ntargets);
	return tx_end(s, r, "commit agent put");
}

int
store_agent_get(struct store *s, const char *id, struct agent_rec *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_id(id)) != 0)
		return r;
	return get_one(s, ST_AGENT_GET, &agent_rows, id, out);
}

int
store_agent_delete(struct store *s, const char *id, const struct store_event *ev)
{
	int r;

	if ((r = check_id(id)) != 0 || (r = check_event(ev)) != 0)
		return r;
	return delete_one(s, ST_AGENT_DEL, "agent", id, ev);
}

int
store_agent_list(struct store *s, struct agent_rec **out, size_t *n)
{
	void *v;
	int r;

	r = rows_collect(s, s->st[ST_AGENT_LIST], &agent_rows, SIZE_MAX, &v, n);
	*out = v;
	return r;
}

/* ---- events ---------------------------------------------------------- */

int
store_event_add(struct store *s, const struct store_event *ev)
{
	int r;

	if (ev == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "no event");
	if ((r = check_event(ev)) != 0)
		return r;
	if ((r = tx_begin(s, "begin event add")) != 0)
		return r;
	r = event_insert(s, ev, NULL);
	return tx_end(s, r, "commit event add");
}

int
store_events_list(struct store *s, const char *agent_id, int limit,
    struct store_event **out, size_t *n)
{
	struct binder b = { s->st[ST_EVENTS_ALL], SQLITE_OK };
	void *v;
	int r;

	*out = NULL;
	*n = 0;
	if (agent_id != NULL) {
		if ((r = check_id(agent_id)) != 0)
			return r;
		b.st = s->st[ST_EVENTS_AGENT];
		b_text(&b, 1, agent_id);
	}
	b_i64(&b, agent_id != NULL ? 2 : 1, limit > 0 ? limit : -1);
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		return db_err(s, "bind events query");
	}
	r = rows_collect(s, b.st, &event_rows, SIZE_MAX, &v, n);
	*out = v;
	return r;
}

/* ---- policies -------------------------------------------------------- */

static int
check_policy_name(const char *name)
{
	if (name == NULL || *name == '\0')
		return assay_err_set(ASSAY_ERR_INVAL, "empty policy name");
	return ASSAY_OK;
}

int
store_policy_put(struct store *s, const char *name, const char *text)
{
	struct binder b = { s->st[ST_POLICY_PUT], SQLITE_OK };
	int r;

	if ((r = check_policy_name(name)) != 0)
		return r;
	if (text == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "policy %s without text",
		    name);
	if ((r = tx_begin(s, "begin policy put")) != 0)
		return r;
	b_text(&b, 1, name);
	b_text(&b, 2, text);
	b_i64(&b, 3, (int64_t)time(NULL));
	if (b.rc != SQLITE_OK) {
		stmt_done(b.st);
		r = db_err(s, "bind policy");
	} else
		r = step_done(s, ST_POLICY_PUT, "put policy");
	return tx_end(s, r, "commit policy put");
}

int
store_policy_get(struct store *s, const char *name, struct store_policy *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = check_policy_name(name)) != 0)
		return r;
	return get_one(s, ST_POLICY_GET, &policy_rows, name, out);
}

int
store_policy_delete(struct store *s, const char *name)
{
	int r;

	if ((r = check_policy_name(name)) != 0)
		return r;
	return delete_one(s, ST_POLICY_DEL, "policy", name, NULL);
}

int
store_policy_list(struct store *s, struct store_policy **out, size_t *n)
{
	void *v;
	int r;

	r = rows_collect(s, s->st[ST_POLICY_LIST], &policy_rows, SIZE_MAX, &v, n);
	*out = v;
	return r;
}
