/*
 * api_policy.c — the admin endpoints that upload (compiled off the event
 * loop), show, list and delete policies. The registry they change is
 * policies.c; /metrics lives in metrics.c.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/http.h"
#include "common/log.h"
#include "common/workq.h"
#include "common/xmalloc.h"
#include "verifier/api.h"
#include "common/appraise/policy.h"
#include "verifier/verifier.h"

void
api_policies_list(struct http_request *r)
{
	struct verifier *v = r->arg;
	json_t *arr = json_array();
	const char *name;
	void *val;
	size_t pos = 0;

	while (strmap_next(v->policies, &pos, &name, &val)) {
		char *sel;
		struct pcr_selection s;

		policy_selection(val, &s);
		sel = pcr_selection_format(&s);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:I, s:o}",
		    "name", name, "quote_pcrs", sel, "agents",
		    policy_users(v, name), "version",
		    (json_int_t)policy_version(val), "canary",
		    api_policy_canary_json(v, name)));
		free(sel);
	}
	http_reply_json(r, 200, json_pack("{s:o}", "policies", arr));
}

void
api_policy_get(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct store_policy sp;
	const char *accept;

	if (store_policy_get(v->store, r->param[0], &sp) != 0) {
		http_reply_error(r, 404, "no policy '%s'", r->param[0]);
		return;
	}
	accept = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Accept");
	if (accept != NULL && strstr(accept, "application/json") != NULL)
		http_reply_json(r, 200, json_pack("{s:s, s:s, s:I, s:I, s:o}",
		    "name", sp.name, "text", sp.text, "updated",
		    (json_int_t)sp.updated, "version", (json_int_t)sp.version,
		    "canary", api_policy_canary_json(v, sp.name)));
	else
		http_reply_raw(r, 200, "application/yaml", sp.text, strlen(sp.text));
	store_policy_free(&sp);
}

/* policy_dir owns its names: 1 (and 409 sent) if name is one of them. */
int
api_policy_managed(struct http_request *r, struct verifier *v,
    const char *name)
{
	struct policy *p = policy_find(v, name);

	if (p == NULL || policy_source(p) == NULL)
		return 0;
	http_reply_error(r, 409, "policy '%s' is managed by policy_dir (%s): "
	    "change the file and send SIGHUP", name, policy_source(p));
	return 1;
}

/*
 * An upload compiles on a worker thread (a policy of a million digests
 * takes seconds): the loop keeps serving rounds, health and the API
 * meanwhile, and installs the result when it is back.
 */
struct policy_upload {
	struct workq_item	 wq;		/* first: the queue's link */
	struct verifier		*v;
	struct http_request	*r;		/* held (http_defer) */
	struct policy		*p;		/* compiled, or NULL */
	struct signer_set	*signers;	/* as the upload arrived */
	struct policy_in	 in;		/* text, signer, envelope */
	char			*canary;	/* "id,id" or NULL */
	int			 status;	/* of a refusal */
	char			 err[512];
};

static void
upload_work(struct workq_item *it)
{
	struct policy_upload *u = (struct policy_upload *)it;
	struct http_request *r = u->r;

	if ((u->status = policy_in_open(u->signers, r->param[0], r->body,
	    r->body_len, &u->in)) != 0) {
		snprintf(u->err, sizeof(u->err), "%s", assay_err_detail());
		return;
	}
	if (policy_compile(u->in.text, strlen(u->in.text), r->param[0],
	    &u->p) != 0) {
		u->status = 400;
		snprintf(u->err, sizeof(u->err), "policy does not compile: %s",
		    assay_err_detail());
		u->p = NULL;
	}
}

static void
upload_free(struct policy_upload *u)
{
	policy_unref(u->p);
	policy_in_free(&u->in);
	signer_set_unref(u->signers);
	free(u->canary);
	free(u);
}

/*
 * A signed upload older than the signed version in force is a replay of
 * a superseded release: 1 (409 sent). Going back is what rollback is for.
 */
static int
stale_signature(struct http_request *r, struct verifier *v, const char *name,
    int64_t signed_at)
{
	struct policy *cur = policy_find(v, name);
	struct store_policy_version pv;
	int stale;

	if (signed_at <= 0 || cur == NULL || policy_version(cur) <= 0 ||
	    store_policy_version_get(v->store, name, policy_version(cur), &pv) != 0)
		return 0;
	stale = pv.signed_at > signed_at;
	if (stale)
		http_reply_error(r, 409, "policy '%s' was signed at %lld, before "
		    "version %lld in force (signed at %lld): a superseded "
		    "release; to go back to it use rollback", name,
		    (long long)signed_at, (long long)pv.version,
		    (long long)pv.signed_at);
	store_policy_version_free(&pv);
	return stale;
}

/* Store u's version (meta from the request and the envelope). */
static int
upload_store(struct policy_upload *u, int64_t *version)
{
	struct policy_meta m;

	memset(&m, 0, sizeof(m));
	m.uploader = u->r->peer.cn;
	m.signer = u->in.signer;
	m.signed_at = u->in.signed_at;
	m.envelope = u->in.envelope;
	return store_policy_put_version(u->v->store, u->r->param[0],
	    u->in.text, &m, u->canary, version);
}

static void
upload_done(struct workq_item *it)
{
	struct policy_upload *u = (struct policy_upload *)it;
	struct http_request *r = u->r;
	struct verifier *v = u->v;
	const char *name = r->param[0];
	int64_t version;
	int existed;

	if (u->p == NULL) {
		http_reply_error(r, u->status, "%s", u->err);
		goto out;
	}
	/* A SIGHUP meanwhile may have put the name under policy_dir. */
	if (api_policy_managed(r, v, name))
		goto out;
	existed = policy_find(v, name) != NULL;
	if (stale_signature(r, v, name, u->in.signed_at))
		goto out;
	if (u->canary != NULL && !existed) {
		http_reply_error(r, 404, "no policy '%s' to try a canary "
		    "version of", name);
		goto out;
	}
	if (upload_store(u, &version) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		goto out;
	}
	policies_seen(v, name, store_policy_last_rev(v->store));
	policy_set_version(u->p, version);
	if (u->canary != NULL)
		policy_canary_set(v, name, u->p, u->canary);
	else {
		policy_install(v, u->p);
		policy_canary_clear(v, name);
	}
	u->p = NULL;
	log_notice("policy %s version %lld %s by %s%s%s", name,
	    (long long)version, u->canary != NULL ? "tried on canaries" :
	    existed ? "put in force" : "added", r->peer.cn,
	    u->in.signer != NULL ? ", signed by " : "",
	    u->in.signer != NULL ? u->in.signer : "");
	sched_policy_changed(v, name, u->canary != NULL ?
	    "canary policy version" : "policy updated");
	http_reply_json(r, existed ? 200 : 201, json_pack("{s:s, s:I, s:s, "
	    "s:o, s:i, s:o}", "name", name, "version", (json_int_t)version,
	    "sha256", u->in.sha256, "signer", u->in.signer != NULL ?
	    json_string(u->in.signer) : json_null(), "agents",
	    policy_users(v, name), "canary", u->canary != NULL ?
	    json_string(u->canary) : json_null()));
 out:
	upload_free(u);
}

static void
upload_drop(struct workq_item *it)
{
	struct policy_upload *u = (struct policy_upload *)it;

	http_reply_error(u->r, 503, "shutting down: policy not installed");
	upload_free(u);
}

/*
 * ?canary=id,id: known agents that name this policy, each once. 0, or -1
 * with the refusal sent.
 */
static int
canary_check(struct http_request *r, struct verifier *v, const char *name,
    const char *list)
{
	char *dup = xstrdup(list), *save = NULL, *id;
	struct vagent *va;
	size_t n = 0;
	int bad = 0;

	for (id = strtok_r(dup, ",", &save); id != NULL && !bad;
	    id = strtok_r(NULL, ",", &save), n++) {
		va = strmap_get(v->agents, id);
		if (va == NULL || va->rec.policy == NULL ||
		    strcmp(va->rec.policy, name) != 0) {
			http_reply_error(r, 400, "canary '%s' is not an agent "
			    "judged with policy '%s'", id, name);
			bad = 1;
		}
	}
	if (!bad && (n == 0 || strstr(list, ",,") != NULL || *list == ',' ||
	    list[strlen(list) - 1] == ',')) {
		http_reply_error(r, 400, "canary wants agent ids, comma "
		    "separated");
		bad = 1;
	}
	free(dup);
	return bad ? -1 : 0;
}

void
api_policy_put(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct policy_upload *u;
	const char *name = r->param[0], *canary;

	if (!policy_name_valid(name)) {
		http_reply_error(r, 400, "policy names are [A-Za-z0-9._-]{1,64}");
		return;
	}
	if (api_policy_managed(r, v, name))
		return;
	if (r->body_len == 0) {
		http_reply_error(r, 400, "empty policy");
		return;
	}
	/* The store keeps text: what compiles must be what is kept. */
	if (memchr(r->body, '\0', r->body_len) != NULL) {
		http_reply_error(r, 400, "policy text contains a NUL byte");
		return;
	}
	if ((canary = http_query(r, "canary")) != NULL &&
	    canary_check(r, v, name, canary) != 0)
		return;
	u = xcalloc(1, sizeof(*u));
	u->canary = canary != NULL ? xstrdup(canary) : NULL;
	u->signers = signer_set_ref(v->signers);
	u->v = v;
	u->r = r;
	u->wq.work = upload_work;
	u->wq.done = upload_done;
	u->wq.drop = upload_drop;
	http_defer(r);
	workq_submit(v->adminq, &u->wq);
}

/* Agents of every node naming the policy; -1 when the answer was sent. */
static int
all_users(struct http_request *r, struct verifier *v, const char *name)
{
	int64_t n;

	if (store_policy_users(v->store, name, &n) != 0) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return -1;
	}
	return (int)n;
}

void
api_policy_delete(struct http_request *r)
{
	struct verifier *v = r->arg;
	const char *name = r->param[0];
	int users;

	if (policy_find(v, name) == NULL) {
		http_reply_error(r, 404, "no policy '%s'", name);
		return;
	}
	if (api_policy_managed(r, v, name))
		return;
	if ((users = policy_users(v, name)) > 0 ||
	    (v->cluster != NULL && (users = all_users(r, v, name)) != 0)) {
		if (users > 0)
			http_reply_error(r, 409, "policy '%s' is used by %d "
			    "agent(s)", name, users);
		return;
	}
	if (store_policy_delete(v->store, name) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		return;
	}
	policy_unref(strmap_del(v->policies, name));
	policy_canary_clear(v, name);
	free(strmap_del(v->policy_revs, name));
	log_notice("policy %s deleted by %s", name, r->peer.cn);
	http_reply_raw(r, 204, NULL, NULL, 0);
}
