/*
 * test_agent_tpm.c — agent/tpm.c identity and activation against a private
 * swtpm: EK/AK creation and persistence, EK certificate and chain from NV,
 * ECC EKs, credential activation with tpm2_makecredential as the verifier,
 * and that no transient handle or session is left behind.
 */
#include "tests/unit/agent_tpm_fixture.h"

START_TEST(identity_load_creates_persistent_ak)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	TPM2B_PUBLIC ak;

	unmarshal_pub(id.ak_pub, id.ak_pub_len, &ak);
	ck_assert_uint_eq(ak.publicArea.type, TPM2_ALG_ECC);
	ck_assert_uint_eq(ak.publicArea.objectAttributes, AK_ATTRS);
	ck_assert_uint_eq(ak.publicArea.parameters.eccDetail.scheme.scheme,
	    TPM2_ALG_ECDSA);
	ck_assert_uint_eq(id.ak_name_len, 34);
	ck_assert_int_eq(sh(TOOL "tpm2_readpublic -T %s -c 0x%08x >/dev/null",
	    tcti, TPM_AK_HANDLE_DEFAULT), 0);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(identity_second_load_returns_same_ak)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity a = load(&c), b = load(&c);

	ck_assert_uint_eq(a.ak_pub_len, b.ak_pub_len);
	ck_assert_mem_eq(a.ak_pub, b.ak_pub, a.ak_pub_len);
	ck_assert_uint_eq(a.ak_name_len, b.ak_name_len);
	ck_assert_mem_eq(a.ak_name, b.ak_name, a.ak_name_len);
	ck_assert_uint_eq(a.ek_pub_len, b.ek_pub_len);
	ck_assert_mem_eq(a.ek_pub, b.ek_pub, a.ek_pub_len);
	tpm_identity_free(&a);
	tpm_identity_free(&b);
}
END_TEST

START_TEST(ak_name_is_tpm_name_of_ak_public)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	uint8_t md[32];
	unsigned int mdlen;

	/* nameAlg || SHA-256(TPMT_PUBLIC): the TPM2B_PUBLIC body */
	ck_assert_int_eq(EVP_Digest(id.ak_pub + 2, id.ak_pub_len - 2, md,
	    &mdlen, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(id.ak_name[0], 0x00);
	ck_assert_uint_eq(id.ak_name[1], 0x0b);
	ck_assert_mem_eq(id.ak_name + 2, md, 32);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(rsa_ek_cert_matches_ek_public)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	TPM2B_PUBLIC ek;

	unmarshal_pub(id.ek_pub, id.ek_pub_len, &ek);
	ck_assert_uint_eq(ek.publicArea.type, TPM2_ALG_RSA);
	check_ek_cert(&id);
	ck_assert_uint_eq(id.nchain, 0);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(ek_cert_chains_to_test_ca)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	char path[512];
	const uint8_t *p = id.ek_cert;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *x, *issuer;
	FILE *f;

	x = d2i_X509(NULL, &p, id.ek_cert_len);
	ck_assert_ptr_nonnull(x);
	snprintf(path, sizeof(path), "%s/ca/rootca.pem", tdir);
	ck_assert_int_eq(X509_STORE_load_file(st, path), 1);
	snprintf(path, sizeof(path), "%s/ca/issuercert.pem", tdir);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(issuer = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	sk_X509_push(untrusted, issuer);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, x, untrusted), 1);
	/* EK certs carry a critical SAN dirName OpenSSL cannot judge. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_IGNORE_CRITICAL);
	ck_assert_msg(X509_verify_cert(ctx) == 1, "verify: %s",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(x);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(ecc_ek_is_used_with_its_cert)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id;
	TPM2B_PUBLIC ek, ak;

	c.ek_alg = TPM2_ALG_ECC;
	c.ak_alg = TPM2_ALG_RSA;
	c.ak_handle = 0x81010021;
	id = load(&c);
	unmarshal_pub(id.ek_pub, id.ek_pub_len, &ek);
	ck_assert_uint_eq(ek.publicArea.type, TPM2_ALG_ECC);
	check_ek_cert(&id);
	unmarshal_pub(id.ak_pub, id.ak_pub_len, &ak);
	ck_assert_uint_eq(ak.publicArea.type, TPM2_ALG_RSA);
	ck_assert_uint_eq(ak.publicArea.objectAttributes, AK_ATTRS);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(ak_of_other_algorithm_is_config_error)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);

	tpm_identity_free(&id);
	c.ak_alg = TPM2_ALG_RSA;	/* the default handle holds the ECC AK */
	ck_assert_int_eq(tpm_identity_load(&c, &id), ASSAY_ERR_CONFIG);
	ck_assert_ptr_null(id.ak_pub);
}
END_TEST

START_TEST(activate_recovers_secret)
{
	struct tpm_cfg c = cfg_default();

	activate_round_trip(&c);
}
END_TEST

START_TEST(activate_with_ecc_ek_recovers_secret)
{
	struct tpm_cfg c = cfg_default();

	c.ek_alg = TPM2_ALG_ECC;
	activate_round_trip(&c);
}
END_TEST

START_TEST(activate_for_other_name_fails)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	uint8_t secret[32] = { 1 }, name[66], *cred, *enc, *out = NULL;
	size_t cl, el, ol;

	memcpy(name, id.ak_name, id.ak_name_len);
	name[5] ^= 1;
	make_credential(&id, name, id.ak_name_len, secret, sizeof(secret),
	    &cred, &cl, &enc, &el);
	ck_assert_int_eq(tpm_activate(&c, cred, cl, enc, el, &out, &ol),
	    ASSAY_ERR_TPM);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "ActivateCredential"));
	free(cred);
	free(enc);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(activate_rejects_trailing_bytes)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	uint8_t secret[32] = { 1 }, *cred, *enc, *out = NULL, *longer;
	size_t cl, el, ol;

	make_credential(&id, id.ak_name, id.ak_name_len, secret,
	    sizeof(secret), &cred, &cl, &enc, &el);
	longer = malloc(cl + 1);
	memcpy(longer, cred, cl);
	longer[cl] = 0;
	ck_assert_int_eq(tpm_activate(&c, longer, cl + 1, enc, el, &out, &ol),
	    ASSAY_ERR_FORMAT);
	ck_assert_int_eq(tpm_activate(&c, cred, cl, enc, el - 1, &out, &ol),
	    ASSAY_ERR_FORMAT);
	ck_assert_ptr_null(out);
	free(longer);
	free(cred);
	free(enc);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(calls_leave_no_transient_handles)
{
	struct tpm_cfg c = cfg_default();
	char out[1024], cmd[2048];

	c.ek_alg = TPM2_ALG_ECC;	/* the transient P-256 path is not used */
	activate_round_trip(&c);
	c.ek_alg = TPM2_ALG_RSA;
	activate_round_trip(&c);
	snprintf(cmd, sizeof(cmd), TOOL "tpm2_getcap -T %s handles-transient; "
	    TOOL "tpm2_getcap -T %s handles-loaded-session; "
	    TOOL "tpm2_getcap -T %s handles-saved-session", tcti, tcti, tcti);
	capture(out, sizeof(out), cmd);
	ck_assert_str_eq(out, "");
}
END_TEST

/* A TPM whose chain range holds an intermediate and a root. */
START_TEST(ek_chain_read_from_nv)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id;
	char *root = NULL, *inter = NULL;
	size_t i;

	ck_assert_int_eq(sh("cd %s && openssl x509 -in ca/issuercert.pem "
	    "-outform DER -out i.der && openssl x509 -in ca/rootca.pem "
	    "-outform DER -out r.der && cat i.der r.der > chain.der && "
	    TOOL "tpm2_nvdefine -T %s 0x01c00100 -C o -s $(wc -c < chain.der) "
	    "-a 'ownerwrite|ownerread|authread|authwrite' >/dev/null && "
	    TOOL "tpm2_nvwrite -T %s 0x01c00100 -C o -i chain.der", tdir, tcti,
	    tcti), 0);
	id = load(&c);
	ck_assert_uint_eq(id.nchain, 2);
	for (i = 0; i < 2; i++) {
		const uint8_t *p = id.chain[i];
		X509 *x = d2i_X509(NULL, &p, id.chain_len[i]);

		ck_assert_ptr_nonnull(x);
		ck_assert_ptr_eq(p, id.chain[i] + id.chain_len[i]);
		if (i == 0)
			inter = X509_NAME_oneline(X509_get_subject_name(x),
			    NULL, 0);
		else
			root = X509_NAME_oneline(X509_get_subject_name(x),
			    NULL, 0);
		X509_free(x);
	}
	ck_assert_ptr_nonnull(strstr(inter, "issuing CA"));
	ck_assert_ptr_nonnull(strstr(root, "root CA"));
	OPENSSL_free(inter);
	OPENSSL_free(root);
	tpm_identity_free(&id);
}
END_TEST

/* Without a persistent EK the TCG template yields the same key, flushed. */
START_TEST(created_ek_equals_persisted_and_is_flushed)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity before = load(&c), after;
	char out[1024], cmd[2048];

	ck_assert_int_eq(sh(TOOL "tpm2_evictcontrol -T %s -C o -c 0x81010001 "
	    ">/dev/null", tcti), 0);
	after = load(&c);
	ck_assert_uint_eq(before.ek_pub_len, after.ek_pub_len);
	ck_assert_mem_eq(before.ek_pub, after.ek_pub, before.ek_pub_len);
	ck_assert_mem_eq(before.ak_name, after.ak_name, before.ak_name_len);
	check_ek_cert(&after);
	activate_round_trip(&c);
	snprintf(cmd, sizeof(cmd), TOOL "tpm2_getcap -T %s handles-transient; "
	    TOOL "tpm2_getcap -T %s handles-loaded-session", tcti, tcti);
	capture(out, sizeof(out), cmd);
	ck_assert_str_eq(out, "");
	tpm_identity_free(&before);
	tpm_identity_free(&after);
}
END_TEST

/* No persistent ECC EK: a P-256 one from the TCG template, no cert. */
START_TEST(ecc_p256_ek_created_when_none_persisted)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id;
	TPM2B_PUBLIC ek;

	c.ek_alg = TPM2_ALG_ECC;
	ck_assert_int_eq(sh(TOOL "tpm2_evictcontrol -T %s -C o -c 0x81010016 "
	    ">/dev/null", tcti), 0);
	id = load(&c);
	unmarshal_pub(id.ek_pub, id.ek_pub_len, &ek);
	ck_assert_uint_eq(ek.publicArea.type, TPM2_ALG_ECC);
	ck_assert_uint_eq(ek.publicArea.parameters.eccDetail.curveID,
	    TPM2_ECC_NIST_P256);
	ck_assert_ptr_null(id.ek_cert);		/* swtpm has no 0x01c0000a */
	ck_assert_uint_eq(id.ek_cert_len, 0);
	tpm_identity_free(&id);
	activate_round_trip(&c);
}
END_TEST

START_TEST(bad_tcti_is_tpm_error)
{
	struct tpm_cfg c = { .tcti = "swtpm:path=/nonexistent/assay.sock" };
	struct tpm_identity id;

	ck_assert_int_eq(tpm_identity_load(&c, &id), ASSAY_ERR_TPM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "TCTI"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("agent_tpm");
	SRunner *sr;
	int nf;
	TCase *tc = tcase_create("swtpm");
	TCase *alt = tcase_create("swtpm_altered");
	TCase *plain = tcase_create("no_tpm");

	tcase_add_unchecked_fixture(tc, tpm_up, tpm_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, identity_load_creates_persistent_ak);
	tcase_add_test(tc, identity_second_load_returns_same_ak);
	tcase_add_test(tc, ak_name_is_tpm_name_of_ak_public);
	tcase_add_test(tc, rsa_ek_cert_matches_ek_public);
	tcase_add_test(tc, ek_cert_chains_to_test_ca);
	tcase_add_test(tc, ecc_ek_is_used_with_its_cert);
	tcase_add_test(tc, ak_of_other_algorithm_is_config_error);
	tcase_add_test(tc, activate_recovers_secret);
	tcase_add_test(tc, activate_with_ecc_ek_recovers_secret);
	tcase_add_test(tc, activate_for_other_name_fails);
	tcase_add_test(tc, activate_rejects_trailing_bytes);
	tcase_add_test(tc, calls_leave_no_transient_handles);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(alt, tpm_up, tpm_down);
	tcase_set_timeout(alt, 60);
	tcase_add_test(alt, ek_chain_read_from_nv);
	tcase_add_test(alt, created_ek_equals_persisted_and_is_flushed);
	tcase_add_test(alt, ecc_p256_ek_created_when_none_persisted);
	suite_add_tcase(s, alt);

	tcase_add_test(plain, bad_tcti_is_tpm_error);
	suite_add_tcase(s, plain);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
