/*
 * test_attest.c — TPMS_ATTEST and TPMT_SIGNATURE parsing on real swtpm and
 * Keylime quotes and on malformed inputs; signature verification for
 * RSASSA, RSAPSS (both salt conventions), ECDSA and key/scheme mismatches.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/quote_fixture.h"

START_TEST(attest_parses_swtpm_quote_fields)
{
	struct qf *f = qf_load("ecc-p256");
	struct tpm2_quote_info qi;
	struct pcr_selection want;

	ck_assert_int_eq(tpm2_attest_parse(f->msg, f->msg_len, &qi), ASSAY_OK);
	ck_assert_uint_eq(qi.h.magic, TPM2_GENERATED_VALUE);
	ck_assert_uint_eq(qi.h.type, TPM2_ST_ATTEST_QUOTE);
	ck_assert_uint_eq(qi.h.extra_data.len, f->nonce_len);
	ck_assert_int_eq(memcmp(qi.h.extra_data.p, f->nonce, f->nonce_len), 0);
	ck_assert_uint_eq(qi.h.qualified_signer.len, f->qname_len);
	ck_assert_int_eq(memcmp(qi.h.qualified_signer.p, f->qname, f->qname_len), 0);
	pcr_selection_parse("sha256:0-10", &want);
	ck_assert(pcr_selection_equal(&qi.pcr_select, &want));
	ck_assert_uint_eq(qi.pcr_digest.len, 32);
	ck_assert_uint_eq(qi.h.safe, 1);
	qf_free(f);
}
END_TEST

START_TEST(attest_rejects_every_truncation)
{
	struct qf *f = qf_load("rsa-2048");
	struct tpm2_quote_info qi;
	size_t i;
	int r;

	for (i = 0; i < f->msg_len; i++) {
		r = tpm2_attest_parse(f->msg, i, &qi);
		ck_assert_msg(r == ASSAY_ERR_TRUNCATED, "len %zu: %d", i, r);
	}
	qf_free(f);
}
END_TEST

START_TEST(attest_rejects_trailing_bytes)
{
	struct qf *f = qf_load("rsa-2048");
	struct tpm2_quote_info qi;
	uint8_t *m = xmalloc(f->msg_len + 1);

	memcpy(m, f->msg, f->msg_len);
	m[f->msg_len] = 0;
	ck_assert_int_eq(tpm2_attest_parse(m, f->msg_len + 1, &qi), ASSAY_ERR_FORMAT);
	free(m);
	qf_free(f);
}
END_TEST

START_TEST(attest_rejects_oversized_fields)
{
	struct qf *f = qf_load("ecc-p256");
	struct tpm2_quote_info qi;
	uint8_t *m = xmemdup(f->msg, f->msg_len);

	m[6] = 0x01;	/* qualifiedSigner size 0x0122 > 66 */
	ck_assert_int_eq(tpm2_attest_parse(m, f->msg_len, &qi), ASSAY_ERR_RANGE);
	ck_assert_int_eq(tpm2_attest_parse(m, ATTEST_MAX_SIZE + 1, &qi),
	    ASSAY_ERR_RANGE);
	free(m);
	qf_free(f);
}
END_TEST

START_TEST(attest_other_type_is_unsupported_with_header_filled)
{
	struct soft_quote q;
	struct tpm2_quote_info qi;
	uint8_t *a;
	size_t n;

	soft_quote_default(&q);
	q.type = TPM2_ST_ATTEST_CERTIFY;
	a = soft_quote_attest(&q, &n);
	ck_assert_int_eq(tpm2_attest_parse(a, n, &qi), ASSAY_ERR_UNSUPPORTED);
	ck_assert_uint_eq(qi.h.type, TPM2_ST_ATTEST_CERTIFY);
	ck_assert_uint_eq(qi.h.extra_data.len, q.nonce_len);
	ck_assert_uint_eq(qi.h.reset_count, q.reset_count);
	free(a);
}
END_TEST

START_TEST(signature_parses_ecdsa_and_rsassa)
{
	struct qf *e = qf_load("ecc-p256"), *r = qf_load("rsa-2048");
	struct tpm2_signature s;

	ck_assert_int_eq(tpm2_signature_parse(e->sig, e->sig_len, &s), ASSAY_OK);
	ck_assert_uint_eq(s.sig_alg, TPM2_ALG_ECDSA);
	ck_assert_uint_eq(s.hash_alg, TPM2_ALG_SHA256);
	ck_assert_uint_eq(s.ecc_r.len, 32);
	ck_assert_uint_eq(s.ecc_s.len, 32);
	ck_assert_int_eq(tpm2_signature_verify(e->ak, &s, e->msg, e->msg_len), ASSAY_OK);
	ck_assert_int_eq(tpm2_signature_parse(r->sig, r->sig_len, &s), ASSAY_OK);
	ck_assert_uint_eq(s.sig_alg, TPM2_ALG_RSASSA);
	ck_assert_uint_eq(s.rsa.len, 256);
	ck_assert_int_eq(tpm2_signature_verify(r->ak, &s, r->msg, r->msg_len), ASSAY_OK);
	/* key of the wrong type */
	ck_assert_int_eq(tpm2_signature_verify(e->ak, &s, r->msg, r->msg_len), ASSAY_FAIL);
	qf_free(e);
	qf_free(r);
}
END_TEST

START_TEST(signature_rejects_malformed)
{
	static const uint8_t hmac[] = { 0x00, 0x05, 0x00, 0x0b, 0, 0 };
	static const uint8_t badhash[] = { 0x00, 0x14, 0x00, 0x99, 0x00, 0x01, 0x00 };
	static const uint8_t trailing[] = { 0x00, 0x14, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x00 };
	static const uint8_t bigr[] = { 0x00, 0x18, 0x00, 0x0b, 0x00, 0x43 };
	struct qf *e = qf_load("ecc-p256");
	struct tpm2_signature s;
	size_t i;

	ck_assert_int_eq(tpm2_signature_parse(hmac, sizeof(hmac), &s), ASSAY_ERR_UNSUPPORTED);
	ck_assert_int_eq(tpm2_signature_parse(badhash, sizeof(badhash), &s),
	    ASSAY_ERR_UNSUPPORTED);
	ck_assert_int_eq(tpm2_signature_parse(trailing, sizeof(trailing), &s),
	    ASSAY_ERR_FORMAT);
	ck_assert_int_eq(tpm2_signature_parse(bigr, sizeof(bigr), &s), ASSAY_ERR_RANGE);
	for (i = 0; i < e->sig_len; i++)
		ck_assert_int_eq(tpm2_signature_parse(e->sig, i, &s), ASSAY_ERR_TRUNCATED);
	qf_free(e);
}
END_TEST

static void
check_soft_signature(EVP_PKEY *key, uint16_t scheme, uint16_t hash, int salt)
{
	struct soft_quote q;
	struct tpm2_signature s;
	uint8_t *a, *sig;
	size_t n, sl;

	soft_quote_default(&q);
	a = soft_quote_attest(&q, &n);
	sig = soft_sign(key, scheme, hash, salt, a, n, &sl);
	ck_assert_int_eq(tpm2_signature_parse(sig, sl, &s), ASSAY_OK);
	ck_assert_int_eq(tpm2_signature_verify(key, &s, a, n), ASSAY_OK);
	a[n - 1] ^= 1;
	ck_assert_int_eq(tpm2_signature_verify(key, &s, a, n), ASSAY_FAIL);
	free(a);
	free(sig);
}

START_TEST(rsapss_accepts_digest_and_max_salt)
{
	EVP_PKEY *k = soft_key_rsa();

	check_soft_signature(k, TPM2_ALG_RSAPSS, TPM2_ALG_SHA256, RSA_PSS_SALTLEN_DIGEST);
	check_soft_signature(k, TPM2_ALG_RSAPSS, TPM2_ALG_SHA256, RSA_PSS_SALTLEN_MAX);
	check_soft_signature(k, TPM2_ALG_RSASSA, TPM2_ALG_SHA384, 0);
	check_soft_signature(k, TPM2_ALG_RSASSA, TPM2_ALG_SHA1, 0);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(ecdsa_verifies_sha384_and_sha512)
{
	EVP_PKEY *k = soft_key_ec();

	check_soft_signature(k, TPM2_ALG_ECDSA, TPM2_ALG_SHA384, 0);
	check_soft_signature(k, TPM2_ALG_ECDSA, TPM2_ALG_SHA512, 0);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(rsassa_signature_does_not_pass_as_rsapss)
{
	struct qf *r = qf_load("rsa-2048");
	struct tpm2_signature s;

	ck_assert_int_eq(tpm2_signature_parse(r->sig, r->sig_len, &s), ASSAY_OK);
	s.sig_alg = TPM2_ALG_RSAPSS;
	ck_assert_int_eq(tpm2_signature_verify(r->ak, &s, r->msg, r->msg_len), ASSAY_FAIL);
	s.sig_alg = TPM2_ALG_RSASSA;
	s.hash_alg = TPM2_ALG_SHA384;
	ck_assert_int_eq(tpm2_signature_verify(r->ak, &s, r->msg, r->msg_len), ASSAY_FAIL);
	qf_free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("attest");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, attest_parses_swtpm_quote_fields);
	tcase_add_test(tc, attest_rejects_every_truncation);
	tcase_add_test(tc, attest_rejects_trailing_bytes);
	tcase_add_test(tc, attest_rejects_oversized_fields);
	tcase_add_test(tc, attest_other_type_is_unsupported_with_header_filled);
	tcase_add_test(tc, signature_parses_ecdsa_and_rsassa);
	tcase_add_test(tc, signature_rejects_malformed);
	tcase_add_test(tc, rsapss_accepts_digest_and_max_salt);
	tcase_add_test(tc, ecdsa_verifies_sha384_and_sha512);
	tcase_add_test(tc, rsassa_signature_does_not_pass_as_rsapss);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
