/*
 * doc.c — JSON encoding and strict decoding of the evidence document.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/evidence/tpm_public.h"
#include "common/proto/doc.h"
#include "common/proto/doc_int.h"
#include "common/xmalloc.h"

void
evidence_doc_init(struct evidence_doc *d)
{
	memset(d, 0, offsetof(struct evidence_doc, pcrs));
	pcr_values_init(&d->pcrs);
}

void
evidence_doc_free(struct evidence_doc *d)
{
	free(d->attest);
	free(d->sig);
	if (d->backing != NULL)		/* ima and eventlog point into it */
		free(d->backing);
	else {
		free(d->ima);
		free(d->eventlog);
	}
	free(d->id_pub);
	free(d->id_attest);
	free(d->id_sig);
	evidence_doc_init(d);
}

json_t *
pcr_values_to_json(const struct pcr_values *v)
{
	json_t *o = json_object();

	for (size_t b = 0; b < v->nbanks; b++) {
		const struct tpm2_hash *h = tpm2_hash_by_alg(v->bank[b].hash);
		json_t *bank;

		if (h == NULL)
			continue;
		bank = json_object();
		for (unsigned i = 0; i < TPM2_PCR_COUNT; i++) {
			char idx[4], *hex;

			if ((v->bank[b].present & (1u << i)) == 0)
				continue;
			snprintf(idx, sizeof(idx), "%u", i);
			hex = hex_encode(v->bank[b].value[i], h->size);
			json_object_set_new(bank, idx, json_string(hex));
			free(hex);
		}
		json_object_set_new(o, h->name, bank);
	}
	return o;
}

int
pcr_values_from_json(const json_t *j, struct pcr_values *out)
{
	const char *bname, *idx;
	json_t *bank, *val;

	pcr_values_init(out);
	if (!json_is_object(j))
		return assay_err_set(ASSAY_ERR_FORMAT, "pcrs: not an object");
	json_object_foreach((json_t *)j, bname, bank) {
		const struct tpm2_hash *h = tpm2_hash_by_name(bname);

		if (h == NULL)
			return assay_err_set(ASSAY_ERR_FORMAT, "pcrs: unknown bank '%.32s'", bname);
		if (!json_is_object(bank))
			return assay_err_set(ASSAY_ERR_FORMAT, "pcrs.%s: not an object", bname);
		json_object_foreach(bank, idx, val) {
			uint8_t d[TPM2_MAX_DIGEST];
			size_t n;
			char *end;
			unsigned long i;

			errno = 0;
			i = strtoul(idx, &end, 10);
			if (idx[0] < '0' || idx[0] > '9' || *end != '\0' || errno != 0 ||
			    i >= TPM2_PCR_COUNT || (idx[0] == '0' && idx[1] != '\0'))
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "pcrs.%s: bad PCR index '%.16s'", bname, idx);
			if (!json_is_string(val) ||
			    hex_decode(json_string_value(val), d, sizeof(d), &n) != 0 ||
			    n != h->size)
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "pcrs.%s.%lu: not a %zu-byte hex digest", bname, i, h->size);
			if (pcr_values_set(out, h->alg, (unsigned)i, d, n) != 0)
				return assay_err_set(ASSAY_ERR_FORMAT,
				    "pcrs.%s.%lu: too many banks", bname, i);
		}
	}
	return ASSAY_OK;
}

static void
set_b64(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *s = base64_encode(p, n);

	json_object_set_new(o, key, json_string(s));
	free(s);
}

static json_t *
doc_identity_to_json(const struct evidence_doc *d)
{
	json_t *o = json_object();

	set_b64(o, "public", d->id_pub, d->id_pub_len);
	set_b64(o, "message", d->id_attest, d->id_attest_len);
	set_b64(o, "signature", d->id_sig, d->id_sig_len);
	return o;
}

json_t *
evidence_doc_to_json(const struct evidence_doc *d)
{
	return doc_json(d, 0);
}

/* bin: the binary form's JSON part (no list, no event log: they follow). */
json_t *
doc_json(const struct evidence_doc *d, int bin)
{
	json_t *o = json_object(), *q = json_object();
	char *s;

	json_object_set_new(o, "version", json_integer(DOC_VERSION));
	s = base64_encode(d->attest, d->attest_len);
	json_object_set_new(q, "message", json_string(s));
	free(s);
	s = base64_encode(d->sig, d->sig_len);
	json_object_set_new(q, "signature", json_string(s));
	free(s);
	json_object_set_new(o, "quote", q);
	json_object_set_new(o, "pcrs", pcr_values_to_json(&d->pcrs));
	if (d->has_ima) {
		json_t *ima = json_object();

		json_object_set_new(ima, "from", json_integer((json_int_t)d->ima_from));
		json_object_set_new(ima, "count", json_integer((json_int_t)d->ima_count));
		json_object_set_new(ima, "template_hash", json_string(
		    tpm2_hash_by_alg(d->ima_thash_alg) != NULL ?
		    tpm2_hash_by_alg(d->ima_thash_alg)->name : "sha1"));
		if (!bin)
			set_b64(ima, "list", d->ima, d->ima_len);
		if (d->ima_more)
			json_object_set_new(ima, "more", json_true());
		json_object_set_new(o, "ima", ima);
	}
	if (d->eventlog != NULL && !bin)
		set_b64(o, "eventlog", d->eventlog, d->eventlog_len);
	if (d->id_pub != NULL)
		json_object_set_new(o, "identity", doc_identity_to_json(d));
	return o;
}

static int
get_b64(const json_t *o, const char *key, const char *where, size_t max,
    uint8_t **out, size_t *len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return assay_err_set(ASSAY_ERR_FORMAT, "%s.%s: missing or not a string",
		    where, key);
	if (base64_decode_alloc(json_string_value(v), max, out, len) != 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "%s.%s: bad base64 or too large",
		    where, key);
	return ASSAY_OK;
}

static int
only_keys(const json_t *o, const char *where, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		size_t i;

		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return assay_err_set(ASSAY_ERR_FORMAT, "%s: unknown key '%.32s'",
			    where, k);
	}
	return ASSAY_OK;
}

static int
get_count(const json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return assay_err_set(ASSAY_ERR_FORMAT, "ima.%s: not a count", key);
	*out = (uint64_t)json_integer_value(v);
	return ASSAY_OK;
}

/* evidence.quote: the TPMS_ATTEST message and its signature into d. */
static int
doc_quote_from_json(const json_t *j, struct evidence_doc *d)
{
	static const char *const qkeys[] = { "message", "signature", NULL };
	json_t *q;
	int r;

	q = json_object_get(j, "quote");
	if (!json_is_object(q))
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence.quote: missing");
	if ((r = only_keys(q, "quote", qkeys)) != 0 ||
	    (r = get_b64(q, "message", "quote", ATTEST_MAX_SIZE, &d->attest,
	    &d->attest_len)) != 0 ||
	    (r = get_b64(q, "signature", "quote", SIGNATURE_MAX_SIZE, &d->sig,
	    &d->sig_len)) != 0)
		return r;
	return ASSAY_OK;
}

/*
 * evidence.ima (present): the list slice and where it sits, into d (bin:
 * the list is not in the JSON but follows it).
 */
static int
doc_ima_from_json(const json_t *ima, struct evidence_doc *d, int bin)
{
	static const char *const ikeys[] = { "from", "count", "template_hash", "list",
	    "more", NULL };
	static const char *const bkeys[] = { "from", "count", "template_hash",
	    "more", NULL };
	const struct tpm2_hash *h;
	json_t *v;
	int r;

	if (!json_is_object(ima))
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence.ima: not an object");
	d->has_ima = 1;
	d->ima_thash_alg = TPM2_ALG_SHA1;
	if ((v = json_object_get(ima, "template_hash")) != NULL) {
		h = json_is_string(v) ? tpm2_hash_by_name(json_string_value(v)) :
		    NULL;
		if (h == NULL)
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "ima.template_hash: not a known hash");
		d->ima_thash_alg = h->alg;
	}
	if ((r = only_keys(ima, "ima", bin ? bkeys : ikeys)) != 0 ||
	    (r = get_count(ima, "from", &d->ima_from)) != 0 ||
	    (r = get_count(ima, "count", &d->ima_count)) != 0 ||
	    (!bin && (r = get_b64(ima, "list", "ima", DOC_IMA_MAX, &d->ima,
	    &d->ima_len)) != 0))
		return r;
	if ((v = json_object_get(ima, "more")) != NULL) {
		if (!json_is_boolean(v))
			return assay_err_set(ASSAY_ERR_FORMAT,
			    "ima.more: not a boolean");
		d->ima_more = json_is_true(v);
	}
	return ASSAY_OK;
}

/* evidence.identity (present): the key and its certification, into d. */
static int
doc_identity_from_json(const json_t *o, struct evidence_doc *d)
{
	static const char *const keys[] = { "public", "message", "signature",
	    NULL };
	int r;

	if (!json_is_object(o))
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "evidence.identity: not an object");
	if ((r = only_keys(o, "identity", keys)) != 0 ||
	    (r = get_b64(o, "public", "identity", TPM_PUBLIC_MAX_SIZE,
	    &d->id_pub, &d->id_pub_len)) != 0 ||
	    (r = get_b64(o, "message", "identity", ATTEST_MAX_SIZE,
	    &d->id_attest, &d->id_attest_len)) != 0 ||
	    (r = get_b64(o, "signature", "identity", SIGNATURE_MAX_SIZE,
	    &d->id_sig, &d->id_sig_len)) != 0)
		return r;
	return ASSAY_OK;
}

int
evidence_doc_from_json(const json_t *j, struct evidence_doc *out)
{
	return doc_from_json(j, out, 0);
}

int
doc_from_json(const json_t *j, struct evidence_doc *out, int bin)
{
	static const char *const top[] = { "version", "quote", "pcrs", "ima",
	    "eventlog", "identity", NULL };
	static const char *const btop[] = { "version", "quote", "pcrs", "ima",
	    "identity", NULL };
	struct evidence_doc d;
	json_t *v, *ima, *el, *id;
	int r;

	evidence_doc_init(out);
	evidence_doc_init(&d);
	if (!json_is_object(j)) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "evidence: not a JSON object");
		goto out;
	}
	if ((r = only_keys(j, "evidence", bin ? btop : top)) != 0)
		goto out;
	v = json_object_get(j, "version");
	if (!json_is_integer(v) || json_integer_value(v) != DOC_VERSION) {
		r = assay_err_set(ASSAY_ERR_FORMAT, "evidence.version: not %d", DOC_VERSION);
		goto out;
	}
	if ((r = doc_quote_from_json(j, &d)) != 0)
		goto out;
	if ((r = pcr_values_from_json(json_object_get(j, "pcrs"), &d.pcrs)) != 0) {
		r = ASSAY_ERR_FORMAT;
		goto out;
	}
	if ((ima = json_object_get(j, "ima")) != NULL &&
	    (r = doc_ima_from_json(ima, &d, bin)) != 0)
		goto out;
	if ((el = json_object_get(j, "eventlog")) != NULL) {
		if ((r = get_b64(j, "eventlog", "evidence", DOC_EVENTLOG_MAX,
		    &d.eventlog, &d.eventlog_len)) != 0)
			goto out;
	}
	if ((id = json_object_get(j, "identity")) != NULL &&
	    (r = doc_identity_from_json(id, &d)) != 0)
		goto out;
	*out = d;
	evidence_doc_init(&d);
	r = ASSAY_OK;
 out:
	evidence_doc_free(&d);
	return r;
}

int
evidence_doc_parse(const uint8_t *text, size_t len, struct evidence_doc *out)
{
	json_error_t e;
	json_t *j;
	int r;

	evidence_doc_init(out);
	if ((j = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "evidence: JSON error at %d: %s",
		    e.position, e.text);
	r = evidence_doc_from_json(j, out);
	json_decref(j);
	return r;
}

int
evidence_doc_page_full(const struct evidence_doc *d, uint64_t max, size_t cap)
{
	return (max != 0 && d->ima_count >= max) ||
	    d->ima_len + DOC_IMA_ENTRY_MAX > doc_ima_page_cap(cap);
}

size_t
doc_max_size(uint64_t ima_bytes, int eventlog)
{
	return (ima_bytes != 0 ? DOC_B64_LEN(doc_ima_page_cap(ima_bytes)) : 0) +
	    (eventlog ? DOC_B64_LEN(DOC_EVENTLOG_MAX) : 0) + DOC_JSON_SLACK;
}

size_t
doc_ima_page_cap(uint64_t asked)
{
	if (asked == 0 || asked > DOC_IMA_MAX)
		return DOC_IMA_MAX;
	return asked < DOC_IMA_PAGE_MIN ? DOC_IMA_PAGE_MIN : (size_t)asked;
}
