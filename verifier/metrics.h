/*
 * metrics.h — the verifier's Prometheus metrics: counters and histograms
 * fed from the scheduler, the agent registry and the notifier, gauges
 * sampled at scrape time, and the text-format renderer behind GET /metrics.
 */
#ifndef ASSAY_METRICS_H
#define ASSAY_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "verifier/store.h"

#define HIST_MAX_BUCKETS	16

struct histogram {
	const double	*le;		/* upper bounds, ascending */
	size_t		 nle;
	uint64_t	 bucket[HIST_MAX_BUCKETS];	/* per bucket, not cumulative */
	uint64_t	 count;		/* includes observations above every le */
	double		 sum;
};

struct strmap;

struct metrics {
	uint64_t		 attest_ok, attest_fail, poll_errors;
	uint64_t		 ima_waits;	/* polls put off for IMA budget */
	struct strmap		*failures;	/* failure id -> uint64_t * */
	struct histogram	 verify_seconds;
	struct histogram	 db_write_seconds;
	uint64_t		 notify_sent, notify_failed, notify_errors;
};

/* Sampled when rendering. */
struct metrics_gauges {
	uint64_t	agents[AGENT_STATE_MAX];
	uint64_t	verify_queue;
	uint64_t	polls_inflight;
	uint64_t	ima_reserved;		/* IMA list bytes reserved */
	uint64_t	notify_pending;
	uint64_t	notify_inflight;
	/* the store (store_health) */
	uint64_t	store_failing;		/* 0 or 1 */
	uint64_t	store_pending_writes;
	uint64_t	store_write_errors;	/* counter, kept by the store */
	uint64_t	store_dropped;		/* counter */
	uint64_t	store_db_bytes;
	int64_t		events_rows;		/* -1: not sampled yet */
	uint64_t	events_pruned;		/* counter */
	uint64_t	events_folded;		/* counter */
	/* many verifiers on one database (cluster.c); all 0 without */
	int		cluster;		/* 1: the fields below count */
	const char	*node;
	int		fleet_ok;		/* fleet_agents sampled */
	uint64_t	fleet_agents[AGENT_STATE_MAX];	/* every node's */
	uint64_t	live_nodes, fenced;
	uint64_t	takeovers, released, leases_lost;	/* counters */
	uint64_t	commands_run, commands_forwarded;	/* counters */
};

struct metrics *metrics_new(void);
void	metrics_free(struct metrics *m);
/* Each failure id of a failed round; all of these are NULL-safe in m. */
void	metrics_failure(struct metrics *m, const char *id);
void	metrics_verify_latency(struct metrics *m, double seconds);
/* A round verified (ok or failed), a poll that failed in transport, a
 * poll put off for IMA budget. */
void	metrics_attest(struct metrics *m, int ok);
void	metrics_poll_error(struct metrics *m);
void	metrics_ima_wait(struct metrics *m);
void	metrics_db_write(struct metrics *m, double seconds);
/* A notification delivered, given up, or one failed attempt. */
void	metrics_notify(struct metrics *m, int sent, int failed, int errors);
void	histogram_observe(struct histogram *h, double v);

/* Prometheus text exposition format 0.0.4. */
void	metrics_render(const struct metrics *m, const struct metrics_gauges *g,
	    FILE *f);

#endif
