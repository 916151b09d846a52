/*
 * ident_ca.c — host identity certificates (ident_ca.h). The leaf is a
 * SPIFFE X.509-SVID: exactly one URI SAN, CA:FALSE, keyUsage
 * digitalSignature (critical), extendedKeyUsage clientAuth and
 * serverAuth, a random 127-bit serial, subject CN=<agent id>, SKI/AKI.
 * Its public key is the TPM-resident key the AK certified; the CA signs
 * with SHA-256 (nothing for Ed25519).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/evidence/tpm_public.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/ident_ca.h"

struct ident_ca {
	X509		*cert;		/* the issuing CA */
	EVP_PKEY	*key;
	char		*chain_pem;	/* every certificate of cert_path */
	char		*trust_domain;
	long		 intervals;
};

/* SPIFFE: trust domain [a-z0-9.-_], path segments [a-zA-Z0-9.-_], no "."/"..". */
static int
td_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IDENT_TRUST_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '-' || s[i] == '_'))
			return 0;
	return 1;
}

static int
segment_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' ||
		    s[i] == '_'))
			return 0;
	return 1;
}

/* What a memory BIO holds, as a NUL-terminated string (caller frees). */
static char *
mem_text(BIO *b)
{
	char *p, *s;
	long n = BIO_get_mem_data(b, &p);

	s = xmalloc((size_t)n + 1);
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	return s;
}

/* Every certificate of path, the first into *first, all as PEM text. */
static int
load_chain(const char *path, X509 **first, char **pem)
{
	BIO *in, *out;
	X509 *x;
	int count = 0;

	*first = NULL;
	*pem = NULL;
	if ((in = BIO_new_file(path, "r")) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "identity.ca_cert %s: "
		    "cannot open", path);
	if ((out = BIO_new(BIO_s_mem())) == NULL)
		fatalx("BIO_new failed");
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL) {
		if (++count > IDENT_CHAIN_MAX || PEM_write_bio_X509(out, x) != 1) {
			X509_free(x);
			break;
		}
		if (*first == NULL)
			*first = x;
		else
			X509_free(x);
	}
	ERR_clear_error();
	if (count > 0 && count <= IDENT_CHAIN_MAX)
		*pem = mem_text(out);
	BIO_free(in);
	BIO_free(out);
	if (*pem == NULL) {
		X509_free(*first);
		*first = NULL;
		return assay_err_set(ASSAY_ERR_CONFIG, "identity.ca_cert %s: "
		    "1..%d PEM certificates expected", path, IDENT_CHAIN_MAX);
	}
	return ASSAY_OK;
}

static EVP_PKEY *
load_key(const char *path)
{
	BIO *in = BIO_new_file(path, "r");
	EVP_PKEY *k = NULL;

	if (in != NULL)
		k = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
	BIO_free(in);
	ERR_clear_error();
	return k;
}

int
ident_ca_load(const char *cert_path, const char *key_path,
    const char *trust_domain, long intervals, struct ident_ca **out)
{
	struct ident_ca *ca = xcalloc(1, sizeof(*ca));
	int r;

	*out = NULL;
	if (trust_domain == NULL || !td_valid(trust_domain)) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "identity.trust_domain: 1..%d "
		    "of [a-z0-9.-_] required", IDENT_TRUST_DOMAIN_MAX);
		goto out;
	}
	if ((r = load_chain(cert_path, &ca->cert, &ca->chain_pem)) != 0)
		goto out;
	r = ASSAY_ERR_CONFIG;
	if (X509_check_ca(ca->cert) != 1) {
		assay_err_set(r, "identity.ca_cert %s: the first certificate is "
		    "not a CA (basicConstraints CA:TRUE, keyCertSign)", cert_path);
		goto out;
	}
	if ((ca->key = load_key(key_path)) == NULL) {
		assay_err_set(r, "identity.ca_key %s: no PEM private key", key_path);
		goto out;
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		assay_err_set(r, "identity.ca_key %s does not match %s", key_path,
		    cert_path);
		goto out;
	}
	ca->trust_domain = xstrdup(trust_domain);
	ca->intervals = intervals;
	*out = ca;
	ca = NULL;
	r = ASSAY_OK;
 out:
	ident_ca_free(ca);
	return r;
}

void
ident_ca_free(struct ident_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca->chain_pem);
	free(ca->trust_domain);
	free(ca);
}

char *
ident_spiffe_id(const struct ident_ca *ca, const char *id)
{
	return xasprintf("spiffe://%s/host/%s", ca->trust_domain, id);
}

/* One extension by its config text (v3 context: issuer and subject set). */
static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

	X509_EXTENSION_free(e);
	return ok;
}

/* The leaf's fields and extensions; 1 on success. */
static int
leaf_fill(const struct ident_ca *ca, X509 *x, EVP_PKEY *pub, const char *id,
    const char *uri, int64_t nb, int64_t na)
{
	X509V3_CTX ctx;
	unsigned char rnd[16];
	BIGNUM *bn = NULL;
	char *san = xasprintf("URI:%s", uri);
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		fatalx("RAND_bytes failed");
	rnd[0] &= 0x7f;		/* positive, at most 127 bits */
	rnd[0] |= 0x40;		/* and never short */
	ok = X509_set_version(x, X509_VERSION_3) == 1 &&
	    (bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) == 1 &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_UTF8, (const unsigned char *)id, -1, -1, 0) == 1 &&
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) != NULL &&
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) != NULL &&
	    X509_set_pubkey(x, pub) == 1;
	if (ok) {
		X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
		ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
		    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") &&
		    add_ext(x, &ctx, NID_ext_key_usage, "clientAuth,serverAuth") &&
		    add_ext(x, &ctx, NID_subject_alt_name, san) &&
		    add_ext(x, &ctx, NID_subject_key_identifier, "hash") &&
		    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	}
	BN_free(bn);
	free(san);
	return ok;
}

/* Sign and PEM-encode; NULL on failure. */
static char *
leaf_sign(const struct ident_ca *ca, X509 *x)
{
	const EVP_MD *md = EVP_PKEY_is_a(ca->key, "ED25519") ||
	    EVP_PKEY_is_a(ca->key, "ED448") ? NULL : EVP_sha256();
	BIO *b;
	char *s = NULL;

	if (X509_sign(x, ca->key, md) <= 0)
		return NULL;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		fatalx("BIO_new failed");
	if (PEM_write_bio_X509(b, x) == 1)
		s = mem_text(b);
	BIO_free(b);
	return s;
}

long
ident_ca_lifetime(const struct ident_ca *ca, long interval)
{
	return ca->intervals * (interval > 0 ? interval : 1);
}

int
ident_ca_check(const struct ident_ca *ca, const struct agent_rec *rec,
    long interval, int64_t now, int64_t *na)
{
	if (rec->state != AGENT_TRUSTED)
		return assay_err_set(ASSAY_ERR_STATE, "agent %s is %s: no "
		    "identity is issued", rec->id, agent_state_name(rec->state));
	if (rec->id_pub == NULL)
		return assay_err_set(ASSAY_ERR_STATE, "agent %s has no identity "
		    "key certified by its AK in an accepted round", rec->id);
	if (!segment_valid(rec->id))
		return assay_err_set(ASSAY_ERR_STATE, "agent id %s has characters "
		    "a SPIFFE ID does not allow", rec->id);
	*na = rec->last_attested + ident_ca_lifetime(ca, interval);
	if (*na <= now)
		return assay_err_set(ASSAY_ERR_STATE, "agent %s: last accepted "
		    "round is %lld s old", rec->id,
		    (long long)(now - rec->last_attested));
	return ASSAY_OK;
}

int
ident_ca_issue(const struct ident_ca *ca, const struct agent_rec *rec,
    long interval, int64_t now, struct ident_doc *out)
{
	struct tpm2_public pub;
	X509 *x = NULL;
	char *uri = NULL;
	int64_t na = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&pub, 0, sizeof(pub));
	if ((r = ident_ca_check(ca, rec, interval, now, &na)) != 0)
		return r;
	/* Parsed again and judged again: the row is not evidence. */
	if (tpm2_public_parse(rec->id_pub, rec->id_pub_len, &pub) != 0 ||
	    tpm2_public_check_identity(&pub) != 0) {
		r = assay_err_set(ASSAY_ERR_STATE, "agent %s: stored identity "
		    "key unusable: %s", rec->id, assay_err_detail());
		goto out;
	}
	uri = ident_spiffe_id(ca, rec->id);
	if ((x = X509_new()) == NULL)
		fatalx("X509_new failed");
	if (!leaf_fill(ca, x, pub.pkey, rec->id, uri, now - IDENT_BACKDATE, na) ||
	    (out->cert = leaf_sign(ca, x)) == NULL) {
		ERR_clear_error();
		r = assay_err_set(ASSAY_ERR_CRYPTO, "agent %s: identity "
		    "certificate not made", rec->id);
		goto out;
	}
	out->spiffe_id = uri;
	uri = NULL;
	out->chain = xstrdup(ca->chain_pem);
	out->not_before = now - IDENT_BACKDATE;
	out->not_after = na;
	r = ASSAY_OK;
 out:
	free(uri);
	X509_free(x);
	tpm2_public_free(&pub);
	return r;
}
