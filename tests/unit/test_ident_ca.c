/*
 * test_ident_ca.c — the verifier's identity CA without a TPM
 * (verifier/ident_ca.c): loading its certificate, chain and key for a
 * trust domain, and the SPIFFE X.509-SVID it issues only to a trusted
 * agent whose key the AK certified, for at most `intervals` rounds. The
 * PKI and agent helpers are in ident_fixture.h.
 */
#include "tests/unit/ident_fixture.h"

static X509 *
pem_x509(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	ck_assert_ptr_nonnull(x);
	return x;
}

static int64_t
asn1_secs(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	ck_assert_int_eq(ASN1_TIME_to_tm(t, &tm), 1);
	return (int64_t)timegm(&tm);
}

/* ---- ident_ca_load ---------------------------------------------------------- */

static void
load_refused(const char *cert, const char *key, const char *td,
    const char *want)
{
	struct ident_ca *ca = (struct ident_ca *)1;
	char *c = pki_file(cert), *k = pki_file(key);

	ck_assert_int_eq(ident_ca_load(c, k, td, 3, &ca), ASSAY_ERR_CONFIG);
	ck_assert_ptr_null(ca);
	ck_assert_msg(strstr(assay_err_detail(), want) != NULL,
	    "detail '%s' does not name '%s'", assay_err_detail(), want);
	free(c);
	free(k);
}

START_TEST(ca_load_accepts_an_issuing_ca)
{
	ident_ca_free(ca_load());
	ident_ca_free(ca_load_files("ca.pem", "ca.key"));
	ident_ca_free(ca_load_files("ed.pem", "ed.key"));
}
END_TEST

START_TEST(ca_load_refuses_a_leaf)
{
	load_refused("leaf.pem", "leaf.key", TD, "not a CA");
}
END_TEST

START_TEST(ca_load_refuses_a_key_of_another)
{
	load_refused("chain.pem", "other.key", TD, "does not match");
	load_refused("chain.pem", "root.key", TD, "does not match");
	load_refused("chain.pem", "absent.key", TD, "no PEM private key");
	load_refused("absent.pem", "ca.key", TD, "cannot open");
	load_refused("ca.key", "ca.key", TD, "PEM certificates expected");
}
END_TEST

START_TEST(ca_load_refuses_bad_trust_domains)
{
	char long_td[IDENT_TRUST_DOMAIN_MAX + 2];
	struct ident_ca *ca = NULL;
	char *c = pki_file("chain.pem"), *k = pki_file("ca.key");

	load_refused("chain.pem", "ca.key", "", "trust_domain");
	load_refused("chain.pem", "ca.key", "Upper", "trust_domain");
	load_refused("chain.pem", "ca.key", "a/b", "trust_domain");
	load_refused("chain.pem", "ca.key", "a:443", "trust_domain");
	memset(long_td, 'a', IDENT_TRUST_DOMAIN_MAX + 1);
	long_td[IDENT_TRUST_DOMAIN_MAX + 1] = '\0';	/* 256 */
	load_refused("chain.pem", "ca.key", long_td, "trust_domain");
	long_td[IDENT_TRUST_DOMAIN_MAX] = '\0';		/* 255: the most */
	ck_assert_int_eq(ident_ca_load(c, k, long_td, 3, &ca), ASSAY_OK);
	ident_ca_free(ca);
	free(c);
	free(k);
}
END_TEST

START_TEST(ca_chain_holds_issuing_ca_then_intermediates)
{
	struct ident_doc d;
	char *ca_pem = slurp("ca.pem"), *root_pem = slurp("root.pem");
	X509 *leaf, *ca, *root;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	BIO *b;
	X509 *x;
	int n = 0;

	issued(&d);
	b = BIO_new_mem_buf(d.chain, -1);
	ca = pem_x509(ca_pem);
	root = pem_x509(root_pem);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		ck_assert_int_eq(X509_cmp(x, n == 0 ? ca : root), 0);
		n++;
		X509_free(x);
	}
	BIO_free(b);
	ck_assert_int_eq(n, 2);
	/* A relying party that trusts the root accepts the leaf. */
	leaf = pem_x509(d.cert);
	X509_STORE_add_cert(st, root);
	sk_X509_push(untrusted, ca);
	X509_STORE_CTX_init(ctx, st, leaf, untrusted);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)NOW);
	ck_assert_msg(X509_verify_cert(ctx) == 1, "%s",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	X509_free(leaf);
	X509_free(ca);
	X509_free(root);
	free(ca_pem);
	free(root_pem);
	ident_doc_free(&d);
}
END_TEST

/* ---- ident_ca_issue ------------------------------------------------------ */

START_TEST(issue_makes_a_spiffe_svid_for_the_certified_key)
{
	struct ident_ca *ca = ca_load();
	struct agent a;
	struct ident_doc d;
	char *ca_pem = slurp("ca.pem"), *chain_pem = slurp("chain.pem");
	const char *uri = "spiffe://" TD "/host/" AGENT;
	X509 *x, *cax;
	GENERAL_NAMES *san;
	const GENERAL_NAME *gn;
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	EXTENDED_KEY_USAGE *eku;
	BIGNUM *serial;
	char cn[64];
	int crit;

	agent_trusted(&a, IDKEY_ATTRS);
	ck_assert_int_eq(ident_ca_issue(ca, &a.rec, INTERVAL, NOW, &d), ASSAY_OK);
	ck_assert_str_eq(d.spiffe_id, uri);
	ck_assert_int_eq(d.not_before, NOW - IDENT_BACKDATE);
	ck_assert_int_eq(d.not_after, NOW - 1 + 3 * INTERVAL);
	ck_assert_ptr_nonnull(d.chain);
	x = pem_x509(d.cert);
	cax = pem_x509(ca_pem);
	/* validity: now - 10 .. last accepted round + 3 intervals */
	ck_assert_int_eq(asn1_secs(X509_get0_notBefore(x)), NOW - 10);
	ck_assert_int_eq(asn1_secs(X509_get0_notAfter(x)), NOW - 1 + 30);
	/* exactly one SAN, the URI */
	san = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	ck_assert_ptr_nonnull(san);
	ck_assert_int_eq(sk_GENERAL_NAME_num(san), 1);
	gn = sk_GENERAL_NAME_value(san, 0);
	ck_assert_int_eq(gn->type, GEN_URI);
	ck_assert_int_eq(ASN1_STRING_length(gn->d.uniformResourceIdentifier),
	    (int)strlen(uri));
	ck_assert_mem_eq(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
	    uri, strlen(uri));
	GENERAL_NAMES_free(san);
	/* subject CN=<id> and nothing else */
	ck_assert_int_eq(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
	ck_assert_int_gt(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)), 0);
	ck_assert_str_eq(cn, AGENT);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(cax)), 0);
	/* CA:FALSE critical */
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	ck_assert_ptr_nonnull(bc);
	ck_assert_int_eq(crit, 1);
	ck_assert_int_eq(bc->ca, 0);
	BASIC_CONSTRAINTS_free(bc);
	ck_assert_int_eq(X509_check_ca(x), 0);
	/* keyUsage digitalSignature, critical */
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	ck_assert_ptr_nonnull(ku);
	ck_assert_int_eq(crit, 1);
	ASN1_BIT_STRING_free(ku);
	ck_assert_uint_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	/* extendedKeyUsage: clientAuth and serverAuth, nothing else */
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	ck_assert_ptr_nonnull(eku);
	ck_assert_int_eq(sk_ASN1_OBJECT_num(eku), 2);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ck_assert_uint_eq(X509_get_extended_key_usage(x),
	    XKU_SSL_CLIENT | XKU_SSL_SERVER);
	/* signed by the issuing CA */
	ck_assert_int_eq(X509_verify(x, X509_get0_pubkey(cax)), 1);
	/* serial: positive, 16 bytes */
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	ck_assert_ptr_nonnull(serial);
	ck_assert_int_eq(BN_is_negative(serial), 0);
	ck_assert_int_eq(BN_num_bytes(serial), 16);
	BN_free(serial);
	/* the key is the one the AK certified */
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(x), a.key), 1);
	ck_assert_str_eq(d.chain, chain_pem);
	X509_free(x);
	X509_free(cax);
	free(ca_pem);
	free(chain_pem);
	ident_doc_free(&d);
	agent_free(&a);
	ident_ca_free(ca);
}
END_TEST

START_TEST(issue_serials_differ)
{
	struct ident_doc a, b;
	X509 *xa, *xb;

	issued(&a);
	issued(&b);
	xa = pem_x509(a.cert);
	xb = pem_x509(b.cert);
	ck_assert_int_ne(ASN1_INTEGER_cmp(X509_get0_serialNumber(xa),
	    X509_get0_serialNumber(xb)), 0);
	X509_free(xa);
	X509_free(xb);
	ident_doc_free(&a);
	ident_doc_free(&b);
}
END_TEST

START_TEST(issue_with_an_ed25519_ca_verifies)
{
	struct ident_ca *ca = ca_load_files("ed.pem", "ed.key");
	struct agent a;
	struct ident_doc d;
	char *ed_pem = slurp("ed.pem");
	X509 *x, *cax;

	agent_trusted(&a, IDKEY_ATTRS);
	ck_assert_int_eq(ident_ca_issue(ca, &a.rec, INTERVAL, NOW, &d), ASSAY_OK);
	x = pem_x509(d.cert);
	cax = pem_x509(ed_pem);
	ck_assert_int_eq(X509_verify(x, X509_get0_pubkey(cax)), 1);
	X509_free(x);
	X509_free(cax);
	free(ed_pem);
	ident_doc_free(&d);
	agent_free(&a);
	ident_ca_free(ca);
}
END_TEST

/* ident_ca_issue must refuse with ASSAY_ERR_STATE and hand out nothing. */
static void
issue_refused(const struct agent *a, int64_t now, const char *want)
{
	struct ident_ca *ca = ca_load();
	struct ident_doc d;

	ck_assert_int_eq(ident_ca_issue(ca, &a->rec, INTERVAL, now, &d),
	    ASSAY_ERR_STATE);
	ck_assert_ptr_null(d.cert);
	ck_assert_ptr_null(d.chain);
	ck_assert_ptr_null(d.spiffe_id);
	ck_assert_msg(strstr(assay_err_detail(), want) != NULL,
	    "detail '%s' does not name '%s'", assay_err_detail(), want);
	ident_ca_free(ca);
}

START_TEST(issue_refused_unless_trusted)
{
	static const int states[] = { AGENT_UNTRUSTED, AGENT_UNREACHABLE,
	    AGENT_PENDING, AGENT_REGISTERED, AGENT_STOPPED };
	struct agent a;

	agent_trusted(&a, IDKEY_ATTRS);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		a.rec.state = states[i];
		issue_refused(&a, NOW, agent_state_name(states[i]));
	}
	agent_free(&a);
}
END_TEST

START_TEST(issue_refused_without_a_certified_key)
{
	struct agent a;

	agent_trusted(&a, IDKEY_ATTRS);
	free(a.rec.id_pub);
	a.rec.id_pub = NULL;
	a.rec.id_pub_len = 0;
	issue_refused(&a, NOW, "no identity key");
	agent_free(&a);
}
END_TEST

START_TEST(issue_refused_once_the_last_round_is_too_old)
{
	struct ident_ca *ca = ca_load();
	struct ident_doc d;
	struct agent a;

	agent_trusted(&a, IDKEY_ATTRS);
	/* last + intervals * interval - 1: one second of validity left */
	ck_assert_int_eq(ident_ca_issue(ca, &a.rec, INTERVAL,
	    a.rec.last_attested + 3 * INTERVAL - 1, &d), ASSAY_OK);
	ck_assert_int_eq(d.not_after, a.rec.last_attested + 3 * INTERVAL);
	ident_doc_free(&d);
	issue_refused(&a, a.rec.last_attested + 3 * INTERVAL, "old");
	issue_refused(&a, a.rec.last_attested + 300, "old");
	a.rec.last_attested = 0;	/* never */
	issue_refused(&a, NOW, "old");
	agent_free(&a);
	ident_ca_free(ca);
}
END_TEST

START_TEST(issue_refused_for_an_id_spiffe_does_not_allow)
{
	static const char *const ids[] = { "host:1", "a/b", "..", "h st",
	    "h%2f" };
	struct agent a;

	agent_trusted(&a, IDKEY_ATTRS);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(a.rec.id, sizeof(a.rec.id), "%s", ids[i]);
		issue_refused(&a, NOW, "SPIFFE");
	}
	agent_free(&a);
}
END_TEST

START_TEST(issue_refused_for_a_key_the_rule_refuses)
{
	static const uint32_t bad[] = {
		IDKEY_ATTRS | TPMA_OBJECT_RESTRICTED,
		IDKEY_ATTRS | TPMA_OBJECT_DECRYPT,
		(IDKEY_ATTRS & ~TPMA_OBJECT_SIGN_ENCRYPT) | TPMA_OBJECT_DECRYPT,
		IDKEY_ATTRS & ~TPMA_OBJECT_FIXEDTPM,
		IDKEY_ATTRS & ~TPMA_OBJECT_SENSITIVEDATAORIGIN,
	};
	struct agent a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		agent_trusted(&a, bad[i]);
		issue_refused(&a, NOW, "unusable");
		agent_free(&a);
	}
	/* not a TPM2B_PUBLIC at all */
	agent_trusted(&a, IDKEY_ATTRS);
	a.rec.id_pub_len -= 1;
	issue_refused(&a, NOW, "unusable");
	agent_free(&a);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ident_ca");
	TCase *ca = tcase_create("ident_ca");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(ca, pki_up, pki_down);
	tcase_set_timeout(ca, 60);
	tcase_add_test(ca, ca_load_accepts_an_issuing_ca);
	tcase_add_test(ca, ca_load_refuses_a_leaf);
	tcase_add_test(ca, ca_load_refuses_a_key_of_another);
	tcase_add_test(ca, ca_load_refuses_bad_trust_domains);
	tcase_add_test(ca, ca_chain_holds_issuing_ca_then_intermediates);
	tcase_add_test(ca, issue_makes_a_spiffe_svid_for_the_certified_key);
	tcase_add_test(ca, issue_serials_differ);
	tcase_add_test(ca, issue_with_an_ed25519_ca_verifies);
	tcase_add_test(ca, issue_refused_unless_trusted);
	tcase_add_test(ca, issue_refused_without_a_certified_key);
	tcase_add_test(ca, issue_refused_once_the_last_round_is_too_old);
	tcase_add_test(ca, issue_refused_for_an_id_spiffe_does_not_allow);
	tcase_add_test(ca, issue_refused_for_a_key_the_rule_refuses);
	suite_add_tcase(s, ca);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
