/*
 * policy_sign_cmd.c — `assayctl policy sign` and `assayctl policy verify`
 * (see policy_sign_cmd.h): a policy is compiled before it is signed (its
 * name: is the signed name unless --name says the same), sealed into a
 * DSSE envelope with a P-256 or Ed25519 key (and an X.509 chain for the
 * x5c), written atomically; an envelope is checked offline against the
 * trusted signers given with --signer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "common/appraise/policy.h"
#include "common/dsse.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/proto/policy_env.h"
#include "common/xmalloc.h"
#include "tools/cmd.h"
#include "tools/policy_sign_cmd.h"

#define PEM_FILE_MAX	(1024 * 1024)

/* The private key in path (PEM). NULL after printing why. */
static EVP_PKEY *
key_load(const char *path)
{
	EVP_PKEY *key = NULL;
	uint8_t *text;
	size_t len;
	BIO *b;

	if (cmd_load(path, PEM_FILE_MAX, &text, &len) != 0)
		return NULL;
	if ((b = BIO_new_mem_buf(text, (int)len)) != NULL)
		key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	freezero_secret(text, len);
	ERR_clear_error();
	if (key == NULL)
		fprintf(stderr, "assayctl: %s: not a PEM private key\n", path);
	else if (dsse_key_check(key) != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", path, assay_err_detail());
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

/* Append the certificates of path to sk (at least one). 0 or 2. */
static int
certs_load(const char *path, STACK_OF(X509) *sk)
{
	uint8_t *text;
	size_t len;
	X509 *x;
	BIO *b;
	int n = 0;

	if (cmd_load(path, PEM_FILE_MAX, &text, &len) != 0)
		return 2;
	if ((b = BIO_new_mem_buf(text, (int)len)) != NULL)
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			sk_X509_push(sk, x);
			n++;
		}
	BIO_free(b);
	free(text);
	ERR_clear_error();
	if (n == 0) {
		fprintf(stderr, "assayctl: %s: no PEM certificate\n", path);
		return 2;
	}
	return 0;
}

/* text (len bytes) to path atomically (mode 0644), or stdout without -o. */
static int
put_out(const char *path, const char *text, size_t len)
{
	if (path == NULL || strcmp(path, "-") == 0) {
		fwrite(text, 1, len, stdout);
		return fflush(stdout) == 0 ? 0 : 2;
	}
	if (file_write_atomic(path, (const uint8_t *)text, len, 0644) != 0) {
		fprintf(stderr, "assayctl: %s\n", assay_err_detail());
		return 2;
	}
	return 0;
}

/* The policy's name after compiling it (--name must agree). 0, 1 or 2. */
static int
policy_name_of(const char *path, const char *text, size_t len,
    const char *want, char **name)
{
	struct policy *p = NULL;

	if (want != NULL && !policy_name_valid(want)) {
		fprintf(stderr, "assayctl: --name %s: not a policy name "
		    "([A-Za-z0-9._-]{1,64})\n", want);
		return 2;
	}
	if (policy_compile(text, len, want, &p) != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", path, assay_err_detail());
		return 1;
	}
	*name = xstrdup(policy_name(p));
	policy_unref(p);
	return 0;
}

int
cmd_policy_sign(struct cmd_args *a)
{
	const char *path = a->pos[0], *cert = cmd_str(a, OPT_CERT),
	    *chain = cmd_str(a, OPT_CHAIN), *out = cmd_str(a, OPT_OUTPUT);
	STACK_OF(X509) *certs = sk_X509_new_null();
	EVP_PKEY *key = NULL;
	uint8_t *text = NULL;
	char *name = NULL, *env = NULL, *keyid = NULL, *file;
	size_t len;
	int r = 2;

	if (chain != NULL && cert == NULL) {
		fprintf(stderr, "assayctl: --chain needs --cert\n");
		goto out;
	}
	if (cmd_load(path, POLICY_TEXT_MAX, &text, &len) != 0 ||
	    (r = policy_name_of(path, (char *)text, len, cmd_str(a, OPT_NAME),
	    &name)) != 0)
		goto out;
	r = 2;
	if ((key = key_load(cmd_str(a, OPT_KEY))) == NULL ||
	    (cert != NULL && certs_load(cert, certs) != 0) ||
	    (chain != NULL && certs_load(chain, certs) != 0))
		goto out;
	if (policy_env_seal(name, (char *)text, len, (int64_t)time(NULL), key,
	    certs, &env) != 0 || dsse_keyid(key, &keyid) != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", path, assay_err_detail());
		r = 1;
		goto out;
	}
	file = xasprintf("%s\n", env);
	r = put_out(out, file, strlen(file));
	free(file);
	if (r == 0 && out != NULL && strcmp(out, "-") != 0)
		printf("policy %s signed by %s%s: %s\n", name, keyid,
		    sk_X509_num(certs) > 0 ? " (with x5c)" : "", out);
 out:
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	free(text);
	free(name);
	free(env);
	free(keyid);
	return r;
}

/* signed_at as ISO 8601 UTC into buf. */
static void
iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

static void
stmt_print(const struct policy_stmt *s)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char when[64], *hex;

	SHA256((const unsigned char *)s->text, s->text_len, md);
	hex = hex_encode(md, sizeof(md));
	iso_time(s->signed_at, when, sizeof(when));
	printf("name: %s\nsigned_at: %s\nsigner: %s\nkeyid: %s\nsha256: %s\n",
	    s->name, when, s->signer, s->keyid, hex);
	free(hex);
}

/* The trusted signers of every --signer. NULL after printing why. */
static struct dsse_trust *
signers_load(const struct cmd_args *a)
{
	const struct cmd_val *v = &a->opt[OPT_SIGNER];
	struct dsse_trust *t = dsse_trust_new();
	size_t i;

	for (i = 0; i < v->n; i++)
		if (dsse_trust_add_pem_file(t, v->v[i]) != 0) {
			fprintf(stderr, "assayctl: --signer %s\n",
			    assay_err_detail());
			dsse_trust_free(t);
			return NULL;
		}
	return t;
}

int
cmd_policy_verify(struct cmd_args *a)
{
	const char *path = a->pos[0], *want = cmd_str(a, OPT_NAME);
	struct policy_stmt s;
	struct dsse_trust *t;
	uint8_t *env = NULL;
	size_t len;
	int r = 2;

	memset(&s, 0, sizeof(s));
	if ((t = signers_load(a)) == NULL ||
	    cmd_load(path, POLICY_ENV_MAX, &env, &len) != 0)
		goto out;
	r = 1;
	if (!policy_env_sniff(env, len)) {
		fprintf(stderr, "assayctl: %s: not a DSSE envelope (an unsigned "
		    "policy?)\n", path);
		goto out;
	}
	if (policy_env_open(env, len, t, &s) != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", path, assay_err_detail());
		goto out;
	}
	if (want != NULL && strcmp(want, s.name) != 0) {
		fprintf(stderr, "assayctl: %s: the signed policy is named %s, "
		    "not %s\n", path, s.name, want);
		goto out;
	}
	stmt_print(&s);
	r = cmd_str(a, OPT_OUTPUT) != NULL ?
	    put_out(cmd_str(a, OPT_OUTPUT), s.text, s.text_len) : 0;
 out:
	policy_stmt_free(&s);
	dsse_trust_free(t);
	free(env);
	return r;
}
