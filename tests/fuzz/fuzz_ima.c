/*
 * fuzz_ima.c — libFuzzer harness for the IMA list parsers: the first
 * byte picks the template-hash algorithm (sha1, sha256, sha384, sha512)
 * of a binary list made of the rest; the rest is also parsed as ASCII.
 * Parsed lists get their template hashes checked and are replayed into
 * the SHA-256 bank. Seeds: tests/fuzz/seeds/fuzz_ima.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise(const struct ima_list *l)
{
	uint8_t pcr[TPM2_MAX_DIGEST];
	size_t i, n, bad;

	for (i = 0; i < l->n; i++) {
		(void)ima_entry_check_thash(&l->e[i], l->thash_alg);
		if (l->e[i].name.len > IMA_NAME_MAX || l->e[i].digest.len > TPM2_MAX_DIGEST)
			abort();
	}
	(void)ima_replay_all(l, TPM2_ALG_SHA256, IMA_EXTEND_SHA1_PADDED, pcr, &n, &bad);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t algs[] = {
		TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512
	};
	struct ima_list l;
	size_t used;

	if (size < 1)
		return 0;
	if (ima_parse_binary(data + 1, size - 1, algs[data[0] % 4], &l, &used) ==
	    ASSAY_OK) {
		if (used != size - 1)
			abort();
		exercise(&l);
		ima_list_free(&l);
	}
	if (ima_parse_ascii((const char *)data + 1, size - 1, &l) == ASSAY_OK) {
		exercise(&l);
		ima_list_free(&l);
	}
	return 0;
}
