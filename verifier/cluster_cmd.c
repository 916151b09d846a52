/*
 * cluster_cmd.c — admin actions on agents another node attests. The node
 * that got the request writes a command row (agent, action, JSON body,
 * its own name) and holds the request; the owner finds open commands for
 * the agents it holds (every 200 ms), runs each through the same action
 * code as a local request (api_agent.c) and writes the status and JSON
 * answer into the row; the holding node answers with them. An owner that
 * dies leaves the row open for the node that takes the agent over; a
 * command older than cluster.command_timeout is answered 504 and never
 * run later.
 */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/api.h"
#include "verifier/cluster.h"
#include "verifier/cluster_int.h"
#include "verifier/verifier.h"

struct waiter {
	struct waiter		*next;
	struct http_request	*r;		/* held */
	int64_t			 id;		/* command row */
	double			 deadline;	/* clock_mono */
};

static void
waiter_answer(struct waiter *w, int status, const char *result)
{
	if (status == 204 || result == NULL)
		http_reply_raw(w->r, status, NULL, NULL, 0);
	else
		http_reply_raw(w->r, status, "application/json", result,
		    strlen(result));
}

/* Answer the held requests whose command is done or too old. */
static void
waiters_poll(struct cluster *c)
{
	struct waiter **pp = &c->waiters, *w;
	double now = clock_mono();
	char *result;
	int done, status, r;

	while ((w = *pp) != NULL) {
		r = store_command_result(c->v->store, w->id, &done, &status,
		    &result);
		if (r == ASSAY_OK && done)
			waiter_answer(w, status, result);
		else if (now >= w->deadline)
			http_reply_error(w->r, 504, "the node attesting this "
			    "agent did not answer within %lld s (command %lld)",
			    (long long)(c->cmd_timeout_ms / 1000),
			    (long long)w->id);
		else {
			pp = &w->next;
			continue;
		}
		free(result);
		*pp = w->next;
		free(w);
	}
}

void
cluster_waiters_free(struct cluster *c)
{
	struct waiter *w;

	while ((w = c->waiters) != NULL) {
		c->waiters = w->next;
		http_reply_error(w->r, 503, "shutting down: command %lld may "
		    "still run on the owner", (long long)w->id);
		free(w);
	}
}

/* Run one command for an agent this node holds; its answer goes in the row. */
static void
run_one(struct cluster *c, const struct store_command *cmd)
{
	agent_op_fn fn = agent_op_find(cmd->op);
	struct vagent *va;
	json_t *body = NULL, *reply = NULL;
	char *text = NULL;
	int status;

	if (cmd->age_ms > c->cmd_timeout_ms) {
		status = 504;
		text = xstrdup("{\"error\":\"command expired before the owner "
		    "ran it\"}");
	} else if (fn == NULL) {
		status = 400;
		text = xasprintf("{\"error\":\"unknown command\"}");
	} else if ((va = cluster_load(c, cmd->agent_id)) == NULL) {
		status = 404;
		text = xasprintf("{\"error\":\"no agent\"}");
	} else {
		if (cmd->arg != NULL)
			body = json_loads(cmd->arg, 0, NULL);
		status = fn(va, body, cmd->origin, &reply);
		if (reply != NULL)
			text = json_dumps(reply, JSON_COMPACT);
		c->commands_run++;
		log_info("cluster: agent %s: %s from node %s: %d", cmd->agent_id,
		    cmd->op, cmd->origin != NULL ? cmd->origin : "?", status);
	}
	if (store_command_done(c->v->store, cmd->id, status, text) != 0)
		log_warnx("cluster: command %lld: %s", (long long)cmd->id,
		    assay_err_detail());
	json_decref(body);
	json_decref(reply);
	free(text);
}

void
cluster_commands(struct cluster *c)
{
	struct store_command *cmds;
	size_t n;

	if (store_commands_mine(c->v->store, &cmds, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			run_one(c, &cmds[i]);
			store_command_free(&cmds[i]);
		}
		free(cmds);
	}
	waiters_poll(c);
}

/* Queue op for the owner and hold r for its answer. */
static enum route
forward(struct cluster *c, struct http_request *r, const char *id,
    const char *op, json_t *body, const char *owner)
{
	struct waiter *w;
	char *arg = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	int64_t cmd;
	int rc;

	rc = store_command_add(c->v->store, id, op, arg, &cmd);
	free(arg);
	if (rc != 0) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return ROUTE_ANSWERED;
	}
	c->forwarded++;
	log_debug("cluster: agent %s: %s sent to node %s (command %lld)", id, op,
	    owner, (long long)cmd);
	w = xcalloc(1, sizeof(*w));
	w->r = r;
	w->id = cmd;
	w->deadline = clock_mono() + (double)c->cmd_timeout_ms / 1000.0;
	w->next = c->waiters;
	c->waiters = w;
	http_defer(r);
	return ROUTE_FORWARDED;
}

struct vagent *
cluster_attach(struct verifier *v, const char *id)
{
	struct cluster *c = v->cluster;
	struct vagent *va = agent_find(v, id);
	char *owner = NULL;
	int live, mine;

	if (c == NULL && va != NULL)
		return va;
	if (c == NULL) {
		assay_err_set(ASSAY_ERR_NOT_FOUND, "no agent '%s'", id);
		return NULL;
	}
	if (cluster_fenced(c)) {
		assay_err_set(ASSAY_ERR_DB, "node %s cannot reach the database",
		    c->node);
		return NULL;
	}
	/* Still ours (the agent's last contact was here): nothing moves. */
	if (store_lease_owner(v->store, id, c->ttl_ms, &owner, &live) != 0)
		return NULL;
	mine = owner != NULL && strcmp(owner, c->node) == 0;
	free(owner);
	if (mine && va != NULL && !va->lease_lost)
		return va;
	if (!mine && store_lease_move(v->store, id) != 0)
		return NULL;
	if (va != NULL)
		sched_remove(va);	/* a stale copy: the store's is newer */
	log_info("cluster: agent %s: it talks to node %s now", id, c->node);
	return cluster_load(c, id);
}

enum route
cluster_route(struct verifier *v, struct http_request *r, const char *id,
    const char *op, json_t *body, struct vagent **va)
{
	struct cluster *c = v->cluster;
	struct agent_rec rec;
	char *owner = NULL;
	enum route how;
	int rc;

	if ((*va = agent_find(v, id)) != NULL && !(*va)->lease_lost)
		return ROUTE_LOCAL;
	*va = NULL;
	if (c == NULL) {
		http_reply_error(r, 404, "no agent '%s'", id);
		return ROUTE_ANSWERED;
	}
	if (cluster_fenced(c)) {
		http_reply_error(r, 503, "node %s cannot reach the database",
		    c->node);
		return ROUTE_ANSWERED;
	}
	if ((rc = store_agent_get(v->store, id, &rec)) != 0) {
		if (rc == ASSAY_ERR_NOT_FOUND)
			http_reply_error(r, 404, "no agent '%s'", id);
		else
			http_reply_error(r, 503, "database: %s",
			    assay_err_detail());
		return ROUTE_ANSWERED;
	}
	agent_rec_free(&rec);
	rc = store_lease_acquire(v->store, id, c->ttl_ms, &owner);
	if (rc == ASSAY_OK) {
		/* Nobody live held it: this node attests it from now on. */
		if ((*va = cluster_load(c, id)) != NULL)
			return ROUTE_LOCAL;
		http_reply_error(r, 503, "cannot load agent '%s'", id);
		return ROUTE_ANSWERED;
	}
	if (rc != ASSAY_ERR_BUSY) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return ROUTE_ANSWERED;
	}
	how = forward(c, r, id, op, body, owner);
	free(owner);
	return how;
}
