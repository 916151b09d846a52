/*
 * push.c — the push-mode messages (push.h): strict parsers and their
 * encoders. A parser either fills everything it owns or nothing; its
 * error is ASSAY_ERR_FORMAT for the shape (not an object, a wrong JSON
 * type, a member missing, a round and a wait at once) and ASSAY_ERR_INVAL
 * for a value (hex, range, the quote request), the detail naming the key.
 * An encoder refuses (NULL) what its parser would refuse.
 */
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/proto/push.h"

#define B64URL_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#include "common/xmalloc.h"

int
push_challenge_id_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < PUSH_CHALLENGE_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == PUSH_CHALLENGE_HEX && s[i] == '\0';
}

/* 1 if s is 1..max-1 bytes of [a-z0-9._-] (states and failure ids). */
static int
token_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* quote_req_parse's view of a parsed query. */
static const char *
kv_get(void *ctx, const char *key)
{
	return evhttp_find_header(ctx, key);
}

int
push_request_parse(const char *request, struct quote_req *q)
{
	const size_t plen = strlen(QUOTE_PATH "?");
	struct evkeyvalq kv;
	char why[256];
	size_t n = strlen(request);
	int r;

	memset(q, 0, sizeof(*q));
	TAILQ_INIT(&kv);
	if (n > PUSH_REQUEST_MAX || strncmp(request, QUOTE_PATH "?", plen) != 0)
		return assay_err_set(ASSAY_ERR_INVAL, "'request' must be %s?... "
		    "(at most %d bytes)", QUOTE_PATH, PUSH_REQUEST_MAX);
	for (size_t i = 0; i < n; i++)
		if (request[i] <= ' ' || request[i] >= 0x7f || request[i] == '#')
			return assay_err_set(ASSAY_ERR_INVAL, "'request' has a "
			    "character not allowed in a query at %zu", i);
	if (evhttp_parse_query_str(request + plen, &kv) != 0) {
		r = assay_err_set(ASSAY_ERR_INVAL, "'request' has a malformed query");
		goto out;
	}
	if ((r = quote_req_parse(kv_get, &kv, q)) != 0) {
		snprintf(why, sizeof(why), "%s", assay_err_detail());
		memset(q, 0, sizeof(*q));
		r = assay_err_set(r, "'request': %s", why);
	}
 out:
	evhttp_clear_headers(&kv);
	return r;
}

/*
 * Integer member key within [min, max]; absent is an error when required,
 * else leaves *out.
 */
static int
int_member(const json_t *j, const char *key, int64_t min, int64_t max,
    int required, int64_t *out)
{
	const json_t *v = json_object_get(j, key);

	if (v == NULL) {
		if (required)
			return assay_err_set(ASSAY_ERR_FORMAT, "missing '%s'", key);
		return ASSAY_OK;
	}
	if (!json_is_integer(v))
		return assay_err_set(ASSAY_ERR_FORMAT, "'%s' must be an integer", key);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return assay_err_set(ASSAY_ERR_INVAL, "'%s' must be %lld..%lld", key,
		    (long long)min, (long long)max);
	*out = json_integer_value(v);
	return ASSAY_OK;
}

/* String member key (no NUL inside); NULL in *out when absent or null and optional. */
static int
str_member(const json_t *j, const char *key, int required, const char **out)
{
	const json_t *v = json_object_get(j, key);

	*out = NULL;
	if (v == NULL || (!required && json_is_null(v))) {
		if (required)
			return assay_err_set(ASSAY_ERR_FORMAT, "missing '%s'", key);
		return ASSAY_OK;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return assay_err_set(ASSAY_ERR_FORMAT, "'%s' must be a string%s", key,
		    required ? "" : " or null");
	*out = json_string_value(v);
	return ASSAY_OK;
}

static int
parse_round(const json_t *j, struct push_challenge *out)
{
	struct quote_req q;
	const char *id, *req;
	int64_t max_bytes = 0;
	int r;

	if ((r = str_member(j, "challenge", 1, &id)) != 0 ||
	    (r = str_member(j, "request", 1, &req)) != 0 ||
	    (r = int_member(j, "deadline_ms", 1, PUSH_DEADLINE_MAX_MS, 1,
	    &out->deadline_ms)) != 0 ||
	    (r = int_member(j, "max_bytes", 1, INT64_MAX, 1, &max_bytes)) != 0)
		return r;
	if (!push_challenge_id_valid(id))
		return assay_err_set(ASSAY_ERR_INVAL, "'challenge' must be %d "
		    "lowercase hex digits", PUSH_CHALLENGE_HEX);
	if ((r = push_request_parse(req, &q)) != 0)
		return r;
	memcpy(out->id, id, PUSH_CHALLENGE_HEX + 1);
	out->request = xstrdup(req);
	out->max_bytes = (uint64_t)max_bytes;
	return ASSAY_OK;
}

int
push_challenge_parse(const json_t *j, struct push_challenge *out)
{
	static const char *const round_keys[] = { "challenge", "request",
	    "deadline_ms", "max_bytes" };
	int round = 0, r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j))
		return assay_err_set(ASSAY_ERR_FORMAT, "challenge: not a JSON object");
	for (size_t i = 0; i < sizeof(round_keys) / sizeof(round_keys[0]); i++)
		round |= json_object_get(j, round_keys[i]) != NULL;
	if (round && json_object_get(j, "wait_ms") != NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "challenge: both a round "
		    "('challenge') and a wait ('wait_ms')");
	if (!round && json_object_get(j, "wait_ms") == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "challenge: neither a round "
		    "('challenge') nor a wait ('wait_ms')");
	if (!round)
		return int_member(j, "wait_ms", 0, PUSH_WAIT_MAX_MS, 1,
		    &out->wait_ms);
	if ((r = parse_round(j, out)) != 0)
		push_challenge_free(out);
	return r;
}

json_t *
push_challenge_encode(const struct push_challenge *c)
{
	struct quote_req q;

	if (c->id[0] == '\0') {
		if (c->wait_ms < 0 || c->wait_ms > PUSH_WAIT_MAX_MS)
			return NULL;
		return json_pack("{s:I}", "wait_ms", (json_int_t)c->wait_ms);
	}
	if (!push_challenge_id_valid(c->id) || c->request == NULL ||
	    push_request_parse(c->request, &q) != 0 || c->deadline_ms < 1 ||
	    c->deadline_ms > PUSH_DEADLINE_MAX_MS || c->max_bytes < 1 ||
	    c->max_bytes > INT64_MAX)
		return NULL;
	return json_pack("{s:s, s:s, s:I, s:I}", "challenge", c->id,
	    "request", c->request, "deadline_ms", (json_int_t)c->deadline_ms,
	    "max_bytes", (json_int_t)c->max_bytes);
}

void
push_challenge_free(struct push_challenge *c)
{
	free(c->request);
	memset(c, 0, sizeof(*c));
}

int
push_verdict_parse(const json_t *j, struct push_verdict *out)
{
	const char *state, *fid, *detail, *ear;
	json_t *id;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j))
		return assay_err_set(ASSAY_ERR_FORMAT, "verdict: not a JSON object");
	if ((r = str_member(j, "state", 1, &state)) != 0 ||
	    (r = str_member(j, "failure_id", 0, &fid)) != 0 ||
	    (r = str_member(j, "detail", 0, &detail)) != 0 ||
	    (r = str_member(j, "ear", 0, &ear)) != 0 ||
	    (r = int_member(j, "next_ms", 0, PUSH_WAIT_MAX_MS, 1,
	    &out->next_ms)) != 0)
		return r;
	if (!token_valid(state, PUSH_STATE_MAX))
		return assay_err_set(ASSAY_ERR_INVAL, "'state' must be 1-%d of "
		    "[a-z0-9._-]", PUSH_STATE_MAX - 1);
	if (fid != NULL && !token_valid(fid, PUSH_STATE_MAX))
		return assay_err_set(ASSAY_ERR_INVAL, "'failure_id' must be 1-%d "
		    "of [a-z0-9._-] or null", PUSH_STATE_MAX - 1);
	if (ear != NULL && (strlen(ear) > PUSH_EAR_MAX ||
	    strspn(ear, B64URL_CHARS ".") != strlen(ear)))
		return assay_err_set(ASSAY_ERR_INVAL, "'ear' must be a compact "
		    "JWT of at most %d bytes", PUSH_EAR_MAX);
	if ((id = json_object_get(j, "identity")) != NULL) {
		if ((r = ident_doc_parse(id, &out->identity)) != 0)
			return r;
		out->has_identity = 1;
	}
	out->state = xstrdup(state);
	out->failure_id = xstrdup_or_null(fid);
	out->detail = xstrdup_or_null(detail);
	out->ear = xstrdup_or_null(ear);
	return ASSAY_OK;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

json_t *
push_verdict_encode(const struct push_verdict *v)
{
	json_t *id = NULL;

	if (v->state == NULL || !token_valid(v->state, PUSH_STATE_MAX) ||
	    (v->failure_id != NULL && !token_valid(v->failure_id,
	    PUSH_STATE_MAX)) || v->next_ms < 0 || v->next_ms > PUSH_WAIT_MAX_MS)
		return NULL;
	if (v->has_identity && (id = ident_doc_encode(&v->identity)) == NULL)
		return NULL;
	return json_pack("{s:s, s:o, s:o, s:I, s:s*, s:o*}", "state", v->state,
	    "failure_id", str_or_null(v->failure_id),
	    "detail", str_or_null(v->detail), "next_ms", (json_int_t)v->next_ms,
	    "ear", v->ear, "identity", id);
}

void
push_verdict_free(struct push_verdict *v)
{
	free(v->state);
	free(v->failure_id);
	free(v->detail);
	free(v->ear);
	ident_doc_free(&v->identity);
	memset(v, 0, sizeof(*v));
}
