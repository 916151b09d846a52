/*
 * tpm_quote.c — the agent's TPM through ESAPI, part two: PCR reads (looped:
 * PCR_Read answers at most 8 digests), quotes whose reported PCR values are
 * checked against the quoted digest (read, quote, read; retried on a
 * race), and ActivateCredential of the AK with the EK.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "agent/tpm.h"
#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/proto/quote_req.h"
#include "common/evidence/pcr.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* After the project headers: the TSS redefines some TPM2_* constants. */
#include <tss2_esys.h>
#include <tss2_mu.h>
#include <tss2_rc.h>

#include "agent/tpm_int.h"

#define TPM_QUOTE_TRIES		5

/* PCR values as read, per bank of the selection, in selection order. */
struct pcr_raw {
	size_t	nbanks;
	struct {
		uint16_t	hash;
		uint32_t	mask;
		uint16_t	dlen;
		uint8_t		v[TPM2_PCR_COUNT][TPM2_MAX_DIGEST];
	} bank[TPM2_MAX_BANKS];
};

static int
sel_to_tpml(const struct pcr_selection *sel, const uint32_t *masks,
    TPML_PCR_SELECTION *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < sel->n; i++) {
		TPMS_PCR_SELECTION *s;

		if (masks[i] == 0)
			continue;
		s = &out->pcrSelections[out->count++];
		s->hash = sel->bank[i].hash;
		s->sizeofSelect = 3;
		s->pcrSelect[0] = masks[i] & 0xff;
		s->pcrSelect[1] = (masks[i] >> 8) & 0xff;
		s->pcrSelect[2] = (masks[i] >> 16) & 0xff;
	}
	return ASSAY_OK;
}

static uint32_t
tpms_mask(const TPMS_PCR_SELECTION *s)
{
	uint32_t m = 0;
	size_t i;

	for (i = 0; i < s->sizeofSelect && i < sizeof(s->pcrSelect); i++)
		m |= (uint32_t)s->pcrSelect[i] << (8 * i);
	return m;
}

/* Check sel and set raw's banks from it; left[i]: bank i's PCRs to read. */
static int
raw_start(const struct pcr_selection *sel, struct pcr_raw *raw,
    uint32_t *left)
{
	size_t i;

	memset(raw, 0, sizeof(*raw));
	if (sel->n == 0 || sel->n > TPM2_MAX_BANKS)
		return assay_err_set(ASSAY_ERR_INVAL, "PCR selection of %zu banks",
		    sel->n);
	for (i = 0; i < sel->n; i++) {
		if (sel->bank[i].mask & ~0xffffffu)
			return assay_err_set(ASSAY_ERR_INVAL, "PCR beyond 23");
		left[i] = sel->bank[i].mask;
		raw->bank[i].hash = sel->bank[i].hash;
		raw->bank[i].mask = sel->bank[i].mask;
	}
	raw->nbanks = sel->n;
	return ASSAY_OK;
}

/* Store the digests of one PCR_Read answer in raw; *nv: digests taken. */
static int
raw_take(const struct pcr_selection *sel, uint32_t *left,
    const TPML_PCR_SELECTION *got, const TPML_DIGEST *vals,
    struct pcr_raw *raw, size_t *nv)
{
	const TPM2B_DIGEST *d;
	uint32_t m;
	size_t i, j, k;

	*nv = 0;
	for (j = 0; j < got->count; j++) {
		m = tpms_mask(&got->pcrSelections[j]);
		for (i = 0; i < sel->n; i++)
			if (sel->bank[i].hash ==
			    got->pcrSelections[j].hash && left[i] != 0)
				break;
		if (m != 0 && (i == sel->n || (m & ~left[i]) != 0))
			return assay_err_set(ASSAY_ERR_TPM,
			    "PCR_Read returned PCRs not asked for");
		for (k = 0; k < TPM2_PCR_COUNT; k++) {
			if (!(m & (1u << k)))
				continue;
			if (*nv >= vals->count)
				return assay_err_set(ASSAY_ERR_TPM,
				    "PCR_Read: fewer digests than PCRs");
			d = &vals->digests[(*nv)++];
			if (d->size == 0 || d->size > TPM2_MAX_DIGEST ||
			    (raw->bank[i].dlen != 0 &&
			    raw->bank[i].dlen != d->size))
				return assay_err_set(ASSAY_ERR_TPM,
				    "PCR_Read: digest of %u bytes", d->size);
			raw->bank[i].dlen = d->size;
			memcpy(raw->bank[i].v[k], d->buffer, d->size);
			left[i] &= ~(1u << k);
		}
	}
	return ASSAY_OK;
}

/* Read sel, looping since PCR_Read answers at most 8 digests a call. */
static int
pcr_read_raw(struct tpm *t, const struct pcr_selection *sel,
    struct pcr_raw *raw)
{
	uint32_t left[TPM2_MAX_BANKS];
	TPML_PCR_SELECTION in, *got = NULL;
	TPML_DIGEST *vals = NULL;
	UINT32 upd;
	size_t i, nv, pending;
	int r;
	TSS2_RC rc;

	if ((r = raw_start(sel, raw, left)) != 0)
		return r;
	for (;;) {
		for (i = 0, pending = 0; i < sel->n; i++)
			pending |= left[i];
		if (pending == 0)
			break;
		sel_to_tpml(sel, left, &in);
		if ((rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
		    ESYS_TR_NONE, &in, &upd, &got, &vals)) != TSS2_RC_SUCCESS)
			return tpmx_err("PCR_Read", rc);
		if ((r = raw_take(sel, left, got, vals, raw, &nv)) != 0)
			goto out;
		Esys_Free(got);
		Esys_Free(vals);
		got = NULL;
		vals = NULL;
		if (nv == 0) {
			for (i = 0; i < sel->n && left[i] == 0; i++)
				;
			return assay_err_set(ASSAY_ERR_UNSUPPORTED,
			    "TPM has no PCR bank 0x%04x (or no PCR in 0x%06x)",
			    sel->bank[i].hash, left[i]);
		}
	}
 out:
	Esys_Free(got);
	Esys_Free(vals);
	return r;
}

static int
raw_to_values(const struct pcr_raw *raw, struct pcr_values *out)
{
	size_t i, k;
	int r;

	pcr_values_init(out);
	for (i = 0; i < raw->nbanks; i++)
		for (k = 0; k < TPM2_PCR_COUNT; k++)
			if ((raw->bank[i].mask & (1u << k)) &&
			    (r = pcr_values_set(out, raw->bank[i].hash, k,
			    raw->bank[i].v[k], raw->bank[i].dlen)) != 0)
				return r;
	return ASSAY_OK;
}

int
tpm_pcr_read(const struct tpm_cfg *cfg, const struct pcr_selection *sel,
    struct pcr_values *out)
{
	struct tpm t;
	struct pcr_raw *raw;
	int r;

	pcr_values_init(out);
	if ((r = tpmx_open(cfg, &t)) != 0)
		return r;
	raw = xcalloc(1, sizeof(*raw));
	if ((r = pcr_read_raw(&t, sel, raw)) == 0)
		r = raw_to_values(raw, out);
	tpmx_close(&t);
	free(raw);
	return r;
}

/* pcrDigest of raw in selection order with the quote's hash. */
static int
raw_digest(const struct pcr_raw *raw, uint16_t alg, uint8_t *md,
    unsigned int *mdlen)
{
	const char *name;
	EVP_MD_CTX *ctx;
	size_t i, k;
	int ok;

	switch (alg) {
	case TPM2_ALG_SHA1: name = "SHA1"; break;
	case TPM2_ALG_SHA256: name = "SHA256"; break;
	case TPM2_ALG_SHA384: name = "SHA384"; break;
	case TPM2_ALG_SHA512: name = "SHA512"; break;
	default:
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "quote hash 0x%04x", alg);
	}
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_get_digestbyname(name), NULL) == 1;
	for (i = 0; ok && i < raw->nbanks; i++)
		for (k = 0; ok && k < TPM2_PCR_COUNT; k++)
			if (raw->bank[i].mask & (1u << k))
				ok = EVP_DigestUpdate(ctx, raw->bank[i].v[k],
				    raw->bank[i].dlen) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, md, mdlen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? ASSAY_OK : assay_err_set(ASSAY_ERR_CRYPTO,
	    "PCR digest failed");
}

static uint16_t
sig_hash(const TPMT_SIGNATURE *s)
{
	switch (s->sigAlg) {
	case TPM2_ALG_RSASSA: return s->signature.rsassa.hash;
	case TPM2_ALG_RSAPSS: return s->signature.rsapss.hash;
	case TPM2_ALG_ECDSA: return s->signature.ecdsa.hash;
	default: return TPM2_ALG_NULL;
	}
}

/*
 * Check one quote against the reads around it: 0 if consistent,
 * ASSAY_ERR_BUSY if the PCRs moved (retry), another error otherwise.
 */
static int
quote_check(const TPM2B_ATTEST *q, const TPMT_SIGNATURE *sig,
    const uint8_t *nonce, size_t nonce_len, const struct pcr_selection *sel,
    const struct pcr_raw *before, const struct pcr_raw *after)
{
	struct tpm2_quote_info qi;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int r;

	/* The verifier's own parser: the agent ships what it checks. */
	if (tpm2_attest_parse(q->attestationData, q->size, &qi) != 0)
		return assay_err_set(ASSAY_ERR_TPM, "Quote: TPMS_ATTEST does "
		    "not parse (%s)", assay_err_detail());
	if (qi.h.magic != TPM2_GENERATED_VALUE || qi.h.type != TPM2_ST_ATTEST_QUOTE ||
	    qi.h.extra_data.len != nonce_len ||
	    (nonce_len > 0 && memcmp(qi.h.extra_data.p, nonce, nonce_len) != 0))
		return assay_err_set(ASSAY_ERR_TPM,
		    "Quote: magic, type or nonce not as asked");
	if (!pcr_selection_equal(&qi.pcr_select, sel))
		return assay_err_set(ASSAY_ERR_TPM, "Quote pcrSelect differs "
		    "from the selection asked for");
	if (memcmp(before, after, sizeof(*before)) != 0)
		return ASSAY_ERR_BUSY;
	if ((r = raw_digest(after, sig_hash(sig), md, &mdlen)) != 0)
		return r;
	if (qi.pcr_digest.len != mdlen ||
	    memcmp(qi.pcr_digest.p, md, mdlen) != 0)
		return ASSAY_ERR_BUSY;
	return ASSAY_OK;
}

/* Check the quote's arguments; the nonce into qd, the selection into tsel. */
static int
quote_args(const uint8_t *nonce, size_t nonce_len,
    const struct pcr_selection *sel, TPM2B_DATA *qd, TPML_PCR_SELECTION *tsel)
{
	uint32_t masks[TPM2_MAX_BANKS];
	size_t i;

	if (nonce_len > QUOTE_NONCE_MAX || nonce_len > sizeof(qd->buffer))
		return assay_err_set(ASSAY_ERR_INVAL, "nonce of %zu bytes, "
		    "at most %d", nonce_len, QUOTE_NONCE_MAX);
	if (sel->n == 0 || sel->n > TPM2_MAX_BANKS)
		return assay_err_set(ASSAY_ERR_INVAL, "PCR selection of %zu "
		    "banks", sel->n);
	memset(qd, 0, sizeof(*qd));
	qd->size = (UINT16)nonce_len;
	if (nonce_len > 0)
		memcpy(qd->buffer, nonce, nonce_len);
	for (i = 0; i < sel->n; i++)
		masks[i] = sel->bank[i].mask;
	sel_to_tpml(sel, masks, tsel);
	if (tsel->count != sel->n)
		return assay_err_set(ASSAY_ERR_INVAL, "empty bank in selection");
	return ASSAY_OK;
}

/* Read, quote, read until the reads agree with the quote (or give up). */
static int
quote_consistent(struct tpm *t, ESYS_TR ak, const TPM2B_DATA *qd,
    const TPML_PCR_SELECTION *tsel, const struct pcr_selection *sel,
    struct pcr_raw *before, struct pcr_raw *after, TPM2B_ATTEST **q,
    TPMT_SIGNATURE **s)
{
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	int r = ASSAY_OK, tries;
	TSS2_RC rc;

	for (tries = 0; tries < TPM_QUOTE_TRIES; tries++) {
		Esys_Free(*q);
		Esys_Free(*s);
		*q = NULL;
		*s = NULL;
		if ((r = pcr_read_raw(t, sel, before)) != 0)
			return r;
		if ((rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE,
		    ESYS_TR_NONE, qd, &scheme, tsel, q, s)) != TSS2_RC_SUCCESS)
			return tpmx_err("Quote", rc);
		if ((r = pcr_read_raw(t, sel, after)) != 0)
			return r;
		r = quote_check(*q, *s, qd->buffer, qd->size, sel, before, after);
		if (r != ASSAY_ERR_BUSY)
			break;
		log_debug("tpm: PCRs changed during quote, retrying");
	}
	if (r == ASSAY_ERR_BUSY)
		return assay_err_set(ASSAY_ERR_BUSY, "PCRs kept changing during "
		    "%d quote attempts", TPM_QUOTE_TRIES);
	return r;
}

/* Hand out the quote, its marshalled signature and the PCR values. */
static int
quote_output(const TPM2B_ATTEST *q, const TPMT_SIGNATURE *s,
    const struct pcr_raw *after, uint8_t **attest, size_t *attest_len,
    uint8_t **sig, size_t *sig_len, struct pcr_values *pcrs)
{
	int r;

	if ((r = raw_to_values(after, pcrs)) != 0 ||
	    (r = tpmx_marshal_signature(s, sig, sig_len)) != 0)
		return r;
	*attest = xmemdup(q->attestationData, q->size);
	*attest_len = q->size;
	return ASSAY_OK;
}

int
tpm_quote(const struct tpm_cfg *cfg, const uint8_t *nonce, size_t nonce_len,
    const struct pcr_selection *sel, uint8_t **attest, size_t *attest_len,
    uint8_t **sig, size_t *sig_len, struct pcr_values *pcrs)
{
	struct tpm t;
	struct pcr_raw *before = NULL, *after = NULL;
	TPM2B_PUBLIC *akpub = NULL;
	TPM2B_ATTEST *q = NULL;
	TPMT_SIGNATURE *s = NULL;
	TPML_PCR_SELECTION tsel;
	TPM2B_DATA qd;
	ESYS_TR ak = ESYS_TR_NONE;
	int r;

	*attest = *sig = NULL;
	*attest_len = *sig_len = 0;
	pcr_values_init(pcrs);
	if ((r = quote_args(nonce, nonce_len, sel, &qd, &tsel)) != 0)
		return r;
	if ((r = tpmx_open(cfg, &t)) != 0)
		return r;
	before = xcalloc(1, sizeof(*before));
	after = xcalloc(1, sizeof(*after));
	if ((r = tpmx_ak_need(&t, cfg, &ak, &akpub)) != 0)
		goto out;
	if ((r = quote_consistent(&t, ak, &qd, &tsel, sel, before, after,
	    &q, &s)) != 0)
		goto out;
	r = quote_output(q, s, after, attest, attest_len, sig, sig_len, pcrs);
 out:
	if (r != ASSAY_OK)
		pcr_values_init(pcrs);
	Esys_Free(q);
	Esys_Free(s);
	Esys_Free(akpub);
	free(before);
	free(after);
	tpmx_close(&t);
	return r;
}

int
tpm_activate(const struct tpm_cfg *cfg, const uint8_t *cred, size_t cred_len,
    const uint8_t *secret, size_t secret_len, uint8_t **out, size_t *out_len)
{
	struct tpm t;
	struct ek ek = { .tr = ESYS_TR_NONE };
	TPM2B_ID_OBJECT idobj;
	TPM2B_ENCRYPTED_SECRET esec;
	TPM2B_DIGEST *info = NULL;
	TPM2B_PUBLIC *akpub = NULL;
	ESYS_TR ak = ESYS_TR_NONE, sess = ESYS_TR_NONE;
	size_t off;
	int r;
	TSS2_RC rc;

	*out = NULL;
	*out_len = 0;
	memset(&idobj, 0, sizeof(idobj));
	memset(&esec, 0, sizeof(esec));
	off = 0;
	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(cred, cred_len, &off, &idobj) !=
	    TSS2_RC_SUCCESS || off != cred_len)
		return assay_err_set(ASSAY_ERR_FORMAT, "credential blob is not "
		    "exactly one TPM2B_ID_OBJECT");
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(secret, secret_len, &off,
	    &esec) != TSS2_RC_SUCCESS || off != secret_len)
		return assay_err_set(ASSAY_ERR_FORMAT, "secret is not exactly "
		    "one TPM2B_ENCRYPTED_SECRET");

	if ((r = tpmx_open(cfg, &t)) != 0)
		return r;
	if ((r = tpmx_ak_need(&t, cfg, &ak, &akpub)) != 0)
		goto out;
	if ((r = tpmx_ek_load(&t, cfg->ek_alg, &ek)) != 0 ||
	    (r = tpmx_ek_auth(&t, &ek, &sess)) != 0)
		goto out;
	if ((rc = Esys_ActivateCredential(t.esys, ak, ek.tr, ESYS_TR_PASSWORD,
	    sess, ESYS_TR_NONE, &idobj, &esec, &info)) != TSS2_RC_SUCCESS) {
		r = tpmx_err("ActivateCredential", rc);
		goto out;
	}
	*out = xmemdup(info->buffer, info->size);
	*out_len = info->size;
	r = ASSAY_OK;
 out:
	tpmx_ek_auth_done(&t, sess);
	if (info != NULL) {
		OPENSSL_cleanse(info, sizeof(*info));
		Esys_Free(info);
	}
	OPENSSL_cleanse(&idobj, sizeof(idobj));
	OPENSSL_cleanse(&esec, sizeof(esec));
	Esys_Free(akpub);
	tpmx_ek_free(&ek);
	tpmx_close(&t);
	return r;
}

/* One extend's digests into dv; *used: bytes of digests taken. */
static int
extend_values(const uint16_t *algs, size_t n, const uint8_t *digests,
    TPML_DIGEST_VALUES *dv, size_t *used)
{
	*used = 0;
	memset(dv, 0, sizeof(*dv));
	dv->count = (UINT32)n;
	for (size_t i = 0; i < n; i++) {
		const struct tpm2_hash *h = tpm2_hash_by_alg(algs[i]);

		if (h == NULL || h->size > sizeof(dv->digests[i].digest))
			return assay_err_set(ASSAY_ERR_UNSUPPORTED,
			    "PCR extend: unknown bank 0x%04x", algs[i]);
		dv->digests[i].hashAlg = algs[i];
		memcpy(&dv->digests[i].digest, digests + *used, h->size);
		*used += h->size;
	}
	return ASSAY_OK;
}

int
tpm_pcr_extend_seq(const struct tpm_cfg *cfg, unsigned pcr,
    const uint16_t *algs, size_t n, const uint8_t *digests, size_t count)
{
	TPML_DIGEST_VALUES dv;
	struct tpm t;
	TSS2_RC rc;
	size_t used, off = 0;
	int r;

	if (pcr >= TPM2_PCR_COUNT || n == 0 || n > TPM2_NUM_PCR_BANKS)
		return assay_err_set(ASSAY_ERR_INVAL, "PCR extend: bad arguments");
	if ((r = tpmx_open(cfg, &t)) != 0)
		return r;
	for (size_t k = 0; k < count && r == ASSAY_OK; k++) {
		if ((r = extend_values(algs, n, digests + off, &dv, &used)) != 0)
			break;
		off += used;
		rc = Esys_PCR_Extend(t.esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
		    ESYS_TR_NONE, ESYS_TR_NONE, &dv);
		if (rc != TSS2_RC_SUCCESS)
			r = tpmx_err("PCR_Extend", rc);
	}
	tpmx_close(&t);
	return r;
}

int
tpm_pcr_extend(const struct tpm_cfg *cfg, unsigned pcr, const uint16_t *algs,
    const uint8_t *const *digests, size_t n)
{
	uint8_t packed[TPM2_NUM_PCR_BANKS * TPM2_MAX_DIGEST];
	size_t off = 0;

	if (n == 0 || n > TPM2_NUM_PCR_BANKS)
		return assay_err_set(ASSAY_ERR_INVAL, "PCR extend: bad arguments");
	for (size_t i = 0; i < n; i++) {
		const struct tpm2_hash *h = tpm2_hash_by_alg(algs[i]);

		if (h == NULL)
			return assay_err_set(ASSAY_ERR_UNSUPPORTED,
			    "PCR extend: unknown bank 0x%04x", algs[i]);
		memcpy(packed + off, digests[i], h->size);
		off += h->size;
	}
	return tpm_pcr_extend_seq(cfg, pcr, algs, n, packed, 1);
}
