/*
 * test_workq.c — the worker pool: work runs off the loop thread, done on
 * it, every item is delivered exactly once; workq_free waits for the
 * items being worked on and drops the rest (none lost, none twice).
 * Without threads the loop works each item after the submitting code
 * returns, then delivers it.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/workq.h"
#include "common/xmalloc.h"

struct item {
	struct workq_item	 wq;
	pthread_t		 loop;
	int			 worked_off_loop;
	int			*done_count;
	int			*drop_count;
	int			 delay_ms;
	int			 done, dropped;
	struct event_base	*base;
	int			 stop_at;
};

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
it_work(struct workq_item *w)
{
	struct item *it = (struct item *)w;

	it->worked_off_loop = !pthread_equal(pthread_self(), it->loop);
	if (it->delay_ms > 0)
		nap(it->delay_ms);
}

static void
it_done(struct workq_item *w)
{
	struct item *it = (struct item *)w;

	ck_assert(pthread_equal(pthread_self(), it->loop));
	it->done++;
	if (++*it->done_count == it->stop_at)
		event_base_loopbreak(it->base);
}

static void
it_drop(struct workq_item *w)
{
	struct item *it = (struct item *)w;

	it->dropped++;
	(*it->drop_count)++;
}

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	ck_abort_msg("items not delivered in 30 s");
}

static struct event_base *
new_base(void)
{
	ck_assert_int_eq(evthread_use_pthreads(), 0);
	return event_base_new();
}

static void
items_init(struct item *v, int n, struct event_base *base, int *dc, int *xc,
    int delay, int stop_at)
{
	for (int i = 0; i < n; i++) {
		v[i].wq.work = it_work;
		v[i].wq.done = it_done;
		v[i].wq.drop = it_drop;
		v[i].loop = pthread_self();
		v[i].done_count = dc;
		v[i].drop_count = xc;
		v[i].delay_ms = delay;
		v[i].base = base;
		v[i].stop_at = stop_at;
	}
}

START_TEST(every_item_is_worked_off_the_loop_and_done_on_it_once)
{
	enum { N = 500 };
	struct event_base *base = new_base();
	struct workq *q = workq_new(base, 4);
	struct item *v = xcalloc(N, sizeof(*v));
	int done = 0, dropped = 0;

	struct event *guard = evtimer_new(base, guard_cb, NULL);
	struct timeval tv = { 30, 0 };

	/* The loop has to run until the last delivery breaks it. */
	evtimer_add(guard, &tv);
	items_init(v, N, base, &done, &dropped, 0, N);
	for (int i = 0; i < N; i++)
		workq_submit(q, &v[i].wq);
	ck_assert_int_le((int)workq_depth(q), N);
	event_base_dispatch(base);
	event_free(guard);
	ck_assert_int_eq(done, N);
	ck_assert_int_eq((int)workq_depth(q), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(v[i].done, 1);
		ck_assert_int_eq(v[i].dropped, 0);
		ck_assert(v[i].worked_off_loop);
	}
	workq_free(q);
	ck_assert_int_eq(dropped, 0);
	free(v);
	event_base_free(base);
}
END_TEST

START_TEST(free_drops_what_was_not_delivered_and_nothing_twice)
{
	enum { N = 20 };
	struct event_base *base = new_base();
	struct workq *q = workq_new(base, 2);
	struct item *v = xcalloc(N, sizeof(*v));
	int done = 0, dropped = 0;

	/* Slow items, and the loop never runs: none can be delivered. */
	items_init(v, N, base, &done, &dropped, 50, -1);
	for (int i = 0; i < N; i++)
		workq_submit(q, &v[i].wq);
	ck_assert_int_eq((int)workq_depth(q), N);
	nap(20);
	workq_free(q);
	ck_assert_int_eq(done, 0);
	ck_assert_int_eq(dropped, N);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(v[i].dropped, 1);
	free(v);
	event_base_free(base);
}
END_TEST

START_TEST(free_of_an_idle_pool_and_of_null)
{
	struct event_base *base = new_base();

	workq_free(workq_new(base, 3));
	workq_free(workq_new(base, 0));	/* no workers */
	workq_free(NULL);
	event_base_free(base);
}
END_TEST

/* Submitted from a callback: its work must wait until the callback returns. */
static int submitting;

static void
inline_work(struct workq_item *w)
{
	struct item *it = (struct item *)w;

	ck_assert_int_eq(submitting, 0);
	it->worked_off_loop = !pthread_equal(pthread_self(), it->loop);
}

START_TEST(without_threads_the_loop_works_after_the_submitter)
{
	enum { N = 50 };
	struct event_base *base = new_base();
	struct workq *q = workq_new(base, 0);
	struct item *v = xcalloc(N, sizeof(*v));
	int done = 0, dropped = 0;

	items_init(v, N, base, &done, &dropped, 0, N);
	submitting = 1;
	for (int i = 0; i < N; i++) {
		v[i].wq.work = inline_work;
		workq_submit(q, &v[i].wq);
	}
	submitting = 0;
	ck_assert_int_eq(done, 0);
	ck_assert_int_eq((int)workq_depth(q), N);
	event_base_dispatch(base);
	ck_assert_int_eq(done, N);
	ck_assert_int_eq((int)workq_depth(q), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(v[i].done, 1);
		ck_assert(!v[i].worked_off_loop);
	}
	/* Never delivered: dropped at free, not worked. */
	items_init(v, 2, base, &done, &dropped, 0, -1);
	v[0].done = v[1].done = 0;
	workq_submit(q, &v[0].wq);
	workq_submit(q, &v[1].wq);
	workq_free(q);
	ck_assert_int_eq(dropped, 2);
	ck_assert_int_eq(v[0].done + v[1].done, 0);
	free(v);
	event_base_free(base);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("workq");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_item_is_worked_off_the_loop_and_done_on_it_once);
	tcase_add_test(tc, free_drops_what_was_not_delivered_and_nothing_twice);
	tcase_add_test(tc, free_of_an_idle_pool_and_of_null);
	tcase_add_test(tc, without_threads_the_loop_works_after_the_submitter);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
