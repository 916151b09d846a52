/*
 * db_int.h — what the dispatcher (db_sqlite.c, behind db.h) and the
 * PostgreSQL backend (db_pg.c) share. struct db and struct db_stmt are
 * never defined: each backend's handle starts with a base that names its
 * kind, and the dispatcher reads that base to pick the backend.
 */
#ifndef ASSAY_DB_INT_H
#define ASSAY_DB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "verifier/db.h"

/* First member of every backend's database handle. */
struct db_base {
	enum db_kind	kind;
};

/* First member of every backend's statement handle. */
struct db_stmt_base {
	enum db_kind	kind;
};

/* The PostgreSQL backend: the db.h contract, one function each. */
int	pg_open(const char *uri, struct db **out);
void	pg_close(struct db *db);		/* statements finalized first */
const char *pg_name(const struct db *db);
int	pg_exec(struct db *db, const char *sql, const char *op);
int	pg_begin(struct db *db);
int	pg_commit(struct db *db);
void	pg_rollback(struct db *db);
int	pg_in_tx(const struct db *db);

int	pg_prepare(struct db *db, const char *sql, const char *op,
	    struct db_stmt **out);
void	pg_finalize(struct db_stmt *st);
void	pg_bind_i64(struct db_stmt *st, int idx, int64_t v);
void	pg_bind_text(struct db_stmt *st, int idx, const char *v);
void	pg_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len);
int	pg_step(struct db_stmt *st);
int64_t	pg_changes(const struct db_stmt *st);
void	pg_reset(struct db_stmt *st);

int	pg_col_null(struct db_stmt *st, int i);
int64_t	pg_col_i64(struct db_stmt *st, int i);
const char *pg_col_text(struct db_stmt *st, int i);
const void *pg_col_blob(struct db_stmt *st, int i, size_t *len);

/* steps: the PostgreSQL texts of the migrations, in order. */
int	pg_migrate(struct db *db, const char *const *steps, int n, int *from);
int	pg_schema_version(struct db *db, int *v);
uint64_t pg_size(struct db *db);

/*
 * The SQLSTATE of the last error on db ("" if none, or if the error did
 * not come from the server): "40001"/"40P01" serialization failure or
 * deadlock (worth retrying), "23505" unique violation.
 */
const char *pg_sqlstate(const struct db *db);

#endif
