/*
 * verify_pool.h — the worker pool that runs verify jobs (the appraisal
 * engine's, common/appraise/verify.h) off the event loop and hands each
 * result back to it.
 */
#ifndef ASSAY_VERIFY_POOL_H
#define ASSAY_VERIFY_POOL_H

#include <stddef.h>

#include <event2/event.h>

#include "common/appraise/verify.h"

struct verify_pool;
typedef void (*verify_done_cb)(struct verify_job *j, void *arg);

/* nthreads workers; done runs on base's loop thread for each finished job. */
struct verify_pool *verify_pool_new(struct event_base *base, int nthreads,
	    verify_done_cb done, void *arg);
void	verify_pool_submit(struct verify_pool *p, struct verify_job *j);
size_t	verify_pool_depth(struct verify_pool *p);
/* Stops workers after the jobs in flight; finished jobs are delivered or freed. */
void	verify_pool_free(struct verify_pool *p);

#endif
