/*
 * test_verify_ima.c — the IMA stage with paged lists: a page short of the
 * quoted PCR 10 while more follow is held (nothing counts, nothing fails),
 * the chain counts once a later round's page reaches that round's quote;
 * held findings and boot_aggregate apply then and only then; pages that
 * claim more must be full; a chain that never reaches a quote fails; a
 * reboot drops what was pending; the pending state survives the store.
 * The stage runs on hand-built documents: the quote stage (tested
 * elsewhere) is what makes d->pcrs "quoted".
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ima_gen.h"

#include "common/err.h"
#include "common/proto/doc.h"
#include "common/evidence/ima.h"
#include "common/evidence/pcr.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "common/appraise/verify.h"
#include "common/appraise/verify_ima.h"

#define NMAX	32

/* A list: boot_aggregate, then files; off[i] = start of entry i. */
struct lst {
	struct buf	b;
	size_t		off[NMAX + 1];
	size_t		n;
	uint8_t		zero[32];	/* PCRs 0-9 of the "host" */
};

static void
lst_add(struct lst *l, const char *path)
{
	uint8_t dg[32];
	size_t n;

	tpm2_hash(TPM2_ALG_SHA256, path, strlen(path), dg, &n);
	gen_entry(&l->b, TPM2_ALG_SHA1, "ima-ng", "sha256", dg, 32, path, NULL, 0, 0);
	l->off[++l->n] = l->b.len;
}

/* nfiles files under /usr/lib (excluded by the policy); bad_ba: wrong digest. */
static void
lst_make(struct lst *l, size_t nfiles, int bad_ba)
{
	const uint8_t *pcrs[10];
	uint8_t ba[32];
	size_t n;
	char path[64];

	memset(l, 0, sizeof(*l));
	buf_init(&l->b);
	for (int i = 0; i < 10; i++)
		pcrs[i] = l->zero;
	ck_assert_int_eq(ima_boot_aggregate(TPM2_ALG_SHA256, pcrs, ba, &n), ASSAY_OK);
	ba[0] ^= bad_ba ? 1 : 0;
	gen_entry(&l->b, TPM2_ALG_SHA1, "ima-ng", "sha256", ba, 32, "boot_aggregate",
	    NULL, 0, 0);
	l->off[++l->n] = l->b.len;
	for (size_t i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "/usr/lib/lib%zu.so", i);
		lst_add(l, path);
	}
}

/* PCR 10 (sha256, bank-hash scheme) after the first k entries. */
static void
lst_pcr(const struct lst *l, size_t k, uint8_t *pcr)
{
	struct ima_list il = { 0 };
	size_t len, bad;

	ck_assert_int_eq(ima_parse_binary(l->b.d, l->off[k], TPM2_ALG_SHA1, &il,
	    NULL), ASSAY_OK);
	ck_assert_int_eq(ima_replay_all(&il, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH,
	    pcr, &len, &bad), ASSAY_OK);
	ima_list_free(&il);
}

static struct policy *
pol(void)
{
	static const char text[] = "name: p\nbank: sha256\nima:\n"
	    "  exclude: [\"/usr/lib/**\"]\n  unknown: fail\n";
	struct policy *p = NULL;

	ck_assert_msg(policy_compile(text, strlen(text), NULL, &p) == ASSAY_OK,
	    "policy: %s", assay_err_detail());
	return p;
}

/*
 * One round: the page [from, to) of l, "more" as given, the quote over
 * the first `quoted` entries; ima_max entries asked. The job is returned
 * after the stage ran.
 */
static struct verify_job *
round_(const struct lst *l, const struct ima_state *in, size_t from, size_t to,
    int more, size_t quoted, uint64_t ima_max)
{
	struct evidence_doc d;
	struct policy *p = pol();
	struct verify_job *j = verify_job_new("a", NULL, 0, NULL, p);
	uint8_t pcr10[32];

	policy_unref(p);
	evidence_doc_init(&d);
	for (unsigned i = 0; i < 10; i++)
		ck_assert_int_eq(pcr_values_set(&d.pcrs, TPM2_ALG_SHA256, i, l->zero,
		    32), 0);
	lst_pcr(l, quoted, pcr10);
	ck_assert_int_eq(pcr_values_set(&d.pcrs, TPM2_ALG_SHA256, 10, pcr10, 32), 0);
	d.has_ima = 1;
	d.ima_from = from;
	d.ima_count = to - from;
	d.ima_len = l->off[to] - l->off[from];
	d.ima = xmalloc(d.ima_len + 1);
	memcpy(d.ima, l->b.d + l->off[from], d.ima_len);
	d.ima_thash_alg = TPM2_ALG_SHA1;
	d.ima_more = more;
	ck_assert_int_eq(pcr_selection_parse("sha256:0,1,2,3,4,5,6,7,8,9,10", &j->sel),
	    0);
	if (in != NULL)
		j->ima_in = *in;
	j->ima_out = j->ima_in;
	j->ima_max = ima_max;
	stage_ima(j, &d);
	evidence_doc_free(&d);
	return j;
}

static void
assert_ok(const struct verify_job *j)
{
	ck_assert_msg(verdict_ok(&j->verdict), "verdict not ok: %s (%s)",
	    j->verdict.nfail ? j->verdict.fail[0].id : "?",
	    j->verdict.nfail ? j->verdict.fail[0].detail : "");
	ck_assert_int_eq(j->retry, 0);
}

static void
assert_fails(const struct verify_job *j, const char *id)
{
	ck_assert_msg(verdict_has(&j->verdict, id), "%s missing (first: %s %s)", id,
	    j->verdict.nfail ? j->verdict.fail[0].id : "none",
	    j->verdict.nfail ? j->verdict.fail[0].detail : "");
}

START_TEST(pages_short_of_the_quote_are_held_until_one_reaches_it)
{
	struct lst l;
	struct verify_job *j;
	struct ima_state st;

	lst_make(&l, 9, 0);			/* 10 entries, quoted all along */
	j = round_(&l, NULL, 0, 4, 1, 10, 4);
	assert_ok(j);
	ck_assert_int_eq(j->ima_pending, 1);
	ck_assert_int_eq(j->ima_more, 1);
	ck_assert_uint_eq(j->ima_accepted, 0);
	ck_assert_uint_eq(j->ima_out.rp.count, 0);	/* nothing accepted yet */
	ck_assert_uint_eq(j->ima_out.pend_n, 4);
	st = j->ima_out;
	verify_job_free(j);

	j = round_(&l, &st, 4, 8, 1, 10, 4);
	assert_ok(j);
	ck_assert_int_eq(j->ima_pending, 1);
	ck_assert_uint_eq(j->ima_out.rp.count, 0);
	ck_assert_uint_eq(j->ima_out.pend_n, 8);
	st = j->ima_out;
	verify_job_free(j);

	j = round_(&l, &st, 8, 10, 0, 10, 4);	/* the tail reaches the quote */
	assert_ok(j);
	ck_assert_int_eq(j->ima_pending, 0);
	ck_assert_int_eq(j->ima_more, 0);
	ck_assert_uint_eq(j->ima_accepted, 10);
	ck_assert_uint_eq(j->ima_out.rp.count, 10);
	ck_assert_uint_eq(j->ima_out.pend_n, 0);
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

START_TEST(a_finding_in_a_held_page_counts_only_when_bound)
{
	struct lst l;
	struct verify_job *j;
	struct ima_state st;

	lst_make(&l, 2, 0);
	lst_add(&l, "/usr/bin/rogue");		/* entry 3: not allowed */
	lst_add(&l, "/usr/lib/libz.so");
	j = round_(&l, NULL, 0, 4, 1, 5, 4);
	assert_ok(j);				/* held: not yet a failure */
	ck_assert_int_eq(j->ima_pending, 1);
	ck_assert_uint_eq(j->ima_out.pend_nitems, 1);
	st = j->ima_out;
	verify_job_free(j);

	j = round_(&l, &st, 4, 5, 0, 5, 4);
	assert_fails(j, "ima.not_allowed");
	ck_assert_ptr_nonnull(strstr(j->verdict.fail[0].detail, "/usr/bin/rogue"));
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

START_TEST(an_unknown_file_in_the_last_page_is_caught)
{
	struct lst l;
	struct verify_job *j;
	struct ima_state st;

	lst_make(&l, 3, 0);
	lst_add(&l, "/usr/bin/rogue");		/* entry 4, in the last page */
	j = round_(&l, NULL, 0, 4, 1, 5, 4);
	assert_ok(j);
	st = j->ima_out;
	verify_job_free(j);
	j = round_(&l, &st, 4, 5, 0, 5, 4);
	assert_fails(j, "ima.not_allowed");
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

START_TEST(bad_boot_aggregate_in_a_held_page_fails_at_binding)
{
	struct lst l;
	struct verify_job *j;
	struct ima_state st;

	lst_make(&l, 5, 1);
	j = round_(&l, NULL, 0, 3, 1, 6, 3);
	assert_ok(j);
	ck_assert_int_eq(j->ima_out.pend_ba, 1);
	st = j->ima_out;
	verify_job_free(j);
	j = round_(&l, &st, 3, 6, 0, 6, 3);
	assert_fails(j, "ima.boot_aggregate");
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

START_TEST(a_chain_that_never_reaches_the_quote_fails_replay)
{
	struct lst l, other;
	struct verify_job *j;
	struct ima_state st;

	/* Pages of a list other than the quoted one: held, then not bound. */
	lst_make(&l, 6, 0);
	lst_make(&other, 6, 0);
	lst_add(&other, "/usr/lib/extra.so");
	j = round_(&l, NULL, 0, 4, 1, 7, 4);
	assert_ok(j);
	st = j->ima_out;
	verify_job_free(j);
	/* The quote covers `other` (8 entries); l's tail does not reach it. */
	{
		struct evidence_doc d;
		struct policy *p = pol();
		uint8_t pcr10[32];

		j = verify_job_new("a", NULL, 0, NULL, p);
		policy_unref(p);
		evidence_doc_init(&d);
		for (unsigned i = 0; i < 10; i++)
			pcr_values_set(&d.pcrs, TPM2_ALG_SHA256, i, l.zero, 32);
		lst_pcr(&other, 8, pcr10);
		pcr_values_set(&d.pcrs, TPM2_ALG_SHA256, 10, pcr10, 32);
		d.has_ima = 1;
		d.ima_from = 4;
		d.ima_count = 3;
		d.ima_len = l.off[7] - l.off[4];
		d.ima = xmemdup(l.b.d + l.off[4], d.ima_len);
		d.ima_thash_alg = TPM2_ALG_SHA1;
		pcr_selection_parse("sha256:0,1,2,3,4,5,6,7,8,9,10", &j->sel);
		j->ima_in = st;
		j->ima_out = st;
		j->ima_max = 4;
		stage_ima(j, &d);
		evidence_doc_free(&d);
	}
	assert_fails(j, "ima.replay");
	verify_job_free(j);
	buf_free(&l.b);
	buf_free(&other.b);
}
END_TEST

START_TEST(a_page_claiming_more_must_be_full)
{
	struct lst l;
	struct verify_job *j;

	lst_make(&l, 9, 0);
	j = round_(&l, NULL, 0, 3, 1, 10, 4);	/* 3 of 4 asked, "more" */
	assert_fails(j, "ima.format");
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

START_TEST(a_bound_prefix_with_more_pages_again_at_once)
{
	struct lst l;
	struct verify_job *j;

	/* Quoted at 3; the page [0,4) reaches it; more follow. */
	lst_make(&l, 9, 0);
	j = round_(&l, NULL, 0, 4, 1, 3, 4);
	assert_ok(j);
	ck_assert_int_eq(j->ima_pending, 0);
	ck_assert_int_eq(j->ima_more, 1);
	ck_assert_uint_eq(j->ima_out.rp.count, 3);
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

START_TEST(a_reboot_drops_what_was_pending)
{
	struct lst l;
	struct verify_job *j;
	struct ima_state st;
	struct evidence_doc d;
	struct policy *p;

	lst_make(&l, 9, 0);
	j = round_(&l, NULL, 0, 4, 1, 10, 4);
	st = j->ima_out;
	verify_job_free(j);
	/* A new boot: the agent is asked from 4 but restarts from 0. */
	p = pol();
	j = verify_job_new("a", NULL, 0, NULL, p);
	policy_unref(p);
	evidence_doc_init(&d);
	d.has_ima = 1;
	d.ima_from = 4;
	j->qres.rebooted = 1;
	pcr_selection_parse("sha256:0,1,2,3,4,5,6,7,8,9,10", &j->sel);
	j->ima_in = st;
	j->ima_out = st;
	stage_ima(j, &d);
	ck_assert_int_eq(j->retry, 1);
	ck_assert_uint_eq(j->ima_out.pend_n, 0);
	ck_assert_uint_eq(j->ima_out.rp.count, 0);
	evidence_doc_free(&d);
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

START_TEST(pending_state_survives_the_store)
{
	struct lst l;
	struct verify_job *j;
	struct ima_state st, back;
	char *text;

	lst_make(&l, 2, 1);			/* held boot_aggregate */
	lst_add(&l, "/usr/bin/rogue");		/* held finding */
	lst_add(&l, "/usr/lib/x.so");
	j = round_(&l, NULL, 0, 4, 1, 5, 4);
	st = j->ima_out;
	verify_job_free(j);
	text = ima_state_to_json(&st);
	ck_assert_ptr_nonnull(text);
	ima_state_from_json(text, &back);
	free(text);
	ck_assert_int_eq(back.valid, 1);
	ck_assert_uint_eq(back.pend_n, 4);
	ck_assert_uint_eq(back.pend.count, 4);
	ck_assert_uint_eq(back.pend_bytes, st.pend_bytes);
	ck_assert_int_eq(memcmp(back.pend.pcr, st.pend.pcr, 32), 0);
	ck_assert_int_eq(memcmp(back.pend.pcr_alt, st.pend.pcr_alt, 32), 0);
	ck_assert_int_eq(back.pend.scheme, st.pend.scheme);
	ck_assert_int_eq(back.pend_ba, 1);
	ck_assert_uint_eq(back.pend_nitems, st.pend_nitems);
	ck_assert_str_eq(back.pend_item[0].id, st.pend_item[0].id);
	/* And the restored state binds as the original would. */
	j = round_(&l, &back, 4, 5, 0, 5, 4);
	assert_fails(j, "ima.boot_aggregate");
	assert_fails(j, "ima.not_allowed");
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

START_TEST(held_findings_beyond_the_slots_are_counted)
{
	struct lst l;
	struct verify_job *j;
	struct ima_state st;
	char path[64];

	lst_make(&l, 0, 0);
	for (int i = 0; i < IMA_PEND_ITEMS + 4; i++) {
		snprintf(path, sizeof(path), "/usr/bin/rogue%d", i);
		lst_add(&l, path);
	}
	lst_add(&l, "/usr/lib/tail.so");
	j = round_(&l, NULL, 0, l.n - 1, 1, l.n, l.n - 1);
	assert_ok(j);
	ck_assert_uint_eq(j->ima_out.pend_nitems, IMA_PEND_ITEMS);
	ck_assert_uint_eq(j->ima_out.pend_dropped, 4);
	st = j->ima_out;
	verify_job_free(j);
	j = round_(&l, &st, l.n - 1, l.n, 0, l.n, 4);
	assert_fails(j, "ima.not_allowed");
	ck_assert_uint_eq(j->verdict.nfail, IMA_PEND_ITEMS);
	ck_assert_uint_ge(j->verdict.dropped, 4);
	verify_job_free(j);
	buf_free(&l.b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("verify_ima");
	TCase *tc = tcase_create("paging");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, pages_short_of_the_quote_are_held_until_one_reaches_it);
	tcase_add_test(tc, a_finding_in_a_held_page_counts_only_when_bound);
	tcase_add_test(tc, an_unknown_file_in_the_last_page_is_caught);
	tcase_add_test(tc, bad_boot_aggregate_in_a_held_page_fails_at_binding);
	tcase_add_test(tc, a_chain_that_never_reaches_the_quote_fails_replay);
	tcase_add_test(tc, a_page_claiming_more_must_be_full);
	tcase_add_test(tc, a_bound_prefix_with_more_pages_again_at_once);
	tcase_add_test(tc, a_reboot_drops_what_was_pending);
	tcase_add_test(tc, pending_state_survives_the_store);
	tcase_add_test(tc, held_findings_beyond_the_slots_are_counted);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
