/*
 * cluster.h — many verifiers on one PostgreSQL database. Each node
 * heartbeats; every admitted agent is attested by the one live node that
 * holds its lease; leases balance over the live nodes; a node that stops
 * heartbeating has its agents taken over once its lease time is out, and a
 * node that cannot reach the database stops attesting (fences itself)
 * before that time, so no agent is ever attested by two nodes. Admin
 * actions reach the owner through command rows (cluster_cmd.c). With a
 * SQLite store there is no cluster: v->cluster is NULL and one verifier
 * attests every agent.
 */
#ifndef ASSAY_CLUSTER_H
#define ASSAY_CLUSTER_H

#include <stdint.h>

#include <jansson.h>

struct verifier;
struct vagent;
struct http_request;
struct cluster;

/* Defaults of the cluster.* keys (seconds). */
#define CLUSTER_HEARTBEAT	2
#define CLUSTER_LEASE_TTL	6
#define CLUSTER_CMD_TIMEOUT	10

/*
 * Join: heartbeat once (the node row) and load the agents this node still
 * holds. Only for a PostgreSQL store; v->cluster stays NULL otherwise.
 */
int	cluster_start(struct verifier *v);
/* Answers held admin requests (503) and stops the timers: before the server. */
void	cluster_free(struct cluster *c);

/* 1 while the node cannot reach the database and attests nothing. */
int	cluster_fenced(const struct cluster *c);
/* va's round came back with its write refused: another node holds it. */
void	cluster_lease_lost(struct cluster *c, struct vagent *va);
/* A new agent (activation): take its lease. 0, or ASSAY_ERR_BUSY (*owner). */
int	cluster_take(struct cluster *c, const char *id, char **owner);
int64_t	cluster_ttl_ms(const struct cluster *c);
const char *cluster_node(const struct cluster *c);

/* {"node":..., "role":..., "nodes":[...]} for /v1/health; NULL on error. */
json_t	*cluster_health(struct cluster *c, int *ok);
struct metrics_gauges;
/* This node's cluster figures and the fleet's states (NULL c: nothing). */
void	cluster_gauges(struct cluster *c, struct metrics_gauges *g);
/* GET /v1/nodes. */
void	api_nodes(struct http_request *r);

/* cluster_cmd.c: admin actions through the owner */
enum route {
	ROUTE_LOCAL,		/* *va: this node attests it (now) */
	ROUTE_FORWARDED,	/* r held, answered when the owner is done */
	ROUTE_ANSWERED		/* r answered (404, 503, ...) */
};
/*
 * Where the admin action op (body may be NULL) on agent id runs. An agent
 * in memory is ours; one no live node holds is taken; else the action is
 * queued for its owner and r is held for its answer.
 */
enum route cluster_route(struct verifier *v, struct http_request *r,
	    const char *id, const char *op, json_t *body, struct vagent **va);
/*
 * A push agent talking to this node: it attests it from now on (its lease
 * moves here) and holds it in memory, fresh from the store. NULL: unknown
 * here (no cluster) or the database failed (detail set).
 */
struct vagent *cluster_attach(struct verifier *v, const char *id);
/* Run the open commands for agents this node holds; answer held requests. */
void	cluster_commands(struct cluster *c);
void	cluster_waiters_free(struct cluster *c);

#endif
