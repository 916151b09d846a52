/*
 * policy_canary.c — the policy each agent is judged with. A policy name
 * has a version in force (policies.c's registry) and may have a canary:
 * a newer version tried first on a few named agents. policy_for_agent
 * picks between them; policies_install_stored compiles what a stored
 * policies row says (version in force and canary) and installs both.
 */
#include <stdlib.h>
#include <string.h>

#include "common/appraise/policy.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/verifier.h"

struct canary {
	struct policy	*p;
	char		*agents;	/* ",id,id," for a whole-word search */
};

static void
canary_free(struct canary *c)
{
	if (c == NULL)
		return;
	policy_unref(c->p);
	free(c->agents);
	free(c);
}

void
policy_canary_clear(struct verifier *v, const char *name)
{
	canary_free(strmap_del(v->canaries, name));
}

void
policy_canary_set(struct verifier *v, const char *name, struct policy *p,
    const char *agents)
{
	struct canary *c = xcalloc(1, sizeof(*c));

	c->p = p;
	c->agents = xasprintf(",%s,", agents);
	canary_free(strmap_put(v->canaries, name, c));
}

struct policy *
policy_canary(struct verifier *v, const char *name, const char **agents)
{
	struct canary *c = name != NULL ? strmap_get(v->canaries, name) : NULL;

	if (agents != NULL)
		*agents = c != NULL ? c->agents : NULL;
	return c != NULL ? c->p : NULL;
}

int
policy_canary_has(struct verifier *v, const char *name, const char *id)
{
	struct canary *c = name != NULL ? strmap_get(v->canaries, name) : NULL;
	char *key;
	int in;

	if (c == NULL)
		return 0;
	key = xasprintf(",%s,", id);
	in = strstr(c->agents, key) != NULL;
	free(key);
	return in;
}

struct policy *
policy_for_agent(struct verifier *v, const struct vagent *va)
{
	struct policy *p;

	if (policy_canary_has(v, va->rec.policy, va->rec.id) &&
	    (p = policy_canary(v, va->rec.policy, NULL)) != NULL)
		return p;
	return policy_find(v, va->rec.policy);
}

/* Compile stored version of name; NULL (logged) if it does not. */
static struct policy *
compile_version(struct verifier *v, const char *name, int64_t version,
    const char *text)
{
	struct store_policy_version pv;
	struct policy *p = NULL;
	int r;

	memset(&pv, 0, sizeof(pv));
	if (text == NULL) {
		if (store_policy_version_get(v->store, name, version, &pv) != 0) {
			log_err("policy %s version %lld: %s", name,
			    (long long)version, assay_err_detail());
			return NULL;
		}
		text = pv.text;
	}
	r = policy_compile(text, strlen(text), name, &p);
	if (r != 0)
		log_err("stored policy %s version %lld does not compile here: %s",
		    name, (long long)version, assay_err_detail());
	else
		policy_set_version(p, version);
	store_policy_version_free(&pv);
	return r == 0 ? p : NULL;
}

int
policies_install_stored(struct verifier *v, const struct store_policy *sp)
{
	struct policy *p, *c = NULL;

	if ((p = compile_version(v, sp->name, sp->version, sp->text)) == NULL)
		return ASSAY_ERR_CONFIG;
	if (sp->canary_version > 0 && sp->canary_agents != NULL &&
	    (c = compile_version(v, sp->name, sp->canary_version, NULL)) == NULL)
		log_warnx("policy %s: canary version %lld left out", sp->name,
		    (long long)sp->canary_version);
	policy_install(v, p);
	if (c != NULL)
		policy_canary_set(v, sp->name, c, sp->canary_agents);
	else
		policy_canary_clear(v, sp->name);
	return ASSAY_OK;
}
