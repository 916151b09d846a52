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

#include <openssl/sha.h>

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

/*
 * agent_identity: the identity issued here last for this agent is handed
 * out again while it is for the key certified now, expires no later than
 * one issued now would, and has at least half its lifetime left: a pull
 * agent asks after every round, and a certificate per ask would be a
 * signature per round for nothing. What it may hold is checked first.
 */
int
agent_identity(struct verifier *v, const struct agent_rec *rec,
    struct ident_doc *out)
{
	uint8_t key[SHA256_DIGEST_LENGTH];
	struct vagent *va;
	int64_t now = clock_unix(), na;
	long life;
	int r;

	memset(out, 0, sizeof(*out));
	if (v->ident == NULL)
		return assay_err_set(ASSAY_ERR_NOT_FOUND, IDENT_OFF_MSG);
	/* Trusted now, key certified, last round recent: else nothing. */
	if ((r = ident_ca_check(v->ident, rec, rec_interval(v, rec), now,
	    &na)) != 0)
		return r;
	life = ident_ca_lifetime(v->ident, rec_interval(v, rec));
	SHA256(rec->id_pub, rec->id_pub_len, key);
	va = strmap_get(v->agents, rec->id);
	if (va != NULL && va->ident.cert != NULL &&
	    memcmp(va->ident_key, key, sizeof(key)) == 0 &&
	    va->ident.not_after <= na && (va->ident.not_after - now) * 2 >= life) {
		ident_doc_copy(out, &va->ident);
		return ASSAY_OK;
	}
	if ((r = ident_ca_issue(v->ident, rec, rec_interval(v, rec), now,
	    out)) != 0 || va == NULL)
		return r;
	ident_doc_free(&va->ident);
	ident_doc_copy(&va->ident, out);
	memcpy(va->ident_key, key, sizeof(key));
	return ASSAY_OK;
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
