/*
 * cluster_int.h — the cluster state shared by cluster.c (heartbeat,
 * leases, balance) and cluster_cmd.c (commands and held requests).
 */
#ifndef ASSAY_CLUSTER_INT_H
#define ASSAY_CLUSTER_INT_H

#include <stdint.h>

#include <event2/event.h>

struct waiter;

struct cluster {
	struct verifier	*v;
	char		*node;
	int64_t		 beat_ms, ttl_ms, cmd_timeout_ms;
	int64_t		 started_ms;	/* unix ms */
	double		 fence_until;	/* clock_mono: lease time left */
	int		 fenced;	/* database lost: attesting nothing */
	char		*error;		/* last database error while fenced */
	int64_t		 error_since;	/* unix s */
	unsigned	 ticks;
	struct event	*beat_timer;	/* heartbeat, leases, balance */
	struct event	*cmd_timer;	/* commands and held requests */
	struct event	*fence_timer;	/* fires at fence_until */
	struct waiter	*waiters;
	int64_t		 live_nodes, fleet;
	uint64_t	 claimed, released, lost, commands_run, forwarded;
};

/* Load agent id (its lease is ours) into memory and schedule it. */
struct vagent *cluster_load(struct cluster *c, const char *id);

#endif
