/*
 * test_quote.c — quote_verify() on real swtpm and Keylime quotes, and on
 * software quotes where exactly one field is wrong: each negative test
 * asserts the failure id that fired and that no other did. Also the
 * failure-id table and the verdict.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/quote_fixture.h"
#include "common/evidence/verdict.h"
#include "tools/cmd.h"

/* The verdict holds exactly the one failure id and nothing else. */
static void
assert_only_failure(const struct verdict *v, const char *id)
{
	size_t i;

	for (i = 0; i < v->nfail; i++)
		if (strcmp(v->fail[i].id, id) != 0)
			ck_abort_msg("unexpected failure %s (%s) besides %s",
			    v->fail[i].id, v->fail[i].detail, id);
	ck_assert_msg(v->nfail == 1, "want 1 failure %s, got %zu", id, v->nfail);
}

static void
assert_clean(const struct verdict *v)
{
	if (v->nfail > 0)
		ck_abort_msg("unexpected failure %s: %s", v->fail[0].id,
		    v->fail[0].detail);
}

static void
verify_fixture_ok(const char *name)
{
	struct qf *f = qf_load(name);

	ck_assert_int_eq(qf_verify(f), ASSAY_OK);
	assert_clean(&f->v);
	ck_assert_int_eq(f->v.nnotice, 0);
	ck_assert_int_eq(f->res.clock.valid, 1);
	qf_free(f);
}

START_TEST(swtpm_ecc_p256_quote_verifies)
{
	verify_fixture_ok("ecc-p256");
}
END_TEST

START_TEST(swtpm_rsa_2048_quote_verifies)
{
	verify_fixture_ok("rsa-2048");
}
END_TEST

START_TEST(swtpm_rsapss_two_bank_quote_verifies)
{
	verify_fixture_ok("rsa-pss-2bank");
}
END_TEST

START_TEST(keylime_quote_verifies)
{
	verify_fixture_ok("keylime");
}
END_TEST

START_TEST(quote_rejects_other_nonce)
{
	struct qf *f = qf_load("ecc-p256");

	f->nonce[0] ^= 1;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.nonce");
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_shorter_nonce)
{
	struct qf *f = qf_load("ecc-p256");

	f->ex.nonce_len--;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.nonce");
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_changed_pcr_value)
{
	struct qf *f = qf_load("rsa-2048");
	uint8_t d[32];

	memcpy(d, pcr_values_get(&f->vals, TPM2_ALG_SHA256, 7), 32);
	d[31] ^= 0x80;
	pcr_values_set(&f->vals, TPM2_ALG_SHA256, 7, d, 32);
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.pcr_digest");
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_missing_pcr_value)
{
	struct qf *f = qf_load("ecc-p256");

	f->vals.bank[0].present &= ~(1u << 10);
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.pcr_digest");
	ck_assert_ptr_nonnull(strstr(f->v.fail[0].detail, "sha256:10"));
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_other_requested_selection)
{
	struct qf *f = qf_load("ecc-p256");
	struct pcr_selection want;

	ck_assert_int_eq(pcr_selection_parse("sha256:0-10,14", &want), ASSAY_OK);
	f->ex.sel = &want;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.pcr_select");
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_other_requested_bank)
{
	struct qf *f = qf_load("rsa-pss-2bank");
	struct pcr_selection want;

	ck_assert_int_eq(pcr_selection_parse("sha256:0-10", &want), ASSAY_OK);
	f->ex.sel = &want;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.pcr_select");
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_corrupted_signature)
{
	struct qf *f = qf_load("rsa-2048");

	f->sig[f->sig_len - 5] ^= 0x01;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.signature");
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_corrupted_ecdsa_signature)
{
	struct qf *f = qf_load("ecc-p256");

	f->sig[10] ^= 0x40;	/* inside r */
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.signature");
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_wrong_ak)
{
	struct qf *f = qf_load("ecc-p256");
	EVP_PKEY *other = soft_key_ec();

	f->ex.ak = other;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.signature");
	EVP_PKEY_free(other);
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_ak_of_other_type)
{
	struct qf *f = qf_load("ecc-p256");
	struct qf *g = qf_load("rsa-2048");

	f->ex.ak = g->ak;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.signature");
	qf_free(g);
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_other_signer_name)
{
	struct qf *f = qf_load("ecc-p256");

	f->qname[f->qname_len - 1] ^= 1;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.signer");
	qf_free(f);
}
END_TEST

START_TEST(quote_rejects_name_instead_of_qualified_name)
{
	struct qf *f = qf_load("rsa-2048");

	f->ex.ak_name = f->name;
	f->ex.ak_name_len = f->name_len;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.signer");
	qf_free(f);
}
END_TEST

START_TEST(quote_modified_attest_fails_signature_and_nonce)
{
	struct qf *f = qf_load("ecc-p256");
	uint8_t *m = xmemdup(f->msg, f->msg_len);

	/* extraData starts after magic, type, 2+34 name, 2 size = 44 */
	m[44] ^= 1;
	f->ev.attest = m;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	ck_assert_int_eq(f->v.nfail, 2);
	ck_assert(verdict_has(&f->v, "quote.signature"));
	ck_assert(verdict_has(&f->v, "quote.nonce"));
	free(m);
	qf_free(f);
}
END_TEST

START_TEST(quote_truncated_attest_is_format)
{
	struct qf *f = qf_load("ecc-p256");

	f->ev.attest_len -= 3;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.format");
	qf_free(f);
}
END_TEST

START_TEST(quote_garbage_attest_is_format)
{
	struct qf *f = qf_load("ecc-p256");
	static const uint8_t junk[] = "this is not a TPMS_ATTEST at all";

	f->ev.attest = junk;
	f->ev.attest_len = sizeof(junk);
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.format");
	qf_free(f);
}
END_TEST

START_TEST(quote_truncated_signature_is_format)
{
	struct qf *f = qf_load("rsa-2048");

	f->ev.sig_len = 9;
	ck_assert_int_eq(qf_verify(f), ASSAY_FAIL);
	assert_only_failure(&f->v, "quote.format");
	qf_free(f);
}
END_TEST

/*
 * A software quote signed with an in-test key. The expectation (nonce,
 * selection, previous clock) is taken from the default quote at setup, so
 * a test changes one field of s->q or s->prev and sees one check fire.
 */
struct soft {
	struct soft_quote	 q, want;
	EVP_PKEY		*key;
	struct clock_state	 prev;
	struct quote_expect	 ex;
	struct quote_evidence	 ev;
	struct quote_result	 res;
	struct verdict		 v;
	uint8_t			*att, *sig;
};

static void
soft_setup(struct soft *s)
{
	memset(s, 0, sizeof(*s));
	soft_quote_default(&s->q);
	soft_quote_default(&s->want);
	s->key = soft_key_ec();
	s->prev.valid = 1;
	s->prev.clock = s->q.clock - 1000;
	s->prev.reset_count = s->q.reset_count;
	s->prev.restart_count = s->q.restart_count;
	s->prev.firmware_version = s->q.firmware;
}

static int
soft_run(struct soft *s)
{
	size_t alen, slen;

	s->att = soft_quote_attest(&s->q, &alen);
	s->sig = soft_sign(s->key, TPM2_ALG_ECDSA, s->q.hash, 0, s->att, alen,
	    &slen);
	s->ex.ak = s->key;
	s->ex.ak_name = s->want.signer;
	s->ex.ak_name_len = s->want.signer_len;
	s->ex.nonce = s->want.nonce;
	s->ex.nonce_len = s->want.nonce_len;
	s->ex.sel = &s->want.sel;
	s->ex.prev = &s->prev;
	s->ev.attest = s->att;
	s->ev.attest_len = alen;
	s->ev.sig = s->sig;
	s->ev.sig_len = slen;
	s->ev.pcrs = &s->q.vals;
	verdict_init(&s->v);
	return quote_verify(&s->ev, &s->ex, &s->res, &s->v);
}

static void
soft_teardown(struct soft *s)
{
	free(s->att);
	free(s->sig);
	EVP_PKEY_free(s->key);
}

START_TEST(soft_quote_verifies)
{
	struct soft s;

	soft_setup(&s);
	ck_assert_int_eq(soft_run(&s), ASSAY_OK);
	assert_clean(&s.v);
	ck_assert_int_eq(s.v.nnotice, 0);
	ck_assert_int_eq(s.res.rebooted, 0);
	ck_assert(s.res.clock.clock == s.q.clock);
	ck_assert_uint_eq(s.res.clock.reset_count, s.q.reset_count);
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_rejects_wrong_magic)
{
	struct soft s;

	soft_setup(&s);
	s.q.magic = 0xff544348;
	ck_assert_int_eq(soft_run(&s), ASSAY_FAIL);
	assert_only_failure(&s.v, "quote.magic");
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_rejects_wrong_type)
{
	struct soft s;

	soft_setup(&s);
	s.q.type = TPM2_ST_ATTEST_CERTIFY;
	ck_assert_int_eq(soft_run(&s), ASSAY_FAIL);
	assert_only_failure(&s.v, "quote.type");
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_rejects_clock_going_back)
{
	struct soft s;

	soft_setup(&s);
	s.prev.clock = s.q.clock + 1;
	ck_assert_int_eq(soft_run(&s), ASSAY_FAIL);
	assert_only_failure(&s.v, "quote.clock");
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_rejects_restart_count_going_back)
{
	struct soft s;

	soft_setup(&s);
	s.prev.restart_count = s.q.restart_count + 1;
	ck_assert_int_eq(soft_run(&s), ASSAY_FAIL);
	assert_only_failure(&s.v, "quote.clock");
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_rejects_reset_count_going_back)
{
	struct soft s;

	soft_setup(&s);
	s.prev.reset_count = s.q.reset_count + 1;
	s.prev.clock = 0;
	ck_assert_int_eq(soft_run(&s), ASSAY_FAIL);
	assert_only_failure(&s.v, "quote.clock");
	ck_assert_int_eq(s.res.rebooted, 0);
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_restart_with_lower_clock_is_fine)
{
	struct soft s;

	soft_setup(&s);
	s.prev.restart_count = s.q.restart_count - 1;
	s.prev.clock = s.q.clock + 5000;
	ck_assert_int_eq(soft_run(&s), ASSAY_OK);
	assert_clean(&s.v);
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_reset_count_increment_is_reboot_notice)
{
	struct soft s;

	soft_setup(&s);
	s.prev.reset_count = s.q.reset_count - 1;
	s.prev.clock = s.q.clock + 1000000;	/* clock restarted too */
	ck_assert_int_eq(soft_run(&s), ASSAY_OK);
	ck_assert(verdict_ok(&s.v));
	ck_assert_int_eq(s.res.rebooted, 1);
	ck_assert_int_eq(s.v.nnotice, 1);
	ck_assert_str_eq(s.v.notice[0].id, "tpm.reboot");
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_firmware_change_is_notice)
{
	struct soft s;

	soft_setup(&s);
	s.prev.firmware_version = s.q.firmware - 1;
	ck_assert_int_eq(soft_run(&s), ASSAY_OK);
	ck_assert_int_eq(s.v.nnotice, 1);
	ck_assert_str_eq(s.v.notice[0].id, "tpm.firmware");
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_without_previous_clock_skips_clock_check)
{
	struct soft s;

	soft_setup(&s);
	s.prev.valid = 0;
	s.prev.reset_count = s.q.reset_count + 10;
	ck_assert_int_eq(soft_run(&s), ASSAY_OK);
	assert_clean(&s.v);
	ck_assert_int_eq(s.v.nnotice, 0);
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_pcr_digest_uses_signing_hash)
{
	struct soft s;

	soft_setup(&s);
	s.q.hash = TPM2_ALG_SHA384;	/* signed with SHA-384: digest too */
	ck_assert_int_eq(soft_run(&s), ASSAY_OK);
	assert_clean(&s.v);
	soft_teardown(&s);
}
END_TEST

/* A SHA-1 signature would let a collision forge signature and pcrDigest. */
START_TEST(soft_quote_rejects_sha1)
{
	struct soft s;

	soft_setup(&s);
	s.q.hash = TPM2_ALG_SHA1;
	ck_assert_int_eq(soft_run(&s), ASSAY_FAIL);
	ck_assert_uint_eq(s.v.nfail, 1);
	ck_assert_str_eq(s.v.fail[0].id, "quote.signature");
	ck_assert_ptr_nonnull(strstr(s.v.fail[0].detail, "SHA-1"));
	soft_teardown(&s);
}
END_TEST

START_TEST(soft_quote_reports_every_failed_check)
{
	struct soft s;

	soft_setup(&s);
	s.q.magic = 0;
	s.q.nonce[3] ^= 1;
	s.prev.clock = s.q.clock + 1;
	s.q.sel.bank[0].mask = 0x7fe;	/* quoted 1-10, requested 0-10 */
	ck_assert_int_eq(soft_run(&s), ASSAY_FAIL);
	ck_assert_int_eq(s.v.nfail, 4);
	ck_assert(verdict_has(&s.v, "quote.magic"));
	ck_assert(verdict_has(&s.v, "quote.nonce"));
	ck_assert(verdict_has(&s.v, "quote.clock"));
	ck_assert(verdict_has(&s.v, "quote.pcr_select"));
	ck_assert(!verdict_has(&s.v, "quote.pcr_digest"));
	soft_teardown(&s);
}
END_TEST

/* assayctl quote verify on fixture dir with the given nonce (NULL: its own). */
static int
run_cmd_quote(const char *dir, const char *nonce, const char *sel)
{
	char ak[256], msg[256], sig[256], pcrs[256], nh[200];
	char *argv[17];
	uint8_t *n;
	size_t nl;
	int argc = 0;

	snprintf(ak, sizeof(ak), "%s/%s/ak.pem", QF_DATA_DIR, dir);
	snprintf(msg, sizeof(msg), "%s/%s/q.msg", QF_DATA_DIR, dir);
	snprintf(sig, sizeof(sig), "%s/%s/q.sig", QF_DATA_DIR, dir);
	snprintf(pcrs, sizeof(pcrs), "%s/%s/q.pcrs", QF_DATA_DIR, dir);
	n = qf_read(dir, "nonce.hex", &nl);
	snprintf(nh, sizeof(nh), "%.*s", (int)(nl > 0 ? nl - 1 : 0), (char *)n);
	free(n);
	argv[argc++] = "quote";
	argv[argc++] = "verify";
	argv[argc++] = "--ak";
	argv[argc++] = ak;
	argv[argc++] = "--nonce";
	argv[argc++] = nonce != NULL ? (char *)nonce : nh;
	argv[argc++] = "--message";
	argv[argc++] = msg;
	argv[argc++] = "--signature";
	argv[argc++] = sig;
	argv[argc++] = "--pcrs";
	argv[argc++] = pcrs;
	if (sel != NULL) {
		argv[argc++] = "--pcr-select";
		argv[argc++] = (char *)sel;
	}
	argv[argc] = NULL;
	return cmd_run(NULL, argc, argv);
}

START_TEST(cmd_quote_accepts_fixture)
{
	ck_assert_int_eq(run_cmd_quote("rsa-pss-2bank", NULL, NULL), 0);
	ck_assert_int_eq(run_cmd_quote("ecc-p256", NULL, "sha256:0-10"), 0);
}
END_TEST

START_TEST(cmd_quote_fails_on_wrong_nonce_and_selection)
{
	ck_assert_int_eq(run_cmd_quote("ecc-p256", "0011", NULL), 1);
	ck_assert_int_eq(run_cmd_quote("ecc-p256", NULL, "sha256:0-9"), 1);
	ck_assert_int_eq(run_cmd_quote("ecc-p256", "xyz", NULL), 2);
}
END_TEST

START_TEST(failure_table_has_required_ids_and_kinds)
{
	static const struct { const char *id; enum failure_kind k; } want[] = {
		{ "quote.format", FK_INTEGRITY }, { "quote.signature", FK_INTEGRITY },
		{ "quote.magic", FK_INTEGRITY }, { "quote.type", FK_INTEGRITY },
		{ "quote.nonce", FK_INTEGRITY }, { "quote.signer", FK_INTEGRITY },
		{ "quote.pcr_select", FK_INTEGRITY }, { "quote.pcr_digest", FK_INTEGRITY },
		{ "quote.clock", FK_INTEGRITY }, { "pcr.value", FK_INTEGRITY },
		{ "evidence.format", FK_INTEGRITY }, { "ak.mismatch", FK_INTEGRITY },
		{ "tpm.reboot", FK_NOTICE }, { "tpm.firmware", FK_NOTICE },
		{ "comm.unreachable", FK_TRANSPORT }, { "comm.tls", FK_TRANSPORT },
		{ "ima.not_allowed", FK_INTEGRITY }, { "ima.signature", FK_INTEGRITY },
		{ "ima.template_hash", FK_INTEGRITY }, { "ima.replay", FK_INTEGRITY },
		{ "ima.boot_aggregate", FK_INTEGRITY }, { "ima.format", FK_INTEGRITY },
		{ "eventlog.format", FK_INTEGRITY }, { "eventlog.replay", FK_INTEGRITY },
		{ "eventlog.secureboot", FK_INTEGRITY }, { "eventlog.boot_app", FK_INTEGRITY },
		{ "eventlog.dbx", FK_INTEGRITY }, { "eventlog.cmdline", FK_INTEGRITY },
		{ "policy.missing", FK_INTEGRITY },
	};
	const struct failure_def *f;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		f = failure_lookup(want[i].id);
		ck_assert_msg(f != NULL, "missing %s", want[i].id);
		ck_assert_int_eq(f->kind, want[i].k);
		ck_assert(f->what != NULL && f->what[0] != '\0');
	}
	ck_assert_ptr_null(failure_lookup("quote.nope"));
}
END_TEST

START_TEST(failure_table_ids_are_unique)
{
	const struct failure_def *a, *b;

	for (a = failure_table; a < failure_table + FID_COUNT; a++) {
		/* every constant has its row (no hole in the designated table) */
		ck_assert_ptr_nonnull(a->id);
		ck_assert_ptr_eq(failure_lookup(a->id), a);
		ck_assert_int_eq(failure_index(a), (int)(a - failure_table));
		for (b = a + 1; b < failure_table + FID_COUNT; b++)
			ck_assert_str_ne(a->id, b->id);
	}
}
END_TEST

START_TEST(verdict_collects_fail_and_notice_and_caps)
{
	struct verdict v;
	int i;

	verdict_init(&v);
	ck_assert(verdict_ok(&v));
	verdict_notice(&v, FID_TPM_REBOOT, "r %d", 1);
	ck_assert(verdict_ok(&v));
	ck_assert(verdict_has(&v, "tpm.reboot"));
	verdict_fail(&v, FID_PCR_VALUE, "PCR %d", 7);
	ck_assert(!verdict_ok(&v));
	ck_assert_str_eq(v.fail[0].detail, "PCR 7");
	for (i = 0; i < VERDICT_MAX_ITEMS + 3; i++)
		verdict_fail(&v, FID_IMA_NOT_ALLOWED, "x");
	ck_assert_uint_eq(v.nfail, VERDICT_MAX_ITEMS);
	ck_assert_uint_eq(v.dropped, 4);
}
END_TEST

START_TEST(verdict_unknown_id_aborts)
{
	struct verdict v;

	/* An unknown name does not compile; a value out of range aborts. */
	verdict_init(&v);
	verdict_fail(&v, (enum failure_id)FID_COUNT, "boom");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("quote");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, swtpm_ecc_p256_quote_verifies);
	tcase_add_test(tc, swtpm_rsa_2048_quote_verifies);
	tcase_add_test(tc, swtpm_rsapss_two_bank_quote_verifies);
	tcase_add_test(tc, keylime_quote_verifies);
	tcase_add_test(tc, quote_rejects_other_nonce);
	tcase_add_test(tc, quote_rejects_shorter_nonce);
	tcase_add_test(tc, quote_rejects_changed_pcr_value);
	tcase_add_test(tc, quote_rejects_missing_pcr_value);
	tcase_add_test(tc, quote_rejects_other_requested_selection);
	tcase_add_test(tc, quote_rejects_other_requested_bank);
	tcase_add_test(tc, quote_rejects_corrupted_signature);
	tcase_add_test(tc, quote_rejects_corrupted_ecdsa_signature);
	tcase_add_test(tc, quote_rejects_wrong_ak);
	tcase_add_test(tc, quote_rejects_ak_of_other_type);
	tcase_add_test(tc, quote_rejects_other_signer_name);
	tcase_add_test(tc, quote_rejects_name_instead_of_qualified_name);
	tcase_add_test(tc, quote_modified_attest_fails_signature_and_nonce);
	tcase_add_test(tc, quote_truncated_attest_is_format);
	tcase_add_test(tc, quote_garbage_attest_is_format);
	tcase_add_test(tc, quote_truncated_signature_is_format);
	tcase_add_test(tc, soft_quote_verifies);
	tcase_add_test(tc, soft_quote_rejects_wrong_magic);
	tcase_add_test(tc, soft_quote_rejects_wrong_type);
	tcase_add_test(tc, soft_quote_rejects_clock_going_back);
	tcase_add_test(tc, soft_quote_rejects_restart_count_going_back);
	tcase_add_test(tc, soft_quote_rejects_reset_count_going_back);
	tcase_add_test(tc, soft_quote_restart_with_lower_clock_is_fine);
	tcase_add_test(tc, soft_quote_reset_count_increment_is_reboot_notice);
	tcase_add_test(tc, soft_quote_firmware_change_is_notice);
	tcase_add_test(tc, soft_quote_without_previous_clock_skips_clock_check);
	tcase_add_test(tc, soft_quote_pcr_digest_uses_signing_hash);
	tcase_add_test(tc, soft_quote_rejects_sha1);
	tcase_add_test(tc, soft_quote_reports_every_failed_check);
	tcase_add_test(tc, cmd_quote_accepts_fixture);
	tcase_add_test(tc, cmd_quote_fails_on_wrong_nonce_and_selection);
	tcase_add_test(tc, failure_table_has_required_ids_and_kinds);
	tcase_add_test(tc, failure_table_ids_are_unique);
	tcase_add_test(tc, verdict_collects_fail_and_notice_and_caps);
	tcase_add_test_raise_signal(tc, verdict_unknown_id_aborts, SIGABRT);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
