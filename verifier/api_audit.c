/*
 * api_audit.c — GET /v1/agents/{id}/audit?since=UNIX&after=SEQ&limit=N:
 * an agent's audit trail as JSON lines (application/x-ndjson), read from
 * the store (any node of a cluster answers for any agent): an "agent"
 * header line, one "policy" line per policy text the exported rounds were
 * judged with, the records in seq order (seq > after, time >= since; at
 * most limit records and 32 MiB of them), and a "head" line with the
 * chain's head as the store holds it, saying whether more records follow
 * this page. `assayctl audit export` pages through it; `audit verify`
 * checks the result.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/http.h"
#include "common/strmap.h"
#include "common/xmalloc.h"
#include "verifier/audit.h"

#define EXPORT_PAGE	64	/* records read per statement */
#define EXPORT_LIMIT	10000	/* records per answer at most (and default) */
#define EXPORT_BYTES	(32u * 1024 * 1024)	/* record bytes per answer */

static void
put_line(struct buf *b, json_t *o)	/* steals o */
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (s != NULL) {
		buf_put(b, s, strlen(s));
		buf_put_u8(b, '\n');
	}
	free(s);
	json_decref(o);
}

static json_t *
agent_line(struct verifier *v, const char *id, int64_t since)
{
	struct agent_rec a;
	char *ekc = NULL, *ak = NULL;
	json_t *o;

	if (store_agent_get(v->store, id, &a) != 0)
		return json_pack("{s:s, s:s, s:b, s:I, s:I}", "kind", "agent", "id",
		    id, "deleted", 1, "since", (json_int_t)since, "exported",
		    (json_int_t)clock_unix());
	if (a.ek_cert != NULL)
		ekc = base64_encode(a.ek_cert, a.ek_cert_len);
	if (a.ak_pub != NULL)
		ak = base64_encode(a.ak_pub, a.ak_pub_len);
	o = json_pack("{s:s, s:s, s:b, s:s*, s:s*, s:s, s:s*, s:I, s:I}", "kind",
	    "agent", "id", id, "deleted", 0, "ek_cert", ekc, "ak_pub", ak,
	    "state", agent_state_name(a.state), "policy", a.policy, "since",
	    (json_int_t)since, "exported", (json_int_t)clock_unix());
	free(ekc);
	free(ak);
	agent_rec_free(&a);
	return o;
}

static int
known(struct verifier *v, const char *id)
{
	struct agent_rec a;
	int r = agent_lookup(v, id, &a);

	agent_rec_free(&a);
	return r == ASSAY_OK;
}

/* The policy SHA-256 a round record names, into pols (once each). */
static void
note_policy(struct strmap *pols, const struct store_audit *au)
{
	const char *sha = NULL;
	json_t *o;

	if (au->kind == NULL || strcmp(au->kind, "round") != 0 ||
	    (o = json_loads(au->record, 0, NULL)) == NULL)
		return;
	if (json_unpack(o, "{s:{s:s}}", "policy", "sha256", &sha) == 0 &&
	    strmap_get(pols, sha) == NULL)
		strmap_put(pols, sha, (void *)1);
	json_decref(o);
}

/* What one export answer holds: records after seq, up to limits. */
struct page {
	int64_t	 since, after;
	int64_t	 upto;		/* the head when the export began */
	size_t	 max_records, max_bytes;
	size_t	 n;		/* records in it */
	int64_t	 last;		/* seq of its last record, or after */
	int	 cut;		/* a limit stopped it: more may follow */
};

/* Records of id into recs as pg asks; the policies they name into pols. */
static int
collect(struct verifier *v, const char *id, struct page *pg, struct buf *recs,
    struct strmap *pols)
{
	struct store_audit *list;
	size_t n, want;
	int r;

	pg->last = pg->after;
	do {
		want = pg->max_records - pg->n < EXPORT_PAGE ?
		    pg->max_records - pg->n : EXPORT_PAGE;
		if ((r = store_audit_list(v->store, id, pg->last, pg->upto,
		    pg->since, want, &list, &n)) != 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (!pg->cut && (pg->n == 0 ||
			    recs->len + strlen(list[i].record) <= pg->max_bytes)) {
				buf_put(recs, list[i].record, strlen(list[i].record));
				buf_put_u8(recs, '\n');
				note_policy(pols, &list[i]);
				pg->last = list[i].seq;
				pg->n++;
			} else
				pg->cut = 1;	/* over the byte limit */
			store_audit_free(&list[i]);
		}
		free(list);
	} while (n == want && !pg->cut && pg->n < pg->max_records);
	if (n == want && pg->n == pg->max_records)
		pg->cut = 1;
	return ASSAY_OK;
}

static int
policy_lines(struct verifier *v, struct strmap *pols, struct buf *out)
{
	const char *sha;
	char *name, *text;
	size_t pos = 0;
	void *val;
	int r;

	while (strmap_next(pols, &pos, &sha, &val)) {
		if ((r = store_audit_policy(v->store, sha, &name, &text)) ==
		    ASSAY_ERR_NOT_FOUND)
			continue;	/* verify says which rounds lack it */
		if (r != 0)
			return r;
		put_line(out, json_pack("{s:s, s:s, s:s, s:s}", "kind", "policy",
		    "sha256", sha, "name", name, "text", text));
		free(name);
		free(text);
	}
	return ASSAY_OK;
}

/* since, after and limit from the query; 0, or the reply was sent. */
static int
page_args(struct http_request *r, struct page *pg)
{
	static const char *const keys[] = { "since", "after", "limit" };
	long long v[3] = { 0, 0, EXPORT_LIMIT };
	const char *q;
	char *end;

	for (size_t i = 0; i < 3; i++) {
		if ((q = http_query(r, keys[i])) == NULL)
			continue;
		v[i] = strtoll(q, &end, 10);
		if (*q == '\0' || *end != '\0' || v[i] < 0 ||
		    (i == 2 && (v[i] < 1 || v[i] > EXPORT_LIMIT))) {
			http_reply_error(r, 400, "since and after must be integers "
			    ">= 0, limit 1..%d", EXPORT_LIMIT);
			return -1;
		}
	}
	memset(pg, 0, sizeof(*pg));
	pg->since = v[0];
	pg->after = v[1];
	pg->max_records = (size_t)v[2];
	pg->max_bytes = EXPORT_BYTES;
	return 0;
}

void
api_agent_audit(struct http_request *r)
{
	struct verifier *v = r->arg;
	const char *id = r->param[0];
	struct strmap *pols = strmap_new();
	struct buf out, recs;
	struct page pg;
	char head[AUDIT_HASH_HEX];
	int64_t hseq = 0;
	size_t len;
	uint8_t *body;
	int rc;

	buf_init(&out);
	buf_init(&recs);
	if (page_args(r, &pg) != 0)
		goto out;
	/* The head first: records written meanwhile (another node) wait. */
	if ((rc = store_audit_head(v->store, id, &hseq, head)) == 0) {
		pg.upto = hseq;
		rc = collect(v, id, &pg, &recs, pols);
	}
	if (rc != 0) {
		http_reply_error(r, rc == ASSAY_ERR_INVAL ? 400 : 500, "store: %s",
		    assay_err_detail());
		goto out;
	}
	if (hseq == 0 && !known(v, id)) {
		http_reply_error(r, 404, "no agent '%s'", id);
		goto out;
	}
	put_line(&out, agent_line(v, id, pg.since));
	if ((rc = policy_lines(v, pols, &out)) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		goto out;
	}
	buf_put(&out, recs.d, recs.len);
	/* more: the page was cut; ask again with after=last. */
	put_line(&out, json_pack("{s:s, s:s, s:I, s:s, s:I, s:b, s:I}", "kind",
	    "head", "agent", id, "seq", (json_int_t)hseq, "hash", head,
	    "records", (json_int_t)pg.n, "more", pg.cut && pg.last < hseq,
	    "last", (json_int_t)pg.last));
	body = buf_steal(&out, &len);
	http_reply_raw(r, 200, "application/x-ndjson", body, len);
	free(body);
 out:
	buf_free(&out);
	buf_free(&recs);
	strmap_free(pols);
}
