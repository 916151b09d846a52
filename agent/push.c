/*
 * push.c — push mode: the agent accepts no connection and asks the
 * verifier for work instead (common/proto/push.h). Once enrolled it
 * posts for a challenge (the verifier may hold that request until the
 * agent is due), collects the evidence the challenge's quote request asks
 * for (collect.c, the same rate limit as GET /v1/quote) and posts it back
 * before the deadline; then asks again. Everything runs on the event
 * loop: one timer and at most one request in flight.
 *
 * When the verifier is down or refuses, the next try waits a random time
 * in [0, backoff] (full jitter), backoff doubling from PUSH_BACKOFF_MIN
 * (PUSH_BACKOFF_REFUSED for 409) to PUSH_BACKOFF_MAX and reset by a
 * verdict or a wait; the first contact after start waits a random
 * 0..PUSH_START_JITTER s too, so that a fleet never comes back in step.
 * 403/404 (the verifier does not know us) pause the loop and have
 * enroll.c check the enrollment; push_enrolled resumes it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "agent/agent.h"
#include "agent/collect.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/proto/doc.h"
#include "common/proto/push.h"
#include "common/xmalloc.h"

#define PUSH_START_JITTER	1.0	/* s, before the first challenge */
#define PUSH_CHALLENGE_TIMEOUT	90	/* s: the verifier may hold it (long poll) */
#define PUSH_EVIDENCE_TIMEOUT	60	/* s: the upload and its appraisal */
#define PUSH_BACKOFF_MIN	1.0	/* s */
#define PUSH_BACKOFF_REFUSED	5.0	/* s: 409, not admitted or stopped */
#define PUSH_BACKOFF_MAX	60.0	/* s */
#define PUSH_CHALLENGE_BODY_MAX	(64u * 1024)
#define PUSH_VERDICT_BODY_MAX	(256u * 1024)

enum push_phase {
	PUSH_IDLE,		/* the timer leads to the next challenge */
	PUSH_ASKING,		/* a challenge request in flight */
	PUSH_RATE_WAIT,		/* the timer leads to collecting the round */
	PUSH_SENDING,		/* the evidence in flight */
	PUSH_PAUSED,		/* until push_enrolled */
};

struct push_loop {
	struct event		*timer;
	enum push_phase		 phase;
	double			 backoff;	/* s: the jitter's ceiling, 0 after success */
	struct push_challenge	 ch;		/* the round in progress */
	double			 received;	/* clock_mono() at its receipt */
	char			*state;		/* the last verdict's */
};

static void push_fire(evutil_socket_t, short, void *);

double
push_jitter(double max)
{
	uint32_t v;

	if (max <= 0)
		return 0;
	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = (uint32_t)random();
	return max * ((double)v / (double)UINT32_MAX);
}

static void
arm(struct agent *a, enum push_phase phase, double delay)
{
	struct timeval tv;

	a->pushl->phase = phase;
	if (delay < 0)
		delay = 0;
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	evtimer_add(a->pushl->timer, &tv);
}

/* A failed step: the next challenge after a jittered, growing delay. */
static void __attribute__((format(printf, 3, 4)))
retry(struct agent *a, double floor_s, const char *fmt, ...)
{
	struct push_loop *p = a->pushl;
	char why[512];
	va_list ap;
	double delay;
	int ra;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	push_challenge_free(&p->ch);
	p->backoff = p->backoff == 0 ? floor_s :
	    fmin(fmax(p->backoff * 2, floor_s), PUSH_BACKOFF_MAX);
	delay = push_jitter(p->backoff);
	/* The verifier said when: no sooner, and spread over as long again. */
	if ((ra = http_client_retry_after()) > 0)
		delay = fmax(delay, (double)ra + push_jitter((double)ra));
	log_warnx("push: %s; next try in %.1f s (backoff %.0f s)", why, delay,
	    p->backoff);
	arm(a, PUSH_IDLE, delay);
}

/* The verifier's {"error": "..."} message, or the body's start. */
static void
error_text(const uint8_t *body, size_t len, char *buf, size_t buflen)
{
	json_t *j = json_loadb((const char *)body, len, 0, NULL);
	const char *e = json_string_value(json_object_get(j, "error"));

	if (e != NULL)
		snprintf(buf, buflen, "%s", e);
	else
		snprintf(buf, buflen, "%.200s", body != NULL ? (const char *)body : "");
	json_decref(j);
}

/* 403/404: pause, and have enroll.c check (and redo) the enrollment. */
static void
recheck_enrollment(struct agent *a, int status, const char *why)
{
	struct push_loop *p = a->pushl;
	double delay;

	push_challenge_free(&p->ch);
	p->backoff = p->backoff == 0 ? PUSH_BACKOFF_MIN :
	    fmin(p->backoff * 2, PUSH_BACKOFF_MAX);
	delay = push_jitter(p->backoff);
	log_warnx("push: challenge refused with HTTP %d (%s); checking the "
	    "enrollment in %.1f s", status, why, delay);
	p->phase = PUSH_PAUSED;
	if (a->enroll == ENROLL_DONE)
		enroll_start(a, delay);
	/* else enroll.c is at it already, and calls push_enrolled when done */
}

static void
log_verdict(struct agent *a, const struct push_verdict *v)
{
	struct push_loop *p = a->pushl;
	int changed = p->state == NULL || strcmp(p->state, v->state) != 0;

	log_msg(changed ? LOG_LVL_NOTICE : LOG_LVL_INFO, "push: %s%s (%s%s%.200s)",
	    changed ? "now " : "", v->state,
	    v->failure_id != NULL ? v->failure_id : "no failure",
	    v->detail != NULL ? ": " : "", v->detail != NULL ? v->detail : "");
	free(p->state);
	p->state = xstrdup(v->state);
}

static void
on_verdict(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct agent *a = arg;
	struct push_loop *p = a->pushl;
	struct push_verdict v;
	json_t *j = NULL;
	char why[300];

	push_challenge_free(&p->ch);
	if (err != 0) {
		retry(a, PUSH_BACKOFF_MIN, "sending evidence: %s", assay_err_detail());
		return;
	}
	if (status != 200) {
		error_text(body, len, why, sizeof(why));
		retry(a, PUSH_BACKOFF_MIN, "evidence refused (HTTP %d): %s", status,
		    why);
		return;
	}
	if (http_json_load(body, len, &j, why, sizeof(why)) != 0 ||
	    push_verdict_parse(j, &v) != 0) {
		retry(a, PUSH_BACKOFF_MIN, "malformed verdict: %s",
		    j == NULL ? why : assay_err_detail());
		json_decref(j);
		return;
	}
	json_decref(j);
	log_verdict(a, &v);
	if (v.ear != NULL)
		result_store(a, v.ear, strlen(v.ear));
	if (v.has_identity)
		ident_store(a, &v.identity);
	p->backoff = 0;
	arm(a, PUSH_IDLE, (double)v.next_ms / 1000.0);
	push_verdict_free(&v);
}

/* The document as the evidence request's body, checked against the round. */
static void
send_evidence(struct agent *a, const struct evidence_doc *d, int form)
{
	struct push_loop *p = a->pushl;
	double elapsed = clock_mono() - p->received;
	const char *ctype;
	uint8_t *s;
	char *path;
	size_t n;

	if (evidence_doc_encode(d, form, &s, &n, &ctype) != 0) {
		retry(a, PUSH_BACKOFF_MIN, "cannot encode the evidence document");
		return;
	}
	if (elapsed * 1000 >= (double)p->ch.deadline_ms)
		retry(a, PUSH_BACKOFF_MIN, "collecting took %.0f ms, past the "
		    "round's deadline of %lld ms", elapsed * 1000,
		    (long long)p->ch.deadline_ms);
	else if ((uint64_t)n > p->ch.max_bytes)
		retry(a, PUSH_BACKOFF_MIN, "the evidence (%zu bytes) is over the "
		    "verifier's %llu bytes", n, (unsigned long long)p->ch.max_bytes);
	else {
		path = xasprintf(PUSH_EVIDENCE_PATH "?challenge=%s", a->id, p->ch.id);
		p->phase = PUSH_SENDING;
		if (http_client_request_max(a->client, "POST", a->vhost, a->vport,
		    path, ctype, s, n, PUSH_EVIDENCE_TIMEOUT,
		    a->conf.verifier_name, PUSH_VERDICT_BODY_MAX, on_verdict, a) != 0)
			retry(a, PUSH_BACKOFF_MIN, "%s", assay_err_detail());
		free(path);
	}
	free(s);
}

/* The round's evidence, once a quote token is ours. */
static void
collect_round(struct agent *a)
{
	struct push_loop *p = a->pushl;
	struct evidence_doc d;
	struct quote_req q;
	double wait, left;

	left = (double)p->ch.deadline_ms / 1000.0 - (clock_mono() - p->received);
	if ((wait = quote_token_take(a)) > 0) {
		if (wait >= left)
			retry(a, PUSH_BACKOFF_MIN, "quote rate limit (%ld/s): no "
			    "quote before the round's deadline", a->conf.quote_rate);
		else
			arm(a, PUSH_RATE_WAIT, wait);
		return;
	}
	if (push_request_parse(p->ch.request, &q) != 0) {
		retry(a, PUSH_BACKOFF_MIN, "%s", assay_err_detail());
		return;
	}
	evidence_doc_init(&d);
	if (collect_evidence(a, &q, &d) != 0) {
		log_err("%s", assay_err_detail());
		retry(a, PUSH_BACKOFF_MIN, "no evidence for this round");
		evidence_doc_free(&d);
		return;
	}
	a->n_quotes++;
	log_debug("quote %llu for challenge %.16s... in form %d%s%s%s",
	    (unsigned long long)a->n_quotes, p->ch.id, agent_form(&q),
	    d.has_ima ? " with IMA entries" : "", d.ima_more ? " (more follow)" : "",
	    d.eventlog != NULL ? " with the event log" : "");
	send_evidence(a, &d, agent_form(&q));
	evidence_doc_free(&d);
}

/* 200 to a challenge request: a round or a wait. */
static void
challenge_ok(struct agent *a, const uint8_t *body, size_t len)
{
	struct push_loop *p = a->pushl;
	json_t *j = NULL;
	char why[300];

	push_challenge_free(&p->ch);
	if (http_json_load(body, len, &j, why, sizeof(why)) != 0 ||
	    push_challenge_parse(j, &p->ch) != 0) {
		retry(a, PUSH_BACKOFF_MIN, "malformed challenge: %s",
		    j == NULL ? why : assay_err_detail());
		json_decref(j);
		return;
	}
	json_decref(j);
	if (p->ch.id[0] == '\0') {
		log_debug("push: nothing due; asking again in %lld ms",
		    (long long)p->ch.wait_ms);
		p->backoff = 0;
		arm(a, PUSH_IDLE, (double)p->ch.wait_ms / 1000.0);
		return;
	}
	p->received = clock_mono();
	log_debug("push: challenge %.16s... (%s), deadline %lld ms", p->ch.id,
	    p->ch.request, (long long)p->ch.deadline_ms);
	collect_round(a);
}

static void
on_challenge(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct agent *a = arg;
	char why[300];

	if (err != 0) {
		retry(a, PUSH_BACKOFF_MIN, "asking for a challenge: %s",
		    assay_err_detail());
		return;
	}
	if (status == 200) {
		challenge_ok(a, body, len);
		return;
	}
	error_text(body, len, why, sizeof(why));
	if (status == 403 || status == 404)
		recheck_enrollment(a, status, why);
	else if (status == 409) {
		/*
		 * Not admitted or stopped: no growing backoff, the verifier
		 * expects the agent within `timeout` once an admin acts.
		 */
		a->pushl->backoff = 0;
		retry(a, PUSH_BACKOFF_REFUSED, "the verifier refuses rounds: %s", why);
	}
	else
		retry(a, PUSH_BACKOFF_MIN, "challenge: verifier answered HTTP %d: %s",
		    status, why);
}

static void
ask(struct agent *a)
{
	char *path;

	if (a->enroll != ENROLL_DONE) {
		log_debug("push: not enrolled; waiting for the enrollment");
		a->pushl->phase = PUSH_PAUSED;
		return;
	}
	path = xasprintf(PUSH_CHALLENGE_PATH, a->id);
	a->pushl->phase = PUSH_ASKING;
	if (http_client_request_max(a->client, "POST", a->vhost, a->vport, path,
	    "application/json", "{}", 2, PUSH_CHALLENGE_TIMEOUT,
	    a->conf.verifier_name, PUSH_CHALLENGE_BODY_MAX, on_challenge, a) != 0)
		retry(a, PUSH_BACKOFF_MIN, "%s", assay_err_detail());
	free(path);
}

static void
push_fire(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;

	if (a->pushl->phase == PUSH_RATE_WAIT)
		collect_round(a);
	else
		ask(a);
}

void
push_enrolled(struct agent *a)
{
	struct push_loop *p = a->pushl;

	if (!a->push)
		return;
	if (p == NULL) {
		p = a->pushl = xcalloc(1, sizeof(*p));
		if ((p->timer = evtimer_new(a->base, push_fire, a)) == NULL)
			fatalx("evtimer_new failed");
		log_info("push: asking %s:%u for challenges", a->vhost, a->vport);
		arm(a, PUSH_IDLE, push_jitter(PUSH_START_JITTER));
		return;
	}
	if (p->phase == PUSH_PAUSED) {
		log_info("push: enrolled; asking for challenges again");
		arm(a, PUSH_IDLE, push_jitter(PUSH_START_JITTER));
	}
}

void
push_free(struct agent *a)
{
	struct push_loop *p = a->pushl;

	if (p == NULL)
		return;
	if (p->timer != NULL)
		event_free(p->timer);
	push_challenge_free(&p->ch);
	free(p->state);
	free(p);
	a->pushl = NULL;
}
