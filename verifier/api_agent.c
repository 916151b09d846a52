/*
 * api_agent.c — the admin actions on one agent: admit/update (PUT),
 * delete, attest now, reset, stop and start. Each action is one function
 * of the agent this node attests, the request body and the requester,
 * giving an HTTP status and a JSON answer; the HTTP handlers route the
 * request first (cluster_route: run here, or on the owning node through a
 * command row, which runs the same function there).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/api.h"
#include "verifier/audit.h"
#include "verifier/cluster.h"
#include "verifier/enroll.h"
#include "common/appraise/policy.h"
#include "verifier/verifier.h"

static int
op_error(json_t **reply, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
op_error(json_t **reply, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((j = json_string(msg)) == NULL)	/* not UTF-8: echoes input */
		j = json_string(text_sanitize(msg));
	*reply = json_pack("{s:o*}", "error", j);
	return status;
}

/* PUT's body: only address, policy and interval, each of its type. */
static int
put_args(json_t *body, const char **addr, const char **pol,
    json_int_t *interval, json_t **reply)
{
	const char *key;
	json_t *jv;

	*addr = *pol = NULL;
	*interval = -1;
	if (!json_is_object(body))
		return op_error(reply, 400, "body must be a JSON object");
	json_object_foreach(body, key, jv) {
		if (strcmp(key, "address") == 0 && json_is_string(jv))
			*addr = json_string_value(jv);
		else if (strcmp(key, "policy") == 0 && json_is_string(jv))
			*pol = json_string_value(jv);
		else if (strcmp(key, "interval") == 0 && json_is_integer(jv))
			*interval = json_integer_value(jv);
		else
			return op_error(reply, 400, "unknown or mistyped key '%s' "
			    "(address: string, policy: string, interval: "
			    "integer)", key);
	}
	return 0;
}

/* 0 if the PUT may apply to va as asked, else the refusal's status. */
static int
put_check(struct vagent *va, const char *addr, const char *pol,
    json_int_t interval, json_t **reply)
{
	struct verifier *v = va->v;
	char host[256];
	uint16_t port;

	if (addr != NULL && http_split_hostport(addr, host, sizeof(host),
	    &port) != 0)
		return op_error(reply, 400, "address must be host:port");
	if (interval != -1 && (interval < 1 || interval > INTERVAL_MAX))
		return op_error(reply, 400, "interval must be 1..%d seconds",
		    INTERVAL_MAX);
	/* A policy uploaded on another node may not have reached us yet. */
	if (pol != NULL && policy_find(v, pol) == NULL && v->cluster != NULL)
		policies_sync(v);
	if (pol != NULL && policy_find(v, pol) == NULL)
		return op_error(reply, 400, "no policy '%s'", pol);
	if (pol == NULL && va->rec.policy == NULL)
		return op_error(reply, 400, "a policy is required to admit an "
		    "agent");
	if (!va->rec.push && (addr == NULL ? va->rec.address : addr) == NULL)
		return op_error(reply, 400, "the agent gave no address: set "
		    "'address'");
	return 0;
}

static int
op_put(struct vagent *va, json_t *body, const char *who, json_t **reply)
{
	const char *addr, *pol;
	json_int_t interval;
	int polchanged = 0, rc;

	if ((rc = put_args(body, &addr, &pol, &interval, reply)) != 0 ||
	    (rc = put_check(va, addr, pol, interval, reply)) != 0)
		return rc;
	if (addr != NULL) {
		free(va->rec.address);
		va->rec.address = xstrdup(addr);
	}
	if (pol != NULL && (va->rec.policy == NULL ||
	    strcmp(pol, va->rec.policy) != 0)) {
		free(va->rec.policy);
		va->rec.policy = xstrdup(pol);
		polchanged = 1;
		agent_ima_restart(va);
		agent_mb_restart(va);
	}
	if (interval != -1)
		va->rec.interval = (int)interval;
	va->rec.admitted = 1;
	audit_action(va, "admit", who, json_pack("{s:s?, s:s?, s:i}", "policy",
	    va->rec.policy, "address", va->rec.address, "interval",
	    va->rec.interval));
	if (va->rec.state == AGENT_REGISTERED ||
	    (polchanged && va->rec.state == AGENT_UNTRUSTED))
		/* Admission, or a new policy re-evaluates an untrusted host. */
		rc = agent_set_state(va, AGENT_PENDING, NULL,
		    polchanged ? "policy assigned" : NULL);
	else
		rc = agent_save(va, "updated", NULL, NULL);
	if (rc != 0)
		return op_error(reply, 500, "store: %s", assay_err_detail());
	if (va->rec.state != AGENT_STOPPED && !va->inflight)
		sched_agent(va, 0);
	*reply = api_agent_detail(va);
	return 200;
}

static int
op_delete(struct vagent *va, json_t *body, const char *who, json_t **reply)
{
	struct store_event ev = { 0 };
	int rc;

	ev.time = clock_unix();
	ev.agent_id = va->rec.id;
	ev.type = "deleted";
	ev.old_state = (char *)agent_state_name(va->rec.state);
	if ((rc = audit_delete(va, who, &ev)) != 0) {
		if (rc == ASSAY_ERR_STATE)
			cluster_lease_lost(va->v->cluster, va);
		return op_error(reply, 500, "store: %s", assay_err_detail());
	}
	log_notice("agent %s: deleted by %s", va->rec.id, who);
	sched_remove(va);
	*reply = NULL;
	return 204;
}

static int
op_attest(struct vagent *va, json_t *body, const char *who, json_t **reply)
{
	if (va->rec.state == AGENT_REGISTERED || va->rec.state == AGENT_STOPPED)
		return op_error(reply, 409, "agent is %s: admit or start it "
		    "first", agent_state_name(va->rec.state));
	if (va->inflight)
		va->attest_now = 1;
	else
		sched_agent(va, 0);
	*reply = json_pack("{s:s, s:s}", "id", va->rec.id, "status",
	    "attestation scheduled");
	return 202;
}

/* Move an agent back to pending (and poll it now) from the allowed states. */
static int
repend(struct vagent *va, int allowed, const char *why, const char *who,
    json_t **reply)
{
	if ((allowed & (1 << va->rec.state)) == 0)
		return op_error(reply, 409, "agent is %s: cannot %s it",
		    agent_state_name(va->rec.state), why);
	audit_action(va, why, who, NULL);
	if (agent_set_state(va, AGENT_PENDING, NULL, why) != 0)
		return op_error(reply, 500, "store: %s", assay_err_detail());
	va->failures = 0;
	if (!va->inflight)
		sched_agent(va, 0);
	*reply = api_agent_detail(va);
	return 200;
}

static int
op_reset(struct vagent *va, json_t *body, const char *who, json_t **reply)
{
	return repend(va, 1 << AGENT_UNTRUSTED | 1 << AGENT_UNREACHABLE,
	    "reset", who, reply);
}

static int
op_start(struct vagent *va, json_t *body, const char *who, json_t **reply)
{
	return repend(va, 1 << AGENT_STOPPED, "start", who, reply);
}

static int
op_stop(struct vagent *va, json_t *body, const char *who, json_t **reply)
{
	if (va->rec.state == AGENT_REGISTERED)
		return op_error(reply, 409, "agent is not admitted");
	if (va->rec.state != AGENT_STOPPED)
		audit_action(va, "stop", who, NULL);
	if (va->rec.state != AGENT_STOPPED &&
	    agent_set_state(va, AGENT_STOPPED, NULL, "stopped by admin") != 0)
		return op_error(reply, 500, "store: %s", assay_err_detail());
	sched_cancel(va);
	*reply = api_agent_detail(va);
	return 200;
}

static const struct {
	const char	*name;
	agent_op_fn	 fn;
} ops[] = {
	{ "put", op_put },
	{ "delete", op_delete },
	{ "attest", op_attest },
	{ "reset", op_reset },
	{ "start", op_start },
	{ "stop", op_stop },
	{ "reenroll", enroll_reenroll_op },
	{ NULL, NULL }
};

agent_op_fn
agent_op_find(const char *name)
{
	for (size_t i = 0; name != NULL && ops[i].name != NULL; i++)
		if (strcmp(ops[i].name, name) == 0)
			return ops[i].fn;
	return NULL;
}

/* Route the request, run op where the agent is attested, answer. */
static void
dispatch(struct http_request *r, const char *op, json_t *body)
{
	struct verifier *v = r->arg;
	struct vagent *va;
	json_t *reply = NULL;
	int status;

	if (cluster_route(v, r, r->param[0], op, body, &va) != ROUTE_LOCAL)
		return;
	status = agent_op_find(op)(va, body, r->peer.cn, &reply);
	/* A deleted agent (204) is freed: va must not be read again. */
	if (status != 204 && va->lease_lost && v->cluster != NULL) {
		/* Our copy was stale: the agent moved. Route again, once. */
		json_decref(reply);
		reply = NULL;
		if (cluster_route(v, r, r->param[0], op, body, &va) != ROUTE_LOCAL)
			return;
		status = agent_op_find(op)(va, body, r->peer.cn, &reply);
	}
	if (reply == NULL)
		http_reply_raw(r, status, NULL, NULL, 0);
	else
		http_reply_json(r, status, reply);
}

void
api_agent_put(struct http_request *r)
{
	json_t *body;

	if ((body = http_body_json(r)) == NULL)
		return;
	dispatch(r, "put", body);
	json_decref(body);
}

void
api_agent_delete(struct http_request *r)
{
	dispatch(r, "delete", NULL);
}

void
api_agent_attest(struct http_request *r)
{
	dispatch(r, "attest", NULL);
}

void
api_agent_reset(struct http_request *r)
{
	dispatch(r, "reset", NULL);
}

void
api_agent_start(struct http_request *r)
{
	dispatch(r, "start", NULL);
}

void
api_agent_stop(struct http_request *r)
{
	dispatch(r, "stop", NULL);
}
