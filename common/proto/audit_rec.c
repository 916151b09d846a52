/*
 * audit_rec.c — the audit record's canonical hash, sealing (agent, seq,
 * prev, hash), parsing with the hash checked, and the per-agent chain
 * check (seq continuity, prev links, the head). Hashing is OpenSSL's
 * SHA-256 over jansson's sorted compact text; no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/proto/audit_rec.h"
#include "common/xmalloc.h"

#define CANON_FLAGS	(JSON_COMPACT | JSON_SORT_KEYS)
/* The sealed text's first member: "hash":"<64 hex>", */
#define HASH_KEY	"\"hash\":\""
#define HASH_MEMBER_LEN	(sizeof(HASH_KEY) - 1 + AUDIT_HASH_HEX - 1 + 2)

static int
is_hash_hex(const char *s)
{
	if (s == NULL || strlen(s) != AUDIT_HASH_HEX - 1)
		return 0;
	for (size_t i = 0; i < AUDIT_HASH_HEX - 1; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
audit_rec_hash(const json_t *rec, char out[AUDIT_HASH_HEX])
{
	json_t *c = NULL;
	char *text = NULL;
	int r = ASSAY_OK;

	out[0] = '\0';
	if (!json_is_object(rec))
		return assay_err_set(ASSAY_ERR_INVAL, "audit record is not an "
		    "object");
	c = json_copy((json_t *)rec);	/* shallow: members shared, not changed */
	(void)json_object_del(c, "hash");
	if ((text = json_dumps(c, CANON_FLAGS)) == NULL) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "audit record does not "
		    "serialize");
		goto out;
	}
	sha256_hex(text, strlen(text), out);
 out:
	free(text);
	json_decref(c);
	return r;
}

int
audit_rec_seal(json_t *rec, const char *agent, int64_t seq, const char *prev,
    char **text, char hash[AUDIT_HASH_HEX])
{
	char *canon;
	size_t len;

	*text = NULL;
	if (seq < 1 || !is_hash_hex(prev))
		return assay_err_set(ASSAY_ERR_INVAL, "audit seal: bad seq or "
		    "prev");
	json_object_set_new(rec, "agent", json_string(agent));
	json_object_set_new(rec, "seq", json_integer(seq));
	json_object_set_new(rec, "prev", json_string(prev));
	(void)json_object_del(rec, "hash");
	/*
	 * One serialization: the canonical text without "hash" is hashed,
	 * and the sealed text is that text with "hash" put first (member
	 * order does not matter to JSON; the hash rule is on the canonical
	 * text, which any reader recomputes).
	 */
	if ((canon = json_dumps(rec, CANON_FLAGS)) == NULL || canon[0] != '{' ||
	    canon[1] == '}')
		return (free(canon), assay_err_set(ASSAY_ERR_FORMAT, "audit "
		    "record does not serialize"));
	len = strlen(canon);
	sha256_hex(canon, len, hash);
	json_object_set_new(rec, "hash", json_string(hash));
	/*
	 * In place (a record can carry an IMA page of megabytes): after the
	 * "{", "hash":"<64 hex>", goes before the members.
	 */
	canon = xreallocarray(canon, len + HASH_MEMBER_LEN + 1, 1);
	memmove(canon + 1 + HASH_MEMBER_LEN, canon + 1, len);	/* with NUL */
	memcpy(canon + 1, HASH_KEY, sizeof(HASH_KEY) - 1);
	memcpy(canon + sizeof(HASH_KEY), hash, AUDIT_HASH_HEX - 1);
	memcpy(canon + sizeof(HASH_KEY) + AUDIT_HASH_HEX - 1, "\",", 2);
	*text = canon;
	return ASSAY_OK;
}

int
audit_rec_check(const json_t *o)
{
	char want[AUDIT_HASH_HEX];
	const char *agent = NULL, *kind = NULL, *prev = NULL, *hash = NULL;
	json_int_t seq = 0;
	int r;

	if (json_unpack((json_t *)o, "{s:s, s:I, s:s, s:s, s:s}", "agent", &agent,
	    "seq", &seq, "kind", &kind, "prev", &prev, "hash", &hash) != 0 ||
	    seq < 1 || !is_hash_hex(prev) || !is_hash_hex(hash))
		return assay_err_set(ASSAY_ERR_FORMAT, "audit record: agent, seq, "
		    "kind, prev or hash missing or malformed");
	if ((r = audit_rec_hash(o, want)) != 0)
		return r;
	if (strcmp(want, hash) != 0)
		return assay_err_set(ASSAY_ERR_CRYPTO, "seq %lld: hash mismatch "
		    "(record altered): recorded %.16s..., content %.16s...",
		    (long long)seq, hash, want);
	return ASSAY_OK;
}

int
audit_rec_parse(const char *text, size_t len, json_t **out)
{
	json_error_t e;
	json_t *o;
	int r;

	*out = NULL;
	if (len > AUDIT_REC_MAX)
		return assay_err_set(ASSAY_ERR_FORMAT, "audit record of %zu "
		    "bytes: over the limit", len);
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "audit record: not JSON: "
		    "%s", e.text);
	if ((r = audit_rec_check(o)) != 0) {
		json_decref(o);
		return r;
	}
	*out = o;
	return ASSAY_OK;
}

void
audit_chain_init(struct audit_chain *c)
{
	memset(c, 0, sizeof(*c));
}

int
audit_chain_add(struct audit_chain *c, const json_t *rec)
{
	const char *agent = json_string_value(json_object_get(rec, "agent"));
	const char *prev = json_string_value(json_object_get(rec, "prev"));
	const char *hash = json_string_value(json_object_get(rec, "hash"));
	int64_t seq = json_integer_value(json_object_get(rec, "seq"));

	if (agent == NULL || prev == NULL || hash == NULL || seq < 1)
		return assay_err_set(ASSAY_ERR_FORMAT, "audit record without "
		    "agent, seq, prev or hash");
	if (c->first_seq == 0) {
		if (seq == 1 && strcmp(prev, AUDIT_ZERO_HASH) != 0)
			return assay_err_set(ASSAY_ERR_FORMAT, "seq 1: prev is "
			    "not the zero hash");
		snprintf(c->agent, sizeof(c->agent), "%s", agent);
		c->first_seq = seq;
	} else {
		if (strcmp(agent, c->agent) != 0)
			return assay_err_set(ASSAY_ERR_FORMAT, "seq %lld: agent "
			    "%.64s, the chain's is %.64s", (long long)seq, agent,
			    c->agent);
		if (seq != c->seq + 1)
			return assay_err_set(ASSAY_ERR_FORMAT, "seq %lld follows "
			    "seq %lld: records %lld..%lld missing",
			    (long long)seq, (long long)c->seq,
			    (long long)c->seq + 1, (long long)seq - 1);
		if (strcmp(prev, c->hash) != 0)
			return assay_err_set(ASSAY_ERR_FORMAT, "seq %lld: prev "
			    "does not match the hash of seq %lld",
			    (long long)seq, (long long)c->seq);
	}
	c->seq = seq;
	memcpy(c->hash, hash, AUDIT_HASH_HEX);
	return ASSAY_OK;
}

int
audit_chain_head(const struct audit_chain *c, int64_t seq, const char *hash)
{
	if (hash == NULL || !is_hash_hex(hash))
		return assay_err_set(ASSAY_ERR_FORMAT, "head: malformed hash");
	if (c->first_seq == 0)
		return seq == 0 ? ASSAY_OK : assay_err_set(ASSAY_ERR_FORMAT,
		    "head is seq %lld but no record was exported", (long long)seq);
	if (seq != c->seq)
		return assay_err_set(ASSAY_ERR_FORMAT, "head is seq %lld, the "
		    "last record is seq %lld: records %lld..%lld missing",
		    (long long)seq, (long long)c->seq, (long long)c->seq + 1,
		    (long long)seq);
	if (strcmp(hash, c->hash) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "head hash does not "
		    "match seq %lld", (long long)seq);
	return ASSAY_OK;
}
