/*
 * ear.c — the verifier's EAR signing key and published keys: PEM loading
 * and checks (EC P-256 only, ES256), JWK coordinates and the RFC 7638
 * thumbprint used as kid, the JWKS, and signing a claims set with libjwt.
 * The claims themselves are built in ear_claims.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/ear.h"

#define EAR_COORD_LEN	32	/* P-256 field element */

struct ear_pub {
	char	*x, *y;		/* base64url coordinates */
	char	*kid;
};

struct ear_keys {
	char		*pem;		/* private key, PKCS#8 PEM for libjwt */
	size_t		 pem_len;
	struct ear_pub	 pub[EAR_MAX_KEYS];	/* [0]: the signing key */
	size_t		 npub;
	char		*developer;
};

/* base64url without padding (RFC 7515 section 2). */
static char *
b64url(const void *p, size_t n)
{
	char *s = base64_encode(p, n), *c;
	size_t len;

	for (c = s; *c != '\0'; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
	}
	len = strlen(s);
	while (len > 0 && s[len - 1] == '=')
		s[--len] = '\0';
	return s;
}

static int
coord(const EVP_PKEY *pk, const char *param, char **out)
{
	uint8_t buf[EAR_COORD_LEN];
	BIGNUM *bn = NULL;

	if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1 ||
	    BN_bn2binpad(bn, buf, sizeof(buf)) != (int)sizeof(buf)) {
		BN_free(bn);
		return ASSAY_ERR_CRYPTO;
	}
	BN_free(bn);
	*out = b64url(buf, sizeof(buf));
	return ASSAY_OK;
}

/*
 * The RFC 7638 thumbprint of an EC key: SHA-256 over the required members
 * in lexicographic order, no whitespace, base64url.
 */
static char *
thumbprint(const char *x, const char *y)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char *canon;

	canon = xasprintf("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
	    x, y);
	SHA256((const uint8_t *)canon, strlen(canon), h);
	free(canon);
	return b64url(h, sizeof(h));
}

static int
is_p256(const EVP_PKEY *pk)
{
	char group[64];

	return EVP_PKEY_is_a(pk, "EC") &&
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0);
}

/* The public point's coordinates, base64url (caller frees both). */
static int
p256_point(const EVP_PKEY *pk, char **x, char **y)
{
	*x = *y = NULL;
	if (coord(pk, OSSL_PKEY_PARAM_EC_PUB_X, x) == 0 &&
	    coord(pk, OSSL_PKEY_PARAM_EC_PUB_Y, y) == 0)
		return ASSAY_OK;
	free(*x);
	*x = NULL;
	return ASSAY_ERR_CRYPTO;
}

char *
ear_jwk_thumbprint(const EVP_PKEY *pk)
{
	char *x, *y, *t;

	if (!is_p256(pk) || p256_point(pk, &x, &y) != 0)
		return NULL;
	t = thumbprint(x, y);
	free(x);
	free(y);
	return t;
}

/* pk must be an EC P-256 key; fills pub (x, y, kid). */
static int
pub_fill(const char *path, EVP_PKEY *pk, struct ear_pub *pub)
{
	if (!is_p256(pk))
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: not an EC P-256 key "
		    "(ES256 needs prime256v1)", path);
	if (p256_point(pk, &pub->x, &pub->y) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: cannot read the EC "
		    "public point", path);
	pub->kid = thumbprint(pub->x, pub->y);
	return ASSAY_OK;
}

/* A PEM key file: a private key (want_priv), else a public or private one. */
static EVP_PKEY *
pem_load(const char *path, int want_priv)
{
	EVP_PKEY *pk = NULL;
	BIO *b;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		assay_err_set(ASSAY_ERR_CONFIG, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (!want_priv)
		pk = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	if (pk == NULL) {
		(void)BIO_reset(b);
		pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	}
	BIO_free(b);
	if (pk == NULL)
		assay_err_set(ASSAY_ERR_CONFIG, "%s: no PEM %skey in it", path,
		    want_priv ? "private " : "");
	return pk;
}

/* The private key as unencrypted PKCS#8 PEM (what libjwt reads). */
static int
pem_private(EVP_PKEY *pk, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *p;
	long n;

	if (b == NULL || PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL,
	    NULL) != 1 || (n = BIO_get_mem_data(b, &p)) <= 0) {
		BIO_free(b);
		return ASSAY_ERR_CRYPTO;
	}
	*out = xmalloc((size_t)n + 1);
	memcpy(*out, p, (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return ASSAY_OK;
}

int
ear_keys_load(const char *key_path, char *const *prev, size_t nprev,
    const char *verifier_id, struct ear_keys **out)
{
	struct ear_keys *k;
	EVP_PKEY *pk = NULL;
	int r;

	*out = NULL;
	if (nprev >= EAR_MAX_KEYS)
		return assay_err_set(ASSAY_ERR_CONFIG, "results.previous_keys: "
		    "at most %d keys", EAR_MAX_KEYS - 1);
	k = xcalloc(1, sizeof(*k));
	k->developer = xstrdup(verifier_id != NULL ? verifier_id : EAR_DEVELOPER);
	if ((pk = pem_load(key_path, 1)) == NULL) {
		r = ASSAY_ERR_CONFIG;
		goto out;
	}
	if ((r = pub_fill(key_path, pk, &k->pub[k->npub++])) != 0)
		goto out;
	if (pem_private(pk, &k->pem, &k->pem_len) != 0) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: cannot encode the key",
		    key_path);
		goto out;
	}
	for (size_t i = 0; i < nprev; i++) {
		EVP_PKEY_free(pk);
		if ((pk = pem_load(prev[i], 0)) == NULL) {
			r = ASSAY_ERR_CONFIG;
			goto out;
		}
		if ((r = pub_fill(prev[i], pk, &k->pub[k->npub++])) != 0)
			goto out;
	}
	*out = k;
	k = NULL;
 out:
	EVP_PKEY_free(pk);
	ear_keys_free(k);
	return r;
}

void
ear_keys_free(struct ear_keys *k)
{
	if (k == NULL)
		return;
	if (k->pem != NULL)
		freezero_secret(k->pem, k->pem_len);
	for (size_t i = 0; i < EAR_MAX_KEYS; i++) {
		free(k->pub[i].x);
		free(k->pub[i].y);
		free(k->pub[i].kid);
	}
	free(k->developer);
	free(k);
}

const char *
ear_kid(const struct ear_keys *k)
{
	return k->pub[0].kid;
}

const char *
ear_developer(const struct ear_keys *k)
{
	return k->developer;
}

json_t *
ear_jwks(const struct ear_keys *k)
{
	json_t *keys = json_array();

	for (size_t i = 0; i < k->npub; i++)
		json_array_append_new(keys, json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "kty", "EC", "crv", "P-256",
		    "x", k->pub[i].x, "y", k->pub[i].y,
		    "use", "sig", "alg", "ES256", "kid", k->pub[i].kid));
	return json_pack("{s:o}", "keys", keys);
}

char *
ear_sign(const struct ear_keys *k, const struct agent_rec *rec,
    const char *policy_name, int64_t policy_rev, long interval, int64_t now)
{
	json_t *claims;
	jwt_t *jwt = NULL;
	char *json = NULL, *tok = NULL, *ret = NULL;

	claims = ear_claims(k, rec, policy_name, policy_rev, interval, now);
	json = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	if (json == NULL || jwt_new(&jwt) != 0)
		goto out;
	if (jwt_add_grants_json(jwt, json) != 0 ||
	    jwt_add_header(jwt, "kid", ear_kid(k)) != 0 ||
	    jwt_add_header(jwt, "typ", "JWT") != 0 ||
	    jwt_set_alg(jwt, JWT_ALG_ES256, (const unsigned char *)k->pem,
	    (int)k->pem_len) != 0) {
		assay_err_set(ASSAY_ERR_CRYPTO, "EAR: cannot build the JWT");
		goto out;
	}
	if ((tok = jwt_encode_str(jwt)) == NULL) {
		assay_err_set(ASSAY_ERR_CRYPTO, "EAR: signing failed");
		goto out;
	}
	ret = xstrdup(tok);
 out:
	free(tok);		/* libjwt allocates with malloc (default allocators) */
	free(json);
	jwt_free(jwt);
	return ret;
}
