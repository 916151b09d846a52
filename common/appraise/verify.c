/*
 * verify.c — the check pipeline for one evidence document. Stages are a
 * table; a stage that needs trustworthy PCR values runs only when the
 * quote checks passed. (The verifier runs jobs on verifier/verify_pool.c.)
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/evidence/certify.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "common/appraise/verify.h"

struct stage {
	const char	*name;
	int		 needs_quote;	/* skip unless the quote verified */
	void		(*fn)(struct verify_job *, const struct evidence_doc *);
};

static void
stage_quote(struct verify_job *j, const struct evidence_doc *d)
{
	struct quote_evidence ev = {
		.attest = d->attest, .attest_len = d->attest_len,
		.sig = d->sig, .sig_len = d->sig_len, .pcrs = &d->pcrs,
	};
	struct quote_expect ex = {
		.ak = j->ak,
		.ak_name = j->ak_name_len > 0 ? j->ak_name : NULL,
		.ak_name_len = j->ak_name_len,
		.nonce = j->nonce, .nonce_len = j->nonce_len,
		.sel = &j->sel,
		.prev = j->prev.valid ? &j->prev : NULL,
	};

	(void)quote_verify(&ev, &ex, &j->qres, &j->verdict);
	/* A value the quote did not cover must not reach any policy rule. */
	if (bind_pcr_values(&d->pcrs, &j->sel) != 0)
		verdict_fail(&j->verdict, FID_QUOTE_PCR_SELECT, "%s",
		    assay_err_detail());
}

static void
stage_static_pcrs(struct verify_job *j, const struct evidence_doc *d)
{
	if (j->policy != NULL)
		policy_check_pcrs(j->policy, &d->pcrs, &j->verdict);
}

/*
 * The identity key the agent sent, certified by the AK over this round's
 * nonce (certify.h): kept for the verifier to issue an identity for while
 * the agent stays trusted. A certification that fails fails the round: an
 * honest agent never sends one.
 */
static void
stage_identity(struct verify_job *j, const struct evidence_doc *d)
{
	struct certify_evidence ev = {
		.pub = d->id_pub, .pub_len = d->id_pub_len,
		.attest = d->id_attest, .attest_len = d->id_attest_len,
		.sig = d->id_sig, .sig_len = d->id_sig_len,
	};
	struct certify_expect ex = {
		.ak = j->ak,
		.ak_name = j->ak_name_len > 0 ? j->ak_name : NULL,
		.ak_name_len = j->ak_name_len,
		.nonce = j->nonce, .nonce_len = j->nonce_len,
	};
	struct tpm2_public key;

	if (d->id_pub == NULL)
		return;
	if (certify_verify(&ev, &ex, &key, &j->verdict) != ASSAY_OK)
		return;
	tpm2_public_free(&key);
	j->id_pub = xmemdup(d->id_pub, d->id_pub_len);
	j->id_pub_len = d->id_pub_len;
}

static const struct stage stages[] = {
	{ "quote",	0, stage_quote },
	{ "pcrs",	1, stage_static_pcrs },
	{ "measured_boot", 1, stage_measured_boot },
	{ "ima",	1, stage_ima },
	{ "identity",	1, stage_identity },
};

struct verify_job *
verify_job_new(const char *agent_id, uint8_t *body, size_t body_len,
    EVP_PKEY *ak, struct policy *policy)
{
	struct verify_job *j = xcalloc(1, sizeof(*j));

	snprintf(j->agent_id, sizeof(j->agent_id), "%s", agent_id);
	j->body = body;
	j->body_len = body_len;
	if (ak != NULL && EVP_PKEY_up_ref(ak) == 1)
		j->ak = ak;
	if (policy != NULL)
		j->policy = policy_ref(policy);
	verdict_init(&j->verdict);
	return j;
}

void
verify_job_free(struct verify_job *j)
{
	if (j == NULL)
		return;
	free(j->body);
	free(j->kept);
	free(j->ak_pub);
	json_decref(j->audit_rec);
	free(j->id_pub);
	EVP_PKEY_free(j->ak);
	policy_unref(j->policy);
	free(j);
}

void
verify_run(struct verify_job *j)
{
	struct evidence_doc d;
	double t0 = clock_mono();
	int quote_ok, r;

	verdict_init(&j->verdict);
	memset(&j->qres, 0, sizeof(j->qres));
	j->ima_out = j->ima_in;
	j->mb_out = j->mb_in;
	j->ima_accepted = 0;
	j->retry = 0;
	free(j->id_pub);
	j->id_pub = NULL;
	j->id_pub_len = 0;
	/*
	 * The document takes the body: JSON text is freed once parsed, the
	 * binary form is kept and its IMA list used where it lies; either way
	 * it is gone when the document is (scheduler.c's budget counts on it).
	 */
	if (j->keep_body && j->kept == NULL && j->body != NULL) {
		j->kept = xmemdup(j->body, j->body_len);
		j->kept_len = j->body_len;
	}
	r = evidence_doc_parse_take(j->body, j->body_len, &d);
	j->body = NULL;
	j->body_len = 0;
	if (r != 0) {
		verdict_fail(&j->verdict, FID_EVIDENCE_FORMAT, "%s", assay_err_detail());
		goto out;
	}
	if (j->ak == NULL) {
		verdict_fail(&j->verdict, FID_AK_MISMATCH, "no usable AK enrolled");
		goto done;
	}
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		quote_ok = verdict_ok(&j->verdict);
		if (stages[i].needs_quote && !quote_ok)
			continue;
		stages[i].fn(j, &d);
	}
 done:
	evidence_doc_free(&d);
 out:
	j->seconds = clock_mono() - t0;
}

char *
verify_state_to_json(const struct ima_state *ima, const struct mb_state *mb)
{
	char *a = ima_state_to_json(ima), *b = mb_state_to_json(mb), *out;
	json_t *o = a != NULL ? json_loads(a, 0, NULL) : NULL;
	json_t *m = b != NULL ? json_loads(b, 0, NULL) : NULL;

	if (o == NULL)
		o = json_object();
	if (m != NULL)
		json_object_update(o, m);
	out = json_object_size(o) > 0 ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	json_decref(m);
	free(a);
	free(b);
	return out;
}

void
verify_state_from_json(const char *text, struct ima_state *ima,
    struct mb_state *mb)
{
	ima_state_from_json(text, ima);
	mb_state_from_json(text, mb);
}
