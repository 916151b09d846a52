/*
 * enroll.c — the agent's side of enrollment: register EK, EK certificate
 * (and chain) and AK with the verifier, activate the credential it returns
 * in the TPM, prove it with an HMAC over our id, and re-check
 * periodically so that an agent the verifier forgot enrolls again. A push
 * agent (push.c) registers with "mode":"push" and no address, and its
 * loop is (re)started whenever the enrollment is done or confirmed.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "agent/agent.h"
#include "common/activation.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/proto/enroll.h"
#include "common/http.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define RETRY_MIN	2
#define RETRY_MAX	60

static void enroll_fire(evutil_socket_t, short, void *);

char *
agent_default_id(const struct tpm_identity *id)
{
	return activation_ek_id(id->ek_pub, id->ek_pub_len);
}

void
enroll_start(struct agent *a, double delay)
{
	struct timeval tv;

	if (a->enroll_timer == NULL &&
	    (a->enroll_timer = evtimer_new(a->base, enroll_fire, a)) == NULL)
		fatalx("evtimer_new failed");
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	evtimer_add(a->enroll_timer, &tv);
}

static void
retry_later(struct agent *a, const char *why)
{
	double delay = RETRY_MIN;

	a->enroll = ENROLL_NONE;
	a->enroll_failures++;
	for (int i = 1; i < a->enroll_failures && delay < RETRY_MAX; i++)
		delay *= 2;
	if (delay > RETRY_MAX)
		delay = RETRY_MAX;
	if (a->push)	/* a fleet that lost its verifier must not return in step */
		delay = push_jitter(delay);
	log_warnx("enrollment: %s; retrying in %.1f s", why, delay);
	enroll_start(a, delay);
}

static int
post_json(struct agent *a, const char *path, json_t *body, http_client_cb cb)
{
	char *s = json_dumps(body, JSON_COMPACT);
	int r;

	r = http_client_request(a->client, "POST", a->vhost, a->vport, path,
	    "application/json", s, strlen(s), 30, a->conf.verifier_name, cb, a);
	free(s);
	json_decref(body);
	return r;
}

static const char *
err_text(int err, int status, const uint8_t *body, char *buf, size_t len)
{
	if (err != 0)
		snprintf(buf, len, "%s: %s", assay_strerror(err), assay_err_detail());
	else
		snprintf(buf, len, "verifier answered HTTP %d: %.200s", status,
		    body != NULL ? (const char *)body : "");
	return buf;
}

static void
activated(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct agent *a = arg;
	char why[300];

	if (err != 0 || status != 200) {
		retry_later(a, err_text(err, status, body, why, sizeof(why)));
		return;
	}
	a->enroll = ENROLL_DONE;
	a->enroll_failures = 0;
	log_notice("enrolled with the verifier as '%s'%s", a->id,
	    a->push ? " (push mode)" : "");
	enroll_start(a, (double)a->conf.recheck);
	push_enrolled(a);
}

static void
registered(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct agent *a = arg;
	struct enroll_credential c = { 0 };
	uint8_t *secret = NULL;
	uint8_t proof[ACTIVATION_PROOF_LEN];
	size_t secret_len = 0;
	json_t *j = NULL;
	char why[300], *path;

	if (err != 0 || status != 200) {
		retry_later(a, err_text(err, status, body, why, sizeof(why)));
		return;
	}
	if (http_json_load(body, len, &j, why, sizeof(why)) != 0 ||
	    enroll_credential_parse(j, &c) != 0) {
		retry_later(a, "malformed register response");
		goto out;
	}
	if (tpm_activate(&a->tpm, c.cred, c.cred_len, c.secret, c.secret_len,
	    &secret, &secret_len) != 0) {
		retry_later(a, assay_err_detail());
		goto out;
	}
	activation_proof(secret, secret_len, a->id, proof);
	path = xasprintf("/v1/register/%s/activate", a->id);
	a->enroll = ENROLL_ACTIVATING;
	if (post_json(a, path, enroll_proof_encode(proof), activated) != 0)
		retry_later(a, assay_err_detail());
	free(path);
 out:
	OPENSSL_cleanse(proof, sizeof(proof));
	freezero_secret(secret, secret_len);
	enroll_credential_free(&c);
	json_decref(j);
}

static void
do_register(struct agent *a)
{
	struct enroll_register q = {
		.address = a->push ? NULL : a->conf.advertise,
		.push = a->push,
		.ek_pub = a->ident.ek_pub, .ek_pub_len = a->ident.ek_pub_len,
		.ak_pub = a->ident.ak_pub, .ak_pub_len = a->ident.ak_pub_len,
		.ek_cert = a->ident.ek_cert, .ek_cert_len = a->ident.ek_cert_len,
	};
	json_t *req;

	snprintf(q.id, sizeof(q.id), "%s", a->id);
	for (size_t i = 0; i < a->ident.nchain && i < ENROLL_CHAIN_MAX; i++) {
		q.chain[i] = a->ident.chain[i];
		q.chain_len[i] = a->ident.chain_len[i];
		q.nchain = i + 1;
	}
	req = enroll_register_encode(&q);
	a->enroll = ENROLL_REGISTERING;
	log_info("registering with the verifier at %s:%u as '%s'", a->vhost,
	    a->vport, a->id);
	if (post_json(a, "/v1/register", req, registered) != 0)
		retry_later(a, assay_err_detail());
}

static void
checked(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct agent *a = arg;
	json_t *j;
	int ok = 0;

	if (err == 0 && status == 404) {
		log_warnx("the verifier does not know us: enrolling again");
		do_register(a);
		return;
	}
	if (err == 0 && status == 200 &&
	    (j = json_loadb((const char *)body, len, 0, NULL)) != NULL) {
		ok = json_is_true(json_object_get(j, "activated"));
		json_decref(j);
		if (!ok) {
			do_register(a);
			return;
		}
	}
	if (err != 0)
		log_info("enrollment check: verifier unreachable: %s", assay_err_detail());
	enroll_start(a, (double)a->conf.recheck);
	push_enrolled(a);	/* still enrolled: a paused loop goes on */
}

static void
enroll_fire(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	char *path;

	if (a->enroll != ENROLL_DONE) {
		do_register(a);
		return;
	}
	path = xasprintf("/v1/register/%s", a->id);
	if (http_client_request(a->client, "GET", a->vhost, a->vport, path, NULL,
	    NULL, 0, 30, a->conf.verifier_name, checked, a) != 0)
		enroll_start(a, (double)a->conf.recheck);
	free(path);
}
