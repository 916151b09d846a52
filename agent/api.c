/*
 * api.c — the agent's HTTPS endpoints, reachable only by the configured
 * verifier identity: GET /v1/quote (the request decoded, rate-limited,
 * the evidence gathered by collect.c and sent as a document) and
 * GET /v1/info. Quotes are rate-limited because the TPM is slow (the
 * same bucket serves push mode's rounds, push.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/collect.h"
#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/proto/doc.h"
#include "common/proto/quote_req.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"

static int
verifier_only(struct http_request *r)
{
	struct agent *a = r->arg;

	if (strcmp(r->peer.cn, a->conf.verifier_name) != 0) {
		log_warnx("refused %s %s from '%s': not the configured verifier '%s'",
		    r->method, r->path, r->peer.cn, a->conf.verifier_name);
		http_reply_error(r, 403, "only the verifier '%s' may ask",
		    a->conf.verifier_name);
		return 0;
	}
	return 1;
}

double
quote_token_take(struct agent *a)
{
	double now = clock_mono(), burst = (double)a->conf.quote_rate * 2;

	a->tokens += (now - a->last_refill) * (double)a->conf.quote_rate;
	if (a->tokens > burst)
		a->tokens = burst;
	a->last_refill = now;
	if (a->tokens < 1.0)
		return (1.0 - a->tokens) / (double)a->conf.quote_rate;
	a->tokens -= 1.0;
	return 0;
}

/* quote_req_parse's view of the request's query. */
static const char *
query_get(void *ctx, const char *key)
{
	return http_query(ctx, key);
}

/* The document in the form asked: binary (format=2 or 3) or JSON. */
static void
reply_evidence(struct http_request *r, const struct quote_req *q,
    const struct evidence_doc *d)
{
	const char *ctype;
	uint8_t *b;
	size_t n;

	if (evidence_doc_encode(d, agent_form(q), &b, &n, &ctype) != 0) {
		http_reply_error(r, 500, "%s", assay_err_detail());
		return;
	}
	http_reply_raw(r, 200, ctype, b, n);
	free(b);
}

static void
api_quote(struct http_request *r)
{
	struct agent *a = r->arg;
	struct evidence_doc d;
	struct quote_req q;

	evidence_doc_init(&d);
	if (!verifier_only(r))
		return;
	if (quote_req_parse(query_get, r, &q) != 0) {
		http_reply_error(r, 400, "%s", assay_err_detail());
		return;
	}
	if (quote_token_take(a) > 0) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		http_reply_error(r, 429, "quote rate limit (%ld/s) exceeded",
		    a->conf.quote_rate);
		return;
	}
	if (collect_evidence(a, &q, &d) != 0) {
		log_err("%s", assay_err_detail());
		http_reply_error(r, 503, "%s", assay_err_detail());
		evidence_doc_free(&d);
		return;
	}
	a->n_quotes++;
	result_after_quote(a);
	log_debug("quote %llu for %s in form %d%s%s%s",
	    (unsigned long long)a->n_quotes, r->peer.cn, agent_form(&q),
	    d.has_ima ? " with IMA entries" : "", d.ima_more ? " (more follow)" : "",
	    d.eventlog != NULL ? " with the event log" : "");
	reply_evidence(r, &q, &d);
	evidence_doc_free(&d);
}

static void
api_info(struct http_request *r)
{
	struct agent *a = r->arg;
	char *ak, *akpub, *ekpub;

	if (!verifier_only(r))
		return;
	ak = hex_encode(a->ident.ak_name, a->ident.ak_name_len);
	akpub = base64_encode(a->ident.ak_pub, a->ident.ak_pub_len);
	ekpub = base64_encode(a->ident.ek_pub, a->ident.ek_pub_len);
	http_reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "id", a->id,
	    "ak_name", ak, "ak_pub", akpub, "ek_pub", ekpub,
	    "enrolled", a->enroll == ENROLL_DONE,
	    "quotes", (json_int_t)a->n_quotes));
	free(ak);
	free(akpub);
	free(ekpub);
}

const struct http_route agent_routes[] = {
	{ "GET", "/v1/quote", ROLE_VERIFIER, api_quote, 0 },	/* no body */
	{ "GET", "/v1/info", ROLE_VERIFIER, api_info, 0 },
	{ NULL, NULL, 0, NULL, 0 }
};
