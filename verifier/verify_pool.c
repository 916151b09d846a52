/*
 * verify_pool.c — the verifier's worker pool for verify jobs (on
 * common/workq): a job is verified on a worker thread (its audit record
 * built there too, when asked) and its result handed to the caller's
 * callback on the event loop; jobs never run or
 * never delivered at shutdown are freed (the round is asked again later).
 * A small answer (at most VERIFY_INLINE_MAX bytes: a quote with no event
 * log and at most a few IMA entries, bounded work of a signature check or
 * two) is verified on the loop itself, once the submitting callback has
 * returned: two thread wake-ups cost more than its work.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "common/appraise/audit_round.h"
#include "common/appraise/verify.h"
#include "common/workq.h"
#include "common/xmalloc.h"
#include "verifier/verify_pool.h"

#define VERIFY_INLINE_MAX	8192	/* answer bytes verified on the loop */

struct verify_pool {
	struct workq		*q;
	struct workq		*inl;		/* no threads: on the loop */
	verify_done_cb		 done;
	void			*arg;
};

/* A job on the queue: the queue's link beside it, not inside it. */
struct pool_item {
	struct workq_item	 wq;		/* first: the queue's view */
	struct verify_job	*j;
	struct verify_pool	*p;
};

static void
job_work(struct workq_item *it)
{
	struct verify_job *j = ((struct pool_item *)it)->j;

	verify_run(j);
	if (j->keep_body) {
		/* The audit record is built here, off the event loop. */
		j->audit_rec = audit_round_record(j, j->ak_pub, j->ak_pub_len);
		free(j->kept);
		j->kept = NULL;
		j->kept_len = 0;
	}
}

static void
job_done(struct workq_item *it)
{
	struct pool_item *pi = (struct pool_item *)it;

	pi->p->done(pi->j, pi->p->arg);	/* callee owns the job */
	free(pi);
}

/* Not run, or not delivered: the round is simply repeated later. */
static void
job_drop(struct workq_item *it)
{
	struct pool_item *pi = (struct pool_item *)it;

	verify_job_free(pi->j);
	free(pi);
}

struct verify_pool *
verify_pool_new(struct event_base *base, int nthreads, verify_done_cb done, void *arg)
{
	struct verify_pool *p = xcalloc(1, sizeof(*p));

	p->q = workq_new(base, nthreads);
	p->inl = workq_new(base, 0);
	p->done = done;
	p->arg = arg;
	return p;
}

void
verify_pool_submit(struct verify_pool *p, struct verify_job *j)
{
	struct pool_item *pi = xcalloc(1, sizeof(*pi));

	pi->wq.work = job_work;
	pi->wq.done = job_done;
	pi->wq.drop = job_drop;
	pi->j = j;
	pi->p = p;
	workq_submit(j->body_len <= VERIFY_INLINE_MAX ? p->inl : p->q, &pi->wq);
}

size_t
verify_pool_depth(struct verify_pool *p)
{
	return workq_depth(p->q) + workq_depth(p->inl);
}

void
verify_pool_free(struct verify_pool *p)
{
	if (p == NULL)
		return;
	workq_free(p->q);
	workq_free(p->inl);
	free(p);
}
