/*
 * policy_signers.c — who may sign the policies the API takes. The
 * configuration's policy_signers maps policy names ("*": every name) to
 * PEM files of trusted signers (a P-256 or Ed25519 public key, or a CA
 * certificate); a name some signer applies to takes only a DSSE envelope
 * (common/proto/policy_env.h) that one of them signed, for that very
 * name. policy_in_open turns an upload's body into the policy text with
 * its provenance; it runs on the admin worker thread with a reference to
 * the signer set the upload arrived under (a SIGHUP may install another
 * one meanwhile: sets are counted, never changed).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/appraise/policy.h"
#include "common/dsse.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/log.h"
#include "common/proto/policy_env.h"
#include "common/xmalloc.h"
#include "verifier/verifier.h"

#define SIGNERS_ANY	"*"

struct signer_set {
	atomic_uint	 refs;
	struct strmap	*m;		/* name or "*" -> struct dsse_trust */
};

static void
signers_free(struct strmap *m)
{
	const char *k;
	void *val;
	size_t pos = 0;

	if (m == NULL)
		return;
	while (strmap_next(m, &pos, &k, &val))
		dsse_trust_free(val);
	strmap_free(m);
}

struct signer_set *
signer_set_ref(struct signer_set *ss)
{
	if (ss != NULL)
		atomic_fetch_add(&ss->refs, 1);
	return ss;
}

void
signer_set_unref(struct signer_set *ss)
{
	if (ss == NULL || atomic_fetch_sub(&ss->refs, 1) != 1)
		return;
	signers_free(ss->m);
	free(ss);
}

/* Add the files l gives name (and, unless name is "*", those of "*"). */
static int
trust_fill(struct dsse_trust *t, const struct cfg_strlist *l, const char *name)
{
	size_t nlen = strlen(name);
	int r;

	for (size_t i = 0; i < l->n; i++) {
		const char *e = l->v[i], *tab = strchr(e, '\t');

		if (tab == NULL)
			continue;
		if (!(((size_t)(tab - e) == nlen && strncmp(e, name, nlen) == 0) ||
		    (strncmp(e, SIGNERS_ANY "\t", 2) == 0)))
			continue;
		if ((r = dsse_trust_add_pem_file(t, tab + 1)) != 0)
			return assay_err_set(r, "policy_signers %.*s: %s",
			    (int)(tab - e), e, assay_err_detail());
	}
	return ASSAY_OK;
}

int
policy_signers_load(struct verifier *v, const struct cfg_strlist *l)
{
	struct strmap *m = strmap_new();
	int r = ASSAY_OK;

	for (size_t i = 0; r == ASSAY_OK && i < l->n; i++) {
		const char *tab = strchr(l->v[i], '\t');
		char *name;
		struct dsse_trust *t;

		if (tab == NULL)
			continue;
		name = xstrndup(l->v[i], (size_t)(tab - l->v[i]));
		if (strcmp(name, SIGNERS_ANY) != 0 && !policy_name_valid(name))
			r = assay_err_set(ASSAY_ERR_CONFIG, "policy_signers: "
			    "'%s' is not a policy name (or \"*\")", name);
		else if (strmap_get(m, name) == NULL) {
			t = dsse_trust_new();
			if ((r = trust_fill(t, l, name)) == ASSAY_OK)
				strmap_put(m, name, t);
			else
				dsse_trust_free(t);
		}
		free(name);
	}
	if (r != ASSAY_OK) {
		signers_free(m);
		return r;
	}
	signer_set_unref(v->signers);
	v->signers = NULL;
	if (strmap_count(m) == 0) {
		strmap_free(m);
		return ASSAY_OK;
	}
	v->signers = xcalloc(1, sizeof(*v->signers));
	atomic_init(&v->signers->refs, 1);
	v->signers->m = m;
	return ASSAY_OK;
}

const struct dsse_trust *
policy_signers_for(const struct signer_set *ss, const char *name)
{
	const struct dsse_trust *t;

	if (ss == NULL)
		return NULL;
	if ((t = strmap_get(ss->m, name)) != NULL)
		return t;
	return strmap_get(ss->m, SIGNERS_ANY);
}

void
policy_in_free(struct policy_in *in)
{
	free(in->text);
	free(in->signer);
	free(in->envelope);
	memset(in, 0, sizeof(*in));
}

/* An envelope: opened (checked when signers apply), for name only. */
static int
open_envelope(const struct signer_set *ss, const char *name,
    const uint8_t *body, size_t len, struct policy_in *out)
{
	const struct dsse_trust *t = policy_signers_for(ss, name);
	struct policy_stmt st;
	int r;

	if ((r = policy_env_open(body, len, t, &st)) != 0) {
		if (r == ASSAY_ERR_PERM)
			return (assay_err_set(r, "policy '%s': %s", name,
			    assay_err_detail()), 403);
		return (assay_err_set(r, "signed policy: %s",
		    assay_err_detail()), 400);
	}
	if (strcmp(st.name, name) != 0) {
		assay_err_set(ASSAY_ERR_PERM, "the envelope signs policy '%s', "
		    "not '%s'", st.name, name);
		policy_stmt_free(&st);
		return 403;
	}
	out->text = st.text;
	st.text = NULL;
	out->signer = st.signer;
	st.signer = NULL;
	out->signed_at = t != NULL ? st.signed_at : 0;
	out->envelope = xstrndup((const char *)body, len);
	policy_stmt_free(&st);
	return 0;
}

int
policy_in_open(const struct signer_set *ss, const char *name,
    const uint8_t *body, size_t len, struct policy_in *out)
{
	int status;

	memset(out, 0, sizeof(*out));
	if (policy_env_sniff(body, len)) {
		if ((status = open_envelope(ss, name, body, len, out)) != 0)
			return status;
	} else if (policy_signers_for(ss, name) != NULL) {
		assay_err_set(ASSAY_ERR_PERM, "policy '%s' must be signed "
		    "(policy_signers): upload a DSSE envelope made with "
		    "assayctl policy sign", name);
		return 403;
	} else
		out->text = xstrndup((const char *)body, len);
	sha256_hex(out->text, strlen(out->text), out->sha256);
	return 0;
}

int
policy_in_recheck(const struct signer_set *ss, const char *name,
    const char *envelope)
{
	struct policy_in in;
	int status;

	if (policy_signers_for(ss, name) == NULL)
		return 0;
	if (envelope == NULL) {
		assay_err_set(ASSAY_ERR_PERM, "policy '%s' must be signed "
		    "(policy_signers) and this version was not", name);
		return 403;
	}
	status = policy_in_open(ss, name, (const uint8_t *)envelope,
	    strlen(envelope), &in);
	policy_in_free(&in);
	return status;
}
