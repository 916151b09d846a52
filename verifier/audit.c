/*
 * audit.c — the verifier's audit trail (audit.h): builds the record of a
 * round or an action, keeps it on the agent until its store write, seals
 * it there onto the agent's chain (seq and head in memory, read from the
 * store the first time) with the policy text a round used when the store
 * may not have it yet, and deletes an agent with its last record.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "common/appraise/audit_round.h"
#include "common/appraise/policy.h"
#include "verifier/audit.h"

int
audit_on(const struct verifier *v)
{
	return v->conf.audit_retention > 0;
}

static void
set_next(struct vagent *va, json_t *rec)
{
	if (va->audit_next != NULL) {
		/* Never rides on an unrelated write: a bug, said once. */
		log_warnx("agent %s: audit record %s replaced before it was "
		    "written", va->rec.id, json_string_value(json_object_get(
		    va->audit_next, "kind")));
		json_decref(va->audit_next);
	}
	va->audit_next = rec;
}

void
audit_round(struct vagent *va, struct verify_job *j)
{
	json_t *rec = j->audit_rec;

	j->audit_rec = NULL;
	if (!audit_on(va->v)) {
		json_decref(rec);
		return;
	}
	set_next(va, rec != NULL ? rec : audit_round_record(j, va->rec.ak_pub,
	    va->rec.ak_pub_len));
}

void
audit_action(struct vagent *va, const char *kind, const char *actor,
    json_t *extra)
{
	json_t *rec = extra != NULL ? extra : json_object();

	if (!audit_on(va->v)) {
		json_decref(rec);
		return;
	}
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(rec, "actor", actor != NULL ? json_string(actor) :
	    json_null());
	json_object_set_new(rec, "state_before",
	    json_string(agent_state_name(va->rec.state)));
	set_next(va, rec);
}

static json_t *
b64_or_null(const uint8_t *p, size_t n)
{
	char *s = p != NULL ? base64_encode(p, n) : NULL;
	json_t *o = s != NULL ? json_string(s) : json_null();

	free(s);
	return o;
}

json_t *
audit_keys(const struct agent_rec *rec)
{
	json_t *o = json_object();

	json_object_set_new(o, "ek_cert", b64_or_null(rec->ek_cert,
	    rec->ek_cert_len));
	json_object_set_new(o, "ek_pub", b64_or_null(rec->ek_pub,
	    rec->ek_pub_len));
	json_object_set_new(o, "ak_pub", b64_or_null(rec->ak_pub,
	    rec->ak_pub_len));
	json_object_set_new(o, "cert_cn", rec->cert_cn != NULL ?
	    json_string(rec->cert_cn) : json_null());
	return o;
}

/*
 * A round's policy text, the first time this process records its
 * SHA-256: the stored text of that name when it is the one judged with.
 */
/* The text of version (0: the one in force) of policy name, or NULL. */
static char *
policy_text_of(struct verifier *v, const char *name, int64_t version)
{
	struct store_policy_version pv;
	struct store_policy sp;
	char *text = NULL;

	if (version > 0 &&
	    store_policy_version_get(v->store, name, version, &pv) == 0) {
		text = pv.text;
		pv.text = NULL;
		store_policy_version_free(&pv);
	} else if (version <= 0 && store_policy_get(v->store, name, &sp) == 0) {
		text = sp.text;
		sp.text = NULL;
		store_policy_free(&sp);
	}
	return text;
}

static void
attach_policy(struct vagent *va, const json_t *rec, struct store_audit *au)
{
	struct verifier *v = va->v;
	const char *sha = NULL, *name = NULL;
	json_int_t version = 0;
	char *text = NULL, hex[65];

	if (json_unpack((json_t *)rec, "{s:{s:s, s:s, s?:I}}", "policy", "sha256",
	    &sha, "name", &name, "version", &version) != 0 ||
	    strmap_get(v->audit_pols, sha) != NULL)
		return;
	/* The version judged with (a canary, an older one): its own text. */
	text = policy_text_of(v, name, version);
	if (text != NULL)
		sha256_hex(text, strlen(text), hex);
	if (text == NULL || strcmp(hex, sha) != 0) {
		log_warnx("agent %s: audit: the text of policy %s (sha256 %.16s) "
		    "is no longer stored: its rounds cannot be re-run", va->rec.id,
		    name, sha);
		goto out;
	}
	au->pol_sha256 = xstrdup(sha);
	au->pol_name = xstrdup(name);
	au->pol_text = text;
	text = NULL;
	strmap_put(v->audit_pols, sha, (void *)1);
 out:
	free(text);
}

int
audit_seal(struct vagent *va, struct store_audit *au)
{
	json_t *rec = va->audit_next;
	char hash[AUDIT_HASH_HEX], *text = NULL;
	int64_t now = clock_unix();

	memset(au, 0, sizeof(*au));
	if (rec == NULL)
		return 0;
	va->audit_next = NULL;
	if (!va->audit_loaded) {
		if (store_audit_head(va->v->store, va->rec.id, &va->audit_seq,
		    va->audit_head) != 0) {
			log_err("agent %s: audit record %s lost: cannot read the "
			    "chain's head: %s", va->rec.id, json_string_value(
			    json_object_get(rec, "kind")), assay_err_detail());
			json_decref(rec);
			return 0;
		}
		va->audit_loaded = 1;
	}
	json_object_set_new(rec, "time", json_integer(now));
	if (audit_rec_seal(rec, va->rec.id, va->audit_seq + 1, va->audit_head,
	    &text, hash) != 0) {
		log_err("agent %s: audit record not sealed: %s", va->rec.id,
		    assay_err_detail());
		json_decref(rec);
		return 0;
	}
	au->agent_id = xstrdup(va->rec.id);
	au->seq = va->audit_seq + 1;
	au->time = now;
	au->kind = xstrdup(json_string_value(json_object_get(rec, "kind")));
	au->record = text;
	au->hash = xstrdup(hash);
	attach_policy(va, rec, au);
	json_decref(rec);
	va->audit_seq = au->seq;
	memcpy(va->audit_head, hash, AUDIT_HASH_HEX);
	return 1;
}

void
audit_refused(struct vagent *va, const struct store_audit *au)
{
	va->audit_loaded = 0;
	if (au->pol_sha256 != NULL)
		strmap_del(va->v->audit_pols, au->pol_sha256);
}

void
audit_drop(struct vagent *va)
{
	json_decref(va->audit_next);
	va->audit_next = NULL;
}

int
audit_delete(struct vagent *va, const char *actor, const struct store_event *ev)
{
	struct store_audit au;
	int has, r;

	audit_action(va, "delete", actor, NULL);
	has = audit_seal(va, &au);
	r = store_agent_delete_audit(va->v->store, va->rec.id, ev,
	    has ? &au : NULL);
	if (r != 0 && has)
		audit_refused(va, &au);
	store_audit_free(&au);
	return r;
}
