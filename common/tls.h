/*
 * tls.h — OpenSSL contexts for mutual TLS (TLS 1.2+, peer certificate
 * required and verified against one CA bundle) and the peer identity taken
 * from a verified certificate: CN and role (from the subject OU:
 * "admin", "agent" or "verifier").
 */
#ifndef ASSAY_TLS_H
#define ASSAY_TLS_H

#include <openssl/ssl.h>

enum tls_role {
	ROLE_NONE = 0,
	ROLE_ADMIN = 1 << 0,
	ROLE_AGENT = 1 << 1,
	ROLE_VERIFIER = 1 << 2,
};

#define TLS_CN_MAX	128

struct tls_peer {
	char	cn[TLS_CN_MAX];
	int	role;			/* one ROLE_* bit, ROLE_NONE if no OU matched */
	char	fingerprint[65];	/* SHA-256 of the DER certificate, hex */
};

/* Server: requires and verifies a client certificate. NULL + detail on error. */
SSL_CTX	*tls_server_ctx(const char *cert, const char *key, const char *ca);
/* Client: presents cert/key (both NULL: none), verifies the server against ca. */
SSL_CTX	*tls_client_ctx(const char *cert, const char *key, const char *ca);
/*
 * The role a client context requires of servers: ROLE_VERIFIER when its
 * own certificate is an admin's or an agent's (they only ever talk to a
 * verifier), else ROLE_NONE (any role; e.g. the verifier polling agents,
 * webhook clients). Checked by http_client.c on every handshake.
 */
int	 tls_ctx_server_role(SSL_CTX *ctx);
/* Fill peer from the connection's verified peer certificate (and valid now). */
int	 tls_peer_identity(SSL *ssl, struct tls_peer *peer);
/* Fill peer from a certificate (no verification: the caller did it). */
int	 tls_x509_identity(X509 *x, struct tls_peer *peer);
const char *tls_role_name(int role);

#endif
