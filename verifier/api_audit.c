/*
 * api_audit.c — GET /v1/agents/{id}/audit?since=UNIX: an agent's audit
 * trail as JSON lines (application/x-ndjson), read from the store (any
 * node of a cluster answers for any agent): an "agent" header line, one
 * "policy" line per policy text the exported rounds were judged with,
 * the records in seq order (time >= since), and a "head" line with the
 * chain's head as the store holds it. `assayctl audit verify` checks it.
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

/* Records of id since into recs; the policies they name into pols. */
static int
collect(struct verifier *v, const char *id, int64_t since, struct buf *recs,
    struct strmap *pols, size_t *count)
{
	struct store_audit *list;
	int64_t after = 0;
	size_t n;
	int r;

	*count = 0;
	do {
		if ((r = store_audit_list(v->store, id, after, since,
		    EXPORT_PAGE, &list, &n)) != 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			buf_put(recs, list[i].record, strlen(list[i].record));
			buf_put_u8(recs, '\n');
			note_policy(pols, &list[i]);
			after = list[i].seq;
			store_audit_free(&list[i]);
		}
		free(list);
		*count += n;
	} while (n == EXPORT_PAGE);
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

void
api_agent_audit(struct http_request *r)
{
	struct verifier *v = r->arg;
	const char *id = r->param[0], *ss = http_query(r, "since");
	struct strmap *pols = strmap_new();
	struct buf out, recs;
	char head[AUDIT_HASH_HEX], *end;
	int64_t since = 0, hseq = 0;
	size_t n = 0, len;
	uint8_t *body;
	int rc;

	buf_init(&out);
	buf_init(&recs);
	if (ss != NULL && ((since = strtoll(ss, &end, 10)) < 0 || *ss == '\0' ||
	    *end != '\0')) {
		http_reply_error(r, 400, "since must be unix seconds");
		goto out;
	}
	if ((rc = store_audit_head(v->store, id, &hseq, head)) != 0 ||
	    (rc = collect(v, id, since, &recs, pols, &n)) != 0) {
		http_reply_error(r, rc == ASSAY_ERR_INVAL ? 400 : 500, "store: %s",
		    assay_err_detail());
		goto out;
	}
	if (hseq == 0 && !known(v, id)) {
		http_reply_error(r, 404, "no agent '%s'", id);
		goto out;
	}
	put_line(&out, agent_line(v, id, since));
	if ((rc = policy_lines(v, pols, &out)) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		goto out;
	}
	buf_put(&out, recs.d, recs.len);
	put_line(&out, json_pack("{s:s, s:s, s:I, s:s, s:I}", "kind", "head",
	    "agent", id, "seq", (json_int_t)hseq, "hash", head, "records",
	    (json_int_t)n));
	body = buf_steal(&out, &len);
	http_reply_raw(r, 200, "application/x-ndjson", body, len);
	free(body);
 out:
	buf_free(&out);
	buf_free(&recs);
	strmap_free(pols);
}
