/*
 * enroll.c — the registrar endpoints agents call: register (EK chain, EK
 * key match and AK attributes checked, then a credential made in software
 * for the agent's TPM) and activate (the agent proves it could decrypt the
 * credential: HMAC over its id keyed by the secret, compared in constant
 * time). Only then is the AK bound to the EK and the agent stored.
 * An agent certificate acts only for the id it first registered with.
 * Enrollments in progress live in the store (store_enroll.c), so any
 * verifier sharing a PostgreSQL database may activate what another
 * registered; an enrolled agent that another verifier attests takes its
 * new keys there (the "reenroll" action, through cluster_route).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/clock.h"
#include "common/activation.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/proto/enroll.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/audit.h"
#include "verifier/cluster.h"
#include "verifier/enroll.h"
#include "verifier/registrar.h"
#include "verifier/verifier.h"

#define ENROLL_SECRET_LEN	32
#define ENROLL_TTL		300	/* seconds to activate after register */
#define ENROLL_MAX_PENDING	10000
#define ENROLL_MAX_PER_CN	4	/* enrollments in progress per certificate */
#define ENROLL_MAX_PER_EK	4	/* and per EK */

/* Pending enrollments are keyed by id and certificate: none replaces another's. */
static char *
pending_key(const char *id, const char *cn)
{
	return xasprintf("%s\n%s", id, cn);
}

/*
 * An id is bound to the identity that asks for it: it must be the client
 * certificate's CN, or the id derived from the EK being registered
 * ("ek-" + SHA-256 prefix, what an agent without a configured id uses),
 * which only that TPM can activate.
 */
static int
enroll_id_bound(const char *id, const char *cn, const uint8_t *ek_pub, size_t len)
{
	char *ekid;
	int ok;

	if (strcmp(id, cn) == 0)
		return 1;
	ekid = activation_ek_id(ek_pub, len);
	ok = strcmp(id, ekid) == 0;
	free(ekid);
	return ok;
}

/*
 * The id is bound to whoever asks (enroll_id_bound) and, once enrolled,
 * to its certificate and its EK. 0, or the refusal was sent.
 */
static int
register_identity(struct http_request *r, struct verifier *v, const char *id,
    const uint8_t *ek_pub, size_t ek_pub_len)
{
	struct agent_rec cur;
	int rc, found, refused = 0;

	if ((rc = agent_lookup(v, id, &cur)) != ASSAY_OK &&
	    rc != ASSAY_ERR_NOT_FOUND) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return -1;
	}
	found = rc == ASSAY_OK;
	if (found && cur.cert_cn != NULL && strcmp(cur.cert_cn, r->peer.cn) != 0) {
		log_warnx("register %s refused: certificate CN '%s' is not the bound '%s'",
		    id, r->peer.cn, cur.cert_cn);
		http_reply_error(r, 403, "agent id '%s' is bound to another identity", id);
		refused = 1;
	} else if (found && (cur.ek_pub_len != ek_pub_len ||
	    memcmp(cur.ek_pub, ek_pub, ek_pub_len) != 0)) {
		log_warnx("register %s refused: EK differs from the enrolled one", id);
		http_reply_error(r, 403, "agent id '%s' is bound to another TPM (EK)", id);
		refused = 1;
	}
	agent_rec_free(&cur);
	if (refused)
		return -1;
	if (!enroll_id_bound(id, r->peer.cn, ek_pub, ek_pub_len)) {
		log_warnx("register %s refused: the certificate '%s' may enroll only "
		    "its own CN or its EK's id", id, r->peer.cn);
		http_reply_error(r, 403, "agent id '%s' is neither this certificate's "
		    "CN nor the id of this EK", id);
		return -1;
	}
	return 0;
}

/* Room for one more enrollment in progress under key. 0, or refused. */
static int
register_room(struct http_request *r, struct verifier *v, const char *id,
    const char *key, const char *ek_hash)
{
	struct store_enroll_counts c;
	int64_t now = clock_unix();

	(void)store_enroll_expire(v->store, now);
	if (store_enroll_room(v->store, key, r->peer.cn, ek_hash, now, &c) != 0) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return -1;
	}
	if (c.same_key)
		return 0;	/* the same certificate retrying: replaced */
	if (c.by_cert >= ENROLL_MAX_PER_CN || c.by_ek >= ENROLL_MAX_PER_EK) {
		log_warnx("register %s refused: %lld enrollments in progress for "
		    "certificate '%s', %lld for this EK", id, (long long)c.by_cert,
		    r->peer.cn, (long long)c.by_ek);
		http_reply_error(r, 429, "too many enrollments in progress for "
		    "this certificate");
		return -1;
	}
	if (c.total >= ENROLL_MAX_PENDING) {
		http_reply_error(r, 503, "too many enrollments in progress");
		return -1;
	}
	return 0;
}

/* Checks on what a registration names; 0, or the refusal was sent. */
static int
register_check(struct http_request *r, struct verifier *v,
    const struct enroll_register *q, struct tpm2_public *ek,
    struct tpm2_public *ak)
{
	if (register_identity(r, v, q->id, q->ek_pub, q->ek_pub_len) != 0)
		return -1;
	if (tpm2_public_parse(q->ek_pub, q->ek_pub_len, ek) != 0) {
		http_reply_error(r, 400, "ek_pub: %s", assay_err_detail());
		return -1;
	}
	if (ek_verify(v->trust, ek, q->ek_cert, q->ek_cert_len,
	    (const uint8_t *const *)q->chain, q->chain_len, q->nchain) != 0) {
		log_warnx("register %s refused: %s", q->id, assay_err_detail());
		http_reply_error(r, 403, "EK not trusted: %s", assay_err_detail());
		goto fail_ek;
	}
	if (tpm2_public_parse(q->ak_pub, q->ak_pub_len, ak) != 0) {
		http_reply_error(r, 400, "ak_pub: %s", assay_err_detail());
		goto fail_ek;
	}
	if (tpm2_public_check_ak(ak) != 0) {
		log_warnx("register %s refused: AK: %s", q->id, assay_err_detail());
		http_reply_error(r, 403, "AK not acceptable: %s", assay_err_detail());
		tpm2_public_free(ak);
		goto fail_ek;
	}
	return 0;
 fail_ek:
	tpm2_public_free(ek);
	return -1;
}

/* The record activation will store: q's keys, address and certificate. */
static void
pending_rec(struct agent_rec *rec, struct enroll_register *q, const char *cn)
{
	memset(rec, 0, sizeof(*rec));
	snprintf(rec->id, sizeof(rec->id), "%s", q->id);
	rec->ek_pub = q->ek_pub;
	rec->ek_pub_len = q->ek_pub_len;
	q->ek_pub = NULL;
	rec->ek_cert = q->ek_cert;
	rec->ek_cert_len = q->ek_cert_len;
	q->ek_cert = NULL;
	rec->ak_pub = q->ak_pub;
	rec->ak_pub_len = q->ak_pub_len;
	q->ak_pub = NULL;
	rec->cert_cn = xstrdup(cn);
	rec->address = q->address;
	q->address = NULL;
	rec->push = q->push;
}

void
api_register(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct tpm2_public ek = { 0 }, ak = { 0 };
	struct agent_rec rec = { 0 };
	struct enroll_register q;
	uint8_t secret[ENROLL_SECRET_LEN];
	uint8_t *cred = NULL, *enc = NULL;
	size_t cred_len = 0, enc_len = 0;
	json_t *body;
	char *key = NULL, *ekh = NULL;
	int have_keys = 0;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (enroll_register_parse(body, &q) != 0) {
		json_decref(body);
		http_reply_error(r, 400, "%s", assay_err_detail());
		return;
	}
	json_decref(body);
	if (register_check(r, v, &q, &ek, &ak) != 0)
		goto out;
	have_keys = 1;
	key = pending_key(q.id, r->peer.cn);
	ekh = ek_pub_hash_hex(q.ek_pub, q.ek_pub_len);
	if (register_room(r, v, q.id, key, ekh != NULL ? ekh : "") != 0)
		goto out;
	if (RAND_bytes(secret, sizeof(secret)) != 1)
		fatalx("RAND_bytes failed");
	if (make_credential(&ek, ak.name, ak.name_len, secret, sizeof(secret),
	    &cred, &cred_len, &enc, &enc_len) != 0) {
		log_err("register %s: make_credential: %s", q.id, assay_err_detail());
		http_reply_error(r, 500, "cannot make credential: %s", assay_err_detail());
		goto out;
	}
	pending_rec(&rec, &q, r->peer.cn);
	if (store_enroll_put(v->store, key, &rec, ekh != NULL ? ekh : "", secret,
	    sizeof(secret), clock_unix() + ENROLL_TTL) != 0) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		goto out;
	}
	log_info("register %s: EK and AK accepted, credential issued", q.id);
	http_reply_json(r, 200, enroll_credential_encode(cred, cred_len, enc,
	    enc_len));
 out:
	OPENSSL_cleanse(secret, sizeof(secret));
	agent_rec_free(&rec);
	if (have_keys) {
		tpm2_public_free(&ek);
		tpm2_public_free(&ak);
	}
	enroll_register_free(&q);
	free(key);
	free(ekh);
	free(cred);
	free(enc);
}

static json_t *
enroll_status(const struct agent_rec *rec)
{
	return json_pack("{s:s, s:b, s:s}", "id", rec->id, "activated",
	    rec->activated, "state", agent_state_name(rec->state));
}

/*
 * An enrolled agent activated again: it takes the new AK, EK certificate
 * and (unless an admin set one) address. 1 if the AK changed.
 */
static int
reenroll(struct vagent *va, const struct agent_rec *p)
{
	int akchanged = va->rec.ak_pub_len != p->ak_pub_len ||
	    memcmp(va->rec.ak_pub, p->ak_pub, p->ak_pub_len) != 0;

	free(va->rec.ak_pub);
	va->rec.ak_pub = xmemdup(p->ak_pub, p->ak_pub_len);
	va->rec.ak_pub_len = p->ak_pub_len;
	free(va->rec.ek_cert);
	va->rec.ek_cert = p->ek_cert_len > 0 ?
	    xmemdup(p->ek_cert, p->ek_cert_len) : NULL;
	va->rec.ek_cert_len = p->ek_cert_len;
	if (p->address != NULL && !va->rec.admitted) {
		free(va->rec.address);
		va->rec.address = xstrdup(p->address);
	}
	va->rec.activated = 1;
	va->rec.push = p->push;		/* a host may change its mode */
	if (akchanged) {
		/* A new AK has its own clock obfuscation and history. */
		memset(&va->rec.clock, 0, sizeof(va->rec.clock));
		/* Its identity key was certified by the old AK. */
		free(va->rec.id_pub);
		va->rec.id_pub = NULL;
		va->rec.id_pub_len = 0;
		va->gen++;
		(void)agent_load_ak(va);
	}
	return akchanged;
}

/* What the node attesting an agent needs to re-enroll it (JSON). */
static json_t *
reenroll_body(const struct agent_rec *p)
{
	char *ak = base64_encode(p->ak_pub, p->ak_pub_len);
	char *ekc = p->ek_cert != NULL ?
	    base64_encode(p->ek_cert, p->ek_cert_len) : NULL;
	json_t *o = json_pack("{s:s, s:s*, s:s*, s:s, s:b}", "ak_pub", ak,
	    "ek_cert", ekc, "address", p->address, "cert_cn", p->cert_cn,
	    "push", p->push);

	free(ak);
	free(ekc);
	return o;
}

static int
reenroll_parse(json_t *body, struct agent_rec *p, const char **cn)
{
	const char *ak = NULL, *ekc = NULL, *addr = NULL;
	int push = 0;

	memset(p, 0, sizeof(*p));
	if (json_unpack(body, "{s:s, s?s, s?s, s:s, s?b}", "ak_pub", &ak,
	    "ek_cert", &ekc, "address", &addr, "cert_cn", cn, "push",
	    &push) != 0 ||
	    base64_decode_alloc(ak, 64 * 1024, &p->ak_pub, &p->ak_pub_len) != 0 ||
	    (ekc != NULL && base64_decode_alloc(ekc, 64 * 1024, &p->ek_cert,
	    &p->ek_cert_len) != 0))
		return -1;
	p->address = xstrdup_or_null(addr);
	p->push = push;
	return 0;
}

int
enroll_reenroll_op(struct vagent *va, json_t *body, const char *who,
    json_t **reply)
{
	struct agent_rec p;
	const char *cn = NULL;
	int akchanged;

	if (body == NULL || reenroll_parse(body, &p, &cn) != 0) {
		agent_rec_free(&p);
		*reply = json_pack("{s:s}", "error", "bad re-enrollment");
		return 400;
	}
	if (va->rec.cert_cn != NULL && strcmp(va->rec.cert_cn, cn) != 0) {
		agent_rec_free(&p);
		*reply = json_pack("{s:s}", "error", "agent id is bound to "
		    "another identity");
		return 403;
	}
	akchanged = reenroll(va, &p);
	agent_rec_free(&p);
	audit_action(va, "reenroll", who, audit_keys(&va->rec));
	if (agent_save(va, "re-registered", NULL, akchanged ? "new AK" : NULL)
	    != 0) {
		*reply = json_pack("{s:s}", "error", "store refused the change");
		return 500;
	}
	log_notice("agent %s: re-registered (EK bound, AK activated)",
	    va->rec.id);
	if (akchanged && (va->rec.state == AGENT_TRUSTED ||
	    va->rec.state == AGENT_UNREACHABLE))
		sched_agent(va, 0);
	*reply = enroll_status(&va->rec);
	return 200;
}

/* A first activation: the agent is stored, held by this node. */
static void
activate_new(struct http_request *r, struct verifier *v, struct agent_rec *p)
{
	struct vagent *va;
	char *owner = NULL;

	if (cluster_take(v->cluster, p->id, &owner) != ASSAY_OK) {
		http_reply_error(r, 409, "agent '%s' is being enrolled through "
		    "another verifier", p->id);
		free(owner);
		return;
	}
	p->state = AGENT_REGISTERED;
	p->activated = 1;
	p->registered_at = clock_unix();
	va = agent_add(v, p);
	audit_action(va, "enroll", r->peer.cn, audit_keys(&va->rec));
	if (agent_save(va, "registered", NULL, NULL) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		sched_remove(va);
		return;
	}
	log_notice("agent %s: registered (EK bound, AK activated)", p->id);
	http_reply_json(r, 200, enroll_status(&va->rec));
}

/* Proof checked: store the agent, here or where it is attested. */
static void
activate_ok(struct http_request *r, struct verifier *v, struct agent_rec *p)
{
	struct vagent *va;
	struct agent_rec cur;
	json_t *body, *reply = NULL;
	int rc, status;

	rc = agent_lookup(v, p->id, &cur);
	agent_rec_free(&cur);
	if (rc == ASSAY_ERR_NOT_FOUND) {
		activate_new(r, v, p);
		return;
	}
	if (rc != ASSAY_OK) {
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return;
	}
	body = reenroll_body(p);
	if (cluster_route(v, r, p->id, "reenroll", body, &va) == ROUTE_LOCAL) {
		status = enroll_reenroll_op(va, body, r->peer.cn, &reply);
		http_reply_json(r, status, reply);
	}
	json_decref(body);
}

void
api_activate(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct agent_rec p, cur;
	const char *id = r->param[0];
	uint8_t want[ACTIVATION_PROOF_LEN], got[ENROLL_PROOF_LEN];
	uint8_t secret[ENROLL_SECRET_LEN];
	json_t *body;
	char *key = NULL;
	int rc;

	memset(&p, 0, sizeof(p));
	if ((body = http_body_json(r)) == NULL)
		return;
	if (enroll_proof_parse(body, got) != 0) {
		http_reply_error(r, 400, "%s", assay_err_detail());
		goto out;
	}
	key = pending_key(id, r->peer.cn);
	/* One try per credential: taking it deletes it, whatever follows. */
	if ((rc = store_enroll_take(v->store, key, clock_unix(), &p, secret,
	    sizeof(secret))) != ASSAY_OK) {
		/* Same answer for "none" and "another identity's": no probing. */
		if (rc == ASSAY_ERR_NOT_FOUND)
			http_reply_error(r, 404, "no enrollment in progress for "
			    "'%s' by this certificate", id);
		else
			http_reply_error(r, 503, "database: %s",
			    assay_err_detail());
		goto out;
	}
	if (agent_lookup(v, id, &cur) == ASSAY_OK && cur.cert_cn != NULL &&
	    strcmp(cur.cert_cn, r->peer.cn) != 0) {
		/* Another certificate activated this id first: it is bound. */
		agent_rec_free(&cur);
		http_reply_error(r, 403, "agent id '%s' is bound to another "
		    "identity", id);
		goto out;
	}
	agent_rec_free(&cur);
	activation_proof(secret, sizeof(secret), id, want);
	if (CRYPTO_memcmp(want, got, sizeof(want)) != 0) {
		log_warnx("activate %s refused: wrong proof of credential activation", id);
		http_reply_error(r, 403, "credential activation proof is wrong");
		goto out;
	}
	activate_ok(r, v, &p);
 out:
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(secret, sizeof(secret));
	agent_rec_free(&p);
	free(key);
	json_decref(body);
}

void
api_register_status(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct agent_rec rec;
	int rc;

	if ((rc = agent_lookup(v, r->param[0], &rec)) != ASSAY_OK &&
	    rc != ASSAY_ERR_NOT_FOUND) {
		/* Not "unknown": an agent told so would enroll again. */
		http_reply_error(r, 503, "database: %s", assay_err_detail());
		return;
	}
	if (rc != ASSAY_OK || rec.cert_cn == NULL ||
	    strcmp(rec.cert_cn, r->peer.cn) != 0) {
		/* Same answer for "unknown" and "not yours": no id probing. */
		agent_rec_free(&rec);
		http_reply_error(r, 404, "agent '%s' is not registered", r->param[0]);
		return;
	}
	http_reply_json(r, 200, enroll_status(&rec));
	agent_rec_free(&rec);
}
