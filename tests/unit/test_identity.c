/*
 * test_identity.c — host identities without a TPM: the verifier's identity
 * CA (verifier/ident_ca.c: loading, and the SPIFFE X.509-SVID it issues
 * only to a trusted agent whose key the AK certified, for at most
 * `intervals` rounds), the identity document both sides exchange
 * (common/proto/identity.c: strict parsing, PEM written again), and the
 * protocol members that carry them (push verdict "identity", evidence
 * "identity", quote request identity=1). TPM2B_PUBLIC areas are built
 * here by hand for software EC keys; the PKI is made with openssl(1).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/proto/doc.h"
#include "common/proto/identity.h"
#include "common/proto/push.h"
#include "common/proto/quote_req.h"
#include "common/xmalloc.h"
#include "verifier/ident_ca.h"
#include "verifier/store.h"

/* What agent/tpm_ident.c makes: the only attributes certify_verify accepts. */
#define IDKEY_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT)
#define TD		"example.org"
#define AGENT		"host-01"
#define INTERVAL	10
#define NOW		now_

static char pki[256];
static int64_t now_;		/* when the PKI was made: inside its validity */

/* ---- fixtures ------------------------------------------------------------ */

static char *
pki_file(const char *name)
{
	return xasprintf("%s/%s", pki, name);
}

static char *
slurp(const char *name)
{
	char *path = pki_file(name), *s;
	uint8_t *p;
	size_t n;
	FILE *f = fopen(path, "rb");

	ck_assert_msg(f != NULL, "%s", path);
	p = xmalloc(70000);
	n = fread(p, 1, 69999, f);
	fclose(f);
	s = xstrndup((char *)p, n);
	free(p);
	free(path);
	return s;
}

/*
 * root (self-signed CA) -> ca (issuing CA, pathlen 0); chain.pem is ca then
 * root; leaf.pem is CA:FALSE; other.key matches nothing; ed.* an Ed25519 CA.
 */
static void
pki_up(void)
{
	char *cmd;

	snprintf(pki, sizeof(pki), "/tmp/assay-ident.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(pki));
	cmd = xasprintf("cd '%s' && ("
	    "E='openssl ecparam -name prime256v1 -genkey -noout -out' && "
	    "$E root.key && $E ca.key && $E leaf.key && $E other.key && "
	    "openssl req -new -x509 -key root.key -out root.pem -days 30 "
	    "-subj /CN=root -addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign,cRLSign && "
	    "openssl req -new -key ca.key -out ca.csr -subj /CN=issuing && "
	    "printf 'basicConstraints=critical,CA:TRUE,pathlen:0\\n"
	    "keyUsage=critical,keyCertSign,cRLSign\\n' > ca.ext && "
	    "openssl x509 -req -in ca.csr -CA root.pem -CAkey root.key "
	    "-set_serial 2 -days 30 -extfile ca.ext -out ca.pem && "
	    "cat ca.pem root.pem > chain.pem && "
	    "openssl req -new -key leaf.key -out leaf.csr -subj /CN=leaf && "
	    "printf 'basicConstraints=critical,CA:FALSE\\n' > leaf.ext && "
	    "openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key "
	    "-set_serial 3 -days 30 -extfile leaf.ext -out leaf.pem && "
	    "openssl genpkey -algorithm ed25519 -out ed.key && "
	    "openssl req -new -x509 -key ed.key -out ed.pem -days 30 "
	    "-subj /CN=ed -addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign"
	    ") >/dev/null 2>&1", pki);
	ck_assert_msg(system(cmd) == 0, "openssl could not make the PKI in %s",
	    pki);
	free(cmd);
	now_ = (int64_t)time(NULL);	/* not before the CAs' notBefore */
}

static void
pki_down(void)
{
	char *cmd = xasprintf("rm -rf '%s'", pki);

	(void)system(cmd);
	free(cmd);
}

static struct ident_ca *
ca_load_files(const char *cert, const char *key)
{
	struct ident_ca *ca = NULL;
	char *c = pki_file(cert), *k = pki_file(key);
	int r = ident_ca_load(c, k, TD, IDENT_INTERVALS_DEFAULT, &ca);

	ck_assert_msg(r == ASSAY_OK, "ident_ca_load: %s", assay_err_detail());
	ck_assert_ptr_nonnull(ca);
	free(c);
	free(k);
	return ca;
}

static struct ident_ca *
ca_load(void)
{
	return ca_load_files("chain.pem", "ca.key");
}

/* TPM2B_PUBLIC of an ECC P-256 key with attrs, nameAlg SHA-256. */
static uint8_t *
tpm_pub_ec(EVP_PKEY *k, uint32_t attrs, size_t *len)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t xb[32], yb[32], *body;
	size_t blen;
	struct buf t, b;

	ck_assert_int_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
	ck_assert_int_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
	ck_assert_int_eq(BN_bn2binpad(x, xb, 32), 32);
	ck_assert_int_eq(BN_bn2binpad(y, yb, 32), 32);
	buf_init(&t);
	buf_put_u16be(&t, TPM2_ALG_ECC);
	buf_put_u16be(&t, TPM2_ALG_SHA256);
	buf_put_u32be(&t, attrs);
	buf_put_u16be(&t, 0);			/* authPolicy: empty */
	buf_put_u16be(&t, TPM2_ALG_NULL);	/* symmetric */
	buf_put_u16be(&t, TPM2_ALG_NULL);	/* scheme */
	buf_put_u16be(&t, TPM2_ECC_NIST_P256);
	buf_put_u16be(&t, TPM2_ALG_NULL);	/* kdf */
	buf_put_tpm2b(&t, xb, 32);
	buf_put_tpm2b(&t, yb, 32);
	body = buf_steal(&t, &blen);
	buf_init(&b);
	buf_put_tpm2b(&b, body, blen);
	free(body);
	BN_free(x);
	BN_free(y);
	return buf_steal(&b, len);
}

struct agent {
	struct agent_rec rec;
	EVP_PKEY	*key;
};

/* Trusted, its identity key certified, last accepted round a second ago. */
static void
agent_trusted(struct agent *a, uint32_t attrs)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->rec.id, sizeof(a->rec.id), "%s", AGENT);
	a->rec.state = AGENT_TRUSTED;
	a->rec.interval = INTERVAL;
	a->rec.last_attested = NOW - 1;
	a->key = EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(a->key);
	a->rec.id_pub = tpm_pub_ec(a->key, attrs, &a->rec.id_pub_len);
}

static void
agent_free(struct agent *a)
{
	free(a->rec.id_pub);
	EVP_PKEY_free(a->key);
}

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

/* An issued identity for a fresh trusted agent (the key is freed). */
static void
issued(struct ident_doc *d)
{
	struct ident_ca *ca = ca_load();
	struct agent a;

	agent_trusted(&a, IDKEY_ATTRS);
	ck_assert_int_eq(ident_ca_issue(ca, &a.rec, INTERVAL, NOW, d), ASSAY_OK);
	agent_free(&a);
	ident_ca_free(ca);
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

/* ---- the identity document ------------------------------------------------ */

/* One issued document per test process, a fresh copy each call. */
static json_t *
doc_json(void)
{
	static json_t *once;
	struct ident_doc d;

	if (once == NULL) {
		issued(&d);
		once = ident_doc_encode(&d);
		ck_assert_ptr_nonnull(once);
		ident_doc_free(&d);
	}
	return json_deep_copy(once);
}

static void
set_str(json_t *j, const char *key, const char *s)
{
	ck_assert_int_eq(json_object_set_new(j, key, json_string(s)), 0);
}

/* j (stolen) must be refused, nothing handed out; detail names want. */
static void
doc_refused(json_t *j, const char *want)
{
	struct ident_doc d;
	int r;

	assay_err_clear();
	r = ident_doc_parse(j, &d);
	ck_assert_msg(r == ASSAY_ERR_FORMAT || r == ASSAY_ERR_INVAL,
	    "want refusal naming '%s', got %d", want, r);
	ck_assert_ptr_null(d.spiffe_id);
	ck_assert_ptr_null(d.cert);
	ck_assert_ptr_null(d.chain);
	ck_assert_msg(strstr(assay_err_detail(), want) != NULL,
	    "detail '%s' does not name '%s'", assay_err_detail(), want);
	json_decref(j);
}

/*
 * j (stolen) is either refused or parsed into exactly cert and chain, as
 * OpenSSL writes them: what is not a certificate never comes through.
 */
static void
doc_dropped_or_refused(json_t *j, const char *cert, const char *chain)
{
	struct ident_doc d;

	if (ident_doc_parse(j, &d) == ASSAY_OK) {
		ck_assert_str_eq(d.cert, cert);
		ck_assert_str_eq(d.chain, chain);
		ident_doc_free(&d);
	} else
		ck_assert_ptr_null(d.cert);
	json_decref(j);
}

static const char *
member(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(doc_round_trips)
{
	struct ident_doc in, out;
	json_t *j;
	char *text;

	issued(&in);
	j = ident_doc_encode(&in);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	j = json_loads(text, 0, NULL);
	ck_assert_int_eq(ident_doc_parse(j, &out), ASSAY_OK);
	ck_assert_str_eq(out.spiffe_id, in.spiffe_id);
	ck_assert_str_eq(out.cert, in.cert);
	ck_assert_str_eq(out.chain, in.chain);
	ck_assert_int_eq(out.not_before, in.not_before);
	ck_assert_int_eq(out.not_after, in.not_after);
	ident_doc_free(&out);
	ck_assert_ptr_null(out.cert);
	/* encode refuses a document with a member missing */
	free(in.chain);
	in.chain = NULL;
	ck_assert_ptr_null(ident_doc_encode(&in));
	ident_doc_free(&in);
	json_decref(j);
	free(text);
}
END_TEST

START_TEST(doc_refuses_wrong_shapes)
{
	static const char *const keys[] = { "spiffe_id", "certificate", "chain",
	    "not_before", "not_after" };
	json_t *j;

	doc_refused(json_array(), "not an object");
	doc_refused(json_string("x"), "not an object");
	for (size_t i = 0; i < 5; i++) {
		j = doc_json();
		json_object_del(j, keys[i]);
		doc_refused(j, keys[i]);
		/* the wrong type */
		j = doc_json();
		json_object_set_new(j, keys[i], i < 3 ? json_integer(1) :
		    json_string("1"));
		doc_refused(j, keys[i]);
		j = doc_json();
		json_object_set_new(j, keys[i], json_null());
		doc_refused(j, keys[i]);
	}
	j = doc_json();
	json_object_set_new(j, "not_before", json_integer(-1));
	doc_refused(j, "'not_before' missing or not a time");
	j = doc_json();
	json_object_set_new(j, "not_after", json_integer(-5));
	doc_refused(j, "'not_after' missing or not a time");
	j = doc_json();
	json_object_set_new(j, "not_after", json_real(1.5));
	doc_refused(j, "not_after");
	j = doc_json();
	set_str(j, "spiffe_id", "");
	doc_refused(j, "spiffe_id");
	/* unknown keys are ignored */
	j = doc_json();
	json_object_set_new(j, "extra", json_true());
	doc_dropped_or_refused(j, member(j, "certificate"), member(j, "chain"));
}
END_TEST

START_TEST(doc_refuses_an_id_that_is_not_spiffe)
{
	json_t *j = doc_json();

	set_str(j, "spiffe_id", "https://example.org/host/host-01");
	doc_refused(j, "spiffe");
	j = doc_json();
	set_str(j, "spiffe_id", "SPIFFE:/x");
	doc_refused(j, "spiffe");
}
END_TEST

START_TEST(doc_refuses_a_certificate_that_is_not_pem)
{
	json_t *j = doc_json();
	char *der, *s;

	set_str(j, "certificate", "hello");
	doc_refused(j, "certificate");
	/* the PEM's base64 alone */
	j = doc_json();
	s = xstrdup(member(j, "certificate"));
	der = strchr(s, '\n') + 1;
	*strstr(der, "-----END") = '\0';
	set_str(j, "certificate", der);
	doc_refused(j, "certificate");
	free(s);
	/* a broken body */
	j = doc_json();
	s = xstrdup(member(j, "certificate"));
	s[40] = s[40] == 'A' ? 'B' : 'A';
	s[41] = '!';
	set_str(j, "certificate", s);
	doc_refused(j, "certificate");
	free(s);
	/* a key, not a certificate */
	j = doc_json();
	s = slurp("leaf.key");
	set_str(j, "certificate", s);
	doc_refused(j, "certificate");
	free(s);
	/* the chain alike */
	j = doc_json();
	set_str(j, "chain", "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n");
	doc_refused(j, "chain");
}
END_TEST

START_TEST(doc_refuses_two_certificates_as_the_leaf)
{
	json_t *j = doc_json();
	char *two = xasprintf("%s%s", member(j, "certificate"),
	    member(j, "certificate"));

	set_str(j, "certificate", two);
	doc_refused(j, "certificate");
	free(two);
}
END_TEST

/* A chain of n copies of the issuing CA. */
static char *
chain_of(size_t n)
{
	char *ca = slurp("ca.pem"), *s = xstrdup(""), *t;

	for (size_t i = 0; i < n; i++) {
		t = xasprintf("%s%s", s, ca);
		free(s);
		s = t;
	}
	free(ca);
	return s;
}

START_TEST(doc_chain_holds_at_most_eight)
{
	struct ident_doc d;
	json_t *j = doc_json();
	char *c8 = chain_of(IDENT_CHAIN_MAX), *c9 = chain_of(IDENT_CHAIN_MAX + 1);

	set_str(j, "chain", c8);
	ck_assert_int_eq(ident_doc_parse(j, &d), ASSAY_OK);
	ck_assert_str_eq(d.chain, c8);
	ident_doc_free(&d);
	set_str(j, "chain", c9);
	doc_refused(j, "chain");
	free(c8);
	free(c9);
}
END_TEST

START_TEST(doc_junk_around_pem_never_comes_through)
{
	json_t *j = doc_json();
	char *cert = xstrdup(member(j, "certificate"));
	char *ca = slurp("ca.pem"), *root = slurp("root.pem");
	char *key = slurp("leaf.key"), *chain = xasprintf("%s%s", ca, root);
	char *s;

	json_decref(j);
	/* junk before the first block: refused */
	j = doc_json();
	s = xasprintf("junk\n%s", cert);
	set_str(j, "certificate", s);
	doc_refused(j, "certificate");
	free(s);
	j = doc_json();
	s = xasprintf("X-Header: 1\n%s", chain);
	set_str(j, "chain", s);
	doc_refused(j, "chain");
	free(s);
	/* between blocks: text, a private key, a header */
	j = doc_json();
	s = xasprintf("%ssome text\n%s", ca, root);
	set_str(j, "chain", s);
	doc_dropped_or_refused(j, cert, chain);
	free(s);
	j = doc_json();
	s = xasprintf("%s%s%s", ca, key, root);
	set_str(j, "chain", s);
	doc_dropped_or_refused(j, cert, chain);
	free(s);
	/* after the last block */
	j = doc_json();
	s = xasprintf("%s%s", cert, key);
	set_str(j, "certificate", s);
	doc_dropped_or_refused(j, cert, member(j, "chain"));
	free(s);
	j = doc_json();
	s = xasprintf("%s\ntrailing junk\n", chain);
	set_str(j, "chain", s);
	doc_dropped_or_refused(j, cert, chain);
	free(s);
	/* a NUL inside the text: jansson keeps it, the parser must not read past */
	j = doc_json();
	s = xasprintf("%s", cert);
	json_object_set_new(j, "certificate", json_stringn(s, strlen(s) + 1));
	doc_dropped_or_refused(j, cert, member(j, "chain"));
	free(s);
	free(cert);
	free(ca);
	free(root);
	free(key);
	free(chain);
}
END_TEST

START_TEST(doc_times_must_match_the_leaf)
{
	json_t *j = doc_json();
	json_int_t nb = json_integer_value(json_object_get(j, "not_before"));
	json_int_t na = json_integer_value(json_object_get(j, "not_after"));

	json_object_set_new(j, "not_after", json_integer(na + 1));
	doc_refused(j, "not_after");
	j = doc_json();
	json_object_set_new(j, "not_before", json_integer(nb - 1));
	doc_refused(j, "not_before");
	j = doc_json();
	json_object_set_new(j, "not_before", json_integer(na));
	json_object_set_new(j, "not_after", json_integer(nb));
	doc_refused(j, "not_before");
}
END_TEST

static char *
filled(const char *prefix, size_t n, char c)
{
	size_t pl = strlen(prefix);
	char *s = xmalloc(pl + n + 1);

	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	s[pl + n] = '\0';
	return s;
}

START_TEST(doc_refuses_oversize_members)
{
	json_t *j = doc_json();
	char *s, *t;

	s = filled("spiffe://", IDENT_SPIFFE_MAX - 9 + 1, 'a');
	set_str(j, "spiffe_id", s);
	doc_refused(j, "longer than");
	free(s);
	/* the most: accepted */
	j = doc_json();
	s = filled("spiffe://", IDENT_SPIFFE_MAX - 9, 'a');
	set_str(j, "spiffe_id", s);
	doc_dropped_or_refused(j, member(j, "certificate"), member(j, "chain"));
	free(s);
	j = doc_json();
	t = filled("", IDENT_PEM_MAX, '\n');
	s = xasprintf("%s%s", member(j, "certificate"), t);
	set_str(j, "certificate", s);
	doc_refused(j, "longer than");
	free(s);
	free(t);
	j = doc_json();
	t = filled("", IDENT_CHAIN_PEM_MAX, '\n');
	s = xasprintf("%s%s", member(j, "chain"), t);
	set_str(j, "chain", s);
	doc_refused(j, "longer than");
	free(s);
	free(t);
}
END_TEST

/* ---- push verdict ------------------------------------------------------------ */

static json_t *
over_the_wire(json_t *j)
{
	char *text;
	json_t *back;

	ck_assert_ptr_nonnull(j);
	text = json_dumps(j, JSON_COMPACT);
	back = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(back);
	free(text);
	json_decref(j);
	return back;
}

START_TEST(verdict_carries_an_identity)
{
	struct push_verdict in = { .state = "trusted", .next_ms = 1000 }, out;
	json_t *j;

	issued(&in.identity);
	in.has_identity = 1;
	j = over_the_wire(push_verdict_encode(&in));
	ck_assert(json_is_object(json_object_get(j, "identity")));
	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_int_eq(out.has_identity, 1);
	ck_assert_str_eq(out.identity.spiffe_id, in.identity.spiffe_id);
	ck_assert_str_eq(out.identity.cert, in.identity.cert);
	ck_assert_str_eq(out.identity.chain, in.identity.chain);
	ck_assert_int_eq(out.identity.not_before, in.identity.not_before);
	ck_assert_int_eq(out.identity.not_after, in.identity.not_after);
	ck_assert_str_eq(out.state, "trusted");
	push_verdict_free(&out);
	json_decref(j);
	/* none: no member, none parsed */
	in.has_identity = 0;
	j = over_the_wire(push_verdict_encode(&in));
	ck_assert_ptr_null(json_object_get(j, "identity"));
	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_int_eq(out.has_identity, 0);
	ck_assert_ptr_null(out.identity.cert);
	push_verdict_free(&out);
	json_decref(j);
	/* an identity with a member missing is not encoded */
	in.has_identity = 1;
	free(in.identity.cert);
	in.identity.cert = NULL;
	ck_assert_ptr_null(push_verdict_encode(&in));
	ident_doc_free(&in.identity);
}
END_TEST

START_TEST(verdict_with_a_malformed_identity_is_refused)
{
	struct push_verdict in = { .state = "trusted", .next_ms = 1000 }, out;
	json_t *j, *id;

	issued(&in.identity);
	in.has_identity = 1;
	j = over_the_wire(push_verdict_encode(&in));
	id = json_object_get(j, "identity");
	json_object_set_new(id, "not_after",
	    json_integer(in.identity.not_after + 3600));
	ck_assert_int_ne(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_ptr_null(out.state);
	ck_assert_int_eq(out.has_identity, 0);
	ck_assert_ptr_null(out.identity.cert);
	json_object_set_new(j, "identity", json_string("x"));
	ck_assert_int_ne(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_ptr_null(out.state);
	json_object_set_new(j, "identity", json_null());
	ck_assert_int_ne(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_ptr_null(out.state);
	json_decref(j);
	ident_doc_free(&in.identity);
}
END_TEST

/* ---- evidence document ------------------------------------------------------- */

static uint8_t *
pattern(size_t n, unsigned seed)
{
	uint8_t *p = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
	return p;
}

static void
doc_with_identity(struct evidence_doc *d)
{
	uint8_t dg[32];

	evidence_doc_init(d);
	d->attest_len = 145;
	d->attest = pattern(d->attest_len, 1);
	d->sig_len = 70;
	d->sig = pattern(d->sig_len, 2);
	memset(dg, 0x11, sizeof(dg));
	ck_assert_int_eq(pcr_values_set(&d->pcrs, TPM2_ALG_SHA256, 0, dg, 32), 0);
	d->id_pub_len = 90;
	d->id_pub = pattern(d->id_pub_len, 5);
	d->id_attest_len = 150;
	d->id_attest = pattern(d->id_attest_len, 6);
	d->id_sig_len = 72;
	d->id_sig = pattern(d->id_sig_len, 7);
}

static json_t *
evidence_json(void)
{
	struct evidence_doc d;
	json_t *j;

	doc_with_identity(&d);
	j = evidence_doc_to_json(&d);
	evidence_doc_free(&d);
	ck_assert_ptr_nonnull(j);
	return j;
}

static void
evidence_refused(json_t *j, const char *want)
{
	struct evidence_doc d;

	assay_err_clear();
	ck_assert_int_eq(evidence_doc_from_json(j, &d), ASSAY_ERR_FORMAT);
	ck_assert_msg(strstr(assay_err_detail(), want) != NULL,
	    "detail '%s' does not name '%s'", assay_err_detail(), want);
	ck_assert_ptr_null(d.id_pub);
	ck_assert_ptr_null(d.id_attest);
	ck_assert_ptr_null(d.id_sig);
	ck_assert_ptr_null(d.attest);
	json_decref(j);
}

START_TEST(evidence_round_trips_the_identity)
{
	struct evidence_doc in, out;
	json_t *j, *id;

	doc_with_identity(&in);
	j = over_the_wire(evidence_doc_to_json(&in));
	id = json_object_get(j, "identity");
	ck_assert(json_is_object(id));
	ck_assert_int_eq(json_object_size(id), 3);
	ck_assert_int_eq(evidence_doc_from_json(j, &out), ASSAY_OK);
	ck_assert_uint_eq(out.id_pub_len, in.id_pub_len);
	ck_assert_mem_eq(out.id_pub, in.id_pub, in.id_pub_len);
	ck_assert_uint_eq(out.id_attest_len, in.id_attest_len);
	ck_assert_mem_eq(out.id_attest, in.id_attest, in.id_attest_len);
	ck_assert_uint_eq(out.id_sig_len, in.id_sig_len);
	ck_assert_mem_eq(out.id_sig, in.id_sig, in.id_sig_len);
	ck_assert_uint_eq(out.attest_len, in.attest_len);
	evidence_doc_free(&out);
	json_decref(j);
	/* without a key: no member, nothing parsed */
	free(in.id_pub);
	in.id_pub = NULL;
	in.id_pub_len = 0;
	j = over_the_wire(evidence_doc_to_json(&in));
	ck_assert_ptr_null(json_object_get(j, "identity"));
	ck_assert_int_eq(evidence_doc_from_json(j, &out), ASSAY_OK);
	ck_assert_ptr_null(out.id_pub);
	ck_assert_ptr_null(out.id_attest);
	evidence_doc_free(&out);
	json_decref(j);
	evidence_doc_free(&in);
}
END_TEST

START_TEST(evidence_identity_is_parsed_strictly)
{
	static const char *const keys[] = { "public", "message", "signature" };
	json_t *j, *id;
	char *b;
	uint8_t *big;

	j = evidence_json();
	json_object_set_new(json_object_get(j, "identity"), "name",
	    json_string("AA=="));
	evidence_refused(j, "unknown key");
	j = evidence_json();
	json_object_set_new(j, "identity", json_string("x"));
	evidence_refused(j, "identity");
	j = evidence_json();
	json_object_set_new(j, "identity", json_null());
	evidence_refused(j, "identity");
	for (size_t i = 0; i < 3; i++) {
		j = evidence_json();
		id = json_object_get(j, "identity");
		json_object_set_new(id, keys[i], json_string("!!not base64"));
		evidence_refused(j, keys[i]);
		j = evidence_json();
		json_object_del(json_object_get(j, "identity"), keys[i]);
		evidence_refused(j, keys[i]);
		j = evidence_json();
		json_object_set_new(json_object_get(j, "identity"), keys[i],
		    json_integer(1));
		evidence_refused(j, keys[i]);
	}
	/* oversize: one byte more than each bound */
	big = pattern(ATTEST_MAX_SIZE + 1, 9);
	j = evidence_json();
	b = base64_encode(big, TPM_PUBLIC_MAX_SIZE + 1);
	json_object_set_new(json_object_get(j, "identity"), "public",
	    json_string(b));
	evidence_refused(j, "public");
	free(b);
	j = evidence_json();
	b = base64_encode(big, ATTEST_MAX_SIZE + 1);
	json_object_set_new(json_object_get(j, "identity"), "message",
	    json_string(b));
	evidence_refused(j, "message");
	free(b);
	j = evidence_json();
	b = base64_encode(big, SIGNATURE_MAX_SIZE + 1);
	json_object_set_new(json_object_get(j, "identity"), "signature",
	    json_string(b));
	evidence_refused(j, "signature");
	free(b);
	free(big);
}
END_TEST

/* ---- quote request --------------------------------------------------------- */

struct query {
	char	 buf[1024];
	char	*key[16], *val[16];
	int	 n;
};

static void
query_split(struct query *q, const char *path)
{
	char *p, *amp;

	memset(q, 0, sizeof(*q));
	p = strchr(path, '?');
	ck_assert_ptr_nonnull(p);
	snprintf(q->buf, sizeof(q->buf), "%s", p + 1);
	for (p = q->buf; p != NULL && *p != '\0'; p = amp) {
		if ((amp = strchr(p, '&')) != NULL)
			*amp++ = '\0';
		q->key[q->n] = p;
		q->val[q->n] = strchr(p, '=');
		ck_assert_ptr_nonnull(q->val[q->n]);
		*q->val[q->n]++ = '\0';
		q->n++;
	}
}

static const char *
query_get(void *ctx, const char *key)
{
	struct query *q = ctx;

	for (int i = 0; i < q->n; i++)
		if (strcmp(q->key[i], key) == 0)
			return q->val[i];
	return NULL;
}

static struct quote_req
request(int identity)
{
	struct quote_req q = { .nonce_len = QUOTE_NONCE_LEN,
	    .identity = identity };

	for (size_t i = 0; i < q.nonce_len; i++)
		q.nonce[i] = (uint8_t)(i * 5 + 1);
	ck_assert_int_eq(pcr_selection_parse("sha256:0,1,2", &q.sel), 0);
	return q;
}

START_TEST(quote_req_asks_for_the_identity)
{
	struct quote_req in = request(1), out;
	struct query qs;
	char *path = quote_req_format(&in);

	ck_assert_ptr_nonnull(strstr(path, "&identity=1"));
	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_OK);
	ck_assert_int_eq(out.identity, 1);
	ck_assert_int_eq(out.eventlog, 0);
	free(path);
	in = request(0);
	path = quote_req_format(&in);
	ck_assert_ptr_null(strstr(path, "identity"));
	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_OK);
	ck_assert_int_eq(out.identity, 0);
	free(path);
}
END_TEST

START_TEST(quote_req_refuses_identity_other_than_0_or_1)
{
	static const char *const bad[] = { "2", "yes", "", "01", "-1" };
	struct quote_req in = request(0), out;
	struct query qs;
	char *base = quote_req_format(&in), *path;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = xasprintf("%s&identity=%s", base, bad[i]);
		query_split(&qs, path);
		ck_assert_int_eq(quote_req_parse(query_get, &qs, &out),
		    ASSAY_ERR_INVAL);
		ck_assert_msg(strstr(assay_err_detail(), "identity") != NULL,
		    "%s: %s", path, assay_err_detail());
		free(path);
	}
	path = xasprintf("%s&identity=0", base);
	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_OK);
	ck_assert_int_eq(out.identity, 0);
	free(path);
	free(base);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("identity");
	TCase *ca = tcase_create("ident_ca");
	TCase *doc = tcase_create("ident_doc");
	TCase *proto = tcase_create("proto");
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

	tcase_add_unchecked_fixture(doc, pki_up, pki_down);
	tcase_set_timeout(doc, 60);
	tcase_add_test(doc, doc_round_trips);
	tcase_add_test(doc, doc_refuses_wrong_shapes);
	tcase_add_test(doc, doc_refuses_an_id_that_is_not_spiffe);
	tcase_add_test(doc, doc_refuses_a_certificate_that_is_not_pem);
	tcase_add_test(doc, doc_refuses_two_certificates_as_the_leaf);
	tcase_add_test(doc, doc_chain_holds_at_most_eight);
	tcase_add_test(doc, doc_junk_around_pem_never_comes_through);
	tcase_add_test(doc, doc_times_must_match_the_leaf);
	tcase_add_test(doc, doc_refuses_oversize_members);
	tcase_add_test(doc, verdict_carries_an_identity);
	tcase_add_test(doc, verdict_with_a_malformed_identity_is_refused);
	suite_add_tcase(s, doc);

	tcase_add_test(proto, evidence_round_trips_the_identity);
	tcase_add_test(proto, evidence_identity_is_parsed_strictly);
	tcase_add_test(proto, quote_req_asks_for_the_identity);
	tcase_add_test(proto, quote_req_refuses_identity_other_than_0_or_1);
	suite_add_tcase(s, proto);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
