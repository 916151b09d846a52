/*
 * quote_req.c — format and parse the quote request (quote_req.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/proto/doc.h"
#include "common/proto/quote_req.h"
#include "common/xmalloc.h"

/* A PCR selection for a query: '+' (a space in a query) as %2B. */
static char *
sel_query(const struct pcr_selection *sel)
{
	char *text = pcr_selection_format(sel), *out, *w;
	const char *p;

	if (text == NULL)
		return NULL;
	out = xmalloc(strlen(text) * 3 + 1);
	for (p = text, w = out; *p != '\0'; p++) {
		if (*p == '+') {
			memcpy(w, "%2B", 3);
			w += 3;
		} else
			*w++ = *p;
	}
	*w = '\0';
	free(text);
	return out;
}

char *
quote_req_format(const struct quote_req *q)
{
	char *nonce, *sel, *ima = NULL, *fmt = NULL, *path;

	if (q->nonce_len < QUOTE_NONCE_MIN || q->nonce_len > QUOTE_NONCE_MAX ||
	    (sel = sel_query(&q->sel)) == NULL)
		return NULL;
	nonce = hex_encode(q->nonce, q->nonce_len);
	if (q->ima)
		ima = xasprintf("&ima_from=%llu&ima_max=%llu&ima_bytes=%llu",
		    (unsigned long long)q->ima_from,
		    (unsigned long long)q->ima_max,
		    (unsigned long long)q->ima_bytes);
	/* format=2 for agents that know forms 1 and 2 only (they ignore
	 * format_max, and would refuse format=3). */
	if (q->format >= DOC_FORM_V3)
		fmt = xasprintf("&format=%d&format_max=%d", DOC_FORM_V2,
		    q->format);
	else if (q->format == DOC_FORM_V2)
		fmt = xasprintf("&format=%d", DOC_FORM_V2);
	path = xasprintf("%s?nonce=%s&pcrs=%s%s%s%s%s", QUOTE_PATH, nonce, sel,
	    ima != NULL ? ima : "", q->eventlog ? "&eventlog=1" : "",
	    q->identity ? "&identity=1" : "", fmt != NULL ? fmt : "");
	free(fmt);
	free(nonce);
	free(sel);
	free(ima);
	return path;
}

/* Parameter key as 0 or 1 (absent: 0). */
static int
flag_param(quote_query_fn get, void *ctx, const char *key, int *out)
{
	const char *s = get(ctx, key);

	if (s != NULL && strcmp(s, "1") != 0 && strcmp(s, "0") != 0)
		return assay_err_set(ASSAY_ERR_INVAL, "%s must be 0 or 1", key);
	*out = s != NULL && strcmp(s, "1") == 0;
	return 0;
}

/* Parameter key as a decimal count >= min; absent leaves *out. */
static int
count_param(quote_query_fn get, void *ctx, const char *key, uint64_t min,
    uint64_t *out)
{
	const char *s = get(ctx, key);
	unsigned long long v;
	char *end;

	if (s == NULL)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min ||
	    (s[0] == '0' && s[1] != '\0'))
		return assay_err_set(ASSAY_ERR_INVAL, "%s must be a decimal count"
		    "%s", key, min > 0 ? " above 0" : "");
	*out = (uint64_t)v;
	return 0;
}

/*
 * The form to answer in: format= (1 to DOC_FORM_NEWEST, absent 1), or
 * the newest this side knows up to format_max= when that is newer.
 */
static int
form_params(quote_query_fn get, void *ctx, int *out)
{
	const char *f = get(ctx, "format");
	uint64_t max = 0;
	int r;

	if (f != NULL && (f[0] < '1' || f[0] > '0' + DOC_FORM_NEWEST ||
	    f[1] != '\0'))
		return assay_err_set(ASSAY_ERR_INVAL, "format must be 1 to %d",
		    DOC_FORM_NEWEST);
	if ((r = count_param(get, ctx, "format_max", 1, &max)) != 0)
		return r;
	*out = f != NULL ? f[0] - '0' : DOC_FORM_JSON;
	if (max > DOC_FORM_NEWEST)
		max = DOC_FORM_NEWEST;
	if ((int)max > *out)
		*out = (int)max;
	return ASSAY_OK;
}

int
quote_req_parse(quote_query_fn get, void *ctx, struct quote_req *out)
{
	const char *nonce = get(ctx, "nonce"), *pcrs = get(ctx, "pcrs");
	int r;

	memset(out, 0, sizeof(*out));
	if (nonce == NULL || hex_decode(nonce, out->nonce, sizeof(out->nonce),
	    &out->nonce_len) != 0 || out->nonce_len < QUOTE_NONCE_MIN)
		return assay_err_set(ASSAY_ERR_INVAL, "nonce must be %d to %d "
		    "bytes of hex", QUOTE_NONCE_MIN, QUOTE_NONCE_MAX);
	if (pcrs == NULL || pcr_selection_parse(pcrs, &out->sel) != 0)
		return assay_err_set(ASSAY_ERR_INVAL, "pcrs must be like "
		    "sha256:0,1,2");
	out->ima = get(ctx, "ima_from") != NULL;
	if ((r = count_param(get, ctx, "ima_from", 0, &out->ima_from)) != 0 ||
	    (r = count_param(get, ctx, "ima_max", 1, &out->ima_max)) != 0 ||
	    (r = count_param(get, ctx, "ima_bytes", 1, &out->ima_bytes)) != 0)
		return r;
	if ((r = flag_param(get, ctx, "eventlog", &out->eventlog)) != 0 ||
	    (r = flag_param(get, ctx, "identity", &out->identity)) != 0)
		return r;
	return form_params(get, ctx, &out->format);
}
