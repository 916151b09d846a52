/*
 * certs.h — `assayctl certs init DIR`: a private ECDSA P-256 CA and the
 * leaf certificates Assay's mutual TLS needs (verifier, admin, agents),
 * made with the OpenSSL API. The identity is in the subject: CN is the
 * name, OU the role ("admin", "agent", "verifier").
 */
#ifndef ASSAY_CERTS_H
#define ASSAY_CERTS_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERTS_DEFAULT_DAYS	825
#define CERTS_NAME_MAX		64

/* Leaf usages for certs_make_leaf(). */
#define CERTS_USE_CLIENT	(1 << 0)	/* clientAuth */
#define CERTS_USE_SERVER	(1 << 1)	/* serverAuth + SAN IP:127.0.0.1,::1 DNS:localhost */

struct cmd_args;

/* `assayctl certs init DIR ...` (a row of cmd.c's table). Exit status. */
int	cmd_certs_init(struct cmd_args *a);

/*
 * Create DIR (0700 if missing) with ca.pem/ca.key, verifier.pem/.key,
 * admin.pem/.key and agent-NAME.pem/.key for each agent name (nagents 0:
 * one agent "agent1"). verifier_cn NULL: "verifier"; days <= 0: 825.
 * An existing DIR/ca.key is ASSAY_ERR_EXISTS unless force.
 */
int	certs_init(const char *dir, const char *verifier_cn, char **agent_names,
	    size_t nagents, int days, int force);

/* A self-signed CA (CA:TRUE, keyCertSign|cRLSign). Caller frees both. */
int	certs_make_ca(const char *cn, int days, EVP_PKEY **key, X509 **cert);
/* A leaf for cn/ou signed by the CA; uses: CERTS_USE_* bits. */
int	certs_make_leaf(X509 *ca, EVP_PKEY *ca_key, const char *cn,
	    const char *ou, int uses, int days, EVP_PKEY **key, X509 **cert);
/* Write DIR/NAME.pem (0644) and DIR/NAME.key (0600, PKCS#8 PEM). */
int	certs_write_pair(const char *dir, const char *name, X509 *cert,
	    EVP_PKEY *key);
/* Name usable as a CN and in a file name: [A-Za-z0-9._-], 1..64, no leading '.'. */
int	certs_name_ok(const char *name);

#endif
