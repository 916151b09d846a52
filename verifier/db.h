/*
 * db.h — the one SQL driver interface the store is written against, with
 * two backends behind it: db_sqlite.c (a file, the embedded default) and
 * db_pg.c (PostgreSQL through libpq, for many verifiers on one database).
 *
 * SQL text is shared: placeholders are "?" (numbered in order) or "?N";
 * the PostgreSQL backend rewrites them to "$N". The token "@NOWMS" is the
 * database server's clock in unix milliseconds (one clock for every
 * verifier of a cluster). Text is UTF-8 without NUL; blobs are bytes.
 *
 * A statement is prepared once and stepped many times: bind, step until
 * DB_DONE (or stop early), db_reset. Binding errors are kept and reported
 * by the next db_step. Every error is ASSAY_ERR_DB with detail naming the
 * database, the operation and the backend's message. Column values stay
 * valid until the next step or reset of their statement.
 *
 * A PostgreSQL connection that breaks is re-established by the next call
 * that needs it (at most once per DB_RECONNECT_MS), statements are prepared
 * again on the new session, and an open transaction is lost (the caller's
 * commit fails). Used from one thread.
 */
#ifndef ASSAY_DB_H
#define ASSAY_DB_H

#include <stddef.h>
#include <stdint.h>

enum db_kind { DB_SQLITE, DB_PG };

/* db_step results besides an error (ASSAY_ERR_DB). */
#define DB_ROW		100
#define DB_DONE		101

#define DB_RECONNECT_MS	1000

struct db;
struct db_stmt;

/* "postgresql://..." or "postgres://..." (libpq URI): PostgreSQL. */
int	db_is_uri(const char *target);
/*
 * Open target: a PostgreSQL URI, else a SQLite file path (created 0600,
 * WAL). A PostgreSQL server that cannot be reached is ASSAY_ERR_DB.
 */
int	db_open(const char *target, struct db **out);
void	db_close(struct db *db);
enum db_kind db_kind(const struct db *db);
/* For messages: the path, or the URI without its password. */
const char *db_name(const struct db *db);

/* Run SQL without parameters or rows (may hold several statements). */
int	db_exec(struct db *db, const char *sql, const char *op);
int	db_begin(struct db *db);		/* SQLite: BEGIN IMMEDIATE */
int	db_commit(struct db *db);
void	db_rollback(struct db *db);		/* if a transaction is open */
int	db_in_tx(const struct db *db);

int	db_prepare(struct db *db, const char *sql, const char *op,
	    struct db_stmt **out);
void	db_finalize(struct db_stmt *st);

void	db_bind_i64(struct db_stmt *st, int idx, int64_t v);	/* idx from 1 */
void	db_bind_text(struct db_stmt *st, int idx, const char *v); /* NULL: NULL */
void	db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len);
/* DB_ROW, DB_DONE or ASSAY_ERR_DB. */
int	db_step(struct db_stmt *st);
/* Rows the last completed INSERT/UPDATE/DELETE changed. */
int64_t	db_changes(const struct db_stmt *st);
/* Forget the result and the bindings. */
void	db_reset(struct db_stmt *st);
/* Step a statement that returns no rows, then reset it. */
int	db_run(struct db_stmt *st);

int	db_col_null(struct db_stmt *st, int i);		/* i from 0 */
int64_t	db_col_i64(struct db_stmt *st, int i);		/* NULL: 0 */
const char *db_col_text(struct db_stmt *st, int i);	/* NULL: NULL */
const void *db_col_blob(struct db_stmt *st, int i, size_t *len);

/*
 * Schema version: SQLite's user_version, a one-row table on PostgreSQL.
 * db_migrate applies steps[v .. n-1] (each a pair: SQLite text, PostgreSQL
 * text) one transaction each, under a lock that makes verifiers starting at
 * once take turns (BEGIN IMMEDIATE; pg_advisory_xact_lock). A database newer
 * than n steps is refused. *from: the version found (may be NULL).
 */
struct db_migration {
	const char	*sqlite;
	const char	*pg;
};
int	db_migrate(struct db *db, const struct db_migration *steps, int n,
	    int *from);
/* Version only: for "assay-verifier -n" (checks, changes nothing). */
int	db_schema_version(struct db *db, int *v);

/* Bytes the database takes on disk (file + WAL; PostgreSQL: the database). */
uint64_t db_size(struct db *db);

#endif
