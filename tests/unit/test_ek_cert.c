/*
 * test_ek_cert.c — EK certificate checks against a real (software) TPM
 * (registrar_fixture.h): the swtpm EK certificate must chain to the local
 * CA (root, bundle, intermediate from the agent) and fail against others;
 * certificates made here must be refused when expired, not yet valid, CA
 * certificates, for another purpose or another TPM's EK.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registrar_fixture.h"

static void
data_pub(const char *name, struct tpm2_public *pub)
{
	const char *dir = getenv("ASSAY_TEST_DATA");
	char *path = xasprintf("%s/tpm_public/%s", dir ? dir : "tests/data", name);
	uint8_t *p;
	size_t n;

	ck_assert_msg(read_path(path, &p, &n) == 0, "cannot read %s", path);
	ck_assert_int_eq(tpm2_public_parse(p, n, pub), ASSAY_OK);
	free(p);
	free(path);
}

/* ---- EK certificate chain ---- */

static int
verify_cert(const struct ek_trust *t, const char *ekpub, const char *certfile,
    const char *chainfile)
{
	struct tpm2_public ek;
	uint8_t *cert, *chain = NULL;
	const uint8_t *chains[1];
	size_t cert_len, chain_len = 0;
	int r;

	parse_pub(ekpub, &ek);
	ck_assert_int_eq(read_all(certfile, &cert, &cert_len), 0);
	if (chainfile != NULL)
		ck_assert_int_eq(read_all(chainfile, &chain, &chain_len), 0);
	chains[0] = chain;
	r = ek_verify(t, &ek, cert, cert_len, chains, &chain_len,
	    chainfile != NULL ? 1 : 0);
	free(cert);
	free(chain);
	tpm2_public_free(&ek);
	return r;
}

START_TEST(swtpm_ek_cert_verifies_against_localca)
{
	struct ek_trust *t = trust("ca");

	ck_assert_msg(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL) ==
	    ASSAY_OK, "%s", assay_err_detail());
	ek_trust_free(t);
}
END_TEST

START_TEST(swtpm_p384_ek_cert_verifies_against_localca)
{
	struct ek_trust *t = trust("ca");

	ck_assert_msg(verify_cert(t, "ek384.pub", "tpm/ek-secp384r1.crt", NULL) ==
	    ASSAY_OK, "%s", assay_err_detail());
	ek_trust_free(t);
}
END_TEST

START_TEST(bundle_file_with_two_certs_verifies)
{
	struct ek_trust *t = trust("bundle.pem");

	ck_assert_int_eq(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL), ASSAY_OK);
	ek_trust_free(t);
}
END_TEST

START_TEST(intermediate_from_agent_chain_verifies)
{
	struct ek_trust *t = trust("rootonly");

	ck_assert_int_eq(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL),
	    ASSAY_ERR_PERM);
	ck_assert_msg(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt",
	    "issuer.der") == ASSAY_OK, "%s", assay_err_detail());
	ek_trust_free(t);
}
END_TEST

START_TEST(intermediate_alone_is_not_a_trust_anchor)
{
	struct ek_trust *t = trust("interonly");

	ck_assert_int_eq(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL),
	    ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "EK certificate chain"));
	ek_trust_free(t);
}
END_TEST

START_TEST(unrelated_ca_rejects_swtpm_ek_cert)
{
	struct ek_trust *t = trust("testca");

	ck_assert_int_eq(verify_cert(t, "ek.pub", "tpm/ek-rsa2048.crt", NULL),
	    ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(),
	    "unable to get local issuer certificate"));
	ek_trust_free(t);
}
END_TEST

START_TEST(other_tpm_ek_does_not_match_cert)
{
	struct ek_trust *t = trust("ca");
	struct tpm2_public other;
	uint8_t *cert;
	size_t len;

	data_pub("other-ek-rsa.pub", &other);
	ck_assert_int_eq(read_all("tpm/ek-rsa2048.crt", &cert, &len), 0);
	ck_assert_int_eq(ek_verify(t, &other, cert, len, NULL, NULL, 0),
	    ASSAY_ERR_PERM);
	ck_assert_str_eq(assay_err_detail(),
	    "EK certificate key does not match EK public");
	free(cert);
	tpm2_public_free(&other);
	ek_trust_free(t);
}
END_TEST

/* Certificates made here: an EC test CA and leaves holding the EK key. */
static const char *leaf_eku;	/* extended key usage of made leaves, if set */

static X509 *
make_cert(EVP_PKEY *subject_key, const char *cn, X509 *issuer,
    EVP_PKEY *issuer_key, int ca, long from, long to)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	static long serial = 100;

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, subject_key);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage,
	    ca ? "critical,keyCertSign,cRLSign" : "critical,keyEncipherment");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!ca && leaf_eku != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, leaf_eku);
		ck_assert_ptr_nonnull(ext);
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	ck_assert_int_gt(X509_sign(x, issuer_key, EVP_sha256()), 0);
	X509_NAME_free(nm);
	return x;
}

static void
write_der(const char *name, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	ck_assert_int_gt(n, 0);
	write_all(name, der, (size_t)n);
	OPENSSL_free(der);
}

static int
verify_made_leaf(int ca, long from, long to)
{
	struct tpm2_public ek;
	struct ek_trust *t;
	EVP_PKEY *cakey;
	X509 *root, *leaf;
	int r;

	parse_pub("ek.pub", &ek);
	cakey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
	root = make_cert(cakey, "assay test EK CA", NULL, cakey, 1, -86400, 86400);
	leaf = make_cert(ek.pkey, "made EK", root, cakey, ca, from, to);
	sh("rm -rf madeca && mkdir madeca");
	{
		char *p = tpath("madeca/root.pem");
		FILE *f = fopen(p, "w");

		ck_assert_ptr_nonnull(f);
		PEM_write_X509(f, root);
		fclose(f);
		free(p);
	}
	write_der("made-leaf.der", leaf);
	t = trust("madeca");
	r = verify_cert(t, "ek.pub", "made-leaf.der", NULL);
	ek_trust_free(t);
	X509_free(leaf);
	X509_free(root);
	EVP_PKEY_free(cakey);
	tpm2_public_free(&ek);
	return r;
}

START_TEST(made_leaf_within_dates_verifies)
{
	ck_assert_msg(verify_made_leaf(0, -3600, 3600) == ASSAY_OK, "%s",
	    assay_err_detail());
}
END_TEST

START_TEST(ek_cert_with_tcg_eku_verifies)
{
	leaf_eku = "2.23.133.8.1";
	ck_assert_msg(verify_made_leaf(0, -3600, 3600) == ASSAY_OK, "%s",
	    assay_err_detail());
	leaf_eku = NULL;
}
END_TEST

START_TEST(ek_cert_for_another_purpose_rejected)
{
	leaf_eku = "serverAuth";
	ck_assert_int_eq(verify_made_leaf(0, -3600, 3600), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "2.23.133.8.1"));
	leaf_eku = NULL;
}
END_TEST

START_TEST(expired_ek_cert_rejected)
{
	ck_assert_int_eq(verify_made_leaf(0, -7200, -3600), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "certificate has expired"));
}
END_TEST

START_TEST(not_yet_valid_ek_cert_rejected)
{
	ck_assert_int_eq(verify_made_leaf(0, 3600, 7200), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not yet valid"));
}
END_TEST

START_TEST(ca_ek_cert_rejected)
{
	ck_assert_int_eq(verify_made_leaf(1, -3600, 3600), ASSAY_ERR_PERM);
	ck_assert_str_eq(assay_err_detail(), "EK certificate is a CA certificate");
}
END_TEST

START_TEST(garbage_ek_cert_rejected)
{
	struct ek_trust *t = trust("ca");
	struct tpm2_public ek;
	uint8_t junk[64];

	parse_pub("ek.pub", &ek);
	memset(junk, 0x30, sizeof(junk));
	ck_assert_int_eq(ek_verify(t, &ek, junk, sizeof(junk), NULL, NULL, 0),
	    ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not valid DER"));
	tpm2_public_free(&ek);
	ek_trust_free(t);
}
END_TEST

START_TEST(dir_with_private_key_pem_is_config_error)
{
	struct ek_trust *t = NULL;
	char *p = tpath("xdg/var/lib/swtpm-localca");

	ck_assert_int_eq(ek_trust_load(p, NULL, &t), ASSAY_ERR_CONFIG);
	ck_assert_ptr_null(t);
	free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ek_cert");
	TCase *tc = tcase_create("swtpm");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, swtpm_ek_cert_verifies_against_localca);
	tcase_add_test(tc, swtpm_p384_ek_cert_verifies_against_localca);
	tcase_add_test(tc, bundle_file_with_two_certs_verifies);
	tcase_add_test(tc, intermediate_from_agent_chain_verifies);
	tcase_add_test(tc, intermediate_alone_is_not_a_trust_anchor);
	tcase_add_test(tc, unrelated_ca_rejects_swtpm_ek_cert);
	tcase_add_test(tc, other_tpm_ek_does_not_match_cert);
	tcase_add_test(tc, made_leaf_within_dates_verifies);
	tcase_add_test(tc, expired_ek_cert_rejected);
	tcase_add_test(tc, ek_cert_with_tcg_eku_verifies);
	tcase_add_test(tc, ek_cert_for_another_purpose_rejected);
	tcase_add_test(tc, not_yet_valid_ek_cert_rejected);
	tcase_add_test(tc, ca_ek_cert_rejected);
	tcase_add_test(tc, garbage_ek_cert_rejected);
	tcase_add_test(tc, dir_with_private_key_pem_is_config_error);
	suite_add_tcase(s, tc);
	return run_on_swtpm(s);
}
