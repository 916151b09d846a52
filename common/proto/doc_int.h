/*
 * doc_int.h — the evidence document's JSON coding with the binary form's
 * variant (bin: no IMA list, no event log inside), shared by doc.c and
 * doc_bin.c only; and binary form 3's parser (doc_bin3.c) for doc_bin.c's
 * dispatch.
 */
#ifndef ASSAY_PROTO_DOC_INT_H
#define ASSAY_PROTO_DOC_INT_H

#include <jansson.h>

#include "common/proto/doc.h"

json_t	*doc_json(const struct evidence_doc *d, int bin);
int	doc_from_json(const json_t *j, struct evidence_doc *out, int bin);
/*
 * Form 3 of body (magic checked by the caller) into out, which keeps body
 * as its backing on success; on error out is empty and body the caller's.
 */
int	doc_parse_bin3(uint8_t *body, size_t len, struct evidence_doc *out);

#endif
