/*
 * db.c — db.h's entry points: pick the backend by the target's form and
 * hand every call to it (db_sqlite.c or db_pg.c), by the kind each
 * connection and statement carries first.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/db_int.h"
#include "verifier/db_sqlite.h"

#define KIND(db)	(((const struct db_base *)(db))->kind)
#define SKIND(st)	(((const struct db_stmt_base *)(st))->kind)

int
db_is_uri(const char *target)
{
	return target != NULL && (strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0);
}

int
db_open(const char *target, struct db **out)
{
	if (target == NULL || *target == '\0')
		return assay_err_set(ASSAY_ERR_CONFIG, "no database given");
	return db_is_uri(target) ? pg_open(target, out) : sq_open(target, out);
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	if (KIND(db) == DB_PG)
		pg_close(db);
	else
		sq_close(db);
}

enum db_kind
db_kind(const struct db *db)
{
	return KIND(db);
}

const char *
db_name(const struct db *db)
{
	return KIND(db) == DB_PG ? pg_name(db) : sq_name(db);
}

int
db_exec(struct db *db, const char *sql, const char *op)
{
	return KIND(db) == DB_PG ? pg_exec(db, sql, op) : sq_exec(db, sql, op);
}

int
db_begin(struct db *db)
{
	return KIND(db) == DB_PG ? pg_begin(db) :
	    sq_exec(db, "BEGIN IMMEDIATE", "begin");
}

int
db_commit(struct db *db)
{
	return KIND(db) == DB_PG ? pg_commit(db) :
	    sq_exec(db, "COMMIT", "commit");
}

void
db_rollback(struct db *db)
{
	if (KIND(db) == DB_PG)
		pg_rollback(db);
	else
		sq_rollback(db);
}

int
db_in_tx(const struct db *db)
{
	return KIND(db) == DB_PG ? pg_in_tx(db) : sq_in_tx(db);
}

int
db_prepare(struct db *db, const char *sql, const char *op,
    struct db_stmt **out)
{
	return KIND(db) == DB_PG ? pg_prepare(db, sql, op, out) :
	    sq_prepare(db, sql, op, out);
}

void
db_finalize(struct db_stmt *st)
{
	if (st == NULL)
		return;
	if (SKIND(st) == DB_PG)
		pg_finalize(st);
	else
		sq_finalize(st);
}

void
db_bind_i64(struct db_stmt *st, int idx, int64_t v)
{
	if (SKIND(st) == DB_PG)
		pg_bind_i64(st, idx, v);
	else
		sq_bind_i64(st, idx, v);
}

void
db_bind_text(struct db_stmt *st, int idx, const char *v)
{
	if (SKIND(st) == DB_PG)
		pg_bind_text(st, idx, v);
	else
		sq_bind_text(st, idx, v);
}

void
db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
	if (SKIND(st) == DB_PG)
		pg_bind_blob(st, idx, p, len);
	else
		sq_bind_blob(st, idx, p, len);
}

int
db_step(struct db_stmt *st)
{
	return SKIND(st) == DB_PG ? pg_step(st) : sq_step(st);
}

int64_t
db_changes(const struct db_stmt *st)
{
	return SKIND(st) == DB_PG ? pg_changes(st) : sq_changes(st);
}

void
db_reset(struct db_stmt *st)
{
	if (SKIND(st) == DB_PG)
		pg_reset(st);
	else
		sq_reset(st);
}

int
db_run(struct db_stmt *st)
{
	int rc = db_step(st);

	db_reset(st);
	if (rc == DB_DONE || rc == DB_ROW)
		return ASSAY_OK;
	return rc;
}

int
db_col_null(struct db_stmt *st, int i)
{
	return SKIND(st) == DB_PG ? pg_col_null(st, i) : sq_col_null(st, i);
}

int64_t
db_col_i64(struct db_stmt *st, int i)
{
	return SKIND(st) == DB_PG ? pg_col_i64(st, i) : sq_col_i64(st, i);
}

const char *
db_col_text(struct db_stmt *st, int i)
{
	return SKIND(st) == DB_PG ? pg_col_text(st, i) : sq_col_text(st, i);
}

const void *
db_col_blob(struct db_stmt *st, int i, size_t *len)
{
	return SKIND(st) == DB_PG ? pg_col_blob(st, i, len) :
	    sq_col_blob(st, i, len);
}

int
db_migrate(struct db *db, const struct db_migration *steps, int n, int *from)
{
	const char **texts = xcalloc((size_t)n + 1, sizeof(*texts));
	int r;

	for (int i = 0; i < n; i++)
		texts[i] = KIND(db) == DB_PG ? steps[i].pg : steps[i].sqlite;
	r = KIND(db) == DB_PG ? pg_migrate(db, texts, n, from) :
	    sq_migrate(db, texts, n, from);
	free(texts);
	return r;
}

int
db_schema_version(struct db *db, int *v)
{
	return KIND(db) == DB_PG ? pg_schema_version(db, v) :
	    sq_schema_version(db, v);
}

uint64_t
db_size(struct db *db)
{
	return KIND(db) == DB_PG ? pg_size(db) : sq_size(db);
}
