/*
 * store_event.c — the event history in the verifier's store: read one
 * events row, store_event_add (an event on its own, in its own
 * transaction) and store_events_list (newest first, all or one agent's).
 * Events written with an agent change go through store_event_insert in
 * store.c, inside that change's transaction (which folds a repeated
 * notice into its earlier row). Retention: store_retention.c.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

static int
event_read(struct store *s, struct db_stmt *st, void *p)
{
	struct store_event *e = p;

	e->seq = db_col_i64(st, 0);
	e->time = db_col_i64(st, 1);
	e->agent_id = store_col_text(st, 2);
	e->type = store_col_text(st, 3);
	e->old_state = store_col_text(st, 4);
	e->new_state = store_col_text(st, 5);
	e->failure_id = store_col_text(st, 6);
	e->detail = store_col_text(st, 7);
	e->count = db_col_i64(st, 8);
	e->last_time = db_col_i64(st, 9);
	return ASSAY_OK;
}

static void event_free_v(void *p) { store_event_free(p); }

static const struct row_kind event_rows =
    { "event", sizeof(struct store_event), event_read, event_free_v };

/* ---- events ---------------------------------------------------------- */

int
store_event_add(struct store *s, const struct store_event *ev)
{
	int r;

	if (ev == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "no event");
	if ((r = store_check_event(ev)) != 0)
		return r;
	if ((r = store_tx_begin(s, "begin event add")) != 0)
		return r;
	r = store_event_insert(s, ev, NULL);
	return store_tx_end(s, r, "commit event add");
}

int
store_events_list(struct store *s, const char *agent_id, int limit,
    struct store_event **out, size_t *n)
{
	struct db_stmt *st = s->st[ST_EVENTS_ALL];
	void *v;
	int r;

	*out = NULL;
	*n = 0;
	if (agent_id != NULL) {
		if ((r = store_check_id(agent_id)) != 0)
			return r;
		st = s->st[ST_EVENTS_AGENT];
		db_bind_text(st, 1, agent_id);
	}
	/* No limit is the largest one: PostgreSQL refuses LIMIT -1. */
	db_bind_i64(st, agent_id != NULL ? 2 : 1, limit > 0 ? limit : INT64_MAX);
	r = store_rows_collect(s, st, &event_rows, SIZE_MAX, &v, n);
	*out = v;
	return r;
}
