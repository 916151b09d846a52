/*
 * doc_bin.c — the evidence document's binary form 2 (doc.h): the JSON part
 * and the IMA list and event log as they are, length-prefixed, parsed
 * through one bounds-checked cursor. The parser keeps the received
 * buffer and points into it: a page of tens of MiB of IMA list is never
 * decoded or copied. Also which form a body is in, and the parse and
 * encode entry points for all three (form 3: doc_bin3.c).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/proto/doc.h"
#include "common/proto/doc_int.h"
#include "common/xmalloc.h"

static void
put_u32be(uint8_t *p, size_t n)
{
	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
}

int
evidence_doc_encode_bin(const struct evidence_doc *d, uint8_t **out,
    size_t *len)
{
	json_t *j = doc_json(d, 1);
	char *js = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t jl, il = d->has_ima ? d->ima_len : 0;
	size_t el = d->eventlog != NULL ? d->eventlog_len : 0, off;
	uint8_t *b;

	json_decref(j);
	*out = NULL;
	*len = 0;
	if (js == NULL || il > DOC_IMA_MAX || el > DOC_EVENTLOG_MAX) {
		free(js);
		return assay_err_set(ASSAY_ERR_INVAL, "evidence: cannot encode");
	}
	jl = strlen(js);
	b = xmalloc(DOC_BIN_MAGIC_LEN + 12 + jl + il + el);
	memcpy(b, DOC_BIN_MAGIC, DOC_BIN_MAGIC_LEN);
	off = DOC_BIN_MAGIC_LEN;
	put_u32be(b + off, jl);
	memcpy(b + off + 4, js, jl);
	off += 4 + jl;
	put_u32be(b + off, il);
	if (il > 0)
		memcpy(b + off + 4, d->ima, il);
	off += 4 + il;
	put_u32be(b + off, el);
	if (el > 0)
		memcpy(b + off + 4, d->eventlog, el);
	off += 4 + el;
	free(js);
	*out = b;
	*len = off;
	return ASSAY_OK;
}

/* One u32be-length-prefixed part of at most max bytes. */
static int
part(struct cur *c, size_t max, const char *what, struct cur *out)
{
	uint32_t n;

	if (cur_u32be(c, &n) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: %s truncated",
		    what);
	if (n > max)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: %s of %u bytes "
		    "(at most %zu)", what, n, max);
	if (cur_bytes(c, n, out) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: %s truncated",
		    what);
	return ASSAY_OK;
}

/* The binary form of body (magic checked by the caller) into out. */
static int
parse_bin(uint8_t *body, size_t len, struct evidence_doc *out)
{
	struct cur c, js, ima, el;
	json_error_t e;
	json_t *j;
	int r;

	cur_init(&c, body, len);
	(void)cur_skip(&c, DOC_BIN_MAGIC_LEN);
	if ((r = part(&c, DOC_JSON_SLACK, "JSON part", &js)) != 0 ||
	    (r = part(&c, DOC_IMA_MAX, "IMA list", &ima)) != 0 ||
	    (r = part(&c, DOC_EVENTLOG_MAX, "event log", &el)) != 0)
		return r;
	if (cur_left(&c) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: %zu bytes after "
		    "the event log", cur_left(&c));
	if ((j = json_loadb((const char *)js.p, js.len, JSON_REJECT_DUPLICATES,
	    &e)) == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: JSON error at "
		    "%d: %s", e.position, e.text);
	r = doc_from_json(j, out, 1);
	json_decref(j);
	if (r != 0)
		return r;
	if (ima.len > 0 && !out->has_ima) {
		evidence_doc_free(out);
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: an IMA list "
		    "without its \"ima\" member");
	}
	/* body outlives the document: the parts point into it. */
	out->backing = body;
	if (out->has_ima) {
		out->ima = body + (ima.p - body);
		out->ima_len = ima.len;
	}
	if (el.len > 0) {
		out->eventlog = body + (el.p - body);
		out->eventlog_len = el.len;
	}
	return ASSAY_OK;
}

int
evidence_doc_form(const uint8_t *body, size_t len)
{
	if (len >= DOC_BIN_MAGIC_LEN &&
	    memcmp(body, DOC_BIN3_MAGIC, DOC_BIN_MAGIC_LEN) == 0)
		return DOC_FORM_V3;
	if (len >= DOC_BIN_MAGIC_LEN &&
	    memcmp(body, DOC_BIN_MAGIC, DOC_BIN_MAGIC_LEN) == 0)
		return DOC_FORM_V2;
	return DOC_FORM_JSON;
}

int
evidence_doc_parse_take(uint8_t *body, size_t len, struct evidence_doc *out)
{
	int r;

	evidence_doc_init(out);
	switch (evidence_doc_form(body, len)) {
	case DOC_FORM_V3:
		r = doc_parse_bin3(body, len, out);
		break;
	case DOC_FORM_V2:
		r = parse_bin(body, len, out);
		break;
	default:
		r = evidence_doc_parse(body, len, out);
		free(body);
		return r;
	}
	if (r != 0)
		free(body);
	return r;
}

int
evidence_doc_encode(const struct evidence_doc *d, int form, uint8_t **out,
    size_t *len, const char **ctype)
{
	json_t *j;
	char *s;

	if (form == DOC_FORM_V2 || form == DOC_FORM_V3) {
		*ctype = DOC_BIN_CTYPE;
		return form == DOC_FORM_V3 ? evidence_doc_encode_bin3(d, out, len) :
		    evidence_doc_encode_bin(d, out, len);
	}
	*ctype = "application/json";
	j = evidence_doc_to_json(d);
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	*out = (uint8_t *)s;
	*len = s != NULL ? strlen(s) : 0;
	return s != NULL ? ASSAY_OK : assay_err_set(ASSAY_ERR_INVAL,
	    "evidence: cannot encode");
}
