/*
 * certs.c — `assayctl certs init`: generate a private CA and the verifier,
 * admin and agent certificates for mutual TLS (ECDSA P-256, SHA-256,
 * random 128-bit serials) with the OpenSSL API. Owns nothing else: the TLS
 * contexts that use these files live in common/tls.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "tools/certs.h"
#include "tools/cmd.h"

#define CERTS_MAX_AGENTS	10000

static int
ossl_err(const char *what)
{
	char msg[256];
	unsigned long e = ERR_get_error();

	if (e != 0)
		ERR_error_string_n(e, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "unknown error");
	ERR_clear_error();
	return assay_err_set(ASSAY_ERR_CRYPTO, "%s: %s", what, msg);
}

int
certs_name_ok(const char *name)
{
	size_t i, n;

	if (name == NULL || (n = strlen(name)) == 0 || n > CERTS_NAME_MAX ||
	    name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int
set_serial(X509 *x)
{
	uint8_t rnd[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int r = ASSAY_ERR_CRYPTO;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return ossl_err("RAND_bytes");
	rnd[0] = (rnd[0] & 0x7f) | 0x40;	/* positive, full 127 bits */
	if ((bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_set_serialNumber(x, ai) != 1) {
		r = ossl_err("serial number");
		goto out;
	}
	r = ASSAY_OK;
 out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

static int
add_ext(X509 *issuer, X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return ossl_err(OBJ_nid2sn(nid));
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (ok != 1)
		return ossl_err("X509_add_ext");
	return ASSAY_OK;
}

static int
set_name(X509_NAME *n, const char *cn, const char *ou)
{
	if (ou != NULL && X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
	    (const unsigned char *)ou, -1, -1, 0) != 1)
		return ossl_err("subject OU");
	if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1)
		return ossl_err("subject CN");
	return ASSAY_OK;
}

/* Common part of CA and leaf: new key, version, serial, validity, subject. */
static int
cert_start(const char *cn, const char *ou, int days, EVP_PKEY **keyp,
    X509 **xp)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int r;

	*keyp = NULL;
	*xp = NULL;
	if (days <= 0)
		days = CERTS_DEFAULT_DAYS;
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		r = ossl_err("EC key generation");
		goto out;
	}
	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1) {
		r = ossl_err("X509_new");
		goto out;
	}
	if ((r = set_serial(x)) != ASSAY_OK)
		goto out;
	/* Backdate a little so that small clock skew does not matter. */
	if (X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL) {
		r = ossl_err("validity");
		goto out;
	}
	if ((r = set_name(X509_get_subject_name(x), cn, ou)) != ASSAY_OK)
		goto out;
	if (X509_set_pubkey(x, key) != 1) {
		r = ossl_err("X509_set_pubkey");
		goto out;
	}
	*keyp = key;
	key = NULL;
	*xp = x;
	x = NULL;
	r = ASSAY_OK;
 out:
	EVP_PKEY_free(key);
	X509_free(x);
	return r;
}

/*
 * Sign x with signer and hand x and its key to the caller; on failure
 * both are freed. Takes x and key either way.
 */
static int
cert_finish(X509 *x, EVP_PKEY *key, EVP_PKEY *signer, EVP_PKEY **keyp,
    X509 **xp)
{
	if (X509_sign(x, signer, EVP_sha256()) == 0) {
		EVP_PKEY_free(key);
		X509_free(x);
		return ossl_err("X509_sign");
	}
	*keyp = key;
	*xp = x;
	return ASSAY_OK;
}

int
certs_make_ca(const char *cn, int days, EVP_PKEY **keyp, X509 **xp)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int r;

	*keyp = NULL;
	*xp = NULL;
	if ((r = cert_start(cn, NULL, days, &key, &x)) != ASSAY_OK)
		goto out;
	if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) {
		r = ossl_err("issuer");
		goto out;
	}
	if ((r = add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE")) ||
	    (r = add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign")) ||
	    (r = add_ext(x, x, NID_subject_key_identifier, "hash")) ||
	    (r = add_ext(x, x, NID_authority_key_identifier, "keyid:always")))
		goto out;
	return cert_finish(x, key, key, keyp, xp);
 out:
	EVP_PKEY_free(key);
	X509_free(x);
	return r;
}

int
certs_make_leaf(X509 *ca, EVP_PKEY *ca_key, const char *cn, const char *ou,
    int uses, int days, EVP_PKEY **keyp, X509 **xp)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	const char *eku;
	int r;

	*keyp = NULL;
	*xp = NULL;
	if ((uses & (CERTS_USE_CLIENT | CERTS_USE_SERVER)) == 0)
		return assay_err_set(ASSAY_ERR_INVAL, "leaf %s: no usage", cn);
	if ((r = cert_start(cn, ou, days, &key, &x)) != ASSAY_OK)
		goto out;
	if (X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1) {
		r = ossl_err("issuer");
		goto out;
	}
	if ((uses & CERTS_USE_CLIENT) && (uses & CERTS_USE_SERVER))
		eku = "serverAuth,clientAuth";
	else if (uses & CERTS_USE_SERVER)
		eku = "serverAuth";
	else
		eku = "clientAuth";
	if ((r = add_ext(ca, x, NID_basic_constraints, "critical,CA:FALSE")) ||
	    (r = add_ext(ca, x, NID_key_usage, "critical,digitalSignature")) ||
	    (r = add_ext(ca, x, NID_ext_key_usage, eku)) ||
	    (r = add_ext(ca, x, NID_subject_key_identifier, "hash")) ||
	    (r = add_ext(ca, x, NID_authority_key_identifier, "keyid:always")))
		goto out;
	if ((uses & CERTS_USE_SERVER) && (r = add_ext(ca, x,
	    NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost")))
		goto out;
	return cert_finish(x, key, ca_key, keyp, xp);
 out:
	EVP_PKEY_free(key);
	X509_free(x);
	return r;
}

/* Create path with mode (O_EXCL-free: we replace), write PEM with fn. */
static int
write_pem(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key)
{
	FILE *f = NULL;
	int fd, r = ASSAY_ERR_IO, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1)
		return assay_err_set(ASSAY_ERR_IO, "%s: %s", path,
		    strerror(errno));
	if (fchmod(fd, mode) == -1) {
		r = assay_err_set(ASSAY_ERR_IO, "chmod %s: %s", path,
		    strerror(errno));
		close(fd);
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", path,
		    strerror(errno));
		close(fd);
		goto out;
	}
	if (cert != NULL)
		ok = PEM_write_X509(f, cert);
	else
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (ok != 1) {
		r = ossl_err(path);
		goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	r = ASSAY_OK;
 out:
	if (f != NULL && fclose(f) != 0 && r == ASSAY_OK)
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", path,
		    strerror(errno));
	return r;
}

int
certs_write_pair(const char *dir, const char *name, X509 *cert,
    EVP_PKEY *key)
{
	char *path;
	int r;

	path = xasprintf("%s/%s.key", dir, name);
	r = write_pem(path, 0600, NULL, key);
	free(path);
	if (r != ASSAY_OK)
		return r;
	path = xasprintf("%s/%s.pem", dir, name);
	r = write_pem(path, 0644, cert, NULL);
	free(path);
	return r;
}

static int
make_and_write(const char *dir, X509 *ca, EVP_PKEY *ca_key, const char *file,
    const char *cn, const char *ou, int uses, int days)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int r;

	if ((r = certs_make_leaf(ca, ca_key, cn, ou, uses, days, &key,
	    &x)) == ASSAY_OK)
		r = certs_write_pair(dir, file, x, key);
	EVP_PKEY_free(key);
	X509_free(x);
	return r;
}

int
certs_init(const char *dir, const char *verifier_cn, char **agent_names,
    size_t nagents, int days, int force)
{
	static char *default_agents[] = { "agent1" };
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL;
	struct stat st;
	char *path = NULL, *file = NULL;
	size_t i;
	int r;

	if (verifier_cn == NULL)
		verifier_cn = "verifier";
	if (nagents == 0) {
		agent_names = default_agents;
		nagents = 1;
	}
	if (days <= 0)
		days = CERTS_DEFAULT_DAYS;
	if (!certs_name_ok(verifier_cn))
		return assay_err_set(ASSAY_ERR_INVAL, "bad verifier CN \"%s\"",
		    verifier_cn);
	if (nagents > CERTS_MAX_AGENTS)
		return assay_err_set(ASSAY_ERR_RANGE, "too many agents");
	for (i = 0; i < nagents; i++) {
		if (!certs_name_ok(agent_names[i]))
			return assay_err_set(ASSAY_ERR_INVAL,
			    "bad agent name \"%s\"", agent_names[i]);
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return assay_err_set(ASSAY_ERR_IO, "mkdir %s: %s", dir,
		    strerror(errno));
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return assay_err_set(ASSAY_ERR_IO, "%s: not a directory", dir);
	path = xasprintf("%s/ca.key", dir);
	if (!force && lstat(path, &st) == 0) {
		r = assay_err_set(ASSAY_ERR_EXISTS,
		    "%s exists (use --force to replace the CA)", path);
		goto out;
	}

	if ((r = certs_make_ca("Assay CA", days, &ca_key, &ca)) != ASSAY_OK ||
	    (r = certs_write_pair(dir, "ca", ca, ca_key)) != ASSAY_OK)
		goto out;
	if ((r = make_and_write(dir, ca, ca_key, "verifier", verifier_cn,
	    "verifier", CERTS_USE_CLIENT | CERTS_USE_SERVER, days)) != ASSAY_OK)
		goto out;
	if ((r = make_and_write(dir, ca, ca_key, "admin", "admin", "admin",
	    CERTS_USE_CLIENT, days)) != ASSAY_OK)
		goto out;
	for (i = 0; i < nagents; i++) {
		free(file);
		file = xasprintf("agent-%s", agent_names[i]);
		if ((r = make_and_write(dir, ca, ca_key, file, agent_names[i],
		    "agent", CERTS_USE_CLIENT | CERTS_USE_SERVER, days)) !=
		    ASSAY_OK)
			goto out;
	}
	r = ASSAY_OK;
 out:
	free(file);
	free(path);
	EVP_PKEY_free(ca_key);
	X509_free(ca);
	return r;
}

static int
parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* The agent names: --agent NAME ..., or agent1..agentN for --agents N. */
static int
agent_names(const struct cmd_args *a, char ***names, size_t *nnames)
{
	const char *v = cmd_str(a, OPT_AGENTS);
	size_t i, n = a->opt[OPT_AGENT].n;
	int nagents = 0;

	*names = NULL;
	*nnames = 0;
	if (v != NULL && parse_int(v, 1, CERTS_MAX_AGENTS, &nagents) == -1) {
		fprintf(stderr, "bad --agents %s\n", v);
		return -1;
	}
	if (nagents != 0 && n != 0) {
		fprintf(stderr, "--agents and --agent are exclusive\n");
		return -1;
	}
	if (nagents != 0)
		n = (size_t)nagents;
	if (n == 0)
		return 0;
	*names = xcalloc(n, sizeof(**names));
	for (i = 0; i < n; i++)
		(*names)[i] = nagents != 0 ? xasprintf("agent%zu", i + 1) :
		    xstrdup(a->opt[OPT_AGENT].v[i]);
	*nnames = n;
	return 0;
}

int
cmd_certs_init(struct cmd_args *a)
{
	const char *dir = a->pos[0], *v;
	char **names = NULL;
	size_t nnames = 0, i;
	int days = CERTS_DEFAULT_DAYS, r, ret = 2;

	if ((v = cmd_str(a, OPT_DAYS)) != NULL &&
	    parse_int(v, 1, 36500, &days) == -1) {
		fprintf(stderr, "bad --days %s\n", v);
		goto out;
	}
	if (agent_names(a, &names, &nnames) != 0)
		goto out;
	if ((r = certs_init(dir, cmd_str(a, OPT_VERIFIER_CN), names, nnames,
	    days, cmd_flag(a, OPT_FORCE))) != ASSAY_OK) {
		fprintf(stderr, "certs init: %s: %s\n", assay_strerror(r),
		    assay_err_detail());
		ret = 1;
		goto out;
	}
	printf("wrote CA, verifier, admin and %zu agent certificate(s) to %s\n",
	    nnames == 0 ? (size_t)1 : nnames, dir);
	ret = 0;
 out:
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return ret;
}
