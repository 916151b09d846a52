/*
 * test_dsse.c — common/dsse.c and dsse_trust.c: PAE against the DSSE
 * spec's example and hand-computed strings; envelopes signed with P-256
 * and Ed25519 verify under their keys and under a CA through an x5c
 * chain; each forgery (payload, payloadType, other key, other CA,
 * expired leaf, leaf without digitalSignature) is refused with the
 * reason; P-384 and RSA keys are refused; malformed envelopes are
 * refused naming the member; trusted signers load from PEM files.
 */
#include <stdio.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "tests/unit/dsse_fixture.h"

#define TYPE	"application/vnd.test+json"
#define BODY	"{\"hello\":\"world\"}"

static char *
sign(EVP_PKEY *k, STACK_OF(X509) *certs)
{
	char *json = NULL;

	ck_assert_int_eq(dsse_sign(TYPE, (const uint8_t *)BODY, strlen(BODY), k,
	    certs, &json), ASSAY_OK);
	return json;
}

/* Parse json and verify it under t; *signer gets who verified. */
static int
verify(const char *json, const struct dsse_trust *t, char **signer)
{
	struct dsse_env e;
	char *kid = NULL;
	int r;

	if ((r = dsse_env_parse((const uint8_t *)json, strlen(json), &e)) != 0)
		return r;
	r = dsse_env_verify(&e, t, signer, &kid);
	dsse_env_free(&e);
	free(kid);
	return r;
}

static int
parse(const char *json)
{
	struct dsse_env e;
	int r = dsse_env_parse((const uint8_t *)json, strlen(json), &e);

	dsse_env_free(&e);
	return r;
}

static void
pae_is(const char *type, const char *body, const char *want)
{
	uint8_t *p;
	size_t n;

	ck_assert_int_eq(dsse_pae(type, (const uint8_t *)body, strlen(body), &p,
	    &n), ASSAY_OK);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_mem_eq(p, want, n);
	free(p);
}

START_TEST(pae_matches_spec_example)
{
	pae_is("http://example.com/HelloWorld", "hello world",
	    "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}
END_TEST

START_TEST(pae_of_empty_type_and_body)
{
	pae_is("", "", "DSSEv1 0  0 ");
}
END_TEST

START_TEST(pae_counts_bytes_not_characters)
{
	/* "é" is two UTF-8 bytes; the body keeps its spaces and newline. */
	pae_is("t\xc3\xa9", "a b\n", "DSSEv1 3 t\xc3\xa9 4 a b\n");
}
END_TEST

static void
round_trip(const char *kind)
{
	EVP_PKEY *k = key_new(kind);
	struct dsse_trust *t = trust_key(k);
	char *json = sign(k, NULL), *signer = NULL, *kid = NULL, *want;

	ck_assert_int_eq(verify(json, t, &signer), ASSAY_OK);
	ck_assert_int_eq(dsse_keyid(k, &kid), ASSAY_OK);
	want = xasprintf("key %s", kid);
	ck_assert_str_eq(signer, want);
	ck_assert_ptr_nonnull(strstr(json, kid));	/* the keyid hint */
	free(want);
	free(kid);
	free(signer);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}

START_TEST(p256_round_trip)
{
	round_trip("P-256");
}
END_TEST

START_TEST(ed25519_round_trip)
{
	round_trip("ED25519");
}
END_TEST

START_TEST(payload_decodes_to_the_body)
{
	EVP_PKEY *k = key_new("ED25519");
	char *json = sign(k, NULL);
	struct dsse_env e;

	ck_assert_int_eq(dsse_env_parse((const uint8_t *)json, strlen(json), &e),
	    ASSAY_OK);
	ck_assert_str_eq(e.type, TYPE);
	ck_assert_str_eq((char *)e.payload, BODY);
	ck_assert_uint_eq(e.nsigs, 1);
	ck_assert_ptr_null(e.sigs[0].x5c);
	dsse_env_free(&e);
	free(json);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(tampered_payload_refused)
{
	EVP_PKEY *k = key_new("P-256");
	struct dsse_trust *t = trust_key(k);
	char *json = sign(k, NULL), *b64, *bad;

	b64 = base64_encode("{\"hello\":\"World\"}", strlen(BODY));
	bad = env_set(json, "payload", json_string(b64));
	ck_assert_int_eq(verify(bad, t, NULL), ASSAY_ERR_PERM);
	ck_assert_detail_has("no signature verifies under the 1 trusted signer");
	free(b64);
	free(bad);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(tampered_payload_type_refused)
{
	EVP_PKEY *k = key_new("ED25519");
	struct dsse_trust *t = trust_key(k);
	char *json = sign(k, NULL), *bad;

	bad = env_set(json, "payloadType", json_string(TYPE "x"));
	ck_assert_int_eq(verify(bad, t, NULL), ASSAY_ERR_PERM);
	free(bad);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(untrusted_key_refused_naming_its_keyid)
{
	EVP_PKEY *k = key_new("P-256"), *other = key_new("P-256");
	struct dsse_trust *t = trust_key(other);
	char *json = sign(k, NULL), *kid;

	ck_assert_int_eq(dsse_keyid(k, &kid), ASSAY_OK);
	ck_assert_int_eq(verify(json, t, NULL), ASSAY_ERR_PERM);
	ck_assert_detail_has(kid);
	free(kid);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}
END_TEST

START_TEST(one_good_signature_among_bad_ones_is_enough)
{
	EVP_PKEY *k = key_new("P-256"), *other = key_new("ED25519");
	struct dsse_trust *t = trust_key(k);
	char *good = sign(k, NULL), *bad = sign(other, NULL), *both, *signer;
	json_t *g = json_loads(good, 0, NULL), *b = json_loads(bad, 0, NULL);

	/* The untrusted signature first, then the trusted one. */
	json_array_append(json_object_get(b, "signatures"),
	    json_array_get(json_object_get(g, "signatures"), 0));
	both = json_dumps(b, JSON_COMPACT);
	ck_assert_int_eq(verify(both, t, &signer), ASSAY_OK);
	ck_assert_ptr_nonnull(strstr(signer, "key sha256:"));
	free(signer);
	free(both);
	json_decref(g);
	json_decref(b);
	free(good);
	free(bad);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}
END_TEST

START_TEST(p384_key_refused)
{
	EVP_PKEY *k = key_new("P-384");
	struct dsse_trust *t = dsse_trust_new();
	char *json = NULL;

	ck_assert_int_eq(dsse_sign(TYPE, (const uint8_t *)"x", 1, k, NULL,
	    &json), ASSAY_ERR_UNSUPPORTED);
	ck_assert_detail_has("curve secp384r1");
	ck_assert_ptr_null(json);
	ck_assert_int_eq(dsse_trust_add_key(t, k), ASSAY_ERR_UNSUPPORTED);
	ck_assert_uint_eq(dsse_trust_count(t), 0);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(rsa_key_refused)
{
	EVP_PKEY *k = key_new("RSA");
	char *json = NULL;

	ck_assert_int_eq(dsse_sign(TYPE, (const uint8_t *)"x", 1, k, NULL,
	    &json), ASSAY_ERR_UNSUPPORTED);
	ck_assert_detail_has("RSA key");
	ck_assert_int_eq(dsse_key_check(k), ASSAY_ERR_UNSUPPORTED);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(malformed_envelopes_refused)
{
	static const struct {
		const char *json, *detail;
		int err;
	} bad[] = {
		{ "", "not a DSSE envelope", ASSAY_ERR_FORMAT },
		{ "[]", "not a JSON object", ASSAY_ERR_FORMAT },
		{ "{\"payload\":\"\",\"signatures\":[{\"sig\":\"AA==\"}]}",
		    "no \"payloadType\"", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":7,\"payload\":\"\",\"signatures\":[]}",
		    "\"payloadType\" is not a string", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"!!!!\","
		    "\"signatures\":[{\"sig\":\"AA==\"}]}",
		    "payload: not base64", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"a+b_\","
		    "\"signatures\":[{\"sig\":\"AA==\"}]}",
		    "mixes the standard and URL-safe", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"AAAAA\","
		    "\"signatures\":[{\"sig\":\"AA==\"}]}",
		    "payload: not base64", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[]}",
		    "no signatures", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"\"}",
		    "\"signatures\" is missing", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{}]}",
		    "signatures[0]: no \"sig\"", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":"
		    "[{\"sig\":\"\"}]}", "signatures[0]: empty", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":"
		    "[{\"sig\":\"AA==\",\"x5c\":[\"AA==\"]}]}",
		    "x5c[0] is not a DER certificate", ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payloadType\":\"u\",\"payload\":\"\","
		    "\"signatures\":[{\"sig\":\"AA==\"}]}", "duplicate",
		    ASSAY_ERR_FORMAT },
		{ "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":"
		    "[{\"sig\":\"AA==\",\"keyid\":1}]}",
		    "\"keyid\" is not a string", ASSAY_ERR_FORMAT },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i].json) == bad[i].err, "case %zu", i);
		ck_assert_detail_has(bad[i].detail);
	}
}
END_TEST

START_TEST(more_than_16_signatures_refused)
{
	json_t *o = json_pack("{s:s, s:s, s:[]}", "payloadType", "t",
	    "payload", "", "signatures");
	char *json;
	int i;

	for (i = 0; i < DSSE_SIGS_MAX + 1; i++)
		json_array_append_new(json_object_get(o, "signatures"),
		    json_pack("{s:s}", "sig", "AA=="));
	json = json_dumps(o, JSON_COMPACT);
	ck_assert_int_eq(parse(json), ASSAY_ERR_RANGE);
	ck_assert_detail_has("more than 16 signatures");
	json_array_remove(json_object_get(o, "signatures"), 0);
	free(json);
	json = json_dumps(o, JSON_COMPACT);
	ck_assert_int_eq(parse(json), ASSAY_OK);
	free(json);
	json_decref(o);
}
END_TEST

START_TEST(url_safe_unpadded_base64_accepted)
{
	EVP_PKEY *k = key_new("ED25519");
	struct dsse_trust *t = trust_key(k);
	/* A body whose base64 has '+', '/' and padding. */
	static const uint8_t body[] = { 0xfb, 0xff, 0xbf, 0x3e, 0x00 };
	char *json = NULL, *url, *b64, *p;

	ck_assert_int_eq(dsse_sign(TYPE, body, sizeof(body), k, NULL, &json),
	    ASSAY_OK);
	b64 = base64_encode(body, sizeof(body));
	ck_assert_str_eq(b64, "+/+/PgA=");
	for (p = b64; *p != '\0'; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	*strchr(b64, '=') = '\0';
	url = env_set(json, "payload", json_string(b64));
	ck_assert_int_eq(verify(url, t, NULL), ASSAY_OK);
	free(url);
	free(b64);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

/* ---- X.509 signers ------------------------------------------------------- */

struct pki {
	EVP_PKEY	*cak, *ik, *lk;
	X509		*ca, *inter, *leaf;
};

/* CA (P-256) -> intermediate (P-256) -> leaf (lkind), leaf validity given. */
static void
pki_new(struct pki *p, const char *lkind, long from, long to, const char *ku)
{
	p->cak = key_new("P-256");
	p->ik = key_new("P-256");
	p->lk = key_new(lkind);
	p->ca = ca_new("Test Policy CA", p->cak);
	p->inter = cert_new("Test Intermediate", p->ik, p->ca, p->cak, 1, -DAY,
	    DAY, NULL);
	p->leaf = cert_new("policy-signer", p->lk, p->inter, p->ik, 0, from, to,
	    ku);
}

static void
pki_free(struct pki *p)
{
	EVP_PKEY_free(p->cak);
	EVP_PKEY_free(p->ik);
	EVP_PKEY_free(p->lk);
	X509_free(p->ca);
	X509_free(p->inter);
	X509_free(p->leaf);
}

/* The leaf's signature with x5c [leaf, intermediate], checked under ca. */
static int
x5c_verify(struct pki *p, X509 *ca, char **signer)
{
	STACK_OF(X509) *chain = chain_of(p->leaf, p->inter, NULL);
	struct dsse_trust *t = trust_ca(ca);
	char *json = sign(p->lk, chain);
	int r = verify(json, t, signer);

	free(json);
	dsse_trust_free(t);
	chain_free(chain);
	return r;
}

START_TEST(x5c_chain_to_trusted_ca_verifies)
{
	struct pki p;
	char *signer = NULL;

	pki_new(&p, "ED25519", -DAY, DAY, "critical,digitalSignature");
	ck_assert_int_eq(x5c_verify(&p, p.ca, &signer), ASSAY_OK);
	ck_assert_str_eq(signer, "x509 CN=policy-signer (CA CN=Test Policy CA)");
	free(signer);
	pki_free(&p);
}
END_TEST

START_TEST(x5c_leaf_without_key_usage_verifies)
{
	struct pki p;

	pki_new(&p, "P-256", -DAY, DAY, NULL);
	ck_assert_int_eq(x5c_verify(&p, p.ca, NULL), ASSAY_OK);
	pki_free(&p);
}
END_TEST

START_TEST(x5c_chain_to_other_ca_refused)
{
	EVP_PKEY *ok = key_new("P-256");
	X509 *other = ca_new("Other CA", ok);
	struct pki p;

	pki_new(&p, "P-256", -DAY, DAY, "digitalSignature");
	ck_assert_int_eq(x5c_verify(&p, other, NULL), ASSAY_ERR_PERM);
	ck_assert_detail_has("x5c: unable to get local issuer certificate");
	X509_free(other);
	EVP_PKEY_free(ok);
	pki_free(&p);
}
END_TEST

START_TEST(x5c_expired_leaf_refused)
{
	struct pki p;

	pki_new(&p, "P-256", -2 * DAY, -DAY, "digitalSignature");
	ck_assert_int_eq(x5c_verify(&p, p.ca, NULL), ASSAY_ERR_PERM);
	ck_assert_detail_has("certificate has expired");
	pki_free(&p);
}
END_TEST

START_TEST(x5c_leaf_without_digital_signature_refused)
{
	struct pki p;

	pki_new(&p, "P-256", -DAY, DAY, "critical,keyEncipherment");
	ck_assert_int_eq(x5c_verify(&p, p.ca, NULL), ASSAY_ERR_PERM);
	ck_assert_detail_has("no digitalSignature key usage");
	pki_free(&p);
}
END_TEST

START_TEST(x5c_without_intermediate_refused)
{
	STACK_OF(X509) *chain;
	struct dsse_trust *t;
	struct pki p;
	char *json;

	pki_new(&p, "P-256", -DAY, DAY, "digitalSignature");
	chain = chain_of(p.leaf, NULL);
	t = trust_ca(p.ca);
	json = sign(p.lk, chain);
	ck_assert_int_eq(verify(json, t, NULL), ASSAY_ERR_PERM);
	free(json);
	dsse_trust_free(t);
	chain_free(chain);
	pki_free(&p);
}
END_TEST

START_TEST(x5c_leaf_must_match_the_signing_key)
{
	EVP_PKEY *k = key_new("P-256");
	STACK_OF(X509) *chain;
	struct pki p;
	char *json = NULL;

	pki_new(&p, "P-256", -DAY, DAY, "digitalSignature");
	chain = chain_of(p.leaf, p.inter, NULL);
	ck_assert_int_eq(dsse_sign(TYPE, (const uint8_t *)"x", 1, k, chain,
	    &json), ASSAY_ERR_INVAL);
	chain_free(chain);
	pki_free(&p);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(x5c_swapped_for_an_untrusted_leaf_refused)
{
	/* A trusted chain pasted onto a signature by another key. */
	EVP_PKEY *k = key_new("P-256");
	STACK_OF(X509) *chain;
	struct dsse_trust *t;
	struct pki p;
	char *json, *good, *bad;
	json_t *x5c, *g;

	pki_new(&p, "P-256", -DAY, DAY, "digitalSignature");
	chain = chain_of(p.leaf, p.inter, NULL);
	good = sign(p.lk, chain);
	json = sign(k, NULL);
	g = json_loads(good, 0, NULL);
	x5c = json_deep_copy(json_object_get(json_array_get(json_object_get(g,
	    "signatures"), 0), "x5c"));
	json_decref(g);
	bad = env_sig_set(json, "x5c", x5c);
	t = trust_ca(p.ca);
	ck_assert_int_eq(verify(bad, t, NULL), ASSAY_ERR_PERM);
	ck_assert_detail_has("the leaf key does not verify the signature");
	free(bad);
	free(json);
	free(good);
	dsse_trust_free(t);
	chain_free(chain);
	pki_free(&p);
	EVP_PKEY_free(k);
}
END_TEST

/* ---- trusted signers from PEM files ---------------------------------------- */

static char dir[] = "/tmp/test_dsse.XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/test_dsse.XXXXXX");
}

/* dir/name holding the PEM of key (pub or private) and/or cert. */
static char *
pem_file(const char *name, EVP_PKEY *key, int priv, X509 *cert)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	if (key != NULL && priv)
		ck_assert_int_eq(PEM_write_PrivateKey(f, key, NULL, NULL, 0,
		    NULL, NULL), 1);
	else if (key != NULL)
		ck_assert_int_eq(PEM_write_PUBKEY(f, key), 1);
	if (cert != NULL)
		ck_assert_int_eq(PEM_write_X509(f, cert), 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(pem_file_with_key_and_ca_loads_both)
{
	EVP_PKEY *k = key_new("ED25519");
	struct dsse_trust *t = dsse_trust_new();
	struct pki p;
	char *path, *json, *signer = NULL;

	pki_new(&p, "P-256", -DAY, DAY, "digitalSignature");
	path = pem_file("both.pem", k, 0, p.ca);
	ck_assert_int_eq(dsse_trust_add_pem_file(t, path), ASSAY_OK);
	ck_assert_uint_eq(dsse_trust_count(t), 2);
	ck_assert_ptr_nonnull(strstr(dsse_trust_describe(t, 0), "key sha256:"));
	ck_assert_str_eq(dsse_trust_describe(t, 1), "CA CN=Test Policy CA");
	ck_assert_ptr_null(dsse_trust_describe(t, 2));
	json = sign(k, NULL);
	ck_assert_int_eq(verify(json, t, &signer), ASSAY_OK);
	ck_assert_ptr_nonnull(strstr(signer, "key sha256:"));
	free(signer);
	free(json);
	free(path);
	dsse_trust_free(t);
	pki_free(&p);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(pem_file_refusals)
{
	EVP_PKEY *k = key_new("P-256"), *p384 = key_new("P-384");
	struct dsse_trust *t = dsse_trust_new();
	char *priv = pem_file("priv.pem", k, 1, NULL);
	char *curve = pem_file("p384.pem", p384, 0, NULL);
	char *empty = pem_file("empty.pem", NULL, 0, NULL);

	ck_assert_int_eq(dsse_trust_add_pem_file(t, priv), ASSAY_ERR_CONFIG);
	ck_assert_detail_has("PRIVATE KEY\": a signer is a PUBLIC KEY or a "
	    "CERTIFICATE");
	ck_assert_int_eq(dsse_trust_add_pem_file(t, curve),
	    ASSAY_ERR_UNSUPPORTED);
	ck_assert_detail_has("p384.pem: EC key on curve secp384r1");
	ck_assert_int_eq(dsse_trust_add_pem_file(t, empty), ASSAY_ERR_CONFIG);
	ck_assert_detail_has("no PEM PUBLIC KEY or CERTIFICATE");
	ck_assert_int_eq(dsse_trust_add_pem_file(t, "/nonexistent.pem"),
	    ASSAY_ERR_IO);
	ck_assert_uint_eq(dsse_trust_count(t), 0);
	free(priv);
	free(curve);
	free(empty);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p384);
}
END_TEST

START_TEST(empty_trust_is_a_config_error)
{
	EVP_PKEY *k = key_new("ED25519");
	struct dsse_trust *t = dsse_trust_new();
	char *json = sign(k, NULL);

	ck_assert_int_eq(verify(json, t, NULL), ASSAY_ERR_CONFIG);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

static Suite *
dsse_suite(void)
{
	Suite *s = suite_create("dsse");
	TCase *tc = tcase_create("envelope"), *tx = tcase_create("x509"),
	    *tf = tcase_create("pem");

	tcase_add_test(tc, pae_matches_spec_example);
	tcase_add_test(tc, pae_of_empty_type_and_body);
	tcase_add_test(tc, pae_counts_bytes_not_characters);
	tcase_add_test(tc, p256_round_trip);
	tcase_add_test(tc, ed25519_round_trip);
	tcase_add_test(tc, payload_decodes_to_the_body);
	tcase_add_test(tc, tampered_payload_refused);
	tcase_add_test(tc, tampered_payload_type_refused);
	tcase_add_test(tc, untrusted_key_refused_naming_its_keyid);
	tcase_add_test(tc, one_good_signature_among_bad_ones_is_enough);
	tcase_add_test(tc, p384_key_refused);
	tcase_add_test(tc, rsa_key_refused);
	tcase_add_test(tc, malformed_envelopes_refused);
	tcase_add_test(tc, more_than_16_signatures_refused);
	tcase_add_test(tc, url_safe_unpadded_base64_accepted);
	tcase_add_test(tc, empty_trust_is_a_config_error);
	suite_add_tcase(s, tc);
	tcase_add_test(tx, x5c_chain_to_trusted_ca_verifies);
	tcase_add_test(tx, x5c_leaf_without_key_usage_verifies);
	tcase_add_test(tx, x5c_chain_to_other_ca_refused);
	tcase_add_test(tx, x5c_expired_leaf_refused);
	tcase_add_test(tx, x5c_leaf_without_digital_signature_refused);
	tcase_add_test(tx, x5c_without_intermediate_refused);
	tcase_add_test(tx, x5c_leaf_must_match_the_signing_key);
	tcase_add_test(tx, x5c_swapped_for_an_untrusted_leaf_refused);
	suite_add_tcase(s, tx);
	tcase_add_checked_fixture(tf, setup, teardown);
	tcase_add_test(tf, pem_file_with_key_and_ca_loads_both);
	tcase_add_test(tf, pem_file_refusals);
	suite_add_tcase(s, tf);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dsse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
