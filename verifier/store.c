/*
 * store.c — the verifier's persistent state, on either backend of db.h
 * (a SQLite file, or PostgreSQL for many verifiers): open/close and
 * migration, one prepared statement per operation (prepared at open, reset
 * on every path), the transaction wrappers and the shared row helpers
 * (read, collect, get one, delete one, event insert). Every write runs in
 * its own transaction, so an agent row and its event land together or not
 * at all. Schema and SQL text: store_schema.c.
 *
 * The operations live beside it: store_agent.c (agents), store_event.c
 * (event history), store_policy.c (policies), store_notify.c (the
 * notification queue, whose rows are inserted inside the agent's own
 * transaction by store_agent_put_notify), store_wq.c (the write-behind
 * queue for changes the database did not take), store_retention.c (event
 * pruning); store_rec.c frees and copies the records they hand out.
 * Internals shared between them: store_int.h.
 *
 * Threading: a store is used from one thread only (the verifier's event
 * loop); the error detail is per thread.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_audit.h"
#include "verifier/store_int.h"

/* ---- helpers --------------------------------------------------------- */

/* Run a statement that returns no rows; always resets it. */
int
store_step_done(struct store *s, enum stmt_id id, int64_t *changes)
{
	struct db_stmt *st = s->st[id];
	int rc;

	/* Grouped records land first; if they cannot, neither does this. */
	if (!s->batch_writing && (rc = store_batch_commit(s)) != ASSAY_OK)
		return rc;
	rc = db_step(st);

	if (changes != NULL)
		*changes = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	return rc == DB_DONE || rc == DB_ROW ? ASSAY_OK : rc;
}

char *
store_col_text(struct db_stmt *st, int i)
{
	const char *t = db_col_text(st, i);

	return t == NULL ? NULL : xstrdup(t);
}

void
store_col_blob(struct db_stmt *st, int i, uint8_t **p, size_t *len)
{
	const void *b = db_col_blob(st, i, len);

	*p = NULL;
	if (b == NULL) {
		*len = 0;
		return;
	}
	*p = xmemdup(*len > 0 ? b : "", *len);	/* empty stays non-NULL */
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

	/* Grouped records land first; if they cannot, neither does this. */
	if ((r = store_batch_commit(s)) != ASSAY_OK)
		return r;
	if ((r = db_begin(s->db)) != ASSAY_OK)
		store_note_write(s, r);
	return r;
}

/* Commit r == ASSAY_OK work, roll back otherwise; returns the outcome. */
int
store_tx_end(struct store *s, int r, const char *op)
{
	if (r == ASSAY_OK && (r = db_commit(s->db)) == ASSAY_OK)
		return store_note_write(s, ASSAY_OK);
	db_rollback(s->db);
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
	struct db_stmt *st = s->st[ST_NOTICE_LAST];
	int64_t seq = 0;
	int rc, same = 0, r;

	*folded = 0;
	if (id == NULL || strcmp(ev->type, "notice") != 0)
		return ASSAY_OK;
	db_bind_text(st, 1, id);
	db_bind_text(st, 2, ev->failure_id);
	db_bind_text(st, 3, ev->detail);
	if ((rc = db_step(st)) == DB_ROW) {
		seq = db_col_i64(st, 0);
		same = db_col_i64(st, 1) != 0;
	}
	r = rc == DB_ROW || rc == DB_DONE ? ASSAY_OK : rc;
	db_reset(st);
	if (r != ASSAY_OK || !same)
		return r;
	st = s->st[ST_NOTICE_FOLD];
	db_bind_i64(st, 1, t);
	db_bind_i64(st, 2, seq);
	if ((r = store_step_done(s, ST_NOTICE_FOLD, NULL)) != ASSAY_OK)
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
	struct db_stmt *st = s->st[ST_EVENT_ADD];
	const char *id = ev->agent_id != NULL ? ev->agent_id : agent_id;
	int64_t t = ev->time != 0 ? ev->time : clock_unix();
	int r, folded, rc;

	if ((r = notice_fold(s, ev, id, t, &folded)) != ASSAY_OK || folded)
		return r;
	db_bind_i64(st, 1, t);
	db_bind_text(st, 2, id);
	db_bind_text(st, 3, ev->type);
	db_bind_text(st, 4, ev->old_state);
	db_bind_text(st, 5, ev->new_state);
	db_bind_text(st, 6, ev->failure_id);
	db_bind_text(st, 7, ev->detail);
	if ((rc = db_step(st)) == DB_ROW) {
		s->last_seq = db_col_i64(st, 0);	/* RETURNING seq */
		r = ASSAY_OK;
	} else
		r = rc == DB_DONE ? assay_err_set(ASSAY_ERR_DB, "store %s: "
		    "insert event: no sequence number", s->path) : rc;
	db_reset(st);
	return r;
}

/* ---- rows: one reader for gets and lists ---------------------------- */

/* Step a bound statement for up to max rows into a new array; resets st. */
int
store_rows_collect(struct store *s, struct db_stmt *st,
    const struct row_kind *k, size_t max, void **out, size_t *n)
{
	uint8_t *v = NULL;
	size_t len = 0, cap = 0;
	int r = ASSAY_OK, rc = DB_DONE;

	*out = NULL;
	*n = 0;
	while (len < max && (rc = db_step(st)) == DB_ROW) {
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
	if (r == ASSAY_OK && rc != DB_ROW && rc != DB_DONE)
		r = rc;
	db_reset(st);
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
	void *v;
	size_t n;
	int r;

	memset(out, 0, k->size);
	db_bind_text(s->st[id], 1, key);
	if ((r = store_rows_collect(s, s->st[id], k, 1, &v, &n)) != ASSAY_OK)
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
	int64_t changes = 0;
	int r;

	if ((r = store_tx_begin(s, "begin delete")) != 0)
		return r;
	/* An agent goes only by its lease holder, and its lease with it. */
	if (id == ST_AGENT_DEL && (r = store_lease_check_tx(s, key)) != 0)
		return store_tx_end(s, r, "delete");
	db_bind_text(s->st[id], 1, key);
	r = store_step_done(s, id, &changes);
	if (r == ASSAY_OK && changes == 0)
		r = assay_err_set(ASSAY_ERR_NOT_FOUND, "%s %s not found", what,
		    key);
	if (r == ASSAY_OK && id == ST_AGENT_DEL)
		r = store_lease_drop_tx(s, key);
	if (r == ASSAY_OK && ev != NULL)
		r = store_event_insert(s, ev, key);
	if (r == ASSAY_OK && id == ST_AGENT_DEL && s->tx_audit != NULL)
		r = store_audit_insert_tx(s, s->tx_audit);
	return store_tx_end(s, r, "commit delete");
}

/* ---- open / close ----------------------------------------------------- */

int
store_open(const char *target, struct store **out)
{
	struct store *s;
	const char *sql;
	int r, from;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->events_rows = -1;
	if ((r = db_open(target, &s->db)) != 0)
		goto out;
	s->path = xstrdup(db_name(s->db));
	if ((r = db_migrate(s->db, store_migrations, store_schema_version_n,
	    &from)) != 0)
		goto out;
	if (from == 0)
		log_debug("store %s: schema created", s->path);
	for (int i = 0; i < ST_MAX; i++) {
		sql = db_kind(s->db) == DB_PG && store_stmts[i].pg != NULL ?
		    store_stmts[i].pg : store_stmts[i].sql;
		if ((r = db_prepare(s->db, sql, "prepare", &s->st[i])) != 0)
			goto out;
	}
	*out = s;
	s = NULL;
 out:
	store_close(s);
	return r;
}

int
store_check_schema(const char *target, int *version, int *want)
{
	struct db *db = NULL;
	int r;

	*want = store_schema_version_n;
	*version = 0;
	if ((r = db_open(target, &db)) != 0)
		return r;
	if ((r = db_schema_version(db, version)) == ASSAY_OK &&
	    *version != store_schema_version_n)
		r = assay_err_set(ASSAY_ERR_DB, "store %s: schema version %d,"
		    " this verifier needs %d%s", db_name(db), *version,
		    store_schema_version_n, *version < store_schema_version_n ?
		    " (it migrates at start)" : " (the database is newer)");
	db_close(db);
	return r;
}

enum db_kind
store_kind(const struct store *s)
{
	return db_kind(s->db);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	(void)store_batch_commit(s);
	if (s->wq_len > 0)
		log_err("store %s: %zu changes could not be written and are lost",
		    s->path != NULL ? s->path : "?", s->wq_len);
	store_wq_free(s);
	free(s->fail_msg);
	free(s->node);
	for (int i = 0; i < ST_MAX; i++)
		db_finalize(s->st[i]);	/* NULL is a no-op */
	db_close(s->db);
	free(s->path);
	free(s);
}
