/*
 * verify.c — the check pipeline for one evidence document and the worker
 * pool that runs it. Stages are a table; a stage that needs trustworthy
 * PCR values runs only when the quote checks passed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/verify.h"

struct stage {
	const char	*name;
	int		 needs_quote;	/* skip unless the quote verified */
	void		(*fn)(struct verify_job *, const struct evidence_doc *);
};

static void
stage_quote(struct verify_job *j, const struct evidence_doc *d)
{
	struct quote_evidence ev = {
		.attest = d->attest, .attest_len = d->attest_len,
		.sig = d->sig, .sig_len = d->sig_len, .pcrs = &d->pcrs,
	};
	struct quote_expect ex = {
		.ak = j->ak,
		.ak_name = j->ak_name_len > 0 ? j->ak_name : NULL,
		.ak_name_len = j->ak_name_len,
		.nonce = j->nonce, .nonce_len = j->nonce_len,
		.sel = &j->sel,
		.prev = j->prev.valid ? &j->prev : NULL,
	};

	(void)quote_verify(&ev, &ex, &j->qres, &j->verdict);
	/* A value the quote did not cover must not reach any policy rule. */
	if (bind_pcr_values(&d->pcrs, &j->sel) != 0)
		verdict_fail(&j->verdict, "quote.pcr_select", "%s",
		    assay_err_detail());
}

static void
stage_static_pcrs(struct verify_job *j, const struct evidence_doc *d)
{
	if (j->policy != NULL)
		policy_check_pcrs(j->policy, &d->pcrs, &j->verdict);
}

static const struct stage stages[] = {
	{ "quote",	0, stage_quote },
	{ "pcrs",	1, stage_static_pcrs },
	{ "measured_boot", 1, stage_measured_boot },
	{ "ima",	1, stage_ima },
};

struct verify_job *
verify_job_new(const char *agent_id, uint8_t *body, size_t body_len,
    EVP_PKEY *ak, struct policy *policy)
{
	struct verify_job *j = xcalloc(1, sizeof(*j));

	snprintf(j->agent_id, sizeof(j->agent_id), "%s", agent_id);
	j->body = body;
	j->body_len = body_len;
	if (ak != NULL && EVP_PKEY_up_ref(ak) == 1)
		j->ak = ak;
	if (policy != NULL)
		j->policy = policy_ref(policy);
	verdict_init(&j->verdict);
	return j;
}

void
verify_job_free(struct verify_job *j)
{
	if (j == NULL)
		return;
	free(j->body);
	EVP_PKEY_free(j->ak);
	policy_unref(j->policy);
	free(j);
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
verify_run(struct verify_job *j)
{
	struct evidence_doc d;
	double t0 = now_seconds();
	int quote_ok;

	verdict_init(&j->verdict);
	memset(&j->qres, 0, sizeof(j->qres));
	j->ima_out = j->ima_in;
	j->mb_out = j->mb_in;
	j->ima_accepted = 0;
	j->retry = 0;
	if (evidence_doc_parse(j->body, j->body_len, &d) != 0) {
		verdict_fail(&j->verdict, "evidence.format", "%s", assay_err_detail());
		goto out;
	}
	if (j->ak == NULL) {
		verdict_fail(&j->verdict, "ak.mismatch", "no usable AK enrolled");
		goto done;
	}
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		quote_ok = verdict_ok(&j->verdict);
		if (stages[i].needs_quote && !quote_ok)
			continue;
		stages[i].fn(j, &d);
	}
 done:
	evidence_doc_free(&d);
 out:
	j->seconds = now_seconds() - t0;
}

struct verify_pool {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct verify_job	*in_head, *in_tail;
	struct verify_job	*out_head, *out_tail;
	size_t			 depth;
	int			 stopping;
	int			 nthreads;
	pthread_t		*threads;
	struct event		*wake;
	verify_done_cb		 done;
	void			*arg;
};

static void
push(struct verify_job **head, struct verify_job **tail, struct verify_job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct verify_job *
pop(struct verify_job **head, struct verify_job **tail)
{
	struct verify_job *j = *head;

	if (j != NULL) {
		*head = j->next;
		if (*head == NULL)
			*tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void *
worker(void *arg)
{
	struct verify_pool *p = arg;
	struct verify_job *j;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->in_head == NULL && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if ((j = pop(&p->in_head, &p->in_tail)) == NULL)
			break;		/* stopping and drained */
		pthread_mutex_unlock(&p->mu);
		verify_run(j);
		pthread_mutex_lock(&p->mu);
		push(&p->out_head, &p->out_tail, j);
		event_active(p->wake, EV_READ, 0);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
deliver(evutil_socket_t fd, short what, void *arg)
{
	struct verify_pool *p = arg;
	struct verify_job *list, *j;

	pthread_mutex_lock(&p->mu);
	list = p->out_head;
	p->out_head = p->out_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	while ((j = list) != NULL) {
		list = j->next;
		pthread_mutex_lock(&p->mu);
		p->depth--;
		pthread_mutex_unlock(&p->mu);
		p->done(j, p->arg);	/* callee owns j */
	}
}

struct verify_pool *
verify_pool_new(struct event_base *base, int nthreads, verify_done_cb done, void *arg)
{
	struct verify_pool *p = xcalloc(1, sizeof(*p));

	if (nthreads < 1)
		nthreads = 1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->done = done;
	p->arg = arg;
	p->nthreads = nthreads;
	if ((p->wake = event_new(base, -1, 0, deliver, p)) == NULL)
		fatalx("verify pool: event_new failed");
	p->threads = xcalloc(nthreads, sizeof(*p->threads));
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
			fatalx("verify pool: pthread_create failed");
	return p;
}

void
verify_pool_submit(struct verify_pool *p, struct verify_job *j)
{
	pthread_mutex_lock(&p->mu);
	push(&p->in_head, &p->in_tail, j);
	p->depth++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

size_t
verify_pool_depth(struct verify_pool *p)
{
	size_t d;

	pthread_mutex_lock(&p->mu);
	d = p->depth;
	pthread_mutex_unlock(&p->mu);
	return d;
}

void
verify_pool_free(struct verify_pool *p)
{
	struct verify_job *j;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	/* Jobs not started are dropped: the round is simply repeated later. */
	while ((j = pop(&p->in_head, &p->in_tail)) != NULL)
		verify_job_free(j);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while ((j = pop(&p->out_head, &p->out_tail)) != NULL)
		verify_job_free(j);
	event_free(p->wake);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}
