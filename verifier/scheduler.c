/*
 * scheduler.c — the polling side of the verifier: one timer per admitted
 * agent; each round sends a fresh 32-byte nonce to the agent, hands the
 * evidence to the verify pool and applies the verdict back on the loop.
 * Transport failures back off exponentially and lead to `unreachable`,
 * never to `untrusted`. IMA lists come in pages (ima_max entries a round):
 * while the agent says more follow, the next round is asked at once
 * (IMA_PAGE_DELAY, within the agent's default quote rate); a round whose
 * page is held unbound (verify_ima.h) keeps the host's state as it was.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <openssl/rand.h>

#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/proto/doc.h"
#include "common/proto/quote_req.h"
#include "common/xmalloc.h"
#include "verifier/audit.h"
#include "verifier/cluster.h"
#include "verifier/metrics.h"
#include "verifier/push_rounds.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"
#include "common/appraise/policy_mb.h"
#include "verifier/verifier.h"
#include "common/appraise/verify.h"
#include "verifier/verify_pool.h"

/* Inconclusive rounds in a row before the host counts as untrusted. */
#define INCONCLUSIVE_MAX	5
/* Seconds between IMA pages: "at once", under the agent's 5 quotes/s. */
#define IMA_PAGE_DELAY		0.25
/* Seconds a poll waits for a free slot (max_inflight) or IMA budget. */
#define POLL_WAIT_DELAY		0.05
/* Routine rounds fall due on this grid (s): sched_coalesce. */
#define SCHED_QUANTUM		0.02

static void poll_fire(evutil_socket_t, short, void *);
static long agent_interval(const struct vagent *);

/*
 * IMA list bytes a poll may bring, reserved from the verifier's budget
 * (ima_inflight_mb) until its round is applied: every list byte costs
 * about four more in the document, its copies and the parsed entries, so
 * the budget bounds the memory the polls in flight can take whatever the
 * hosts send. A host known to have more asks as much as is free (up to
 * DOC_IMA_MAX), any other the smallest page (DOC_IMA_PAGE_MIN; a larger
 * delta says "more" and is asked again at once, large). 0: less than
 * the smallest page is free, the poll waits.
 */
static size_t
ima_reserve(struct vagent *va)
{
	struct verifier *v = va->v;
	size_t budget = (size_t)v->conf.ima_inflight_mb * 1024 * 1024, want;

	if (budget < DOC_IMA_PAGE_MIN)
		budget = DOC_IMA_PAGE_MIN;
	if (v->ima_reserved + DOC_IMA_PAGE_MIN > budget)
		return 0;
	want = va->ima_big || !va->ima.valid ? DOC_IMA_MAX : DOC_IMA_PAGE_MIN;
	if (want > budget - v->ima_reserved)
		want = budget - v->ima_reserved;
	v->ima_reserved += want;
	va->ima_reserved = want;
	return want;
}

static void
ima_release(struct vagent *va)
{
	va->v->ima_reserved -= va->ima_reserved;
	va->ima_reserved = 0;
}

static int
polled_state(int state)
{
	return state == AGENT_PENDING || state == AGENT_TRUSTED ||
	    state == AGENT_UNTRUSTED || state == AGENT_UNREACHABLE;
}

/*
 * A routine round (a second or more away) is due at the nearest multiple
 * of SCHED_QUANTUM of the loop's clock (at most half a quantum early or
 * late, none on average): rounds falling due within one quantum are
 * asked in one loop iteration, one timer wake-up for all of them, and a
 * busy loop finds their answers waiting together (fleet simulator, 500
 * rounds/s: epoll_wait 1.93 -> 1.18 a round quiet, 0.075 loaded).
 * Retries and immediate rounds keep their delay.
 */
static double
sched_coalesce(struct event_base *base, double delay)
{
	struct timeval now;

	if (event_base_gettimeofday_cached(base, &now) != 0)
		return delay;
	return clock_coalesce((double)now.tv_sec + (double)now.tv_usec / 1e6,
	    delay, SCHED_QUANTUM);
}

void
sched_agent(struct vagent *va, double delay)
{
	struct timeval tv;

	if (va->timer == NULL &&
	    (va->timer = evtimer_new(va->v->base, poll_fire, va)) == NULL)
		fatalx("evtimer_new failed");
	if (delay < 0)
		delay = 0;
	delay = sched_coalesce(va->v->base, delay);
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	evtimer_add(va->timer, &tv);
}

void
sched_join(struct vagent *va)
{
	uint32_t r = 0;

	double left;

	if (!polled_state(va->rec.state))
		return;
	if (va->rec.push) {
		/*
		 * Its round is due an interval after the last one, on
		 * whichever node that was (a full interval if unknown).
		 */
		left = va->rec.state == AGENT_TRUSTED ?
		    (double)(va->rec.last_attested + agent_interval(va) -
		    clock_unix()) : (double)agent_interval(va);
		sched_agent(va, left < 0 ? 0 : left);
		return;
	}
	RAND_bytes((unsigned char *)&r, sizeof(r));
	sched_agent(va, (double)(r % 1000) / 1000.0);
}

void
sched_cancel(struct vagent *va)
{
	if (va->timer != NULL) {
		event_free(va->timer);
		va->timer = NULL;
	}
}

void
sched_remove(struct vagent *va)
{
	sched_cancel(va);
	agent_remove(va);
}

static long
agent_interval(const struct vagent *va)
{
	return va->rec.interval > 0 ? va->rec.interval : va->v->conf.interval;
}

/*
 * A policy's content changed: every agent that uses it is judged again
 * from scratch (the whole IMA list, the boot log), an untrusted one goes
 * back to pending, and rounds in flight are voided (agent epochs).
 */
void
sched_policy_changed(struct verifier *v, const char *name, const char *why)
{
	const char *id;
	void *val;
	size_t pos = 0;

	while (strmap_next(v->agents, &pos, &id, &val)) {
		struct vagent *va = val;

		if (va->rec.policy == NULL || strcmp(va->rec.policy, name) != 0)
			continue;
		agent_ima_restart(va);	/* the new policy judges every entry */
		agent_mb_restart(va);	/* and the boot log again */
		if (audit_on(v)) {
			audit_action(va, "policy_change", NULL, json_pack("{s:s, s:s?}",
			    "policy", name, "why", why));
			if (va->rec.state != AGENT_UNTRUSTED)
				(void)agent_save(va, NULL, NULL, NULL);
		}
		if (va->rec.state == AGENT_UNTRUSTED &&
		    agent_set_state(va, AGENT_PENDING, NULL, why) != 0)
			continue;
		if (va->rec.state != AGENT_STOPPED && va->rec.state != AGENT_REGISTERED &&
		    !va->inflight)
			sched_agent(va, 0);
	}
}

void
sched_start(struct verifier *v)
{
	const char *id;
	void *val;
	size_t pos = 0;

	while (strmap_next(v->agents, &pos, &id, &val)) {
		struct vagent *va = val;
		uint32_t r = 0;

		if (!polled_state(va->rec.state))
			continue;
		/* Spread the first round over one interval. */
		RAND_bytes((unsigned char *)&r, sizeof(r));
		sched_agent(va, (double)(r % 1000) / 1000.0 * agent_interval(va));
	}
}

void
sched_transport_failure(struct vagent *va, const char *detail)
{
	struct verifier *v = va->v;
	long delay;

	va->failures++;
	va->rec.poll_errors++;
	metrics_poll_error(v->metrics);
	log_info("agent %s: poll failed (%d in a row): %s", va->rec.id,
	    va->failures, detail);
	if (va->failures >= v->conf.unreachable_after &&
	    (va->rec.state == AGENT_PENDING || va->rec.state == AGENT_TRUSTED))
		(void)agent_set_state(va, AGENT_UNREACHABLE,
		    FAILURE_ID(FID_COMM_UNREACHABLE), detail);
	delay = agent_interval(va);
	for (int i = 1; i < va->failures && delay < v->conf.max_backoff; i++)
		delay *= 2;
	if (delay > v->conf.max_backoff)
		delay = v->conf.max_backoff;
	sched_agent(va, (double)delay);
}

static void
poll_done(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct vagent *va = arg;
	struct verifier *v = va->v;
	char detail[256];

	v->inflight--;
	if (va->deleted) {
		ima_release(va);
		va->inflight = 0;
		sched_remove(va);
		return;
	}
	if (err != ASSAY_OK || status != 200) {
		ima_release(va);
		va->inflight = 0;
		policy_unref(va->round_policy);
		va->round_policy = NULL;
		if (err != ASSAY_OK)
			snprintf(detail, sizeof(detail), "%s: %s", assay_strerror(err),
			    assay_err_detail());
		else
			snprintf(detail, sizeof(detail), "agent answered HTTP %d: %.160s",
			    status, body != NULL ? (const char *)body : "");
		sched_transport_failure(va, text_sanitize(detail));
		return;
	}
	sched_submit(va, http_client_body_take(body), len, va->ima_reserved);
}

void
sched_submit(struct vagent *va, uint8_t *body, size_t len, uint64_t ima_bytes)
{
	struct verifier *v = va->v;
	struct verify_job *j;
	struct policy *pol;

	/* Judged with the policy (and selection) the round was asked under. */
	pol = va->round_policy;
	j = verify_job_new(va->rec.id, body, len, va->ak_ok ? va->ak.pkey : NULL,
	    pol);
	policy_unref(va->round_policy);
	va->round_policy = NULL;
	j->gen = va->gen;
	j->epoch = va->round_epoch;
	j->arg = va;
	/* The quote names its signer by Qualified Name (AK under the EK). */
	memcpy(j->ak_name, va->ak_qn, va->ak_qn_len);
	j->ak_name_len = va->ak_ok ? va->ak_qn_len : 0;
	memcpy(j->nonce, va->nonce, sizeof(va->nonce));
	j->nonce_len = sizeof(va->nonce);
	j->sel = va->sel;
	j->prev = va->rec.clock;
	j->ima_in = va->ima;
	j->ima_max = (uint64_t)v->conf.ima_page_entries;	/* restart-only key */
	j->ima_bytes = ima_bytes;
	j->mb_in = va->mb;
	if (audit_on(v) && va->rec.ak_pub != NULL) {
		/* The round's audit record is built by the worker. */
		j->keep_body = 1;
		j->ak_pub = xmemdup(va->rec.ak_pub, va->rec.ak_pub_len);
		j->ak_pub_len = va->rec.ak_pub_len;
	}
	verify_pool_submit(v->pool, j);
}

/* The next round in delay s; a push agent is told its verdict now. */
static void
round_next(struct vagent *va, double delay, int voided)
{
	sched_agent(va, delay);
	if (va->rec.push)
		push_round_done(va, delay, voided);
}

static void
join_failures(const struct verdict *vd, char *out, size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < vd->nfail && off < outlen; i++) {
		/* The first id is the reason itself; later ones are named. */
		int n = i == 0 ? snprintf(out, outlen, "%s", vd->fail[0].detail) :
		    snprintf(out + off, outlen - off, "; %s: %s", vd->fail[i].id,
		    vd->fail[i].detail);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* Inconclusive (new boot, or a bank to add): keep what is known. */
static void
round_inconclusive(struct verifier *v, struct vagent *va, struct verify_job *j)
{
	char detail[1024];

	va->rec.clock = j->qres.clock;
	agent_set_verify_state(va, &j->ima_out, &j->mb_out);
	(void)agent_save(va, NULL, NULL, NULL);
	log_info("agent %s: round inconclusive (%s): polling again", va->rec.id,
	    j->retry_reason);
	if (++va->retries > INCONCLUSIVE_MAX) {
		/* Never let "inconclusive" stand in for a verdict. */
		snprintf(detail, sizeof(detail), "%d rounds in a row were "
		    "inconclusive: %s", va->retries, j->retry_reason);
		va->retries = 0;
		metrics_attest(v->metrics, 0);
		va->rec.attest_fail++;
		if (va->rec.state != AGENT_UNTRUSTED)
			(void)agent_set_state(va, AGENT_UNTRUSTED,
			    FAILURE_ID(FID_EVIDENCE_FORMAT), detail);
		round_next(va, (double)agent_interval(va), 0);
		return;
	}
	round_next(va, va->retries <= 3 ? 0 : (double)agent_interval(va), 0);
}

/*
 * An IMA page short of the quote, more to come: nothing of it counts
 * yet, nothing failed. Keep the chain, judge nothing, ask the next page.
 */
static void
round_held(struct vagent *va, struct verify_job *j)
{
	va->rec.clock = j->qres.clock;
	agent_set_verify_state(va, &j->ima_out, &j->mb_out);
	(void)agent_save(va, NULL, NULL, NULL);
	log_info("agent %s: IMA page held, %llu entries pending after %llu "
	    "accepted: asking the next page", va->rec.id,
	    (unsigned long long)j->ima_out.pend_n,
	    (unsigned long long)j->ima_out.rp.count);
	round_next(va, IMA_PAGE_DELAY, 0);
}

/* A verdict: trusted (from pending/unreachable) or untrusted. */
static void
round_verdict(struct verifier *v, struct vagent *va, struct verify_job *j)
{
	char detail[1024];

	if (j->policy != NULL)
		va->rec.policy_version = policy_version(j->policy);
	if (verdict_ok(&j->verdict)) {
		metrics_attest(v->metrics, 1);
		agent_set_verify_state(va, &j->ima_out, &j->mb_out);
		va->rec.attest_ok++;
		va->rec.clock = j->qres.clock;
		va->rec.last_attested = clock_unix();
		if (v->ident != NULL && j->id_pub != NULL) {
			/* The key certified this round replaces the last. */
			free(va->rec.id_pub);
			va->rec.id_pub = j->id_pub;
			va->rec.id_pub_len = j->id_pub_len;
			j->id_pub = NULL;
		}
		if (va->rec.state == AGENT_PENDING || va->rec.state == AGENT_UNREACHABLE)
			(void)agent_set_state(va, AGENT_TRUSTED, NULL, NULL);
		else
			(void)agent_save(va, NULL, NULL, NULL);
		return;
	}
	metrics_attest(v->metrics, 0);
	va->rec.attest_fail++;
	for (size_t i = 0; i < j->verdict.nfail; i++)
		metrics_failure(v->metrics, j->verdict.fail[i].id);
	join_failures(&j->verdict, detail, sizeof(detail));
	if (va->rec.state != AGENT_UNTRUSTED)
		(void)agent_set_state(va, AGENT_UNTRUSTED, j->verdict.fail[0].id,
		    detail);
	else
		(void)agent_save(va, NULL, NULL, NULL);
}

void
sched_verify_done(struct verify_job *j, void *arg)
{
	struct vagent *va = j->arg;
	struct verifier *v = arg;
	int more;

	ima_release(va);
	va->inflight = 0;
	if (va->deleted) {
		sched_remove(va);
		verify_job_free(j);
		return;
	}
	va->nonce_valid = 0;		/* each nonce answers one round only */
	if (j->gen != va->gen || j->epoch != va->epoch ||
	    !polled_state(va->rec.state)) {
		/*
		 * Re-enrolled, stopped, or a new policy voided what was judged
		 * while we verified: drop the round, never apply its state.
		 */
		verify_job_free(j);
		if (polled_state(va->rec.state))
			round_next(va, 0, 1);
		else if (va->rec.push)
			push_round_done(va, 0, 1);
		return;
	}
	va->failures = 0;
	metrics_verify_latency(v->metrics, j->seconds);
	for (size_t i = 0; i < j->verdict.nnotice; i++) {
		log_notice("agent %s: %s: %s", va->rec.id, j->verdict.notice[i].id,
		    j->verdict.notice[i].detail);
		(void)agent_save(va, "notice", j->verdict.notice[i].id,
		    j->verdict.notice[i].detail);
	}
	audit_round(va, j);	/* carried by the round's store write below */
	if (verdict_ok(&j->verdict) && j->retry) {
		round_inconclusive(v, va, j);
		verify_job_free(j);
		return;
	}
	va->retries = 0;
	va->ima_big = j->ima_pending || j->ima_more;
	if (verdict_ok(&j->verdict) && j->ima_pending) {
		round_held(va, j);
		verify_job_free(j);
		return;
	}
	round_verdict(v, va, j);
	more = verdict_ok(&j->verdict) && j->ima_more;
	verify_job_free(j);
	round_next(va, va->attest_now ? 0 : more ? IMA_PAGE_DELAY :
	    (double)agent_interval(va), 0);
	va->attest_now = 0;
}

/*
 * The kernel computes boot_aggregate with the bank of its IMA hash (or
 * SHA-1): once a list told us which, quote that bank's PCRs 0-7/0-9 too.
 */
static void
add_boot_aggregate_bank(struct vagent *va)
{
	struct pcr_selection *sel = &va->sel;
	uint32_t mask;
	size_t i;

	if (va->ima.ba_alg == 0)
		return;
	mask = va->ima.ba_alg == TPM2_ALG_SHA1 ? 0xffu : 0x3ffu;
	for (i = 0; i < sel->n; i++)
		if (sel->bank[i].hash == va->ima.ba_alg)
			break;
	if (i == sel->n) {
		if (sel->n == TPM2_MAX_BANKS)
			return;
		sel->bank[sel->n].hash = va->ima.ba_alg;
		sel->bank[sel->n++].mask = 0;
	}
	sel->bank[i].mask |= mask;
}

/* This round's request (quote_req.h); *want_log: the event log asked. */
static char *
poll_path(struct vagent *va, const struct policy *pol, int *want_log)
{
	struct quote_req q = { .nonce_len = sizeof(va->nonce), .sel = va->sel };
	char *path;

	memcpy(q.nonce, va->nonce, sizeof(va->nonce));
	if (policy_ima(pol) != NULL) {
		/* From the end of what was received (accepted, then pending). */
		q.ima = 1;
		q.ima_from = va->ima.valid ? va->ima.rp.count + va->ima.pend_n : 0;
		q.ima_max = (uint64_t)va->v->conf.ima_page_entries;
		q.ima_bytes = va->ima_reserved;
	}
	/*
	 * The answer in the newest binary form: no JSON, no base64 of the IMA
	 * list (older agents answer form 2 or JSON: quote_req.h).
	 */
	q.format = DOC_FORM_NEWEST;
	/*
	 * The identity key's certification while none is on record (its key
	 * cannot leave this TPM: once is enough; the agent volunteers a new
	 * one when its key changes, and a re-enrollment clears the record).
	 */
	q.identity = va->v->ident != NULL && va->rec.id_pub == NULL;
	/* The event log only when the boot PCRs have not been judged yet. */
	q.eventlog = policy_mb(pol) != NULL && (!va->mb.valid || va->mb.need_log);
	*want_log = q.eventlog;
	if ((path = quote_req_format(&q)) == NULL)
		fatalx("quote request: bad fields");
	return path;
}

/*
 * What every round needs before it is asked, pulled or pushed: IMA budget,
 * the policy (judged with it whatever changes meanwhile), a fresh nonce,
 * the selection and the request. ROUND_GO: *path set, va->inflight 1;
 * ROUND_LATER: put off (timer set); ROUND_FAILED: handled, timer set.
 */
enum round_prep
sched_prepare(struct vagent *va, char **path, int *want_log)
{
	struct verifier *v = va->v;
	struct policy *pol;

	/* Taken over from a node whose policy upload we have not seen yet. */
	if (policy_find(v, va->rec.policy) == NULL && v->cluster != NULL)
		policies_sync(v);
	if ((pol = policy_for_agent(v, va)) != NULL &&
	    policy_ima(pol) != NULL && ima_reserve(va) == 0) {
		metrics_ima_wait(v->metrics);
		sched_agent(va, POLL_WAIT_DELAY);
		return ROUND_LATER;
	}
	if (pol == NULL) {
		if (va->rec.state != AGENT_UNTRUSTED)
			(void)agent_set_state(va, AGENT_UNTRUSTED,
			    FAILURE_ID(FID_POLICY_MISSING),
			    va->rec.policy != NULL ? va->rec.policy : "(none)");
		sched_agent(va, (double)agent_interval(va));
		return ROUND_FAILED;
	}
	if (RAND_bytes(va->nonce, sizeof(va->nonce)) != 1)
		fatalx("RAND_bytes failed");
	va->nonce_valid = 1;
	policy_unref(va->round_policy);
	va->round_policy = policy_ref(pol);
	va->round_epoch = va->epoch;
	policy_selection(pol, &va->sel);
	if (policy_ima(pol) != NULL)
		add_boot_aggregate_bank(va);
	if (policy_mb(pol) != NULL)
		va->sel.bank[0].mask |= va->mb.extra;	/* PCRs the log extends */
	*path = poll_path(va, pol, want_log);
	va->inflight = 1;
	return ROUND_GO;
}

/* The round in flight is given up (no answer): budget and policy back. */
void
sched_abandon(struct vagent *va)
{
	ima_release(va);
	va->inflight = 0;
	policy_unref(va->round_policy);
	va->round_policy = NULL;
}

static void
poll_fire(evutil_socket_t fd, short what, void *arg)
{
	struct vagent *va = arg;
	struct verifier *v = va->v;
	char host[256], *path;
	uint16_t port;
	int want_log;

	if (va->inflight && !va->rec.push)
		return;
	if (!polled_state(va->rec.state) || va->lease_lost)
		return;
	if (cluster_fenced(v->cluster)) {
		/* Lease time out: no round until a heartbeat lands again. */
		sched_agent(va, 1.0);
		return;
	}
	if (va->rec.push) {
		push_timer(va);	/* due, or a deadline passed */
		return;
	}
	if (v->inflight >= v->conf.max_inflight) {
		sched_agent(va, POLL_WAIT_DELAY);
		return;
	}
	if (va->rec.address == NULL ||
	    http_split_hostport(va->rec.address, host, sizeof(host), &port) != 0) {
		sched_transport_failure(va, "no usable agent address");
		return;
	}
	if (sched_prepare(va, &path, &want_log) != ROUND_GO)
		return;
	v->inflight++;
	/* An answer over what was asked is refused as it arrives. */
	if (http_client_request_max(v->client, "GET", host, port, path, NULL,
	    NULL, 0, (int)v->conf.timeout, va->rec.cert_cn,
	    doc_max_size(va->ima_reserved, want_log), poll_done, va) != 0) {
		v->inflight--;
		sched_abandon(va);
		sched_transport_failure(va, assay_err_detail());
	}
	free(path);
}
