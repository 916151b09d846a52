/*
 * test_audit_round.c — a judged round as an audit record and back
 * (common/appraise/audit_round.c), on the swtpm quote fixtures: the job
 * rebuilt from a record judges the same (a passing and a failing round),
 * and a record whose verdict, carried state or evidence was changed no
 * longer matches its re-run; a record without evidence is refused.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "quote_fixture.h"

#include "common/encode.h"
#include "common/err.h"
#include "common/proto/doc.h"
#include "common/xmalloc.h"
#include "common/appraise/audit_round.h"
#include "common/appraise/policy.h"
#include "common/appraise/verify.h"

/* Policy pinning sha256 PCR 7 to the fixture's value, or to another. */
static struct policy *
pin7(const struct qf *f, int other)
{
	const uint8_t *v = pcr_values_get(&f->vals, TPM2_ALG_SHA256, 7);
	uint8_t d[32];
	struct policy *p = NULL;
	char text[256], *hex;

	ck_assert_ptr_nonnull(v);
	memcpy(d, v, sizeof(d));
	d[0] ^= other ? 1 : 0;
	hex = hex_encode(d, sizeof(d));
	snprintf(text, sizeof(text), "name: pin\nbank: sha256\npcrs:\n  7: %s\n",
	    hex);
	free(hex);
	ck_assert_msg(policy_compile(text, strlen(text), NULL, &p) == ASSAY_OK,
	    "%s", assay_err_detail());
	return p;
}

/* The record of the fixture's round judged with pol. */
static json_t *
recorded(const char *dir, struct policy *pol)
{
	struct qf *f = qf_load(dir);
	struct evidence_doc d;
	struct verify_job *j;
	uint8_t *akpub;
	size_t aklen;
	json_t *doc, *rec;
	char *text;

	evidence_doc_init(&d);
	d.attest = xmemdup(f->msg, f->msg_len);
	d.attest_len = f->msg_len;
	d.sig = xmemdup(f->sig, f->sig_len);
	d.sig_len = f->sig_len;
	d.pcrs = f->vals;
	doc = evidence_doc_to_json(&d);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	evidence_doc_free(&d);
	j = verify_job_new("agent-1", (uint8_t *)text, strlen(text), f->ak, pol);
	memcpy(j->nonce, f->nonce, f->nonce_len);
	j->nonce_len = f->nonce_len;
	memcpy(j->ak_name, f->qname, f->qname_len);
	j->ak_name_len = f->qname_len;
	j->sel = f->sel;
	j->keep_body = 1;
	verify_run(j);
	ck_assert_ptr_nonnull(j->kept);
	akpub = qf_read(dir, "ak.pub", &aklen);
	rec = audit_round_record(j, akpub, aklen);
	free(akpub);
	verify_job_free(j);
	qf_free(f);
	return rec;
}

/* Judge rec again with pol; the comparison's result. */
static int
rerun(const json_t *rec, struct policy *pol)
{
	struct verify_job *j;
	int r;

	ck_assert_msg(audit_round_job(rec, pol, &j) == ASSAY_OK, "%s",
	    assay_err_detail());
	verify_run(j);
	r = audit_round_compare(rec, j);
	verify_job_free(j);
	return r;
}

static const char *
state_of(const json_t *rec)
{
	return json_string_value(json_object_get(json_object_get(rec, "verdict"),
	    "state"));
}

START_TEST(passing_round_reruns_the_same)
{
	static const char *const dirs[] = { "ecc-p256", "rsa-2048" };
	struct qf *f = qf_load(dirs[_i]);
	struct policy *p = pin7(f, 0);
	json_t *rec = recorded(dirs[_i], p);

	ck_assert_str_eq(state_of(rec), "trusted");
	ck_assert(json_is_true(json_object_get(rec, "applied")));
	ck_assert_int_eq(rerun(rec, p), ASSAY_OK);
	json_decref(rec);
	policy_unref(p);
	qf_free(f);
}
END_TEST

START_TEST(failing_round_reruns_the_same_failure)
{
	struct qf *f = qf_load("ecc-p256");
	struct policy *p = pin7(f, 1);
	json_t *rec = recorded("ecc-p256", p);
	json_t *ids = json_object_get(json_object_get(rec, "verdict"),
	    "failure_ids");

	ck_assert_str_eq(state_of(rec), "untrusted");
	ck_assert_str_eq(json_string_value(json_array_get(ids, 0)), "pcr.value");
	ck_assert(json_is_false(json_object_get(rec, "applied")));
	ck_assert_int_eq(rerun(rec, p), ASSAY_OK);
	json_decref(rec);
	policy_unref(p);
	qf_free(f);
}
END_TEST

START_TEST(edited_verdict_no_longer_matches)
{
	struct qf *f = qf_load("ecc-p256");
	struct policy *p = pin7(f, 1);
	json_t *rec = recorded("ecc-p256", p), *vd = json_object_get(rec, "verdict");

	json_object_set_new(vd, "state", json_string("trusted"));
	json_object_set_new(vd, "failure_ids", json_array());
	ck_assert_int_eq(rerun(rec, p), ASSAY_ERR_STATE);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "verdict differs"));
	json_decref(rec);
	policy_unref(p);
	qf_free(f);
}
END_TEST

START_TEST(edited_state_out_no_longer_matches)
{
	struct qf *f = qf_load("ecc-p256");
	struct policy *p = pin7(f, 0);
	json_t *rec = recorded("ecc-p256", p);

	json_object_set_new(rec, "verify_state_out",
	    json_string("{\"ima\":{}}"));
	ck_assert_int_eq(rerun(rec, p), ASSAY_ERR_STATE);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "verify_state_out"));
	json_decref(rec);
	policy_unref(p);
	qf_free(f);
}
END_TEST

START_TEST(other_evidence_no_longer_matches)
{
	struct qf *f = qf_load("ecc-p256");
	struct policy *p = pin7(f, 0);
	json_t *rec = recorded("ecc-p256", p), *other = recorded("rsa-2048", p);

	/* Another host's genuine evidence under this round's inputs. */
	json_object_set(rec, "evidence", json_object_get(other, "evidence"));
	ck_assert_int_eq(rerun(rec, p), ASSAY_ERR_STATE);
	json_decref(other);
	json_decref(rec);
	policy_unref(p);
	qf_free(f);
}
END_TEST

START_TEST(record_without_evidence_is_refused)
{
	struct qf *f = qf_load("ecc-p256");
	struct policy *p = pin7(f, 0);
	json_t *rec = recorded("ecc-p256", p);
	struct verify_job *j = NULL;

	json_object_del(rec, "evidence");
	ck_assert_int_eq(audit_round_job(rec, p, &j), ASSAY_ERR_FORMAT);
	ck_assert_ptr_null(j);
	json_object_set_new(rec, "evidence", json_string("!!not base64"));
	ck_assert_int_eq(audit_round_job(rec, p, &j), ASSAY_ERR_FORMAT);
	json_decref(rec);
	policy_unref(p);
	qf_free(f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("audit_round");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_loop_test(tc, passing_round_reruns_the_same, 0, 2);
	tcase_add_test(tc, failing_round_reruns_the_same_failure);
	tcase_add_test(tc, edited_verdict_no_longer_matches);
	tcase_add_test(tc, edited_state_out_no_longer_matches);
	tcase_add_test(tc, other_evidence_no_longer_matches);
	tcase_add_test(tc, record_without_evidence_is_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
