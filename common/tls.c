/*
 * tls.c — OpenSSL 3 contexts for Assay's mutual TLS: TLS 1.2 minimum, one
 * CA file as the only trust anchor, the peer certificate required on the
 * server side. Also the peer identity (CN, role from the subject OU,
 * SHA-256 fingerprint) read from a verified certificate, once per
 * certificate object (kept on it with its validity period).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/tls.h"
#include "common/xmalloc.h"

static const struct {
	const char	*name;
	int		 role;
} tls_roles[] = {
	{ "admin",	ROLE_ADMIN },
	{ "agent",	ROLE_AGENT },
	{ "verifier",	ROLE_VERIFIER },
};

static int
tls_err(const char *what, const char *file)
{
	char msg[256];
	unsigned long e;

	/* Report the last (most specific) error on the queue. */
	if ((e = ERR_peek_last_error()) != 0)
		ERR_error_string_n(e, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "unknown error");
	ERR_clear_error();
	return assay_err_set(ASSAY_ERR_CRYPTO, "%s%s%s: %s", what,
	    file != NULL ? " " : "", file != NULL ? file : "", msg);
}

static SSL_CTX *
tls_ctx_common(const SSL_METHOD *method, const char *cert, const char *key,
    const char *ca)
{
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(method)) == NULL) {
		tls_err("SSL_CTX_new", NULL);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		tls_err("TLS minimum version", NULL);
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* bufferevent_openssl may retry a write with a moved buffer. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (ca == NULL) {
		assay_err_set(ASSAY_ERR_INVAL, "no CA file");
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		tls_err("loading CA", ca);
		goto fail;
	}
	if (cert != NULL || key != NULL) {
		if (cert == NULL || key == NULL) {
			assay_err_set(ASSAY_ERR_INVAL,
			    "certificate and key go together");
			goto fail;
		}
		if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
			tls_err("loading certificate", cert);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key,
		    SSL_FILETYPE_PEM) != 1) {
			tls_err("loading key", key);
			goto fail;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			tls_err("key does not match certificate", cert);
			goto fail;
		}
	}
	return ctx;
 fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, const char *ca)
{
	static const unsigned char sid_ctx[] = "assay";
	STACK_OF(X509_NAME) *names;
	SSL_CTX *ctx;

	if (cert == NULL || key == NULL) {
		assay_err_set(ASSAY_ERR_INVAL, "server needs certificate and key");
		return NULL;
	}
	if ((ctx = tls_ctx_common(TLS_server_method(), cert, key, ca)) == NULL)
		return NULL;
	if ((names = SSL_load_client_CA_file(ca)) == NULL) {
		tls_err("loading client CA names", ca);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names);	/* ctx owns names */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx,
	    sizeof(sid_ctx) - 1) != 1) {
		tls_err("session id context", NULL);
		goto fail;
	}
	return ctx;
 fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static pthread_once_t ctx_role_once = PTHREAD_ONCE_INIT;
static int ctx_role_idx = -1;

static void
ctx_role_init(void)
{
	ctx_role_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

SSL_CTX *
tls_client_ctx(const char *cert, const char *key, const char *ca)
{
	struct tls_peer self;
	SSL_CTX *ctx;
	X509 *x;
	int need = ROLE_NONE;

	if ((ctx = tls_ctx_common(TLS_client_method(), cert, key, ca)) == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	/* Admins and agents talk to verifiers only: require the role. */
	if ((x = SSL_CTX_get0_certificate(ctx)) != NULL &&
	    tls_x509_identity(x, &self) == ASSAY_OK &&
	    (self.role == ROLE_ADMIN || self.role == ROLE_AGENT))
		need = ROLE_VERIFIER;
	if (pthread_once(&ctx_role_once, ctx_role_init) != 0 ||
	    ctx_role_idx < 0 ||
	    SSL_CTX_set_ex_data(ctx, ctx_role_idx, (void *)(intptr_t)need) != 1) {
		tls_err("SSL_CTX_set_ex_data", NULL);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
tls_ctx_server_role(SSL_CTX *ctx)
{
	if (ctx == NULL || ctx_role_idx < 0)
		return ROLE_NONE;
	return (int)(intptr_t)SSL_CTX_get_ex_data(ctx, ctx_role_idx);
}

/*
 * Copy the single entry nid of name into out as UTF-8. 0: absent,
 * 1: found, -1: several entries, embedded NUL or too long.
 */
static int
name_entry(const X509_NAME *name, int nid, char *out, size_t outlen)
{
	const X509_NAME_ENTRY *ent;
	unsigned char *utf8 = NULL;
	int idx, n, r = -1;

	if ((idx = X509_NAME_get_index_by_NID(name, nid, -1)) < 0)
		return 0;
	if (X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
		return -1;
	if ((ent = X509_NAME_get_entry(name, idx)) == NULL)
		return -1;
	if ((n = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(ent))) < 0)
		return -1;
	if ((size_t)n >= outlen || memchr(utf8, '\0', (size_t)n) != NULL)
		goto out;
	memcpy(out, utf8, (size_t)n);
	out[n] = '\0';
	r = 1;
 out:
	OPENSSL_free(utf8);
	return r;
}

/*
 * A certificate's identity and validity period, read once and kept on the
 * X509 object (ex_data): a connection kept open answers every request with
 * the same certificate, and nothing of it changes.
 */
struct x509_memo {
	struct tls_peer	 peer;
	int		 has_peer;
	int		 has_times;	/* not_before/not_after read */
	time_t		 not_before, not_after;
};

static int memo_idx = -1;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t memo_mu = PTHREAD_MUTEX_INITIALIZER;

static int
memo_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d,
    int idx, long argl, void *argp)
{
	struct x509_memo **m = (struct x509_memo **)from_d;

	(void)to; (void)from; (void)idx; (void)argl; (void)argp;
	if (*m != NULL) {
		struct x509_memo *c = xmalloc(sizeof(*c));

		*c = **m;
		*m = c;		/* the copy's own */
	}
	return 1;
}

static void
memo_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
	free(ptr);
}

static void
memo_init(void)
{
	memo_idx = X509_get_ex_new_index(0, NULL, NULL, memo_dup, memo_free);
}

/* Under memo_mu: x's memo, made empty if it has none (NULL: cannot). */
static struct x509_memo *
memo_of(X509 *x)
{
	struct x509_memo *m;

	if (memo_idx < 0)
		return NULL;
	if ((m = X509_get_ex_data(x, memo_idx)) == NULL) {
		m = xcalloc(1, sizeof(*m));
		if (X509_set_ex_data(x, memo_idx, m) != 1) {
			free(m);
			m = NULL;
		}
	}
	return m;
}

/* 1: x is within its validity period now (read once into its memo). */
static int
x509_valid_now(X509 *x)
{
	struct x509_memo *m;
	struct tm nb, na;
	time_t now = time(NULL);
	int have = 0, ok = 0;

	pthread_once(&memo_once, memo_init);
	pthread_mutex_lock(&memo_mu);
	if ((m = memo_of(x)) != NULL && !m->has_times &&
	    ASN1_TIME_to_tm(X509_get0_notBefore(x), &nb) == 1 &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &na) == 1) {
		m->not_before = timegm(&nb);
		m->not_after = timegm(&na);
		m->has_times = 1;
	}
	if (m != NULL && m->has_times) {
		have = 1;
		ok = m->not_after > now && m->not_before <= now;
	}
	pthread_mutex_unlock(&memo_mu);
	if (have)
		return ok;
	return X509_cmp_current_time(X509_get0_notAfter(x)) > 0 &&
	    X509_cmp_current_time(X509_get0_notBefore(x)) < 0;
}

static int x509_identity_read(X509 *x, struct tls_peer *peer);

int
tls_x509_identity(X509 *x, struct tls_peer *peer)
{
	struct x509_memo *m;
	int r;

	pthread_once(&memo_once, memo_init);
	pthread_mutex_lock(&memo_mu);
	m = memo_idx >= 0 ? X509_get_ex_data(x, memo_idx) : NULL;
	if (m != NULL && m->has_peer) {
		*peer = m->peer;
		pthread_mutex_unlock(&memo_mu);
		return ASSAY_OK;
	}
	pthread_mutex_unlock(&memo_mu);
	if ((r = x509_identity_read(x, peer)) != ASSAY_OK)
		return r;
	pthread_mutex_lock(&memo_mu);
	if ((m = memo_of(x)) != NULL) {
		m->peer = *peer;
		m->has_peer = 1;
	}
	pthread_mutex_unlock(&memo_mu);
	return ASSAY_OK;
}

/* The identity read from x itself. */
static int
x509_identity_read(X509 *x, struct tls_peer *peer)
{
	const X509_NAME *subj;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char ou[64];
	size_t k;

	memset(peer, 0, sizeof(*peer));
	if ((subj = X509_get_subject_name(x)) == NULL)
		return assay_err_set(ASSAY_ERR_FORMAT, "certificate without subject");
	if (name_entry(subj, NID_commonName, peer->cn, sizeof(peer->cn)) != 1)
		return assay_err_set(ASSAY_ERR_FORMAT,
		    "certificate subject needs exactly one usable CN");
	peer->role = ROLE_NONE;
	if (name_entry(subj, NID_organizationalUnitName, ou, sizeof(ou)) == 1) {
		for (k = 0; k < sizeof(tls_roles) / sizeof(tls_roles[0]); k++) {
			if (strcmp(ou, tls_roles[k].name) == 0)
				peer->role = tls_roles[k].role;
		}
	}
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		memset(peer, 0, sizeof(*peer));
		return tls_err("certificate fingerprint", NULL);
	}
	for (i = 0; i < mdlen; i++)
		snprintf(peer->fingerprint + 2 * i, 3, "%02x", md[i]);
	return ASSAY_OK;
}

int
tls_peer_identity(SSL *ssl, struct tls_peer *peer)
{
	X509 *x;
	long vr;
	int r;

	memset(peer, 0, sizeof(*peer));
	if (ssl == NULL)
		return assay_err_set(ASSAY_ERR_PERM, "not a TLS connection");
	if ((x = SSL_get1_peer_certificate(ssl)) == NULL)
		return assay_err_set(ASSAY_ERR_PERM, "no peer certificate");
	if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
		X509_free(x);
		return assay_err_set(ASSAY_ERR_PERM,
		    "peer certificate not verified: %s",
		    X509_verify_cert_error_string(vr));
	}
	/*
	 * A resumed session carries the certificate and verify result of
	 * its full handshake: the certificate may have expired since.
	 */
	if (!x509_valid_now(x)) {
		X509_free(x);
		return assay_err_set(ASSAY_ERR_PERM,
		    "peer certificate not valid now (expired)");
	}
	r = tls_x509_identity(x, peer);
	X509_free(x);
	return r;
}

const char *
tls_role_name(int role)
{
	size_t k;

	for (k = 0; k < sizeof(tls_roles) / sizeof(tls_roles[0]); k++) {
		if (tls_roles[k].role == role)
			return tls_roles[k].name;
	}
	return "none";
}
