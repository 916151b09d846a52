/*
 * api.c — the verifier's REST route table and the admin agent endpoints:
 * list, show, admit/update, delete, attest now, reset, stop/start, events.
 * Policy endpoints live in api_policy.c, registrar ones in enroll.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/api.h"
#include "verifier/audit.h"
#include "verifier/cluster.h"
#include "verifier/push_rounds.h"
#include "common/proto/doc.h"
#include "verifier/enroll.h"
#include "common/appraise/policy.h"
#include "verifier/verifier.h"
#include "common/appraise/verify.h"
#include "verifier/verify_pool.h"

/* A stored string as JSON; text from before sanitizing is made safe too. */
json_t *
api_opt_str(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	c = text_sanitize(xstrdup(s));
	j = json_string(c);
	free(c);
	return j != NULL ? j : json_null();
}

json_t *
api_agent_summary(const struct vagent *va)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:o}",
	    "id", va->rec.id,
	    "state", agent_state_name(va->rec.state),
	    "mode", va->rec.push ? "push" : "pull",
	    "policy", api_opt_str(va->rec.policy),
	    "last_attested", (json_int_t)va->rec.last_attested,
	    "last_event", (json_int_t)va->rec.last_event_at,
	    "reason", api_opt_str(va->rec.reason));
}

json_t *
api_agent_detail(const struct vagent *va)
{
	json_t *o = api_agent_summary(va), *ek, *ak;
	uint8_t h[SHA256_DIGEST_LENGTH];
	char *hex;

	json_object_set_new(o, "reason_detail", api_opt_str(va->rec.reason_detail));
	json_object_set_new(o, "policy_version", va->rec.policy_version > 0 ?
	    json_integer(va->rec.policy_version) : json_null());
	json_object_set_new(o, "address", api_opt_str(va->rec.address));
	json_object_set_new(o, "interval", json_integer(va->rec.interval > 0 ?
	    va->rec.interval : va->v->conf.interval));
	json_object_set_new(o, "registered_at", json_integer(va->rec.registered_at));
	json_object_set_new(o, "activated", json_boolean(va->rec.activated));
	json_object_set_new(o, "certificate_cn", api_opt_str(va->rec.cert_cn));
	json_object_set_new(o, "counters", json_pack("{s:I, s:I, s:I}",
	    "attest_ok", (json_int_t)va->rec.attest_ok,
	    "attest_fail", (json_int_t)va->rec.attest_fail,
	    "poll_errors", (json_int_t)va->rec.poll_errors));
	ek = json_object();
	if (va->rec.ek_pub != NULL) {
		SHA256(va->rec.ek_pub, va->rec.ek_pub_len, h);
		hex = hex_encode(h, sizeof(h));
		json_object_set_new(ek, "public_sha256", json_string(hex));
		free(hex);
	}
	json_object_set_new(ek, "certificate", json_boolean(va->rec.ek_cert != NULL));
	json_object_set_new(o, "ek", ek);
	ak = json_object();
	if (va->ak_ok) {
		hex = hex_encode(va->ak.name, va->ak.name_len);
		json_object_set_new(ak, "name", json_string(hex));
		free(hex);
		json_object_set_new(ak, "type", json_string(
		    va->ak.type == TPM2_ALG_ECC ? "ecc" : "rsa"));
	}
	json_object_set_new(o, "ak", ak);
	/* The identity key the AK certified in the last accepted round. */
	if (va->rec.id_pub != NULL) {
		SHA256(va->rec.id_pub, va->rec.id_pub_len, h);
		hex = hex_encode(h, sizeof(h));
		json_object_set_new(o, "identity_key", json_pack("{s:s}",
		    "public_sha256", hex));
		free(hex);
	}
	if (va->rec.clock.valid)
		json_object_set_new(o, "tpm_clock", json_pack("{s:I, s:I, s:I}",
		    "clock", (json_int_t)va->rec.clock.clock,
		    "reset_count", (json_int_t)va->rec.clock.reset_count,
		    "restart_count", (json_int_t)va->rec.clock.restart_count));
	return o;
}

/* A record another node holds (or nobody), shown as a local one is. */
static json_t *
rec_json(struct verifier *v, struct agent_rec *rec, int detail)
{
	struct vagent view;
	json_t *o;

	memset(&view, 0, sizeof(view));
	view.v = v;
	view.rec = *rec;		/* borrowed: freed by the caller */
	(void)agent_load_ak(&view);
	o = detail ? api_agent_detail(&view) : api_agent_summary(&view);
	if (view.ak_ok)
		tpm2_public_free(&view.ak);
	return o;
}

/* Every agent of the shared database; ours from memory (it may be newer). */
static json_t *
list_shared(struct verifier *v, int st)
{
	struct agent_rec *list;
	struct vagent *va;
	json_t *arr;
	size_t n;

	if (store_agent_list(v->store, &list, &n) != 0)
		return NULL;
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		va = agent_find(v, list[i].id);
		if (va != NULL && !va->lease_lost) {
			if (st < 0 || va->rec.state == st)
				json_array_append_new(arr, api_agent_summary(va));
		} else if (st < 0 || list[i].state == st)
			json_array_append_new(arr, rec_json(v, &list[i], 0));
		agent_rec_free(&list[i]);
	}
	free(list);
	return arr;
}

static void
api_agents_list(struct http_request *r)
{
	struct verifier *v = r->arg;
	json_t *arr;
	const char *id, *want = http_query(r, "state");
	void *val;
	size_t pos = 0;
	int st = -1;

	if (want != NULL && agent_state_parse(want, &st) != 0) {
		http_reply_error(r, 400, "unknown state '%s'", want);
		return;
	}
	if (v->cluster != NULL) {
		if ((arr = list_shared(v, st)) == NULL)
			http_reply_error(r, 503, "database: %s",
			    assay_err_detail());
		else
			http_reply_json(r, 200, json_pack("{s:o}", "agents", arr));
		return;
	}
	arr = json_array();
	while (strmap_next(v->agents, &pos, &id, &val)) {
		struct vagent *va = val;

		if (st < 0 || va->rec.state == st)
			json_array_append_new(arr, api_agent_summary(va));
	}
	http_reply_json(r, 200, json_pack("{s:o}", "agents", arr));
}

static void
api_agent_show(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct vagent *va = agent_find(v, r->param[0]);
	struct agent_rec rec;
	int rc;

	if (va != NULL && !va->lease_lost) {
		http_reply_json(r, 200, api_agent_detail(va));
		return;
	}
	if ((rc = agent_lookup(v, r->param[0], &rec)) == ASSAY_OK)
		http_reply_json(r, 200, rec_json(v, &rec, 1));
	else if (rc == ASSAY_ERR_NOT_FOUND)
		http_reply_error(r, 404, "no agent '%s'", r->param[0]);
	else
		http_reply_error(r, 503, "database: %s", assay_err_detail());
	agent_rec_free(&rec);
}

static int
agent_known(struct verifier *v, const char *id)
{
	struct agent_rec rec;
	int rc = agent_lookup(v, id, &rec);

	agent_rec_free(&rec);
	return rc != ASSAY_ERR_NOT_FOUND;
}

static void
api_agent_events(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct store_event *evs = NULL;
	const char *ls = http_query(r, "limit");
	size_t n = 0;
	long limit = 100;
	char *end;
	json_t *arr;

	/* Deleted agents keep their history: 404 only when there is none. */
	if (ls != NULL) {
		limit = strtol(ls, &end, 10);
		if (*ls == '\0' || *end != '\0' || limit < 1 || limit > 10000) {
			http_reply_error(r, 400, "limit must be 1..10000");
			return;
		}
	}
	if (store_events_list(v->store, r->param[0], (int)limit, &evs, &n) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		return;
	}
	if (n == 0 && !agent_known(v, r->param[0])) {
		free(evs);
		http_reply_error(r, 404, "no agent '%s'", r->param[0]);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:o,"
		    " s:I, s:I}",
		    "seq", (json_int_t)evs[i].seq, "time", (json_int_t)evs[i].time,
		    "type", evs[i].type != NULL ? evs[i].type : "",
		    "old_state", api_opt_str(evs[i].old_state),
		    "new_state", api_opt_str(evs[i].new_state),
		    "failure_id", api_opt_str(evs[i].failure_id),
		    "detail", api_opt_str(evs[i].detail),
		    /* a folded notice: how often, and when last */
		    "count", (json_int_t)evs[i].count,
		    "last_time", (json_int_t)evs[i].last_time));
		store_event_free(&evs[i]);
	}
	free(evs);
	http_reply_json(r, 200, json_pack("{s:s, s:o}", "id", r->param[0], "events", arr));
}

/*
 * 200 {"status":"ok","store":"ok",...} while the store takes writes; 503
 * {"status":"degraded","store":"failing","store_error":...} while changes
 * wait in its write-behind queue or the last write failed (the verdicts
 * already apply in memory and in the API; they land when it recovers).
 */
static void
api_health(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct store_health sh;
	json_t *states = json_object(), *o, *cl = NULL;
	int clok = 1;
	int counts[AGENT_STATE_MAX] = { 0 };
	const char *id;
	void *val;
	size_t pos = 0;

	while (strmap_next(v->agents, &pos, &id, &val))
		counts[((struct vagent *)val)->rec.state]++;
	for (int i = 0; i < AGENT_STATE_MAX; i++)
		json_object_set_new(states, agent_state_name(i), json_integer(counts[i]));
	store_health(v->store, &sh);
	if (v->cluster != NULL) {
		cl = cluster_health(v->cluster, &clok);
		sh.failing |= !clok;
	}
	o = json_pack("{s:s, s:I, s:I, s:o, s:I, s:s, s:I}",
	    "status", sh.failing ? "degraded" : "ok",
	    "uptime", (json_int_t)(clock_unix() - v->started),
	    "agents", (json_int_t)strmap_count(v->agents), "states", states,
	    "verify_queue", (json_int_t)verify_pool_depth(v->pool),
	    "store", sh.failing ? "failing" : "ok",
	    "store_pending_writes", (json_int_t)sh.pending);
	if (sh.failing) {
		json_object_set_new(o, "store_error",
		    json_string(sh.error != NULL ? sh.error : "write failed"));
		json_object_set_new(o, "store_failing_since",
		    json_integer((json_int_t)sh.since));
	}
	if (cl != NULL)
		json_object_set_new(o, "cluster", cl);
	http_reply_json(r, sh.failing ? 503 : 200, o);
}

/*
 * Body limits, checked from the request headers before the body is read
 * (0: none, for GETs). A policy with a million digests is tens of MiB;
 * registration carries the EK certificate and up to 8 chain certificates
 * of 8 KiB each in base64; an admit is a small JSON object; actions and
 * deletes take nothing ("{}" from assayctl).
 */
#define API_BODY_POLICY		POLICY_TEXT_MAX
#define API_BODY_REGISTER	(128u * 1024)
#define API_BODY_SMALL		(8u * 1024)
#define API_BODY_TINY		1024u

const struct http_route api_routes[] = {
	{ "GET",    "/v1/agents",			ROLE_ADMIN, api_agents_list, 0 },
	{ "GET",    "/v1/agents/{id}",			ROLE_ADMIN, api_agent_show, 0 },
	{ "PUT",    "/v1/agents/{id}",			ROLE_ADMIN, api_agent_put, API_BODY_SMALL },
	{ "DELETE", "/v1/agents/{id}",			ROLE_ADMIN, api_agent_delete, API_BODY_TINY },
	{ "POST",   "/v1/agents/{id}/attest",		ROLE_ADMIN, api_agent_attest, API_BODY_TINY },
	{ "POST",   "/v1/agents/{id}/reset",		ROLE_ADMIN, api_agent_reset, API_BODY_TINY },
	{ "POST",   "/v1/agents/{id}/stop",		ROLE_ADMIN, api_agent_stop, API_BODY_TINY },
	{ "POST",   "/v1/agents/{id}/start",		ROLE_ADMIN, api_agent_start, API_BODY_TINY },
	{ "GET",    "/v1/agents/{id}/events",		ROLE_ADMIN, api_agent_events, 0 },
	{ "GET",    "/v1/agents/{id}/audit",		ROLE_ADMIN, api_agent_audit, 0 },
	/* signed attestation results (api_result.c): relying parties' routes */
	{ "GET",    "/v1/agents/{id}/result",		ROLE_ADMIN | ROLE_AGENT, api_agent_result, 0 },
	{ "GET",    "/v1/keys",				ROLE_ADMIN | ROLE_AGENT, api_keys, 0 },
	/* host identities for TPM-resident keys (api_result.c, ident_ca.c) */
	{ "GET",    "/v1/agents/{id}/identity",		ROLE_ADMIN | ROLE_AGENT, api_agent_identity, 0 },
	{ "GET",    "/v1/policies",			ROLE_ADMIN, api_policies_list, 0 },
	{ "GET",    "/v1/policies/{name}",		ROLE_ADMIN, api_policy_get, 0 },
	{ "PUT",    "/v1/policies/{name}",		ROLE_ADMIN, api_policy_put, API_BODY_POLICY },
	{ "DELETE", "/v1/policies/{name}",		ROLE_ADMIN, api_policy_delete, API_BODY_TINY },
	/* versions (api_policy_ver.c) */
	{ "GET",    "/v1/policies/{name}/versions",	ROLE_ADMIN, api_policy_versions, 0 },
	{ "GET",    "/v1/policies/{name}/versions/{version}", ROLE_ADMIN, api_policy_version_get, 0 },
	{ "POST",   "/v1/policies/{name}/rollback",	ROLE_ADMIN, api_policy_rollback, API_BODY_TINY },
	{ "POST",   "/v1/policies/{name}/promote",	ROLE_ADMIN, api_policy_promote, API_BODY_TINY },
	{ "POST",   "/v1/policies/{name}/preview",	ROLE_ADMIN, api_policy_preview, API_BODY_POLICY },
	{ "GET",    "/v1/health",			ROLE_ADMIN, api_health, 0 },
	{ "GET",    "/v1/nodes",			ROLE_ADMIN, api_nodes, 0 },
	{ "GET",    "/metrics",				ROLE_ADMIN, api_metrics, 0 },
	{ "POST",   "/v1/register",			ROLE_AGENT, api_register, API_BODY_REGISTER },
	{ "POST",   "/v1/register/{id}/activate",	ROLE_AGENT, api_activate, API_BODY_SMALL },
	{ "GET",    "/v1/register/{id}",		ROLE_AGENT, api_register_status, 0 },
	{ "POST",   "/v1/agents/{id}/challenge",	ROLE_AGENT, api_push_challenge, API_BODY_TINY },
	{ "POST",   "/v1/agents/{id}/evidence",		ROLE_AGENT, api_push_evidence, DOC_MAX_SIZE },
	{ NULL, NULL, 0, NULL, 0 }
};
