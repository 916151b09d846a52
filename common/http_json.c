/*
 * http_json.c — JSON request bodies: the bounded loader every JSON route
 * uses (size, nesting depth, syntax, duplicate keys, an object), pure so
 * the fuzzers call it, and the handler-side wrapper that answers 400/413
 * itself.
 */
#include <stdio.h>

#include <jansson.h>

#include "common/http.h"

/* http_body_json: largest document, whatever the route allows. */
#define HTTP_JSON_MAX_SIZE	(1024 * 1024)

/* Deepest nesting of arrays and objects in p (strings skipped). */
static int
json_depth(const uint8_t *p, size_t n)
{
	int depth = 0, max = 0, instr = 0;

	for (size_t i = 0; i < n; i++) {
		if (instr) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				instr = 0;
		} else if (p[i] == '"')
			instr = 1;
		else if (p[i] == '[' || p[i] == '{') {
			if (++depth > max)
				max = depth;
		} else if (p[i] == ']' || p[i] == '}')
			depth--;
	}
	return max;
}

int
http_json_load(const uint8_t *p, size_t n, json_t **out, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	if (n == 0) {
		snprintf(msg, msglen, "request body required");
		return 400;
	}
	if (n > HTTP_JSON_MAX_SIZE) {
		snprintf(msg, msglen, "JSON body larger than %d bytes",
		    HTTP_JSON_MAX_SIZE);
		return 413;
	}
	if (json_depth(p, n) > HTTP_JSON_MAX_DEPTH) {
		snprintf(msg, msglen, "JSON nested deeper than %d",
		    HTTP_JSON_MAX_DEPTH);
		return 400;
	}
	if ((j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		snprintf(msg, msglen, "invalid JSON at line %d: %s", jerr.line,
		    jerr.text);
		return 400;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(msg, msglen, "JSON body must be an object");
		return 400;
	}
	*out = j;
	return 0;
}

json_t *
http_body_json(struct http_request *r)
{
	char msg[256];
	json_t *j;
	int status;

	if ((status = http_json_load(r->body, r->body_len, &j, msg,
	    sizeof(msg))) != 0) {
		http_reply_error(r, status, "%s", msg);
		return NULL;
	}
	return j;
}
