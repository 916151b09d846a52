/*
 * store_notify.c — the persistent notification queue in the verifier's
 * store (table notifications, migration 2 in store_schema.c): one row per
 * state-change event and delivery target, inserted in the agent's own
 * transaction, read back with its event when due, rescheduled on failure
 * and deleted when delivered or given up. Same thread as store.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

void
store_notification_free(struct store_notification *n)
{
	if (n == NULL)
		return;
	free(n->target);
	store_event_free(&n->ev);
	memset(n, 0, sizeof(*n));
}

int
store_notify_insert_tx(struct store *s, int64_t event_seq,
    const char *const *targets, size_t ntargets)
{
	struct db_stmt *st = s->st[ST_NOTIFY_ADD];
	int64_t now = clock_unix();
	int r = ASSAY_OK;

	for (size_t i = 0; i < ntargets && r == ASSAY_OK; i++) {
		db_bind_i64(st, 1, event_seq);
		db_bind_text(st, 2, targets[i]);
		db_bind_i64(st, 3, now);
		r = store_step_done(s, ST_NOTIFY_ADD, NULL);
	}
	return r;
}

int
store_notify_add(struct store *s, int64_t event_seq, const char *target)
{
	const char *t[1] = { target };

	if (target == NULL || *target == '\0')
		return assay_err_set(ASSAY_ERR_INVAL, "empty notification target");
	/* One statement: atomic on its own. */
	return store_notify_insert_tx(s, event_seq, t, 1);
}

/* The current row of ST_NOTIFY_PENDING (zeroed memory). */
static int
nq_read(struct store *s, struct db_stmt *st, void *p)
{
	struct store_notification *e = p;

	e->id = db_col_i64(st, 0);
	e->target = store_col_text(st, 1);
	e->created = db_col_i64(st, 2);
	e->next_at = db_col_i64(st, 3);
	e->attempts = (int)db_col_i64(st, 4);
	e->ev.seq = db_col_i64(st, 5);
	e->ev.time = db_col_i64(st, 6);
	e->ev.agent_id = store_col_text(st, 7);
	e->ev.type = store_col_text(st, 8);
	e->ev.old_state = store_col_text(st, 9);
	e->ev.new_state = store_col_text(st, 10);
	e->ev.failure_id = store_col_text(st, 11);
	e->ev.detail = store_col_text(st, 12);
	if (e->target == NULL)
		e->target = xstrdup("");
	return ASSAY_OK;
}

static void nq_free_v(void *p) { store_notification_free(p); }

static const struct row_kind nq_rows =
    { "notification", sizeof(struct store_notification), nq_read, nq_free_v };

int
store_notify_pending(struct store *s, int64_t now, size_t limit,
    struct store_notification **out, size_t *n)
{
	struct db_stmt *st = s->st[ST_NOTIFY_PENDING];
	void *v;
	int r;

	db_bind_i64(st, 1, now);
	db_bind_i64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	db_bind_text(st, 3, s->node);
	db_bind_i64(st, 4, STORE_NOTIFY_LEASE_MS);
	r = store_rows_collect(s, st, &nq_rows, SIZE_MAX, &v, n);
	*out = v;
	return r;
}

/* Run one write statement with up to three integer parameters. */
static int
nq_write(struct store *s, enum stmt_id id, const int64_t *p, int np,
    int want_row)
{
	int64_t changes = 0;
	int r;

	for (int i = 0; i < np; i++)
		db_bind_i64(s->st[id], i + 1, p[i]);
	if ((r = store_step_done(s, id, &changes)) != ASSAY_OK)
		return r;
	if (want_row && changes == 0)
		return assay_err_set(ASSAY_ERR_NOT_FOUND, "notification %lld "
		    "not found", (long long)p[np - 1]);
	return ASSAY_OK;
}

int
store_notify_done(struct store *s, int64_t id)
{
	return nq_write(s, ST_NOTIFY_DONE, &id, 1, 1);
}

int
store_notify_retry(struct store *s, int64_t id, int64_t next_at, int attempts)
{
	int64_t p[3] = { next_at, attempts, id };

	return nq_write(s, ST_NOTIFY_RETRY, p, 3, 1);
}

int
store_notify_due_all(struct store *s, int64_t now)
{
	return nq_write(s, ST_NOTIFY_DUE_ALL, &now, 1, 0);
}

int
store_notify_count(struct store *s, int64_t *count, int64_t *next_at)
{
	struct db_stmt *st = s->st[ST_NOTIFY_COUNT];
	int r = ASSAY_OK, rc;

	*count = 0;
	if (next_at != NULL)
		*next_at = 0;
	if ((rc = db_step(st)) == DB_ROW) {
		*count = db_col_i64(st, 0);
		if (next_at != NULL)
			*next_at = db_col_i64(st, 1);
	} else
		r = rc == DB_DONE ? assay_err_set(ASSAY_ERR_DB, "store %s: "
		    "count notifications: no row", s->path) : rc;
	db_reset(st);
	return r;
}
