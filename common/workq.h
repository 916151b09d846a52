/*
 * workq.h — a pool of worker threads for work that must not run on the
 * event loop (verifying a round, compiling an uploaded policy): an item's
 * work runs on a worker, its completion back on the loop thread. Items
 * are the caller's, embedded in its own structure; the pool only links
 * them.
 */
#ifndef ASSAY_WORKQ_H
#define ASSAY_WORKQ_H

#include <stddef.h>

#include <event2/event.h>

struct workq_item {
	/* Worker thread: touches only what the item owns. */
	void			(*work)(struct workq_item *);
	/* Loop thread, after work; the callee owns the item again. */
	void			(*done)(struct workq_item *);
	/* Loop thread, from workq_free for an item whose done will never
	 * run (not started, or finished but not delivered). */
	void			(*drop)(struct workq_item *);
	struct workq_item	*next;		/* the pool's */
};

struct workq;

/*
 * nthreads workers delivering on base's loop; 0: none, the loop does the
 * work at delivery (after the submitting callback returns).
 */
struct workq *workq_new(struct event_base *base, int nthreads);
/* Queue an item (loop thread); work, done and drop must be set. */
void	workq_submit(struct workq *q, struct workq_item *it);
/* Items submitted and not yet delivered (any thread). */
size_t	workq_depth(struct workq *q);
/*
 * Wait for the items being worked on, then drop every item not delivered
 * (drop, in submission order) and stop the workers. Loop thread.
 */
void	workq_free(struct workq *q);

#endif
