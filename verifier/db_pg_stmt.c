/*
 * db_pg_stmt.c — statements of the PostgreSQL backend: the shared SQL
 * dialect rewritten into PostgreSQL's ("?", "?N" to "$N"; "@NOWMS" to the
 * server clock), named prepared statements (prepared again after a
 * reconnect), bindings and the decoding of result columns.
 *
 * Parameters go as text (integers in decimal) or binary (blobs), with no
 * types: the server infers them. Results come back binary and are decoded
 * by column type: int2/int4/int8/bool for db_col_i64 (text too, parsed),
 * text/varchar/name/bpchar for db_col_text (integers too, formatted),
 * bytea for db_col_blob (any column: its raw bytes). Other types (numeric,
 * float, timestamp) are not decoded: db_col_i64 returns 0 and db_col_text
 * their binary form, so the SQL casts them (to BIGINT, to TEXT).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/db_int.h"
#include "verifier/db_pg_int.h"

#define PG_MAX_PARAMS	65535		/* the protocol's limit */
#define PG_NOWMS	"(CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT))"

/* Result column types (pg_type OIDs) we decode. */
enum {
	OID_BOOL = 16, OID_BYTEA = 17, OID_NAME = 19, OID_INT8 = 20,
	OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25, OID_BPCHAR = 1042,
	OID_VARCHAR = 1043
};

/*
 * The shared dialect to PostgreSQL's: "?N" to "$N", a bare "?" to one more
 * than the highest number so far (as SQLite numbers it), "@NOWMS" to the
 * server clock. Quoted literals and identifiers and "--" comments are left
 * alone. With max_param 0 (db_exec) placeholders are refused.
 */
int
pgdb_rewrite(const char *sql, int max_param, char **out, int *nparams)
{
	struct buf b;
	const char *p = sql, *e;
	char num[16], *end, q = 0;
	size_t len;
	long n;
	int hi = 0;

	buf_init(&b);
	while (*p != '\0') {
		if (q != 0 || *p == '\'' || *p == '"') {
			q = q == 0 ? *p : (*p == q ? 0 : q);
			buf_put(&b, p++, 1);
		} else if (p[0] == '-' && p[1] == '-') {
			e = p + strcspn(p, "\n");
			buf_put(&b, p, e - p);
			p = e;
		} else if (*p == '?') {
			n = hi + 1;
			if (isdigit((unsigned char)*++p)) {
				n = strtol(p, &end, 10);
				p = end;
			}
			if (n < 1 || n > max_param) {
				buf_free(&b);
				return -1;
			}
			hi = n > hi ? n : hi;
			buf_put(&b, num, snprintf(num, sizeof(num), "$%ld", n));
		} else if (strncmp(p, "@NOWMS", 6) == 0 &&
		    !isalnum((unsigned char)p[6]) && p[6] != '_') {
			buf_put(&b, PG_NOWMS, strlen(PG_NOWMS));
			p += 6;
		} else
			buf_put(&b, p++, 1);
	}
	buf_put(&b, "", 1);
	*nparams = hi;
	*out = (char *)buf_steal(&b, &len);
	return 0;
}

/* PQprepare of the statement on the current session. */
static int
stmt_prepare(struct pg_stmt *st)
{
	PGresult *res;
	int r = 0;

	res = PQprepare(st->db->conn, st->name, st->sql, st->nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = pgdb_res_err(st->db, st->op, res);
	else
		st->gen = st->db->gen;
	PQclear(res);
	return r;
}

int
pg_prepare(struct db *dbp, const char *sql, const char *op,
    struct db_stmt **out)
{
	struct pg_db *db = (struct pg_db *)dbp;
	struct pg_stmt *st;
	int r;

	*out = NULL;
	st = xcalloc(1, sizeof(*st));
	st->base.kind = DB_PG;
	st->db = db;
	st->op = xstrdup(op);
	st->row = -1;
	if (pgdb_rewrite(sql, PG_MAX_PARAMS, &st->sql, &st->nparams) != 0) {
		r = pgdb_err(db, op, "bad parameter number (1 to 65535)", NULL);
		goto out;
	}
	snprintf(st->name, sizeof(st->name), "s%u", ++db->next_id);
	st->vals = xcalloc(st->nparams + 1, sizeof(*st->vals));
	st->lens = xcalloc(st->nparams + 1, sizeof(*st->lens));
	st->fmts = xcalloc(st->nparams + 1, sizeof(*st->fmts));
	if ((r = pgdb_ready(db, op)) != 0 || (r = stmt_prepare(st)) != 0)
		goto out;
	*out = (struct db_stmt *)st;
	st = NULL;
 out:
	pg_finalize((struct db_stmt *)st);
	return r;
}

static void
clear_binds(struct pg_stmt *st)
{
	int i;

	for (i = 0; i < st->nparams; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
		st->lens[i] = st->fmts[i] = 0;
	}
	st->bad_idx = 0;
}

static void
clear_result(struct pg_stmt *st)
{
	PQclear(st->res);
	st->res = NULL;
	free(st->num);
	st->num = NULL;
	st->row = -1;
	st->done = 0;
}

void
pg_finalize(struct db_stmt *stp)
{
	struct pg_stmt *st = (struct pg_stmt *)stp;
	PGTransactionStatusType ts;
	PGresult *res;
	char sql[32];

	if (st == NULL)
		return;
	clear_result(st);
	ts = PQtransactionStatus(st->db->conn);
	if (st->gen == st->db->gen && st->gen != 0 &&
	    (ts == PQTRANS_IDLE || ts == PQTRANS_INTRANS)) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
		res = PQexec(st->db->conn, sql);
		PQclear(res);
	}
	clear_binds(st);
	free(st->vals);
	free(st->lens);
	free(st->fmts);
	free(st->sql);
	free(st->op);
	free(st);
}

/* The slot for parameter idx, emptied; NULL (noted for step) if out of range. */
static char **
bind_slot(struct pg_stmt *st, int idx)
{
	if (idx < 1 || idx > st->nparams) {
		if (st->bad_idx == 0)
			st->bad_idx = idx == 0 ? -1 : idx;
		return NULL;
	}
	if (st->res != NULL)
		clear_result(st);
	free(st->vals[idx - 1]);
	st->vals[idx - 1] = NULL;
	st->lens[idx - 1] = st->fmts[idx - 1] = 0;
	return &st->vals[idx - 1];
}

void
pg_bind_i64(struct db_stmt *stp, int idx, int64_t v)
{
	char **slot;

	if ((slot = bind_slot((struct pg_stmt *)stp, idx)) != NULL)
		*slot = xasprintf("%" PRId64, v);
}

void
pg_bind_text(struct db_stmt *stp, int idx, const char *v)
{
	char **slot;

	if ((slot = bind_slot((struct pg_stmt *)stp, idx)) != NULL)
		*slot = xstrdup_or_null(v);
}

void
pg_bind_blob(struct db_stmt *stp, int idx, const void *p, size_t len)
{
	struct pg_stmt *st = (struct pg_stmt *)stp;
	char **slot;

	if ((slot = bind_slot(st, idx)) == NULL)
		return;
	if (len > INT32_MAX) {
		st->bad_idx = idx;
		return;
	}
	*slot = xmalloc(len + 1);	/* non-NULL even when empty */
	if (len > 0)
		memcpy(*slot, p, len);
	st->lens[idx - 1] = (int)len;
	st->fmts[idx - 1] = 1;
}

/* Rows changed, from the command tag of INSERT/UPDATE/DELETE/MERGE. */
static int64_t
tag_changes(const PGresult *res)
{
	const char *tag = PQcmdStatus((PGresult *)res);

	if (strncmp(tag, "INSERT", 6) != 0 && strncmp(tag, "UPDATE", 6) != 0 &&
	    strncmp(tag, "DELETE", 6) != 0 && strncmp(tag, "MERGE", 5) != 0)
		return 0;
	return strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
}

static int
stmt_exec(struct pg_stmt *st)
{
	struct pg_db *db = st->db;
	ExecStatusType s;
	int r;

	if (st->bad_idx != 0)
		return pgdb_err(db, st->op, "bound a parameter out of range",
		    NULL);
	if ((r = pgdb_ready(db, st->op)) != 0)
		return r;
	if (st->gen != db->gen && (r = stmt_prepare(st)) != 0)
		return r;
	st->res = PQexecPrepared(db->conn, st->name, st->nparams,
	    (const char *const *)st->vals, st->lens, st->fmts, 1);
	s = PQresultStatus(st->res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		r = pgdb_res_err(db, st->op, st->res);
		clear_result(st);
		return r;
	}
	pgdb_sync_tx(db);
	st->changes = tag_changes(st->res);
	return 0;
}

int
pg_step(struct db_stmt *stp)
{
	struct pg_stmt *st = (struct pg_stmt *)stp;
	int r;

	if (st->done)		/* as SQLite: stepping on runs it again */
		clear_result(st);
	if (st->res == NULL && (r = stmt_exec(st)) != 0)
		return r;
	free(st->num);
	st->num = NULL;
	if (st->row + 1 < PQntuples(st->res)) {
		st->row++;
		return DB_ROW;
	}
	st->done = 1;
	return DB_DONE;
}

int64_t
pg_changes(const struct db_stmt *stp)
{
	return ((const struct pg_stmt *)stp)->changes;
}

void
pg_reset(struct db_stmt *stp)
{
	struct pg_stmt *st = (struct pg_stmt *)stp;

	clear_result(st);
	clear_binds(st);
}

/* Column i of the current row holds a value (not NULL, in range). */
static int
has_value(struct pg_stmt *st, int i)
{
	return st->res != NULL && !st->done && st->row >= 0 &&
	    st->row < PQntuples(st->res) && i >= 0 && i < PQnfields(st->res) &&
	    !PQgetisnull(st->res, st->row, i);
}

int
pg_col_null(struct db_stmt *stp, int i)
{
	return !has_value((struct pg_stmt *)stp, i);
}

/* A binary integer column; 0 and *ok 0 if the column is not one. */
static int64_t
int_value(struct pg_stmt *st, int i, int *ok)
{
	struct cur c;
	uint64_t u64;
	uint32_t u32;
	uint16_t u16;
	uint8_t u8;
	Oid t = PQftype(st->res, i);

	*ok = 1;
	cur_init(&c, PQgetvalue(st->res, st->row, i),
	    PQgetlength(st->res, st->row, i));
	if (t == OID_INT8 && cur_u64be(&c, &u64) == 0)
		return (int64_t)u64;
	if (t == OID_INT4 && cur_u32be(&c, &u32) == 0)
		return (int32_t)u32;
	if (t == OID_INT2 && cur_u16be(&c, &u16) == 0)
		return (int16_t)u16;
	if (t == OID_BOOL && cur_u8(&c, &u8) == 0)
		return u8 != 0;
	*ok = 0;
	return 0;
}

int64_t
pg_col_i64(struct db_stmt *stp, int i)
{
	struct pg_stmt *st = (struct pg_stmt *)stp;
	Oid t;
	int ok;
	int64_t v;

	if (!has_value(st, i))
		return 0;
	v = int_value(st, i, &ok);
	if (ok)
		return v;
	t = PQftype(st->res, i);
	if (t == OID_TEXT || t == OID_VARCHAR || t == OID_BPCHAR)
		return strtoll(PQgetvalue(st->res, st->row, i), NULL, 10);
	return 0;	/* numeric, float, ...: not decoded */
}

const char *
pg_col_text(struct db_stmt *stp, int i)
{
	struct pg_stmt *st = (struct pg_stmt *)stp;
	int ok;
	int64_t v;

	if (!has_value(st, i))
		return NULL;
	v = int_value(st, i, &ok);
	if (!ok)	/* text types; anything else: its raw bytes */
		return PQgetvalue(st->res, st->row, i);
	if (st->num == NULL)
		st->num = xcalloc(PQnfields(st->res), sizeof(*st->num));
	snprintf(st->num[i], sizeof(st->num[i]), "%" PRId64, v);
	return st->num[i];
}

const void *
pg_col_blob(struct db_stmt *stp, int i, size_t *len)
{
	struct pg_stmt *st = (struct pg_stmt *)stp;

	*len = 0;
	if (!has_value(st, i))
		return NULL;
	*len = (size_t)PQgetlength(st->res, st->row, i);
	return PQgetvalue(st->res, st->row, i);
}

