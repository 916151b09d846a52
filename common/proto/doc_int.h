/*
 * doc_int.h — the evidence document's JSON coding with the binary form's
 * variant (bin: no IMA list, no event log inside), shared by doc.c and
 * doc_bin.c only.
 */
#ifndef ASSAY_PROTO_DOC_INT_H
#define ASSAY_PROTO_DOC_INT_H

#include <jansson.h>

#include "common/proto/doc.h"

json_t	*doc_json(const struct evidence_doc *d, int bin);
int	doc_from_json(const json_t *j, struct evidence_doc *out, int bin);

#endif
