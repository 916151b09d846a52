/*
 * audit_round.c — a verify_job to a "round" audit record and a record
 * back to a job (audit_round.h). Bytes are base64 or hex in the record;
 * every field read back goes through jansson's typed unpacking and the
 * decoders' length limits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/tpm_public.h"
#include "common/proto/audit_rec.h"
#include "common/proto/doc.h"
#include "common/xmalloc.h"
#include "common/appraise/audit_round.h"
#include "common/appraise/policy.h"

#define AK_PUB_MAX	4096

/* The largest document, base64 in a record, with room for the rest. */
_Static_assert(DOC_B64_LEN(DOC_MAX_SIZE) + 1024 * 1024 <= AUDIT_REC_MAX,
    "AUDIT_REC_MAX below a record of the largest evidence document");

const char *
audit_round_outcome(const struct verify_job *j)
{
	if (!verdict_ok(&j->verdict))
		return "untrusted";
	if (j->retry)
		return "inconclusive";
	return j->ima_pending ? "held" : "trusted";
}

static json_t *
verdict_json(const struct verify_job *j)
{
	json_t *ids = json_array();
	const char *detail = NULL;

	for (size_t i = 0; i < j->verdict.nfail; i++)
		json_array_append_new(ids, json_string(j->verdict.fail[i].id));
	if (j->verdict.nfail > 0)
		detail = j->verdict.fail[0].detail;
	else if (j->retry)
		detail = j->retry_reason;
	return json_pack("{s:s, s:o, s:s?}", "state", audit_round_outcome(j),
	    "failure_ids", ids, "detail", detail);
}

static json_t *
clock_json(const struct clock_state *c)
{
	char clk[24], fw[24];

	snprintf(clk, sizeof(clk), "%" PRIu64, c->clock);
	snprintf(fw, sizeof(fw), "%" PRIu64, c->firmware_version);
	return json_pack("{s:b, s:s, s:I, s:I, s:s}", "valid", c->valid,
	    "clock", clk, "reset_count", (json_int_t)c->reset_count,
	    "restart_count", (json_int_t)c->restart_count,
	    "firmware_version", fw);
}

/* Steals a string (NULL: JSON null). */
static json_t *
str_take(char *s)
{
	json_t *o = s != NULL ? json_string(s) : json_null();

	free(s);
	return o != NULL ? o : json_null();
}

/*
 * Steals base64 or hex text (NULL: JSON null): ASCII by construction, so
 * jansson's UTF-8 scan is skipped (3.7 us for a 2.6 KB evidence string,
 * every round).
 */
static json_t *
enc_take(char *s)
{
	json_t *o = s != NULL ? json_stringn_nocheck(s, strlen(s)) : json_null();

	free(s);
	return o != NULL ? o : json_null();
}

static json_t *
inputs_json(const struct verify_job *j, const uint8_t *ak_pub,
    size_t ak_pub_len)
{
	json_t *in = json_object();

	json_object_set_new(in, "nonce", enc_take(hex_encode(j->nonce,
	    j->nonce_len)));
	json_object_set_new(in, "ak_pub", enc_take(ak_pub != NULL ?
	    base64_encode(ak_pub, ak_pub_len) : NULL));
	json_object_set_new(in, "ak_name", enc_take(j->ak_name_len > 0 ?
	    hex_encode(j->ak_name, j->ak_name_len) : NULL));
	json_object_set_new(in, "pcrs", str_take(pcr_selection_format(&j->sel)));
	json_object_set_new(in, "prev_clock", clock_json(&j->prev));
	json_object_set_new(in, "ima_max", json_integer((json_int_t)j->ima_max));
	json_object_set_new(in, "ima_bytes", json_integer((json_int_t)j->ima_bytes));
	json_object_set_new(in, "verify_state_in", str_take(verify_state_to_json(
	    &j->ima_in, &j->mb_in)));
	return in;
}

json_t *
audit_round_record(const struct verify_job *j, const uint8_t *ak_pub,
    size_t ak_pub_len)
{
	json_t *rec = json_object();
	char *sha;

	json_object_set_new(rec, "kind", json_string("round"));
	json_object_set_new(rec, "verdict", verdict_json(j));
	if (j->policy != NULL) {
		sha = hex_encode(policy_text_digest(j->policy), 32);
		json_object_set_new(rec, "policy", json_pack("{s:s, s:s, s:I}",
		    "name", policy_name(j->policy), "sha256", sha, "version",
		    (json_int_t)policy_version(j->policy)));
		free(sha);
	} else
		json_object_set_new(rec, "policy", json_null());
	json_object_set_new(rec, "inputs", inputs_json(j, ak_pub, ak_pub_len));
	json_object_set_new(rec, "evidence", enc_take(j->kept != NULL ?
	    base64_encode(j->kept, j->kept_len) : NULL));
	json_object_set_new(rec, "verify_state_out", str_take(
	    verify_state_to_json(&j->ima_out, &j->mb_out)));
	json_object_set_new(rec, "applied", json_boolean(verdict_ok(&j->verdict)));
	return rec;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	*v = strtoull(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static int
clock_from(const json_t *o, struct clock_state *c)
{
	const char *clk = NULL, *fw = NULL;
	json_int_t rc = 0, rs = 0;
	int valid = 0;

	memset(c, 0, sizeof(*c));
	if (json_unpack((json_t *)o, "{s:b, s:s, s:I, s:I, s:s}", "valid", &valid,
	    "clock", &clk, "reset_count", &rc, "restart_count", &rs,
	    "firmware_version", &fw) != 0 || parse_u64(clk, &c->clock) != 0 ||
	    parse_u64(fw, &c->firmware_version) != 0 || rc < 0 ||
	    rc > UINT32_MAX || rs < 0 || rs > UINT32_MAX)
		return -1;
	c->valid = valid;
	c->reset_count = (uint32_t)rc;
	c->restart_count = (uint32_t)rs;
	return 0;
}

/* The AK of the record as a key; NULL ak_pub: none (the round failed so). */
static int
job_ak(const char *ak_b64, EVP_PKEY **pkey)
{
	struct tpm2_public pub;
	uint8_t *raw = NULL;
	size_t len = 0;
	int r;

	*pkey = NULL;
	if (ak_b64 == NULL)
		return ASSAY_OK;
	if (base64_decode_alloc(ak_b64, AK_PUB_MAX, &raw, &len) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "inputs.ak_pub: not base64");
	r = tpm2_public_parse(raw, len, &pub);
	free(raw);
	if (r != 0)
		return r;
	*pkey = pub.pkey;
	pub.pkey = NULL;
	tpm2_public_free(&pub);
	return ASSAY_OK;
}

/* inputs.* into j (its body and key are set by the caller). */
static int
job_inputs(const json_t *in, struct verify_job *j)
{
	const char *nonce = NULL, *pcrs = NULL, *name, *st;
	json_t *prev = NULL, *jname = NULL, *jst = NULL;
	json_int_t imax = 0, ibytes = 0;

	/* ak_name and verify_state_in: a string or null */
	if (json_unpack((json_t *)in, "{s:s, s:o, s:s, s:o, s:I, s:I, s:o}",
	    "nonce", &nonce, "ak_name", &jname, "pcrs", &pcrs, "prev_clock",
	    &prev, "ima_max", &imax, "ima_bytes", &ibytes, "verify_state_in",
	    &jst) != 0 || (!json_is_string(jname) && !json_is_null(jname)) ||
	    (!json_is_string(jst) && !json_is_null(jst)))
		return assay_err_set(ASSAY_ERR_FORMAT, "inputs: a field is "
		    "missing or mistyped");
	name = json_string_value(jname);
	st = json_string_value(jst);
	if (hex_decode(nonce, j->nonce, sizeof(j->nonce), &j->nonce_len) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "inputs.nonce: bad hex");
	if (name != NULL && hex_decode(name, j->ak_name, sizeof(j->ak_name),
	    &j->ak_name_len) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "inputs.ak_name: bad hex");
	if (pcr_selection_parse(pcrs, &j->sel) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "inputs.pcrs: %s",
		    assay_err_detail());
	if (clock_from(prev, &j->prev) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "inputs.prev_clock: bad");
	if (imax < 0 || ibytes < 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "inputs: negative IMA page");
	j->ima_max = (uint64_t)imax;
	j->ima_bytes = (size_t)ibytes;
	verify_state_from_json(st, &j->ima_in, &j->mb_in);
	return ASSAY_OK;
}

int
audit_round_job(const json_t *rec, struct policy *pol, struct verify_job **out)
{
	const char *ev = NULL, *ak = NULL, *agent = "";
	struct verify_job *j = NULL;
	json_t *in = json_object_get(rec, "inputs");
	EVP_PKEY *pkey = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	(void)json_unpack((json_t *)rec, "{s?s}", "agent", &agent);
	ak = json_string_value(json_object_get(in, "ak_pub"));
	if (!json_is_object(in) ||
	    json_unpack((json_t *)rec, "{s:s}", "evidence", &ev) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "round record without "
		    "inputs or evidence");
	if (base64_decode_alloc(ev, DOC_MAX_SIZE, &body, &len) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: not base64");
	if ((r = job_ak(ak, &pkey)) != 0) {
		free(body);
		return r;
	}
	j = verify_job_new(agent, body, len, pkey, pol);
	EVP_PKEY_free(pkey);	/* the job holds its own reference */
	if ((r = job_inputs(in, j)) != 0) {
		verify_job_free(j);
		return r;
	}
	*out = j;
	return ASSAY_OK;
}

/* Same JSON text, or both absent. */
static int
same_text(const json_t *a, const char *b)
{
	const char *s = json_string_value(a);

	if (s == NULL || b == NULL)
		return s == NULL && b == NULL;
	return strcmp(s, b) == 0;
}

int
audit_round_compare(const json_t *rec, const struct verify_job *j)
{
	json_t *want = json_object_get(rec, "verdict"), *got = verdict_json(j);
	char *st = NULL;
	int r = ASSAY_OK;

	if (!json_is_object(want) ||
	    !json_equal(json_object_get(want, "state"),
	    json_object_get(got, "state")) ||
	    !json_equal(json_object_get(want, "failure_ids"),
	    json_object_get(got, "failure_ids"))) {
		char *a = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
		char *b = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

		r = assay_err_set(ASSAY_ERR_STATE, "verdict differs: recorded "
		    "%.300s, re-run %.300s", a != NULL ? a : "?",
		    b != NULL ? b : "?");
		free(a);
		free(b);
		goto out;
	}
	st = verify_state_to_json(&j->ima_out, &j->mb_out);
	if (!same_text(json_object_get(rec, "verify_state_out"), st))
		r = assay_err_set(ASSAY_ERR_STATE, "verify_state_out differs: "
		    "re-run gives %.300s", st != NULL ? st : "null");
 out:
	free(st);
	json_decref(got);
	return r;
}
