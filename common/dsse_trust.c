/*
 * dsse_trust.c — the trusted signers of DSSE envelopes (see dsse.h):
 * public keys (P-256, Ed25519) and X.509 CAs loaded from PEM files, and
 * the envelope check against them. A CA signer accepts a signature whose
 * x5c leaf chains to that CA through the x5c intermediates
 * (X509_verify_cert, now, any purpose, the CA as the trust anchor even
 * when it is not self-signed), whose leaf has digitalSignature when it
 * has a keyUsage, and whose leaf key verifies the signature.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/dsse.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/xmalloc.h"

#define TRUST_FILE_MAX	(1024 * 1024)
#define CHAIN_DEPTH	8

struct signer {
	EVP_PKEY	*key;	/* a trusted key, or */
	X509		*ca;	/* a trusted CA */
	char		*desc;	/* "key sha256:HEX" or the CA's subject */
	char		*label;	/* "key sha256:HEX" or "CA SUBJECT" */
	char		*keyid;	/* the key's (NULL for a CA) */
};

struct dsse_trust {
	struct signer	*v;
	size_t		 n;
};

struct dsse_trust *
dsse_trust_new(void)
{
	return xcalloc(1, sizeof(struct dsse_trust));
}

static void
signer_clear(struct signer *s)
{
	EVP_PKEY_free(s->key);
	X509_free(s->ca);
	free(s->desc);
	free(s->label);
	free(s->keyid);
}

void
dsse_trust_free(struct dsse_trust *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		signer_clear(&t->v[i]);
	free(t->v);
	free(t);
}

size_t
dsse_trust_count(const struct dsse_trust *t)
{
	return t != NULL ? t->n : 0;
}

const char *
dsse_trust_describe(const struct dsse_trust *t, size_t i)
{
	if (t == NULL || i >= t->n)
		return NULL;
	return t->v[i].label;
}

/* RFC 2253 one-line form of name (escaped: printable ASCII only). */
static char *
name_line(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	if (b == NULL || X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(b);
		ERR_clear_error();
		return xstrdup("?");
	}
	n = BIO_get_mem_data(b, &p);
	s = xstrndup(p, n > 0 ? (size_t)n : 0);
	BIO_free(b);
	return s;
}

static struct signer *
signer_add(struct dsse_trust *t)
{
	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	return &t->v[t->n++];
}

int
dsse_trust_add_key(struct dsse_trust *t, EVP_PKEY *key)
{
	struct signer *s;
	char *keyid;
	int r;

	if ((r = dsse_key_check(key)) != 0 || (r = dsse_keyid(key, &keyid)) != 0)
		return r;
	s = signer_add(t);
	EVP_PKEY_up_ref(key);
	s->key = key;
	s->keyid = keyid;
	s->desc = xasprintf("key %s", keyid);
	s->label = xstrdup(s->desc);
	return ASSAY_OK;
}

int
dsse_trust_add_ca(struct dsse_trust *t, X509 *ca)
{
	struct signer *s = signer_add(t);

	X509_up_ref(ca);
	s->ca = ca;
	s->desc = name_line(X509_get_subject_name(ca));
	s->label = xasprintf("CA %s", s->desc);
	return ASSAY_OK;
}

/* One PEM object of path: a key or a CA. */
static int
pem_object_add(struct dsse_trust *t, const char *path, const char *name,
    const unsigned char *der, long len)
{
	const unsigned char *p = der;
	EVP_PKEY *key;
	X509 *x;
	int r;

	if (strcmp(name, "PUBLIC KEY") == 0) {
		if ((key = d2i_PUBKEY(NULL, &p, len)) == NULL || p != der + len) {
			EVP_PKEY_free(key);
			return assay_err_set(ASSAY_ERR_CONFIG, "%s: a PUBLIC KEY "
			    "that does not parse", path);
		}
		r = dsse_trust_add_key(t, key);
		EVP_PKEY_free(key);
		if (r != 0)
			return assay_err_set(r, "%s: %s", path,
			    assay_err_detail());
		return ASSAY_OK;
	}
	if (strcmp(name, "CERTIFICATE") == 0) {
		if ((x = d2i_X509(NULL, &p, len)) == NULL || p != der + len) {
			X509_free(x);
			return assay_err_set(ASSAY_ERR_CONFIG, "%s: a CERTIFICATE "
			    "that does not parse", path);
		}
		r = dsse_trust_add_ca(t, x);
		X509_free(x);
		return r;
	}
	return assay_err_set(ASSAY_ERR_CONFIG, "%s: PEM \"%s\": a signer is a "
	    "PUBLIC KEY or a CERTIFICATE", path, name);
}

int
dsse_trust_add_pem_file(struct dsse_trust *t, const char *path)
{
	uint8_t *text = NULL;
	unsigned char *der = NULL;
	char *name = NULL, *header = NULL;
	size_t len, n0 = t->n;
	long dlen;
	BIO *b = NULL;
	int r, count = 0;

	if ((r = file_read_all(path, TRUST_FILE_MAX, &text, &len)) != 0)
		return r;
	if ((b = BIO_new_mem_buf(text, (int)len)) == NULL) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "BIO_new_mem_buf");
		goto out;
	}
	while (PEM_read_bio(b, &name, &header, &der, &dlen) == 1) {
		r = pem_object_add(t, path, name, der, dlen);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		name = header = NULL;
		der = NULL;
		if (r != 0)
			goto out;
		count++;
	}
	if (count == 0)
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: no PEM PUBLIC KEY or "
		    "CERTIFICATE", path);
 out:
	ERR_clear_error();
	BIO_free(b);
	free(text);
	while (r != 0 && t->n > n0)	/* all of the file or nothing */
		signer_clear(&t->v[--t->n]);
	return r;
}

/*
 * Does the x5c leaf chain to ca now? NULL if so, else why not (static
 * or OpenSSL's string).
 */
static const char *
chain_check(STACK_OF(X509) *x5c, X509 *ca)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = sk_X509_value(x5c, 0);
	const char *why = NULL;

	if (st == NULL || ctx == NULL || X509_STORE_add_cert(st, ca) != 1 ||
	    X509_STORE_CTX_init(ctx, st, leaf, x5c) != 1) {
		why = "cannot set up the chain check";
		goto out;
	}
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN |
	    X509_V_FLAG_X509_STRICT);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	X509_STORE_CTX_set_depth(ctx, CHAIN_DEPTH);
	if (X509_verify_cert(ctx) != 1) {
		why = X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx));
		goto out;
	}
	if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
	    !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		why = "the leaf has no digitalSignature key usage";
 out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return why;
}

/* Does signer s accept signature g over pae? Sets *why for x5c failures. */
static int
signer_accepts(const struct signer *s, const struct dsse_sig *g,
    const uint8_t *pae, size_t pae_len, const char **why)
{
	EVP_PKEY *leafkey;

	if (s->key != NULL)
		return dsse_sig_verify(pae, pae_len, g->sig, g->sig_len,
		    s->key) == 0;
	if (g->x5c == NULL)
		return 0;
	if ((*why = chain_check(g->x5c, s->ca)) != NULL)
		return 0;
	leafkey = X509_get0_pubkey(sk_X509_value(g->x5c, 0));
	if (leafkey == NULL || dsse_key_check(leafkey) != 0) {
		*why = "the leaf key is not P-256 or Ed25519";
		return 0;
	}
	if (dsse_sig_verify(pae, pae_len, g->sig, g->sig_len, leafkey) != 0) {
		*why = "the leaf key does not verify the signature";
		return 0;
	}
	return 1;
}

/* What verified: the signer's description and keyid. */
static int
accepted(const struct signer *s, const struct dsse_sig *g, char **signer,
    char **keyid)
{
	X509 *leaf;
	char *subj, *kid = NULL;
	int r;

	if (s->key != NULL) {
		if (signer != NULL)
			*signer = xstrdup(s->desc);
		if (keyid != NULL)
			*keyid = xstrdup(s->keyid);
		return ASSAY_OK;
	}
	leaf = sk_X509_value(g->x5c, 0);
	if ((r = dsse_keyid(X509_get0_pubkey(leaf), &kid)) != 0)
		return r;
	if (signer != NULL) {
		subj = name_line(X509_get_subject_name(leaf));
		*signer = xasprintf("x509 %s (CA %s)", subj, s->desc);
		free(subj);
	}
	if (keyid != NULL)
		*keyid = kid;
	else
		free(kid);
	return ASSAY_OK;
}

/* The refusal: every signature's keyid and, for x5c, why it failed. */
static int
refused(const struct dsse_env *e, const struct dsse_trust *t,
    const char *const why[DSSE_SIGS_MAX])
{
	char *seen = xstrdup(""), *next;
	size_t i;
	int r;

	for (i = 0; i < e->nsigs; i++) {
		next = xasprintf("%s%s%s%s%s%s", seen, i > 0 ? ", " : "",
		    e->sigs[i].keyid != NULL ? e->sigs[i].keyid : "(no keyid)",
		    why[i] != NULL ? " (x5c: " : "",
		    why[i] != NULL ? why[i] : "", why[i] != NULL ? ")" : "");
		free(seen);
		seen = next;
	}
	r = assay_err_set(ASSAY_ERR_PERM, "no signature verifies under the %zu "
	    "trusted signer%s; keyids seen: %s", t->n, t->n == 1 ? "" : "s",
	    seen);
	free(seen);
	return r;
}

int
dsse_env_verify(const struct dsse_env *e, const struct dsse_trust *t,
    char **signer, char **keyid)
{
	const char *why[DSSE_SIGS_MAX] = { NULL };
	uint8_t *pae = NULL;
	size_t pae_len, i, j;
	int r;

	if (signer != NULL)
		*signer = NULL;
	if (keyid != NULL)
		*keyid = NULL;
	if (t == NULL || t->n == 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "no trusted signers");
	if ((r = dsse_pae(e->type, e->payload, e->payload_len, &pae,
	    &pae_len)) != 0)
		return r;
	for (i = 0; i < e->nsigs; i++)
		for (j = 0; j < t->n; j++) {
			if (!signer_accepts(&t->v[j], &e->sigs[i], pae,
			    pae_len, &why[i]))
				continue;
			r = accepted(&t->v[j], &e->sigs[i], signer, keyid);
			goto out;
		}
	r = refused(e, t, why);
 out:
	free(pae);
	return r;
}
