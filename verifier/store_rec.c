/*
 * store_rec.c — the plain-memory side of the store: agent state names (one
 * table) and the deep copy / free of the records store.c hands out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/store.h"

/* ---- agent states ---------------------------------------------------- */

static const char *const state_names[AGENT_STATE_MAX] = {
	[AGENT_REGISTERED] = "registered",
	[AGENT_PENDING] = "pending",
	[AGENT_TRUSTED] = "trusted",
	[AGENT_UNTRUSTED] = "untrusted",
	[AGENT_UNREACHABLE] = "unreachable",
	[AGENT_STOPPED] = "stopped",
};

const char *
agent_state_name(int state)
{
	if (state < 0 || state >= AGENT_STATE_MAX)
		return NULL;
	return state_names[state];
}

int
agent_state_parse(const char *s, int *state)
{
	if (s == NULL)
		return ASSAY_ERR_INVAL;
	for (int i = 0; i < AGENT_STATE_MAX; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*state = i;
			return ASSAY_OK;
		}
	}
	return assay_err_set(ASSAY_ERR_INVAL, "unknown agent state \"%.64s\"", s);
}

/* ---- records --------------------------------------------------------- */

static uint8_t *
memdup_or_null(const uint8_t *p, size_t len)
{
	return p == NULL ? NULL : xmemdup(p, len);
}

void
agent_rec_free(struct agent_rec *a)
{
	if (a == NULL)
		return;
	free(a->ek_pub);
	free(a->ek_cert);
	free(a->ak_pub);
	free(a->cert_cn);
	free(a->address);
	free(a->policy);
	free(a->reason);
	free(a->reason_detail);
	free(a->verify_state);
	free(a->id_pub);
	memset(a, 0, sizeof(*a));
}

/* dst is overwritten: free it first if it owned anything. */
void
agent_rec_copy(struct agent_rec *dst, const struct agent_rec *src)
{
	*dst = *src;	/* scalars, id and clock */
	dst->ek_pub = memdup_or_null(src->ek_pub, src->ek_pub_len);
	dst->ek_cert = memdup_or_null(src->ek_cert, src->ek_cert_len);
	dst->ak_pub = memdup_or_null(src->ak_pub, src->ak_pub_len);
	dst->cert_cn = xstrdup_or_null(src->cert_cn);
	dst->address = xstrdup_or_null(src->address);
	dst->policy = xstrdup_or_null(src->policy);
	dst->reason = xstrdup_or_null(src->reason);
	dst->reason_detail = xstrdup_or_null(src->reason_detail);
	dst->verify_state = xstrdup_or_null(src->verify_state);
	dst->id_pub = memdup_or_null(src->id_pub, src->id_pub_len);
}

void
store_event_copy(struct store_event *dst, const struct store_event *src)
{
	*dst = *src;	/* seq, time */
	dst->agent_id = xstrdup_or_null(src->agent_id);
	dst->type = xstrdup_or_null(src->type);
	dst->old_state = xstrdup_or_null(src->old_state);
	dst->new_state = xstrdup_or_null(src->new_state);
	dst->failure_id = xstrdup_or_null(src->failure_id);
	dst->detail = xstrdup_or_null(src->detail);
}

void
store_event_free(struct store_event *e)
{
	if (e == NULL)
		return;
	free(e->agent_id);
	free(e->type);
	free(e->old_state);
	free(e->new_state);
	free(e->failure_id);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}

void
store_policy_free(struct store_policy *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->text);
	free(p->canary_agents);
	memset(p, 0, sizeof(*p));
}

void
store_policy_version_free(struct store_policy_version *v)
{
	if (v == NULL)
		return;
	free(v->name);
	free(v->uploader);
	free(v->signer);
	free(v->text);
	free(v->envelope);
	memset(v, 0, sizeof(*v));
}
