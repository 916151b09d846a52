/*
 * bench_identity.c — what host identities cost the verifier per round and
 * per certificate, single thread: certify_verify() of a TPM2_Certify (a
 * software AK signs a TPMS_ATTEST of the certify type over an identity
 * key's Name, as a TPM does) and ident_ca_issue() of one SPIFFE X.509-SVID
 * (an EC P-256 identity CA, the certificate built, signed and PEM-encoded).
 * The CA is made in a temp dir with openssl(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "tests/unit/quote_fixture.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/certify.h"
#include "common/evidence/tpm_public.h"
#include "common/xmalloc.h"
#include "verifier/ident_ca.h"

#define BENCH_SECONDS	1.0
#define IDKEY_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* TPM2B_PUBLIC of an EC P-256 identity key. */
static uint8_t *
idkey_public(EVP_PKEY *k, size_t *len)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t xb[32], yb[32], *body;
	size_t blen;
	struct buf t, b;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
	    BN_bn2binpad(x, xb, 32) != 32 || BN_bn2binpad(y, yb, 32) != 32)
		abort();
	buf_init(&t);
	buf_put_u16be(&t, TPM2_ALG_ECC);
	buf_put_u16be(&t, TPM2_ALG_SHA256);
	buf_put_u32be(&t, IDKEY_ATTRS);
	buf_put_u16be(&t, 0);
	buf_put_u16be(&t, TPM2_ALG_NULL);
	buf_put_u16be(&t, TPM2_ALG_NULL);
	buf_put_u16be(&t, TPM2_ECC_NIST_P256);
	buf_put_u16be(&t, TPM2_ALG_NULL);
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

/* TPMS_ATTEST of TPM2_Certify over name with nonce. */
static uint8_t *
certify_attest(const uint8_t *name, size_t name_len, const uint8_t *nonce,
    size_t nonce_len, size_t *len)
{
	struct buf b;

	buf_init(&b);
	buf_put_u32be(&b, TPM2_GENERATED_VALUE);
	buf_put_u16be(&b, TPM2_ST_ATTEST_CERTIFY);
	buf_put_tpm2b(&b, name, 0);		/* qualifiedSigner: unchecked here */
	buf_put_tpm2b(&b, nonce, nonce_len);
	buf_put_u64be(&b, 123456);		/* clock */
	buf_put_u32be(&b, 1);			/* resetCount */
	buf_put_u32be(&b, 0);			/* restartCount */
	buf_put_u8(&b, 1);			/* safe */
	buf_put_u64be(&b, 0x2000000000000ULL);	/* firmwareVersion */
	buf_put_tpm2b(&b, name, name_len);
	buf_put_tpm2b(&b, name, name_len);	/* qualifiedName */
	return buf_steal(&b, len);
}

static void
bench_certify(void)
{
	EVP_PKEY *ak = soft_key_ec(), *idk = soft_key_ec();
	struct tpm2_public key, parsed;
	struct certify_evidence ev;
	struct certify_expect ex;
	struct verdict v;
	uint8_t nonce[32], *pub, *att, *sig;
	size_t pub_len, att_len, sig_len;
	double t0, t;
	long n = 0;

	memset(nonce, 0x42, sizeof(nonce));
	pub = idkey_public(idk, &pub_len);
	if (tpm2_public_parse(pub, pub_len, &key) != 0)
		abort();
	att = certify_attest(key.name, key.name_len, nonce, sizeof(nonce), &att_len);
	sig = soft_sign(ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256, 0, att, att_len,
	    &sig_len);
	ev = (struct certify_evidence){ pub, pub_len, att, att_len, sig, sig_len };
	ex = (struct certify_expect){ .ak = ak, .nonce = nonce,
	    .nonce_len = sizeof(nonce) };
	t0 = now();
	do {
		verdict_init(&v);
		if (certify_verify(&ev, &ex, &parsed, &v) != ASSAY_OK)
			abort();
		tpm2_public_free(&parsed);
		n++;
	} while ((t = now() - t0) < BENCH_SECONDS);
	printf("identity certify_verify: %.1f us each (%.0f/s; ECDSA P-256 AK, "
	    "the key's public parsed and judged)\n", t / n * 1e6, n / t);
	tpm2_public_free(&key);
	free(pub);
	free(att);
	free(sig);
	EVP_PKEY_free(ak);
	EVP_PKEY_free(idk);
}

static int
bench_issue(const char *dir)
{
	char cmd[2048], cert[256], key[256];
	struct ident_ca *ca = NULL;
	struct agent_rec rec;
	struct ident_doc d;
	EVP_PKEY *idk = soft_key_ec();
	double t0, t;
	long n = 0;

	snprintf(cert, sizeof(cert), "%s/ca.pem", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	snprintf(cmd, sizeof(cmd), "openssl ecparam -genkey -name prime256v1 "
	    "-noout -out %s 2>/dev/null && openssl req -new -x509 -key %s -out %s "
	    "-days 2 -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign 2>/dev/null", key, key, cert);
	if (system(cmd) != 0 || ident_ca_load(cert, key, "example.org", 3,
	    &ca) != 0) {
		fprintf(stderr, "identity CA: %s\n", assay_err_detail());
		return 1;
	}
	memset(&rec, 0, sizeof(rec));
	snprintf(rec.id, sizeof(rec.id), "web-0001");
	rec.state = AGENT_TRUSTED;
	rec.id_pub = idkey_public(idk, &rec.id_pub_len);
	t0 = now();
	do {
		rec.last_attested = time(NULL);
		if (ident_ca_issue(ca, &rec, 10, rec.last_attested, &d) != 0)
			abort();
		ident_doc_free(&d);
		n++;
	} while ((t = now() - t0) < BENCH_SECONDS);
	printf("identity ident_ca_issue: %.1f us each (%.0f/s; EC P-256 CA, "
	    "one SPIFFE X.509-SVID built, signed and PEM-encoded)\n",
	    t / n * 1e6, n / t);
	free(rec.id_pub);
	ident_ca_free(ca);
	EVP_PKEY_free(idk);
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/bench-identity.XXXXXX", cmd[128];
	int r;

	if (mkdtemp(dir) == NULL)
		return 1;
	bench_certify();
	r = bench_issue(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
	return r;
}
