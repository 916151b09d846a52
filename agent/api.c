/*
 * api.c — the agent's HTTPS endpoints, reachable only by the configured
 * verifier identity: GET /v1/quote (fresh quote over the requested PCRs
 * with the values read consistently, as an evidence document) and
 * GET /v1/info. Quotes are rate-limited because the TPM is slow.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
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
		log_warn("refused %s %s from '%s': not the configured verifier '%s'",
		    r->method, r->path, r->peer.cn, a->conf.verifier_name);
		http_reply_error(r, 403, "only the verifier '%s' may ask",
		    a->conf.verifier_name);
		return 0;
	}
	return 1;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
rate_ok(struct agent *a)
{
	double now = mono_now(), burst = (double)a->conf.quote_rate * 2;

	a->tokens += (now - a->last_refill) * (double)a->conf.quote_rate;
	if (a->tokens > burst)
		a->tokens = burst;
	a->last_refill = now;
	if (a->tokens < 1.0)
		return 0;
	a->tokens -= 1.0;
	return 1;
}

/*
 * The list whose template hashes suit the quoted bank: the kernel's
 * per-bank list (<path>_<bank>) when it exists, else the classic SHA-1 one.
 */
static struct ima_reader *
ima_list_for(struct agent *a, uint16_t bank)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(bank);
	char *p;

	if (a->conf.ima_path == NULL || a->conf.ima_path[0] == '\0')
		return NULL;
	for (size_t i = 0; i < a->nima; i++)
		if (a->ima[i].thash_alg == bank)
			return &a->ima[i];
	if (bank != TPM2_ALG_SHA1 && h != NULL) {
		p = xasprintf("%s_%s", a->conf.ima_path, h->name);
		if (access(p, R_OK) == 0 && a->nima < TPM2_MAX_BANKS) {
			ima_reader_init(&a->ima[a->nima], p, bank);
			free(p);
			return &a->ima[a->nima++];
		}
		free(p);
	}
	for (size_t i = 0; i < a->nima; i++)
		if (a->ima[i].thash_alg == TPM2_ALG_SHA1)
			return &a->ima[i];
	if (a->nima >= TPM2_MAX_BANKS)
		return NULL;
	ima_reader_init(&a->ima[a->nima], a->conf.ima_path, TPM2_ALG_SHA1);
	return &a->ima[a->nima++];
}

/*
 * Entries from `from` read after the quote: the kernel appends, then
 * extends. One page: at most max entries (0: as many as fit) and at most
 * doc_ima_page_cap(bytes) bytes, with "more" when the list goes on (doc.h).
 */
static int
add_ima(struct agent *a, uint16_t bank, uint64_t from, uint64_t max,
    uint64_t bytes, struct evidence_doc *d)
{
	struct ima_reader *ir = ima_list_for(a, bank);
	int r;

	if (ir == NULL)
		return ASSAY_OK;
	if ((r = ima_reader_update(ir)) != 0) {
		if (!a->ima_warned++)
			log_warn("IMA list: %s", assay_err_detail());
		return ASSAY_OK;	/* no IMA: the verifier's policy decides */
	}
	if (from > ir->n)
		from = ir->n;
	if ((r = ima_reader_page(ir, from, max, doc_ima_page_cap(bytes), &d->ima,
	    &d->ima_len,
	    &d->ima_count, &d->ima_more)) != 0)
		return r;
	d->has_ima = 1;
	d->ima_from = from;
	d->ima_thash_alg = ir->thash_alg;
	return ASSAY_OK;
}

/* The whole firmware event log (it is small and fixed after boot). */
static int
add_eventlog(struct agent *a, struct evidence_doc *d)
{
	const char *path = a->conf.eventlog_path;
	size_t cap = 64 * 1024, have = 0;
	uint8_t *buf;
	ssize_t got;
	int fd;

	if (path == NULL || path[0] == '\0')
		return ASSAY_OK;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (!a->eventlog_warned++)
			log_warn("event log %s: %s", path, strerror(errno));
		return ASSAY_OK;	/* none: the verifier's policy decides */
	}
	buf = xmalloc(cap);
	for (;;) {
		if (have == cap) {
			if (cap >= DOC_EVENTLOG_MAX) {
				close(fd);
				free(buf);
				return assay_err_set(ASSAY_ERR_RANGE, "event log %s: larger "
				    "than %u bytes", path, DOC_EVENTLOG_MAX);
			}
			buf = xreallocarray(buf, 2, cap);
			cap *= 2;
		}
		if ((got = read(fd, buf + have, cap - have)) < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	close(fd);
	if (got < 0) {
		free(buf);
		return assay_err_set(ASSAY_ERR_IO, "event log %s: %s", path, strerror(errno));
	}
	d->eventlog = buf;
	d->eventlog_len = have;
	return ASSAY_OK;
}

/* quote_req_parse's view of the request's query. */
static const char *
query_get(void *ctx, const char *key)
{
	return http_query(ctx, key);
}

static void
api_quote(struct http_request *r)
{
	struct agent *a = r->arg;
	struct evidence_doc d;
	struct quote_req q;
	int err;

	evidence_doc_init(&d);
	if (!verifier_only(r))
		return;
	if (quote_req_parse(query_get, r, &q) != 0) {
		http_reply_error(r, 400, "%s", assay_err_detail());
		return;
	}
	if (!rate_ok(a)) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "1");
		http_reply_error(r, 429, "quote rate limit (%ld/s) exceeded",
		    a->conf.quote_rate);
		return;
	}
	err = tpm_quote(&a->tpm, q.nonce, q.nonce_len, &q.sel, &d.attest,
	    &d.attest_len, &d.sig, &d.sig_len, &d.pcrs);
	if (err != 0) {
		log_err("quote failed: %s", assay_err_detail());
		http_reply_error(r, 503, "TPM quote failed: %s", assay_err_detail());
		evidence_doc_free(&d);
		return;
	}
	if (q.ima && add_ima(a, q.sel.bank[0].hash, q.ima_from, q.ima_max,
	    q.ima_bytes, &d) != 0) {
		log_err("IMA list: %s", assay_err_detail());
		http_reply_error(r, 503, "IMA list: %s", assay_err_detail());
		evidence_doc_free(&d);
		return;
	}
	if (q.eventlog && add_eventlog(a, &d) != 0) {
		log_err("%s", assay_err_detail());
		http_reply_error(r, 503, "%s", assay_err_detail());
		evidence_doc_free(&d);
		return;
	}
	a->n_quotes++;
	log_debug("quote %llu for %s%s%s%s", (unsigned long long)a->n_quotes, r->peer.cn,
	    d.has_ima ? " with IMA entries" : "", d.ima_more ? " (more follow)" : "",
	    d.eventlog != NULL ? " with the event log" : "");
	http_reply_json(r, 200, evidence_doc_to_json(&d));
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
