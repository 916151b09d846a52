/*
 * tpm.c — the agent's TPM through ESAPI, part one: opening and closing
 * the TPM (every call opens the TCTI, flushes every transient object and
 * session it made, and closes the TCTI before returning), the EK
 * (persistent at a TCG default handle or created from the TCG EK Credential
 * Profile template) and the persisted restricted signing AK. The EK
 * certificate and chain from NV: tpm_nv.c. Quotes, PCR reads,
 * activation: tpm_quote.c.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/tpm.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/pcr.h"
#include "common/log.h"
#include "common/xmalloc.h"

/* After the project headers: the TSS redefines some TPM2_* constants. */
#include <tss2_esys.h>
#include <tss2_mu.h>
#include <tss2_rc.h>
#include <tss2_tctildr.h>

#include "agent/tpm_int.h"

#define PERSISTENT_FIRST	0x81000000u
#define PERSISTENT_LAST		0x817fffffu

#define EK_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY | \
	TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT)
/*
 * noDA: the AK's authValue is empty, so dictionary-attack protection buys
 * nothing, while every unclean shutdown counts as a failed try: without
 * it a host that loses power a few times is locked out of attestation.
 */
#define AK_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

/* PolicySecret(TPM_RH_ENDORSEMENT) with an empty policyRef. */
static const uint8_t policy_secret_eh_sha256[] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d,
	0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64,
	0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};
static const uint8_t policy_secret_eh_sha384[] = {
	0x8b, 0xbf, 0x22, 0x66, 0x53, 0x7c, 0x17, 0x1c, 0xb5, 0x6e, 0x40, 0x3c,
	0x4d, 0xc1, 0xd4, 0xb6, 0x4f, 0x43, 0x26, 0x11, 0xdc, 0x38, 0x6e, 0x6f,
	0x53, 0x20, 0x50, 0xc3, 0x27, 0x8c, 0x93, 0x0e, 0x14, 0x3e, 0x8b, 0xb1,
	0x13, 0x38, 0x24, 0xcc, 0xb4, 0x31, 0x05, 0x38, 0x71, 0xc6, 0xdb, 0x53,
};

/*
 * EKs we accept, in order of preference per algorithm. The first two are
 * the TCG low-range default templates (L-1, L-2) and may be created; the
 * last is the P-384 EK that swtpm_setup persists (only used, never made).
 */
static const struct ek_profile {
	uint16_t	alg;
	uint32_t	handle;
	uint32_t	cert_nv;
	uint16_t	curve;		/* ECC only */
	uint16_t	name_alg;
	uint16_t	sym_bits;
	int		tcg_default;	/* exact template, may CreatePrimary */
} ek_profiles[] = {
	{ TPM2_ALG_RSA, 0x81010001u, 0x01c00002u, 0, TPM2_ALG_SHA256, 128, 1 },
	{ TPM2_ALG_ECC, 0x81010002u, 0x01c0000au, TPM2_ECC_NIST_P256,
	    TPM2_ALG_SHA256, 128, 1 },
	{ TPM2_ALG_ECC, 0x81010016u, 0x01c00016u, TPM2_ECC_NIST_P384,
	    TPM2_ALG_SHA384, 256, 0 },
};


int
tpmx_err(const char *cmd, TSS2_RC rc)
{
	return assay_err_set(ASSAY_ERR_TPM, "TPM %s failed: %s (0x%x)", cmd,
	    Tss2_RC_Decode(rc), (unsigned)rc);
}

void
tpmx_track(struct tpm *t, ESYS_TR tr)
{
	if (t->nflush == TPM_TRACK_MAX)
		fatalx("tpm: too many transient handles");
	t->flush[t->nflush++] = tr;
}

/* Flush now (when it is done with) rather than at close. */
void
tpmx_flush(struct tpm *t, ESYS_TR tr)
{
	size_t i;

	for (i = 0; i < t->nflush; i++) {
		if (t->flush[i] != tr)
			continue;
		(void)Esys_FlushContext(t->esys, tr);
		memmove(&t->flush[i], &t->flush[i + 1],
		    (t->nflush - i - 1) * sizeof(t->flush[0]));
		t->nflush--;
		return;
	}
}

void
tpmx_close(struct tpm *t)
{
	TSS2_RC rc;

	while (t->nflush > 0) {
		t->nflush--;
		if ((rc = Esys_FlushContext(t->esys, t->flush[t->nflush])) !=
		    TSS2_RC_SUCCESS)
			log_warnx("tpm: flush 0x%x: %s", t->flush[t->nflush],
			    Tss2_RC_Decode(rc));
	}
	if (t->esys != NULL)
		Esys_Finalize(&t->esys);
	if (t->tcti != NULL)
		Tss2_TctiLdr_Finalize(&t->tcti);
}

uint32_t
tpmx_ak_handle(const struct tpm_cfg *cfg)
{
	return cfg->ak_handle != 0 ? cfg->ak_handle : TPM_AK_HANDLE_DEFAULT;
}

int
tpmx_open(const struct tpm_cfg *cfg, struct tpm *t)
{
	TSS2_RC rc;
	uint32_t h = tpmx_ak_handle(cfg);

	memset(t, 0, sizeof(*t));
	if (h < PERSISTENT_FIRST || h > PERSISTENT_LAST)
		return assay_err_set(ASSAY_ERR_CONFIG,
		    "AK handle 0x%08x is not an owner persistent handle", h);
	if ((rc = Tss2_TctiLdr_Initialize(cfg->tcti, &t->tcti)) !=
	    TSS2_RC_SUCCESS) {
		t->tcti = NULL;
		return assay_err_set(ASSAY_ERR_TPM, "TCTI \"%s\": %s (0x%x)",
		    cfg->tcti != NULL ? cfg->tcti : "(default)",
		    Tss2_RC_Decode(rc), (unsigned)rc);
	}
	if ((rc = Esys_Initialize(&t->esys, t->tcti, NULL)) != TSS2_RC_SUCCESS) {
		t->esys = NULL;
		tpmx_close(t);
		return tpmx_err("Esys_Initialize", rc);
	}
	rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
	if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
		tpmx_close(t);
		return tpmx_err("Startup", rc);
	}
	return ASSAY_OK;
}

/* Is this persistent or NV handle defined? */
int
tpmx_handle_present(struct tpm *t, uint32_t h, int *present)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;

	*present = 0;
	rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, TPM2_CAP_HANDLES, h, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tpmx_err("GetCapability(handles)", rc);
	*present = cap->data.handles.count > 0 &&
	    cap->data.handles.handle[0] == h;
	Esys_Free(cap);
	return ASSAY_OK;
}

int
tpmx_marshal_public(const TPM2B_PUBLIC *pub, uint8_t **out, size_t *outlen)
{
	uint8_t tmp[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;
	TSS2_RC rc;

	if ((rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, tmp, sizeof(tmp), &off)) !=
	    TSS2_RC_SUCCESS)
		return tpmx_err("marshal TPM2B_PUBLIC", rc);
	*out = xmemdup(tmp, off);
	*outlen = off;
	return ASSAY_OK;
}

int
tpmx_marshal_signature(const TPMT_SIGNATURE *s, uint8_t **out, size_t *outlen)
{
	uint8_t tmp[sizeof(TPMT_SIGNATURE)];
	size_t off = 0;
	TSS2_RC rc;

	if ((rc = Tss2_MU_TPMT_SIGNATURE_Marshal(s, tmp, sizeof(tmp), &off)) !=
	    TSS2_RC_SUCCESS)
		return tpmx_err("marshal TPMT_SIGNATURE", rc);
	*out = xmemdup(tmp, off);
	*outlen = off;
	return ASSAY_OK;
}

static void
ek_template(const struct ek_profile *p, TPM2B_PUBLIC *tp)
{
	TPMT_PUBLIC *pa = &tp->publicArea;

	memset(tp, 0, sizeof(*tp));
	pa->type = p->alg;
	pa->nameAlg = TPM2_ALG_SHA256;
	pa->objectAttributes = EK_ATTRS;
	pa->authPolicy.size = sizeof(policy_secret_eh_sha256);
	memcpy(pa->authPolicy.buffer, policy_secret_eh_sha256,
	    sizeof(policy_secret_eh_sha256));
	if (p->alg == TPM2_ALG_RSA) {
		pa->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
		pa->parameters.rsaDetail.symmetric.keyBits.aes = 128;
		pa->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		pa->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		pa->parameters.rsaDetail.keyBits = 2048;
		pa->parameters.rsaDetail.exponent = 0;
		pa->unique.rsa.size = 256;
	} else {
		pa->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
		pa->parameters.eccDetail.symmetric.keyBits.aes = 128;
		pa->parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
		pa->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		pa->parameters.eccDetail.curveID = p->curve;
		pa->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		pa->unique.ecc.x.size = 32;
		pa->unique.ecc.y.size = 32;
	}
}

/*
 * Does a persistent key fit profile p? The TCG defaults must match their
 * template exactly (all but unique); other profiles need the EK
 * attributes and an auth we can satisfy: userWithAuth (password) or an
 * authPolicy of plain PolicySecret(endorsement) in the key's nameAlg.
 */
static int
ek_matches(const struct ek_profile *p, const TPMT_PUBLIC *pa, int *policy)
{
	const TPMT_SYM_DEF_OBJECT *sym;
	const uint8_t *want = NULL;
	size_t wantlen = 0;

	if (pa->type != p->alg || pa->nameAlg != p->name_alg)
		return 0;
	if (pa->type == TPM2_ALG_RSA) {
		const TPMS_RSA_PARMS *r = &pa->parameters.rsaDetail;

		if (r->keyBits != 2048 || (r->exponent != 0 &&
		    r->exponent != 65537) || r->scheme.scheme != TPM2_ALG_NULL)
			return 0;
		sym = &r->symmetric;
	} else {
		const TPMS_ECC_PARMS *e = &pa->parameters.eccDetail;

		if (e->curveID != p->curve || e->scheme.scheme != TPM2_ALG_NULL ||
		    e->kdf.scheme != TPM2_ALG_NULL)
			return 0;
		sym = &e->symmetric;
	}
	if (sym->algorithm != TPM2_ALG_AES || sym->keyBits.aes != p->sym_bits ||
	    sym->mode.aes != TPM2_ALG_CFB)
		return 0;
	if (pa->nameAlg == TPM2_ALG_SHA256) {
		want = policy_secret_eh_sha256;
		wantlen = sizeof(policy_secret_eh_sha256);
	} else if (pa->nameAlg == TPM2_ALG_SHA384) {
		want = policy_secret_eh_sha384;
		wantlen = sizeof(policy_secret_eh_sha384);
	}
	*policy = want != NULL && pa->authPolicy.size == wantlen &&
	    memcmp(pa->authPolicy.buffer, want, wantlen) == 0;
	if (p->tcg_default)
		return pa->objectAttributes == EK_ATTRS && *policy;
	if ((pa->objectAttributes & ~TPMA_OBJECT_USERWITHAUTH) != EK_ATTRS)
		return 0;
	if (pa->objectAttributes & TPMA_OBJECT_USERWITHAUTH) {
		*policy = 0;	/* the empty password will do */
		return 1;
	}
	return *policy;
}

/* Find the EK: a persistent one of a known profile, else create L-1/L-2. */
int
tpmx_ek_load(struct tpm *t, uint16_t alg, struct ek *ek)
{
	const struct ek_profile *create = NULL;
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_PUBLIC tmpl;
	TPML_PCR_SELECTION nopcr;
	ESYS_TR tr;
	size_t i;
	int r, present, policy;
	TSS2_RC rc;

	memset(ek, 0, sizeof(*ek));
	ek->tr = ESYS_TR_NONE;
	if (alg == 0)
		alg = TPM2_ALG_RSA;
	if (alg != TPM2_ALG_RSA && alg != TPM2_ALG_ECC)
		return assay_err_set(ASSAY_ERR_CONFIG,
		    "EK algorithm 0x%04x unsupported", alg);
	for (i = 0; i < sizeof(ek_profiles) / sizeof(ek_profiles[0]); i++) {
		const struct ek_profile *p = &ek_profiles[i];

		if (p->alg != alg)
			continue;
		if (create == NULL && p->tcg_default)
			create = p;
		if ((r = tpmx_handle_present(t, p->handle, &present)) != 0)
			return r;
		if (!present)
			continue;
		if ((rc = Esys_TR_FromTPMPublic(t->esys, p->handle, ESYS_TR_NONE,
		    ESYS_TR_NONE, ESYS_TR_NONE, &tr)) != TSS2_RC_SUCCESS)
			return tpmx_err("TR_FromTPMPublic(EK)", rc);
		if ((rc = Esys_ReadPublic(t->esys, tr, ESYS_TR_NONE,
		    ESYS_TR_NONE, ESYS_TR_NONE, &ek->pub, NULL, NULL)) !=
		    TSS2_RC_SUCCESS)
			return tpmx_err("ReadPublic(EK)", rc);
		if (ek_matches(p, &ek->pub->publicArea, &policy)) {
			ek->tr = tr;
			ek->policy = policy;
			ek->name_alg = ek->pub->publicArea.nameAlg;
			ek->cert_nv = p->cert_nv;
			return ASSAY_OK;
		}
		log_debug("tpm: key at 0x%08x is not an EK we use", p->handle);
		Esys_Free(ek->pub);
		ek->pub = NULL;
		(void)Esys_TR_Close(t->esys, &tr);
	}

	ek_template(create, &tmpl);
	memset(&sens, 0, sizeof(sens));
	memset(&nopcr, 0, sizeof(nopcr));
	if ((rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, NULL,
	    &nopcr, &tr, &ek->pub, NULL, NULL, NULL)) != TSS2_RC_SUCCESS)
		return tpmx_err("CreatePrimary(EK)", rc);
	tpmx_track(t, tr);
	ek->tr = tr;
	ek->policy = 1;
	ek->name_alg = TPM2_ALG_SHA256;
	ek->cert_nv = create->cert_nv;
	return ASSAY_OK;
}

void
tpmx_ek_free(struct ek *ek)
{
	Esys_Free(ek->pub);
	ek->pub = NULL;
}

/*
 * The session that authorizes use of the EK: a fresh policy session with
 * PolicySecret(endorsement) (caller flushes it with tpmx_flush after the
 * command), or the password session.
 */
int
tpmx_ek_auth(struct tpm *t, const struct ek *ek, ESYS_TR *sess)
{
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	TSS2_RC rc;

	*sess = ESYS_TR_PASSWORD;
	if (!ek->policy)
		return ASSAY_OK;
	if ((rc = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY,
	    &sym, ek->name_alg, sess)) != TSS2_RC_SUCCESS) {
		*sess = ESYS_TR_NONE;
		return tpmx_err("StartAuthSession(policy)", rc);
	}
	tpmx_track(t, *sess);
	if ((rc = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, *sess,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, NULL, NULL, NULL, 0,
	    NULL, NULL)) != TSS2_RC_SUCCESS)
		return tpmx_err("PolicySecret(endorsement)", rc);
	return ASSAY_OK;
}

void
tpmx_ek_auth_done(struct tpm *t, ESYS_TR sess)
{
	if (sess != ESYS_TR_PASSWORD && sess != ESYS_TR_NONE)
		tpmx_flush(t, sess);
}

static void
ak_template(uint16_t alg, TPM2B_PUBLIC *tp)
{
	TPMT_PUBLIC *pa = &tp->publicArea;

	memset(tp, 0, sizeof(*tp));
	pa->type = alg;
	pa->nameAlg = TPM2_ALG_SHA256;
	pa->objectAttributes = AK_ATTRS;
	if (alg == TPM2_ALG_RSA) {
		pa->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		pa->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
		pa->parameters.rsaDetail.scheme.details.rsassa.hashAlg =
		    TPM2_ALG_SHA256;
		pa->parameters.rsaDetail.keyBits = 2048;
	} else {
		pa->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		pa->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		pa->parameters.eccDetail.scheme.details.ecdsa.hashAlg =
		    TPM2_ALG_SHA256;
		pa->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		pa->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	}
}

/* The persistent AK, if its handle holds one (*tr ESYS_TR_NONE if not). */
int
tpmx_ak_find(struct tpm *t, const struct tpm_cfg *cfg, ESYS_TR *tr,
    TPM2B_PUBLIC **pub)
{
	uint32_t h = tpmx_ak_handle(cfg);
	int r, present;
	TSS2_RC rc;

	*tr = ESYS_TR_NONE;
	*pub = NULL;
	if ((r = tpmx_handle_present(t, h, &present)) != 0 || !present)
		return r;
	if ((rc = Esys_TR_FromTPMPublic(t->esys, h, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, tr)) != TSS2_RC_SUCCESS) {
		*tr = ESYS_TR_NONE;
		return tpmx_err("TR_FromTPMPublic(AK)", rc);
	}
	if ((rc = Esys_ReadPublic(t->esys, *tr, ESYS_TR_NONE, ESYS_TR_NONE,
	    ESYS_TR_NONE, pub, NULL, NULL)) != TSS2_RC_SUCCESS)
		return tpmx_err("ReadPublic(AK)", rc);
	/* An AK made before noDA was added is still an AK. */
	if (((*pub)->publicArea.objectAttributes & (AK_ATTRS & ~TPMA_OBJECT_NODA)) !=
	    (AK_ATTRS & ~TPMA_OBJECT_NODA) ||
	    ((*pub)->publicArea.objectAttributes & TPMA_OBJECT_DECRYPT))
		return assay_err_set(ASSAY_ERR_CONFIG, "handle 0x%08x holds a "
		    "key that is not a restricted signing key", h);
	return ASSAY_OK;
}

/* The persistent AK, which must exist (the identity was loaded). */
int
tpmx_ak_need(struct tpm *t, const struct tpm_cfg *cfg, ESYS_TR *ak,
    TPM2B_PUBLIC **akpub)
{
	int r;

	if ((r = tpmx_ak_find(t, cfg, ak, akpub)) != 0)
		return r;
	if (*ak == ESYS_TR_NONE)
		return assay_err_set(ASSAY_ERR_STATE, "no AK at 0x%08x: load the "
		    "identity first", tpmx_ak_handle(cfg));
	return ASSAY_OK;
}

/* Create the AK under the EK, load it, persist it at the AK handle. */
static int
ak_create(struct tpm *t, const struct tpm_cfg *cfg, const struct ek *ek,
    ESYS_TR *tr, TPM2B_PUBLIC **pub)
{
	TPM2B_SENSITIVE_CREATE sens;
	TPM2B_PUBLIC tmpl;
	TPML_PCR_SELECTION nopcr;
	TPM2B_PRIVATE *priv = NULL;
	ESYS_TR sess = ESYS_TR_NONE, ak = ESYS_TR_NONE;
	uint16_t alg = cfg->ak_alg != 0 ? cfg->ak_alg : TPM2_ALG_ECC;
	int r;
	TSS2_RC rc;

	*tr = ESYS_TR_NONE;
	*pub = NULL;
	if (alg != TPM2_ALG_RSA && alg != TPM2_ALG_ECC)
		return assay_err_set(ASSAY_ERR_CONFIG,
		    "AK algorithm 0x%04x unsupported", alg);
	ak_template(alg, &tmpl);
	memset(&sens, 0, sizeof(sens));
	memset(&nopcr, 0, sizeof(nopcr));
	if ((r = tpmx_ek_auth(t, ek, &sess)) != 0)
		goto out;
	if ((rc = Esys_Create(t->esys, ek->tr, sess, ESYS_TR_NONE, ESYS_TR_NONE,
	    &sens, &tmpl, NULL, &nopcr, &priv, pub, NULL, NULL, NULL)) !=
	    TSS2_RC_SUCCESS) {
		r = tpmx_err("Create(AK)", rc);
		goto out;
	}
	tpmx_ek_auth_done(t, sess);
	if ((r = tpmx_ek_auth(t, ek, &sess)) != 0)
		goto out;
	if ((rc = Esys_Load(t->esys, ek->tr, sess, ESYS_TR_NONE, ESYS_TR_NONE,
	    priv, *pub, &ak)) != TSS2_RC_SUCCESS) {
		r = tpmx_err("Load(AK)", rc);
		goto out;
	}
	tpmx_track(t, ak);
	tpmx_ek_auth_done(t, sess);
	sess = ESYS_TR_NONE;
	if ((rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, ak,
	    ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, tpmx_ak_handle(cfg),
	    tr)) != TSS2_RC_SUCCESS) {
		*tr = ESYS_TR_NONE;
		r = tpmx_err("EvictControl(AK)", rc);
		goto out;
	}
	log_info("tpm: created AK at 0x%08x", tpmx_ak_handle(cfg));
	r = ASSAY_OK;
 out:
	tpmx_ek_auth_done(t, sess);
	if (ak != ESYS_TR_NONE)
		tpmx_flush(t, ak);
	Esys_Free(priv);
	return r;
}

int
tpm_identity_load(const struct tpm_cfg *cfg, struct tpm_identity *out)
{
	struct tpm t;
	struct tpm_identity id;
	struct ek ek = { .tr = ESYS_TR_NONE };
	TPM2B_PUBLIC *akpub = NULL;
	TPM2B_NAME *name = NULL;
	ESYS_TR ak = ESYS_TR_NONE;
	uint16_t want_ak = cfg->ak_alg != 0 ? cfg->ak_alg : TPM2_ALG_ECC;
	TSS2_RC rc;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&id, 0, sizeof(id));
	if ((r = tpmx_open(cfg, &t)) != 0)
		return r;
	if ((r = tpmx_ek_load(&t, cfg->ek_alg, &ek)) != 0)
		goto out;
	if ((r = tpmx_marshal_public(ek.pub, &id.ek_pub, &id.ek_pub_len)) != 0 ||
	    (r = tpmx_read_ek_cert(&t, &ek, &id)) != 0 ||
	    (r = tpmx_read_ek_chain(&t, &id)) != 0)
		goto out;
	if ((r = tpmx_ak_find(&t, cfg, &ak, &akpub)) != 0)
		goto out;
	if (ak == ESYS_TR_NONE &&
	    (r = ak_create(&t, cfg, &ek, &ak, &akpub)) != 0)
		goto out;
	if (akpub->publicArea.type != want_ak) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "AK at 0x%08x is of "
		    "algorithm 0x%04x, configured 0x%04x", tpmx_ak_handle(cfg),
		    akpub->publicArea.type, want_ak);
		goto out;
	}
	if ((r = tpmx_marshal_public(akpub, &id.ak_pub, &id.ak_pub_len)) != 0)
		goto out;
	if ((rc = Esys_TR_GetName(t.esys, ak, &name)) != TSS2_RC_SUCCESS) {
		r = tpmx_err("TR_GetName(AK)", rc);
		goto out;
	}
	if (name->size > sizeof(id.ak_name)) {
		r = assay_err_set(ASSAY_ERR_TPM, "AK name of %u bytes",
		    name->size);
		goto out;
	}
	memcpy(id.ak_name, name->name, name->size);
	id.ak_name_len = name->size;
	*out = id;	/* caller owns it now */
	memset(&id, 0, sizeof(id));
	r = ASSAY_OK;
 out:
	Esys_Free(name);
	Esys_Free(akpub);
	tpmx_ek_free(&ek);
	tpmx_close(&t);
	tpm_identity_free(&id);
	return r;
}

void
tpm_identity_free(struct tpm_identity *id)
{
	size_t i;

	if (id == NULL)
		return;
	free(id->ek_pub);
	free(id->ek_cert);
	for (i = 0; i < id->nchain && i < TPM_EK_CHAIN_MAX; i++)
		free(id->chain[i]);
	free(id->ak_pub);
	memset(id, 0, sizeof(*id));
}
