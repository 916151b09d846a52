/*
 * make_credential.c — TPM2_MakeCredential done in software (TCG Part 1
 * §24 "Credential Protection", Annex B.10 / C.6 secret sharing for
 * RSA-OAEP and ECDH EKs) with our own KDFa and KDFe: a secret protected
 * for the TPM holding an EK and bound to the AK's name. Pure.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/xmalloc.h"
#include "verifier/registrar.h"

#define CRED_SECRET_MAX		TPM2_MAX_DIGEST

static void
put_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct part {
	const void	*p;
	size_t		 n;
};

static int
hmac_parts(const EVP_MD *md, const uint8_t *key, size_t keylen,
    const struct part *parts, size_t nparts, uint8_t *out, size_t *outlen)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	int r = ASSAY_ERR_CRYPTO;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].n > 0 && EVP_MAC_update(ctx, parts[i].p, parts[i].n) != 1)
			goto out;
	}
	if (EVP_MAC_final(ctx, out, outlen, EVP_MAX_MD_SIZE) != 1)
		goto out;
	r = ASSAY_OK;
 out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

/*
 * KDFa (Part 1 §11.4.10.2): SP 800-108 counter mode with HMAC,
 * K(i) = HMAC(key, [i]32 || Label || 00 || ContextU || ContextV || [bits]32).
 * Label is passed without its NUL, which is appended here.
 */
static int
kdfa(const EVP_MD *md, const uint8_t *key, size_t keylen, const char *label,
    const uint8_t *u, size_t ulen, const uint8_t *v, size_t vlen,
    size_t bits, uint8_t *out)
{
	uint8_t ctr[4], lbits[4], k[EVP_MAX_MD_SIZE];
	size_t want = bits / 8, done = 0, klen;
	uint32_t i;
	int r = ASSAY_OK;

	if (bits == 0 || bits % 8 != 0)
		return ASSAY_ERR_INVAL;
	put_u32be(lbits, (uint32_t)bits);
	for (i = 1; done < want; i++) {
		struct part parts[] = {
			{ ctr, 4 }, { label, strlen(label) + 1 },
			{ u, ulen }, { v, vlen }, { lbits, 4 },
		};

		put_u32be(ctr, i);
		if ((r = hmac_parts(md, key, keylen, parts,
		    sizeof(parts) / sizeof(parts[0]), k, &klen)) != 0)
			break;
		if (klen > want - done)
			klen = want - done;
		memcpy(out + done, k, klen);
		done += klen;
	}
	OPENSSL_cleanse(k, sizeof(k));
	return r;
}

/*
 * KDFe (Part 1 §11.4.10.3): SP 800-56A concatenation KDF with a hash,
 * K(i) = H([i]32 || Z || Use || 00 || PartyUInfo || PartyVInfo).
 */
static int
kdfe(const EVP_MD *md, const uint8_t *z, size_t zlen, const char *label,
    const uint8_t *u, size_t ulen, const uint8_t *v, size_t vlen,
    size_t bits, uint8_t *out)
{
	uint8_t ctr[4], k[EVP_MAX_MD_SIZE];
	size_t want = bits / 8, done = 0, klen;
	unsigned int hl;
	EVP_MD_CTX *ctx;
	uint32_t i;
	int r = ASSAY_OK;

	if (bits == 0 || bits % 8 != 0)
		return ASSAY_ERR_INVAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ASSAY_ERR_CRYPTO;
	for (i = 1; done < want; i++) {
		put_u32be(ctr, i);
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, ctr, 4) != 1 ||
		    EVP_DigestUpdate(ctx, z, zlen) != 1 ||
		    EVP_DigestUpdate(ctx, label, strlen(label) + 1) != 1 ||
		    EVP_DigestUpdate(ctx, u, ulen) != 1 ||
		    EVP_DigestUpdate(ctx, v, vlen) != 1 ||
		    EVP_DigestFinal_ex(ctx, k, &hl) != 1) {
			r = ASSAY_ERR_CRYPTO;
			break;
		}
		klen = hl;
		if (klen > want - done)
			klen = want - done;
		memcpy(out + done, k, klen);
		done += klen;
	}
	OPENSSL_cleanse(k, sizeof(k));
	EVP_MD_CTX_free(ctx);
	return r;
}

/* RSA EK: a random seed, RSA-OAEP(nameAlg) encrypted with label "IDENTITY\0". */
static int
seed_rsa(const struct tpm2_public *ek, const EVP_MD *md, uint8_t *seed,
    size_t seedlen, struct buf *enc)
{
	static const char label[] = "IDENTITY";
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *l = NULL;
	uint8_t *ct = NULL;
	size_t ctlen = 0;
	int r = ASSAY_ERR_CRYPTO;

	if (RAND_bytes(seed, (int)seedlen) != 1)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ek->pkey, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0)
		goto out;
	if ((l = OPENSSL_memdup(label, sizeof(label))) == NULL)
		goto out;
	if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, sizeof(label)) <= 0)
		goto out;
	l = NULL;	/* ctx owns it */
	if (EVP_PKEY_encrypt(ctx, NULL, &ctlen, seed, seedlen) <= 0)
		goto out;
	ct = xmalloc(ctlen);
	if (EVP_PKEY_encrypt(ctx, ct, &ctlen, seed, seedlen) <= 0)
		goto out;
	buf_put_tpm2b(enc, ct, ctlen);
	r = ASSAY_OK;
 out:
	OPENSSL_free(l);
	free(ct);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/*
 * ECC EK: ephemeral ECDH on the EK's curve. Z = x of the shared point,
 * seed = KDFe(nameAlg, Z, "IDENTITY", ephemeral x, EK x, digest bits);
 * the encrypted secret is the ephemeral point as TPMS_ECC_POINT.
 */
static int
seed_ecc(const struct tpm2_public *ek, const EVP_MD *md, uint8_t *seed,
    size_t seedlen, struct buf *enc)
{
	uint8_t pt[1 + 2 * TPM_PUBLIC_ECC_MAX], z[TPM_PUBLIC_ECC_MAX];
	EVP_PKEY *eph = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	const char *group;
	size_t clen, ptlen = 0, zlen = sizeof(z);
	int r = ASSAY_ERR_CRYPTO;

	if ((group = tpm2_curve_group(ek->curve, &clen)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "EK curve 0x%04x not supported", ek->curve);
	if ((eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group)) == NULL)
		goto out;
	if (EVP_PKEY_get_octet_string_param(eph, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, sizeof(pt), &ptlen) != 1 || ptlen != 1 + 2 * clen || pt[0] != 0x04)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, eph, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) <= 0 ||
	    EVP_PKEY_derive_set_peer(ctx, ek->pkey) <= 0 ||
	    EVP_PKEY_derive(ctx, z, &zlen) <= 0 || zlen != clen)
		goto out;
	if ((r = kdfe(md, z, zlen, "IDENTITY", pt + 1, clen,
	    ek->ecc_x, ek->ecc_x_len, seedlen * 8, seed)) != 0)
		goto out;
	buf_put_u16be(enc, (uint16_t)(4 + 2 * clen));
	buf_put_tpm2b(enc, pt + 1, clen);
	buf_put_tpm2b(enc, pt + 1 + clen, clen);
	r = ASSAY_OK;
 out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(eph);
	return r;
}

static int
aes_cfb_encrypt(const uint8_t *key, size_t bits, const uint8_t *in, size_t n,
    uint8_t *out)
{
	static const uint8_t iv[16];
	EVP_CIPHER *ciph = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	char cname[32];
	int outl, fin, r = ASSAY_ERR_CRYPTO;

	snprintf(cname, sizeof(cname), "AES-%zu-CFB", bits);
	if ((ciph = EVP_CIPHER_fetch(NULL, cname, NULL)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex2(ctx, ciph, key, iv, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &outl, in, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + outl, &fin) != 1 ||
	    (size_t)outl + (size_t)fin != n)
		goto out;
	r = ASSAY_OK;
 out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(ciph);
	return r;
}

/* The EK and arguments MakeCredential can work with; *md, *dsize: nameAlg. */
static int
cred_check_args(const struct tpm2_public *ek, size_t name_len,
    size_t secret_len, const EVP_MD **md, size_t *dsize)
{
	const struct tpm2_hash *h;

	if (ek->pkey == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "EK has no public key");
	if ((h = tpm2_hash_by_alg(ek->name_alg)) == NULL ||
	    (*md = tpm2_hash_md(ek->name_alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "EK nameAlg 0x%04x not supported", ek->name_alg);
	*dsize = h->size;
	if (ek->sym_alg != TPM2_ALG_AES || (ek->sym_bits != 128 &&
	    ek->sym_bits != 192 && ek->sym_bits != 256))
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "EK symmetric algorithm 0x%04x/%u is not AES",
		    ek->sym_alg, ek->sym_bits);
	/* TPM2_MakeCredential: credential no larger than the nameAlg digest. */
	if (secret_len == 0 || secret_len > *dsize)
		return assay_err_set(ASSAY_ERR_INVAL,
		    "credential secret of %zu bytes (1..%zu allowed)",
		    secret_len, *dsize);
	if (name_len < 2 || name_len > 2 + TPM2_MAX_DIGEST)
		return assay_err_set(ASSAY_ERR_INVAL,
		    "object name of %zu bytes", name_len);
	return ASSAY_OK;
}

/* A fresh seed, protected for the EK's type into enc. */
static int
protect_seed(const struct tpm2_public *ek, const EVP_MD *md, uint8_t *seed,
    size_t dsize, struct buf *enc)
{
	int r;

	switch (ek->type) {
	case TPM2_ALG_RSA:
		r = seed_rsa(ek, md, seed, dsize, enc);
		break;
	case TPM2_ALG_ECC:
		r = seed_ecc(ek, md, seed, dsize, enc);
		break;
	default:
		r = assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "EK type 0x%04x", ek->type);
		break;
	}
	if (r == ASSAY_ERR_CRYPTO)
		assay_err_set(r, "credential seed protection failed");
	return r;
}

/* TPM2B_ID_OBJECT into cb: outerHMAC, then encIdentity, keys from seed. */
static int
wrap_credential(const EVP_MD *md, const uint8_t *seed, size_t dsize,
    size_t sym_bits, const uint8_t *name, size_t name_len,
    const uint8_t *secret, size_t secret_len, struct buf *cb)
{
	uint8_t symkey[32], hmackey[TPM2_MAX_DIGEST];
	uint8_t plain[2 + CRED_SECRET_MAX], enc[2 + CRED_SECRET_MAX];
	uint8_t hmac[EVP_MAX_MD_SIZE];
	size_t hlen, plen;
	int r;

	/* encIdentity = CFB(KDFa(seed, "STORAGE", name), IV 0, TPM2B_DIGEST). */
	if ((r = kdfa(md, seed, dsize, "STORAGE", name, name_len, NULL, 0,
	    sym_bits, symkey)) != 0)
		goto crypto;
	plain[0] = (uint8_t)(secret_len >> 8);
	plain[1] = (uint8_t)secret_len;
	memcpy(plain + 2, secret, secret_len);
	plen = 2 + secret_len;
	if ((r = aes_cfb_encrypt(symkey, sym_bits, plain, plen, enc)) != 0)
		goto crypto;

	/* outerHMAC = HMAC(KDFa(seed, "INTEGRITY"), encIdentity || name). */
	if ((r = kdfa(md, seed, dsize, "INTEGRITY", NULL, 0, NULL, 0,
	    dsize * 8, hmackey)) != 0)
		goto crypto;
	{
		struct part parts[] = { { enc, plen }, { name, name_len } };

		if ((r = hmac_parts(md, hmackey, dsize, parts, 2, hmac, &hlen)) != 0)
			goto crypto;
	}
	buf_put_u16be(cb, (uint16_t)(2 + hlen + plen));
	buf_put_tpm2b(cb, hmac, hlen);
	buf_put(cb, enc, plen);
	r = ASSAY_OK;
	goto out;
 crypto:
	r = assay_err_set(ASSAY_ERR_CRYPTO, "MakeCredential crypto failed");
 out:
	OPENSSL_cleanse(symkey, sizeof(symkey));
	OPENSSL_cleanse(hmackey, sizeof(hmackey));
	OPENSSL_cleanse(plain, sizeof(plain));
	return r;
}

int
make_credential(const struct tpm2_public *ek, const uint8_t *name, size_t name_len,
    const uint8_t *secret, size_t secret_len,
    uint8_t **cred, size_t *cred_len, uint8_t **enc_secret, size_t *enc_secret_len)
{
	uint8_t seed[TPM2_MAX_DIGEST];
	const EVP_MD *md = NULL;
	struct buf eb, cb;
	size_t dsize = 0;
	int r;

	*cred = *enc_secret = NULL;
	*cred_len = *enc_secret_len = 0;
	buf_init(&eb);
	buf_init(&cb);
	if ((r = cred_check_args(ek, name_len, secret_len, &md, &dsize)) != 0)
		return r;
	if ((r = protect_seed(ek, md, seed, dsize, &eb)) != ASSAY_OK ||
	    (r = wrap_credential(md, seed, dsize, ek->sym_bits, name, name_len,
	    secret, secret_len, &cb)) != ASSAY_OK)
		goto out;
	*cred = buf_steal(&cb, cred_len);
	*enc_secret = buf_steal(&eb, enc_secret_len);
	r = ASSAY_OK;
 out:
	OPENSSL_cleanse(seed, sizeof(seed));
	buf_free(&eb);
	buf_free(&cb);
	ERR_clear_error();
	return r;
}
