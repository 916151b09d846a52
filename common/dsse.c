/*
 * dsse.c — DSSE envelopes (see dsse.h): PAE, the strict parser (jansson,
 * bounded members, base64 through common/encode.c's OpenSSL-backed
 * decoder after mapping the URL-safe alphabet and missing padding), the
 * builder/signer, the key-type gate and the one signature check. The
 * trusted-signer set is in dsse_trust.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "common/dsse.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"

int
dsse_pae(const char *type, const uint8_t *body, size_t len, uint8_t **out,
    size_t *outlen)
{
	char head[64];
	size_t tlen = strlen(type), hlen1, hlen2, n;
	uint8_t *p;

	*out = NULL;
	*outlen = 0;
	hlen1 = (size_t)snprintf(head, sizeof(head), "DSSEv1 %zu ", tlen);
	if (tlen > SIZE_MAX / 2 || len > SIZE_MAX / 2)
		return assay_err_set(ASSAY_ERR_RANGE, "PAE input too large");
	n = hlen1 + tlen + 1 + 21 + 1 + len;
	p = xmalloc(n);
	memcpy(p, head, hlen1);
	memcpy(p + hlen1, type, tlen);
	hlen2 = (size_t)snprintf(head, sizeof(head), " %zu ", len);
	memcpy(p + hlen1 + tlen, head, hlen2);
	if (len > 0)
		memcpy(p + hlen1 + tlen + hlen2, body, len);
	*out = p;
	*outlen = hlen1 + tlen + hlen2 + len;
	return ASSAY_OK;
}

/*
 * Base64 as DSSE allows it on input: the standard or the URL-safe
 * alphabet (not both), padded or not. At most max bytes decoded.
 */
static int
b64_decode(const char *what, const char *s, size_t max, uint8_t **out,
    size_t *outlen)
{
	size_t len = strlen(s), i;
	int std = strpbrk(s, "+/") != NULL, url = strpbrk(s, "-_") != NULL;
	char *t;
	int r;

	*out = NULL;
	*outlen = 0;
	if (std && url)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: base64 mixes the "
		    "standard and URL-safe alphabets", what);
	if (len % 4 == 1 || len > (size_t)INT32_MAX - 3)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: not base64", what);
	if (!url && len % 4 == 0) {	/* as written: no copy of a big payload */
		r = base64_decode_alloc(s, max, out, outlen);
		goto out;
	}
	t = xmalloc(len + 3);
	memcpy(t, s, len);
	for (i = 0; i < len; i++) {
		if (t[i] == '-')
			t[i] = '+';
		else if (t[i] == '_')
			t[i] = '/';
	}
	while (len % 4 != 0)
		t[len++] = '=';
	t[len] = '\0';
	r = base64_decode_alloc(t, max, out, outlen);
	free(t);
 out:
	if (r == ASSAY_ERR_RANGE)
		return assay_err_set(r, "%s: larger than %zu bytes", what, max);
	if (r != 0)
		return assay_err_set(r, "%s: not base64", what);
	return ASSAY_OK;
}

/* A string member of o, 1..max bytes; NULL with err set when not. */
static const char *
member_str(json_t *o, const char *key, size_t max, const char *what, int *r)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*r = assay_err_set(ASSAY_ERR_FORMAT, "%s: no \"%s\"", what, key);
		return NULL;
	}
	if (!json_is_string(v)) {
		*r = assay_err_set(ASSAY_ERR_FORMAT, "%s: \"%s\" is not a string",
		    what, key);
		return NULL;
	}
	if (json_string_length(v) > max) {
		*r = assay_err_set(ASSAY_ERR_RANGE, "%s: \"%s\" longer than %zu "
		    "bytes", what, key, max);
		return NULL;
	}
	return json_string_value(v);
}

static int
x5c_parse(json_t *arr, const char *what, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = NULL;
	const unsigned char *p;
	uint8_t *der = NULL;
	size_t i, n;
	json_t *v;
	X509 *x;
	int r = ASSAY_OK;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > DSSE_X5C_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: \"x5c\" is not an "
		    "array of 1 to %d certificates", what, DSSE_X5C_MAX);
	sk = sk_X509_new_null();
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			r = assay_err_set(ASSAY_ERR_FORMAT, "%s: x5c[%zu] is not "
			    "a string", what, i);
			goto out;
		}
		if ((r = b64_decode("x5c", json_string_value(v), DSSE_CERT_MAX,
		    &der, &n)) != 0)
			goto out;
		p = der;
		if ((x = d2i_X509(NULL, &p, (long)n)) == NULL ||
		    p != der + n) {
			X509_free(x);
			r = assay_err_set(ASSAY_ERR_FORMAT, "%s: x5c[%zu] is not "
			    "a DER certificate", what, i);
			goto out;
		}
		if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			r = assay_err_set(ASSAY_ERR_CRYPTO, "sk_X509_push");
			goto out;
		}
		free(der);
		der = NULL;
	}
	*out = sk;
	sk = NULL;
 out:
	ERR_clear_error();
	free(der);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

static int
sig_parse(json_t *o, size_t i, struct dsse_sig *s)
{
	char what[48];
	const char *v;
	json_t *k;
	int r = ASSAY_OK;

	snprintf(what, sizeof(what), "signatures[%zu]", i);
	if (!json_is_object(o))
		return assay_err_set(ASSAY_ERR_FORMAT, "%s is not an object",
		    what);
	if ((v = member_str(o, "sig", 4 * DSSE_SIG_MAX, what, &r)) == NULL)
		return r;
	if ((r = b64_decode(what, v, DSSE_SIG_MAX, &s->sig, &s->sig_len)) != 0)
		return r;
	if (s->sig_len == 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: empty \"sig\"", what);
	if ((k = json_object_get(o, "keyid")) != NULL) {
		if ((v = member_str(o, "keyid", DSSE_KEYID_MAX, what, &r)) == NULL)
			return r;
		s->keyid = text_sanitize(xstrdup(v));
	}
	if ((k = json_object_get(o, "x5c")) != NULL &&
	    (r = x5c_parse(k, what, &s->x5c)) != 0)
		return r;
	return ASSAY_OK;
}

/* The members of root into e (zeroed by the caller). */
static int
env_fill(json_t *root, struct dsse_env *e)
{
	const char *what = "DSSE envelope", *v;
	json_t *sigs, *o;
	size_t i;
	int r = ASSAY_OK;

	if ((v = member_str(root, "payloadType", DSSE_TYPE_MAX, what, &r)) == NULL)
		return r;
	if (*v == '\0')
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: empty payloadType",
		    what);
	e->type = xstrdup(v);
	if ((v = member_str(root, "payload", SIZE_MAX, what, &r)) == NULL ||
	    (r = b64_decode("payload", v, DSSE_ENVELOPE_MAX, &e->payload,
	    &e->payload_len)) != 0)
		return r;
	e->payload = xreallocarray(e->payload, e->payload_len + 1, 1);
	e->payload[e->payload_len] = '\0';
	sigs = json_object_get(root, "signatures");
	if (!json_is_array(sigs))
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: \"signatures\" is "
		    "missing or not an array", what);
	if (json_array_size(sigs) == 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s: no signatures", what);
	if (json_array_size(sigs) > DSSE_SIGS_MAX)
		return assay_err_set(ASSAY_ERR_RANGE, "%s: more than %d "
		    "signatures", what, DSSE_SIGS_MAX);
	json_array_foreach(sigs, i, o) {
		e->nsigs = i + 1;
		if ((r = sig_parse(o, i, &e->sigs[i])) != 0)
			return r;
	}
	return ASSAY_OK;
}

int
dsse_env_parse(const uint8_t *json, size_t len, struct dsse_env *out)
{
	json_error_t je;
	json_t *root;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > DSSE_ENVELOPE_MAX)
		return assay_err_set(ASSAY_ERR_RANGE, "DSSE envelope larger "
		    "than %u bytes", DSSE_ENVELOPE_MAX);
	root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "not a DSSE envelope: "
		    "JSON line %d: %s", je.line, je.text);
	if (!json_is_object(root))
		r = assay_err_set(ASSAY_ERR_FORMAT, "not a DSSE envelope: not "
		    "a JSON object");
	else
		r = env_fill(root, out);
	json_decref(root);
	if (r != 0)
		dsse_env_free(out);
	return r;
}

void
dsse_env_free(struct dsse_env *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nsigs; i++) {
		free(e->sigs[i].keyid);
		free(e->sigs[i].sig);
		sk_X509_pop_free(e->sigs[i].x5c, X509_free);
	}
	free(e->type);
	free(e->payload);
	memset(e, 0, sizeof(*e));
}

int
dsse_key_check(EVP_PKEY *key)
{
	char group[64];
	size_t glen;

	if (EVP_PKEY_is_a(key, "ED25519"))
		return ASSAY_OK;
	if (!EVP_PKEY_is_a(key, "EC"))
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "%s key: only ECDSA "
		    "P-256 and Ed25519 keys sign DSSE envelopes",
		    EVP_PKEY_get0_type_name(key) != NULL ?
		    EVP_PKEY_get0_type_name(key) : "unknown");
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1) {
		ERR_clear_error();
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "EC key without a "
		    "named curve: only P-256 is supported");
	}
	if (strcmp(group, "prime256v1") != 0)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "EC key on curve %s: "
		    "only P-256 (and Ed25519) is supported", group);
	return ASSAY_OK;
}

int
dsse_keyid(EVP_PKEY *key, char **out)
{
	unsigned char *der = NULL, md[32];
	char *hex;
	int n;

	*out = NULL;
	if ((n = i2d_PUBKEY(key, &der)) <= 0) {
		ERR_clear_error();
		return assay_err_set(ASSAY_ERR_CRYPTO, "i2d_PUBKEY failed");
	}
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	hex = hex_encode(md, sizeof(md));
	*out = xasprintf("sha256:%s", hex);
	free(hex);
	return ASSAY_OK;
}

/* The digest to sign with: SHA-256 for ECDSA, none for Ed25519. */
static const EVP_MD *
key_md(EVP_PKEY *key)
{
	return EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
}

static int
sign_msg(EVP_PKEY *key, const uint8_t *m, size_t n, uint8_t **sig,
    size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 0;
	int r = ASSAY_OK;

	*sig = NULL;
	if (ctx == NULL ||
	    EVP_DigestSignInit(ctx, NULL, key_md(key), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, m, n) != 1) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "cannot sign with this key");
		goto out;
	}
	*sig = xmalloc(len);
	if (EVP_DigestSign(ctx, *sig, &len, m, n) != 1) {
		free(*sig);
		*sig = NULL;
		r = assay_err_set(ASSAY_ERR_CRYPTO, "signing failed");
		goto out;
	}
	*siglen = len;
 out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return r;
}

int
dsse_sig_verify(const uint8_t *msg, size_t len, const uint8_t *sig,
    size_t sig_len, EVP_PKEY *key)
{
	EVP_MD_CTX *ctx;
	int r, ok;

	if ((r = dsse_key_check(key)) != 0)
		return r;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return assay_err_set(ASSAY_ERR_CRYPTO, "EVP_MD_CTX_new");
	ok = EVP_DigestVerifyInit(ctx, NULL, key_md(key), NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return ok ? ASSAY_OK : ASSAY_FAIL;
}

/* The x5c array of certs (base64 DER); NULL on an encoding failure. */
static json_t *
x5c_json(STACK_OF(X509) *certs)
{
	json_t *arr = json_array();
	unsigned char *der;
	char *b64;
	int i, n;

	for (i = 0; i < sk_X509_num(certs); i++) {
		der = NULL;
		if ((n = i2d_X509(sk_X509_value(certs, i), &der)) <= 0) {
			json_decref(arr);
			return NULL;
		}
		b64 = base64_encode(der, (size_t)n);
		OPENSSL_free(der);
		json_array_append_new(arr, json_string(b64));
		free(b64);
	}
	return arr;
}

/* The signature object for key over pae. */
static int
sig_json(EVP_PKEY *key, STACK_OF(X509) *certs, const uint8_t *pae,
    size_t pae_len, json_t **out)
{
	uint8_t *sig = NULL;
	char *keyid = NULL, *b64 = NULL;
	size_t slen = 0;
	json_t *o = NULL, *x5c;
	int r;

	if ((r = dsse_keyid(key, &keyid)) != 0 ||
	    (r = sign_msg(key, pae, pae_len, &sig, &slen)) != 0)
		goto out;
	b64 = base64_encode(sig, slen);
	o = json_pack("{s:s, s:s}", "keyid", keyid, "sig", b64);
	if (certs != NULL && sk_X509_num(certs) > 0) {
		if ((x5c = x5c_json(certs)) == NULL) {
			r = assay_err_set(ASSAY_ERR_CRYPTO, "cannot encode the "
			    "certificates");
			goto out;
		}
		json_object_set_new(o, "x5c", x5c);
	}
	*out = o;
	o = NULL;
 out:
	ERR_clear_error();
	json_decref(o);
	free(sig);
	free(keyid);
	free(b64);
	return r;
}

int
dsse_sign(const char *type, const uint8_t *body, size_t len, EVP_PKEY *key,
    STACK_OF(X509) *certs, char **out_json)
{
	uint8_t *pae = NULL;
	size_t pae_len;
	json_t *root = NULL, *sig = NULL;
	char *b64 = NULL;
	int r;

	*out_json = NULL;
	if ((r = dsse_key_check(key)) != 0)
		return r;
	if (certs != NULL && sk_X509_num(certs) > 0 &&
	    X509_check_private_key(sk_X509_value(certs, 0), key) != 1) {
		ERR_clear_error();
		return assay_err_set(ASSAY_ERR_INVAL, "the certificate is not "
		    "for the signing key");
	}
	if (len > DSSE_ENVELOPE_MAX / 4 * 3)
		return assay_err_set(ASSAY_ERR_RANGE, "payload too large for a "
		    "%u-byte envelope", DSSE_ENVELOPE_MAX);
	if ((r = dsse_pae(type, body, len, &pae, &pae_len)) != 0 ||
	    (r = sig_json(key, certs, pae, pae_len, &sig)) != 0)
		goto out;
	b64 = base64_encode(body, len);
	root = json_pack("{s:s, s:s, s:[o]}", "payload", b64,
	    "payloadType", type, "signatures", sig);
	sig = NULL;
	if (root == NULL || (*out_json = json_dumps(root, JSON_COMPACT)) == NULL)
		r = assay_err_set(ASSAY_ERR_INVAL, "cannot encode the envelope");
 out:
	json_decref(root);
	json_decref(sig);
	free(pae);
	free(b64);
	return r;
}
