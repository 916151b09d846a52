/*
 * certify.c — a host identity key's certification by the AK (certify.h).
 * The same order as quote.c: parse both structures (a malformed one ends
 * the checks), then every check adds its own failure.
 */
#include <inttypes.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/evidence/certify.h"
#include "common/evidence/tpm2.h"

/* The certification itself: signature, magic, type, nonce, signer. */
static void
check_attest(const struct certify_evidence *ev, const struct certify_expect *ex,
    const struct tpm2_certify_info *ci, const struct tpm2_signature *sig,
    struct verdict *v)
{
	if (tpm2_signature_verify(ex->ak, sig, ev->attest, ev->attest_len) !=
	    ASSAY_OK)
		verdict_fail(v, FID_IDENTITY_SIGNATURE, "%s", assay_err_detail());
	else if (sig->hash_alg == TPM2_ALG_SHA1)
		verdict_fail(v, FID_IDENTITY_SIGNATURE, "the certification is "
		    "signed with SHA-1, which is refused");
	if (ci->h.magic != TPM2_GENERATED_VALUE)
		verdict_fail(v, FID_IDENTITY_FORMAT, "magic 0x%08" PRIx32,
		    ci->h.magic);
	if (ci->h.type != TPM2_ST_ATTEST_CERTIFY)
		verdict_fail(v, FID_IDENTITY_FORMAT, "type 0x%04x, want 0x%04x",
		    ci->h.type, TPM2_ST_ATTEST_CERTIFY);
	if (ex->nonce_len == 0 || ci->h.extra_data.len != ex->nonce_len ||
	    CRYPTO_memcmp(ci->h.extra_data.p, ex->nonce, ex->nonce_len) != 0)
		verdict_fail(v, FID_IDENTITY_NONCE, "extraData (%zu bytes) is "
		    "not this round's nonce", ci->h.extra_data.len);
	if (ex->ak_name != NULL && (ci->h.qualified_signer.len !=
	    ex->ak_name_len || memcmp(ci->h.qualified_signer.p, ex->ak_name,
	    ex->ak_name_len) != 0))
		verdict_fail(v, FID_IDENTITY_SIGNER,
		    "qualifiedSigner is not the enrolled AK");
}

int
certify_verify(const struct certify_evidence *ev,
    const struct certify_expect *ex, struct tpm2_public *key, struct verdict *v)
{
	struct tpm2_certify_info ci;
	struct tpm2_signature sig;
	size_t nfail0 = v->nfail + v->dropped;
	int r;

	memset(key, 0, sizeof(*key));
	r = tpm2_certify_parse(ev->attest, ev->attest_len, &ci);
	if (r != ASSAY_OK && r != ASSAY_ERR_UNSUPPORTED) {
		verdict_fail(v, FID_IDENTITY_FORMAT, "TPMS_ATTEST: %s",
		    assay_err_detail());
		return ASSAY_FAIL;
	}
	if (tpm2_signature_parse(ev->sig, ev->sig_len, &sig) != ASSAY_OK) {
		verdict_fail(v, FID_IDENTITY_FORMAT, "TPMT_SIGNATURE: %s",
		    assay_err_detail());
		return ASSAY_FAIL;
	}
	if (tpm2_public_parse(ev->pub, ev->pub_len, key) != ASSAY_OK) {
		verdict_fail(v, FID_IDENTITY_FORMAT, "identity key: %s",
		    assay_err_detail());
		return ASSAY_FAIL;
	}
	check_attest(ev, ex, &ci, &sig, v);
	/* The Name binds the checked public area to what the TPM certified. */
	if (r == ASSAY_OK && (ci.name.len != key->name_len ||
	    memcmp(ci.name.p, key->name, key->name_len) != 0))
		verdict_fail(v, FID_IDENTITY_NAME, "the certified Name is not "
		    "the Name of the key sent");
	if (tpm2_public_check_identity(key) != ASSAY_OK)
		verdict_fail(v, FID_IDENTITY_KEY, "%s", assay_err_detail());
	if (v->nfail + v->dropped == nfail0)
		return ASSAY_OK;
	tpm2_public_free(key);
	return ASSAY_FAIL;
}
