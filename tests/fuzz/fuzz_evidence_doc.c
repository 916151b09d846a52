/*
 * fuzz_evidence_doc.c — libFuzzer harness: the evidence document decoders
 * (what an agent, possibly hostile, sends the verifier): the JSON form, and
 * all three forms through evidence_doc_parse_take, which keeps the buffer
 * of the binary ones. Inputs starting "ASSAYEV2" reach the form 2 parser,
 * "ASSAYEV3" the form 3 one (seeds min.v3, full.v3); a form 3 document
 * parsed is encoded again and must come back byte for byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto/doc.h"
#include "common/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Form 3 has one encoding per document: what parsed encodes back the same. */
static void
reencode(const struct evidence_doc *d, const uint8_t *data, size_t size)
{
	uint8_t *b;
	size_t n;

	if (evidence_doc_encode_bin3(d, &b, &n) != 0)
		abort();
	if (n != size || memcmp(b, data, n) != 0)
		abort();
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evidence_doc d;
	uint8_t *copy;

	if (evidence_doc_parse(data, size, &d) == 0)
		evidence_doc_free(&d);
	copy = xmalloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	if (evidence_doc_parse_take(copy, size, &d) == 0) {
		if (evidence_doc_form(data, size) == DOC_FORM_V3)
			reencode(&d, data, size);
		evidence_doc_free(&d);
	}
	return 0;
}
