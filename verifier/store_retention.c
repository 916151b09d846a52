/*
 * store_retention.c — bounded event history: small pruning steps, run
 * periodically off the hot path, delete events last seen before the age
 * limit and, agent by agent (a cursor over the agent ids in the history,
 * deleted agents included), the oldest beyond the per-agent limit. Rows a
 * queued notification still reports stay. Each DELETE is its own short
 * transaction. Statements are prepared per call (a step runs seldom).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

#define PRUNE_AGENTS_PER_STEP	64

/*
 * Bind t1 (if not NULL) then up to two integers, step once. *row: column 0
 * of the first row (*got 1), *changes: rows changed (either may be NULL).
 */
static int
run(struct store *s, enum stmt_id id, const char *t1, const int64_t *iv,
    int niv, int64_t *row, int *got, int64_t *changes)
{
	struct db_stmt *st = s->st[id];
	int rc, k = 1;

	if (got != NULL)
		*got = 0;
	if (t1 != NULL)
		db_bind_text(st, k++, t1);
	for (int i = 0; i < niv; i++)
		db_bind_i64(st, k++, iv[i]);
	(void)store_batch_commit(s);	/* a write: grouped records first */
	rc = db_step(st);
	if (rc == DB_ROW && row != NULL && !db_col_null(st, 0)) {
		*row = db_col_i64(st, 0);
		if (got != NULL)
			*got = 1;
	}
	if (changes != NULL)
		*changes = rc == DB_DONE ? db_changes(st) : 0;
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? ASSAY_OK : rc;
}

/* The smallest agent id in the history after s->prune_cursor; 0 if none. */
static int
next_agent(struct store *s, char *id, size_t idlen, int *got)
{
	struct db_stmt *st = s->st[ST_PRUNE_NEXT_AGENT];
	const char *t;
	int rc, r = ASSAY_OK;

	*got = 0;
	db_bind_text(st, 1, s->prune_cursor);
	if ((rc = db_step(st)) == DB_ROW) {
		if ((t = db_col_text(st, 0)) != NULL) {
			snprintf(id, idlen, "%s", t);
			*got = 1;
		}
	} else
		r = rc == DB_DONE ? ASSAY_OK : rc;
	db_reset(st);
	return r;
}

int
store_events_prune(struct store *s, int64_t now, int64_t max_age,
    int64_t max_per_agent, size_t batch, size_t *deleted)
{
	char id[AGENT_ID_MAX];
	int64_t iv[2], cut, cnt, ch;
	size_t left = batch;
	int r = ASSAY_OK, got;

	*deleted = 0;
	if (max_age > 0 && left > 0) {
		iv[0] = now - max_age;
		iv[1] = (int64_t)left;
		if ((r = run(s, ST_PRUNE_AGE, NULL, iv, 2, NULL, NULL,
		    &ch)) != ASSAY_OK)
			goto out;
		left -= (size_t)ch;
	}
	for (int i = 0; max_per_agent > 0 && left > 0 &&
	    i < PRUNE_AGENTS_PER_STEP; i++) {
		if ((r = next_agent(s, id, sizeof(id), &got)) != ASSAY_OK)
			goto out;
		if (!got) {
			s->prune_cursor[0] = '\0';	/* wrap: next step starts over */
			break;
		}
		/* The newest row beyond the max_per_agent newest ones. */
		iv[0] = max_per_agent;
		if ((r = run(s, ST_PRUNE_CUT, id, iv, 1, &cut, &got,
		    NULL)) != ASSAY_OK)
			goto out;
		if (got) {
			iv[0] = cut;
			iv[1] = (int64_t)left;
			if ((r = run(s, ST_PRUNE_COUNT, id, iv, 2, NULL, NULL,
			    &ch)) != ASSAY_OK)
				goto out;
			left -= (size_t)ch;
			if (left == 0)
				break;	/* this agent may have more: stay on it */
		}
		snprintf(s->prune_cursor, sizeof(s->prune_cursor), "%s", id);
	}
	if ((r = run(s, ST_EVENTS_COUNT, NULL, NULL, 0, &cnt, &got,
	    NULL)) == ASSAY_OK && got)
		s->events_rows = cnt;
	s->db_bytes = db_size(s->db);
 out:
	*deleted = batch - left;
	s->events_pruned += *deleted;
	return r;
}
