/*
 * cluster.c — one verifier among many on a PostgreSQL database: the
 * heartbeat, the leases this node holds and the balance between nodes.
 *
 * Every cluster.heartbeat seconds the node stamps its row with the
 * database clock. A node is live while its stamp is younger than
 * cluster.lease_ttl; the agents whose lease a dead node holds may be
 * claimed by any live node. Safety does not rest on timing alone: every
 * agent write is conditional on the writer holding the lease (store.h), so
 * a node that lost an agent cannot write its state. Timing keeps the
 * attestation itself single: a node that has not stamped its row for
 * lease_ttl (by its own monotonic clock, counted from before the stamp it
 * last managed) drops every agent from memory before anyone may take them.
 *
 * Balance: with F admitted agents and N live nodes a node holds at most
 * ceil(F/N); one over it releases the surplus (agents with no round in
 * flight), one under it claims agents nobody live holds. A node joining
 * waits one heartbeat before claiming, so it sees its peers first.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/cluster.h"
#include "verifier/cluster_int.h"
#include "verifier/metrics.h"
#include "verifier/notify.h"
#include "verifier/verifier.h"

struct vagent *
cluster_load(struct cluster *c, const char *id)
{
	struct verifier *v = c->v;
	struct agent_rec rec;
	struct vagent *va;

	if ((va = agent_find(v, id)) != NULL)
		return va;
	if (store_agent_get(v->store, id, &rec) != 0) {
		log_warnx("cluster: agent %s: %s", id, assay_err_detail());
		return NULL;
	}
	va = agent_add(v, &rec);
	agent_rec_free(&rec);
	sched_join(va);
	return va;
}

/* Forget va here (another node holds it, or this one let it go). */
static void
drop(struct cluster *c, struct vagent *va, const char *why)
{
	log_info("cluster: agent %s: %s", va->rec.id, why);
	sched_remove(va);
}

void
cluster_lease_lost(struct cluster *c, struct vagent *va)
{
	if (c == NULL || va->lease_lost)
		return;
	va->lease_lost = 1;	/* polls stop; the next tick drops it */
	c->lost++;
	log_warnx("cluster: agent %s: lease lost to another node; this node "
	    "stops attesting it", va->rec.id);
}

/* Database lost for lease_ttl: drop every agent before anyone takes them. */
static void
fence(struct cluster *c)
{
	struct verifier *v = c->v;
	struct vagent **all;
	const char *id;
	void *val;
	size_t pos = 0, n = 0;

	c->fenced = 1;
	log_err("cluster: node %s cannot reach the database for %lld s: it "
	    "stops attesting its %zu agents (others take them over): %s",
	    c->node, (long long)(c->ttl_ms / 1000), strmap_count(v->agents),
	    c->error != NULL ? c->error : "");
	all = xcalloc(strmap_count(v->agents) + 1, sizeof(*all));
	while (strmap_next(v->agents, &pos, &id, &val))
		all[n++] = val;
	for (size_t i = 0; i < n; i++)
		sched_remove(all[i]);
	free(all);
}

static void
fence_fire(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *c = arg;

	if (!c->fenced && clock_mono() >= c->fence_until)
		fence(c);
}

/*
 * The heartbeat started at t0 was stamped: others may take this node's
 * agents lease_ttl after the stamp, so this node stops (a timer of its
 * own, not the next heartbeat) at 80% of that.
 */
static void
arm_fence(struct cluster *c, double t0)
{
	double left;
	struct timeval tv;

	c->fence_until = t0 + (double)c->ttl_ms / 1000.0 * 0.8;
	left = c->fence_until - clock_mono();
	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	evtimer_add(c->fence_timer, &tv);
}

static void
beat_failed(struct cluster *c, double t0)
{
	if (c->error == NULL || strcmp(c->error, assay_err_detail()) != 0) {
		free(c->error);
		c->error = xstrdup(assay_err_detail());
		log_warnx("cluster: heartbeat failed: %s", c->error);
	}
	if (c->error_since == 0)
		c->error_since = clock_unix();
	if (!c->fenced && t0 >= c->fence_until)
		fence(c);
}

/* Keep memory equal to the leases the database says are ours. */
static void
sync_owned(struct cluster *c)
{
	struct verifier *v = c->v;
	struct strmap *mine = strmap_new();
	struct vagent **gone;
	char **ids;
	const char *id;
	void *val;
	size_t n, pos = 0, ngone = 0;

	if (store_leases_mine(v->store, &ids, &n) != 0) {
		log_warnx("cluster: leases: %s", assay_err_detail());
		strmap_free(mine);
		return;
	}
	for (size_t i = 0; i < n; i++)
		strmap_put(mine, ids[i], (void *)1);
	gone = xcalloc(strmap_count(v->agents) + 1, sizeof(*gone));
	while (strmap_next(v->agents, &pos, &id, &val))
		if (strmap_get(mine, id) == NULL ||
		    ((struct vagent *)val)->lease_lost)
			gone[ngone++] = val;
	for (size_t i = 0; i < ngone; i++)
		drop(c, gone[i], "held by another node now");
	/* One with changes still queued loads once they have landed. */
	for (size_t i = 0; i < n; i++)
		if (agent_find(v, ids[i]) == NULL &&
		    !store_wq_holds(v->store, ids[i]) &&
		    cluster_load(c, ids[i]) != NULL)
			log_info("cluster: agent %s: attested by this node",
			    ids[i]);
	free(gone);
	store_ids_free(ids, n);
	strmap_free(mine);
}

/* Admitted agents in memory (what counts against the fair share). */
static int64_t
owned_admitted(struct verifier *v)
{
	const char *id;
	void *val;
	size_t pos = 0;
	int64_t n = 0;

	while (strmap_next(v->agents, &pos, &id, &val))
		if (((struct vagent *)val)->rec.admitted)
			n++;
	return n;
}

/* Let go of k admitted agents with nothing in flight. */
static void
release(struct cluster *c, int64_t k)
{
	struct verifier *v = c->v;
	struct vagent **pick;
	const char *id;
	void *val;
	size_t pos = 0, n = 0;

	if (store_wq_len(v->store) > 0)
		return;		/* unwritten changes: keep everything */
	pick = xcalloc((size_t)k + 1, sizeof(*pick));
	while ((int64_t)n < k && strmap_next(v->agents, &pos, &id, &val)) {
		struct vagent *va = val;

		/* A push agent's lease is where it talks: not balanced. */
		if (va->rec.admitted && !va->inflight && !va->rec.push)
			pick[n++] = va;
	}
	for (size_t i = 0; i < n; i++) {
		if (store_lease_release(v->store, pick[i]->rec.id) != 0) {
			log_warnx("cluster: release: %s", assay_err_detail());
			break;
		}
		c->released++;
		drop(c, pick[i], "released to balance the nodes");
	}
	free(pick);
}

static void
balance(struct cluster *c)
{
	struct verifier *v = c->v;
	int64_t live, fleet, least, share, have, floor_;
	char **ids;
	size_t n;

	if (store_fleet_view(v->store, c->ttl_ms, &live, &fleet, &least) != 0) {
		log_warnx("cluster: fleet view: %s", assay_err_detail());
		return;
	}
	c->live_nodes = live;
	c->fleet = fleet;
	if (live < 1 || c->ticks < 2)
		return;
	share = (fleet + live - 1) / live;
	floor_ = fleet / live;
	have = owned_admitted(v);
	if (have > share) {
		release(c, have - share);
		return;
	}
	if (have == share && share > floor_ && least < floor_) {
		release(c, 1);	/* a peer is short: make room for it */
		return;
	}
	if (have >= share)
		return;
	if (store_lease_claim(v->store, c->ttl_ms, share - have, &ids, &n) != 0) {
		log_warnx("cluster: claim: %s", assay_err_detail());
		return;
	}
	for (size_t i = 0; i < n; i++) {
		c->claimed++;
		if (cluster_load(c, ids[i]) != NULL)
			log_notice("cluster: agent %s: taken over by node %s",
			    ids[i], c->node);
	}
	store_ids_free(ids, n);
}

static void
beat_tick(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *c = arg;
	struct verifier *v = c->v;
	double t0 = clock_mono();

	if (store_node_beat(v->store, c->started_ms, owned_admitted(v),
	    c->fenced ? "fenced" : "ok") != 0) {
		beat_failed(c, t0);
		return;
	}
	/* Others wait lease_ttl after the stamp; stop a little before. */
	arm_fence(c, t0);
	if (c->fenced || c->error != NULL) {
		log_notice("cluster: node %s reaches the database again",
		    c->node);
		c->fenced = 0;
		free(c->error);
		c->error = NULL;
		c->error_since = 0;
		/*
		 * Peers cut off with us may not have stamped their rows yet:
		 * claim nothing before a heartbeat has passed.
		 */
		c->ticks = 0;
	}
	c->ticks++;
	policies_sync(v);	/* before taking agents that may name them */
	/* Queued changes land before anything is reloaded from the store. */
	if (store_wq_len(v->store) > 0 &&
	    store_wq_flush(v->store, 1, NULL) == ASSAY_OK)
		notify_kick(v->notify);
	sync_owned(c);
	balance(c);
	(void)store_commands_prune(v->store, 3600 * 1000);
	notify_kick(v->notify);	/* rows other nodes queued */
}

static void
cmd_tick(evutil_socket_t fd, short what, void *arg)
{
	struct cluster *c = arg;

	if (!cluster_fenced(c))
		cluster_commands(c);
}

static char *
default_node(void)
{
	char host[256];

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		return xstrdup("verifier");
	host[sizeof(host) - 1] = '\0';
	return xstrdup(host);
}

int
cluster_start(struct verifier *v)
{
	struct cluster *c;
	struct timeval tv;
	double t0;

	if (store_kind(v->store) != DB_PG)
		return ASSAY_OK;
	c = xcalloc(1, sizeof(*c));
	c->v = v;
	c->node = v->conf.node != NULL ? xstrdup(v->conf.node) : default_node();
	c->beat_ms = v->conf.cluster_heartbeat * 1000;
	c->ttl_ms = v->conf.cluster_lease_ttl * 1000;
	c->cmd_timeout_ms = v->conf.cluster_cmd_timeout * 1000;
	c->started_ms = (int64_t)(clock_unix()) * 1000;
	store_set_node(v->store, c->node);
	v->cluster = c;
	t0 = clock_mono();
	if (store_node_beat(v->store, c->started_ms, 0, "starting") != 0)
		return assay_err_set(ASSAY_ERR_DB, "cluster: first heartbeat: %s",
		    assay_err_detail());
	c->fence_timer = evtimer_new(v->base, fence_fire, c);
	arm_fence(c, t0);
	sync_owned(c);
	c->ticks = 1;
	tv.tv_sec = (time_t)(c->beat_ms / 1000);
	tv.tv_usec = (suseconds_t)(c->beat_ms % 1000) * 1000;
	c->beat_timer = event_new(v->base, -1, EV_PERSIST, beat_tick, c);
	event_add(c->beat_timer, &tv);
	tv.tv_sec = 0;
	tv.tv_usec = 200 * 1000;
	c->cmd_timer = event_new(v->base, -1, EV_PERSIST, cmd_tick, c);
	event_add(c->cmd_timer, &tv);
	log_notice("cluster: node %s joined (heartbeat %lld s, lease %lld s), "
	    "%zu agents held", c->node, (long long)(c->beat_ms / 1000),
	    (long long)(c->ttl_ms / 1000), strmap_count(v->agents));
	return ASSAY_OK;
}

void
cluster_free(struct cluster *c)
{
	if (c == NULL)
		return;
	cluster_waiters_free(c);
	if (c->beat_timer != NULL)
		event_free(c->beat_timer);
	if (c->cmd_timer != NULL)
		event_free(c->cmd_timer);
	if (c->fence_timer != NULL)
		event_free(c->fence_timer);
	free(c->error);
	free(c->node);
	free(c);
}

int
cluster_fenced(const struct cluster *c)
{
	/* Past the deadline counts even before the timer has run. */
	return c != NULL && (c->fenced || clock_mono() >= c->fence_until);
}

int64_t
cluster_ttl_ms(const struct cluster *c)
{
	return c->ttl_ms;
}

const char *
cluster_node(const struct cluster *c)
{
	return c->node;
}

int
cluster_take(struct cluster *c, const char *id, char **owner)
{
	*owner = NULL;
	if (c == NULL)
		return ASSAY_OK;
	if (cluster_fenced(c))
		return assay_err_set(ASSAY_ERR_DB, "node %s cannot reach the "
		    "database", c->node);
	return store_lease_acquire(c->v->store, id, c->ttl_ms, owner);
}

/* The nodes as JSON: live first is not promised, sorted by name. */
static json_t *
nodes_json(struct cluster *c, int *ok)
{
	struct store_node *list;
	json_t *arr;
	size_t n;

	*ok = 0;
	if (store_nodes_list(c->v->store, c->ttl_ms, &list, &n) != 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, json_pack("{s:s, s:b, s:I, s:I, s:I,"
		    " s:s?}", "node", list[i].node, "live", list[i].live,
		    "leases", (json_int_t)list[i].leases,
		    "heartbeat_age_ms", (json_int_t)list[i].age_ms,
		    "started_ms", (json_int_t)list[i].started_ms,
		    "status", list[i].status));
		store_node_free(&list[i]);
	}
	free(list);
	*ok = 1;
	return arr;
}

json_t *
cluster_health(struct cluster *c, int *ok)
{
	json_t *o, *nodes;
	int nok;

	if (!c->fenced && cluster_fenced(c))
		fence(c);	/* due, its timer not run yet: say it as it is */
	*ok = !c->fenced;
	nodes = *ok ? nodes_json(c, &nok) : NULL;
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "node",
	    c->node, "role", *ok ? "attesting" : "fenced",
	    "held", (json_int_t)strmap_count(c->v->agents),
	    "live_nodes", (json_int_t)c->live_nodes,
	    "fleet_admitted", (json_int_t)c->fleet,
	    "taken_over", (json_int_t)c->claimed,
	    "released", (json_int_t)c->released,
	    "lost", (json_int_t)c->lost);
	if (nodes != NULL)
		json_object_set_new(o, "nodes", nodes);
	if (c->error != NULL) {
		json_object_set_new(o, "database_error", json_string(c->error));
		json_object_set_new(o, "database_failing_since",
		    json_integer((json_int_t)c->error_since));
	}
	return o;
}

void
cluster_gauges(struct cluster *c, struct metrics_gauges *g)
{
	int64_t counts[AGENT_STATE_MAX];

	if (c == NULL)
		return;
	g->cluster = 1;
	g->node = c->node;
	g->live_nodes = (uint64_t)c->live_nodes;
	g->fenced = c->fenced ? 1 : 0;
	g->takeovers = c->claimed;
	g->released = c->released;
	g->leases_lost = store_lease_lost_count(c->v->store);
	g->commands_run = c->commands_run;
	g->commands_forwarded = c->forwarded;
	if (c->fenced || store_state_counts(c->v->store, counts) != 0)
		return;
	g->fleet_ok = 1;
	for (int i = 0; i < AGENT_STATE_MAX; i++)
		g->fleet_agents[i] = (uint64_t)counts[i];
}

void
api_nodes(struct http_request *r)
{
	struct verifier *v = r->arg;
	json_t *arr;
	int ok;

	if (v->cluster == NULL) {
		http_reply_json(r, 200, json_pack("{s:[], s:s}", "nodes",
		    "note", "one verifier on SQLite: no cluster"));
		return;
	}
	if ((arr = nodes_json(v->cluster, &ok)) == NULL) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return;
	}
	http_reply_json(r, 200, json_pack("{s:s, s:o}", "node",
	    v->cluster->node, "nodes", arr));
}
