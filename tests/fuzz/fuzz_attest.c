/*
 * fuzz_attest.c — libFuzzer harness for the quote wire parsers:
 * tpm2_attest_parse (TPMS_ATTEST), tpm2_certify_parse (its certify
 * form), tpm2_signature_parse (TPMT_SIGNATURE) and pcr_selection_unmarshal (TPML_PCR_SELECTION). The whole input goes
 * to each parser; a parsed selection must survive a marshal round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/evidence/pcr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_selection_round_trip(const struct pcr_selection *sel)
{
	struct pcr_selection again;
	struct buf b;
	struct cur c;

	buf_init(&b);
	pcr_selection_marshal(sel, &b);
	cur_init(&c, b.d, b.len);
	if (pcr_selection_unmarshal(&c, &again) != ASSAY_OK ||
	    cur_left(&c) != 0 || !pcr_selection_equal(sel, &again))
		abort();
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpm2_quote_info qi;
	struct tpm2_certify_info ci;
	struct tpm2_signature sig;
	struct pcr_selection sel;
	struct cur c;

	if (tpm2_attest_parse(data, size, &qi) == ASSAY_OK) {
		if (qi.h.extra_data.len > 66 || qi.pcr_digest.len > TPM2_MAX_DIGEST)
			abort();
		check_selection_round_trip(&qi.pcr_select);
	}
	if (tpm2_certify_parse(data, size, &ci) == ASSAY_OK &&
	    (ci.name.len > 2 + TPM2_MAX_DIGEST ||
	    ci.qualified_name.len > 2 + TPM2_MAX_DIGEST ||
	    ci.h.extra_data.len > 2 + TPM2_MAX_DIGEST))
		abort();
	if (tpm2_signature_parse(data, size, &sig) == ASSAY_OK &&
	    sig.rsa.len + sig.ecc_r.len + sig.ecc_s.len > size)
		abort();
	cur_init(&c, data, size);
	if (pcr_selection_unmarshal(&c, &sel) == ASSAY_OK) {
		if (sel.n > TPM2_MAX_BANKS)
			abort();
		check_selection_round_trip(&sel);
	}
	return 0;
}
