/*
 * policy_env.c — the Assay policy statement in a DSSE envelope (see
 * policy_env.h): sniffing, opening (envelope, payloadType, signature,
 * then the statement, strictly) and sealing.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/dsse.h"
#include "common/err.h"
#include "common/proto/policy_env.h"
#include "common/xmalloc.h"

#define NAME_MAX_LEN	64

void
policy_stmt_free(struct policy_stmt *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->text);
	free(s->signer);
	free(s->keyid);
	memset(s, 0, sizeof(*s));
}

int
policy_env_sniff(const uint8_t *body, size_t len)
{
	static const char key[] = "\"payloadType\"";
	size_t i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\t' ||
	    body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i >= len || body[i] != '{')
		return 0;
	return memmem(body + i, len - i, key, sizeof(key) - 1) != NULL;
}

/* [A-Za-z0-9._-]{1,64}, not "." or "..". */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

/* Refuse members other than the four of a v1 statement. */
static int
stmt_members(json_t *o)
{
	static const char *const known[] = { "_type", "name", "signed_at",
	    "policy" };
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return assay_err_set(ASSAY_ERR_FORMAT, "policy statement: "
			    "unknown member \"%.64s\"", k);
	}
	return ASSAY_OK;
}

static int
stmt_fill(json_t *o, struct policy_stmt *s)
{
	json_t *type = json_object_get(o, "_type"), *name, *at, *pol;
	int r;

	if (!json_is_object(o))
		return assay_err_set(ASSAY_ERR_FORMAT, "policy statement: not "
		    "a JSON object");
	if (!json_is_string(type) ||
	    strcmp(json_string_value(type), POLICY_ENV_STMT_TYPE) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "policy statement: "
		    "\"_type\" is not \"%s\"", POLICY_ENV_STMT_TYPE);
	if ((r = stmt_members(o)) != 0)
		return r;
	name = json_object_get(o, "name");
	if (!json_is_string(name) || !name_ok(json_string_value(name)))
		return assay_err_set(ASSAY_ERR_FORMAT, "policy statement: "
		    "\"name\" is not a policy name ([A-Za-z0-9._-]{1,64})");
	at = json_object_get(o, "signed_at");
	if (!json_is_integer(at) || json_integer_value(at) < 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "policy statement: "
		    "\"signed_at\" is not a non-negative integer");
	pol = json_object_get(o, "policy");
	if (!json_is_string(pol))
		return assay_err_set(ASSAY_ERR_FORMAT, "policy statement: "
		    "\"policy\" is not a string");
	s->name = xstrdup(json_string_value(name));
	s->signed_at = json_integer_value(at);
	s->text_len = json_string_length(pol);
	s->text = xmemdup(json_string_value(pol), s->text_len + 1);
	return ASSAY_OK;
}

/* The statement in payload (NUL inside strings is refused by jansson). */
static int
stmt_parse(const uint8_t *p, size_t len, struct policy_stmt *s)
{
	json_error_t je;
	json_t *o;
	int r;

	o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "policy statement: JSON "
		    "line %d: %s", je.line, je.text);
	r = stmt_fill(o, s);
	json_decref(o);
	return r;
}

int
policy_env_open(const uint8_t *env, size_t len, const struct dsse_trust *trust,
    struct policy_stmt *out)
{
	struct policy_stmt s;
	struct dsse_env e;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	if (len > POLICY_ENV_MAX)
		return assay_err_set(ASSAY_ERR_RANGE, "signed policy larger "
		    "than %u bytes", POLICY_ENV_MAX);
	if ((r = dsse_env_parse(env, len, &e)) != 0)
		return r;
	if (strcmp(e.type, POLICY_ENV_TYPE) != 0) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "DSSE payloadType is not "
		    "%s", POLICY_ENV_TYPE);
		goto out;
	}
	if (trust != NULL &&
	    (r = dsse_env_verify(&e, trust, &s.signer, &s.keyid)) != 0)
		goto out;
	if ((r = stmt_parse(e.payload, e.payload_len, &s)) != 0)
		goto out;
	*out = s;
	memset(&s, 0, sizeof(s));
 out:
	policy_stmt_free(&s);
	dsse_env_free(&e);
	return r;
}

int
policy_env_seal(const char *name, const char *text, size_t len,
    int64_t signed_at, EVP_PKEY *key, STACK_OF(X509) *certs, char **out_json)
{
	json_t *o = NULL, *pol;
	char *body = NULL;
	int r;

	*out_json = NULL;
	if (!name_ok(name))
		return assay_err_set(ASSAY_ERR_INVAL, "\"%.80s\" is not a policy "
		    "name ([A-Za-z0-9._-]{1,64})", name);
	if (memchr(text, '\0', len) != NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "the policy text contains "
		    "a NUL byte");
	if (signed_at < 0)
		return assay_err_set(ASSAY_ERR_INVAL, "negative signing time");
	if ((pol = json_stringn(text, len)) == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "the policy text is not "
		    "UTF-8");
	o = json_pack("{s:s, s:s, s:I, s:o}", "_type", POLICY_ENV_STMT_TYPE,
	    "name", name, "signed_at", (json_int_t)signed_at, "policy", pol);
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT)) == NULL) {
		r = assay_err_set(ASSAY_ERR_INVAL, "cannot encode the policy "
		    "statement");
		goto out;
	}
	r = dsse_sign(POLICY_ENV_TYPE, (const uint8_t *)body, strlen(body), key,
	    certs, out_json);
 out:
	json_decref(o);
	free(body);
	return r;
}
