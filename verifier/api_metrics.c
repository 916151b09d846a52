/*
 * api_metrics.c — GET /metrics: the gauges read from the modules that own
 * them (agent states, the verify queue, polls and IMA budget, the
 * notification queue, the store's health) and rendered with the counters
 * and histograms the modules fed into metrics.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "common/log.h"
#include "common/strmap.h"
#include "verifier/api.h"
#include "verifier/cluster.h"
#include "verifier/metrics.h"
#include "verifier/notify.h"
#include "verifier/verifier.h"
#include "verifier/verify_pool.h"

/* g's store fields from store_health (s may be NULL). */
static void
store_gauges(struct store *s, struct metrics_gauges *g)
{
	struct store_health h;

	g->events_rows = -1;
	if (s == NULL)
		return;
	store_health(s, &h);
	g->store_failing = h.failing ? 1 : 0;
	g->store_pending_writes = h.pending;
	g->store_write_errors = h.write_errors;
	g->store_dropped = h.dropped;
	g->store_db_bytes = h.db_bytes;
	g->events_rows = h.events_rows;
	g->events_pruned = h.events_pruned;
	g->events_folded = h.events_folded;
}

void
api_metrics(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct metrics_gauges g;
	struct metrics *m = v->metrics;
	const char *id;
	void *val;
	size_t pos = 0, len = 0;
	char *buf = NULL;
	FILE *f;

	memset(&g, 0, sizeof(g));
	while (strmap_next(v->agents, &pos, &id, &val)) {
		int st = ((struct vagent *)val)->rec.state;

		if (st >= 0 && st < AGENT_STATE_MAX)
			g.agents[st]++;
	}
	g.verify_queue = verify_pool_depth(v->pool);
	g.polls_inflight = v->inflight > 0 ? (uint64_t)v->inflight : 0;
	g.ima_reserved = v->ima_reserved;
	notify_gauges(v->notify, &g.notify_pending, &g.notify_inflight);
	store_gauges(v->store, &g);
	cluster_gauges(v->cluster, &g);
	if ((f = open_memstream(&buf, &len)) == NULL)
		fatalx("open_memstream failed");
	metrics_render(m, &g, f);
	fclose(f);
	http_reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf,
	    len);
	free(buf);
}
