/*
 * quote.c — verification of one TPM2 quote against what the verifier asked
 * for. Every check that can run does run and records its own failure id,
 * so one verdict shows everything wrong with a quote; only a structure
 * that cannot be parsed stops early (quote.format). Pure: bytes in,
 * verdict out.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/attest.h"
#include "common/evidence/pcr.h"
#include "common/evidence/quote.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"

static void
check_pcrs(const struct quote_evidence *ev, const struct quote_expect *ex,
    const struct tpm2_quote_info *qi, uint16_t hash_alg, struct verdict *v)
{
	uint8_t d[TPM2_MAX_DIGEST];
	size_t dlen = 0;
	char *want, *got;
	int r;

	if (ex->sel != NULL && !pcr_selection_equal(&qi->pcr_select, ex->sel)) {
		want = pcr_selection_format(ex->sel);
		got = pcr_selection_format(&qi->pcr_select);
		verdict_fail(v, FID_QUOTE_PCR_SELECT, "quoted %s, requested %s",
		    got, want);
		free(want);
		free(got);
	}
	if (ev->pcrs == NULL) {
		verdict_fail(v, FID_QUOTE_PCR_DIGEST, "no PCR values reported");
		return;
	}
	r = pcr_values_digest(ev->pcrs, &qi->pcr_select, hash_alg, d, &dlen);
	if (r != ASSAY_OK) {
		verdict_fail(v, FID_QUOTE_PCR_DIGEST, "%s", assay_err_detail());
		return;
	}
	if (dlen != qi->pcr_digest.len ||
	    CRYPTO_memcmp(d, qi->pcr_digest.p, dlen) != 0)
		verdict_fail(v, FID_QUOTE_PCR_DIGEST,
		    "reported PCR values do not hash to the quoted pcrDigest");
}

static void
check_clock(const struct tpm2_quote_info *qi, const struct clock_state *prev,
    struct quote_result *res, struct verdict *v)
{
	if (prev == NULL || !prev->valid)
		return;
	if (qi->h.reset_count < prev->reset_count)
		verdict_fail(v, FID_QUOTE_CLOCK, "resetCount %" PRIu32
		    " < previous %" PRIu32, qi->h.reset_count, prev->reset_count);
	else if (qi->h.reset_count > prev->reset_count) {
		res->rebooted = 1;
		verdict_notice(v, FID_TPM_REBOOT, "resetCount %" PRIu32
		    " -> %" PRIu32, prev->reset_count, qi->h.reset_count);
	} else if (qi->h.restart_count < prev->restart_count)
		verdict_fail(v, FID_QUOTE_CLOCK, "restartCount %" PRIu32
		    " < previous %" PRIu32, qi->h.restart_count,
		    prev->restart_count);
	else if (qi->h.restart_count == prev->restart_count &&
	    qi->h.clock < prev->clock)
		verdict_fail(v, FID_QUOTE_CLOCK, "clock %" PRIu64
		    " < previous %" PRIu64, qi->h.clock, prev->clock);
	if (qi->h.firmware_version != prev->firmware_version)
		verdict_notice(v, FID_TPM_FIRMWARE, "firmwareVersion %016" PRIx64
		    " -> %016" PRIx64, prev->firmware_version,
		    qi->h.firmware_version);
}

int
quote_verify(const struct quote_evidence *ev, const struct quote_expect *ex,
    struct quote_result *res, struct verdict *v)
{
	struct tpm2_quote_info qi;
	struct tpm2_signature sig;
	size_t nfail0 = v->nfail + v->dropped;
	int ra, rs, have_sig;

	memset(res, 0, sizeof(*res));
	ra = tpm2_attest_parse(ev->attest, ev->attest_len, &qi);
	if (ra != ASSAY_OK && ra != ASSAY_ERR_UNSUPPORTED) {
		verdict_fail(v, FID_QUOTE_FORMAT, "TPMS_ATTEST: %s",
		    assay_err_detail());
		return ASSAY_FAIL;
	}
	rs = tpm2_signature_parse(ev->sig, ev->sig_len, &sig);
	if (rs != ASSAY_OK && rs != ASSAY_ERR_UNSUPPORTED) {
		verdict_fail(v, FID_QUOTE_FORMAT, "TPMT_SIGNATURE: %s",
		    assay_err_detail());
		return ASSAY_FAIL;
	}
	have_sig = rs == ASSAY_OK;

	/* signature over the exact bytes received */
	if (!have_sig)
		verdict_fail(v, FID_QUOTE_SIGNATURE, "%s", assay_err_detail());
	else if (tpm2_signature_verify(ex->ak, &sig, ev->attest,
	    ev->attest_len) != ASSAY_OK)
		verdict_fail(v, FID_QUOTE_SIGNATURE, "%s", assay_err_detail());
	else if (sig.hash_alg == TPM2_ALG_SHA1)
		/* Signature and pcrDigest both use it: collisions forge both. */
		verdict_fail(v, FID_QUOTE_SIGNATURE, "the quote is signed (and its "
		    "pcrDigest computed) with SHA-1, which is refused");

	if (qi.h.magic != TPM2_GENERATED_VALUE)
		verdict_fail(v, FID_QUOTE_MAGIC, "magic 0x%08" PRIx32, qi.h.magic);
	if (ra == ASSAY_ERR_UNSUPPORTED)
		verdict_fail(v, FID_QUOTE_TYPE, "type 0x%04x, want 0x%04x",
		    qi.h.type, TPM2_ST_ATTEST_QUOTE);

	if (qi.h.extra_data.len != ex->nonce_len || (ex->nonce_len > 0 &&
	    CRYPTO_memcmp(qi.h.extra_data.p, ex->nonce, ex->nonce_len) != 0))
		verdict_fail(v, FID_QUOTE_NONCE,
		    "extraData (%zu bytes) is not the nonce sent (%zu bytes)",
		    qi.h.extra_data.len, ex->nonce_len);

	if (ex->ak_name != NULL && (qi.h.qualified_signer.len != ex->ak_name_len ||
	    memcmp(qi.h.qualified_signer.p, ex->ak_name, ex->ak_name_len) != 0))
		verdict_fail(v, FID_QUOTE_SIGNER,
		    "qualifiedSigner is not the enrolled AK name");

	/* PCR checks need the quote body and the signing hash */
	if (ra == ASSAY_OK) {
		if (have_sig)
			check_pcrs(ev, ex, &qi, sig.hash_alg, v);
		else if (ex->sel != NULL &&
		    !pcr_selection_equal(&qi.pcr_select, ex->sel))
			verdict_fail(v, FID_QUOTE_PCR_SELECT,
			    "quoted selection differs from the requested one");
	}

	check_clock(&qi, ex->prev, res, v);
	res->clock.valid = 1;
	res->clock.clock = qi.h.clock;
	res->clock.reset_count = qi.h.reset_count;
	res->clock.restart_count = qi.h.restart_count;
	res->clock.firmware_version = qi.h.firmware_version;

	return v->nfail + v->dropped == nfail0 ? ASSAY_OK : ASSAY_FAIL;
}
