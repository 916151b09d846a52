/*
 * store_notify.c — the persistent notification queue in the verifier's
 * SQLite store (table notifications, migration 2 in store.c): one row per
 * state-change event and delivery target, inserted in the agent's own
 * transaction, read back with its event when due, rescheduled on failure
 * and deleted when delivered or given up. Notifications are rare (state
 * changes), so statements are prepared per call. Same thread as store.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

static int
nq_err(struct store *s, const char *op)
{
	sqlite3 *db = store_sqlite(s);

	return assay_err_set(ASSAY_ERR_DB, "store %s: %s: %s (sqlite %d)",
	    store_path(s), op, sqlite3_errmsg(db), sqlite3_extended_errcode(db));
}

static int
nq_prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(store_sqlite(s), sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return nq_err(s, "prepare notification query");
	}
	return ASSAY_OK;
}

static char *
nq_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t == NULL ? NULL : xstrdup((const char *)t);
}

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
	sqlite3_stmt *st = NULL;
	int64_t now = clock_unix();
	int r;

	if ((r = nq_prepare(s, "INSERT INTO notifications (event_seq, target,"
	    " created, next_at, attempts) VALUES (?,?,?,?,0)", &st)) != 0)
		return r;
	for (size_t i = 0; i < ntargets; i++) {
		if (sqlite3_bind_int64(st, 1, event_seq) != SQLITE_OK ||
		    sqlite3_bind_text(st, 2, targets[i], -1, SQLITE_STATIC) !=
		    SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, now) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, now) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE) {
			r = nq_err(s, "insert notification");
			break;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return r;
}

int
store_notify_add(struct store *s, int64_t event_seq, const char *target)
{
	const char *t[1] = { target };

	if (target == NULL || *target == '\0')
		return assay_err_set(ASSAY_ERR_INVAL, "empty notification target");
	/* One statement: SQLite's autocommit makes it atomic. */
	return store_notify_insert_tx(s, event_seq, t, 1);
}

int
store_notify_pending(struct store *s, int64_t now, size_t limit,
    struct store_notification **out, size_t *n)
{
	struct store_notification *v = NULL, *e;
	sqlite3_stmt *st = NULL;
	size_t len = 0, cap = 0;
	int r, rc;

	*out = NULL;
	*n = 0;
	/* A LEFT JOIN: a row whose event is gone still comes (and is dropped). */
	if ((r = nq_prepare(s, "SELECT n.id, n.target, n.created, n.next_at,"
	    " n.attempts, n.event_seq, e.time, e.agent_id, e.type, e.old_state,"
	    " e.new_state, e.failure_id, e.detail FROM notifications n"
	    " LEFT JOIN events e ON e.seq = n.event_seq WHERE n.next_at <= ?"
	    " ORDER BY n.next_at, n.id LIMIT ?", &st)) != 0)
		return r;
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX :
	    (int64_t)limit) != SQLITE_OK) {
		r = nq_err(s, "bind notification query");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		e = &v[len++];
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(st, 0);
		e->target = nq_text(st, 1);
		e->created = sqlite3_column_int64(st, 2);
		e->next_at = sqlite3_column_int64(st, 3);
		e->attempts = sqlite3_column_int(st, 4);
		e->ev.seq = sqlite3_column_int64(st, 5);
		e->ev.time = sqlite3_column_int64(st, 6);
		e->ev.agent_id = nq_text(st, 7);
		e->ev.type = nq_text(st, 8);
		e->ev.old_state = nq_text(st, 9);
		e->ev.new_state = nq_text(st, 10);
		e->ev.failure_id = nq_text(st, 11);
		e->ev.detail = nq_text(st, 12);
		if (e->target == NULL)
			e->target = xstrdup("");
	}
	if (rc != SQLITE_DONE) {
		r = nq_err(s, "read notifications");
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
	len = 0;
 out:
	for (size_t i = 0; i < len; i++)
		store_notification_free(&v[i]);
	free(v);
	sqlite3_finalize(st);
	return r;
}

/* Run one write statement with up to three integer parameters. */
static int
nq_write(struct store *s, const char *sql, const int64_t *p, int np,
    const char *op, int want_row)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = nq_prepare(s, sql, &st)) != 0)
		return r;
	for (int i = 0; i < np; i++)
		if (sqlite3_bind_int64(st, i + 1, p[i]) != SQLITE_OK) {
			r = nq_err(s, op);
			goto out;
		}
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = nq_err(s, op);
		goto out;
	}
	if (want_row && sqlite3_changes(store_sqlite(s)) == 0)
		r = assay_err_set(ASSAY_ERR_NOT_FOUND, "notification %lld not "
		    "found", (long long)p[np - 1]);
 out:
	sqlite3_finalize(st);
	return r;
}

int
store_notify_done(struct store *s, int64_t id)
{
	return nq_write(s, "DELETE FROM notifications WHERE id = ?", &id, 1,
	    "delete notification", 1);
}

int
store_notify_retry(struct store *s, int64_t id, int64_t next_at, int attempts)
{
	int64_t p[3] = { next_at, attempts, id };

	return nq_write(s, "UPDATE notifications SET next_at = ?, attempts = ?"
	    " WHERE id = ?", p, 3, "reschedule notification", 1);
}

int
store_notify_due_all(struct store *s, int64_t now)
{
	int64_t p[2] = { now, now };

	return nq_write(s, "UPDATE notifications SET next_at = ?"
	    " WHERE next_at > ?", p, 2, "reschedule notifications", 0);
}

int
store_notify_count(struct store *s, int64_t *count, int64_t *next_at)
{
	sqlite3_stmt *st = NULL;
	int r;

	*count = 0;
	if (next_at != NULL)
		*next_at = 0;
	if ((r = nq_prepare(s, "SELECT COUNT(*), IFNULL(MIN(next_at), 0)"
	    " FROM notifications", &st)) != 0)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW)
		r = nq_err(s, "count notifications");
	else {
		*count = sqlite3_column_int64(st, 0);
		if (next_at != NULL)
			*next_at = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return r;
}
