/*
 * api_result.c — what relying parties get: GET /v1/agents/{id}/result (an
 * admin, or the agent itself with the certificate it registered with)
 * answers the agent's current EAR as application/jwt; GET /v1/keys the
 * JWKS relying parties verify it with; GET /v1/agents/{id}/identity (the
 * same callers) a host identity certificate for the agent's TPM key while
 * it is trusted (ident_ca.h). Any agent of the shared database is
 * answered (agent_lookup). Without results.key the first two answer 404,
 * without identity.ca_cert the last.
 */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/http.h"
#include "common/tls.h"
#include "verifier/api.h"
#include "verifier/ear.h"
#include "verifier/ident_ca.h"
#include "verifier/verifier.h"

#define EAR_OFF_MSG	"results are not signed: set results.key"
#define IDENT_OFF_MSG	"no host identities: set identity.ca_cert"

/*
 * The agent of the request's {id} into *rec, for an admin or that agent
 * itself (by its registered certificate); 0, or the reply sent.
 */
static int
own_agent(struct http_request *r, struct agent_rec *rec)
{
	struct verifier *v = r->arg;
	int rc;

	if ((rc = agent_lookup(v, r->param[0], rec)) != ASSAY_OK &&
	    rc != ASSAY_ERR_NOT_FOUND) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return -1;
	}
	/* An agent reads only its own; same answer for unknown and not yours. */
	if (rc != ASSAY_OK || (r->peer.role != ROLE_ADMIN &&
	    (rec->cert_cn == NULL || strcmp(rec->cert_cn, r->peer.cn) != 0))) {
		agent_rec_free(rec);
		http_reply_error(r, 404, "no agent '%s'", r->param[0]);
		return -1;
	}
	return 0;
}

static long
rec_interval(const struct verifier *v, const struct agent_rec *rec)
{
	return rec->interval > 0 ? rec->interval : v->conf.interval;
}

void
api_agent_result(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct agent_rec rec;
	long interval;
	char *tok;

	if (v->ear == NULL) {
		http_reply_error(r, 404, EAR_OFF_MSG);
		return;
	}
	if (own_agent(r, &rec) != 0)
		return;
	interval = rec_interval(v, &rec);
	tok = ear_sign(v->ear, &rec, rec.policy, rec.policy != NULL ?
	    policies_rev(v, rec.policy) : 0, interval, clock_unix());
	if (tok == NULL)
		http_reply_error(r, 500, "signing: %s", assay_err_detail());
	else
		http_reply_raw(r, 200, "application/jwt", tok, strlen(tok));
	free(tok);
	agent_rec_free(&rec);
}

void
api_keys(struct http_request *r)
{
	struct verifier *v = r->arg;

	if (v->ear == NULL) {
		http_reply_error(r, 404, EAR_OFF_MSG);
		return;
	}
	http_reply_json(r, 200, ear_jwks(v->ear));
}

int
agent_identity(struct verifier *v, const struct agent_rec *rec,
    struct ident_doc *out)
{
	memset(out, 0, sizeof(*out));
	if (v->ident == NULL)
		return assay_err_set(ASSAY_ERR_NOT_FOUND, IDENT_OFF_MSG);
	return ident_ca_issue(v->ident, rec, rec_interval(v, rec), clock_unix(),
	    out);
}

void
api_agent_identity(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct agent_rec rec;
	struct ident_doc d;
	int rc;

	if (v->ident == NULL) {
		http_reply_error(r, 404, IDENT_OFF_MSG);
		return;
	}
	if (own_agent(r, &rec) != 0)
		return;
	/* 409: the agent exists, but holds no identity now (and why). */
	if ((rc = agent_identity(v, &rec, &d)) == ASSAY_OK)
		http_reply_json(r, 200, ident_doc_encode(&d));
	else
		http_reply_error(r, rc == ASSAY_ERR_STATE ? 409 : 500, "%s",
		    assay_err_detail());
	ident_doc_free(&d);
	agent_rec_free(&rec);
}
