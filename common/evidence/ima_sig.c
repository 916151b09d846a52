/*
 * ima_sig.c — parse and verify IMA/EVM digital signatures (signature_v2_hdr)
 * and load the keys that verify them with their IMA key ids. Pure: no I/O,
 * no globals besides OpenSSL's own.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/ima_sig.h"
#include "common/evidence/tpm2.h"

static const struct {
	uint8_t		kalg;
	uint16_t	tpm;
} hash_algos[] = {
	{ IMA_HASH_SHA1, TPM2_ALG_SHA1 },
	{ IMA_HASH_SHA256, TPM2_ALG_SHA256 },
	{ IMA_HASH_SHA384, TPM2_ALG_SHA384 },
	{ IMA_HASH_SHA512, TPM2_ALG_SHA512 },
	{ IMA_HASH_SM3_256, TPM2_ALG_SM3_256 },
};
#define NHASH	(sizeof(hash_algos) / sizeof(hash_algos[0]))

uint16_t
ima_hash_algo_to_tpm(uint8_t hash_algo)
{
	size_t i;

	for (i = 0; i < NHASH; i++)
		if (hash_algos[i].kalg == hash_algo)
			return hash_algos[i].tpm;
	return 0;
}

int
ima_hash_algo_from_tpm(uint16_t alg)
{
	size_t i;

	for (i = 0; i < NHASH; i++)
		if (hash_algos[i].tpm == alg)
			return hash_algos[i].kalg;
	return -1;
}

int
ima_sig_parse(const uint8_t *p, size_t n, struct ima_sig *out)
{
	struct cur c;
	uint16_t len;
	int r;

	memset(out, 0, sizeof(*out));
	cur_init(&c, p, n);
	if ((r = cur_u8(&c, &out->type)) != 0 ||
	    (r = cur_u8(&c, &out->version)) != 0 ||
	    (r = cur_u8(&c, &out->hash_algo)) != 0 ||
	    (r = cur_u32be(&c, &out->keyid)) != 0 ||
	    (r = cur_u16be(&c, &len)) != 0)
		return assay_err_set(r, "IMA signature header truncated "
		    "(%zu bytes)", n);
	if (out->type != IMA_XATTR_DIGSIG)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "IMA signature "
		    "type %u is not a digital signature (3)", out->type);
	if (out->version != 2 && out->version != 3)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "IMA signature "
		    "version %u unsupported (2 or 3)", out->version);
	if (len == 0 || len > IMA_SIG_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "IMA signature size %u "
		    "out of range", len);
	if (cur_left(&c) != len)
		return assay_err_set(cur_left(&c) < len ? ASSAY_ERR_TRUNCATED :
		    ASSAY_ERR_FORMAT, "IMA signature size %u but %zu bytes "
		    "follow the header", len, cur_left(&c));
	if ((r = cur_bytes(&c, len, &out->sig)) != 0)
		return r;
	if ((out->dalg = ima_hash_algo_to_tpm(out->hash_algo)) == 0)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "IMA signature "
		    "hash_algo %u unsupported", out->hash_algo);
	return ASSAY_OK;
}

/* Last 4 bytes of b as a big-endian number. */
static uint32_t
tail32(const uint8_t *b, size_t n)
{
	return (uint32_t)b[n - 4] << 24 | (uint32_t)b[n - 3] << 16 |
	    (uint32_t)b[n - 2] << 8 | b[n - 1];
}

static void
add_id(struct ima_key *k, uint32_t id)
{
	size_t i;

	for (i = 0; i < k->nids; i++)
		if (k->keyid[i] == id)
			return;
	if (k->nids < sizeof(k->keyid) / sizeof(k->keyid[0]))
		k->keyid[k->nids++] = id;
}

/* SHA-1 over i2d_PublicKey (RSAPublicKey or the EC point). */
static int
pubkey_id(EVP_PKEY *pkey, uint32_t *id)
{
	uint8_t md[SHA_DIGEST_LENGTH], *der = NULL;
	int len;

	if ((len = i2d_PublicKey(pkey, &der)) <= 0)
		return assay_err_set(ASSAY_ERR_CRYPTO, "cannot encode the "
		    "public key");
	SHA1(der, (size_t)len, md);
	OPENSSL_free(der);
	*id = tail32(md, sizeof(md));
	return ASSAY_OK;
}

static int
load_cert(X509 *x, struct ima_key *out)
{
	const ASN1_OCTET_STRING *skid;

	if ((out->pkey = X509_get_pubkey(x)) == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "certificate has no "
		    "usable public key");
	if ((skid = X509_get0_subject_key_id(x)) != NULL &&
	    ASN1_STRING_length(skid) >= 4)
		add_id(out, tail32(ASN1_STRING_get0_data(skid),
		    (size_t)ASN1_STRING_length(skid)));
	return ASSAY_OK;
}

int
ima_key_load(const uint8_t *p, size_t n, struct ima_key *out)
{
	const unsigned char *q;
	BIO *bio = NULL;
	X509 *x = NULL;
	uint32_t id = 0;
	int r, type;

	memset(out, 0, sizeof(*out));
	if (n > INT32_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "key too large");
	if (n >= 5 && memchr(p, '-', n) != NULL &&
	    memmem(p, n, "-----BEGIN ", 11) != NULL) {
		bio = BIO_new_mem_buf(p, (int)n);
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
			(void)BIO_reset(bio);
			out->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		}
	} else {
		q = p;
		if ((x = d2i_X509(NULL, &q, (long)n)) == NULL || q != p + n) {
			X509_free(x);
			x = NULL;
			q = p;
			out->pkey = d2i_PUBKEY(NULL, &q, (long)n);
		}
	}
	ERR_clear_error();
	if (x != NULL && (r = load_cert(x, out)) != 0)
		goto out;
	if (out->pkey == NULL) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "not a PEM or DER public "
		    "key or X.509 certificate");
		goto out;
	}
	type = EVP_PKEY_get_base_id(out->pkey);
	if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
		r = assay_err_set(ASSAY_ERR_UNSUPPORTED, "key type %s is not "
		    "RSA or EC", OBJ_nid2sn(type));
		goto out;
	}
	if ((r = pubkey_id(out->pkey, &id)) != 0)
		goto out;
	add_id(out, id);
	r = ASSAY_OK;
 out:
	X509_free(x);
	BIO_free(bio);
	if (r != ASSAY_OK)
		ima_key_clear(out);
	return r;
}

void
ima_key_clear(struct ima_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

int
ima_key_has_id(const struct ima_key *k, uint32_t keyid)
{
	size_t i;

	for (i = 0; i < k->nids; i++)
		if (k->keyid[i] == keyid)
			return 1;
	return 0;
}

int
ima_sig_verify(const struct ima_sig *s, EVP_PKEY *pkey, uint16_t dalg,
    const uint8_t *digest, size_t dlen)
{
	const struct tpm2_hash *h;
	const EVP_MD *md;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t id[2 + TPM2_MAX_DIGEST], msg[TPM2_MAX_DIGEST];
	const uint8_t *m = digest;
	size_t mlen = dlen;
	int r, v;

	if (s->dalg != dalg)
		return assay_err_set(ASSAY_FAIL, "signature hash algorithm %u "
		    "differs from the measured digest's", s->hash_algo);
	if ((h = tpm2_hash_by_alg(dalg)) == NULL || h->size != dlen ||
	    (md = tpm2_hash_md(dalg)) == NULL)
		return assay_err_set(ASSAY_FAIL, "digest algorithm 0x%04x "
		    "cannot be verified", dalg);
	if (s->version == 3) {
		/* struct ima_file_id, cut after the digest. */
		id[0] = s->type;
		id[1] = s->hash_algo;
		memcpy(id + 2, digest, dlen);
		if ((r = tpm2_hash(dalg, id, 2 + dlen, msg, &mlen)) != 0)
			return r;
		m = msg;
	}
	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
	    (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "signature verification "
		    "setup failed");
		goto out;
	}
	v = EVP_PKEY_verify(ctx, s->sig.p, s->sig.len, m, mlen);
	ERR_clear_error();
	if (v == 1)
		r = ASSAY_OK;
	else
		r = assay_err_set(ASSAY_FAIL, "signature does not verify with "
		    "key %08x", s->keyid);
 out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}
