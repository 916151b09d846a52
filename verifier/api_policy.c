/*
 * api_policy.c — policies in the verifier: loaded from the store (and an
 * optional directory) at start, compiled once, shared by every agent that
 * names them; the admin endpoints that upload, show, list and delete
 * them. (/metrics lives in metrics.c.)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/api.h"
#include "verifier/policy.h"
#include "verifier/verifier.h"

#define POLICY_TEXT_MAX	(64u * 1024 * 1024)

struct policy *
policy_find(struct verifier *v, const char *name)
{
	return name == NULL ? NULL : strmap_get(v->policies, name);
}

static void
policy_install(struct verifier *v, struct policy *p)
{
	policy_unref(strmap_put(v->policies, policy_name(p), p));
}

static int
load_dir(struct verifier *v, const char *dir)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "policy_dir %s: cannot open", dir);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		struct policy *p = NULL;
		uint8_t *text = NULL;
		char *path;
		size_t len = 0;

		if (n < 6 || (strcmp(de->d_name + n - 5, ".yaml") != 0 &&
		    strcmp(de->d_name + n - 5, ".json") != 0))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (file_read_all(path, POLICY_TEXT_MAX, &text, &len) != 0 ||
		    policy_compile((const char *)text, len, NULL, &p) != 0) {
			log_err("policy %s: %s", path, assay_err_detail());
			closedir(d);
			free(path);
			free(text);
			return ASSAY_ERR_CONFIG;
		}
		if (store_policy_put(v->store, policy_name(p),
		    (const char *)text) != 0)
			log_err("policy %s: not stored: %s", path, assay_err_detail());
		log_info("policy %s loaded from %s", policy_name(p), path);
		policy_install(v, p);
		free(path);
		free(text);
	}
	closedir(d);
	return ASSAY_OK;
}

int
policies_load(struct verifier *v)
{
	struct store_policy *list = NULL;
	size_t n = 0;
	int r;

	if ((r = store_policy_list(v->store, &list, &n)) != 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct policy *p = NULL;

		if (policy_compile(list[i].text, strlen(list[i].text), list[i].name,
		    &p) != 0)
			log_err("stored policy %s no longer compiles: %s", list[i].name,
			    assay_err_detail());
		else
			policy_install(v, p);
		store_policy_free(&list[i]);
	}
	free(list);
	if (v->conf.policy_dir != NULL && (r = load_dir(v, v->conf.policy_dir)) != 0)
		return r;
	log_info("%zu policies loaded", strmap_count(v->policies));
	return ASSAY_OK;
}

static int
policy_users(struct verifier *v, const char *name)
{
	const char *id;
	void *val;
	size_t pos = 0;
	int n = 0;

	while (strmap_next(v->agents, &pos, &id, &val)) {
		struct vagent *va = val;

		if (va->rec.policy != NULL && strcmp(va->rec.policy, name) == 0)
			n++;
	}
	return n;
}

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
		json_array_append_new(arr, json_pack("{s:s, s:s, s:i}", "name", name,
		    "quote_pcrs", sel, "agents", policy_users(v, name)));
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
		http_reply_json(r, 200, json_pack("{s:s, s:s, s:I}", "name", sp.name,
		    "text", sp.text, "updated", (json_int_t)sp.updated));
	else
		http_reply_raw(r, 200, "application/yaml", sp.text, strlen(sp.text));
	store_policy_free(&sp);
}

void
api_policy_put(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct policy *p = NULL;
	const char *name = r->param[0], *id;
	void *val;
	size_t pos = 0;
	int existed;

	if (!policy_name_valid(name)) {
		http_reply_error(r, 400, "policy names are [A-Za-z0-9._-]{1,64}");
		return;
	}
	if (r->body_len == 0) {
		http_reply_error(r, 400, "empty policy");
		return;
	}
	if (policy_compile((const char *)r->body, r->body_len, name, &p) != 0) {
		http_reply_error(r, 400, "policy does not compile: %s", assay_err_detail());
		return;
	}
	if (store_policy_put(v->store, name, (const char *)r->body) != 0) {
		policy_unref(p);
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		return;
	}
	existed = policy_find(v, name) != NULL;
	policy_install(v, p);
	log_notice("policy %s %s by %s", name, existed ? "replaced" : "added", r->peer.cn);
	/* A new policy re-evaluates the untrusted hosts that use it. */
	while (strmap_next(v->agents, &pos, &id, &val)) {
		struct vagent *va = val;

		if (va->rec.policy == NULL || strcmp(va->rec.policy, name) != 0)
			continue;
		agent_ima_restart(va);	/* the new policy judges every entry */
		agent_mb_restart(va);	/* and the boot log again */
		if (va->rec.state == AGENT_UNTRUSTED &&
		    agent_set_state(va, AGENT_PENDING, NULL, "policy updated") != 0)
			continue;
		if (va->rec.state != AGENT_STOPPED && va->rec.state != AGENT_REGISTERED &&
		    !va->inflight)
			sched_agent(va, 0);
	}
	http_reply_json(r, existed ? 200 : 201, json_pack("{s:s, s:i}", "name", name,
	    "agents", policy_users(v, name)));
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
	if ((users = policy_users(v, name)) > 0) {
		http_reply_error(r, 409, "policy '%s' is used by %d agent(s)", name, users);
		return;
	}
	if (store_policy_delete(v->store, name) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		return;
	}
	policy_unref(strmap_del(v->policies, name));
	log_notice("policy %s deleted by %s", name, r->peer.cn);
	http_reply_raw(r, 204, NULL, NULL, 0);
}
