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

#include <sqlite3.h>

#include "common/err.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

#define PRUNE_AGENTS_PER_STEP	64

#define NOT_QUEUED " AND seq NOT IN (SELECT event_seq FROM notifications)"

/* Prepare sql, bind up to three values (text when t[i] != NULL), step. */
static int
run(struct store *s, const char *sql, const char *op, const char *t1,
    const int64_t *iv, int niv, int64_t *row, int *got, int *changes)
{
	sqlite3_stmt *st = NULL;
	int r = ASSAY_OK, rc, k = 1;

	if (got != NULL)
		*got = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_err(s, op);
	if (t1 != NULL && sqlite3_bind_text(st, k++, t1, -1, SQLITE_STATIC) !=
	    SQLITE_OK) {
		r = store_db_err(s, op);
		goto out;
	}
	for (int i = 0; i < niv; i++)
		if (sqlite3_bind_int64(st, k++, iv[i]) != SQLITE_OK) {
			r = store_db_err(s, op);
			goto out;
		}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && row != NULL &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*row = sqlite3_column_int64(st, 0);
		if (got != NULL)
			*got = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_db_err(s, op);
	if (changes != NULL)
		*changes = r == ASSAY_OK ? sqlite3_changes(s->db) : 0;
 out:
	sqlite3_finalize(st);
	return r;
}

/* The smallest agent id in the history after s->prune_cursor; 0 if none. */
static int
next_agent(struct store *s, char *id, size_t idlen, int *got)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int r = ASSAY_OK;

	*got = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT MIN(agent_id) FROM events"
	    " WHERE agent_id > ?", -1, &st, NULL) != SQLITE_OK)
		return store_db_err(s, "prune: next agent");
	if (sqlite3_bind_text(st, 1, s->prune_cursor, -1, SQLITE_STATIC) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		r = store_db_err(s, "prune: next agent");
	else if ((t = sqlite3_column_text(st, 0)) != NULL) {
		snprintf(id, idlen, "%s", (const char *)t);
		*got = 1;
	}
	sqlite3_finalize(st);
	return r;
}

int
store_events_prune(struct store *s, int64_t now, int64_t max_age,
    int64_t max_per_agent, size_t batch, size_t *deleted)
{
	char id[AGENT_ID_MAX];
	int64_t iv[2], cut, cnt;
	size_t left = batch;
	int r = ASSAY_OK, got, ch;

	*deleted = 0;
	if (max_age > 0 && left > 0) {
		iv[0] = now - max_age;
		iv[1] = (int64_t)left;
		if ((r = run(s, "DELETE FROM events WHERE seq IN (SELECT seq"
		    " FROM events WHERE last_time < ?" NOT_QUEUED
		    " ORDER BY last_time LIMIT ?)", "prune by age", NULL, iv, 2,
		    NULL, NULL, &ch)) != ASSAY_OK)
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
		if ((r = run(s, "SELECT seq FROM events WHERE agent_id = ?"
		    " ORDER BY seq DESC LIMIT 1 OFFSET ?", "prune: agent cut",
		    id, iv, 1, &cut, &got, NULL)) != ASSAY_OK)
			goto out;
		if (got) {
			iv[0] = cut;
			iv[1] = (int64_t)left;
			if ((r = run(s, "DELETE FROM events WHERE seq IN (SELECT"
			    " seq FROM events WHERE agent_id = ? AND seq <= ?"
			    NOT_QUEUED " ORDER BY seq LIMIT ?)", "prune by count",
			    id, iv, 2, NULL, NULL, &ch)) != ASSAY_OK)
				goto out;
			left -= (size_t)ch;
			if (left == 0)
				break;	/* this agent may have more: stay on it */
		}
		snprintf(s->prune_cursor, sizeof(s->prune_cursor), "%s", id);
	}
	if ((r = run(s, "SELECT COUNT(*) FROM events", "count events", NULL,
	    NULL, 0, &cnt, &got, NULL)) == ASSAY_OK && got)
		s->events_rows = cnt;
 out:
	*deleted = batch - left;
	s->events_pruned += *deleted;
	return r;
}
