/*
 * test_verify.c — the verification pipeline on evidence documents built
 * from the swtpm quote fixtures (quote checks, static-PCR policy, stage
 * skipping, qualified signer, clock) and the worker pool (delivery on the
 * loop thread, exactly once, depth, teardown with queued jobs).
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>

#include "quote_fixture.h"

#include "common/encode.h"
#include "common/err.h"
#include "common/proto/doc.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm_public.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "common/appraise/verify.h"
#include "verifier/verify_pool.h"

/* One fixture, parsed: the AK and EK publics, the evidence document. */
struct vf {
	struct tpm2_public	 ak, ek;
	uint8_t			 nonce[64];
	size_t			 nonce_len;
	struct pcr_selection	 sel;
	struct evidence_doc	 doc;
	char			*json;		/* the document as text */
};

static struct vf *
vf_load(const char *dir)
{
	struct vf *f = xcalloc(1, sizeof(*f));
	uint8_t *b, *raw;
	size_t n;
	json_t *j;

	b = qf_read(dir, "ak.pub", &n);
	ck_assert_msg(tpm2_public_parse(b, n, &f->ak) == ASSAY_OK, "%s ak.pub: %s",
	    dir, assay_err_detail());
	free(b);
	b = qf_read(dir, "ek.pub", &n);
	ck_assert_msg(tpm2_public_parse(b, n, &f->ek) == ASSAY_OK, "%s ek.pub: %s",
	    dir, assay_err_detail());
	free(b);

	b = qf_read(dir, "nonce.hex", &n);
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	b = xreallocarray(b, n + 1, 1);
	b[n] = '\0';
	ck_assert_int_eq(hex_decode((char *)b, f->nonce, sizeof(f->nonce),
	    &f->nonce_len), ASSAY_OK);
	free(b);

	evidence_doc_init(&f->doc);
	f->doc.attest = qf_read(dir, "q.msg", &f->doc.attest_len);
	f->doc.sig = qf_read(dir, "q.sig", &f->doc.sig_len);
	raw = qf_read(dir, "q.pcrs", &n);
	ck_assert_int_eq(pcr_tpm2tools_parse(raw, n, &f->sel, &f->doc.pcrs),
	    ASSAY_OK);
	free(raw);

	j = evidence_doc_to_json(&f->doc);
	f->json = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	ck_assert_ptr_nonnull(f->json);
	return f;
}

static void
vf_free(struct vf *f)
{
	if (f == NULL)
		return;
	tpm2_public_free(&f->ak);
	tpm2_public_free(&f->ek);
	evidence_doc_free(&f->doc);
	free(f->json);
	free(f);
}

/* A job for f's document, expecting f's nonce and selection. */
static struct verify_job *
vf_job(const struct vf *f, struct policy *pol)
{
	struct verify_job *j;

	j = verify_job_new("agent-1", (uint8_t *)xstrdup(f->json),
	    strlen(f->json), f->ak.pkey, pol);
	memcpy(j->nonce, f->nonce, f->nonce_len);
	j->nonce_len = f->nonce_len;
	j->sel = f->sel;
	return j;
}

static void
assert_ok(const struct verify_job *j)
{
	ck_assert_msg(verdict_ok(&j->verdict), "verdict not ok: %s (%s)",
	    j->verdict.nfail ? j->verdict.fail[0].id : "?",
	    j->verdict.nfail ? j->verdict.fail[0].detail : "");
	ck_assert_uint_eq(j->verdict.nfail, 0);
}

/* Exactly one failure, and it is id. */
static void
assert_only(const struct verify_job *j, const char *id)
{
	ck_assert_msg(verdict_has(&j->verdict, id), "%s missing (first: %s)", id,
	    j->verdict.nfail ? j->verdict.fail[0].id : "none");
	ck_assert_msg(j->verdict.nfail == 1, "%zu failures, first %s: %s",
	    j->verdict.nfail, j->verdict.fail[0].id, j->verdict.fail[0].detail);
}

/* Policy pinning sha256 PCR pcr to the digest d (32 bytes). */
static struct policy *
pin_policy(unsigned pcr, const uint8_t *d)
{
	struct policy *p = NULL;
	char text[256], *hex = hex_encode(d, 32);
	int r;

	snprintf(text, sizeof(text),
	    "name: pin\nbank: sha256\npcrs:\n  %u: %s\n", pcr, hex);
	free(hex);
	r = policy_compile(text, strlen(text), NULL, &p);
	ck_assert_msg(r == ASSAY_OK, "policy: %s", assay_err_detail());
	return p;
}

static const uint8_t *
fixture_pcr(const struct vf *f, unsigned pcr)
{
	const uint8_t *v = pcr_values_get(&f->doc.pcrs, TPM2_ALG_SHA256, pcr);

	ck_assert_ptr_nonnull(v);
	return v;
}

START_TEST(valid_fixture_verifies_ok)
{
	static const char *const dirs[] = { "ecc-p256", "rsa-2048", "rsa-pss-2bank" };
	struct vf *f = vf_load(dirs[_i]);
	struct verify_job *j = vf_job(f, NULL);

	verify_run(j);
	assert_ok(j);
	ck_assert_int_eq(j->qres.clock.valid, 1);
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(replay_with_other_nonce_fails_only_quote_nonce)
{
	struct vf *f = vf_load("ecc-p256");
	struct verify_job *j = vf_job(f, NULL);

	j->nonce[0] ^= 0x01;
	verify_run(j);
	assert_only(j, "quote.nonce");
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(policy_pinning_pcr_to_fixture_value_verifies_ok)
{
	struct vf *f = vf_load("ecc-p256");
	struct policy *p = pin_policy(7, fixture_pcr(f, 7));
	struct pcr_selection psel;
	struct verify_job *j;

	policy_selection(p, &psel);
	ck_assert(pcr_selection_equal(&psel, &f->sel));
	j = vf_job(f, p);
	policy_unref(p);	/* the job holds its own reference */
	verify_run(j);
	assert_ok(j);
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(policy_pinning_pcr_to_other_value_fails_only_pcr_value)
{
	struct vf *f = vf_load("ecc-p256");
	uint8_t other[32];
	struct policy *p;
	struct verify_job *j;

	memcpy(other, fixture_pcr(f, 7), 32);
	other[31] ^= 0x80;
	p = pin_policy(7, other);
	j = vf_job(f, p);
	policy_unref(p);
	verify_run(j);
	assert_only(j, "pcr.value");	/* every quote.* check passed */
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(policy_stage_is_skipped_when_quote_fails)
{
	struct vf *f = vf_load("ecc-p256");
	uint8_t other[32];
	struct policy *p;
	struct verify_job *j;

	memcpy(other, fixture_pcr(f, 7), 32);
	other[0] ^= 0x01;
	p = pin_policy(7, other);
	j = vf_job(f, p);
	policy_unref(p);
	j->nonce[0] ^= 0x01;
	verify_run(j);
	/* PCR values of an unverified quote are not judged at all */
	ck_assert(!verdict_has(&j->verdict, "pcr.value"));
	assert_only(j, "quote.nonce");
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(malformed_json_fails_evidence_format)
{
	struct vf *f = vf_load("ecc-p256");
	struct verify_job *j = vf_job(f, NULL);

	j->body_len = strlen(f->json) / 2;	/* cut in the middle */
	verify_run(j);
	assert_only(j, "evidence.format");
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(doc_with_unknown_key_fails_evidence_format)
{
	struct vf *f = vf_load("ecc-p256");
	struct verify_job *j;
	char *body;
	size_t n = strlen(f->json);

	/* {"extra":0,<rest of the document> */
	body = xmalloc(n + 11 + 1);
	memcpy(body, "{\"extra\":0,", 11);
	memcpy(body + 11, f->json + 1, n);
	j = verify_job_new("agent-1", (uint8_t *)body, strlen(body), f->ak.pkey,
	    NULL);
	verify_run(j);
	assert_only(j, "evidence.format");
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(qualified_signer_of_ak_under_ek_verifies_ok)
{
	struct vf *f = vf_load("ecc-p256");
	struct verify_job *j = vf_job(f, NULL);

	ck_assert_int_eq(tpm2_ak_qualified_name(&f->ek, &f->ak, j->ak_name,
	    &j->ak_name_len), ASSAY_OK);
	verify_run(j);
	assert_ok(j);
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(plain_ak_name_as_signer_fails_quote_signer)
{
	struct vf *f = vf_load("ecc-p256");
	struct verify_job *j = vf_job(f, NULL);

	memcpy(j->ak_name, f->ak.name, f->ak.name_len);
	j->ak_name_len = f->ak.name_len;
	verify_run(j);
	assert_only(j, "quote.signer");
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(same_clock_state_as_before_verifies_ok)
{
	struct vf *f = vf_load("ecc-p256");
	struct verify_job *j = vf_job(f, NULL);

	struct clock_state prev;

	verify_run(j);
	assert_ok(j);
	prev = j->qres.clock;		/* replaying the same quote's clock */
	verify_job_free(j);		/* a job runs once: its text is consumed */
	j = vf_job(f, NULL);
	j->prev = prev;
	verify_run(j);
	assert_ok(j);
	ck_assert_uint_eq(j->verdict.nnotice, 0);
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(prev_with_larger_reset_count_fails_quote_clock)
{
	struct vf *f = vf_load("ecc-p256");
	struct verify_job *j = vf_job(f, NULL);

	struct clock_state prev;

	verify_run(j);
	assert_ok(j);
	prev = j->qres.clock;
	verify_job_free(j);
	j = vf_job(f, NULL);
	j->prev = prev;
	j->prev.reset_count++;
	verify_run(j);
	assert_only(j, "quote.clock");
	verify_job_free(j);
	vf_free(f);
}
END_TEST

START_TEST(job_without_ak_fails_ak_mismatch)
{
	struct vf *f = vf_load("ecc-p256");
	struct verify_job *j;

	j = verify_job_new("agent-1", (uint8_t *)xstrdup(f->json),
	    strlen(f->json), NULL, NULL);
	verify_run(j);
	assert_only(j, "ak.mismatch");
	verify_job_free(j);
	vf_free(f);
}
END_TEST

/* ---- worker pool ---- */

#define POOL_JOBS	200

struct pool_run {
	pthread_t		 loop_thread;
	struct event_base	*base;
	int			 delivered[POOL_JOBS];
	int			 total;
	int			 bad_thread;
	int			 not_ok;
};

static void
pool_done(struct verify_job *j, void *arg)
{
	struct pool_run *r = arg;

	if (!pthread_equal(pthread_self(), r->loop_thread))
		r->bad_thread++;
	if (j->gen < POOL_JOBS)
		r->delivered[j->gen]++;
	if (!verdict_ok(&j->verdict))
		r->not_ok++;
	r->total++;
	verify_job_free(j);
	if (r->total == POOL_JOBS)
		event_base_loopbreak(r->base);
}

static void
pool_timeout(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

START_TEST(pool_delivers_each_job_once_on_loop_thread)
{
	struct vf *f = vf_load("ecc-p256");
	struct pool_run *r = xcalloc(1, sizeof(*r));
	struct timeval tv = { 60, 0 };
	struct verify_pool *p;
	struct event *to;
	int i;

	ck_assert_int_eq(evthread_use_pthreads(), 0);
	r->base = event_base_new();
	ck_assert_ptr_nonnull(r->base);
	r->loop_thread = pthread_self();
	to = evtimer_new(r->base, pool_timeout, r->base);
	evtimer_add(to, &tv);
	p = verify_pool_new(r->base, 2, pool_done, r);
	for (i = 0; i < POOL_JOBS; i++) {
		struct verify_job *j = vf_job(f, NULL);

		j->gen = (uint64_t)i;
		verify_pool_submit(p, j);
	}
	ck_assert_uint_gt(verify_pool_depth(p), 0);
	event_base_loop(r->base, EVLOOP_NO_EXIT_ON_EMPTY);
	ck_assert_int_eq(r->total, POOL_JOBS);
	for (i = 0; i < POOL_JOBS; i++)
		ck_assert_msg(r->delivered[i] == 1, "job %d delivered %d times",
		    i, r->delivered[i]);
	ck_assert_int_eq(r->bad_thread, 0);
	ck_assert_int_eq(r->not_ok, 0);
	ck_assert_uint_eq(verify_pool_depth(p), 0);
	verify_pool_free(p);
	event_free(to);
	event_base_free(r->base);
	free(r);
	vf_free(f);
}
END_TEST

START_TEST(pool_free_with_queued_jobs_frees_them_undelivered)
{
	struct vf *f = vf_load("ecc-p256");
	struct pool_run *r = xcalloc(1, sizeof(*r));
	struct verify_pool *p;
	struct policy *pol = pin_policy(7, fixture_pcr(f, 7));
	int i;

	ck_assert_int_eq(evthread_use_pthreads(), 0);
	r->base = event_base_new();
	r->loop_thread = pthread_self();
	p = verify_pool_new(r->base, 1, pool_done, r);
	for (i = 0; i < POOL_JOBS; i++) {
		struct verify_job *j = vf_job(f, pol);

		j->gen = (uint64_t)i;
		verify_pool_submit(p, j);
	}
	ck_assert_uint_eq(verify_pool_depth(p), POOL_JOBS);
	/* the loop never runs: nothing may be delivered, all must be freed */
	verify_pool_free(p);
	ck_assert_int_eq(r->total, 0);
	/* the pool released its jobs' references: ours is the last one */
	policy_unref(pol);
	event_base_free(r->base);
	free(r);
	vf_free(f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("pipeline");
	TCase *tp = tcase_create("pool");
	SRunner *sr;
	int nf;

	tcase_add_loop_test(tc, valid_fixture_verifies_ok, 0, 3);
	tcase_add_test(tc, replay_with_other_nonce_fails_only_quote_nonce);
	tcase_add_test(tc, policy_pinning_pcr_to_fixture_value_verifies_ok);
	tcase_add_test(tc, policy_pinning_pcr_to_other_value_fails_only_pcr_value);
	tcase_add_test(tc, policy_stage_is_skipped_when_quote_fails);
	tcase_add_test(tc, malformed_json_fails_evidence_format);
	tcase_add_test(tc, doc_with_unknown_key_fails_evidence_format);
	tcase_add_test(tc, qualified_signer_of_ak_under_ek_verifies_ok);
	tcase_add_test(tc, plain_ak_name_as_signer_fails_quote_signer);
	tcase_add_test(tc, same_clock_state_as_before_verifies_ok);
	tcase_add_test(tc, prev_with_larger_reset_count_fails_quote_clock);
	tcase_add_test(tc, job_without_ak_fails_ak_mismatch);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tp, 120);
	tcase_add_test(tp, pool_delivers_each_job_once_on_loop_thread);
	tcase_add_test(tp, pool_free_with_queued_jobs_frees_them_undelivered);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
