/*
 * certify_fixture.h — shared by test_certify.c and test_tsskey.c, on top
 * of agent_tpm_fixture.h (the private swtpm): what the verifier holds
 * about the agent's AK, an identity key made under the SRK at 0x81000001
 * (agent/tpm_ident.c), its certification by the AK over a fresh nonce, and
 * certify_verify (common/evidence/certify.c) run on that evidence.
 */
#ifndef ASSAY_TEST_CERTIFY_FIXTURE_H
#define ASSAY_TEST_CERTIFY_FIXTURE_H

#include "tests/unit/agent_tpm_fixture.h"

#include "common/evidence/certify.h"
#include "common/evidence/tpm_public.h"
#include "common/xmalloc.h"

#define SRK		TPM_IDKEY_PARENT_DEFAULT
#define IDKEY_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT)

/* What the verifier holds about the agent: its AK, key and Qualified Name. */
struct ak {
	struct tpm_identity	 id;
	struct tpm2_public	 pub, ek;
	uint8_t			 qn[TPM2_NAME_MAX];
	size_t			 qn_len;
};

FIXTURE void
ak_load(const struct tpm_cfg *c, struct ak *a)
{
	memset(a, 0, sizeof(*a));
	a->id = load(c);
	ck_assert_int_eq(tpm2_public_parse(a->id.ak_pub, a->id.ak_pub_len,
	    &a->pub), ASSAY_OK);
	ck_assert_int_eq(tpm2_public_parse(a->id.ek_pub, a->id.ek_pub_len,
	    &a->ek), ASSAY_OK);
	ck_assert_int_eq(tpm2_ak_qualified_name(&a->ek, &a->pub, a->qn,
	    &a->qn_len), ASSAY_OK);
}

FIXTURE void
ak_free(struct ak *a)
{
	tpm2_public_free(&a->pub);
	tpm2_public_free(&a->ek);
	tpm_identity_free(&a->id);
}

FIXTURE void
key_create(const struct tpm_cfg *c, struct tpm_idkey *k)
{
	int r;

	memset(k, 0, sizeof(*k));
	r = tpm_ident_create(c, SRK, &k->pub, &k->pub_len, &k->priv,
	    &k->priv_len);
	ck_assert_msg(r == ASSAY_OK, "tpm_ident_create: %s: %s",
	    assay_strerror(r), assay_err_detail());
	k->parent = SRK;
	k->empty_auth = 1;
}

/* A certification: the key's public, TPMS_ATTEST, TPMT_SIGNATURE (owned). */
struct cert {
	uint8_t	*pub, *attest, *sig;
	size_t	 pub_len, attest_len, sig_len;
	uint8_t	 nonce[32];
};

FIXTURE void
certify(const struct tpm_cfg *c, const struct tpm_idkey *k, struct cert *ce)
{
	int r;

	memset(ce, 0, sizeof(*ce));
	RAND_bytes(ce->nonce, sizeof(ce->nonce));
	r = tpm_ident_certify(c, k, ce->nonce, sizeof(ce->nonce), &ce->attest,
	    &ce->attest_len, &ce->sig, &ce->sig_len);
	ck_assert_msg(r == ASSAY_OK, "tpm_ident_certify: %s: %s",
	    assay_strerror(r), assay_err_detail());
	ce->pub = xmemdup(k->pub, k->pub_len);
	ce->pub_len = k->pub_len;
}

FIXTURE void
cert_free(struct cert *ce)
{
	free(ce->pub);
	free(ce->attest);
	free(ce->sig);
}

/* certify_verify with the given evidence, expectation parts. */
FIXTURE int
verify(const struct cert *ce, EVP_PKEY *ak, const uint8_t *qn, size_t qn_len,
    const uint8_t *nonce, struct tpm2_public *key, struct verdict *v)
{
	struct certify_evidence ev = { .pub = ce->pub, .pub_len = ce->pub_len,
	    .attest = ce->attest, .attest_len = ce->attest_len,
	    .sig = ce->sig, .sig_len = ce->sig_len };
	struct certify_expect ex = { .ak = ak, .ak_name = qn,
	    .ak_name_len = qn_len, .nonce = nonce, .nonce_len = 32 };

	verdict_init(v);
	return certify_verify(&ev, &ex, key, v);
}

#endif
