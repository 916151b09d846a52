/*
 * enroll.c — the enrollment messages (enroll.h): strict parsers and their
 * encoders. A parser either fills everything it owns or nothing (on error
 * *out is empty and the detail says which field and why).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/proto/enroll.h"
#include "common/http.h"
#include "common/xmalloc.h"

int
enroll_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= ENROLL_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == ':'))
			return 0;
	}
	return 1;
}

/* Base64 string member key into *out (NULL when absent and optional). */
static int
b64_member(const json_t *o, const char *key, int required, size_t max,
    uint8_t **out, size_t *len)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	*len = 0;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return assay_err_set(ASSAY_ERR_INVAL, "missing '%s'", key);
		return ASSAY_OK;
	}
	if (!json_is_string(v) ||
	    base64_decode_alloc(json_string_value(v), max, out, len) != 0)
		return assay_err_set(ASSAY_ERR_INVAL, "'%s' is not base64 (max %zu "
		    "bytes)", key, max);
	if (*len == 0) {
		free(*out);
		*out = NULL;
		return assay_err_set(ASSAY_ERR_INVAL, "'%s' is empty", key);
	}
	return ASSAY_OK;
}

static json_t *
b64_string(const uint8_t *p, size_t n)
{
	char *s = base64_encode(p, n);
	json_t *j = json_string(s);

	free(s);
	return j;
}

static int
parse_chain(const json_t *o, struct enroll_register *r)
{
	const json_t *jc = json_object_get(o, "ek_chain"), *e;
	size_t i;

	if (jc == NULL || json_is_null(jc))
		return ASSAY_OK;
	if (!json_is_array(jc) || json_array_size(jc) > ENROLL_CHAIN_MAX)
		return assay_err_set(ASSAY_ERR_INVAL, "'ek_chain' must be an array "
		    "of at most %d", ENROLL_CHAIN_MAX);
	json_array_foreach(jc, i, e) {
		if (!json_is_string(e) || base64_decode_alloc(json_string_value(e),
		    ENROLL_CERT_MAX, &r->chain[i], &r->chain_len[i]) != 0 ||
		    r->chain_len[i] == 0)
			return assay_err_set(ASSAY_ERR_INVAL, "'ek_chain'[%zu] is not "
			    "a base64 certificate", i);
		r->nchain = i + 1;
	}
	return ASSAY_OK;
}

static int
parse_address(const json_t *o, struct enroll_register *r)
{
	const json_t *v = json_object_get(o, "address");
	char host[256];
	uint16_t port;

	if (v == NULL || json_is_null(v))
		return ASSAY_OK;
	if (!json_is_string(v) || json_string_length(v) >= sizeof(host) ||
	    http_split_hostport(json_string_value(v), host, sizeof(host),
	    &port) != 0 || port == 0)
		return assay_err_set(ASSAY_ERR_INVAL, "'address' must be host:port");
	r->address = xstrdup(json_string_value(v));
	return ASSAY_OK;
}

/* "mode": absent or "pull", or "push" (then no address). */
static int
parse_mode(const json_t *o, struct enroll_register *r)
{
	const json_t *v = json_object_get(o, "mode");
	const char *s = json_string_value(v);

	if (v == NULL || json_is_null(v))
		return ASSAY_OK;
	if (s == NULL || strlen(s) != json_string_length(v) ||
	    (strcmp(s, "pull") != 0 && strcmp(s, "push") != 0))
		return assay_err_set(ASSAY_ERR_INVAL, "'mode' must be \"pull\" "
		    "or \"push\"");
	r->push = strcmp(s, "push") == 0;
	if (r->push && r->address != NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "'address' with 'mode' push: "
		    "a push agent has no listener");
	return ASSAY_OK;
}

int
enroll_register_parse(const json_t *o, struct enroll_register *out)
{
	const char *id;
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		return assay_err_set(ASSAY_ERR_INVAL, "not a JSON object");
	id = json_string_value(json_object_get(o, "id"));
	if (id == NULL || strlen(id) != json_string_length(json_object_get(o,
	    "id")) || !enroll_id_valid(id))
		return assay_err_set(ASSAY_ERR_INVAL, "'id' missing or invalid "
		    "([A-Za-z0-9._:-], 1-127)");
	memcpy(out->id, id, strlen(id) + 1);
	if ((r = parse_address(o, out)) != 0 ||
	    (r = parse_mode(o, out)) != 0 ||
	    (r = b64_member(o, "ek_pub", 1, ENROLL_PUB_MAX, &out->ek_pub,
	    &out->ek_pub_len)) != 0 ||
	    (r = b64_member(o, "ak_pub", 1, ENROLL_PUB_MAX, &out->ak_pub,
	    &out->ak_pub_len)) != 0 ||
	    (r = b64_member(o, "ek_cert", 0, ENROLL_CERT_MAX, &out->ek_cert,
	    &out->ek_cert_len)) != 0 ||
	    (r = parse_chain(o, out)) != 0) {
		enroll_register_free(out);
		return r;
	}
	return ASSAY_OK;
}

json_t *
enroll_register_encode(const struct enroll_register *in)
{
	json_t *o = json_object(), *chain = json_array();

	json_object_set_new(o, "id", json_string(in->id));
	json_object_set_new(o, "ek_pub", b64_string(in->ek_pub, in->ek_pub_len));
	json_object_set_new(o, "ak_pub", b64_string(in->ak_pub, in->ak_pub_len));
	if (in->ek_cert != NULL)
		json_object_set_new(o, "ek_cert", b64_string(in->ek_cert,
		    in->ek_cert_len));
	for (size_t i = 0; i < in->nchain; i++)
		json_array_append_new(chain, b64_string(in->chain[i],
		    in->chain_len[i]));
	json_object_set_new(o, "ek_chain", chain);
	if (in->push)
		json_object_set_new(o, "mode", json_string("push"));
	else if (in->address != NULL)
		json_object_set_new(o, "address", json_string(in->address));
	return o;
}

void
enroll_register_free(struct enroll_register *r)
{
	free(r->address);
	free(r->ek_pub);
	free(r->ak_pub);
	free(r->ek_cert);
	for (size_t i = 0; i < ENROLL_CHAIN_MAX; i++)
		free(r->chain[i]);
	memset(r, 0, sizeof(*r));
}

int
enroll_credential_parse(const json_t *o, struct enroll_credential *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o))
		return assay_err_set(ASSAY_ERR_INVAL, "not a JSON object");
	if ((r = b64_member(o, "credential", 1, ENROLL_CRED_MAX, &out->cred,
	    &out->cred_len)) != 0 ||
	    (r = b64_member(o, "secret", 1, ENROLL_CRED_MAX, &out->secret,
	    &out->secret_len)) != 0) {
		enroll_credential_free(out);
		return r;
	}
	return ASSAY_OK;
}

json_t *
enroll_credential_encode(const uint8_t *cred, size_t cred_len,
    const uint8_t *secret, size_t secret_len)
{
	json_t *o = json_object();

	json_object_set_new(o, "credential", b64_string(cred, cred_len));
	json_object_set_new(o, "secret", b64_string(secret, secret_len));
	return o;
}

void
enroll_credential_free(struct enroll_credential *c)
{
	free(c->cred);
	free(c->secret);
	memset(c, 0, sizeof(*c));
}

int
enroll_proof_parse(const json_t *o, uint8_t proof[ENROLL_PROOF_LEN])
{
	const char *s;
	size_t n;

	if (!json_is_object(o) ||
	    (s = json_string_value(json_object_get(o, "proof"))) == NULL ||
	    strlen(s) != 2 * ENROLL_PROOF_LEN ||
	    hex_decode(s, proof, ENROLL_PROOF_LEN, &n) != 0 ||
	    n != ENROLL_PROOF_LEN) {
		OPENSSL_cleanse(proof, ENROLL_PROOF_LEN);
		return assay_err_set(ASSAY_ERR_INVAL, "'proof' must be %d hex "
		    "digits", 2 * ENROLL_PROOF_LEN);
	}
	return ASSAY_OK;
}

json_t *
enroll_proof_encode(const uint8_t proof[ENROLL_PROOF_LEN])
{
	char *hex = hex_encode(proof, ENROLL_PROOF_LEN);
	json_t *o = json_pack("{s:s}", "proof", hex);

	OPENSSL_cleanse(hex, strlen(hex));
	free(hex);
	return o;
}
