/*
 * fuzz_http.c — libFuzzer harness for what the daemons parse of a
 * request before and after its body: the guard's header-block parser
 * (http_head_parse: request line, Content-Length, Transfer-Encoding) and
 * the bounded JSON body loader every JSON route uses (http_json_load:
 * size, depth, syntax, an object), and the agent's parser of the
 * verifier's `pcrs=` selection (pcr_selection_parse: one that parses is
 * formatted and must parse back equal). The first byte picks the parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/evidence/pcr.h"
#include "common/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head h;
	json_t *j = NULL;
	char msg[256], *hdr;
	int status;

	if (size < 1)
		return 0;
	if (data[0] % 3 == 2) {
		struct pcr_selection sel, back;
		char *sel_text, *fmt;

		sel_text = malloc(size);
		memcpy(sel_text, data + 1, size - 1);
		sel_text[size - 1] = '\0';
		if (pcr_selection_parse(sel_text, &sel) == 0) {
			fmt = pcr_selection_format(&sel);
			if (pcr_selection_parse(fmt, &back) != 0 ||
			    !pcr_selection_equal(&sel, &back))
				abort();
			free(fmt);
		}
		free(sel_text);
		return 0;
	}
	if ((data[0] & 1) == 0) {
		hdr = malloc(size);
		memcpy(hdr, data + 1, size - 1);
		hdr[size - 1] = '\0';
		http_head_parse(hdr, &h);
		/* a path, when there is one, is the start of the URI */
		if (h.path != NULL && h.method == NULL)
			abort();
		http_head_free(&h);
		free(hdr);
		return 0;
	}
	status = http_json_load(data + 1, size - 1, &j, msg, sizeof(msg));
	if ((status == 0) != (j != NULL) || (j != NULL && !json_is_object(j)))
		abort();
	json_decref(j);
	return 0;
}
