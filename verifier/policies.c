/*
 * policies.c — the verifier's policy registry: policies loaded from the
 * store (and an optional policy_dir, which owns the names it holds) at
 * start and on SIGHUP, compiled once and shared by every agent that names
 * them. A policy_dir file that changed is reported through
 * v->policy_changed (the scheduler judges its agents again). With many
 * verifiers on one database, policies_sync installs what other nodes
 * uploaded (each stored policy has a revision that every put changes).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/appraise/policy.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/verifier.h"

struct policy *
policy_find(struct verifier *v, const char *name)
{
	return name == NULL ? NULL : strmap_get(v->policies, name);
}

void
policy_install(struct verifier *v, struct policy *p)
{
	policy_unref(strmap_put(v->policies, policy_name(p), p));
}

/* A policy_dir file's text as a new version in force. */
static int
store_put_file(struct verifier *v, const char *name, const char *path,
    const char *text, int64_t *version)
{
	struct policy_meta m = { 0 };
	char *who = xasprintf("policy_dir:%s", path);
	int r;

	m.uploader = who;
	r = store_policy_put_version(v->store, name, text, &m, NULL, version);
	free(who);
	return r;
}

/*
 * One policy_dir file. The directory is the truth for the names it holds:
 * its policy replaces one uploaded through the API (logged), the API
 * cannot change or delete it, and a changed file re-evaluates the agents
 * exactly as an upload does.
 */
static int
load_file(struct verifier *v, const char *path, struct strmap *seen)
{
	struct policy *p = NULL, *old;
	uint8_t *text = NULL;
	size_t len = 0;
	const char *name;
	int64_t version = 0;
	int changed;

	if (file_read_all(path, POLICY_TEXT_MAX, &text, &len) != 0 ||
	    policy_compile((const char *)text, len, NULL, &p) != 0) {
		log_err("policy %s: %s", path, assay_err_detail());
		free(text);
		return ASSAY_ERR_CONFIG;
	}
	name = policy_name(p);
	if (strmap_get(seen, name) != NULL) {
		log_err("policy %s: name '%s' is also in %s", path, name,
		    (const char *)strmap_get(seen, name));
		policy_unref(p);
		free(text);
		return ASSAY_ERR_CONFIG;
	}
	strmap_put(seen, name, xstrdup(path));
	old = policy_find(v, name);
	changed = old == NULL || memcmp(policy_text_digest(old),
	    policy_text_digest(p), 32) != 0;
	if (old != NULL && policy_source(old) == NULL && changed)
		log_warnx("policy %s from %s replaces the one uploaded through the "
		    "API: policy_dir names are managed by the directory", name, path);
	if (changed && store_put_file(v, name, path, (const char *)text,
	    &version) != 0)
		log_err("policy %s: not stored: %s", path, assay_err_detail());
	else if (changed)
		policies_seen(v, name, store_policy_last_rev(v->store));
	policy_set_version(p, changed ? version : policy_version(old));
	policy_set_source(p, path);
	policy_install(v, p);
	if (old != NULL && changed) {
		log_notice("policy %s changed in %s: its agents are judged again",
		    name, path);
		if (v->policy_changed != NULL)
			v->policy_changed(v, name, "policy updated");
	} else if (old == NULL)
		log_info("policy %s loaded from %s", name, path);
	free(text);
	return ASSAY_OK;
}

static int
load_dir(struct verifier *v, const char *dir)
{
	struct strmap *seen = strmap_new();
	struct dirent *de;
	const char *name;
	void *val;
	size_t pos = 0;
	int r = ASSAY_OK;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		strmap_free(seen);
		return assay_err_set(ASSAY_ERR_CONFIG, "policy_dir %s: cannot open", dir);
	}
	while (r == ASSAY_OK && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *path;

		if (n < 6 || (strcmp(de->d_name + n - 5, ".yaml") != 0 &&
		    strcmp(de->d_name + n - 5, ".json") != 0))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		r = load_file(v, path, seen);
		free(path);
	}
	closedir(d);
	/* A file that is gone leaves its policy, now managed by the API. */
	while (r == ASSAY_OK && strmap_next(v->policies, &pos, &name, &val))
		if (policy_source(val) != NULL && strmap_get(seen, name) == NULL) {
			log_notice("policy %s: %s is gone; the policy stays, managed "
			    "through the API from now on", name, policy_source(val));
			policy_set_source(val, NULL);
		}
	pos = 0;
	while (strmap_next(seen, &pos, &name, &val))
		free(val);
	strmap_free(seen);
	return r;
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
		struct policy *cur = policy_find(v, list[i].name);

		if (cur != NULL && policy_source(cur) != NULL) {
			/* policy_dir's own: load_dir decides whether it changed */
			store_policy_free(&list[i]);
			continue;
		}
		(void)policies_install_stored(v, &list[i]);
		policies_seen(v, list[i].name, list[i].rev);
		store_policy_free(&list[i]);
	}
	free(list);
	if (v->conf.policy_dir != NULL && (r = load_dir(v, v->conf.policy_dir)) != 0)
		return r;
	if (v->conf.policy_dir == NULL) {
		const char *name;
		void *val;
		size_t pos = 0;

		/* No directory any more: its policies are the API's now. */
		while (strmap_next(v->policies, &pos, &name, &val))
			policy_set_source(val, NULL);
	}
	log_info("%zu policies loaded", strmap_count(v->policies));
	return ASSAY_OK;
}

int
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

int64_t
policies_rev(struct verifier *v, const char *name)
{
	const int64_t *p = name != NULL ? strmap_get(v->policy_revs, name) : NULL;

	return p != NULL ? *p : 0;
}

void
policies_seen(struct verifier *v, const char *name, int64_t rev)
{
	int64_t *p = xmalloc(sizeof(*p));

	*p = rev;
	free(strmap_put(v->policy_revs, name, p));
}

/* Compile and install the stored policy name (another node's upload). */
static void
sync_one(struct verifier *v, const char *name, int64_t rev)
{
	struct store_policy sp;
	struct policy *cur = policy_find(v, name);
	int64_t had = cur != NULL ? policy_version(cur) : 0;

	if (cur != NULL && policy_source(cur) != NULL)
		return;		/* policy_dir's own name */
	if (store_policy_get(v->store, name, &sp) != 0) {
		log_warnx("policy %s: %s", name, assay_err_detail());
		return;
	}
	policies_seen(v, name, sp.rev);	/* not again until it changes */
	if (policies_install_stored(v, &sp) != 0) {
		store_policy_free(&sp);
		return;
	}
	log_notice("policy %s version %lld %s by another node", name,
	    (long long)sp.version, cur == NULL ? "added" : had != sp.version ?
	    "put in force" : "canary changed");
	store_policy_free(&sp);
	if (cur != NULL && v->policy_changed != NULL)
		v->policy_changed(v, name, "policy updated");
	(void)rev;
}

void
policies_sync(struct verifier *v)
{
	struct store_policy *list;
	struct strmap *in_db;
	const char *name;
	const int64_t *have;
	void *val;
	size_t n, pos = 0;

	if (store_policy_revs(v->store, &list, &n) != 0) {
		log_warnx("policies: %s", assay_err_detail());
		return;
	}
	in_db = strmap_new();
	for (size_t i = 0; i < n; i++) {
		strmap_put(in_db, list[i].name, (void *)1);
		have = strmap_get(v->policy_revs, list[i].name);
		if (have == NULL || *have != list[i].rev)
			sync_one(v, list[i].name, list[i].rev);
	}
	/* Deleted on another node: gone here too unless still in use here. */
	while (strmap_next(v->policies, &pos, &name, &val)) {
		if (strmap_get(in_db, name) != NULL || policy_source(val) != NULL ||
		    policy_users(v, name) > 0)
			continue;
		log_notice("policy %s deleted by another node", name);
		policy_canary_clear(v, name);
		free(strmap_del(v->policy_revs, name));
		policy_unref(strmap_del(v->policies, name));
		pos = 0;	/* the map changed under the cursor */
	}
	for (size_t i = 0; i < n; i++)
		store_policy_free(&list[i]);
	free(list);
	strmap_free(in_db);
}
