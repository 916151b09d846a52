/*
 * ident.c — the agent's host identity: the TPM-resident key (made on the
 * first start, kept as a TSS2 PRIVATE KEY file, tsskey.c), its
 * certification by the AK when a round asks identity=1, and unasked in the
 * first round after a start and after the verifier's certificate was for
 * another key (the verifier asks only while it has none on record;
 * tpm_ident.c), and
 * the certificate the verifier issues while the host is trusted, written
 * with its chain to identity.cert and identity.chain for local services.
 * Pull mode fetches GET /v1/agents/{id}/identity after each round served
 * (with the result, result.c); push mode gets it in the verdict.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent/agent.h"
#include "agent/tsskey.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/evidence/tpm_public.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/proto/identity.h"
#include "common/xmalloc.h"

/* A verifier issuing no identities (404): ask again this much later. */
#define IDENT_OFF_RETRY		86400
#define IDENT_BODY_MAX		(IDENT_PEM_MAX + IDENT_CHAIN_PEM_MAX + 8192)

int
ident_setup(struct agent *a)
{
	struct tpm_idkey *k = &a->idkey;
	int r;

	if (a->conf.ident_key == NULL)
		return ASSAY_OK;
	r = tsskey_read(a->conf.ident_key, k);
	/* The first round certifies the key even unasked: it may be new. */
	a->ident_volunteer = 1;
	if (r == ASSAY_OK) {
		if (k->parent != a->idparent)
			log_warnx("identity: %s lives under 0x%08x, not "
			    "identity.parent 0x%08x: using its own", a->conf.ident_key,
			    k->parent, a->idparent);
		return ASSAY_OK;
	}
	if (r != ASSAY_ERR_NOT_FOUND)
		return r;
	k->parent = a->idparent;
	k->empty_auth = 1;
	if ((r = tpm_ident_create(&a->tpm, k->parent, &k->pub, &k->pub_len,
	    &k->priv, &k->priv_len)) != 0 ||
	    (r = tsskey_write(a->conf.ident_key, k)) != 0) {
		tpm_idkey_free(k);
		return r;
	}
	log_notice("identity: new TPM key in %s (under 0x%08x)",
	    a->conf.ident_key, k->parent);
	return ASSAY_OK;
}

int
ident_certify(struct agent *a, const struct quote_req *q,
    struct evidence_doc *d)
{
	if (a->idkey.pub == NULL || (!q->identity && !a->ident_volunteer))
		return ASSAY_OK;
	if (tpm_ident_certify(&a->tpm, &a->idkey, q->nonce, q->nonce_len,
	    &d->id_attest, &d->id_attest_len, &d->id_sig, &d->id_sig_len) != 0) {
		/* The round goes on without it: the verifier issues nothing. */
		log_warnx("identity: %s", assay_err_detail());
		return ASSAY_OK;
	}
	d->id_pub = xmemdup(a->idkey.pub, a->idkey.pub_len);
	d->id_pub_len = a->idkey.pub_len;
	log_debug("identity: key certified by the AK (%s)", q->identity ?
	    "asked" : "unasked");
	a->ident_volunteer = 0;
	return ASSAY_OK;
}

/* Whether the leaf (PEM) certifies our key. */
static int
leaf_is_ours(struct agent *a, const char *pem)
{
	struct tpm2_public pub;
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	int ok = 0;

	if (x != NULL && tpm2_public_parse(a->idkey.pub, a->idkey.pub_len,
	    &pub) == 0) {
		ok = EVP_PKEY_eq(pub.pkey, X509_get0_pubkey(x)) == 1;
		tpm2_public_free(&pub);
	}
	ERR_clear_error();
	X509_free(x);
	BIO_free(b);
	return ok;
}

void
ident_store(struct agent *a, const struct ident_doc *d)
{
	if (a->idkey.pub == NULL || a->conf.ident_cert == NULL)
		return;
	if (!leaf_is_ours(a, d->cert)) {
		log_warnx("identity: the verifier's certificate is not for this "
		    "host's key: not written (the next round certifies it again)");
		a->ident_volunteer = 1;
		return;
	}
	/* The chain first: a reader that sees the new leaf finds its issuer. */
	if ((a->conf.ident_chain != NULL && file_write_atomic(
	    a->conf.ident_chain, (const uint8_t *)d->chain, strlen(d->chain),
	    0644) != 0) || file_write_atomic(a->conf.ident_cert,
	    (const uint8_t *)d->cert, strlen(d->cert), 0644) != 0) {
		log_warnx("identity: %s", assay_err_detail());
		return;
	}
	log_debug("identity: %s until %lld", d->spiffe_id,
	    (long long)d->not_after);
}

static void
fetched(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct agent *a = arg;
	struct ident_doc d;
	json_error_t je;
	json_t *j;

	if (err != ASSAY_OK) {
		log_debug("identity: %s", assay_err_detail());
		return;
	}
	if (status == 404) {
		if (a->ident_off == 0)
			log_info("identity: the verifier issues none: asked again "
			    "in a day");
		a->ident_off = clock_mono() + IDENT_OFF_RETRY;
		return;
	}
	if (status == 409) {	/* not trusted now, or not certified yet */
		log_info("identity: none issued: %.*s", (int)(len > 200 ? 200 : len),
		    body != NULL ? (const char *)body : "");
		return;
	}
	a->ident_off = 0;
	if (status != 200 || body == NULL ||
	    (j = json_loadb((const char *)body, len, 0, &je)) == NULL) {
		log_warnx("identity: the verifier answered HTTP %d", status);
		return;
	}
	if (ident_doc_parse(j, &d) != 0)
		log_warnx("identity: %s", assay_err_detail());
	else
		ident_store(a, &d);
	ident_doc_free(&d);
	json_decref(j);
}

int
ident_wanted(struct agent *a)
{
	return a->idkey.pub != NULL && a->conf.ident_cert != NULL &&
	    (a->ident_off == 0 || clock_mono() >= a->ident_off);
}

void
ident_fetch(struct agent *a)
{
	char *path = xasprintf(IDENT_PATH, a->id);

	if (http_client_request_max(a->client, "GET", a->vhost, a->vport, path,
	    NULL, NULL, 0, 10, a->conf.verifier_name, IDENT_BODY_MAX, fetched,
	    a) != 0)
		log_debug("identity: %s", assay_err_detail());
	free(path);
}
