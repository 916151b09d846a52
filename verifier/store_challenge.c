/*
 * store_challenge.c — the rounds push agents were asked for. A challenge
 * is the quote request of one round (nonce, selection, IMA paging, event
 * log) with who it is for (agent id and certificate), what it was asked
 * under (node, epoch, policy revision), the evidence size allowed and a
 * deadline by the database clock. One per agent; taken (deleted) by the
 * evidence that answers it, on whichever verifier that lands.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

void
store_challenge_free(struct store_challenge *c)
{
	if (c == NULL)
		return;
	free(c->agent_id);
	free(c->cert_cn);
	free(c->request);
	free(c->node);
	memset(c, 0, sizeof(*c));
}

int
store_challenge_put(struct store *s, const char *id,
    const struct store_challenge *c, int64_t deadline_ms)
{
	struct db_stmt *st = s->st[ST_CHAL_PUT];
	int r;

	if ((r = store_tx_begin(s, "begin challenge")) != 0)
		return r;
	db_bind_text(s->st[ST_CHAL_CLEAR], 1, c->agent_id);
	if ((r = store_step_done(s, ST_CHAL_CLEAR, NULL)) == ASSAY_OK) {
		db_bind_text(st, 1, id);
		db_bind_text(st, 2, c->agent_id);
		db_bind_text(st, 3, c->cert_cn);
		db_bind_text(st, 4, c->request);
		db_bind_text(st, 5, c->node);
		db_bind_i64(st, 6, c->epoch);
		db_bind_i64(st, 7, c->policy_rev);
		db_bind_i64(st, 8, c->max_bytes);
		db_bind_i64(st, 9, deadline_ms);
		r = store_step_done(s, ST_CHAL_PUT, NULL);
	}
	return store_tx_end(s, r, "commit challenge");
}

int
store_challenge_take(struct store *s, const char *id,
    struct store_challenge *out)
{
	struct db_stmt *st = s->st[ST_CHAL_TAKE];
	int rc;

	memset(out, 0, sizeof(*out));
	(void)store_batch_commit(s);	/* a write: grouped records first */
	db_bind_text(st, 1, id);
	if ((rc = db_step(st)) == DB_ROW) {
		out->agent_id = store_col_text(st, 0);
		out->cert_cn = store_col_text(st, 1);
		out->request = store_col_text(st, 2);
		out->node = store_col_text(st, 3);
		out->epoch = db_col_i64(st, 4);
		out->policy_rev = db_col_i64(st, 5);
		out->max_bytes = db_col_i64(st, 6);
		out->left_ms = db_col_i64(st, 7);
	}
	db_reset(st);
	if (rc == DB_DONE)
		return assay_err_set(ASSAY_ERR_NOT_FOUND, "no such challenge "
		    "(unknown, or already answered)");
	if (rc != DB_ROW)
		return rc;
	if (out->agent_id == NULL || out->cert_cn == NULL ||
	    out->request == NULL) {
		store_challenge_free(out);
		return assay_err_set(ASSAY_ERR_DB, "challenge %s: bad row", id);
	}
	return ASSAY_OK;
}
