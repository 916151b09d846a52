/*
 * test_bind.c — the binding rule at the evidence level: reported values
 * outside the quoted selection, event-log events that bind nothing
 * (PCR >= 24, EV_NO_ACTION, resettable, unquoted or not replaying PCRs),
 * covered PCRs compared even when the log does not touch them, and IMA
 * entries judged by what their hashed bytes say, not by their labels.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "eventlog_fixture.h"

/* A LoadOptions tag event: u32 id, u32 len, payload. */
static void
tag_event(struct buf *b, uint32_t pcr, uint32_t type)
{
	struct buf d;

	buf_init(&d);
	fx_u32(&d, EL_TAG_LOAD_OPTIONS);
	fx_u32(&d, 4);
	buf_put(&d, "abcd", 4);
	fx_event2(b, pcr, type, 0x5a, d.d, d.len);
	buf_free(&d);
}

struct crafted {
	struct buf	 b;
	struct eventlog	 el;
	struct el_pcrs	 rp;
	struct el_facts	 f;
};

static void
crafted_parse(struct crafted *c)
{
	ck_assert_msg(eventlog_parse(c->b.d, c->b.len, &c->el) == ASSAY_OK,
	    "%s", assay_err_detail());
	ck_assert_int_eq(eventlog_replay(&c->el, &c->rp), ASSAY_OK);
}

static void
crafted_free(struct crafted *c)
{
	eventlog_facts_free(&c->f);
	eventlog_free(&c->el);
	buf_free(&c->b);
}

START_TEST(reported_values_outside_the_selection_are_refused)
{
	struct pcr_selection sel;
	struct pcr_values v;
	uint8_t d[32] = { 1 };

	ck_assert_int_eq(pcr_selection_parse("sha256:0-7", &sel), ASSAY_OK);
	pcr_values_init(&v);
	for (unsigned i = 0; i < 8; i++)
		pcr_values_set(&v, TPM2_ALG_SHA256, i, d, 32);
	ck_assert_int_eq(bind_pcr_values(&v, &sel), ASSAY_OK);
	pcr_values_set(&v, TPM2_ALG_SHA256, 15, d, 32);
	ck_assert_int_eq(bind_pcr_values(&v, &sel), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "PCR 15 (sha256)"));
	/* another bank entirely */
	pcr_values_init(&v);
	pcr_values_set(&v, TPM2_ALG_SHA1, 0, d, 20);
	ck_assert_int_eq(bind_pcr_values(&v, &sel), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "PCR 0 (sha1)"));
}
END_TEST

START_TEST(events_that_bind_nothing_count_for_nothing)
{
	struct crafted c;

	fx_sha256_only(&c.b);
	tag_event(&c.b, 9, EV_EVENT_TAG);		/* the only one that counts */
	tag_event(&c.b, 0xffffffffu, EV_EVENT_TAG);	/* never replayed */
	tag_event(&c.b, 9, EV_NO_ACTION);		/* never extended */
	tag_event(&c.b, 16, EV_EVENT_TAG);		/* resettable */
	tag_event(&c.b, 8, EV_EVENT_TAG);		/* the stub uses PCR 9 */
	crafted_parse(&c);
	ck_assert_int_eq(eventlog_facts(&c.el, TPM2_ALG_SHA256, 1u << 9 | 1u << 8 |
	    1u << 16, &c.f), ASSAY_OK);
	ck_assert_uint_eq(c.f.ntags, 1);
	ck_assert_uint_eq(c.f.tag[0].pcr, 9);
	ck_assert_uint_eq(c.f.tag[0].seq, 0);
	ck_assert_uint_eq(c.f.nunbound, 3);
	ck_assert_int_eq(el_saw(&c.f, EV_NO_ACTION), 0);
	eventlog_facts_free(&c.f);
	/* PCR 9 not bound (not quoted, or its replay differs): nothing counts */
	ck_assert_int_eq(eventlog_facts(&c.el, TPM2_ALG_SHA256, BIND_ALL_PCRS &
	    ~(1u << 9), &c.f), ASSAY_OK);
	ck_assert_uint_eq(c.f.ntags, 0);
	ck_assert_int_eq(el_saw(&c.f, EV_EVENT_TAG), 1);	/* the PCR 8 one */
	crafted_free(&c);
}
END_TEST

START_TEST(bind_event_rule)
{
	static const uint8_t d[32];
	struct el_event e = { .pcr = 7, .type = EV_SEPARATOR, .ndigests = 1 };

	e.digest[0].alg = TPM2_ALG_SHA256;
	e.digest[0].d = d;

	ck_assert_int_eq(bind_eventlog_event(&e, TPM2_ALG_SHA256, 1u << 7), 1);
	ck_assert_int_eq(bind_eventlog_event(&e, TPM2_ALG_SHA256, 1u << 6), 0);
	e.type = EV_NO_ACTION;
	ck_assert_int_eq(bind_eventlog_event(&e, TPM2_ALG_SHA256, 1u << 7), 0);
	e.type = EV_SEPARATOR;
	e.pcr = 24;
	ck_assert_int_eq(bind_eventlog_event(&e, TPM2_ALG_SHA256, 0xffffffffu), 0);
	e.pcr = 0xffffffffu;
	ck_assert_int_eq(bind_eventlog_event(&e, TPM2_ALG_SHA256, 0xffffffffu), 0);
	ck_assert_uint_eq(BIND_ALL_PCRS & BIND_RESETTABLE_PCRS, 0);
	/* extended into another bank only: changed nothing in this one */
	e.pcr = 7;
	e.digest[0].alg = TPM2_ALG_SHA1;
	ck_assert_int_eq(bind_eventlog_event(&e, TPM2_ALG_SHA256, 1u << 7), 0);
}
END_TEST

START_TEST(only_quoted_pcrs_whose_replay_equals_the_quote_bind)
{
	struct crafted c;
	struct pcr_selection sel;
	struct pcr_values q;
	uint32_t bound;

	fx_sha256_only(&c.b);
	fx_event2(&c.b, 8, EV_IPL, 1, "a", 1);
	fx_event2(&c.b, 9, EV_IPL, 2, "b", 1);
	fx_event2(&c.b, 12, EV_IPL, 3, "c", 1);
	fx_event2(&c.b, 16, EV_IPL, 4, "d", 1);
	crafted_parse(&c);
	ck_assert_int_eq(pcr_selection_parse("sha256:8,9,16", &sel), ASSAY_OK);
	pcr_values_init(&q);
	pcr_values_set(&q, TPM2_ALG_SHA256, 8, c.rp.bank[0].v[8], 32);
	pcr_values_set(&q, TPM2_ALG_SHA256, 9, c.rp.bank[0].v[8], 32); /* differs */
	pcr_values_set(&q, TPM2_ALG_SHA256, 16, c.rp.bank[0].v[16], 32);
	bound = bind_eventlog_pcrs(&c.rp, &q, &sel, TPM2_ALG_SHA256);
	/* 8 replays; 9 differs; 12 is not quoted; 16 is resettable */
	ck_assert_uint_eq(bound, 1u << 8);
	ck_assert_uint_eq(bind_eventlog_pcrs(&c.rp, &q, &sel, TPM2_ALG_SHA1), 0);
	crafted_free(&c);
}
END_TEST

START_TEST(covered_pcrs_are_compared_even_when_the_log_drops_them)
{
	struct crafted c;
	struct pcr_selection sel;
	struct pcr_values q;
	struct verdict vd;
	uint8_t extended[32];

	fx_sha256_only(&c.b);
	fx_event2(&c.b, 4, EV_SEPARATOR, 0, "\0\0\0\0", 4);
	crafted_parse(&c);
	ck_assert_int_eq(pcr_selection_parse("sha256:4,8,14", &sel), ASSAY_OK);
	pcr_values_init(&q);
	memset(extended, 0x77, sizeof(extended));
	pcr_values_set(&q, TPM2_ALG_SHA256, 4, c.rp.bank[0].v[4], 32);
	pcr_values_set(&q, TPM2_ALG_SHA256, 8, extended, 32);	/* events dropped */
	pcr_values_set(&q, TPM2_ALG_SHA256, 14, c.rp.bank[0].v[14], 32);
	verdict_init(&vd);
	eventlog_check_pcrs(&c.rp, &q, &sel, 1u << 4 | 1u << 8 | 1u << 14, &vd);
	ck_assert_uint_eq(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "eventlog.replay");
	ck_assert_ptr_nonnull(strstr(vd.fail[0].detail, "PCR 8 in bank sha256"));
	/* the same PCR outside the cover and untouched is not the log's */
	verdict_init(&vd);
	eventlog_check_pcrs(&c.rp, &q, &sel, 1u << 4, &vd);
	ck_assert_int_eq(verdict_ok(&vd), 1);
	crafted_free(&c);
}
END_TEST

START_TEST(ima_kind_comes_from_bound_bytes)
{
	struct ima_entry e;

	memset(&e, 0, sizeof(e));
	e.tmpl = IMA_TMPL_IMA_BUF;
	e.name.p = (const uint8_t *)".ima";
	e.name.len = 4;
	ck_assert_int_eq(bind_ima_kind(&e), BIND_IMA_BUFFER);
	e.name.p = (const uint8_t *)"/usr/bin/x";
	e.name.len = 10;
	ck_assert_int_eq(bind_ima_kind(&e), BIND_IMA_FILE);
	e.tmpl = IMA_TMPL_IMA_SIG;
	ck_assert_int_eq(bind_ima_kind(&e), BIND_IMA_FILE);
	e.violation = 1;
	ck_assert_int_eq(bind_ima_kind(&e), BIND_IMA_VIOLATION);
	e.tmpl = IMA_TMPL_IMA_BUF;
	e.name.p = (const uint8_t *)"kexec-cmdline";
	e.name.len = 13;
	ck_assert_int_eq(bind_ima_kind(&e), BIND_IMA_VIOLATION);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bind");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, reported_values_outside_the_selection_are_refused);
	tcase_add_test(tc, events_that_bind_nothing_count_for_nothing);
	tcase_add_test(tc, bind_event_rule);
	tcase_add_test(tc, only_quoted_pcrs_whose_replay_equals_the_quote_bind);
	tcase_add_test(tc, covered_pcrs_are_compared_even_when_the_log_drops_them);
	tcase_add_test(tc, ima_kind_comes_from_bound_bytes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
