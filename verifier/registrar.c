/*
 * registrar.c — enrollment trust: the EK CA bundle (an X509_STORE) and
 * the allowlist of EK public hashes, EK certificate chain and key checks.
 * Pure apart from reading the bundle and allowlist files at load time.
 * TPM2_MakeCredential: make_credential.c.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/proto/enroll.h"
#include "common/xmalloc.h"
#include "verifier/registrar.h"

#define CERT_FILE_MAX		(4u * 1024 * 1024)
#define ALLOWLIST_MAX		(64u * 1024 * 1024)
#define EK_CHAIN_MAX		ENROLL_CHAIN_MAX	/* common/proto/enroll.h */
#define SHA256_HEX_LEN		64

struct ek_trust {
	X509_STORE	*store;
	size_t		 ncerts;
	char		**allow;	/* sorted lowercase hex SHA-256 */
	size_t		 nallow;
};

/* ---- loading the CA bundle and the allowlist ---- */

/* Add every certificate in path (PEM, possibly several, or one DER). */
static int
load_cert_file(X509_STORE *store, const char *path, size_t *count)
{
	uint8_t *d = NULL;
	size_t len, n = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	const unsigned char *p;
	int r;

	if (file_read_all(path, CERT_FILE_MAX, &d, &len) != 0)
		return ASSAY_ERR_CONFIG;	/* detail set by file_read_all */
	if (memmem(d, len, "-----BEGIN", 10) != NULL) {
		if ((bio = BIO_new_mem_buf(d, (int)len)) == NULL) {
			r = ASSAY_ERR_CRYPTO;
			goto out;
		}
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (X509_STORE_add_cert(store, x) != 1) {
				r = assay_err_set(ASSAY_ERR_CONFIG,
				    "%s: cannot add certificate %zu", path, n + 1);
				goto out;
			}
			X509_free(x);
			x = NULL;
			n++;
		}
		ERR_clear_error();	/* the loop ends on "no start line" */
	} else {
		p = d;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
		    p != d + len) {
			r = assay_err_set(ASSAY_ERR_CONFIG,
			    "%s: not a PEM or DER certificate", path);
			goto out;
		}
		if (X509_STORE_add_cert(store, x) != 1) {
			r = assay_err_set(ASSAY_ERR_CONFIG,
			    "%s: cannot add certificate", path);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: no certificate", path);
		goto out;
	}
	*count += n;
	r = ASSAY_OK;
 out:
	X509_free(x);
	BIO_free(bio);
	free(d);
	ERR_clear_error();
	return r;
}

static int
cert_file_name(const char *name)
{
	static const char *const exts[] = { ".pem", ".crt", ".der", ".cer" };
	size_t n = strlen(name), e;

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		e = strlen(exts[i]);
		if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
			return 1;
	}
	return 0;
}

static int
load_bundle(X509_STORE *store, const char *dir, size_t *count)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char *path;
	int r = ASSAY_OK;

	if (stat(dir, &st) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return load_cert_file(store, dir, count);
	if ((d = opendir(dir)) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: %s", dir, strerror(errno));
	while (r == ASSAY_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !cert_file_name(de->d_name))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			r = load_cert_file(store, path, count);
		free(path);
	}
	closedir(d);
	if (r == ASSAY_OK && *count == 0)
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: no certificates", dir);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
load_allowlist(struct ek_trust *t, const char *path)
{
	uint8_t *d = NULL;
	char *line, *next, *s, *e;
	size_t len, lineno = 0, cap = 0;
	int r;

	if (file_read_all(path, ALLOWLIST_MAX, &d, &len) != 0)
		return ASSAY_ERR_CONFIG;	/* detail set by file_read_all */
	if (memchr(d, '\0', len) != NULL) {
		r = assay_err_set(ASSAY_ERR_CONFIG, "%s: NUL byte", path);
		goto out;
	}
	for (line = (char *)d; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((e = strchr(line, '#')) != NULL)
			*e = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		if (*s == '\0')
			continue;
		if (e - s != SHA256_HEX_LEN) {
			r = assay_err_set(ASSAY_ERR_CONFIG,
			    "%s:%zu: not a hex SHA-256 digest", path, lineno);
			goto out;
		}
		for (e = s; *e != '\0'; e++) {
			if (!isxdigit((unsigned char)*e)) {
				r = assay_err_set(ASSAY_ERR_CONFIG,
				    "%s:%zu: not a hex SHA-256 digest", path, lineno);
				goto out;
			}
			*e = (char)tolower((unsigned char)*e);
		}
		if (t->nallow == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			t->allow = xreallocarray(t->allow, cap, sizeof(*t->allow));
		}
		t->allow[t->nallow++] = xstrdup(s);
	}
	if (t->nallow > 1)
		qsort(t->allow, t->nallow, sizeof(*t->allow), cmp_str);
	r = ASSAY_OK;
 out:
	free(d);
	return r;
}

int
ek_trust_load(const char *dir, const char *allowlist, struct ek_trust **out)
{
	struct ek_trust *t;
	int r;

	*out = NULL;
	if (dir == NULL && allowlist == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG,
		    "neither an EK CA bundle nor an EK allowlist given");
	t = xcalloc(1, sizeof(*t));
	if ((t->store = X509_STORE_new()) == NULL) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "X509_STORE_new failed");
		goto out;
	}
	if (dir != NULL && (r = load_bundle(t->store, dir, &t->ncerts)) != 0)
		goto out;
	if (allowlist != NULL && (r = load_allowlist(t, allowlist)) != 0)
		goto out;
	*out = t;	/* caller owns it now */
	t = NULL;
	r = ASSAY_OK;
 out:
	ek_trust_free(t);
	return r;
}

void
ek_trust_free(struct ek_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	for (size_t i = 0; i < t->nallow; i++)
		free(t->allow[i]);
	free(t->allow);
	free(t);
}

/* ---- EK checks ---- */

char *
ek_pub_hash_hex(const uint8_t *tpm2b_public, size_t len)
{
	uint8_t md[TPM2_MAX_DIGEST];
	struct cur c, body;
	size_t mdlen;

	cur_init(&c, tpm2b_public, len);
	if (cur_tpm2b(&c, UINT16_MAX, &body) != 0 || cur_end(&c) != 0 ||
	    body.len == 0)
		return NULL;
	if (tpm2_hash(TPM2_ALG_SHA256, body.p, body.len, md, &mdlen) != 0)
		return NULL;
	return hex_encode(md, mdlen);
}

static int
ek_allowlisted(const struct ek_trust *t, const struct tpm2_public *ek)
{
	uint8_t md[TPM2_MAX_DIGEST];
	size_t mdlen;
	char *hex;
	int r;

	if (t->nallow == 0)
		return assay_err_set(ASSAY_ERR_PERM,
		    "no EK certificate and no EK allowlist configured");
	if (ek->tpmt_len == 0 ||
	    tpm2_hash(TPM2_ALG_SHA256, ek->tpmt, ek->tpmt_len, md, &mdlen) != 0)
		return assay_err_set(ASSAY_ERR_PERM, "EK public unavailable");
	hex = hex_encode(md, mdlen);
	if (bsearch(&hex, t->allow, t->nallow, sizeof(*t->allow), cmp_str) != NULL)
		r = ASSAY_OK;
	else
		r = assay_err_set(ASSAY_ERR_PERM,
		    "EK public (sha256 %s) is not in the EK allowlist", hex);
	free(hex);
	return r;
}

static X509 *
der_cert(const uint8_t *p, size_t len)
{
	const unsigned char *q = p;
	X509 *x;

	if (len == 0 || len > CERT_FILE_MAX)
		return NULL;
	if ((x = d2i_X509(NULL, &q, (long)len)) == NULL)
		return NULL;
	if (q != p + len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * The TCG EK Credential Profile marks EK certificates with the extended
 * key usage tcg-kp-EKCertificate (2.23.133.8.1). Many vendors omit the
 * extension; when it is present it must name that purpose, so that a
 * certificate issued for something else is not taken as an EK's.
 */
static int
check_eku(X509 *leaf)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *tcg;
	int crit = 0, found = 0;

	eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL)
		return crit == -1 ? ASSAY_OK : assay_err_set(ASSAY_ERR_PERM,
		    "EK certificate: malformed extended key usage");
	if ((tcg = OBJ_txt2obj("2.23.133.8.1", 1)) == NULL) {
		EXTENDED_KEY_USAGE_free(eku);
		return assay_err_set(ASSAY_ERR_CRYPTO, "OBJ_txt2obj failed");
	}
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), tcg) == 0)
			found = 1;
	ASN1_OBJECT_free(tcg);
	EXTENDED_KEY_USAGE_free(eku);
	if (!found)
		return assay_err_set(ASSAY_ERR_PERM, "EK certificate: extended key "
		    "usage does not include tcg-kp-EKCertificate (2.23.133.8.1)");
	return ASSAY_OK;
}

int
ek_verify(const struct ek_trust *t, const struct tpm2_public *ek,
    const uint8_t *cert, size_t cert_len,
    const uint8_t *const *chain, const size_t *chain_len, size_t nchain)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *leaf = NULL, *x;
	int r, err;

	if (cert == NULL || cert_len == 0)
		return ek_allowlisted(t, ek);
	if ((leaf = der_cert(cert, cert_len)) == NULL) {
		r = assay_err_set(ASSAY_ERR_PERM, "EK certificate is not valid DER");
		goto out;
	}
	if (X509_check_ca(leaf) != 0) {
		r = assay_err_set(ASSAY_ERR_PERM, "EK certificate is a CA certificate");
		goto out;
	}
	if (t->ncerts == 0) {
		r = assay_err_set(ASSAY_ERR_PERM, "no EK CA bundle configured");
		goto out;
	}
	if (nchain > EK_CHAIN_MAX) {
		r = assay_err_set(ASSAY_ERR_PERM,
		    "EK certificate chain longer than %d", EK_CHAIN_MAX);
		goto out;
	}
	if ((untrusted = sk_X509_new_null()) == NULL) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "sk_X509_new_null failed");
		goto out;
	}
	for (size_t i = 0; i < nchain; i++) {
		if ((x = der_cert(chain[i], chain_len[i])) == NULL) {
			r = assay_err_set(ASSAY_ERR_PERM,
			    "EK chain certificate %zu is not valid DER", i);
			goto out;
		}
		if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			r = assay_err_set(ASSAY_ERR_CRYPTO, "sk_X509_push failed");
			goto out;
		}
	}
	/*
	 * Default parameters: validity dates and CA constraints of issuers
	 * are checked, no purpose (EK certificates carry the TCG EKU
	 * 2.23.133.8.1, not a TLS one). No PARTIAL_CHAIN: the chain must end
	 * at a self-signed root of the bundle.
	 */
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, t->store, leaf, untrusted) != 1) {
		r = assay_err_set(ASSAY_ERR_CRYPTO, "X509_STORE_CTX_init failed");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		r = assay_err_set(ASSAY_ERR_PERM,
		    "EK certificate chain: %s (depth %d)",
		    X509_verify_cert_error_string(err),
		    X509_STORE_CTX_get_error_depth(ctx));
		goto out;
	}
	if ((r = check_eku(leaf)) != ASSAY_OK)
		goto out;
	if (tpm2_public_matches(ek, X509_get0_pubkey(leaf)) != ASSAY_OK) {
		r = assay_err_set(ASSAY_ERR_PERM,
		    "EK certificate key does not match EK public");
		goto out;
	}
	r = ASSAY_OK;
 out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	ERR_clear_error();
	return r;
}
