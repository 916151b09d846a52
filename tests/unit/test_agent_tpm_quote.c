/*
 * test_agent_tpm_quote.c — agent/tpm_quote.c against a private swtpm:
 * quotes checked with OpenSSL and with the verifier's quote_verify, PCR
 * values consistent with the quoted digest and with tpm2-tools, argument
 * and state errors, and the AK across a swtpm restart and a reboot.
 */
#include "tests/unit/agent_tpm_fixture.h"

START_TEST(quote_verifies_with_ak_and_matches_pcrs)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct quote q;

	quote(&c, &sel, &q);
	check_quote(&c, &sel, &q);
	quote_free(&q);
}
END_TEST

START_TEST(quote_with_rsa_ak_verifies)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct quote q;

	c.ek_alg = TPM2_ALG_ECC;
	c.ak_alg = TPM2_ALG_RSA;
	c.ak_handle = 0x81010021;
	quote(&c, &sel, &q);
	check_quote(&c, &sel, &q);
	quote_free(&q);
}
END_TEST

START_TEST(quote_reports_extended_pcr)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct quote a, b;
	uint8_t data[32], cat[64], want[32];
	unsigned int wlen;
	char *hex;

	quote(&c, &sel, &a);
	RAND_bytes(data, sizeof(data));
	hex = hex_encode(data, sizeof(data));
	ck_assert_int_eq(sh(TOOL "tpm2_pcrextend -T %s 10:sha256=%s", tcti,
	    hex), 0);
	free(hex);
	quote(&c, &sel, &b);
	check_quote(&c, &sel, &b);
	memcpy(cat, pcr_values_get(&a.pcrs, TPM2_ALG_SHA256, 10), 32);
	memcpy(cat + 32, data, 32);
	EVP_Digest(cat, sizeof(cat), want, &wlen, EVP_sha256(), NULL);
	ck_assert_mem_eq(pcr_values_get(&b.pcrs, TPM2_ALG_SHA256, 10), want, 32);
	/* the sha1 bank was not extended */
	ck_assert_mem_eq(pcr_values_get(&b.pcrs, TPM2_ALG_SHA1, 10),
	    pcr_values_get(&a.pcrs, TPM2_ALG_SHA1, 10), 20);
	quote_free(&a);
	quote_free(&b);
}
END_TEST

/* The verifier's own check accepts what the agent produced. */
START_TEST(quote_passes_verifier_quote_verify)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct tpm_identity id = load(&c);
	struct quote q;
	struct quote_evidence ev;
	struct quote_expect ex;
	struct quote_result res;
	struct verdict v;
	uint8_t qn[34];

	quote(&c, &sel, &q);
	ak_qualified_name(&id, qn);	/* also proves the AK's parent is the EK */
	memset(&ex, 0, sizeof(ex));
	ex.ak = pub_pkey(id.ak_pub, id.ak_pub_len);
	ex.ak_name = qn;
	ex.ak_name_len = sizeof(qn);
	ex.nonce = q.nonce;
	ex.nonce_len = sizeof(q.nonce);
	ex.sel = &sel;
	ev.attest = q.attest;
	ev.attest_len = q.attest_len;
	ev.sig = q.sig;
	ev.sig_len = q.sig_len;
	ev.pcrs = &q.pcrs;
	verdict_init(&v);
	ck_assert_msg(quote_verify(&ev, &ex, &res, &v) == ASSAY_OK,
	    "quote_verify: %s: %s", v.nfail ? v.fail[0].id : "-",
	    v.nfail ? v.fail[0].detail : "-");
	EVP_PKEY_free(ex.ak);
	quote_free(&q);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(quote_rejects_nonce_over_64_bytes)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct pcr_values v;
	uint8_t nonce[65] = { 0 }, *at, *sig;
	size_t atl, sigl;

	ck_assert_int_eq(tpm_quote(&c, nonce, sizeof(nonce), &sel, &at, &atl,
	    &sig, &sigl, &v), ASSAY_ERR_INVAL);
	ck_assert_ptr_null(at);
}
END_TEST

START_TEST(quote_without_ak_is_state_error)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct pcr_values v;
	uint8_t nonce[8] = { 0 }, *at, *sig;
	size_t atl, sigl;

	c.ak_handle = 0x81010030;
	ck_assert_int_eq(tpm_quote(&c, nonce, sizeof(nonce), &sel, &at, &atl,
	    &sig, &sigl, &v), ASSAY_ERR_STATE);
}
END_TEST

START_TEST(quote_of_inactive_bank_is_unsupported)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel;
	struct tpm_identity id = load(&c);
	struct pcr_values v;
	uint8_t nonce[8] = { 0 }, *at, *sig;
	size_t atl, sigl;

	tpm_identity_free(&id);
	memset(&sel, 0, sizeof(sel));
	sel_set(&sel, 0, TPM2_ALG_SHA256, 1);
	sel_set(&sel, 1, TPM2_ALG_SHA384, 1);	/* swtpm_make: sha1,sha256 */
	ck_assert_int_eq(tpm_quote(&c, nonce, sizeof(nonce), &sel, &at, &atl,
	    &sig, &sigl, &v), ASSAY_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(pcr_read_matches_tpm2_pcrread)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel;
	struct pcr_values v;
	uint8_t want[32];
	char cmd[2048];
	FILE *f;
	unsigned k;

	memset(&sel, 0, sizeof(sel));
	sel_set(&sel, 0, TPM2_ALG_SHA1, 0xffffff);
	sel_set(&sel, 1, TPM2_ALG_SHA256, 0xffffff);
	ck_assert_int_eq(tpm_pcr_read(&c, &sel, &v), ASSAY_OK);
	for (k = 0; k < 24; k++) {
		ck_assert_ptr_nonnull(pcr_values_get(&v, TPM2_ALG_SHA1, k));
		ck_assert_ptr_nonnull(pcr_values_get(&v, TPM2_ALG_SHA256, k));
	}
	snprintf(cmd, sizeof(cmd), "%s/pcr10.bin", tdir);
	ck_assert_int_eq(sh(TOOL "tpm2_pcrread -T %s sha256:10 -o %s "
	    ">/dev/null", tcti, cmd), 0);
	ck_assert_ptr_nonnull(f = fopen(cmd, "rb"));
	ck_assert_uint_eq(fread(want, 1, sizeof(want), f), 32);
	fclose(f);
	ck_assert_mem_eq(pcr_values_get(&v, TPM2_ALG_SHA256, 10), want, 32);
}
END_TEST

/* Restart of the swtpm process, then a reboot (TPM_Init + Startup). */
START_TEST(ak_survives_restart_and_reboot)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity a = load(&c), b;
	struct pcr_selection sel = sel_boot();
	struct quote q;
	static const uint8_t zero[32];

	ck_assert_int_eq(sh(TOOL "tpm2_pcrextend -T %s 10:sha256=%064d",
	    tcti, 1), 0);
	ck_assert_int_eq(sh("swtpm_stop %s && swtpm_start %s && "
	    "swtpm_reset %s", tdir, tdir, tdir), 0);
	b = load(&c);
	ck_assert_mem_eq(a.ak_name, b.ak_name, a.ak_name_len);
	quote(&c, &sel, &q);
	check_quote(&c, &sel, &q);
	ck_assert_mem_eq(pcr_values_get(&q.pcrs, TPM2_ALG_SHA256, 10), zero, 32);
	quote_free(&q);
	tpm_identity_free(&a);
	tpm_identity_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("agent_tpm_quote");
	SRunner *sr;
	int nf;
	TCase *tc = tcase_create("swtpm");

	tcase_add_unchecked_fixture(tc, tpm_up, tpm_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, quote_verifies_with_ak_and_matches_pcrs);
	tcase_add_test(tc, quote_with_rsa_ak_verifies);
	tcase_add_test(tc, quote_reports_extended_pcr);
	tcase_add_test(tc, quote_passes_verifier_quote_verify);
	tcase_add_test(tc, quote_rejects_nonce_over_64_bytes);
	tcase_add_test(tc, quote_without_ak_is_state_error);
	tcase_add_test(tc, quote_of_inactive_bank_is_unsupported);
	tcase_add_test(tc, pcr_read_matches_tpm2_pcrread);
	tcase_add_test(tc, ak_survives_restart_and_reboot);
	suite_add_tcase(s, tc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
