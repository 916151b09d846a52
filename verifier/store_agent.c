/*
 * store_agent.c — agent rows in the verifier's store: bind an agent_rec to
 * the agents columns and read one back, and the store_agent_* operations
 * (put with its event, notifications and audit record in one transaction,
 * get, delete, list). Statements, transactions and row helpers come from store.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "verifier/store.h"
#include "verifier/store_audit.h"
#include "verifier/store_int.h"

static int
agent_bind(struct store *s, const struct agent_rec *a)
{
	struct db_stmt *b = s->st[ST_AGENT_PUT];

	db_bind_text(b, AC_ID + 1, a->id);
	bind_blob_or_null(b, AC_EK_PUB + 1, a->ek_pub, a->ek_pub_len);
	bind_blob_or_null(b, AC_EK_CERT + 1, a->ek_cert, a->ek_cert_len);
	bind_blob_or_null(b, AC_AK_PUB + 1, a->ak_pub, a->ak_pub_len);
	db_bind_text(b, AC_CERT_CN + 1, a->cert_cn);
	db_bind_i64(b, AC_ACTIVATED + 1, a->activated);
	db_bind_i64(b, AC_ADMITTED + 1, a->admitted);
	db_bind_text(b, AC_STATE + 1, agent_state_name(a->state));
	db_bind_text(b, AC_ADDRESS + 1, a->address);
	db_bind_text(b, AC_POLICY + 1, a->policy);
	db_bind_i64(b, AC_INTERVAL + 1, a->interval);
	db_bind_text(b, AC_REASON + 1, a->reason);
	db_bind_text(b, AC_REASON_DETAIL + 1, a->reason_detail);
	db_bind_i64(b, AC_REGISTERED_AT + 1, a->registered_at);
	db_bind_i64(b, AC_LAST_ATTESTED + 1, a->last_attested);
	db_bind_i64(b, AC_LAST_EVENT_AT + 1, a->last_event_at);
	db_bind_i64(b, AC_CLOCK_VALID + 1, a->clock.valid);
	db_bind_i64(b, AC_CLOCK + 1, u64_to_i64(a->clock.clock));
	db_bind_i64(b, AC_RESET_COUNT + 1, a->clock.reset_count);
	db_bind_i64(b, AC_RESTART_COUNT + 1, a->clock.restart_count);
	db_bind_i64(b, AC_FIRMWARE_VERSION + 1, u64_to_i64(a->clock.firmware_version));
	db_bind_i64(b, AC_ATTEST_OK + 1, u64_to_i64(a->attest_ok));
	db_bind_i64(b, AC_ATTEST_FAIL + 1, u64_to_i64(a->attest_fail));
	db_bind_i64(b, AC_POLL_ERRORS + 1, u64_to_i64(a->poll_errors));
	db_bind_text(b, AC_VERIFY_STATE + 1, a->verify_state);
	db_bind_text(b, AC_MODE + 1, a->push ? "push" : "pull");
	bind_blob_or_null(b, AC_IDENTITY_KEY + 1, a->id_pub, a->id_pub_len);
	db_bind_i64(b, AC_POLICY_VERSION + 1, a->policy_version);
	return ASSAY_OK;	/* a binding error comes back from the step */
}

/* Current row of st into a (zeroed by the caller). */
static int
agent_read(struct store *s, struct db_stmt *st, void *p)
{
	struct agent_rec *a = p;
	const char *t;
	int r;

	t = db_col_text(st, AC_ID);
	if (t == NULL || store_check_id(t) != ASSAY_OK)
		return assay_err_set(ASSAY_ERR_DB, "store %s: agent row with a "
		    "bad id", s->path);
	memcpy(a->id, t, strlen(t) + 1);
	t = db_col_text(st, AC_STATE);
	if ((r = agent_state_parse(t, &a->state)) != ASSAY_OK)
		return assay_err_set(ASSAY_ERR_DB, "store %s: agent %s: unknown "
		    "state in the database", s->path, a->id);
	store_col_blob(st, AC_EK_PUB, &a->ek_pub, &a->ek_pub_len);
	store_col_blob(st, AC_EK_CERT, &a->ek_cert, &a->ek_cert_len);
	store_col_blob(st, AC_AK_PUB, &a->ak_pub, &a->ak_pub_len);
	a->cert_cn = store_col_text(st, AC_CERT_CN);
	a->activated = (int)db_col_i64(st, AC_ACTIVATED);
	a->admitted = (int)db_col_i64(st, AC_ADMITTED);
	a->address = store_col_text(st, AC_ADDRESS);
	a->policy = store_col_text(st, AC_POLICY);
	a->interval = (int)db_col_i64(st, AC_INTERVAL);
	a->reason = store_col_text(st, AC_REASON);
	a->reason_detail = store_col_text(st, AC_REASON_DETAIL);
	a->registered_at = db_col_i64(st, AC_REGISTERED_AT);
	a->last_attested = db_col_i64(st, AC_LAST_ATTESTED);
	a->last_event_at = db_col_i64(st, AC_LAST_EVENT_AT);
	a->clock.valid = (int)db_col_i64(st, AC_CLOCK_VALID);
	a->clock.clock = i64_to_u64(db_col_i64(st, AC_CLOCK));
	a->clock.reset_count = (uint32_t)db_col_i64(st, AC_RESET_COUNT);
	a->clock.restart_count =
	    (uint32_t)db_col_i64(st, AC_RESTART_COUNT);
	a->clock.firmware_version =
	    i64_to_u64(db_col_i64(st, AC_FIRMWARE_VERSION));
	a->attest_ok = i64_to_u64(db_col_i64(st, AC_ATTEST_OK));
	a->attest_fail = i64_to_u64(db_col_i64(st, AC_ATTEST_FAIL));
	a->poll_errors = i64_to_u64(db_col_i64(st, AC_POLL_ERRORS));
	a->verify_state = store_col_text(st, AC_VERIFY_STATE);
	t = db_col_text(st, AC_MODE);
	a->push = t != NULL && strcmp(t, "push") == 0;
	store_col_blob(st, AC_IDENTITY_KEY, &a->id_pub, &a->id_pub_len);
	a->policy_version = db_col_i64(st, AC_POLICY_VERSION);
	return ASSAY_OK;
}

static void agent_free_v(void *p) { agent_rec_free(p); }

static const struct row_kind agent_rows =
    { "agent", sizeof(struct agent_rec), agent_read, agent_free_v };

/* ---- agents ---------------------------------------------------------- */

int
store_agent_put(struct store *s, const struct agent_rec *a,
    const struct store_event *ev)
{
	return store_agent_put_notify(s, a, ev, NULL, 0);
}

int
store_agent_put_notify(struct store *s, const struct agent_rec *a,
    const struct store_event *ev, const char *const *targets, size_t ntargets)
{
	return store_agent_put_audit(s, a, ev, targets, ntargets, NULL);
}

int
store_agent_put_audit(struct store *s, const struct agent_rec *a,
    const struct store_event *ev, const char *const *targets, size_t ntargets,
    const struct store_audit *au)
{
	int r;

	if ((r = store_check_id(a->id)) != 0 ||
	    (r = store_check_event(ev)) != 0)
		return r;
	if (ntargets > 0 && ev == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "notification without an "
		    "event");
	for (size_t i = 0; i < ntargets; i++)
		if (targets[i] == NULL || *targets[i] == '\0')
			return assay_err_set(ASSAY_ERR_INVAL, "empty notification "
			    "target");
	if (agent_state_name(a->state) == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "agent %s: bad state %d",
		    a->id, a->state);
	if ((r = store_tx_begin(s, "begin agent put")) != 0)
		return r;
	if ((r = store_lease_check_tx(s, a->id)) == ASSAY_OK &&
	    (r = agent_bind(s, a)) == ASSAY_OK)
		r = store_step_done(s, ST_AGENT_PUT, NULL);
	if (r == ASSAY_OK && ev != NULL)
		r = store_event_insert(s, ev, a->id);
	if (r == ASSAY_OK && ntargets > 0)
		r = store_notify_insert_tx(s, s->last_seq, targets, ntargets);
	if (r == ASSAY_OK && au != NULL)
		r = store_audit_insert_tx(s, au);
	return store_tx_end(s, r, "commit agent put");
}

/* ---- grouped round writes (SQLite) ------------------------------------ */

size_t
store_batch_pending(const struct store *s)
{
	return s->batch_n;
}



/* The group's copies: to the write-behind queue (lost != 0), then freed. */
static void
batch_release(struct store *s, size_t n, int lost)
{
	for (size_t i = 0; i < n; i++) {
		struct batch_item *b = &s->batch[i];

		if (lost)
			store_wq_requeue(s, &b->rec, b->has_au ? &b->au : NULL);
		agent_rec_free(&b->rec);
		store_audit_free(&b->au);
		b->has_au = 0;
	}
}

int
store_batch_commit(struct store *s)
{
	size_t n = s->batch_n;
	int r;

	if (n == 0)
		return ASSAY_OK;
	s->batch_n = 0;
	r = store_tx_end(s, ASSAY_OK, "commit round writes");
	if (r != ASSAY_OK)
		log_warnx("store %s: %zu round writes did not land: queued to be "
		    "written again, in order: %s", s->path, n, assay_err_detail());
	batch_release(s, n, r != ASSAY_OK);
	return r;
}

int
store_batch_put(struct store *s, const struct agent_rec *a,
    const struct store_audit *au)
{
	struct db_stmt *st = s->st[ST_AGENT_PUT];
	struct batch_item *b;
	size_t n;
	int rc, r;

	if (s->batch_n == 0 && (r = store_tx_begin(s, "begin round writes")) != 0)
		return r;
	agent_bind(s, a);
	rc = db_step(st);
	db_reset(st);
	r = rc == DB_DONE || rc == DB_ROW ? ASSAY_OK : rc;
	if (r == ASSAY_OK && au != NULL) {
		s->batch_writing = 1;	/* part of the group, not after it */
		r = store_audit_insert_tx(s, au);
		s->batch_writing = 0;
	}
	if (r != ASSAY_OK) {
		/* The group goes back: what it held is queued, this one not. */
		n = s->batch_n;
		s->batch_n = 0;
		r = store_tx_end(s, r, "round write");
		batch_release(s, n, 1);
		return r;
	}
	b = &s->batch[s->batch_n];
	agent_rec_copy(&b->rec, a);
	if ((b->has_au = au != NULL))
		store_audit_copy(&b->au, au);
	if (++s->batch_n >= STORE_BATCH_MAX)
		return store_batch_commit(s);
	return ASSAY_OK;
}

int
store_agent_get(struct store *s, const char *id, struct agent_rec *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_check_id(id)) != 0)
		return r;
	return store_get_one(s, ST_AGENT_GET, &agent_rows, id, out);
}

int
store_agent_delete(struct store *s, const char *id, const struct store_event *ev)
{
	return store_agent_delete_audit(s, id, ev, NULL);
}

int
store_agent_delete_audit(struct store *s, const char *id,
    const struct store_event *ev, const struct store_audit *au)
{
	int r;

	if ((r = store_check_id(id)) != 0 || (r = store_check_event(ev)) != 0)
		return r;
	/* Queued changes first: none may land after (and revive) the delete. */
	if ((r = store_wq_flush(s, 1, NULL)) != 0)
		return r;
	s->tx_audit = au;	/* store_delete_one writes it in its transaction */
	r = store_delete_one(s, ST_AGENT_DEL, "agent", id, ev);
	s->tx_audit = NULL;
	return r;
}

int
store_agent_list(struct store *s, struct agent_rec **out, size_t *n)
{
	void *v;
	int r;

	r = store_rows_collect(s, s->st[ST_AGENT_LIST], &agent_rows, SIZE_MAX,
	    &v, n);
	*out = v;
	return r;
}
