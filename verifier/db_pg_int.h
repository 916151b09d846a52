/*
 * db_pg_int.h — what the two files of the PostgreSQL backend share:
 * db_pg.c (connection, transactions, migrations) and db_pg_stmt.c
 * (statements). Nothing else includes it.
 */
#ifndef ASSAY_DB_PG_INT_H
#define ASSAY_DB_PG_INT_H

#include <stdint.h>

#include <libpq-fe.h>

#include "verifier/db_int.h"

struct pg_db {
	struct db_base	 base;
	PGconn		*conn;
	char		*name;		/* URI without password */
	char		 sqlstate[6];
	unsigned	 gen;		/* bumped by each reconnect */
	unsigned	 next_id;	/* statement names s1, s2, ... */
	int		 in_tx;
	int		 tx_broken;	/* connection lost inside a transaction */
	int		 lost_logged;
	int64_t		 last_reset;	/* monotonic ms of the last PQreset */
};

struct pg_stmt {
	struct db_stmt_base base;
	struct pg_db	*db;
	char		*sql;		/* rewritten */
	char		*op;
	char		 name[16];
	unsigned	 gen;		/* generation it was prepared in */
	int		 nparams;
	char		**vals;
	int		*lens;
	int		*fmts;
	int		 bad_idx;	/* a bind out of range, reported by step */
	PGresult	*res;
	int		 row;		/* current row, -1 before the first */
	int		 done;
	int64_t		 changes;
	char		(*num)[24];	/* integers asked for as text */
};

/* ASSAY_ERR_DB "store NAME: OP: MSG (sqlstate S)"; state may be NULL. */
int	pgdb_err(struct pg_db *db, const char *op, const char *msg,
	    const char *state);
/* The same for a failed PGresult (NULL: no connection, out of memory). */
int	pgdb_res_err(struct pg_db *db, const char *op, const PGresult *res);
/* The connection, reconnected if it broke and that is allowed now. */
int	pgdb_ready(struct pg_db *db, const char *op);
/* in_tx from the server's transaction status. */
void	pgdb_sync_tx(struct pg_db *db);
/*
 * The shared dialect to PostgreSQL's, *out allocated; -1 if a parameter
 * number is out of 1..max_param (max_param 0: no parameters allowed).
 */
int	pgdb_rewrite(const char *sql, int max_param, char **out, int *nparams);

#endif
