/*
 * workq.c — worker threads with an inbound queue (loop to workers) and an
 * outbound one (workers to loop); a finished item wakes the loop through
 * an event made active from the worker (libevent's pthreads locking must
 * be on: evthread_use_pthreads before the base is made). Without threads
 * (nthreads 0) the loop itself does the work of a submitted item just
 * before delivering it, once the submitting callback has returned.
 */
#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/workq.h"
#include "common/xmalloc.h"

struct wlist {
	struct workq_item	*head, *tail;
};

struct workq {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct wlist		 in, out;
	size_t			 depth;
	int			 stopping;
	int			 nthreads;
	pthread_t		*threads;
	struct event		*wake;
};

static void
wpush(struct wlist *l, struct workq_item *it)
{
	it->next = NULL;
	if (l->tail != NULL)
		l->tail->next = it;
	else
		l->head = it;
	l->tail = it;
}

static struct workq_item *
wpop(struct wlist *l)
{
	struct workq_item *it = l->head;

	if (it != NULL) {
		l->head = it->next;
		if (l->head == NULL)
			l->tail = NULL;
		it->next = NULL;
	}
	return it;
}

static void *
worker(void *arg)
{
	struct workq *q = arg;
	struct workq_item *it;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->in.head == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stopping || (it = wpop(&q->in)) == NULL)
			break;
		pthread_mutex_unlock(&q->mu);
		it->work(it);
		pthread_mutex_lock(&q->mu);
		wpush(&q->out, it);
		event_active(q->wake, EV_READ, 0);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* Loop thread: hand every finished item to its done. */
static void
deliver(evutil_socket_t fd, short what, void *arg)
{
	struct workq *q = arg;
	struct workq_item *it;
	struct wlist l;

	(void)fd; (void)what;
	pthread_mutex_lock(&q->mu);
	if (q->nthreads == 0) {
		/* No workers: the loop does the work, then delivers it. */
		while ((it = wpop(&q->in)) != NULL) {
			pthread_mutex_unlock(&q->mu);
			it->work(it);
			pthread_mutex_lock(&q->mu);
			wpush(&q->out, it);
		}
	}
	l = q->out;
	q->out.head = q->out.tail = NULL;
	pthread_mutex_unlock(&q->mu);
	while ((it = wpop(&l)) != NULL) {
		pthread_mutex_lock(&q->mu);
		q->depth--;
		pthread_mutex_unlock(&q->mu);
		it->done(it);
	}
}

struct workq *
workq_new(struct event_base *base, int nthreads)
{
	struct workq *q = xcalloc(1, sizeof(*q));

	if (nthreads < 0)
		nthreads = 0;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->nthreads = nthreads;
	if ((q->wake = event_new(base, -1, 0, deliver, q)) == NULL)
		fatalx("workq: event_new failed");
	q->threads = xcalloc((size_t)nthreads, sizeof(*q->threads));
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&q->threads[i], NULL, worker, q) != 0)
			fatalx("workq: pthread_create failed");
	return q;
}

void
workq_submit(struct workq *q, struct workq_item *it)
{
	pthread_mutex_lock(&q->mu);
	wpush(&q->in, it);
	q->depth++;
	if (q->nthreads == 0)
		event_active(q->wake, EV_READ, 0);
	else
		pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

size_t
workq_depth(struct workq *q)
{
	size_t d;

	pthread_mutex_lock(&q->mu);
	d = q->depth;
	pthread_mutex_unlock(&q->mu);
	return d;
}

void
workq_free(struct workq *q)
{
	struct workq_item *it;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	/* Workers are gone: no lock needed from here. */
	while ((it = wpop(&q->out)) != NULL)
		it->drop(it);
	while ((it = wpop(&q->in)) != NULL)
		it->drop(it);
	event_free(q->wake);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->threads);
	free(q);
}
