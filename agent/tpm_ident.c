/*
 * tpm_ident.c — the host identity key in the agent's TPM: an unrestricted
 * ECC P-256 signing key made inside the TPM (fixedTPM, fixedParent,
 * sensitiveDataOrigin: it can never leave) under a persistent storage
 * key, and TPM2_Certify of it by the AK over the verifier's nonce. The
 * storage key is the TCG provisioning guidance's ECC P-256 SRK, persisted
 * at the configured handle (default 0x81000001) when that is empty, so
 * OpenSSL's tpm2 provider loads the key file (tsskey.c) through it.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/tpm.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"

#include <tss2_esys.h>
#include <tss2_mu.h>
#include <tss2_rc.h>

#include "agent/tpm_int.h"

#define SRK_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)
/* noDA: empty authValue (see AK_ATTRS in tpm.c). */
#define IDKEY_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT)

/*
 * An ECC P-256 key, nameAlg SHA-256, scheme and KDF NULL, unique empty.
 * The SRK adds AES-128-CFB (storage keys need a symmetric algorithm) and,
 * unique empty, is the primary the tpm2 provider makes for parent
 * 0x40000001. The identity key keeps symmetric NULL; scheme NULL lets it
 * sign with whatever hash the caller picks (TLS 1.3's
 * ecdsa_secp256r1_sha256, TLS 1.2's choices), ECDSA only.
 */
static void
p256_template(TPM2B_PUBLIC *tp, uint32_t attrs)
{
	TPMT_PUBLIC *pa = &tp->publicArea;

	memset(tp, 0, sizeof(*tp));
	pa->type = TPM2_ALG_ECC;
	pa->nameAlg = TPM2_ALG_SHA256;
	pa->objectAttributes = attrs;
	pa->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pa->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	pa->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	pa->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	if (attrs & TPMA_OBJECT_DECRYPT) {
		pa->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		pa->parameters.eccDetail.symmetric.keyBits.aes = 128;
		pa->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
	}
}

void
tpm_idkey_free(struct tpm_idkey *k)
{
	if (k == NULL)
		return;
	free(k->pub);
	if (k->priv != NULL)
		explicit_bzero(k->priv, k->priv_len);
	free(k->priv);
	memset(k, 0, sizeof(*k));
}

/* The storage parent at h: found (it must be a storage key) or made. */
static int
parent_load(struct tpm *t, uint32_t h, ESYS_TR *tr)
{
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_PUBLIC tmpl, *pub = NULL;
	TPML_PCR_SELECTION nopcr;
	ESYS_TR prim = ESYS_TR_NONE;
	int r, present;
	TSS2_RC rc;

	*tr = ESYS_TR_NONE;
	if ((r = tpmx_handle_present(t, h, &present)) != 0)
		return r;
	if (present) {
		if ((rc = Esys_TR_FromTPMPublic(t->esys, h, ESYS_TR_NONE,
		    ESYS_TR_NONE, ESYS_TR_NONE, tr)) != TSS2_RC_SUCCESS ||
		    (rc = Esys_ReadPublic(t->esys, *tr, ESYS_TR_NONE,
		    ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL)) !=
		    TSS2_RC_SUCCESS)
			return tpmx_err("ReadPublic(identity parent)", rc);
		r = (pub->publicArea.objectAttributes & (TPMA_OBJECT_RESTRICTED |
		    TPMA_OBJECT_DECRYPT | TPMA_OBJECT_SIGN_ENCRYPT)) ==
		    (TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT) ? ASSAY_OK :
		    assay_err_set(ASSAY_ERR_CONFIG, "identity.parent 0x%08x "
		    "holds a key that is not a storage key", h);
		Esys_Free(pub);
		return r;
	}
	p256_template(&tmpl, SRK_ATTRS);
	memset(&sens, 0, sizeof(sens));
	memset(&nopcr, 0, sizeof(nopcr));
	if ((rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, NULL, &nopcr, &prim,
	    NULL, NULL, NULL, NULL)) != TSS2_RC_SUCCESS)
		return tpmx_err("CreatePrimary(SRK)", rc);
	tpmx_track(t, prim);
	if ((rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, prim,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, h, tr)) !=
	    TSS2_RC_SUCCESS)
		return tpmx_err("EvictControl(SRK)", rc);
	tpmx_flush(t, prim);
	log_info("tpm: storage key persisted at 0x%08x", h);
	return ASSAY_OK;
}

int
tpm_ident_create(const struct tpm_cfg *cfg, uint32_t parent, uint8_t **pub,
    size_t *pub_len, uint8_t **priv, size_t *priv_len)
{
	struct tpm t;
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_PUBLIC tmpl, *opub = NULL;
	TPM2B_PRIVATE *opriv = NULL;
	TPML_PCR_SELECTION nopcr;
	uint8_t buf[sizeof(TPM2B_PRIVATE)];
	size_t off = 0;
	ESYS_TR ptr;
	int r;
	TSS2_RC rc;

	*pub = *priv = NULL;
	*pub_len = *priv_len = 0;
	if ((r = tpmx_open(cfg, &t)) != 0)
		return r;
	if ((r = parent_load(&t, parent, &ptr)) != 0)
		goto out;
	p256_template(&tmpl, IDKEY_ATTRS);
	memset(&sens, 0, sizeof(sens));
	memset(&nopcr, 0, sizeof(nopcr));
	if ((rc = Esys_Create(t.esys, ptr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &sens, &tmpl, NULL, &nopcr, &opriv, &opub, NULL,
	    NULL, NULL)) != TSS2_RC_SUCCESS) {
		r = tpmx_err("Create(identity key)", rc);
		goto out;
	}
	if ((rc = Tss2_MU_TPM2B_PRIVATE_Marshal(opriv, buf, sizeof(buf),
	    &off)) != TSS2_RC_SUCCESS) {
		r = tpmx_err("marshal TPM2B_PRIVATE", rc);
		goto out;
	}
	if ((r = tpmx_marshal_public(opub, pub, pub_len)) != 0)
		goto out;
	*priv = xmemdup(buf, off);
	*priv_len = off;
 out:
	Esys_Free(opub);
	Esys_Free(opriv);
	tpmx_close(&t);
	return r;
}

/* Load the key (wire TPM2B_PUBLIC, TPM2B_PRIVATE) under the parent. */
static int
key_load(struct tpm *t, uint32_t parent, const uint8_t *pub, size_t pub_len,
    const uint8_t *priv, size_t priv_len, ESYS_TR *key)
{
	TPM2B_PUBLIC kpub;
	TPM2B_PRIVATE kpriv;
	ESYS_TR ptr;
	size_t off = 0;
	int r;
	TSS2_RC rc;

	memset(&kpub, 0, sizeof(kpub));
	memset(&kpriv, 0, sizeof(kpriv));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(pub, pub_len, &off, &kpub) !=
	    TSS2_RC_SUCCESS || off != pub_len)
		return assay_err_set(ASSAY_ERR_FORMAT, "identity key: bad public");
	off = 0;
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(priv, priv_len, &off, &kpriv) !=
	    TSS2_RC_SUCCESS || off != priv_len)
		return assay_err_set(ASSAY_ERR_FORMAT, "identity key: bad private");
	if ((r = parent_load(t, parent, &ptr)) != 0)
		return r;
	if ((rc = Esys_Load(t->esys, ptr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
	    ESYS_TR_NONE, &kpriv, &kpub, key)) != TSS2_RC_SUCCESS)
		return tpmx_err("Load(identity key)", rc);
	tpmx_track(t, *key);
	return ASSAY_OK;
}

int
tpm_ident_certify(const struct tpm_cfg *cfg, const struct tpm_idkey *k,
    const uint8_t *nonce, size_t nonce_len, uint8_t **attest,
    size_t *attest_len, uint8_t **sig, size_t *sig_len)
{
	struct tpm t;
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPM2B_PUBLIC *akpub = NULL;
	TPM2B_ATTEST *ci = NULL;
	TPMT_SIGNATURE *s = NULL;
	TPM2B_DATA qd;
	ESYS_TR ak, key;
	int r;
	TSS2_RC rc;

	*attest = *sig = NULL;
	*attest_len = *sig_len = 0;
	if (nonce_len > sizeof(qd.buffer))
		return assay_err_set(ASSAY_ERR_INVAL, "nonce too long");
	memset(&qd, 0, sizeof(qd));
	qd.size = (UINT16)nonce_len;
	memcpy(qd.buffer, nonce, nonce_len);
	if ((r = tpmx_open(cfg, &t)) != 0)
		return r;
	if ((r = tpmx_ak_need(&t, cfg, &ak, &akpub)) != 0 ||
	    (r = key_load(&t, k->parent, k->pub, k->pub_len, k->priv,
	    k->priv_len, &key)) != 0)
		goto out;
	if ((rc = Esys_Certify(t.esys, key, ak, ESYS_TR_PASSWORD,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, &qd, &scheme, &ci, &s)) !=
	    TSS2_RC_SUCCESS) {
		r = tpmx_err("Certify(identity key)", rc);
		goto out;
	}
	if ((r = tpmx_marshal_signature(s, sig, sig_len)) != 0)
		goto out;
	*attest = xmemdup(ci->attestationData, ci->size);
	*attest_len = ci->size;
 out:
	Esys_Free(akpub);
	Esys_Free(ci);
	Esys_Free(s);
	tpmx_close(&t);
	return r;
}
