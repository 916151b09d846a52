/*
 * ident_fixture.h — shared by test_ident_ca.c, test_identity.c and
 * test_ident_proto.c: a PKI made with openssl(1) in a temporary directory
 * (root CA, issuing CA, a leaf, a stray key, an Ed25519 CA), TPM2B_PUBLIC
 * areas built by hand for software EC keys, a trusted agent record with a
 * certified identity key, an identity issued to it by the verifier's
 * identity CA (verifier/ident_ca.c), and a JSON round trip through text.
 */
#ifndef ASSAY_TEST_IDENT_FIXTURE_H
#define ASSAY_TEST_IDENT_FIXTURE_H

#define FIXTURE static __attribute__((unused))

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/attest.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/proto/doc.h"
#include "common/proto/identity.h"
#include "common/proto/push.h"
#include "common/proto/quote_req.h"
#include "common/xmalloc.h"
#include "verifier/ident_ca.h"
#include "verifier/store.h"

/* What agent/tpm_ident.c makes: the only attributes certify_verify accepts. */
#define IDKEY_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT)
#define TD		"example.org"
#define AGENT		"host-01"
#define INTERVAL	10
#define NOW		now_

static char pki[256] __attribute__((unused));
/* when the PKI was made: inside its validity */
static int64_t now_ __attribute__((unused));

/* ---- fixtures ------------------------------------------------------------ */

FIXTURE char *
pki_file(const char *name)
{
	return xasprintf("%s/%s", pki, name);
}

FIXTURE char *
slurp(const char *name)
{
	char *path = pki_file(name), *s;
	uint8_t *p;
	size_t n;
	FILE *f = fopen(path, "rb");

	ck_assert_msg(f != NULL, "%s", path);
	p = xmalloc(70000);
	n = fread(p, 1, 69999, f);
	fclose(f);
	s = xstrndup((char *)p, n);
	free(p);
	free(path);
	return s;
}

/*
 * root (self-signed CA) -> ca (issuing CA, pathlen 0); chain.pem is ca then
 * root; leaf.pem is CA:FALSE; other.key matches nothing; ed.* an Ed25519 CA.
 */
FIXTURE void
pki_up(void)
{
	char *cmd;

	snprintf(pki, sizeof(pki), "/tmp/assay-ident.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(pki));
	cmd = xasprintf("cd '%s' && ("
	    "E='openssl ecparam -name prime256v1 -genkey -noout -out' && "
	    "$E root.key && $E ca.key && $E leaf.key && $E other.key && "
	    "openssl req -new -x509 -key root.key -out root.pem -days 30 "
	    "-subj /CN=root -addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign,cRLSign && "
	    "openssl req -new -key ca.key -out ca.csr -subj /CN=issuing && "
	    "printf 'basicConstraints=critical,CA:TRUE,pathlen:0\\n"
	    "keyUsage=critical,keyCertSign,cRLSign\\n' > ca.ext && "
	    "openssl x509 -req -in ca.csr -CA root.pem -CAkey root.key "
	    "-set_serial 2 -days 30 -extfile ca.ext -out ca.pem && "
	    "cat ca.pem root.pem > chain.pem && "
	    "openssl req -new -key leaf.key -out leaf.csr -subj /CN=leaf && "
	    "printf 'basicConstraints=critical,CA:FALSE\\n' > leaf.ext && "
	    "openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key "
	    "-set_serial 3 -days 30 -extfile leaf.ext -out leaf.pem && "
	    "openssl genpkey -algorithm ed25519 -out ed.key && "
	    "openssl req -new -x509 -key ed.key -out ed.pem -days 30 "
	    "-subj /CN=ed -addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign"
	    ") >/dev/null 2>&1", pki);
	ck_assert_msg(system(cmd) == 0, "openssl could not make the PKI in %s",
	    pki);
	free(cmd);
	now_ = (int64_t)time(NULL);	/* not before the CAs' notBefore */
}

FIXTURE void
pki_down(void)
{
	char *cmd = xasprintf("rm -rf '%s'", pki);

	(void)system(cmd);
	free(cmd);
}

FIXTURE struct ident_ca *
ca_load_files(const char *cert, const char *key)
{
	struct ident_ca *ca = NULL;
	char *c = pki_file(cert), *k = pki_file(key);
	int r = ident_ca_load(c, k, TD, IDENT_INTERVALS_DEFAULT, &ca);

	ck_assert_msg(r == ASSAY_OK, "ident_ca_load: %s", assay_err_detail());
	ck_assert_ptr_nonnull(ca);
	free(c);
	free(k);
	return ca;
}

FIXTURE struct ident_ca *
ca_load(void)
{
	return ca_load_files("chain.pem", "ca.key");
}

/* TPM2B_PUBLIC of an ECC P-256 key with attrs, nameAlg SHA-256. */
FIXTURE uint8_t *
tpm_pub_ec(EVP_PKEY *k, uint32_t attrs, size_t *len)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t xb[32], yb[32], *body;
	size_t blen;
	struct buf t, b;

	ck_assert_int_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
	ck_assert_int_eq(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
	ck_assert_int_eq(BN_bn2binpad(x, xb, 32), 32);
	ck_assert_int_eq(BN_bn2binpad(y, yb, 32), 32);
	buf_init(&t);
	buf_put_u16be(&t, TPM2_ALG_ECC);
	buf_put_u16be(&t, TPM2_ALG_SHA256);
	buf_put_u32be(&t, attrs);
	buf_put_u16be(&t, 0);			/* authPolicy: empty */
	buf_put_u16be(&t, TPM2_ALG_NULL);	/* symmetric */
	buf_put_u16be(&t, TPM2_ALG_NULL);	/* scheme */
	buf_put_u16be(&t, TPM2_ECC_NIST_P256);
	buf_put_u16be(&t, TPM2_ALG_NULL);	/* kdf */
	buf_put_tpm2b(&t, xb, 32);
	buf_put_tpm2b(&t, yb, 32);
	body = buf_steal(&t, &blen);
	buf_init(&b);
	buf_put_tpm2b(&b, body, blen);
	free(body);
	BN_free(x);
	BN_free(y);
	return buf_steal(&b, len);
}

struct agent {
	struct agent_rec rec;
	EVP_PKEY	*key;
};

/* Trusted, its identity key certified, last accepted round a second ago. */
FIXTURE void
agent_trusted(struct agent *a, uint32_t attrs)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->rec.id, sizeof(a->rec.id), "%s", AGENT);
	a->rec.state = AGENT_TRUSTED;
	a->rec.interval = INTERVAL;
	a->rec.last_attested = NOW - 1;
	a->key = EVP_EC_gen("P-256");
	ck_assert_ptr_nonnull(a->key);
	a->rec.id_pub = tpm_pub_ec(a->key, attrs, &a->rec.id_pub_len);
}

FIXTURE void
agent_free(struct agent *a)
{
	free(a->rec.id_pub);
	EVP_PKEY_free(a->key);
}

/* An issued identity for a fresh trusted agent (the key is freed). */
FIXTURE void
issued(struct ident_doc *d)
{
	struct ident_ca *ca = ca_load();
	struct agent a;

	agent_trusted(&a, IDKEY_ATTRS);
	ck_assert_int_eq(ident_ca_issue(ca, &a.rec, INTERVAL, NOW, d), ASSAY_OK);
	agent_free(&a);
	ident_ca_free(ca);
}

/* j (stolen) as the other side gets it: written as text, parsed again. */
FIXTURE json_t *
over_the_wire(json_t *j)
{
	char *text;
	json_t *back;

	ck_assert_ptr_nonnull(j);
	text = json_dumps(j, JSON_COMPACT);
	back = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(back);
	free(text);
	json_decref(j);
	return back;
}

#endif
