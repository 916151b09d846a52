/*
 * agents.c — the verifier's in-memory agent registry (loaded from the
 * store at start) and every agent state transition: each one is written to
 * the store with its event (and the notifications it queues, and its
 * audit record) in one transaction, then logged in one line. Store writes
 * are timed for /metrics. Fail closed: a change the store cannot take now
 * (disk full, read-only, locked) still applies in memory at once and waits
 * in the store's write-behind queue, retried in order until it lands
 * (agents_store_retry, from a timer, and before any later write). A
 * round's record alone (no event; with its audit record) joins the
 * store's open group of writes, committed by a timer within
 * STORE_BATCH_MS (store.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/metrics.h"
#include "verifier/notify.h"
#include "common/appraise/policy.h"
#include "common/appraise/verify.h"
#include "verifier/audit.h"
#include "verifier/cluster.h"
#include "verifier/push_rounds.h"
#include "verifier/verifier.h"

struct vagent *
agent_find(struct verifier *v, const char *id)
{
	return strmap_get(v->agents, id);
}

static int
ak_qualified_name(struct vagent *va)
{
	struct tpm2_public ek;
	int r;

	if ((r = tpm2_public_parse(va->rec.ek_pub, va->rec.ek_pub_len, &ek)) != 0)
		return r;
	r = tpm2_ak_qualified_name(&ek, &va->ak, va->ak_qn, &va->ak_qn_len);
	tpm2_public_free(&ek);
	return r;
}

int
agent_load_ak(struct vagent *va)
{
	if (va->ak_ok) {
		tpm2_public_free(&va->ak);
		va->ak_ok = 0;
	}
	if (va->rec.ak_pub == NULL)
		return ASSAY_ERR_NOT_FOUND;
	if (tpm2_public_parse(va->rec.ak_pub, va->rec.ak_pub_len, &va->ak) != 0) {
		log_warnx("agent %s: stored AK does not parse: %s", va->rec.id,
		    assay_err_detail());
		return ASSAY_ERR_FORMAT;
	}
	va->ak_ok = 1;
	va->ak_qn_len = 0;
	if (va->rec.ek_pub != NULL &&
	    ak_qualified_name(va) != 0) {
		log_warnx("agent %s: cannot compute the AK qualified name: %s",
		    va->rec.id, assay_err_detail());
		va->ak_qn_len = 0;
	}
	return ASSAY_OK;
}

struct vagent *
agent_add(struct verifier *v, const struct agent_rec *rec)
{
	struct vagent *va = xcalloc(1, sizeof(*va));

	va->v = v;
	agent_rec_copy(&va->rec, rec);
	(void)agent_load_ak(va);
	ima_state_from_json(va->rec.verify_state, &va->ima);
	mb_state_from_json(va->rec.verify_state, &va->mb);
	strmap_put(v->agents, va->rec.id, va);
	return va;
}

int
agent_lookup(struct verifier *v, const char *id, struct agent_rec *out)
{
	struct vagent *va = agent_find(v, id);

	memset(out, 0, sizeof(*out));
	if (va != NULL && !va->lease_lost) {
		agent_rec_copy(out, &va->rec);
		return ASSAY_OK;
	}
	if (v->cluster == NULL)
		return assay_err_set(ASSAY_ERR_NOT_FOUND, "no agent '%s'", id);
	return store_agent_get(v->store, id, out);
}

int
agents_load(struct verifier *v)
{
	struct agent_rec *list = NULL;
	size_t n = 0;
	int r;

	if ((r = store_agent_list(v->store, &list, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		(void)agent_add(v, &list[i]);
		agent_rec_free(&list[i]);
	}
	free(list);
	log_info("loaded %zu agents from the store", n);
	return ASSAY_OK;
}

static void
batch_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct verifier *v = arg;

	(void)fd; (void)what;
	(void)store_batch_commit(v->store);	/* logs what it lost */
}

void
agents_batch_start(struct verifier *v)
{
	v->batch_timer = evtimer_new(v->base, batch_commit_cb, v);
	if (v->batch_timer == NULL)
		fatalx("batch timer: evtimer_new failed");
}

/* The open group commits within STORE_BATCH_MS (at once without a timer). */
static void
batch_arm(struct verifier *v)
{
	struct timeval tv = { 0, STORE_BATCH_MS * 1000 };

	if (v->batch_timer == NULL)
		(void)store_batch_commit(v->store);
	else if (!evtimer_pending(v->batch_timer, NULL))
		evtimer_add(v->batch_timer, &tv);
}

/*
 * store_agent_save, timed; a state change also queues its notifications.
 * ASSAY_OK: written, or queued to be written (logged when the store starts
 * failing); another error: refused, nothing kept.
 */
static int
agent_put(struct vagent *va, const struct store_event *ev, int notify)
{
	const char *const *targets = NULL;
	size_t ntargets = 0, queued = store_wq_len(va->v->store);
	double t0 = clock_mono();
	struct store_audit au;
	int r, has_au;

	if (notify && ev != NULL)
		notify_targets(va->v->notify, &targets, &ntargets);
	has_au = audit_seal(va, &au);	/* the audit record of this change */
	r = store_agent_save_audit(va->v->store, &va->rec, ev, targets, ntargets,
	    has_au ? &au : NULL);
	if (store_batch_pending(va->v->store) > 0)
		batch_arm(va->v);
	metrics_db_write(va->v->metrics, clock_mono() - t0);
	if (has_au && r != ASSAY_OK && r != ASSAY_ERR_DB)
		audit_refused(va, &au);
	store_audit_free(&au);
	if (r == ASSAY_OK && (ntargets > 0 || queued > 0))
		notify_kick(va->v->notify);	/* queued ones landed too */
	if (r == ASSAY_ERR_STATE && store_node(va->v->store) != NULL) {
		cluster_lease_lost(va->v->cluster, va);
		return r;
	}
	if (r == ASSAY_ERR_DB) {
		if (queued == 0)
			log_err("agent %s: store write failed, change kept in "
			    "memory and retried: %s", va->rec.id,
			    assay_err_detail());
		else
			log_debug("agent %s: change queued behind %zu unwritten "
			    "ones", va->rec.id, queued);
		r = ASSAY_OK;
	}
	return r;
}

void
agents_store_retry(struct verifier *v)
{
	size_t landed = 0;

	if (store_wq_len(v->store) == 0)
		return;
	(void)store_wq_flush(v->store, 0, &landed);	/* logs what landed */
	if (landed > 0)
		notify_kick(v->notify);
}

int
agent_save(struct vagent *va, const char *type, const char *failure_id,
    const char *detail)
{
	struct store_event ev = { 0 };
	struct agent_rec back;
	char *clean = detail != NULL ? text_sanitize(xstrdup(detail)) : NULL;
	int r;

	ev.time = clock_unix();
	ev.agent_id = va->rec.id;
	ev.type = (char *)type;
	ev.new_state = (char *)agent_state_name(va->rec.state);
	ev.failure_id = (char *)failure_id;
	ev.detail = clean;
	va->rec.last_event_at = type != NULL ? ev.time : va->rec.last_event_at;
	r = agent_put(va, type != NULL ? &ev : NULL, 0);
	free(clean);
	if (r == ASSAY_ERR_STATE && va->lease_lost)
		return r;	/* another node's now: nothing to restore */
	if (r != 0) {
		log_err("agent %s: store refused the change: %s", va->rec.id,
		    assay_err_detail());
		/* Refused, not queued: keep memory equal to what is on disk. */
		memset(&back, 0, sizeof(back));
		if (store_agent_get(va->v->store, va->rec.id, &back) == 0) {
			agent_rec_free(&va->rec);
			va->rec = back;
		}
		return r;
	}
	return ASSAY_OK;
}

int
agent_set_state(struct vagent *va, int state, const char *failure_id,
    const char *detail)
{
	struct store_event ev = { 0 };
	int old = va->rec.state, r, replaced = 0;
	char *oreason = va->rec.reason, *odetail = va->rec.reason_detail;
	/* Details may quote what an agent sent: stored and logged sanitized. */
	char *clean = detail != NULL ? text_sanitize(xstrdup(detail)) : NULL;

	va->rec.state = state;
	/* A failure id replaces the reason; trusted/pending clear it. */
	if (failure_id != NULL || state == AGENT_TRUSTED || state == AGENT_PENDING) {
		va->rec.reason = xstrdup_or_null(failure_id);
		va->rec.reason_detail = xstrdup_or_null(clean);
		replaced = 1;
	}
	ev.time = clock_unix();
	ev.agent_id = va->rec.id;
	ev.type = "state";
	ev.old_state = (char *)agent_state_name(old);
	ev.new_state = (char *)agent_state_name(state);
	ev.failure_id = (char *)failure_id;
	ev.detail = clean;
	va->rec.last_event_at = ev.time;
	if ((r = agent_put(va, &ev, 1)) != 0) {
		log_err("agent %s: cannot record state %s: %s", va->rec.id,
		    agent_state_name(state), assay_err_detail());
		if (replaced) {
			free(va->rec.reason);
			free(va->rec.reason_detail);
			va->rec.reason = oreason;
			va->rec.reason_detail = odetail;
		}
		va->rec.state = old;
		free(clean);
		return r;
	}
	if (replaced) {
		free(oreason);
		free(odetail);
	}
	log_notice("agent %s: %s -> %s%s%s%s%s", va->rec.id, agent_state_name(old),
	    agent_state_name(state), failure_id != NULL ? " failure=" : "",
	    failure_id != NULL ? failure_id : "", clean != NULL ? ": " : "",
	    clean != NULL ? clean : "");
	free(clean);
	return ASSAY_OK;
}

void
agent_remove(struct vagent *va)
{
	/*
	 * By object, not by id: a deleted agent whose round comes back later
	 * must not take a re-registered agent of the same id with it.
	 */
	if (strmap_get(va->v->agents, va->rec.id) == va)
		strmap_del(va->v->agents, va->rec.id);
	push_release(va);	/* answer what a push agent waits for */
	if (va->inflight && va->push_phase == PUSH_ISSUED)
		sched_abandon(va);	/* no evidence will come back here */
	if (va->inflight) {
		va->deleted = 1;	/* freed when its round comes back */
		return;
	}
	if (va->ak_ok)
		tpm2_public_free(&va->ak);
	policy_unref(va->round_policy);
	audit_drop(va);
	agent_rec_free(&va->rec);
	ident_doc_free(&va->ident);
	free(va);
}

/* rec.verify_state holds {"ima":{...},"measured_boot":{...}}. */
void
agent_set_verify_state(struct vagent *va, const struct ima_state *ima,
    const struct mb_state *mb)
{
	va->ima = *ima;
	va->mb = *mb;
	free(va->rec.verify_state);
	va->rec.verify_state = verify_state_to_json(ima, mb);
}

void
agent_set_ima(struct vagent *va, const struct ima_state *st)
{
	agent_set_verify_state(va, st, &va->mb);
}

void
agent_mb_restart(struct vagent *va)
{
	struct mb_state mb = va->mb;

	mb.valid = 0;
	agent_set_verify_state(va, &va->ima, &mb);
	va->epoch++;		/* a round in flight must not undo this */
}

void
agent_ima_restart(struct vagent *va)
{
	struct ima_state st = va->ima;

	st.valid = 0;
	agent_set_ima(va, &st);
	va->epoch++;
}
