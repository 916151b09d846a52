/*
 * enroll.c — the registrar endpoints agents call: register (EK chain, EK
 * key match and AK attributes checked, then a credential made in software
 * for the agent's TPM) and activate (the agent proves it could decrypt the
 * credential: HMAC over its id keyed by the secret, compared in constant
 * time). Only then is the AK bound to the EK and the agent stored.
 * An agent certificate acts only for the id it first registered with.
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
#include "verifier/enroll.h"
#include "verifier/registrar.h"
#include "verifier/verifier.h"

#define ENROLL_SECRET_LEN	32
#define ENROLL_TTL		300	/* seconds to activate after register */
#define ENROLL_MAX_PENDING	10000
#define ENROLL_MAX_PER_CN	4	/* enrollments in progress per certificate */
#define ENROLL_MAX_PER_EK	4	/* and per EK */

struct enroll_pending {
	uint8_t		 secret[ENROLL_SECRET_LEN];
	struct agent_rec rec;		/* what activation will store */
	int64_t		 expires;
};

static void
pending_free(struct enroll_pending *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p->secret, sizeof(p->secret));
	agent_rec_free(&p->rec);
	free(p);
}

static void
pending_expire(struct verifier *v)
{
	const char *id;
	void *val;
	size_t pos = 0;
	int64_t now = clock_unix();
	char *dead[64];
	size_t ndead = 0;

	while (ndead < 64 && strmap_next(v->pending, &pos, &id, &val))
		if (((struct enroll_pending *)val)->expires < now)
			dead[ndead++] = xstrdup(id);
	for (size_t i = 0; i < ndead; i++) {
		pending_free(strmap_del(v->pending, dead[i]));
		free(dead[i]);
	}
}

/* Pending enrollments are keyed by id and certificate: none replaces another's. */
static char *
pending_key(const char *id, const char *cn)
{
	return xasprintf("%s\n%s", id, cn);
}

/* Enrollments in progress by this certificate, and for this EK. */
static void
pending_count(struct verifier *v, const char *cn, const uint8_t *ek, size_t eklen,
    size_t *ncn, size_t *nek)
{
	const struct enroll_pending *p;
	const char *key;
	void *val;
	size_t pos = 0;

	*ncn = *nek = 0;
	while (strmap_next(v->pending, &pos, &key, &val)) {
		p = val;
		if (strcmp(p->rec.cert_cn, cn) == 0)
			(*ncn)++;
		if (p->rec.ek_pub_len == eklen && memcmp(p->rec.ek_pub, ek, eklen) == 0)
			(*nek)++;
	}
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
	struct vagent *va = agent_find(v, id);

	if (va != NULL && va->rec.cert_cn != NULL &&
	    strcmp(va->rec.cert_cn, r->peer.cn) != 0) {
		log_warnx("register %s refused: certificate CN '%s' is not the bound '%s'",
		    id, r->peer.cn, va->rec.cert_cn);
		http_reply_error(r, 403, "agent id '%s' is bound to another identity", id);
		return -1;
	}
	if (!enroll_id_bound(id, r->peer.cn, ek_pub, ek_pub_len)) {
		log_warnx("register %s refused: the certificate '%s' may enroll only "
		    "its own CN or its EK's id", id, r->peer.cn);
		http_reply_error(r, 403, "agent id '%s' is neither this certificate's "
		    "CN nor the id of this EK", id);
		return -1;
	}
	if (va != NULL && (va->rec.ek_pub_len != ek_pub_len ||
	    memcmp(va->rec.ek_pub, ek_pub, ek_pub_len) != 0)) {
		log_warnx("register %s refused: EK differs from the enrolled one", id);
		http_reply_error(r, 403, "agent id '%s' is bound to another TPM (EK)", id);
		return -1;
	}
	return 0;
}

/* Room for one more enrollment in progress under key. 0, or refused. */
static int
register_room(struct http_request *r, struct verifier *v, const char *id,
    const char *key, const uint8_t *ek_pub, size_t ek_pub_len)
{
	size_t ncn, nek;

	pending_expire(v);
	if (strmap_get(v->pending, key) != NULL)
		return 0;	/* the same certificate retrying: replaced */
	pending_count(v, r->peer.cn, ek_pub, ek_pub_len, &ncn, &nek);
	if (ncn >= ENROLL_MAX_PER_CN || nek >= ENROLL_MAX_PER_EK) {
		log_warnx("register %s refused: %zu enrollments in progress for "
		    "certificate '%s', %zu for this EK", id, ncn, r->peer.cn, nek);
		http_reply_error(r, 429, "too many enrollments in progress for "
		    "this certificate");
		return -1;
	}
	if (strmap_count(v->pending) >= ENROLL_MAX_PENDING) {
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

/* The pending enrollment's record takes q's keys and certificate. */
static void
pending_take(struct enroll_pending *p, struct enroll_register *q,
    const char *cn)
{
	snprintf(p->rec.id, sizeof(p->rec.id), "%s", q->id);
	p->rec.ek_pub = q->ek_pub;
	p->rec.ek_pub_len = q->ek_pub_len;
	q->ek_pub = NULL;
	p->rec.ek_cert = q->ek_cert;
	p->rec.ek_cert_len = q->ek_cert_len;
	q->ek_cert = NULL;
	p->rec.ak_pub = q->ak_pub;
	p->rec.ak_pub_len = q->ak_pub_len;
	q->ak_pub = NULL;
	p->rec.cert_cn = xstrdup(cn);
	p->rec.address = q->address;
	q->address = NULL;
	p->expires = clock_unix() + ENROLL_TTL;
}

void
api_register(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct tpm2_public ek = { 0 }, ak = { 0 };
	struct enroll_pending *p = NULL;
	struct enroll_register q;
	uint8_t *cred = NULL, *enc = NULL;
	size_t cred_len = 0, enc_len = 0;
	json_t *body;
	char *key = NULL;
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
	if (register_room(r, v, q.id, key, q.ek_pub, q.ek_pub_len) != 0)
		goto out;
	p = xcalloc(1, sizeof(*p));
	if (RAND_bytes(p->secret, sizeof(p->secret)) != 1)
		fatalx("RAND_bytes failed");
	if (make_credential(&ek, ak.name, ak.name_len, p->secret, sizeof(p->secret),
	    &cred, &cred_len, &enc, &enc_len) != 0) {
		log_err("register %s: make_credential: %s", q.id, assay_err_detail());
		http_reply_error(r, 500, "cannot make credential: %s", assay_err_detail());
		goto out;
	}
	pending_take(p, &q, r->peer.cn);
	pending_free(strmap_put(v->pending, key, p));
	p = NULL;
	log_info("register %s: EK and AK accepted, credential issued", q.id);
	http_reply_json(r, 200, enroll_credential_encode(cred, cred_len, enc,
	    enc_len));
 out:
	pending_free(p);
	if (have_keys) {
		tpm2_public_free(&ek);
		tpm2_public_free(&ak);
	}
	enroll_register_free(&q);
	free(key);
	free(cred);
	free(enc);
}

static json_t *
enroll_status(const struct vagent *va)
{
	return json_pack("{s:s, s:b, s:s}", "id", va->rec.id, "activated",
	    va->rec.activated, "state", agent_state_name(va->rec.state));
}

/*
 * An enrolled agent activated again: it takes the new AK, EK certificate
 * and (unless an admin set one) address. 1 if the AK changed.
 */
static int
reenroll(struct vagent *va, const struct enroll_pending *p)
{
	int akchanged = va->rec.ak_pub_len != p->rec.ak_pub_len ||
	    memcmp(va->rec.ak_pub, p->rec.ak_pub, p->rec.ak_pub_len) != 0;

	free(va->rec.ak_pub);
	va->rec.ak_pub = xmemdup(p->rec.ak_pub, p->rec.ak_pub_len);
	va->rec.ak_pub_len = p->rec.ak_pub_len;
	free(va->rec.ek_cert);
	va->rec.ek_cert = p->rec.ek_cert_len > 0 ?
	    xmemdup(p->rec.ek_cert, p->rec.ek_cert_len) : NULL;
	va->rec.ek_cert_len = p->rec.ek_cert_len;
	if (p->rec.address != NULL && !va->rec.admitted) {
		free(va->rec.address);
		va->rec.address = xstrdup(p->rec.address);
	}
	va->rec.activated = 1;
	if (akchanged) {
		/* A new AK has its own clock obfuscation and history. */
		memset(&va->rec.clock, 0, sizeof(va->rec.clock));
		va->gen++;
		(void)agent_load_ak(va);
	}
	return akchanged;
}

void
api_activate(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct enroll_pending *p;
	struct vagent *va;
	const char *id = r->param[0];
	uint8_t want[ACTIVATION_PROOF_LEN], got[ENROLL_PROOF_LEN];
	json_t *body;
	char *key = NULL;
	int isnew, akchanged;

	if ((body = http_body_json(r)) == NULL)
		return;
	pending_expire(v);
	key = pending_key(id, r->peer.cn);
	if ((p = strmap_get(v->pending, key)) == NULL) {
		/* Same answer for "none" and "another identity's": no probing. */
		http_reply_error(r, 404, "no enrollment in progress for '%s' by "
		    "this certificate", id);
		goto out;
	}
	va = agent_find(v, id);
	if (va != NULL && va->rec.cert_cn != NULL &&
	    strcmp(va->rec.cert_cn, r->peer.cn) != 0) {
		/* Another certificate activated this id first: it is bound. */
		pending_free(strmap_del(v->pending, key));
		http_reply_error(r, 403, "agent id '%s' is bound to another "
		    "identity", id);
		goto out;
	}
	if (enroll_proof_parse(body, got) != 0) {
		http_reply_error(r, 400, "%s", assay_err_detail());
		goto out;
	}
	activation_proof(p->secret, sizeof(p->secret), id, want);
	/* One try per credential. */
	strmap_del(v->pending, key);
	if (CRYPTO_memcmp(want, got, sizeof(want)) != 0) {
		log_warnx("activate %s refused: wrong proof of credential activation", id);
		pending_free(p);
		http_reply_error(r, 403, "credential activation proof is wrong");
		goto out;
	}
	va = agent_find(v, id);
	isnew = va == NULL;
	akchanged = 0;
	if (isnew) {
		p->rec.state = AGENT_REGISTERED;
		p->rec.activated = 1;
		p->rec.registered_at = clock_unix();
		va = agent_add(v, &p->rec);
	} else
		akchanged = reenroll(va, p);
	pending_free(p);
	if (agent_save(va, isnew ? "registered" : "re-registered",
	    NULL, akchanged ? "new AK" : NULL) != 0) {
		http_reply_error(r, 500, "store: %s", assay_err_detail());
		if (isnew)
			sched_remove(va);
		goto out;
	}
	log_notice("agent %s: %s (EK bound, AK activated)", id,
	    isnew ? "registered" : "re-registered");
	if (akchanged && (va->rec.state == AGENT_TRUSTED ||
	    va->rec.state == AGENT_UNREACHABLE))
		sched_agent(va, 0);
	http_reply_json(r, 200, enroll_status(va));
 out:
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(got, sizeof(got));
	free(key);
	json_decref(body);
}

void
api_register_status(struct http_request *r)
{
	struct verifier *v = r->arg;
	struct vagent *va = agent_find(v, r->param[0]);

	if (va == NULL || va->rec.cert_cn == NULL ||
	    strcmp(va->rec.cert_cn, r->peer.cn) != 0) {
		/* Same answer for "unknown" and "not yours": no id probing. */
		http_reply_error(r, 404, "agent '%s' is not registered", r->param[0]);
		return;
	}
	http_reply_json(r, 200, enroll_status(va));
}

void
enroll_free_all(struct verifier *v)
{
	const char *id;
	void *val;
	size_t pos = 0;

	while (strmap_next(v->pending, &pos, &id, &val))
		pending_free(val);
	strmap_free(v->pending);
	v->pending = NULL;
}
