/*
 * api_policy_ver.c — the admin endpoints on a policy's versions: list
 * them (content hash, uploader, signer, times), show one, put an earlier
 * one back in force (rollback) and put a canary version in force for
 * every agent (promote). Uploads are api_policy.c; what-if evaluation is
 * api_policy_preview.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/appraise/policy.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/api.h"
#include "verifier/verifier.h"

static json_t *
version_json(const struct store_policy_version *pv)
{
	return json_pack("{s:I, s:s, s:I, s:o, s:o, s:o, s:I}",
	    "version", (json_int_t)pv->version,
	    "sha256", pv->sha256,
	    "created", (json_int_t)pv->created,
	    "uploader", api_opt_str(pv->uploader),
	    "signer", api_opt_str(pv->signer),
	    "signed_at", pv->signed_at > 0 ? json_integer(pv->signed_at) :
	    json_null(),
	    "size", (json_int_t)pv->size);
}

/* The canary of name as JSON (null when none). */
json_t *
api_policy_canary_json(struct verifier *v, const char *name)
{
	const char *agents;
	struct policy *c = policy_canary(v, name, &agents);
	size_t n;

	if (c == NULL)
		return json_null();
	n = strlen(agents);
	return json_pack("{s:I, s:s%}", "version",
	    (json_int_t)policy_version(c), "agents", agents + 1,
	    n >= 2 ? n - 2 : 0);
}

void
api_policy_versions(struct http_request *r)
{
	struct verifier *v = r->arg;
	const char *name = r->param[0];
	struct store_policy_version *list = NULL;
	struct policy *cur = policy_find(v, name);
	json_t *arr;
	size_t n = 0;

	if (store_policy_versions(v->store, name, &list, &n) != 0) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return;
	}
	if (n == 0) {
		free(list);
		http_reply_error(r, 404, "no policy '%s'", name);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, version_json(&list[i]));
		store_policy_version_free(&list[i]);
	}
	free(list);
	http_reply_json(r, 200, json_pack("{s:s, s:o, s:o, s:o}", "name", name,
	    "in_force", cur != NULL ? json_integer(policy_version(cur)) :
	    json_null(), "canary", api_policy_canary_json(v, name),
	    "versions", arr));
}

/* The {version} parameter: 1.., or 0 with 400 sent. */
static int64_t
version_param(struct http_request *r, const char *s)
{
	char *end;
	long long n;

	n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n < 1) {
		http_reply_error(r, 400, "a version is a number from 1");
		return 0;
	}
	return (int64_t)n;
}

void
api_policy_version_get(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct store_policy_version pv;
	const char *accept;
	int64_t n;
	json_t *o;
	int rc;

	if ((n = version_param(r, r->param[1])) == 0)
		return;
	if ((rc = store_policy_version_get(v->store, r->param[0], n, &pv)) != 0) {
		http_reply_error(r, rc == ASSAY_ERR_NOT_FOUND ? 404 : 503, "%s",
		    assay_err_detail());
		return;
	}
	accept = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Accept");
	if (accept != NULL && strstr(accept, "application/json") != NULL) {
		o = version_json(&pv);
		json_object_set_new(o, "name", json_string(pv.name));
		json_object_set_new(o, "text", json_string(pv.text));
		json_object_set_new(o, "envelope", api_opt_str(pv.envelope));
		http_reply_json(r, 200, o);
	} else
		http_reply_raw(r, 200, "application/yaml", pv.text,
		    strlen(pv.text));
	store_policy_version_free(&pv);
}

/*
 * Put stored version n of name in force for every agent: compiled here
 * first, its signature checked again when signers apply now.
 */
static void
put_in_force(struct http_request *r, struct verifier *v, const char *name,
    int64_t n, const char *what)
{
	struct store_policy_version pv;
	struct policy *p = NULL, *cur = policy_find(v, name);
	int rc;

	if ((rc = store_policy_version_get(v->store, name, n, &pv)) != 0) {
		http_reply_error(r, rc == ASSAY_ERR_NOT_FOUND ? 404 : 503, "%s",
		    assay_err_detail());
		return;
	}
	if ((rc = policy_in_recheck(v->signers, name, pv.envelope)) != 0) {
		http_reply_error(r, rc, "%s", assay_err_detail());
		goto out;
	}
	if (policy_compile(pv.text, strlen(pv.text), name, &p) != 0) {
		http_reply_error(r, 409, "version %lld no longer compiles: %s",
		    (long long)n, assay_err_detail());
		goto out;
	}
	if (store_policy_select(v->store, name, n) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		goto out;
	}
	policies_seen(v, name, store_policy_last_rev(v->store));
	policy_set_version(p, n);
	policy_install(v, p);
	p = NULL;
	policy_canary_clear(v, name);
	log_notice("policy %s: version %lld put in force (%s, was %lld) by %s",
	    name, (long long)n, what, cur != NULL ? (long long)policy_version(cur)
	    : 0LL, r->peer.cn);
	sched_policy_changed(v, name, what);
	http_reply_json(r, 200, json_pack("{s:s, s:I, s:s, s:i}", "name", name,
	    "version", (json_int_t)n, "sha256", pv.sha256, "agents",
	    policy_users(v, name)));
 out:
	policy_unref(p);
	store_policy_version_free(&pv);
}

/* 0 with the policy the API may change, else -1 and the refusal sent. */
static int
changeable(struct http_request *r, struct verifier *v, const char *name)
{
	struct policy *p = policy_find(v, name);

	if (p == NULL) {
		http_reply_error(r, 404, "no policy '%s'", name);
		return -1;
	}
	return api_policy_managed(r, v, name) ? -1 : 0;
}

void
api_policy_rollback(struct http_request *r)
{
	struct verifier *v = r->arg;
	const char *name = r->param[0];
	json_t *body, *jv;
	int64_t n;

	if (changeable(r, v, name) != 0 || (body = http_body_json(r)) == NULL)
		return;
	jv = json_object_get(body, "version");
	n = json_is_integer(jv) ? (int64_t)json_integer_value(jv) : 0;
	json_decref(body);
	if (n < 1) {
		http_reply_error(r, 400, "rollback wants {\"version\": N}");
		return;
	}
	put_in_force(r, v, name, n, "policy rolled back");
}

void
api_policy_promote(struct http_request *r)
{
	struct verifier *v = r->arg;
	const char *name = r->param[0];
	struct policy *c;

	if (changeable(r, v, name) != 0)
		return;
	if ((c = policy_canary(v, name, NULL)) == NULL) {
		http_reply_error(r, 409, "policy '%s' has no canary version",
		    name);
		return;
	}
	put_in_force(r, v, name, policy_version(c), "canary promoted");
}
