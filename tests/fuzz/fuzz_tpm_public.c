/*
 * fuzz_tpm_public.c — libFuzzer harness for tpm2_public_parse() and
 * tpm2_public_parse_tpmt(): arbitrary bytes as TPM2B_PUBLIC and as a bare
 * TPMT_PUBLIC; a parsed key is run through the AK check and compared with
 * itself, then released. Seeds: the .pub files in tests/data/tpm_public.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/evidence/tpm_public.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise(const struct tpm2_public *pub)
{
	(void)tpm2_public_check_ak(pub);
	if (tpm2_public_matches(pub, pub->pkey) != ASSAY_OK)
		abort();	/* a parsed key must equal itself */
	if (pub->name_len < 2 || pub->name_len > sizeof(pub->name))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tpm2_public pub;

	if (tpm2_public_parse(data, size, &pub) == ASSAY_OK) {
		exercise(&pub);
		tpm2_public_free(&pub);
	}
	if (tpm2_public_parse_tpmt(data, size, &pub) == ASSAY_OK) {
		exercise(&pub);
		tpm2_public_free(&pub);
	}
	return 0;
}
