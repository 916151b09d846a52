/*
 * db_pg.c — the PostgreSQL backend of db.h, through libpq: the connection
 * (keepalives and timeouts so that a dead server is noticed), errors with
 * the SQLSTATE kept, reconnection, transactions, migrations and size.
 * Statements are db_pg_stmt.c's.
 *
 * A broken connection is reset by the next call that needs it (at most once
 * per DB_RECONNECT_MS); each reset bumps a generation that makes statements
 * prepare again on the new session. A transaction open when it broke is
 * lost: every statement fails until the caller rolls back, and a commit
 * fails (and ends it).
 */
#include <ctype.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/db_int.h"
#include "verifier/db_pg_int.h"

#define PG_MIN_SERVER	110000		/* PostgreSQL 11 */
#define PG_MIGRATE_LOCK	"280570839385"	/* 0x4153534159, "ASSAY" */
#define PG_PROBE_MAX	8		/* reads to notice a server that hung up */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* One line of a libpq message: runs of white space (newlines) folded. */
static void
flatten(char *dst, size_t dlen, const char *msg)
{
	size_t i, o = 0;

	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	for (i = 0; msg[i] != '\0' && o + 1 < dlen; i++) {
		if (!isspace((unsigned char)msg[i]))
			dst[o++] = msg[i];
		else if (o > 0 && dst[o - 1] != ' ')
			dst[o++] = ' ';
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* ASSAY_ERR_DB naming the database, the operation and the message. */
int
pgdb_err(struct pg_db *db, const char *op, const char *msg, const char *state)
{
	char line[400];

	flatten(line, sizeof(line), msg);
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
	    state != NULL ? state : "");
	if (db->sqlstate[0] != '\0')
		return assay_err_set(ASSAY_ERR_DB, "store %s: %s: %s (sqlstate %s)",
		    db->name, op, line, db->sqlstate);
	return assay_err_set(ASSAY_ERR_DB, "store %s: %s: %s", db->name, op,
	    line);
}

/* Our idea of the transaction, from the server's when it has one. */
void
pgdb_sync_tx(struct pg_db *db)
{
	switch (PQtransactionStatus(db->conn)) {
	case PQTRANS_IDLE:
		db->in_tx = 0;
		break;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		db->in_tx = 1;
		break;
	default:
		break;
	}
}

/* After a failure: a connection now gone loses any open transaction. */
static void
check_lost(struct pg_db *db)
{
	char line[400];

	if (PQstatus(db->conn) == CONNECTION_OK) {
		pgdb_sync_tx(db);
		return;
	}
	if (db->in_tx)
		db->tx_broken = 1;
	if (!db->lost_logged) {
		flatten(line, sizeof(line), PQerrorMessage(db->conn));
		log_warnx("store %s: connection lost: %s", db->name, line);
		db->lost_logged = 1;
	}
}

/* A failed PGresult (NULL: out of memory or no connection) as an error. */
int
pgdb_res_err(struct pg_db *db, const char *op, const PGresult *res)
{
	const char *msg = NULL, *state = NULL;
	char copy[400];

	if (res != NULL) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	}
	if (msg == NULL)
		msg = PQerrorMessage(db->conn);
	flatten(copy, sizeof(copy), msg);	/* check_lost may reset it */
	check_lost(db);
	return pgdb_err(db, op, copy, state);
}

/*
 * A server that went away while we were idle (restart, terminated backend)
 * left an error and EOF on the socket: read them, so that the status says
 * BAD before we send anything instead of after.
 */
static void
probe(struct pg_db *db)
{
	struct pollfd pfd;
	int i;

	for (i = 0; i < PG_PROBE_MAX; i++) {
		if (PQstatus(db->conn) != CONNECTION_OK)
			return;
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0 ||
		    PQconsumeInput(db->conn) == 0)
			return;
	}
}

/* Session settings, on the first connection and after each reset. */
static int
session_setup(struct pg_db *db, const char *op)
{
	PGresult *res;
	int r = 0;

	PQsetNoticeProcessor(db->conn, pg_quiet, NULL);
	if (PQserverVersion(db->conn) < PG_MIN_SERVER)
		return assay_err_set(ASSAY_ERR_DB, "store %s: %s: server version "
		    "%d is too old (PostgreSQL 11 or later needed)", db->name, op,
		    PQserverVersion(db->conn));
	res = PQexec(db->conn, "SET client_min_messages = warning");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pgdb_res_err(db, op, res);
	PQclear(res);
	return r;
}

/*
 * The connection, usable: tried again if it broke (at most once per
 * DB_RECONNECT_MS); refused while a transaction it carried is unresolved.
 */
int
pgdb_ready(struct pg_db *db, const char *op)
{
	char line[400];
	int64_t now;

	if (!db->tx_broken) {
		probe(db);
		if (PQstatus(db->conn) == CONNECTION_OK)
			return 0;
		check_lost(db);
	}
	if (db->tx_broken)
		return pgdb_err(db, op, "connection lost during transaction "
		    "(roll back)", NULL);
	now = mono_ms();
	if (db->last_reset != 0 && now - db->last_reset < DB_RECONNECT_MS)
		return pgdb_err(db, op, "connection lost (reconnecting)", NULL);
	db->last_reset = now;
	PQreset(db->conn);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		flatten(line, sizeof(line), PQerrorMessage(db->conn));
		return pgdb_err(db, op, line, NULL);
	}
	if (session_setup(db, op) != 0)
		return ASSAY_ERR_DB;
	db->gen++;
	db->in_tx = 0;
	db->lost_logged = 0;
	log_notice("store %s: reconnected", db->name);
	return 0;
}

/* The URI for messages: "user:pass@" loses ":pass", "password=" goes. */
static char *
strip_password(const char *uri)
{
	char *s = xstrdup(uri), *p, *at, *colon, *end, *q, *next;
	size_t n;

	if ((p = strstr(s, "://")) != NULL) {
		p += 3;
		end = p + strcspn(p, "/?#");
		at = NULL;
		for (q = p; q < end; q++)
			if (*q == '@')
				at = q;
		if (at != NULL && (colon = memchr(p, ':', at - p)) != NULL)
			memmove(colon, at, strlen(at) + 1);
	}
	if ((q = strchr(s, '?')) == NULL)
		return s;
	for (q++; *q != '\0'; q = next) {
		n = strcspn(q, "&");
		next = q[n] == '&' ? q + n + 1 : q + n;
		if (strncmp(q, "password=", 9) != 0)
			continue;
		memmove(q, next, strlen(next) + 1);
		next = q;
	}
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '&' || s[n - 1] == '?'))
		s[--n] = '\0';
	return s;
}

int
pg_open(const char *uri, struct db **out)
{
	static const char *const keys[] = { "connect_timeout", "keepalives",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "tcp_user_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "5", "1", "5", "2", "3", "10000",
	    "assay-verifier", uri, NULL };
	struct pg_db *db;
	char line[400];
	int r = 0;

	*out = NULL;
	db = xcalloc(1, sizeof(*db));
	db->base.kind = DB_PG;
	db->name = strip_password(uri);
	/* Defaults first, the URI (expanded) overrides them. */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL) {
		r = pgdb_err(db, "connect", "out of memory", NULL);
		goto out;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		flatten(line, sizeof(line), PQerrorMessage(db->conn));
		r = pgdb_err(db, "connect", line, NULL);
		goto out;
	}
	if ((r = session_setup(db, "connect")) != 0)
		goto out;
	db->gen = 1;
	*out = (struct db *)db;
	db = NULL;
 out:
	pg_close((struct db *)db);
	return r;
}

void
pg_close(struct db *dbp)
{
	struct pg_db *db = (struct pg_db *)dbp;

	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->name);
	free(db);
}

const char *
pg_name(const struct db *dbp)
{
	return ((const struct pg_db *)dbp)->name;
}

const char *
pg_sqlstate(const struct db *dbp)
{
	return ((const struct pg_db *)dbp)->sqlstate;
}

/* PQexec of sql, which must end in one of the statuses ok (or TUPLES_OK). */
static int
run(struct pg_db *db, const char *sql, const char *op, PGresult **resp)
{
	PGresult *res;
	ExecStatusType s;
	int r = 0;

	if (resp != NULL)
		*resp = NULL;
	if ((r = pgdb_ready(db, op)) != 0)
		return r;
	res = PQexec(db->conn, sql);
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		r = pgdb_res_err(db, op, res);
		PQclear(res);
		return r;
	}
	pgdb_sync_tx(db);
	if (resp != NULL)
		*resp = res;
	else
		PQclear(res);
	return 0;
}

/* First column of the first row as an integer (text result); *found 0 if none. */
static int
query_i64(struct pg_db *db, const char *sql, const char *op, int64_t *v,
    int *found)
{
	PGresult *res;
	int r;

	*v = 0;
	*found = 0;
	if ((r = run(db, sql, op, &res)) != 0)
		return r;
	if (PQntuples(res) > 0 && PQnfields(res) > 0 &&
	    !PQgetisnull(res, 0, 0)) {
		*v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*found = 1;
	}
	PQclear(res);
	return 0;
}

int
pg_exec(struct db *dbp, const char *sql, const char *op)
{
	struct pg_db *db = (struct pg_db *)dbp;
	char *text;
	int n, r;

	if (pgdb_rewrite(sql, 0, &text, &n) != 0)
		return pgdb_err(db, op, "parameters in a statement run without "
		    "bindings", NULL);
	r = run(db, text, op, NULL);
	free(text);
	return r;
}

int
pg_begin(struct db *dbp)
{
	struct pg_db *db = (struct pg_db *)dbp;

	if (db->in_tx)
		return pgdb_err(db, "begin", "a transaction is already open", NULL);
	return run(db, "BEGIN", "begin", NULL);
}

int
pg_commit(struct db *dbp)
{
	struct pg_db *db = (struct pg_db *)dbp;
	PGresult *res;
	int r;

	if (db->tx_broken) {
		db->tx_broken = db->in_tx = 0;
		return pgdb_err(db, "commit", "connection lost during transaction "
		    "(changes not committed)", NULL);
	}
	if (!db->in_tx)
		return pgdb_err(db, "commit", "no transaction is open", NULL);
	if ((r = run(db, "COMMIT", "commit", &res)) != 0) {
		/* Over either way: committed, rolled back or unknown. */
		db->tx_broken = db->in_tx = 0;
		return r;
	}
	if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		r = pgdb_err(db, "commit", "the transaction was rolled back "
		    "(an earlier statement in it failed)", NULL);
	PQclear(res);
	db->in_tx = 0;
	return r;
}

void
pg_rollback(struct db *dbp)
{
	struct pg_db *db = (struct pg_db *)dbp;
	PGTransactionStatusType ts;
	PGresult *res;

	if (db->tx_broken) {		/* the session that held it is gone */
		db->tx_broken = db->in_tx = 0;
		return;
	}
	ts = PQtransactionStatus(db->conn);
	if (db->in_tx || ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
		res = PQexec(db->conn, "ROLLBACK");
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			check_lost(db);
		PQclear(res);
	}
	db->in_tx = 0;
	db->tx_broken = 0;
}

int
pg_in_tx(const struct db *dbp)
{
	const struct pg_db *db = (const struct pg_db *)dbp;

	return db->in_tx || db->tx_broken;
}

/*
 * One migration transaction: under the advisory lock, read the version
 * (creating the table with version 0 if needed); apply steps[v] if v < n.
 * *v: the version found. The lock comes first: it needs no table, and two
 * sessions creating the table at once can collide on pg_type.
 */
static int
migrate_one(struct pg_db *db, const char *const *steps, int n, int64_t *v)
{
	char sql[64];
	int found, r;

	*v = -1;
	if ((r = run(db, "BEGIN", "migrate", NULL)) != 0 ||
	    (r = run(db, "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ")",
	    "migrate: lock", NULL)) != 0 ||
	    (r = run(db, "CREATE TABLE IF NOT EXISTS assay_schema "
	    "(version INTEGER NOT NULL)", "migrate: schema table", NULL)) != 0 ||
	    (r = query_i64(db, "SELECT max(version) FROM assay_schema",
	    "migrate: version", v, &found)) != 0)
		goto out;
	if (!found && (r = run(db, "INSERT INTO assay_schema (version) "
	    "VALUES (0)", "migrate: version", NULL)) != 0)
		goto out;
	if (*v > n) {
		r = assay_err_set(ASSAY_ERR_DB, "store %s: schema version %"
		    PRId64 " is newer than this verifier supports (%d)",
		    db->name, *v, n);
		goto out;
	}
	if (*v < n) {
		snprintf(sql, sizeof(sql), "UPDATE assay_schema SET version = %"
		    PRId64, *v + 1);
		if ((r = run(db, steps[*v], "migrate: step", NULL)) != 0 ||
		    (r = run(db, sql, "migrate: version", NULL)) != 0)
			goto out;
	}
	r = pg_commit((struct db *)db);
 out:
	if (r != 0)
		pg_rollback((struct db *)db);
	return r;
}

int
pg_migrate(struct db *dbp, const char *const *steps, int n, int *from)
{
	struct pg_db *db = (struct pg_db *)dbp;
	int64_t v;
	int first = 1, r;

	if (db->in_tx || db->tx_broken)
		return pgdb_err(db, "migrate", "a transaction is open", NULL);
	do {
		r = migrate_one(db, steps, n, &v);
		if (first && from != NULL && v >= 0)
			*from = (int)v;
		first = 0;
	} while (r == 0 && v + 1 < n);
	return r;
}

int
pg_schema_version(struct db *dbp, int *v)
{
	struct pg_db *db = (struct pg_db *)dbp;
	int64_t x;
	int found, r;

	*v = 0;
	if ((r = query_i64(db, "SELECT CAST(to_regclass('assay_schema') IS NOT "
	    "NULL AS INTEGER)", "schema version", &x, &found)) != 0 || x == 0)
		return r;
	if ((r = query_i64(db, "SELECT max(version) FROM assay_schema",
	    "schema version", &x, &found)) != 0)
		return r;
	*v = (int)x;
	return 0;
}

uint64_t
pg_size(struct db *dbp)
{
	int64_t x;
	int found;

	if (query_i64((struct pg_db *)dbp, "SELECT pg_database_size("
	    "current_database())", "size", &x, &found) != 0 || x < 0)
		return 0;
	return (uint64_t)x;
}
