/*
 * api_result.c — the signed attestation results' routes: GET
 * /v1/agents/{id}/result (an admin, or the agent itself with the
 * certificate it registered with) answers the agent's current EAR as
 * application/jwt; GET /v1/keys the JWKS relying parties verify it with.
 * Any agent of the shared database is answered (agent_lookup). Without
 * results.key both answer 404.
 */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/http.h"
#include "common/tls.h"
#include "verifier/api.h"
#include "verifier/ear.h"
#include "verifier/verifier.h"

#define EAR_OFF_MSG	"results are not signed: set results.key"

void
api_agent_result(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct agent_rec rec;
	long interval;
	char *tok;
	int rc;

	if (v->ear == NULL) {
		http_reply_error(r, 404, EAR_OFF_MSG);
		return;
	}
	if ((rc = agent_lookup(v, r->param[0], &rec)) != ASSAY_OK &&
	    rc != ASSAY_ERR_NOT_FOUND) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return;
	}
	/* An agent reads only its own; same answer for unknown and not yours. */
	if (rc != ASSAY_OK || (r->peer.role != ROLE_ADMIN &&
	    (rec.cert_cn == NULL || strcmp(rec.cert_cn, r->peer.cn) != 0))) {
		agent_rec_free(&rec);
		http_reply_error(r, 404, "no agent '%s'", r->param[0]);
		return;
	}
	interval = rec.interval > 0 ? rec.interval : v->conf.interval;
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
