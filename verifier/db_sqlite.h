/*
 * db_sqlite.h — the SQLite backend's entry points, for db.c only (the
 * PostgreSQL ones are in db_int.h with the base structs both share).
 */
#ifndef ASSAY_DB_SQLITE_H
#define ASSAY_DB_SQLITE_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_stmt;

/* sql with every token replaced by with; caller frees. */
char	*db_sql_subst(const char *sql, const char *token, const char *with);

int	 sq_open(const char *path, struct db **out);
void	 sq_close(struct db *db);
const char *sq_name(const struct db *db);
int	 sq_exec(struct db *db, const char *sql, const char *op);
int	 sq_in_tx(const struct db *db);
void	 sq_rollback(struct db *db);
int	 sq_prepare(struct db *db, const char *sql, const char *op,
	    struct db_stmt **out);
void	 sq_finalize(struct db_stmt *st);
void	 sq_bind_i64(struct db_stmt *st, int idx, int64_t v);
void	 sq_bind_text(struct db_stmt *st, int idx, const char *v);
void	 sq_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len);
int	 sq_step(struct db_stmt *st);
int64_t	 sq_changes(const struct db_stmt *st);
void	 sq_reset(struct db_stmt *st);
int	 sq_col_null(struct db_stmt *st, int i);
int64_t	 sq_col_i64(struct db_stmt *st, int i);
const char *sq_col_text(struct db_stmt *st, int i);
const void *sq_col_blob(struct db_stmt *st, int i, size_t *len);
int	 sq_migrate(struct db *db, const char *const *steps, int n, int *from);
int	 sq_schema_version(struct db *db, int *v);
uint64_t sq_size(struct db *db);

#endif
