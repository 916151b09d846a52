/*
 * api_policy_preview.c — POST /v1/policies/{name}/preview: what a
 * candidate version would do, changing nothing. Each agent judged with the
 * policy is judged again with the candidate against its retained evidence
 * (the audit trail, store_audit.h): every round since its carried state
 * last started over (a boot, a policy change: the round whose state in
 * has no IMA part), in order, the candidate's own carried state passed
 * from round to round, as the verifier would have judged them. The report
 * names the hosts that would fail, with each failure id and its detail
 * (the IMA entry, the PCR). The records are read on the loop; the
 * candidate is compiled and the rounds run on the admin worker thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/appraise/audit_round.h"
#include "common/appraise/policy.h"
#include "common/appraise/verify.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/proto/policy_env.h"
#include "common/workq.h"
#include "common/xmalloc.h"
#include "verifier/api.h"
#include "verifier/audit.h"
#include "verifier/store_audit.h"
#include "verifier/verifier.h"

#define PREVIEW_PAGE		64	/* records read back per step */
#define PREVIEW_RECORDS_MAX	65536	/* records looked at per agent */
#define PREVIEW_FAILS_MAX	64	/* failures reported per host */
/* Record text one preview reads back at most (the loop reads it). */
#define PREVIEW_BYTES_MAX	(256u * 1024 * 1024)
#define PREVIEW_OVER_NOTE	"not judged: the preview read its limit of " \
				"retained evidence (256 MiB) before this host"

struct host {
	char		*id;
	const char	*now;		/* state name (static) */
	int64_t		 version;	/* judged with, now */
	json_t		*records;	/* round records to run, in order */
	char		*note;		/* what limits the answer, or NULL */
	json_t		*failures;	/* worker's */
	const char	*would_be;	/* worker's */
};

struct preview {
	struct workq_item	 wq;		/* first: the queue's link */
	struct verifier		*v;
	struct http_request	*r;		/* held (http_defer) */
	struct signer_set	*signers;
	struct host		*hosts;
	size_t			 nhosts;
	size_t			 bytes;		/* record text read back */
	struct policy_in	 in;
	int			 status;
	char			 err[512];
};

/* A round whose carried state in has no IMA part starts a replay. */
static int
starts_over(const json_t *rec)
{
	const char *kind = json_string_value(json_object_get(rec, "kind"));
	json_t *in = json_object_get(rec, "inputs"), *st;
	const char *txt;
	int fresh;

	if (kind == NULL || strcmp(kind, "round") != 0)
		return 0;
	txt = json_string_value(json_object_get(in, "verify_state_in"));
	if (txt == NULL)
		return 1;
	if ((st = json_loads(txt, 0, NULL)) == NULL)
		return 0;
	fresh = json_object_get(st, "ima") == NULL;
	json_decref(st);
	return fresh;
}

/*
 * The agent's round records from the last that starts over to its head,
 * read back a page at a time; *note when retention (or the bound) cut
 * the replay's start off.
 */
static json_t *
host_records(struct verifier *v, const char *id, char **note, size_t *bytes)
{
	int64_t head, after, from = -1;
	char hash[AUDIT_HASH_HEX];
	struct store_audit *list = NULL;
	json_t *recs = json_array(), *o;
	size_t n = 0, i;

	*note = NULL;
	if (*bytes > PREVIEW_BYTES_MAX) {
		*note = xstrdup(PREVIEW_OVER_NOTE);
		return recs;
	}
	if (store_audit_head(v->store, id, &head, hash) != 0 || head == 0) {
		*note = xstrdup("no retained evidence (audit trail empty or off)");
		return recs;
	}
	for (after = head; after > 0 && from < 0 &&
	    head - after < PREVIEW_RECORDS_MAX;) {
		int64_t to = after;

		after = after > PREVIEW_PAGE ? after - PREVIEW_PAGE : 0;
		if (store_audit_list(v->store, id, after, to, 0,
		    (size_t)(to - after), &list, &n) != 0)
			break;
		for (i = n; i-- > 0;) {
			o = json_loads(list[i].record, 0, NULL);
			if (o != NULL && from < 0 && starts_over(o))
				from = list[i].seq;
			json_decref(o);
		}
		for (i = 0; i < n; i++)
			store_audit_free(&list[i]);
		free(list);
		list = NULL;
	}
	if (from < 0) {
		*note = xstrdup("the retained evidence does not reach back to "
		    "the start of this boot's measurements: entries before it "
		    "are not judged");
		from = after + 1;
	}
	if (store_audit_list(v->store, id, from - 1, head, 0,
	    (size_t)(head - from + 1), &list, &n) != 0) {
		free(*note);
		*note = xasprintf("audit trail unreadable: %s", assay_err_detail());
		return recs;
	}
	for (i = 0; i < n; i++)
		*bytes += strlen(list[i].record);
	for (i = 0; i < n; i++) {
		if (*bytes <= PREVIEW_BYTES_MAX &&
		    (o = json_loads(list[i].record, 0, NULL)) != NULL) {
			if (strcmp(list[i].kind, "round") == 0)
				json_array_append_new(recs, o);
			else
				json_decref(o);
		}
		store_audit_free(&list[i]);
	}
	free(list);
	if (*bytes > PREVIEW_BYTES_MAX) {
		free(*note);
		*note = xstrdup(PREVIEW_OVER_NOTE);
	}
	return recs;
}

/* Add vd's failures to h->failures, each (id, detail) once, bounded. */
static void
host_failures(struct host *h, const struct verdict *vd)
{
	json_t *f;
	size_t k;

	for (size_t i = 0; i < vd->nfail; i++) {
		int seen = 0;

		json_array_foreach(h->failures, k, f)
			if (strcmp(json_string_value(json_object_get(f, "id")),
			    vd->fail[i].id) == 0 && strcmp(json_string_value(
			    json_object_get(f, "detail")), vd->fail[i].detail) == 0)
				seen = 1;
		if (!seen && json_array_size(h->failures) < PREVIEW_FAILS_MAX)
			json_array_append_new(h->failures, json_pack("{s:s, s:s}",
			    "id", vd->fail[i].id, "detail", vd->fail[i].detail));
	}
}

/* Worker: run h's rounds with p, the candidate's carried state chained. */
static void
host_run(struct host *h, struct policy *p)
{
	struct ima_state ima;
	struct mb_state mb;
	struct verify_job *j;
	json_t *rec;
	size_t i;
	int first = 1;

	h->failures = json_array();
	json_array_foreach(h->records, i, rec) {
		if (audit_round_job(rec, p, &j) != 0) {
			free(h->note);
			h->note = xasprintf("round %lld not judged: %s",
			    (long long)json_integer_value(json_object_get(rec,
			    "seq")), assay_err_detail());
			continue;
		}
		if (!first) {
			j->ima_in = ima;
			j->mb_in = mb;
		}
		verify_run(j);
		host_failures(h, &j->verdict);
		/* What the verifier carried on is what the next round saw. */
		if (json_is_true(json_object_get(rec, "applied"))) {
			ima = j->ima_out;
			mb = j->mb_out;
			first = 0;
		}
		verify_job_free(j);
	}
	h->would_be = json_array_size(h->records) == 0 ? "unknown" :
	    json_array_size(h->failures) > 0 ? "untrusted" : "trusted";
}

static void
preview_work(struct workq_item *it)
{
	struct preview *pv = (struct preview *)it;
	struct http_request *r = pv->r;
	struct policy *p = NULL;
	const struct signer_set *ss = NULL;

	/* A draft may be previewed unsigned; an envelope must verify. */
	if (policy_env_sniff(r->body, r->body_len))
		ss = pv->signers;
	if ((pv->status = policy_in_open(ss, r->param[0], r->body, r->body_len,
	    &pv->in)) != 0) {
		snprintf(pv->err, sizeof(pv->err), "%s", assay_err_detail());
		return;
	}
	if (policy_compile(pv->in.text, strlen(pv->in.text), r->param[0],
	    &p) != 0) {
		pv->status = 400;
		snprintf(pv->err, sizeof(pv->err), "policy does not compile: %s",
		    assay_err_detail());
		return;
	}
	for (size_t i = 0; i < pv->nhosts; i++)
		host_run(&pv->hosts[i], p);
	policy_unref(p);
}

static void
preview_free(struct preview *pv)
{
	for (size_t i = 0; i < pv->nhosts; i++) {
		free(pv->hosts[i].id);
		free(pv->hosts[i].note);
		json_decref(pv->hosts[i].records);
		json_decref(pv->hosts[i].failures);
	}
	free(pv->hosts);
	policy_in_free(&pv->in);
	signer_set_unref(pv->signers);
	free(pv);
}

static void
preview_done(struct workq_item *it)
{
	struct preview *pv = (struct preview *)it;
	json_t *hosts = json_array();
	int fails = 0;

	if (pv->status != 0) {
		json_decref(hosts);
		http_reply_error(pv->r, pv->status, "%s", pv->err);
		preview_free(pv);
		return;
	}
	for (size_t i = 0; i < pv->nhosts; i++) {
		struct host *h = &pv->hosts[i];

		fails += strcmp(h->would_be, "untrusted") == 0;
		json_array_append_new(hosts, json_pack("{s:s, s:s, s:I, s:s, "
		    "s:I, s:O, s:s?}", "agent", h->id, "now", h->now,
		    "policy_version", (json_int_t)h->version, "would_be",
		    h->would_be, "rounds", (json_int_t)json_array_size(
		    h->records), "failures", h->failures, "note", h->note));
	}
	log_info("policy %s: preview of a candidate (sha256 %s) by %s: %d of "
	    "%zu hosts would fail", pv->r->param[0], pv->in.sha256,
	    pv->r->peer.cn, fails, pv->nhosts);
	http_reply_json(pv->r, 200, json_pack("{s:s, s:s, s:o, s:o, s:i}",
	    "name", pv->r->param[0], "sha256", pv->in.sha256, "signer",
	    pv->in.signer != NULL ? json_string(pv->in.signer) : json_null(),
	    "hosts", hosts, "would_fail", fails));
	preview_free(pv);
}

static void
preview_drop(struct workq_item *it)
{
	struct preview *pv = (struct preview *)it;

	http_reply_error(pv->r, 503, "shutting down");
	preview_free(pv);
}

/* rec as a host of the preview if it is judged with policy name. */
static void
host_add(struct verifier *v, struct preview *pv, const struct agent_rec *rec,
    const char *name)
{
	struct host *h;

	if (rec->policy == NULL || strcmp(rec->policy, name) != 0)
		return;
	h = &pv->hosts[pv->nhosts++];
	h->id = xstrdup(rec->id);
	h->now = agent_state_name(rec->state);
	h->version = rec->policy_version;
	h->records = host_records(v, rec->id, &h->note, &pv->bytes);
}

/* Many verifiers: every agent of the database, whichever node holds it. */
static int
hosts_of_fleet(struct verifier *v, struct preview *pv, const char *name)
{
	struct agent_rec *list = NULL;
	size_t n = 0;
	int r;

	if ((r = store_agent_list(v->store, &list, &n)) != 0)
		return r;
	pv->hosts = xcalloc(n + 1, sizeof(*pv->hosts));
	for (size_t i = 0; i < n; i++) {
		host_add(v, pv, &list[i], name);
		agent_rec_free(&list[i]);
	}
	free(list);
	return ASSAY_OK;
}

void
api_policy_preview(struct http_request *r)
{
	struct verifier *v = r->arg;
	const char *name = r->param[0], *id;
	struct preview *pv;
	void *val;
	size_t pos = 0;

	if (!policy_name_valid(name) || r->body_len == 0 ||
	    memchr(r->body, '\0', r->body_len) != NULL) {
		http_reply_error(r, 400, "a policy name and a candidate policy "
		    "(YAML, or a DSSE envelope) without NUL bytes");
		return;
	}
	pv = xcalloc(1, sizeof(*pv));
	pv->v = v;
	pv->r = r;
	pv->signers = signer_set_ref(v->signers);
	if (v->cluster != NULL) {
		if (hosts_of_fleet(v, pv, name) != 0) {
			http_reply_error(r, 503, "database: %s", assay_err_detail());
			preview_free(pv);
			return;
		}
	} else {
		pv->hosts = xcalloc(strmap_count(v->agents) + 1,
		    sizeof(*pv->hosts));
		while (strmap_next(v->agents, &pos, &id, &val))
			host_add(v, pv, &((struct vagent *)val)->rec, name);
	}
	pv->wq.work = preview_work;
	pv->wq.done = preview_done;
	pv->wq.drop = preview_drop;
	http_defer(r);
	workq_submit(v->adminq, &pv->wq);
}
