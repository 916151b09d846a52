/*
 * store_cluster.c — what lets many verifiers share one database: each
 * node's heartbeat, the lease that says which node attests an agent (and
 * makes every agent write conditional on holding it), the fleet view that
 * balances leases, and the command rows through which any node's admin API
 * reaches the owning node. Times are the database clock (ms), so verifier
 * clocks never have to agree. Without a node name (one verifier, SQLite)
 * none of this is used and agent writes are unconditional.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

void
store_set_node(struct store *s, const char *node)
{
	free(s->node);
	s->node = node != NULL ? xstrdup(node) : NULL;
}

const char *
store_node(const struct store *s)
{
	return s->node;
}

uint64_t
store_lease_lost_count(const struct store *s)
{
	return (uint64_t)s->lease_lost;
}

int
store_lease_check_tx(struct store *s, const char *id)
{
	struct db_stmt *st = s->st[ST_LEASE_CHECK];
	const char *holder;
	int rc, mine = 0;

	if (s->node == NULL)
		return ASSAY_OK;
	db_bind_text(st, 1, id);
	if ((rc = db_step(st)) == DB_ROW) {
		holder = db_col_text(st, 0);
		mine = holder != NULL && strcmp(holder, s->node) == 0;
	}
	db_reset(st);
	if (rc != DB_ROW && rc != DB_DONE)
		return rc;
	if (mine)
		return ASSAY_OK;
	s->lease_lost++;
	return assay_err_set(ASSAY_ERR_STATE, "agent %s: lease lost (node %s "
	    "no longer attests it); write refused", id, s->node);
}

int
store_lease_drop_tx(struct store *s, const char *id)
{
	if (s->node == NULL)
		return ASSAY_OK;
	db_bind_text(s->st[ST_LEASE_DROP], 1, id);
	return store_step_done(s, ST_LEASE_DROP, NULL);
}

int
store_node_beat(struct store *s, int64_t started_ms, int64_t leases,
    const char *status)
{
	struct db_stmt *st = s->st[ST_NODE_BEAT];

	db_bind_text(st, 1, s->node);
	db_bind_i64(st, 2, started_ms);
	db_bind_i64(st, 3, leases);
	db_bind_text(st, 4, status);
	return store_step_done(s, ST_NODE_BEAT, NULL);
}

void
store_node_free(struct store_node *n)
{
	if (n == NULL)
		return;
	free(n->node);
	free(n->status);
	memset(n, 0, sizeof(*n));
}

static int
node_read(struct store *s, struct db_stmt *st, void *p)
{
	struct store_node *e = p;

	e->node = store_col_text(st, 0);
	e->heartbeat_ms = db_col_i64(st, 1);
	e->started_ms = db_col_i64(st, 2);
	e->leases_reported = db_col_i64(st, 3);
	e->status = store_col_text(st, 4);
	e->age_ms = db_col_i64(st, 5);
	e->leases = db_col_i64(st, 6);
	if (e->node == NULL)
		e->node = xstrdup("");
	return ASSAY_OK;
}

static void node_free_v(void *p) { store_node_free(p); }

static const struct row_kind node_rows =
    { "node", sizeof(struct store_node), node_read, node_free_v };

int
store_nodes_list(struct store *s, int64_t ttl_ms, struct store_node **out,
    size_t *n)
{
	void *v;
	int r;

	r = store_rows_collect(s, s->st[ST_NODES_LIST], &node_rows, SIZE_MAX,
	    &v, n);
	*out = v;
	for (size_t i = 0; r == ASSAY_OK && i < *n; i++)
		(*out)[i].live = (*out)[i].age_ms < ttl_ms;
	return r;
}

int
store_fleet_view(struct store *s, int64_t ttl_ms, int64_t *live,
    int64_t *admitted, int64_t *min_leases)
{
	struct db_stmt *st = s->st[ST_FLEET_VIEW];
	int rc, r = ASSAY_OK;

	db_bind_i64(st, 1, ttl_ms);
	if ((rc = db_step(st)) == DB_ROW) {
		*live = db_col_i64(st, 0);
		*admitted = db_col_i64(st, 1);
		*min_leases = db_col_i64(st, 2);
	} else
		r = rc == DB_DONE ? assay_err_set(ASSAY_ERR_DB, "store %s: "
		    "fleet view: no row", s->path) : rc;
	db_reset(st);
	return r;
}

/* Collect column 0 of every row as strings; resets st. */
static int
collect_ids(struct db_stmt *st, char ***out, size_t *n)
{
	char **v = NULL;
	const char *t;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if ((t = db_col_text(st, 0)) == NULL)
			continue;
		if (len == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[len++] = xstrdup(t);
	}
	db_reset(st);
	if (rc != DB_DONE) {
		store_ids_free(v, len);
		return rc;
	}
	*out = v;
	*n = len;
	return ASSAY_OK;
}

int
store_state_counts(struct store *s, int64_t *counts)
{
	struct db_stmt *st = s->st[ST_STATE_COUNTS];
	int rc, state;

	memset(counts, 0, sizeof(*counts) * AGENT_STATE_MAX);
	while ((rc = db_step(st)) == DB_ROW)
		if (agent_state_parse(db_col_text(st, 0), &state) == ASSAY_OK)
			counts[state] = db_col_i64(st, 1);
	db_reset(st);
	return rc == DB_DONE ? ASSAY_OK : rc;
}

void
store_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

int
store_leases_mine(struct store *s, char ***ids, size_t *n)
{
	db_bind_text(s->st[ST_LEASES_MINE], 1, s->node);
	return collect_ids(s->st[ST_LEASES_MINE], ids, n);
}

int
store_lease_claim(struct store *s, int64_t ttl_ms, int64_t max, char ***ids,
    size_t *n)
{
	struct db_stmt *st = s->st[ST_LEASE_CLAIM];

	*ids = NULL;
	*n = 0;
	if (max <= 0)
		return ASSAY_OK;
	db_bind_text(st, 1, s->node);
	db_bind_i64(st, 2, ttl_ms);
	db_bind_i64(st, 3, max);
	return collect_ids(st, ids, n);
}

int
store_lease_owner(struct store *s, const char *id, int64_t ttl_ms,
    char **owner, int *live)
{
	struct db_stmt *st = s->st[ST_LEASE_OWNER];
	int rc;

	*owner = NULL;
	*live = 0;
	db_bind_text(st, 1, id);
	db_bind_i64(st, 2, ttl_ms);
	if ((rc = db_step(st)) == DB_ROW) {
		*owner = store_col_text(st, 0);
		*live = db_col_i64(st, 1) != 0;
	}
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? ASSAY_OK : rc;
}

int
store_lease_acquire(struct store *s, const char *id, int64_t ttl_ms,
    char **owner)
{
	struct db_stmt *st = s->st[ST_LEASE_ACQUIRE];
	int64_t changes = 0;
	int r, live;

	*owner = NULL;
	if ((r = store_check_id(id)) != 0)
		return r;
	db_bind_text(st, 1, s->node);
	db_bind_text(st, 2, id);
	db_bind_i64(st, 3, ttl_ms);
	if ((r = store_step_done(s, ST_LEASE_ACQUIRE, &changes)) != ASSAY_OK)
		return r;
	if (changes > 0)
		return ASSAY_OK;
	if ((r = store_lease_owner(s, id, ttl_ms, owner, &live)) != ASSAY_OK)
		return r;
	if (*owner != NULL && strcmp(*owner, s->node) == 0) {
		free(*owner);
		*owner = NULL;
		return ASSAY_OK;
	}
	return assay_err_set(ASSAY_ERR_BUSY, "agent %s is attested by node %s",
	    id, *owner != NULL ? *owner : "?");
}

int
store_lease_move(struct store *s, const char *id)
{
	db_bind_text(s->st[ST_LEASE_MOVE], 1, s->node);
	db_bind_text(s->st[ST_LEASE_MOVE], 2, id);
	return store_step_done(s, ST_LEASE_MOVE, NULL);
}

int
store_lease_release(struct store *s, const char *id)
{
	db_bind_text(s->st[ST_LEASE_RELEASE], 1, s->node);
	db_bind_text(s->st[ST_LEASE_RELEASE], 2, id);
	return store_step_done(s, ST_LEASE_RELEASE, NULL);
}

/* ---- commands ---------------------------------------------------------- */

int
store_command_add(struct store *s, const char *agent_id, const char *op,
    const char *arg, int64_t *id)
{
	struct db_stmt *st = s->st[ST_CMD_ADD];
	int rc;

	*id = 0;
	db_bind_text(st, 1, s->node);
	db_bind_text(st, 2, agent_id);
	db_bind_text(st, 3, op);
	db_bind_text(st, 4, arg);
	if ((rc = db_step(st)) == DB_ROW)
		*id = db_col_i64(st, 0);
	db_reset(st);
	if (rc == DB_ROW)
		return ASSAY_OK;
	return rc == DB_DONE ? assay_err_set(ASSAY_ERR_DB, "store %s: command:"
	    " no id", s->path) : rc;
}

void
store_command_free(struct store_command *c)
{
	if (c == NULL)
		return;
	free(c->agent_id);
	free(c->op);
	free(c->arg);
	free(c->origin);
	memset(c, 0, sizeof(*c));
}

static int
command_read(struct store *s, struct db_stmt *st, void *p)
{
	struct store_command *c = p;

	c->id = db_col_i64(st, 0);
	c->agent_id = store_col_text(st, 1);
	c->op = store_col_text(st, 2);
	c->arg = store_col_text(st, 3);
	c->origin = store_col_text(st, 4);
	c->age_ms = db_col_i64(st, 5);
	return ASSAY_OK;
}

static void command_free_v(void *p) { store_command_free(p); }

static const struct row_kind command_rows =
    { "command", sizeof(struct store_command), command_read, command_free_v };

int
store_commands_mine(struct store *s, struct store_command **out, size_t *n)
{
	void *v;
	int r;

	db_bind_text(s->st[ST_CMD_MINE], 1, s->node);
	r = store_rows_collect(s, s->st[ST_CMD_MINE], &command_rows, SIZE_MAX,
	    &v, n);
	*out = v;
	return r;
}

int
store_command_done(struct store *s, int64_t id, int status,
    const char *result)
{
	struct db_stmt *st = s->st[ST_CMD_DONE];

	db_bind_i64(st, 1, id);
	db_bind_i64(st, 2, status);
	db_bind_text(st, 3, result);
	return store_step_done(s, ST_CMD_DONE, NULL);
}

int
store_command_result(struct store *s, int64_t id, int *done, int *status,
    char **result)
{
	struct db_stmt *st = s->st[ST_CMD_RESULT];
	int rc;

	*done = 0;
	*status = 0;
	*result = NULL;
	db_bind_i64(st, 1, id);
	if ((rc = db_step(st)) == DB_ROW) {
		*done = db_col_i64(st, 0) != 0;
		*status = (int)db_col_i64(st, 1);
		*result = store_col_text(st, 2);
	}
	db_reset(st);
	if (rc == DB_DONE)
		return assay_err_set(ASSAY_ERR_NOT_FOUND, "command %lld not "
		    "found", (long long)id);
	return rc == DB_ROW ? ASSAY_OK : rc;
}

int
store_commands_prune(struct store *s, int64_t age_ms)
{
	db_bind_i64(s->st[ST_CMD_PRUNE], 1, age_ms);
	return store_step_done(s, ST_CMD_PRUNE, NULL);
}
