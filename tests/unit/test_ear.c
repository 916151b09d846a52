/*
 * test_ear.c — signed attestation results: EARs for trusted, untrusted
 * (with failure ids), unreachable and pending records, signed with a fresh
 * P-256 key and checked here without libjwt: the JWT is split by hand,
 * its ES256 signature (raw r||s) turned into DER and verified with OpenSSL
 * against a key rebuilt from the JWKS, whose kid is the RFC 7638
 * thumbprint recomputed here. Every claim, iat/exp rule and key-loading
 * error is pinned.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/ear.h"

#define NOW	1800000000

static char dir[64];
static char key_path[128], prev_path[128], rsa_path[128], p384_path[128];
static EVP_PKEY *key, *prev_key;

static void
write_key(const char *path, EVP_PKEY *pk, int priv)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(priv ? PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL,
	    NULL) : PEM_write_PUBKEY(f, pk), 1);
	fclose(f);
}

static void
setup(void)
{
	EVP_PKEY *rsa, *p384;

	snprintf(dir, sizeof(dir), "/tmp/test_ear.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	snprintf(prev_path, sizeof(prev_path), "%s/prev.pem", dir);
	snprintf(rsa_path, sizeof(rsa_path), "%s/rsa.pem", dir);
	snprintf(p384_path, sizeof(p384_path), "%s/p384.pem", dir);
	key = EVP_EC_gen("P-256");
	prev_key = EVP_EC_gen("P-256");
	rsa = EVP_RSA_gen(2048);
	p384 = EVP_EC_gen("P-384");
	write_key(key_path, key, 1);
	write_key(prev_path, prev_key, 0);
	write_key(rsa_path, rsa, 1);
	write_key(p384_path, p384, 1);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(p384);
}

static void
teardown(void)
{
	unlink(key_path);
	unlink(prev_path);
	unlink(rsa_path);
	unlink(p384_path);
	rmdir(dir);
	EVP_PKEY_free(key);
	EVP_PKEY_free(prev_key);
}

static struct ear_keys *
keys(void)
{
	struct ear_keys *k;
	char *prev[] = { prev_path };

	ck_assert_int_eq(ear_keys_load(key_path, prev, 1, NULL, &k), ASSAY_OK);
	return k;
}

/* base64url (no padding) -> bytes, via the standard alphabet decoder. */
static uint8_t *
b64url_dec(const char *s, size_t n, size_t *len)
{
	char *t = xmalloc(n + 4);
	uint8_t *out;
	size_t i;

	for (i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (i % 4 != 0)
		t[i++] = '=';
	t[i] = '\0';
	ck_assert_int_eq(base64_decode_alloc(t, 1 << 20, &out, len), 0);
	free(t);
	return out;
}

static json_t *
b64url_json(const char *s, size_t n)
{
	size_t len;
	uint8_t *p = b64url_dec(s, n, &len);
	json_t *j = json_loadb((const char *)p, len, 0, NULL);

	free(p);
	return j;	/* NULL: not JSON (a tampered part) */
}

/* Verify tok's ES256 signature with pub; header and claims out. */
static int
jwt_check(const char *tok, EVP_PKEY *pub, json_t **hdr, json_t **claims)
{
	const char *d1 = strchr(tok, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es = ECDSA_SIG_new();
	uint8_t *sig, *der = NULL;
	size_t siglen;
	int derlen, ok;

	ck_assert_ptr_nonnull(d2);
	ck_assert_ptr_null(strchr(d2 + 1, '.'));
	*hdr = b64url_json(tok, (size_t)(d1 - tok));
	*claims = b64url_json(d1 + 1, (size_t)(d2 - d1 - 1));
	sig = b64url_dec(d2 + 1, strlen(d2 + 1), &siglen);
	ck_assert_uint_eq(siglen, 64);
	ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
	derlen = i2d_ECDSA_SIG(es, &der);
	ck_assert_int_gt(derlen, 0);
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(md, der, (size_t)derlen, (const uint8_t *)tok,
	    (size_t)(d2 - tok)) == 1;
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	free(sig);
	return ok && *hdr != NULL && *claims != NULL;
}

/* A JWK (EC P-256) as an OpenSSL public key: 04 || x || y. */
static EVP_PKEY *
jwk_key(json_t *jwk)
{
	const char *x = json_string_value(json_object_get(jwk, "x"));
	const char *y = json_string_value(json_object_get(jwk, "y"));
	uint8_t pt[65], *bx, *by;
	size_t lx, ly;
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;

	bx = b64url_dec(x, strlen(x), &lx);
	by = b64url_dec(y, strlen(y), &ly);
	ck_assert_uint_eq(lx, 32);
	ck_assert_uint_eq(ly, 32);
	pt[0] = 4;
	memcpy(pt + 1, bx, 32);
	memcpy(pt + 33, by, 32);
	OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
	OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params = OSSL_PARAM_BLD_to_param(b);
	ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	free(bx);
	free(by);
	return pk;
}

/* RFC 7638 thumbprint recomputed from a JWK's members. */
static char *
thumb(json_t *jwk)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char *canon = xasprintf("{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
	    json_string_value(json_object_get(jwk, "crv")),
	    json_string_value(json_object_get(jwk, "kty")),
	    json_string_value(json_object_get(jwk, "x")),
	    json_string_value(json_object_get(jwk, "y")));
	char *s, *c;

	SHA256((const uint8_t *)canon, strlen(canon), h);
	free(canon);
	s = base64_encode(h, sizeof(h));
	for (c = s; *c != '\0'; c++)
		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	if ((c = strchr(s, '=')) != NULL)
		*c = '\0';
	return s;
}

static void
rec_init(struct agent_rec *r, int state, const char *reason)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "h1");
	r->state = state;
	r->reason = (char *)reason;
	r->last_attested = NOW - 5;
	r->last_event_at = NOW - 3;
	r->clock.valid = 1;
	r->clock.reset_count = 7;
	r->ek_cert = (uint8_t *)"x";
	r->ek_cert_len = 1;
}

/* Sign rec, verify with the JWKS's first key; the submod of "h1" out. */
static json_t *
sign_verify(struct ear_keys *k, const struct agent_rec *rec, json_t **claims)
{
	json_t *jwks = ear_jwks(k), *jwk, *hdr;
	EVP_PKEY *pub;
	char *tok, *kid;

	jwk = json_array_get(json_object_get(jwks, "keys"), 0);
	pub = jwk_key(jwk);
	tok = ear_sign(k, rec, "prod", 0x1234abcd, 10, NOW);
	ck_assert_ptr_nonnull(tok);
	ck_assert(jwt_check(tok, pub, &hdr, claims));
	kid = thumb(jwk);
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "kid")), kid);
	ck_assert_str_eq(json_string_value(json_object_get(jwk, "kid")), kid);
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "alg")), "ES256");
	ck_assert_str_eq(json_string_value(json_object_get(hdr, "typ")), "JWT");
	free(kid);
	free(tok);
	json_decref(hdr);
	json_decref(jwks);
	EVP_PKEY_free(pub);
	ck_assert_str_eq(json_string_value(json_object_get(*claims, "eat_profile")),
	    "tag:github.com,2023:veraison/ear");
	return json_object_get(json_object_get(*claims, "submods"), "h1");
}

static json_int_t
tv(json_t *sub, const char *claim)
{
	json_t *v = json_object_get(json_object_get(sub,
	    "ear.trustworthiness-vector"), claim);

	ck_assert(json_is_integer(v));
	return json_integer_value(v);
}

static json_int_t
ival(json_t *o, const char *k)
{
	ck_assert(json_is_integer(json_object_get(o, k)));
	return json_integer_value(json_object_get(o, k));
}

static const char *
sval(json_t *o, const char *k)
{
	ck_assert(json_is_string(json_object_get(o, k)));
	return json_string_value(json_object_get(o, k));
}

START_TEST(trusted_is_affirming_with_every_claim)
{
	struct ear_keys *k = keys();
	struct agent_rec rec;
	json_t *claims, *sub, *a, *vid;

	rec_init(&rec, AGENT_TRUSTED, NULL);
	sub = sign_verify(k, &rec, &claims);
	ck_assert_ptr_nonnull(sub);
	ck_assert_int_eq(ival(claims, "iat"), NOW - 5);	/* last_attested */
	ck_assert_int_eq(ival(claims, "exp"), NOW - 5 + 2 * 10);
	vid = json_object_get(claims, "ear.verifier-id");
	ck_assert_str_eq(sval(vid, "developer"), "https://github.com/assay/assay");
	ck_assert_str_eq(sval(vid, "build"), "assay-verifier dev");
	ck_assert_str_eq(sval(sub, "ear.status"), "affirming");
	ck_assert_str_eq(sval(sub, "ear.appraisal-policy-id"),
	    "policy:prod@000000001234abcd");
	json_decref(claims);
	/* Once judged with a stored version, the result names it. */
	rec.policy_version = 3;
	sub = sign_verify(k, &rec, &claims);
	ck_assert_str_eq(sval(sub, "ear.appraisal-policy-id"), "policy:prod@v3");
	ck_assert_int_eq(tv(sub, "instance-identity"), 2);
	ck_assert_int_eq(tv(sub, "configuration"), 2);
	ck_assert_int_eq(tv(sub, "executables"), 2);
	ck_assert_int_eq(tv(sub, "hardware"), 2);
	ck_assert_int_eq(tv(sub, "file-system"), 0);
	ck_assert_int_eq(tv(sub, "runtime-opaque"), 0);
	ck_assert_int_eq(tv(sub, "storage-opaque"), 0);
	ck_assert_int_eq(tv(sub, "sourced-data"), 0);
	a = json_object_get(sub, "assay");
	ck_assert_str_eq(sval(a, "state"), "trusted");
	ck_assert_str_eq(sval(a, "mode"), "pull");
	ck_assert_int_eq(ival(a, "tpm_reset_count"), 7);
	ck_assert_int_eq(ival(a, "last_attested"), NOW - 5);
	ck_assert_uint_eq(json_array_size(json_object_get(a, "failure_ids")), 0);
	json_decref(claims);
	ear_keys_free(k);
}
END_TEST

START_TEST(untrusted_is_contraindicated_with_the_failure_id)
{
	static const struct { const char *fid, *claim; int value; } cases[] = {
		{ "ima.not_allowed", "executables", 96 },
		{ "ima.replay", "executables", 99 },
		{ "pcr.value", "executables", 96 },
		{ "eventlog.cmdline", "configuration", 96 },
		{ "eventlog.dbx", "configuration", 32 },
		{ "quote.signature", "instance-identity", 99 },
		{ "quote.nonce", "instance-identity", 99 },
		{ "ak.mismatch", "instance-identity", 97 },
		{ "quote.format", "instance-identity", 1 },
	};
	struct ear_keys *k = keys();
	struct agent_rec rec;
	json_t *claims, *sub, *a;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rec_init(&rec, AGENT_UNTRUSTED, cases[i].fid);
		rec.push = 1;
		sub = sign_verify(k, &rec, &claims);
		ck_assert_str_eq(sval(sub, "ear.status"), "contraindicated");
		ck_assert_int_eq(ival(claims, "iat"), NOW - 3);	/* last_event_at */
		ck_assert_int_eq(ival(claims, "exp"), NOW - 3 + 20);
		ck_assert_int_eq(tv(sub, cases[i].claim), cases[i].value);
		if (strcmp(cases[i].claim, "instance-identity") != 0) {
			ck_assert_int_eq(tv(sub, "instance-identity"), 2);
			ck_assert_int_eq(tv(sub, strcmp(cases[i].claim,
			    "executables") == 0 ? "configuration" : "executables"), 0);
		}
		a = json_object_get(sub, "assay");
		ck_assert_str_eq(sval(a, "state"), "untrusted");
		ck_assert_str_eq(sval(a, "mode"), "push");
		ck_assert_str_eq(json_string_value(json_array_get(
		    json_object_get(a, "failure_ids"), 0)), cases[i].fid);
		json_decref(claims);
	}
	ear_keys_free(k);
}
END_TEST

START_TEST(unreachable_and_pending_are_none_without_claims)
{
	static const char *const names[] = { "instance-identity", "configuration",
	    "executables", "file-system", "hardware", "runtime-opaque",
	    "storage-opaque", "sourced-data" };
	struct ear_keys *k = keys();
	struct agent_rec rec;
	json_t *claims, *sub;

	rec_init(&rec, AGENT_UNREACHABLE, "comm.unreachable");
	sub = sign_verify(k, &rec, &claims);
	ck_assert_str_eq(sval(sub, "ear.status"), "none");
	ck_assert_int_eq(ival(claims, "iat"), NOW - 3);
	for (size_t i = 0; i < 8; i++)
		ck_assert_int_eq(tv(sub, names[i]), 0);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(
	    json_object_get(sub, "assay"), "failure_ids"), 0)), "comm.unreachable");
	json_decref(claims);

	rec_init(&rec, AGENT_PENDING, NULL);	/* no event yet: iat is now */
	rec.last_event_at = 0;
	rec.last_attested = 0;
	rec.clock.valid = 0;
	sub = sign_verify(k, &rec, &claims);
	ck_assert_str_eq(sval(sub, "ear.status"), "none");
	ck_assert_int_eq(ival(claims, "iat"), NOW);
	ck_assert_int_eq(ival(claims, "exp"), NOW + 20);
	ck_assert(json_is_null(json_object_get(json_object_get(sub, "assay"),
	    "tpm_reset_count")));
	json_decref(claims);
	ear_keys_free(k);
}
END_TEST

START_TEST(tampered_or_foreign_key_fails)
{
	struct ear_keys *k = keys();
	struct agent_rec rec;
	json_t *hdr, *claims, *jwks, *jwk;
	char *tok, *d;
	EVP_PKEY *pub;

	rec_init(&rec, AGENT_TRUSTED, NULL);
	jwks = ear_jwks(k);
	jwk = json_array_get(json_object_get(jwks, "keys"), 0);
	pub = jwk_key(jwk);
	tok = ear_sign(k, &rec, "prod", 1, 10, NOW);
	ck_assert(jwt_check(tok, pub, &hdr, &claims));
	json_decref(hdr);
	json_decref(claims);
	ck_assert(!jwt_check(tok, prev_key, &hdr, &claims));	/* other key */
	json_decref(hdr);
	json_decref(claims);
	d = strchr(tok, '.') + 5;	/* a payload character */
	*d = *d == 'A' ? 'B' : 'A';
	ck_assert(!jwt_check(tok, pub, &hdr, &claims));
	json_decref(hdr);
	json_decref(claims);
	free(tok);
	EVP_PKEY_free(pub);
	json_decref(jwks);
	ear_keys_free(k);
}
END_TEST

START_TEST(jwks_publishes_current_and_previous_keys)
{
	struct ear_keys *k = keys();
	json_t *jwks = ear_jwks(k), *arr = json_object_get(jwks, "keys"), *jwk;
	EVP_PKEY *pub;
	char *kid;

	ck_assert_uint_eq(json_array_size(arr), 2);
	for (size_t i = 0; i < 2; i++) {
		jwk = json_array_get(arr, i);
		ck_assert_str_eq(sval(jwk, "kty"), "EC");
		ck_assert_str_eq(sval(jwk, "crv"), "P-256");
		ck_assert_str_eq(sval(jwk, "use"), "sig");
		ck_assert_str_eq(sval(jwk, "alg"), "ES256");
		kid = thumb(jwk);
		ck_assert_str_eq(sval(jwk, "kid"), kid);
		free(kid);
		pub = jwk_key(jwk);
		ck_assert_int_eq(EVP_PKEY_eq(pub, i == 0 ? key : prev_key), 1);
		EVP_PKEY_free(pub);
	}
	ck_assert_str_eq(sval(json_array_get(arr, 0), "kid"), ear_kid(k));
	ck_assert_str_ne(sval(json_array_get(arr, 1), "kid"), ear_kid(k));
	json_decref(jwks);
	ear_keys_free(k);
}
END_TEST

START_TEST(key_load_errors_are_config_errors)
{
	struct ear_keys *k;
	char *bad[] = { rsa_path };
	char missing[160];

	ck_assert_int_eq(ear_keys_load(rsa_path, NULL, 0, NULL, &k), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not an EC P-256 key"));
	ck_assert_int_eq(ear_keys_load(p384_path, NULL, 0, NULL, &k), ASSAY_ERR_CONFIG);
	snprintf(missing, sizeof(missing), "%s/none.pem", dir);
	ck_assert_int_eq(ear_keys_load(missing, NULL, 0, NULL, &k), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "cannot open"));
	/* a public key is not a signing key */
	ck_assert_int_eq(ear_keys_load(prev_path, NULL, 0, NULL, &k), ASSAY_ERR_CONFIG);
	ck_assert_int_eq(ear_keys_load(key_path, bad, 1, NULL, &k), ASSAY_ERR_CONFIG);
	ck_assert_ptr_null(k);
	ck_assert_int_eq(ear_keys_load(key_path, NULL, 0, "urn:example", &k), ASSAY_OK);
	ck_assert_str_eq(ear_developer(k), "urn:example");
	ear_keys_free(k);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ear");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, trusted_is_affirming_with_every_claim);
	tcase_add_test(tc, untrusted_is_contraindicated_with_the_failure_id);
	tcase_add_test(tc, unreachable_and_pending_are_none_without_claims);
	tcase_add_test(tc, tampered_or_foreign_key_fails);
	tcase_add_test(tc, jwks_publishes_current_and_previous_keys);
	tcase_add_test(tc, key_load_errors_are_config_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
