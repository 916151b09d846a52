/*
 * fuzz_evidence_doc.c — libFuzzer harness: the evidence document JSON
 * decoder (what an agent, possibly hostile, sends the verifier).
 */
#include <stddef.h>
#include <stdint.h>

#include "common/proto/doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evidence_doc d;

	if (evidence_doc_parse(data, size, &d) == 0)
		evidence_doc_free(&d);
	return 0;
}
