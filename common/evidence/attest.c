/*
 * attest.c — TPM 2.0 attestation wire structures: TPMS_ATTEST carrying a
 * TPMS_QUOTE_INFO or a TPMS_CERTIFY_INFO, TPMT_SIGNATURE (RSASSA, RSAPSS, ECDSA), and signature
 * verification with OpenSSL 3. Pure: parsed structs point into the
 * caller's buffer; no I/O, no globals.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/attest.h"
#include "common/evidence/tpm2.h"

#define NAME_MAX_SIZE		(2 + TPM2_MAX_DIGEST)	/* TPMU_NAME */
#define DATA_MAX_SIZE		(2 + TPM2_MAX_DIGEST)	/* TPM2B_DATA: sizeof(TPMT_HA) */
#define RSA_SIG_MAX_SIZE	512			/* 4096-bit keys */
#define ECC_PARAM_MAX_SIZE	66			/* P-521 */

static int
map_trunc(int r, const char *what)
{
	if (r == ASSAY_ERR_TRUNCATED)
		return assay_err_set(r, "%s truncated", what);
	if (r == ASSAY_ERR_RANGE)
		return assay_err_set(r, "%s: size field too large", what);
	return r;
}

/* The TPMS_ATTEST header every attestation type shares, into *out. */
static int
attest_header(struct cur *c, struct tpm2_attest_header *out)
{
	int r;

	if ((r = cur_u32be(c, &out->magic)) != 0 ||
	    (r = cur_u16be(c, &out->type)) != 0)
		return map_trunc(r, "TPMS_ATTEST header");
	if ((r = cur_tpm2b(c, NAME_MAX_SIZE, &out->qualified_signer)) != 0)
		return map_trunc(r, "TPMS_ATTEST qualifiedSigner");
	if ((r = cur_tpm2b(c, DATA_MAX_SIZE, &out->extra_data)) != 0)
		return map_trunc(r, "TPMS_ATTEST extraData");
	if ((r = cur_u64be(c, &out->clock)) != 0 ||
	    (r = cur_u32be(c, &out->reset_count)) != 0 ||
	    (r = cur_u32be(c, &out->restart_count)) != 0 ||
	    (r = cur_u8(c, &out->safe)) != 0)
		return map_trunc(r, "TPMS_ATTEST clockInfo");
	if (out->safe > 1)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "TPMS_ATTEST clockInfo.safe is %u", out->safe);
	if ((r = cur_u64be(c, &out->firmware_version)) != 0)
		return map_trunc(r, "TPMS_ATTEST firmwareVersion");
	return ASSAY_OK;
}

static int
attest_end(const struct cur *c)
{
	if (cur_end(c) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "TPMS_ATTEST: %zu trailing bytes", cur_left(c));
	return ASSAY_OK;
}

int
tpm2_attest_parse(const uint8_t *p, size_t n, struct tpm2_quote_info *out)
{
	struct cur c;
	int r;

	memset(out, 0, sizeof(*out));
	if (n > ATTEST_MAX_SIZE)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "TPMS_ATTEST of %zu bytes", n);
	cur_init(&c, p, n);
	if ((r = attest_header(&c, &out->h)) != 0)
		return r;
	/* The common header is filled in: the caller may judge it. */
	if (out->h.type != TPM2_ST_ATTEST_QUOTE)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "TPMS_ATTEST type 0x%04x is not a quote", out->h.type);
	if ((r = pcr_selection_unmarshal(&c, &out->pcr_select)) != 0)
		return r;
	if ((r = cur_tpm2b(&c, TPM2_MAX_DIGEST, &out->pcr_digest)) != 0)
		return map_trunc(r, "TPMS_QUOTE_INFO pcrDigest");
	return attest_end(&c);
}

int
tpm2_certify_parse(const uint8_t *p, size_t n, struct tpm2_certify_info *out)
{
	struct cur c;
	int r;

	memset(out, 0, sizeof(*out));
	if (n > ATTEST_MAX_SIZE)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "TPMS_ATTEST of %zu bytes", n);
	cur_init(&c, p, n);
	if ((r = attest_header(&c, &out->h)) != 0)
		return r;
	if (out->h.type != TPM2_ST_ATTEST_CERTIFY)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "TPMS_ATTEST type 0x%04x is not a certification", out->h.type);
	if ((r = cur_tpm2b(&c, NAME_MAX_SIZE, &out->name)) != 0)
		return map_trunc(r, "TPMS_CERTIFY_INFO name");
	if ((r = cur_tpm2b(&c, NAME_MAX_SIZE, &out->qualified_name)) != 0)
		return map_trunc(r, "TPMS_CERTIFY_INFO qualifiedName");
	return attest_end(&c);
}

int
tpm2_signature_parse(const uint8_t *p, size_t n, struct tpm2_signature *out)
{
	struct cur c;
	int r;

	memset(out, 0, sizeof(*out));
	if (n > SIGNATURE_MAX_SIZE)
		return assay_err_set(ASSAY_ERR_RANGE,
		    "TPMT_SIGNATURE of %zu bytes", n);
	cur_init(&c, p, n);
	if ((r = cur_u16be(&c, &out->sig_alg)) != 0)
		return map_trunc(r, "TPMT_SIGNATURE");
	switch (out->sig_alg) {
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		if ((r = cur_u16be(&c, &out->hash_alg)) != 0 ||
		    (r = cur_tpm2b(&c, RSA_SIG_MAX_SIZE, &out->rsa)) != 0)
			return map_trunc(r, "TPMS_SIGNATURE_RSA");
		break;
	case TPM2_ALG_ECDSA:
		if ((r = cur_u16be(&c, &out->hash_alg)) != 0 ||
		    (r = cur_tpm2b(&c, ECC_PARAM_MAX_SIZE, &out->ecc_r)) != 0 ||
		    (r = cur_tpm2b(&c, ECC_PARAM_MAX_SIZE, &out->ecc_s)) != 0)
			return map_trunc(r, "TPMS_SIGNATURE_ECDSA");
		break;
	default:
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "signature scheme 0x%04x not supported", out->sig_alg);
	}
	if (cur_end(&c) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "TPMT_SIGNATURE: %zu trailing bytes", cur_left(&c));
	if (tpm2_hash_by_alg(out->hash_alg) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "signature hash 0x%04x not supported", out->hash_alg);
	return ASSAY_OK;
}

/* DER ECDSA-Sig-Value from the TPM's r and s; caller frees *der. */
static int
ecdsa_der(const struct tpm2_signature *sig, uint8_t **der, size_t *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = NULL;
	int len, ret = ASSAY_ERR_CRYPTO;

	*der = NULL;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(sig->ecc_r.p, (int)sig->ecc_r.len, NULL)) == NULL ||
	    (s = BN_bin2bn(sig->ecc_s.p, (int)sig->ecc_s.len, NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;	/* owned by es now */
	if ((len = i2d_ECDSA_SIG(es, &p)) <= 0)
		goto out;
	*der = xmemdup(p, (size_t)len);
	*derlen = (size_t)len;
	ret = ASSAY_OK;
 out:
	OPENSSL_free(p);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ret;
}

int
tpm2_signature_verify(EVP_PKEY *key, const struct tpm2_signature *sig,
    const uint8_t *msg, size_t n)
{
	const struct tpm2_hash *h;
	const EVP_MD *md;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const uint8_t *s;
	uint8_t *der = NULL;
	size_t slen, derlen = 0;
	int rsa_key, ec_key, r;

	if (key == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "no verification key");
	rsa_key = EVP_PKEY_is_a(key, "RSA");
	ec_key = EVP_PKEY_is_a(key, "EC");
	if ((h = tpm2_hash_by_alg(sig->hash_alg)) == NULL ||
	    (md = tpm2_hash_md(sig->hash_alg)) == NULL)
		return assay_err_set(ASSAY_FAIL,
		    "signature hash 0x%04x not available", sig->hash_alg);
	switch (sig->sig_alg) {
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		if (!rsa_key)
			return assay_err_set(ASSAY_FAIL,
			    "RSA signature but the key is not RSA");
		s = sig->rsa.p;
		slen = sig->rsa.len;
		break;
	case TPM2_ALG_ECDSA:
		if (!ec_key)
			return assay_err_set(ASSAY_FAIL,
			    "ECDSA signature but the key is not EC");
		if ((r = ecdsa_der(sig, &der, &derlen)) != 0)
			return assay_err_set(ASSAY_FAIL,
			    "ECDSA signature r/s unusable");
		s = der;
		slen = derlen;
		break;
	default:
		return assay_err_set(ASSAY_FAIL,
		    "signature scheme 0x%04x not supported", sig->sig_alg);
	}
	r = ASSAY_FAIL;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) != 1) {
		assay_err_set(r, "cannot set up %s verification", h->name);
		goto out;
	}
	if (sig->sig_alg == TPM2_ALG_RSASSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		assay_err_set(r, "cannot select RSASSA padding");
		goto out;
	}
	/* TPMs use salt = digest length or the maximum: AUTO takes both. */
	if (sig->sig_alg == TPM2_ALG_RSAPSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)) {
		assay_err_set(r, "cannot select RSAPSS padding");
		goto out;
	}
	if (EVP_DigestVerify(ctx, s, slen, msg, n) != 1) {
		assay_err_set(r, "bad %s signature (%s)",
		    sig->sig_alg == TPM2_ALG_ECDSA ? "ECDSA" :
		    sig->sig_alg == TPM2_ALG_RSAPSS ? "RSAPSS" : "RSASSA",
		    h->name);
		goto out;
	}
	r = ASSAY_OK;
 out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);	/* frees pctx too */
	free(der);
	return r;
}
