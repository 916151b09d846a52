/*
 * tpm_public.c — parse TPM2B_PUBLIC / TPMT_PUBLIC (TCG Part 2 §12.2) for
 * RSA and ECC keys into an OpenSSL EVP_PKEY, compute the object Name
 * (nameAlg || H_nameAlg(TPMT_PUBLIC)), and judge attestation-key
 * attributes. Pure: bytes in, struct out; no I/O, no globals. Every input
 * byte is read through the cursor in common/buf.h.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"

#define TPM2_ALG_ECDAA		0x001au
#define RSA_DEFAULT_EXPONENT	65537u

static const struct {
	uint16_t	 curve;
	const char	*group;
	size_t		 coord;
} curves[] = {
	{ TPM2_ECC_NIST_P256, "prime256v1", 32 },
	{ TPM2_ECC_NIST_P384, "secp384r1", 48 },
	{ TPM2_ECC_NIST_P521, "secp521r1", 66 },
};

const char *
tpm2_curve_group(uint16_t curve, size_t *coord_len)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (curves[i].curve == curve) {
			if (coord_len != NULL)
				*coord_len = curves[i].coord;
			return curves[i].group;
		}
	}
	return NULL;
}

/* TPMT_SYM_DEF_OBJECT: algorithm, then keyBits and mode unless NULL. */
static int
parse_symmetric(struct cur *c, struct tpm2_public *pub)
{
	uint16_t mode;

	if (cur_u16be(c, &pub->sym_alg) != 0)
		return ASSAY_ERR_TRUNCATED;
	if (pub->sym_alg == TPM2_ALG_NULL)
		return ASSAY_OK;
	if (cur_u16be(c, &pub->sym_bits) != 0 || cur_u16be(c, &mode) != 0)
		return ASSAY_ERR_TRUNCATED;
	return ASSAY_OK;
}

/*
 * TPMT_RSA_SCHEME / TPMT_ECC_SCHEME: scheme, then its details: nothing for
 * NULL and RSAES, hashAlg and count for ECDAA, hashAlg for the others.
 */
static int
parse_scheme(struct cur *c, struct tpm2_public *pub)
{
	uint16_t count;

	if (cur_u16be(c, &pub->scheme) != 0)
		return ASSAY_ERR_TRUNCATED;
	if (pub->scheme == TPM2_ALG_NULL || pub->scheme == TPM2_ALG_RSAES)
		return ASSAY_OK;
	if (cur_u16be(c, &pub->scheme_hash) != 0)
		return ASSAY_ERR_TRUNCATED;
	if (pub->scheme == TPM2_ALG_ECDAA && cur_u16be(c, &count) != 0)
		return ASSAY_ERR_TRUNCATED;
	return ASSAY_OK;
}

static int
rsa_pkey(const struct cur *n, uint32_t exponent, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	int r = ASSAY_ERR_CRYPTO;

	*out = NULL;
	if ((bn = BN_bin2bn(n->p, (int)n->len, NULL)) == NULL ||
	    (be = BN_new()) == NULL || !BN_set_word(be, exponent))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	r = ASSAY_OK;
 out:
	if (r != ASSAY_OK)
		r = assay_err_set(r, "RSA public key rejected by OpenSSL");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

/* Coordinates are left-padded to the curve size; off-curve points fail. */
static int
ecc_pkey(uint16_t curve, const struct cur *x, const struct cur *y, EVP_PKEY **out)
{
	uint8_t point[1 + 2 * TPM_PUBLIC_ECC_MAX];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	const char *group;
	size_t clen;
	int r = ASSAY_ERR_CRYPTO;

	*out = NULL;
	if ((group = tpm2_curve_group(curve, &clen)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "TPM ECC curve 0x%04x not supported", curve);
	if (x->len > clen || y->len > clen)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "ECC coordinate longer than the curve size %zu", clen);
	memset(point, 0, sizeof(point));
	point[0] = 0x04;	/* uncompressed */
	memcpy(point + 1 + clen - x->len, x->p, x->len);
	memcpy(point + 1 + 2 * clen - y->len, y->p, y->len);

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    point, 1 + 2 * clen) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	/* OpenSSL refuses to import a point that is not on the curve. */
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "ECC point is not on curve %s", group);
		goto out;
	}
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_public_check(chk) != 1) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "ECC point is not on curve %s", group);
		goto out;
	}
	r = ASSAY_OK;
 out:
	if (r == ASSAY_ERR_CRYPTO)
		assay_err_set(r, "ECC public key rejected by OpenSSL");
	if (r != ASSAY_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

static int
parse_rsa(struct cur *c, struct tpm2_public *pub)
{
	struct cur n;
	int r;

	if ((r = parse_symmetric(c, pub)) != 0 || (r = parse_scheme(c, pub)) != 0)
		return assay_err_set(r, "RSA parameters truncated");
	if (cur_u16be(c, &pub->key_bits) != 0 || cur_u32be(c, &pub->exponent) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED, "RSA parameters truncated");
	if (pub->exponent == 0)
		pub->exponent = RSA_DEFAULT_EXPONENT;
	if ((r = cur_tpm2b(c, TPM_PUBLIC_RSA_MAX, &n)) != 0)
		return assay_err_set(r, "RSA modulus %s", r == ASSAY_ERR_RANGE ?
		    "larger than 512 bytes" : "truncated");
	if (pub->key_bits < 1024 || pub->key_bits % 8 != 0 ||
	    n.len != pub->key_bits / 8u)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "RSA modulus of %zu bytes for keyBits %u", n.len, pub->key_bits);
	if (n.p[0] == 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "RSA modulus has a leading zero");
	if ((pub->exponent & 1) == 0 || pub->exponent < 3)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "RSA exponent %u invalid", pub->exponent);
	return rsa_pkey(&n, pub->exponent, &pub->pkey);
}

static int
parse_ecc(struct cur *c, struct tpm2_public *pub)
{
	struct cur x, y;
	uint16_t kdf, kdf_hash;
	int r;

	if ((r = parse_symmetric(c, pub)) != 0 || (r = parse_scheme(c, pub)) != 0)
		return assay_err_set(r, "ECC parameters truncated");
	if (cur_u16be(c, &pub->curve) != 0 || cur_u16be(c, &kdf) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED, "ECC parameters truncated");
	if (kdf != TPM2_ALG_NULL && cur_u16be(c, &kdf_hash) != 0)
		return assay_err_set(ASSAY_ERR_TRUNCATED, "ECC KDF scheme truncated");
	if ((r = cur_tpm2b(c, TPM_PUBLIC_ECC_MAX, &x)) != 0 ||
	    (r = cur_tpm2b(c, TPM_PUBLIC_ECC_MAX, &y)) != 0)
		return assay_err_set(r, "ECC point %s", r == ASSAY_ERR_RANGE ?
		    "coordinate larger than 66 bytes" : "truncated");
	if (x.len == 0 || y.len == 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "ECC point is empty");
	if ((r = ecc_pkey(pub->curve, &x, &y, &pub->pkey)) != 0)
		return r;
	memcpy(pub->ecc_x, x.p, x.len);
	pub->ecc_x_len = x.len;
	return ASSAY_OK;
}

int
tpm2_public_parse_tpmt(const uint8_t *p, size_t n, struct tpm2_public *out)
{
	struct tpm2_public pub;
	const struct tpm2_hash *h;
	struct cur c, policy;
	size_t dlen;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&pub, 0, sizeof(pub));
	if (n > TPM_PUBLIC_MAX_SIZE)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "TPMT_PUBLIC of %zu bytes exceeds %d", n, TPM_PUBLIC_MAX_SIZE);
	cur_init(&c, p, n);
	if (cur_u16be(&c, &pub.type) != 0 || cur_u16be(&c, &pub.name_alg) != 0 ||
	    cur_u32be(&c, &pub.attributes) != 0) {
		r = assay_err_set(ASSAY_ERR_TRUNCATED, "TPMT_PUBLIC header truncated");
		goto out;
	}
	if ((h = tpm2_hash_by_alg(pub.name_alg)) == NULL ||
	    tpm2_hash_md(pub.name_alg) == NULL) {
		r = assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "nameAlg 0x%04x not supported", pub.name_alg);
		goto out;
	}
	if ((r = cur_tpm2b(&c, TPM2_MAX_DIGEST, &policy)) != 0) {
		r = assay_err_set(r, "authPolicy %s", r == ASSAY_ERR_RANGE ?
		    "larger than a digest" : "truncated");
		goto out;
	}
	memcpy(pub.policy, policy.p, policy.len);
	pub.policy_len = policy.len;

	switch (pub.type) {
	case TPM2_ALG_RSA:
		r = parse_rsa(&c, &pub);
		break;
	case TPM2_ALG_ECC:
		r = parse_ecc(&c, &pub);
		break;
	default:
		r = assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "TPM object type 0x%04x is not an RSA or ECC key", pub.type);
		break;
	}
	if (r != ASSAY_OK)
		goto out;
	if (cur_end(&c) != 0) {
		r = assay_err_set(ASSAY_ERR_FORMAT,
		    "%zu trailing bytes after TPMT_PUBLIC", cur_left(&c));
		goto out;
	}

	/* Name = nameAlg || H_nameAlg(TPMT_PUBLIC) (Part 1 §16). */
	pub.name[0] = (uint8_t)(pub.name_alg >> 8);
	pub.name[1] = (uint8_t)pub.name_alg;
	if ((r = tpm2_hash(pub.name_alg, p, n, pub.name + 2, &dlen)) != 0)
		goto out;
	if (dlen != h->size) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "nameAlg digest size mismatch");
		goto out;
	}
	pub.name_len = 2 + dlen;
	memcpy(pub.tpmt, p, n);
	pub.tpmt_len = n;

	*out = pub;	/* the caller owns pkey now */
	pub.pkey = NULL;
 out:
	EVP_PKEY_free(pub.pkey);
	return r;
}

int
tpm2_public_parse(const uint8_t *p, size_t n, struct tpm2_public *out)
{
	struct cur c, body;
	int r;

	memset(out, 0, sizeof(*out));
	cur_init(&c, p, n);
	if ((r = cur_tpm2b(&c, TPM_PUBLIC_MAX_SIZE, &body)) != 0)
		return assay_err_set(r, "TPM2B_PUBLIC %s", r == ASSAY_ERR_RANGE ?
		    "larger than 1024 bytes" : "truncated");
	if (cur_end(&c) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "%zu trailing bytes after TPM2B_PUBLIC", cur_left(&c));
	if (body.len == 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "TPM2B_PUBLIC is empty");
	return tpm2_public_parse_tpmt(body.p, body.len, out);
}

void
tpm2_public_free(struct tpm2_public *pub)
{
	if (pub == NULL)
		return;
	EVP_PKEY_free(pub->pkey);
	memset(pub, 0, sizeof(*pub));
}

struct attr_rule {
	uint32_t	 bit;
	int		 want;	/* 1: must be set, 0: must be clear */
	const char	*name;
};

static const struct attr_rule ak_attrs[] = {
	{ TPMA_OBJECT_DECRYPT, 0, "decrypt" },
	{ TPMA_OBJECT_FIXEDTPM, 1, "fixedTPM" },
	{ TPMA_OBJECT_FIXEDPARENT, 1, "fixedParent" },
	{ TPMA_OBJECT_SENSITIVEDATAORIGIN, 1, "sensitiveDataOrigin" },
	{ TPMA_OBJECT_RESTRICTED, 1, "restricted" },
	{ TPMA_OBJECT_SIGN_ENCRYPT, 1, "sign" },
};

/*
 * A host identity key signs anything (TLS handshakes), so it must not be
 * restricted; it must have been generated inside this TPM and be unable
 * to leave it (fixedTPM, fixedParent, sensitiveDataOrigin), and must not
 * decrypt. encryptedDuplication is moot once fixedTPM is set.
 */
static const struct attr_rule identity_attrs[] = {
	{ TPMA_OBJECT_DECRYPT, 0, "decrypt" },
	{ TPMA_OBJECT_FIXEDTPM, 1, "fixedTPM" },
	{ TPMA_OBJECT_FIXEDPARENT, 1, "fixedParent" },
	{ TPMA_OBJECT_SENSITIVEDATAORIGIN, 1, "sensitiveDataOrigin" },
	{ TPMA_OBJECT_RESTRICTED, 0, "restricted" },
	{ TPMA_OBJECT_SIGN_ENCRYPT, 1, "sign" },
};

/* Attributes, nameAlg, algorithm and size of a signing key (what: "AK"). */
static int
check_signing_key(const struct tpm2_public *pub, const struct attr_rule *rules,
    size_t nrules, const char *what)
{
	for (size_t i = 0; i < nrules; i++) {
		int set = (pub->attributes & rules[i].bit) != 0;

		if (set != rules[i].want)
			return assay_err_set(ASSAY_FAIL,
			    "%s attribute %s must be %s", what, rules[i].name,
			    rules[i].want ? "set" : "clear");
	}
	if (tpm2_hash_by_alg(pub->name_alg) == NULL)
		return assay_err_set(ASSAY_FAIL,
		    "%s nameAlg 0x%04x unknown", what, pub->name_alg);
	/* A Name collision would detach the checked attributes from the key. */
	if (pub->name_alg == TPM2_ALG_SHA1)
		return assay_err_set(ASSAY_FAIL, "%s nameAlg SHA-1 is refused",
		    what);
	switch (pub->type) {
	case TPM2_ALG_RSA:
		if (pub->key_bits < 2048)
			return assay_err_set(ASSAY_FAIL, "%s RSA key of %u bits "
			    "is below 2048", what, pub->key_bits);
		break;
	case TPM2_ALG_ECC:
		if (pub->curve != TPM2_ECC_NIST_P256 &&
		    pub->curve != TPM2_ECC_NIST_P384)
			return assay_err_set(ASSAY_FAIL, "%s curve 0x%04x is not "
			    "P-256 or P-384", what, pub->curve);
		break;
	default:
		return assay_err_set(ASSAY_FAIL,
		    "%s type 0x%04x is not RSA or ECC", what, pub->type);
	}
	if (pub->pkey == NULL)
		return assay_err_set(ASSAY_FAIL, "%s has no public key", what);
	return ASSAY_OK;
}

int
tpm2_public_check_ak(const struct tpm2_public *pub)
{
	return check_signing_key(pub, ak_attrs,
	    sizeof(ak_attrs) / sizeof(ak_attrs[0]), "AK");
}

int
tpm2_public_check_identity(const struct tpm2_public *pub)
{
	return check_signing_key(pub, identity_attrs,
	    sizeof(identity_attrs) / sizeof(identity_attrs[0]), "identity key");
}

int
tpm2_public_matches(const struct tpm2_public *pub, EVP_PKEY *key)
{
	if (pub->pkey == NULL || key == NULL)
		return ASSAY_FAIL;
	return EVP_PKEY_eq(pub->pkey, key) == 1 ? ASSAY_OK : ASSAY_FAIL;
}

int
tpm2_ak_qualified_name(const struct tpm2_public *ek, const struct tpm2_public *ak,
    uint8_t *out, size_t *outlen)
{
	uint8_t rh[4], ekqn[TPM2_NAME_MAX];
	size_t ekqn_len;
	int r;

	tpm2_hierarchy_qn(TPM2_RH_ENDORSEMENT, rh);
	if ((r = tpm2_qualified_name(rh, sizeof(rh), ek->name, ek->name_len, ekqn,
	    &ekqn_len)) != 0)
		return r;
	return tpm2_qualified_name(ekqn, ekqn_len, ak->name, ak->name_len, out, outlen);
}
