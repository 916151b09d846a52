/*
 * push_rounds.c — rounds of agents that accept no inbound connection.
 *
 * A push agent asks for a challenge (POST /v1/agents/{id}/challenge). The
 * verifier decides when: the request is held until the agent's round is
 * due (its timer, the same one that polls a pull agent), at most
 * PUSH_HOLD_MAX s, then "ask again"; an admin's "attest now" makes it due
 * at once. The challenge is the round's quote request (the same
 * sched_prepare as a poll: fresh nonce, selection, IMA paging, event log
 * when the boot PCRs need it), stored single-use and bound to the agent
 * and its certificate, with a deadline. The evidence
 * (POST /v1/agents/{id}/evidence?challenge=HEX) takes the challenge and
 * goes through the same verify pipeline and the same states; the answer
 * carries the verdict. A challenge nobody answers, or a due round nobody
 * asks for within `timeout`, is a transport failure: `unreachable` after
 * `unreachable_after` of them, never `untrusted`.
 *
 * With several verifiers on PostgreSQL the lease follows the agent: the
 * node it talks to attests it (cluster_attach), and the round is rebuilt
 * from the challenge row, so challenge and evidence may land on
 * different nodes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/rand.h>

#include "common/appraise/policy.h"
#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/proto/doc.h"
#include "common/proto/push.h"
#include "common/xmalloc.h"
#include "verifier/cluster.h"
#include "verifier/ear.h"
#include "verifier/push_rounds.h"
#include "verifier/verifier.h"

static void
reply_wait(struct http_request *r, int64_t ms)
{
	struct push_challenge c;

	memset(&c, 0, sizeof(c));
	c.wait_ms = ms < 0 ? 0 : ms > PUSH_WAIT_MAX_MS ? PUSH_WAIT_MAX_MS : ms;
	http_reply_json(r, 200, push_challenge_encode(&c));
}

/* Answer and forget the held challenge request. */
static void
unhold(struct vagent *va, int64_t wait_ms)
{
	struct http_request *r = va->push_wait;

	if (va->push_hold != NULL)
		evtimer_del(va->push_hold);
	if (r == NULL)
		return;
	va->push_wait = NULL;
	reply_wait(r, wait_ms);
}

static void
hold_end(evutil_socket_t fd, short what, void *arg)
{
	unhold(arg, 0);		/* not due yet: ask again, held again */
}

static void
hold(struct vagent *va, struct http_request *r)
{
	struct timeval tv = { PUSH_HOLD_MAX, 0 };

	if (va->push_hold == NULL &&
	    (va->push_hold = evtimer_new(va->v->base, hold_end, va)) == NULL)
		fatalx("evtimer_new failed");
	va->push_wait = r;
	http_defer(r);
	evtimer_add(va->push_hold, &tv);
}

/* The round va was readied for, as a challenge row and its answer. */
static void
issue(struct vagent *va, struct http_request *r)
{
	struct verifier *v = va->v;
	struct store_challenge sc;
	struct push_challenge pc;
	uint8_t raw[PUSH_CHALLENGE_HEX / 2];
	char *path = NULL, *hex;
	int want_log;

	switch (sched_prepare(va, &path, &want_log)) {
	case ROUND_LATER:	/* no IMA budget yet: its timer tries again */
		hold(va, r);
		return;
	case ROUND_FAILED:	/* no policy: said in its state */
		va->push_phase = PUSH_IDLE;
		reply_wait(r, (int64_t)va->v->conf.interval * 1000);
		return;
	case ROUND_GO:
		break;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		fatalx("RAND_bytes failed");
	hex = hex_encode(raw, sizeof(raw));
	memset(&sc, 0, sizeof(sc));
	sc.agent_id = va->rec.id;
	sc.cert_cn = va->rec.cert_cn;
	sc.request = path;
	sc.node = v->cluster != NULL ? (char *)cluster_node(v->cluster) : NULL;
	sc.epoch = (int64_t)va->round_epoch;
	sc.policy_rev = policies_rev(v, va->rec.policy);
	sc.max_bytes = (int64_t)doc_max_size(va->ima_reserved, want_log);
	if (store_challenge_put(v->store, hex, &sc, v->conf.timeout * 1000) != 0) {
		sched_abandon(va);
		va->push_phase = PUSH_DUE;
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		goto out;
	}
	va->push_phase = PUSH_ISSUED;
	sched_agent(va, (double)v->conf.timeout + 0.5);	/* its deadline */
	memset(&pc, 0, sizeof(pc));
	snprintf(pc.id, sizeof(pc.id), "%s", hex);
	pc.request = path;
	pc.deadline_ms = v->conf.timeout * 1000;
	pc.max_bytes = (uint64_t)sc.max_bytes;
	http_reply_json(r, 200, push_challenge_encode(&pc));
 out:
	free(hex);
	free(path);
}

void
push_timer(struct vagent *va)
{
	struct http_request *r;
	char detail[128];

	switch (va->push_phase) {
	case PUSH_ISSUED:
		sched_abandon(va);
		va->push_phase = PUSH_DUE;
		sched_transport_failure(va, "no evidence before the challenge's "
		    "deadline");
		return;
	case PUSH_VERIFYING:
		return;
	case PUSH_IDLE:
	case PUSH_DUE:
		break;
	}
	if ((r = va->push_wait) != NULL) {
		va->push_wait = NULL;
		evtimer_del(va->push_hold);
		va->push_phase = PUSH_DUE;
		issue(va, r);
		return;
	}
	if (va->push_phase == PUSH_IDLE) {
		/* Due: the agent has `timeout` s to ask for it. */
		va->push_phase = PUSH_DUE;
		sched_agent(va, (double)va->v->conf.timeout);
		return;
	}
	snprintf(detail, sizeof(detail), "the push agent did not ask for its "
	    "round within %ld s", va->v->conf.timeout);
	sched_transport_failure(va, detail);
}

void
push_round_done(struct vagent *va, double delay, int voided)
{
	struct push_verdict pv;
	struct http_request *r = va->push_ev;

	va->push_phase = PUSH_IDLE;
	if (r == NULL)
		return;
	va->push_ev = NULL;
	memset(&pv, 0, sizeof(pv));
	pv.state = (char *)agent_state_name(va->rec.state);
	pv.failure_id = va->rec.reason;
	pv.detail = voided ? "the round was voided (policy or keys changed): "
	    "ask again" : va->rec.reason_detail;
	pv.next_ms = 0;		/* the next challenge is held until due */
	/* The signed result rides along: the agent keeps it for local use. */
	if (va->v->ear != NULL && !voided)
		pv.ear = ear_sign(va->v->ear, &va->rec, va->rec.policy,
		    policies_rev(va->v, va->rec.policy), va->rec.interval > 0 ?
		    va->rec.interval : va->v->conf.interval, clock_unix());
	/* So does its identity, while it holds one (none: said in the log). */
	if (va->v->ident != NULL && !voided) {
		if (agent_identity(va->v, &va->rec, &pv.identity) == ASSAY_OK)
			pv.has_identity = 1;
		else
			log_debug("agent %s: %s", va->rec.id, assay_err_detail());
	}
	http_reply_json(r, 200, push_verdict_encode(&pv));
	free(pv.ear);
	ident_doc_free(&pv.identity);
}

void
push_release(struct vagent *va)
{
	if (va->push_wait != NULL) {
		http_reply_error(va->push_wait, 503, "this verifier no longer "
		    "attests agent '%s': ask again", va->rec.id);
		va->push_wait = NULL;
	}
	if (va->push_ev != NULL) {
		http_reply_error(va->push_ev, 503, "this verifier dropped the "
		    "round of agent '%s': ask again", va->rec.id);
		va->push_ev = NULL;
	}
	if (va->push_hold != NULL) {
		event_free(va->push_hold);
		va->push_hold = NULL;
	}
}

static int
rate_ok(struct vagent *va)
{
	double now = clock_mono(), burst = PUSH_RATE * 2;

	if (va->push_refill == 0)
		va->push_tokens = burst;
	va->push_tokens += (now - va->push_refill) * PUSH_RATE;
	if (va->push_tokens > burst)
		va->push_tokens = burst;
	va->push_refill = now;
	if (va->push_tokens < 1.0)
		return 0;
	va->push_tokens -= 1.0;
	return 1;
}

/* 1 if rec is a push agent with rounds to attest, else refused (409). */
static int
push_ready(struct http_request *r, const struct agent_rec *rec)
{
	if (!rec->push) {
		http_reply_error(r, 409, "agent '%s' is in pull mode: it is "
		    "polled at its address", rec->id);
		return 0;
	}
	if (!rec->admitted || rec->state == AGENT_REGISTERED ||
	    rec->state == AGENT_STOPPED) {
		http_reply_error(r, 409, "agent '%s' is %s: nothing to attest "
		    "until an admin %s it", rec->id,
		    agent_state_name(rec->state),
		    rec->state == AGENT_STOPPED ? "starts" : "admits");
		return 0;
	}
	return 1;
}

/*
 * The push agent named by the path, as this node attests it, for the
 * certificate that asks; NULL when refused (answered).
 */
static struct vagent *
push_agent(struct http_request *r)
{
	struct verifier *v = r->arg;
	const char *id = r->param[0];
	struct agent_rec rec;
	struct vagent *va;
	int rc;

	/* Same answer for "unknown" and "not yours": no id probing. */
	if ((rc = agent_lookup(v, id, &rec)) == ASSAY_OK &&
	    (rec.cert_cn == NULL || strcmp(rec.cert_cn, r->peer.cn) != 0))
		rc = ASSAY_ERR_NOT_FOUND;
	if (rc != ASSAY_OK) {
		if (rc == ASSAY_ERR_NOT_FOUND)
			http_reply_error(r, 404, "agent '%s' is not registered",
			    id);
		else
			http_reply_error(r, 503, "database: %s",
			    assay_err_detail());
		va = NULL;
	} else if (!push_ready(r, &rec))
		va = NULL;	/* refused before the lease moves here */
	else if ((va = cluster_attach(v, id)) == NULL)
		http_reply_error(r, 503, "%s", assay_err_detail());
	agent_rec_free(&rec);
	return va;
}

void
api_push_challenge(struct http_request *r)
{
	struct vagent *va;

	if ((va = push_agent(r)) == NULL)
		return;
	if (!rate_ok(va)) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		http_reply_error(r, 429, "challenge rate limit (%d/s) exceeded",
		    PUSH_RATE);
		return;
	}
	unhold(va, 0);		/* an earlier request of its: superseded */
	switch (va->push_phase) {
	case PUSH_VERIFYING:
		reply_wait(r, 250);
		return;
	case PUSH_ISSUED:	/* asked again: the earlier challenge is void */
		sched_abandon(va);
		va->push_phase = PUSH_DUE;
		/* FALLTHROUGH */
	case PUSH_DUE:
		issue(va, r);
		return;
	case PUSH_IDLE:
		hold(va, r);	/* its timer issues it when due */
		return;
	}
}

/* The challenge answered by this request, checked against its sender. */
static int
evidence_challenge(struct http_request *r, struct store_challenge *c)
{
	struct verifier *v = r->arg;
	const char *id = http_query(r, "challenge");
	int rc;

	if (id == NULL || !push_challenge_id_valid(id)) {
		http_reply_error(r, 400, "challenge: %d lowercase hex digits "
		    "expected", PUSH_CHALLENGE_HEX);
		return -1;
	}
	if ((rc = store_challenge_take(v->store, id, c)) != ASSAY_OK) {
		if (rc == ASSAY_ERR_NOT_FOUND)
			http_reply_error(r, 410, "challenge unknown or already "
			    "answered: ask for a new one");
		else
			http_reply_error(r, 503, "database: %s",
			    assay_err_detail());
		return -1;
	}
	if (strcmp(c->agent_id, r->param[0]) != 0)
		http_reply_error(r, 403, "the challenge is for another agent");
	else if (strcmp(c->cert_cn, r->peer.cn) != 0)
		http_reply_error(r, 403, "the challenge was issued to another "
		    "certificate");
	else if (c->left_ms < 0)
		http_reply_error(r, 410, "the challenge expired %lld ms ago: ask "
		    "for a new one", (long long)-c->left_ms);
	else if ((int64_t)r->body_len > c->max_bytes)
		http_reply_error(r, 413, "evidence of %zu bytes; this challenge "
		    "takes %lld at most", r->body_len, (long long)c->max_bytes);
	else
		return 0;
	log_warnx("agent %s: evidence refused: %s", r->param[0],
	    "challenge does not match its sender or expired");
	return -1;
}

/*
 * The round the challenge asked, as va's round in flight: from memory
 * when this node issued it and still holds it, else rebuilt from the row
 * (another node issued it). 0, or the round is void (policy changed).
 */
static int
evidence_round(struct vagent *va, const struct store_challenge *c,
    const struct quote_req *q)
{
	struct verifier *v = va->v;
	struct policy *pol = policy_for_agent(v, va);
	const char *me = v->cluster != NULL ? cluster_node(v->cluster) : NULL;
	int mine = (me == NULL && c->node == NULL) ||
	    (me != NULL && c->node != NULL && strcmp(me, c->node) == 0);

	if (pol == NULL || policies_rev(v, va->rec.policy) != c->policy_rev ||
	    (mine && (uint64_t)c->epoch != va->epoch))
		return -1;
	if (mine && va->push_phase == PUSH_ISSUED && va->inflight &&
	    memcmp(va->nonce, q->nonce, sizeof(va->nonce)) == 0)
		return 0;	/* as issued: budget, policy and selection held */
	if (va->inflight)
		sched_abandon(va);
	memcpy(va->nonce, q->nonce, sizeof(va->nonce));
	va->nonce_valid = 1;
	va->sel = q->sel;
	va->round_policy = policy_ref(pol);
	va->round_epoch = va->epoch;
	va->inflight = 1;
	return 0;
}

void
api_push_evidence(struct http_request *r)
{
	struct store_challenge c;
	struct quote_req q;
	struct vagent *va;

	memset(&c, 0, sizeof(c));	/* freed on every path */
	if (evidence_challenge(r, &c) != 0)
		goto out;
	if ((va = push_agent(r)) == NULL)
		goto out;
	if (va->push_phase == PUSH_VERIFYING) {
		http_reply_error(r, 409, "a round of this agent is being judged");
		goto out;
	}
	if (push_request_parse(c.request, &q) != 0 ||
	    q.nonce_len != sizeof(va->nonce)) {
		http_reply_error(r, 500, "stored challenge unreadable: %s",
		    assay_err_detail());
		goto out;
	}
	if (evidence_round(va, &c, &q) != 0) {
		if (va->push_phase == PUSH_ISSUED)
			sched_abandon(va);
		va->push_phase = PUSH_DUE;
		sched_agent(va, 0);
		http_reply_error(r, 409, "the policy changed since the challenge: "
		    "ask for a new one");
		goto out;
	}
	va->push_phase = PUSH_VERIFYING;
	va->push_ev = r;
	http_defer(r);
	sched_submit(va, xmemdup(r->body, r->body_len), r->body_len,
	    q.ima_bytes);
 out:
	store_challenge_free(&c);
}
