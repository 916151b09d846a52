/*
 * dsse_fixture.h — what the DSSE suites (test_dsse.c, test_policy_env.c)
 * share: fresh keys of a given kind, X.509 certificates made on the spot
 * (a CA, intermediates, leaves, with chosen validity and key usage), a
 * stack of them, and editing one member of an envelope's JSON.
 */
#ifndef ASSAY_TEST_DSSE_FIXTURE_H
#define ASSAY_TEST_DSSE_FIXTURE_H

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/dsse.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"

#define FIXTURE static __attribute__((unused))

/* "P-256", "P-384", "ED25519", "RSA". */
FIXTURE EVP_PKEY *
key_new(const char *kind)
{
	EVP_PKEY *k;

	if (strcmp(kind, "ED25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (strcmp(kind, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", kind);
	ck_assert_ptr_nonnull(k);
	return k;
}

FIXTURE void
cert_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/*
 * A certificate for key named CN=cn, issued by issuer/ikey (NULL: self-
 * signed), valid from now+from to now+to seconds; ca or a leaf with
 * keyUsage ku (NULL: no keyUsage extension).
 */
FIXTURE X509 *
cert_new(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int ca,
    long from, long to, const char *ku)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n;
	EVP_PKEY *sk = ikey != NULL ? ikey : key;

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), to);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
	cert_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ca)
		cert_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	else if (ku != NULL)
		cert_ext(x, x, NID_key_usage, ku);
	cert_ext(x, x, NID_subject_key_identifier, "hash");
	cert_ext(x, issuer != NULL ? issuer : x, NID_authority_key_identifier,
	    "keyid:always");
	ck_assert_int_gt(X509_sign(x, sk, EVP_PKEY_is_a(sk, "ED25519") ? NULL :
	    EVP_sha256()), 0);
	return x;
}

#define DAY	86400L

/* A CA valid for a day around now. */
FIXTURE X509 *
ca_new(const char *cn, EVP_PKEY *key)
{
	return cert_new(cn, key, NULL, NULL, 1, -DAY, DAY, NULL);
}

/* Stack of the certificates given, NULL-ended; references taken. */
FIXTURE STACK_OF(X509) *
chain_of(X509 *first, ...)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	va_list ap;
	X509 *x;

	va_start(ap, first);
	for (x = first; x != NULL; x = va_arg(ap, X509 *)) {
		X509_up_ref(x);
		sk_X509_push(sk, x);
	}
	va_end(ap);
	return sk;
}

FIXTURE void
chain_free(STACK_OF(X509) *sk)
{
	sk_X509_pop_free(sk, X509_free);
}

/* json with member key of the object at path replaced by val (stolen). */
FIXTURE char *
env_set(const char *json, const char *key, json_t *val)
{
	json_t *o = json_loads(json, 0, NULL);
	char *s;

	ck_assert_ptr_nonnull(o);
	json_object_set_new(o, key, val);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* The same for member key of signatures[0]. */
FIXTURE char *
env_sig_set(const char *json, const char *key, json_t *val)
{
	json_t *o = json_loads(json, 0, NULL);
	char *s;

	ck_assert_ptr_nonnull(o);
	json_object_set_new(json_array_get(json_object_get(o, "signatures"), 0),
	    key, val);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* A trust set with the one key or CA. */
FIXTURE struct dsse_trust *
trust_key(EVP_PKEY *k)
{
	struct dsse_trust *t = dsse_trust_new();

	ck_assert_int_eq(dsse_trust_add_key(t, k), ASSAY_OK);
	return t;
}

FIXTURE struct dsse_trust *
trust_ca(X509 *ca)
{
	struct dsse_trust *t = dsse_trust_new();

	ck_assert_int_eq(dsse_trust_add_ca(t, ca), ASSAY_OK);
	return t;
}

#define ck_assert_detail_has(s) \
	ck_assert_msg(strstr(assay_err_detail(), (s)) != NULL, \
	    "detail \"%s\" lacks \"%s\"", assay_err_detail(), (s))

#endif
