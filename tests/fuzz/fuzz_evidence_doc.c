/*
 * fuzz_evidence_doc.c — libFuzzer harness: the evidence document decoders
 * (what an agent, possibly hostile, sends the verifier): the JSON form, and
 * both forms through evidence_doc_parse_take, which keeps the buffer of
 * the binary one. Inputs starting "ASSAYEV2" reach the binary parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto/doc.h"
#include "common/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evidence_doc d;
	uint8_t *copy;

	if (evidence_doc_parse(data, size, &d) == 0)
		evidence_doc_free(&d);
	copy = xmalloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	if (evidence_doc_parse_take(copy, size, &d) == 0)
		evidence_doc_free(&d);
	return 0;
}
