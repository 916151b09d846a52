/*
 * test_agent_tpm.c — agent/tpm.c against a private swtpm (started through
 * tests/lib/swtpm.sh with an EK certificate from a test CA): EK/AK
 * identity, persistence, EK certificate and chain, quotes checked with
 * OpenSSL independently of the agent, PCR reads against tpm2-tools, and
 * credential activation with tpm2_makecredential as the verifier.
 * Set ASSAY_SRCDIR when not run from the top of the source tree.
 */
#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "agent/tpm.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/pcr.h"
#include "common/evidence/quote.h"
#include "common/evidence/verdict.h"

#include <tss2_mu.h>

#define TOOL		"timeout 10 "
#define AK_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

static char lib[PATH_MAX];
static char tdir[256];
static char tcti[320];

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (asprintf(&full, ". '%s' && %s", lib, cmd) < 0)
		abort();
	r = system(full);
	free(cmd);
	free(full);
	return r;
}

/* First line of a command's output ("" when none). */
static void
capture(char *out, size_t outlen, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	pclose(f);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
tpm_up(void)
{
	const char *src = getenv("ASSAY_SRCDIR");
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/tests/lib/swtpm.sh", src ? src : ".");
	if (realpath(path, lib) == NULL)
		ck_abort_msg("%s not found: set ASSAY_SRCDIR", path);
	snprintf(tdir, sizeof(tdir), "/tmp/assay-tpm.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	ck_assert_msg(sh("swtpm_make_ca %s/ca && swtpm_make %s rsa %s/ca && "
	    "swtpm_start %s", tdir, tdir, tdir, tdir) == 0,
	    "swtpm (a required dependency) failed to start in %s", tdir);
	snprintf(tcti, sizeof(tcti), "swtpm:path=%s/tpm.sock", tdir);
}

static void
tpm_down(void)
{
	if (tdir[0] != '\0')
		(void)sh("swtpm_stop %s; rm -rf '%s'", tdir, tdir);
	tdir[0] = '\0';
}

static struct tpm_cfg
cfg_default(void)
{
	struct tpm_cfg c = { .tcti = tcti };

	return c;
}

static struct tpm_identity
load(const struct tpm_cfg *c)
{
	struct tpm_identity id;
	double t0 = now_ms();
	int r;

	r = tpm_identity_load(c, &id);
	ck_assert_msg(r == ASSAY_OK, "tpm_identity_load: %s: %s",
	    assay_strerror(r), assay_err_detail());
	fprintf(stderr, "timing: identity load %.1f ms\n", now_ms() - t0);
	return id;
}

static void
unmarshal_pub(const uint8_t *p, size_t n, TPM2B_PUBLIC *pub)
{
	size_t off = 0;

	memset(pub, 0, sizeof(*pub));
	ck_assert_int_eq(Tss2_MU_TPM2B_PUBLIC_Unmarshal(p, n, &off, pub), 0);
	ck_assert_uint_eq(off, n);
}

/* OpenSSL key from TPM2B_PUBLIC bytes, built here, not by the agent. */
static EVP_PKEY *
pub_pkey(const uint8_t *p, size_t n)
{
	TPM2B_PUBLIC pub;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	uint8_t point[1 + 2 * 66];
	const TPMS_ECC_POINT *q;
	const char *curve = NULL;
	size_t clen = 0;

	unmarshal_pub(p, n, &pub);
	if (pub.publicArea.type == TPM2_ALG_RSA) {
		uint32_t e = pub.publicArea.parameters.rsaDetail.exponent;

		bn_n = BN_bin2bn(pub.publicArea.unique.rsa.buffer,
		    pub.publicArea.unique.rsa.size, NULL);
		bn_e = BN_new();
		BN_set_word(bn_e, e == 0 ? 65537 : e);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		switch (pub.publicArea.parameters.eccDetail.curveID) {
		case TPM2_ECC_NIST_P256: curve = "P-256"; clen = 32; break;
		case TPM2_ECC_NIST_P384: curve = "P-384"; clen = 48; break;
		default: ck_abort_msg("curve");
		}
		q = &pub.publicArea.unique.ecc;
		ck_assert_uint_le(q->x.size, clen);
		ck_assert_uint_le(q->y.size, clen);
		memset(point, 0, sizeof(point));
		point[0] = 0x04;
		memcpy(point + 1 + clen - q->x.size, q->x.buffer, q->x.size);
		memcpy(point + 1 + 2 * clen - q->y.size, q->y.buffer, q->y.size);
		OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		    curve, 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    point, 1 + 2 * clen);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_fromdata_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return pk;
}

/* 1 if sig (TPMT_SIGNATURE wire) is a valid signature of msg by pk. */
static int
sig_ok(EVP_PKEY *pk, const uint8_t *msg, size_t msglen, const uint8_t *sig,
    size_t siglen)
{
	TPMT_SIGNATURE s;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ECDSA_SIG *es = NULL;
	uint8_t *der = NULL;
	const uint8_t *sp;
	size_t off = 0;
	int derlen, ok;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, siglen, &off,
	    &s), 0);
	ck_assert_uint_eq(off, siglen);
	ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
	    pk), 1);
	if (s.sigAlg == TPM2_ALG_ECDSA) {
		ck_assert_uint_eq(s.signature.ecdsa.hash, TPM2_ALG_SHA256);
		es = ECDSA_SIG_new();
		ECDSA_SIG_set0(es,
		    BN_bin2bn(s.signature.ecdsa.signatureR.buffer,
		    s.signature.ecdsa.signatureR.size, NULL),
		    BN_bin2bn(s.signature.ecdsa.signatureS.buffer,
		    s.signature.ecdsa.signatureS.size, NULL));
		derlen = i2d_ECDSA_SIG(es, &der);
		ck_assert_int_gt(derlen, 0);
		sp = der;
	} else {
		ck_assert_uint_eq(s.sigAlg, TPM2_ALG_RSASSA);
		ck_assert_uint_eq(s.signature.rsassa.hash, TPM2_ALG_SHA256);
		sp = s.signature.rsassa.sig.buffer;
		derlen = s.signature.rsassa.sig.size;
	}
	ok = EVP_DigestVerify(ctx, sp, derlen, msg, msglen) == 1;
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void
sel_set(struct pcr_selection *sel, size_t i, uint16_t hash, uint32_t mask)
{
	sel->bank[i].hash = hash;
	sel->bank[i].mask = mask;
	if (sel->n < i + 1)
		sel->n = i + 1;
}

/* sha256:0-7,10 (9 PCRs: more than one PCR_Read) + sha1:10 */
static struct pcr_selection
sel_boot(void)
{
	struct pcr_selection sel;

	memset(&sel, 0, sizeof(sel));
	sel_set(&sel, 0, TPM2_ALG_SHA256, 0x4ff);
	sel_set(&sel, 1, TPM2_ALG_SHA1, 1u << 10);
	return sel;
}

struct quote {
	uint8_t			*attest, *sig;
	size_t			 attest_len, sig_len;
	struct pcr_values	 pcrs;
	uint8_t			 nonce[32];
};

static void
quote(const struct tpm_cfg *c, const struct pcr_selection *sel,
    struct quote *q)
{
	double t0;
	int r;

	memset(q, 0, sizeof(*q));
	RAND_bytes(q->nonce, sizeof(q->nonce));
	t0 = now_ms();
	r = tpm_quote(c, q->nonce, sizeof(q->nonce), sel, &q->attest,
	    &q->attest_len, &q->sig, &q->sig_len, &q->pcrs);
	ck_assert_msg(r == ASSAY_OK, "tpm_quote: %s: %s", assay_strerror(r),
	    assay_err_detail());
	fprintf(stderr, "timing: quote %.1f ms\n", now_ms() - t0);
}

static void
quote_free(struct quote *q)
{
	free(q->attest);
	free(q->sig);
}

START_TEST(identity_load_creates_persistent_ak)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	TPM2B_PUBLIC ak;

	unmarshal_pub(id.ak_pub, id.ak_pub_len, &ak);
	ck_assert_uint_eq(ak.publicArea.type, TPM2_ALG_ECC);
	ck_assert_uint_eq(ak.publicArea.objectAttributes, AK_ATTRS);
	ck_assert_uint_eq(ak.publicArea.parameters.eccDetail.scheme.scheme,
	    TPM2_ALG_ECDSA);
	ck_assert_uint_eq(id.ak_name_len, 34);
	ck_assert_int_eq(sh(TOOL "tpm2_readpublic -T %s -c 0x%08x >/dev/null",
	    tcti, TPM_AK_HANDLE_DEFAULT), 0);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(identity_second_load_returns_same_ak)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity a = load(&c), b = load(&c);

	ck_assert_uint_eq(a.ak_pub_len, b.ak_pub_len);
	ck_assert_mem_eq(a.ak_pub, b.ak_pub, a.ak_pub_len);
	ck_assert_uint_eq(a.ak_name_len, b.ak_name_len);
	ck_assert_mem_eq(a.ak_name, b.ak_name, a.ak_name_len);
	ck_assert_uint_eq(a.ek_pub_len, b.ek_pub_len);
	ck_assert_mem_eq(a.ek_pub, b.ek_pub, a.ek_pub_len);
	tpm_identity_free(&a);
	tpm_identity_free(&b);
}
END_TEST

START_TEST(ak_name_is_tpm_name_of_ak_public)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	uint8_t md[32];
	unsigned int mdlen;

	/* nameAlg || SHA-256(TPMT_PUBLIC): the TPM2B_PUBLIC body */
	ck_assert_int_eq(EVP_Digest(id.ak_pub + 2, id.ak_pub_len - 2, md,
	    &mdlen, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(id.ak_name[0], 0x00);
	ck_assert_uint_eq(id.ak_name[1], 0x0b);
	ck_assert_mem_eq(id.ak_name + 2, md, 32);
	tpm_identity_free(&id);
}
END_TEST

static void
check_ek_cert(const struct tpm_identity *id)
{
	const uint8_t *p = id->ek_cert;
	X509 *x;
	EVP_PKEY *ek;

	ck_assert_ptr_nonnull(id->ek_cert);
	x = d2i_X509(NULL, &p, id->ek_cert_len);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_eq(p, id->ek_cert + id->ek_cert_len);
	ek = pub_pkey(id->ek_pub, id->ek_pub_len);
	ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(x), ek), 1);
	EVP_PKEY_free(ek);
	X509_free(x);
}

START_TEST(rsa_ek_cert_matches_ek_public)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	TPM2B_PUBLIC ek;

	unmarshal_pub(id.ek_pub, id.ek_pub_len, &ek);
	ck_assert_uint_eq(ek.publicArea.type, TPM2_ALG_RSA);
	check_ek_cert(&id);
	ck_assert_uint_eq(id.nchain, 0);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(ek_cert_chains_to_test_ca)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	char path[512];
	const uint8_t *p = id.ek_cert;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *x, *issuer;
	FILE *f;

	x = d2i_X509(NULL, &p, id.ek_cert_len);
	ck_assert_ptr_nonnull(x);
	snprintf(path, sizeof(path), "%s/ca/rootca.pem", tdir);
	ck_assert_int_eq(X509_STORE_load_file(st, path), 1);
	snprintf(path, sizeof(path), "%s/ca/issuercert.pem", tdir);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(issuer = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	sk_X509_push(untrusted, issuer);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, x, untrusted), 1);
	/* EK certs carry a critical SAN dirName OpenSSL cannot judge. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_IGNORE_CRITICAL);
	ck_assert_msg(X509_verify_cert(ctx) == 1, "verify: %s",
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(x);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(ecc_ek_is_used_with_its_cert)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id;
	TPM2B_PUBLIC ek, ak;

	c.ek_alg = TPM2_ALG_ECC;
	c.ak_alg = TPM2_ALG_RSA;
	c.ak_handle = 0x81010021;
	id = load(&c);
	unmarshal_pub(id.ek_pub, id.ek_pub_len, &ek);
	ck_assert_uint_eq(ek.publicArea.type, TPM2_ALG_ECC);
	check_ek_cert(&id);
	unmarshal_pub(id.ak_pub, id.ak_pub_len, &ak);
	ck_assert_uint_eq(ak.publicArea.type, TPM2_ALG_RSA);
	ck_assert_uint_eq(ak.publicArea.objectAttributes, AK_ATTRS);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(ak_of_other_algorithm_is_config_error)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);

	tpm_identity_free(&id);
	c.ak_alg = TPM2_ALG_RSA;	/* the default handle holds the ECC AK */
	ck_assert_int_eq(tpm_identity_load(&c, &id), ASSAY_ERR_CONFIG);
	ck_assert_ptr_null(id.ak_pub);
}
END_TEST

static void
check_quote(const struct tpm_cfg *c, const struct pcr_selection *sel,
    const struct quote *q)
{
	struct tpm_identity id = load(c);
	EVP_PKEY *ak = pub_pkey(id.ak_pub, id.ak_pub_len);
	TPMS_ATTEST at;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t d[32];
	unsigned int dlen;
	size_t off = 0, i;
	unsigned k;

	ck_assert_msg(sig_ok(ak, q->attest, q->attest_len, q->sig, q->sig_len),
	    "quote signature does not verify with the AK");
	memset(&at, 0, sizeof(at));
	ck_assert_int_eq(Tss2_MU_TPMS_ATTEST_Unmarshal(q->attest, q->attest_len,
	    &off, &at), 0);
	ck_assert_uint_eq(off, q->attest_len);
	ck_assert_uint_eq(at.magic, TPM2_GENERATED_VALUE);
	ck_assert_uint_eq(at.type, TPM2_ST_ATTEST_QUOTE);
	ck_assert_uint_eq(at.extraData.size, sizeof(q->nonce));
	ck_assert_mem_eq(at.extraData.buffer, q->nonce, sizeof(q->nonce));
	ck_assert_uint_eq(at.qualifiedSigner.size > 0, 1);
	ck_assert_uint_eq(at.attested.quote.pcrSelect.count, sel->n);
	/* pcrDigest over the reported values, in selection order */
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (i = 0; i < sel->n; i++) {
		size_t len = sel->bank[i].hash == TPM2_ALG_SHA1 ? 20 : 32;

		for (k = 0; k < 24; k++) {
			const uint8_t *v;

			if (!(sel->bank[i].mask & (1u << k)))
				continue;
			v = pcr_values_get(&q->pcrs, sel->bank[i].hash, k);
			ck_assert_msg(v != NULL, "PCR %u of bank %zu missing",
			    k, i);
			EVP_DigestUpdate(md, v, len);
		}
	}
	EVP_DigestFinal_ex(md, d, &dlen);
	ck_assert_uint_eq(at.attested.quote.pcrDigest.size, 32);
	ck_assert_mem_eq(at.attested.quote.pcrDigest.buffer, d, 32);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(ak);
	tpm_identity_free(&id);
}

START_TEST(quote_verifies_with_ak_and_matches_pcrs)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct quote q;

	quote(&c, &sel, &q);
	check_quote(&c, &sel, &q);
	quote_free(&q);
}
END_TEST

START_TEST(quote_with_rsa_ak_verifies)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct tpm_identity id;
	struct quote q;

	c.ek_alg = TPM2_ALG_ECC;
	c.ak_alg = TPM2_ALG_RSA;
	c.ak_handle = 0x81010021;
	id = load(&c);
	tpm_identity_free(&id);
	quote(&c, &sel, &q);
	check_quote(&c, &sel, &q);
	quote_free(&q);
}
END_TEST

START_TEST(quote_reports_extended_pcr)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct quote a, b;
	uint8_t data[32], cat[64], want[32];
	unsigned int wlen;
	char *hex;

	quote(&c, &sel, &a);
	RAND_bytes(data, sizeof(data));
	hex = hex_encode(data, sizeof(data));
	ck_assert_int_eq(sh(TOOL "tpm2_pcrextend -T %s 10:sha256=%s", tcti,
	    hex), 0);
	free(hex);
	quote(&c, &sel, &b);
	check_quote(&c, &sel, &b);
	memcpy(cat, pcr_values_get(&a.pcrs, TPM2_ALG_SHA256, 10), 32);
	memcpy(cat + 32, data, 32);
	EVP_Digest(cat, sizeof(cat), want, &wlen, EVP_sha256(), NULL);
	ck_assert_mem_eq(pcr_values_get(&b.pcrs, TPM2_ALG_SHA256, 10), want, 32);
	/* the sha1 bank was not extended */
	ck_assert_mem_eq(pcr_values_get(&b.pcrs, TPM2_ALG_SHA1, 10),
	    pcr_values_get(&a.pcrs, TPM2_ALG_SHA1, 10), 20);
	quote_free(&a);
	quote_free(&b);
}
END_TEST

/* QN = nameAlg || SHA-256(parent QN || Name), for sha256 objects. */
static void
qualified(const uint8_t *parent, size_t plen, const uint8_t *name, size_t nlen,
    uint8_t out[34])
{
	uint8_t buf[256];
	unsigned int mdlen;

	ck_assert_uint_le(plen + nlen, sizeof(buf));
	memcpy(buf, parent, plen);
	memcpy(buf + plen, name, nlen);
	out[0] = 0x00;
	out[1] = 0x0b;
	ck_assert_int_eq(EVP_Digest(buf, plen + nlen, out + 2, &mdlen,
	    EVP_sha256(), NULL), 1);
}

/* QN of the AK under the (sha256) EK of the endorsement hierarchy. */
static void
ak_qualified_name(const struct tpm_identity *id, uint8_t qn[34])
{
	static const uint8_t eh[4] = { 0x40, 0x00, 0x00, 0x0b };
	uint8_t ekname[34], ekqn[34];
	unsigned int mdlen;

	ekname[0] = 0x00;
	ekname[1] = 0x0b;
	ck_assert_int_eq(EVP_Digest(id->ek_pub + 2, id->ek_pub_len - 2,
	    ekname + 2, &mdlen, EVP_sha256(), NULL), 1);
	qualified(eh, sizeof(eh), ekname, sizeof(ekname), ekqn);
	qualified(ekqn, sizeof(ekqn), id->ak_name, id->ak_name_len, qn);
}

/* The verifier's own check accepts what the agent produced. */
START_TEST(quote_passes_verifier_quote_verify)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct tpm_identity id = load(&c);
	struct quote q;
	struct quote_evidence ev;
	struct quote_expect ex;
	struct quote_result res;
	struct verdict v;
	uint8_t qn[34];

	quote(&c, &sel, &q);
	ak_qualified_name(&id, qn);	/* also proves the AK's parent is the EK */
	memset(&ex, 0, sizeof(ex));
	ex.ak = pub_pkey(id.ak_pub, id.ak_pub_len);
	ex.ak_name = qn;
	ex.ak_name_len = sizeof(qn);
	ex.nonce = q.nonce;
	ex.nonce_len = sizeof(q.nonce);
	ex.sel = &sel;
	ev.attest = q.attest;
	ev.attest_len = q.attest_len;
	ev.sig = q.sig;
	ev.sig_len = q.sig_len;
	ev.pcrs = &q.pcrs;
	verdict_init(&v);
	ck_assert_msg(quote_verify(&ev, &ex, &res, &v) == ASSAY_OK,
	    "quote_verify: %s: %s", v.nfail ? v.fail[0].id : "-",
	    v.nfail ? v.fail[0].detail : "-");
	EVP_PKEY_free(ex.ak);
	quote_free(&q);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(quote_rejects_nonce_over_64_bytes)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct pcr_values v;
	uint8_t nonce[65] = { 0 }, *at, *sig;
	size_t atl, sigl;

	ck_assert_int_eq(tpm_quote(&c, nonce, sizeof(nonce), &sel, &at, &atl,
	    &sig, &sigl, &v), ASSAY_ERR_INVAL);
	ck_assert_ptr_null(at);
}
END_TEST

START_TEST(quote_without_ak_is_state_error)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel = sel_boot();
	struct pcr_values v;
	uint8_t nonce[8] = { 0 }, *at, *sig;
	size_t atl, sigl;

	c.ak_handle = 0x81010030;
	ck_assert_int_eq(tpm_quote(&c, nonce, sizeof(nonce), &sel, &at, &atl,
	    &sig, &sigl, &v), ASSAY_ERR_STATE);
}
END_TEST

START_TEST(quote_of_inactive_bank_is_unsupported)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel;
	struct tpm_identity id = load(&c);
	struct pcr_values v;
	uint8_t nonce[8] = { 0 }, *at, *sig;
	size_t atl, sigl;

	tpm_identity_free(&id);
	memset(&sel, 0, sizeof(sel));
	sel_set(&sel, 0, TPM2_ALG_SHA256, 1);
	sel_set(&sel, 1, TPM2_ALG_SHA384, 1);	/* swtpm_make: sha1,sha256 */
	ck_assert_int_eq(tpm_quote(&c, nonce, sizeof(nonce), &sel, &at, &atl,
	    &sig, &sigl, &v), ASSAY_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(pcr_read_matches_tpm2_pcrread)
{
	struct tpm_cfg c = cfg_default();
	struct pcr_selection sel;
	struct pcr_values v;
	uint8_t want[32];
	char cmd[2048];
	FILE *f;
	unsigned k;

	memset(&sel, 0, sizeof(sel));
	sel_set(&sel, 0, TPM2_ALG_SHA1, 0xffffff);
	sel_set(&sel, 1, TPM2_ALG_SHA256, 0xffffff);
	ck_assert_int_eq(tpm_pcr_read(&c, &sel, &v), ASSAY_OK);
	for (k = 0; k < 24; k++) {
		ck_assert_ptr_nonnull(pcr_values_get(&v, TPM2_ALG_SHA1, k));
		ck_assert_ptr_nonnull(pcr_values_get(&v, TPM2_ALG_SHA256, k));
	}
	snprintf(cmd, sizeof(cmd), "%s/pcr10.bin", tdir);
	ck_assert_int_eq(sh(TOOL "tpm2_pcrread -T %s sha256:10 -o %s "
	    ">/dev/null", tcti, cmd), 0);
	ck_assert_ptr_nonnull(f = fopen(cmd, "rb"));
	ck_assert_uint_eq(fread(want, 1, sizeof(want), f), 32);
	fclose(f);
	ck_assert_mem_eq(pcr_values_get(&v, TPM2_ALG_SHA256, 10), want, 32);
}
END_TEST

/* tpm2_makecredential's file: u32 magic, u32 version, two TPM2Bs. */
static void
make_credential(const struct tpm_identity *id, const uint8_t *name,
    size_t name_len, const uint8_t *secret, size_t slen, uint8_t **cred,
    size_t *cred_len, uint8_t **enc, size_t *enc_len)
{
	char path[512];
	uint8_t file[2048];
	char *hex = hex_encode(name, name_len);
	size_t n, a, b;
	FILE *f;

	snprintf(path, sizeof(path), "%s/ek.pub", tdir);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	fwrite(id->ek_pub, 1, id->ek_pub_len, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/secret", tdir);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	fwrite(secret, 1, slen, f);
	fclose(f);
	ck_assert_int_eq(sh(TOOL "tpm2_makecredential -T none -u %s/ek.pub "
	    "-s %s/secret -n %s -o %s/cred 2>/dev/null", tdir, tdir, hex,
	    tdir), 0);
	free(hex);
	snprintf(path, sizeof(path), "%s/cred", tdir);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	n = fread(file, 1, sizeof(file), f);
	fclose(f);
	ck_assert_uint_gt(n, 12);
	ck_assert_mem_eq(file, "\xba\xdc\xc0\xde\x00\x00\x00\x01", 8);
	a = 2 + ((size_t)file[8] << 8 | file[9]);
	ck_assert_uint_le(8 + a + 2, n);
	b = 2 + ((size_t)file[8 + a] << 8 | file[8 + a + 1]);
	ck_assert_uint_eq(8 + a + b, n);
	*cred = malloc(a);
	memcpy(*cred, file + 8, a);
	*cred_len = a;
	*enc = malloc(b);
	memcpy(*enc, file + 8 + a, b);
	*enc_len = b;
}

static void
activate_round_trip(struct tpm_cfg *c)
{
	struct tpm_identity id = load(c);
	uint8_t secret[32], *cred, *enc, *out;
	size_t cl, el, ol;
	int r;

	RAND_bytes(secret, sizeof(secret));
	make_credential(&id, id.ak_name, id.ak_name_len, secret,
	    sizeof(secret), &cred, &cl, &enc, &el);
	r = tpm_activate(c, cred, cl, enc, el, &out, &ol);
	ck_assert_msg(r == ASSAY_OK, "tpm_activate: %s: %s",
	    assay_strerror(r), assay_err_detail());
	ck_assert_uint_eq(ol, sizeof(secret));
	ck_assert_mem_eq(out, secret, sizeof(secret));
	free(out);
	free(cred);
	free(enc);
	tpm_identity_free(&id);
}

START_TEST(activate_recovers_secret)
{
	struct tpm_cfg c = cfg_default();

	activate_round_trip(&c);
}
END_TEST

START_TEST(activate_with_ecc_ek_recovers_secret)
{
	struct tpm_cfg c = cfg_default();

	c.ek_alg = TPM2_ALG_ECC;
	activate_round_trip(&c);
}
END_TEST

START_TEST(activate_for_other_name_fails)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	uint8_t secret[32] = { 1 }, name[66], *cred, *enc, *out = NULL;
	size_t cl, el, ol;

	memcpy(name, id.ak_name, id.ak_name_len);
	name[5] ^= 1;
	make_credential(&id, name, id.ak_name_len, secret, sizeof(secret),
	    &cred, &cl, &enc, &el);
	ck_assert_int_eq(tpm_activate(&c, cred, cl, enc, el, &out, &ol),
	    ASSAY_ERR_TPM);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "ActivateCredential"));
	free(cred);
	free(enc);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(activate_rejects_trailing_bytes)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id = load(&c);
	uint8_t secret[32] = { 1 }, *cred, *enc, *out = NULL, *longer;
	size_t cl, el, ol;

	make_credential(&id, id.ak_name, id.ak_name_len, secret,
	    sizeof(secret), &cred, &cl, &enc, &el);
	longer = malloc(cl + 1);
	memcpy(longer, cred, cl);
	longer[cl] = 0;
	ck_assert_int_eq(tpm_activate(&c, longer, cl + 1, enc, el, &out, &ol),
	    ASSAY_ERR_FORMAT);
	ck_assert_int_eq(tpm_activate(&c, cred, cl, enc, el - 1, &out, &ol),
	    ASSAY_ERR_FORMAT);
	ck_assert_ptr_null(out);
	free(longer);
	free(cred);
	free(enc);
	tpm_identity_free(&id);
}
END_TEST

START_TEST(calls_leave_no_transient_handles)
{
	struct tpm_cfg c = cfg_default();
	char out[1024], cmd[2048];

	c.ek_alg = TPM2_ALG_ECC;	/* the transient P-256 path is not used */
	activate_round_trip(&c);
	c.ek_alg = TPM2_ALG_RSA;
	activate_round_trip(&c);
	snprintf(cmd, sizeof(cmd), TOOL "tpm2_getcap -T %s handles-transient; "
	    TOOL "tpm2_getcap -T %s handles-loaded-session; "
	    TOOL "tpm2_getcap -T %s handles-saved-session", tcti, tcti, tcti);
	capture(out, sizeof(out), cmd);
	ck_assert_str_eq(out, "");
}
END_TEST

/* A TPM whose chain range holds an intermediate and a root. */
START_TEST(ek_chain_read_from_nv)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id;
	char *root = NULL, *inter = NULL;
	size_t i;

	ck_assert_int_eq(sh("cd %s && openssl x509 -in ca/issuercert.pem "
	    "-outform DER -out i.der && openssl x509 -in ca/rootca.pem "
	    "-outform DER -out r.der && cat i.der r.der > chain.der && "
	    TOOL "tpm2_nvdefine -T %s 0x01c00100 -C o -s $(wc -c < chain.der) "
	    "-a 'ownerwrite|ownerread|authread|authwrite' >/dev/null && "
	    TOOL "tpm2_nvwrite -T %s 0x01c00100 -C o -i chain.der", tdir, tcti,
	    tcti), 0);
	id = load(&c);
	ck_assert_uint_eq(id.nchain, 2);
	for (i = 0; i < 2; i++) {
		const uint8_t *p = id.chain[i];
		X509 *x = d2i_X509(NULL, &p, id.chain_len[i]);

		ck_assert_ptr_nonnull(x);
		ck_assert_ptr_eq(p, id.chain[i] + id.chain_len[i]);
		if (i == 0)
			inter = X509_NAME_oneline(X509_get_subject_name(x),
			    NULL, 0);
		else
			root = X509_NAME_oneline(X509_get_subject_name(x),
			    NULL, 0);
		X509_free(x);
	}
	ck_assert_ptr_nonnull(strstr(inter, "issuing CA"));
	ck_assert_ptr_nonnull(strstr(root, "root CA"));
	OPENSSL_free(inter);
	OPENSSL_free(root);
	tpm_identity_free(&id);
}
END_TEST

/* Without a persistent EK the TCG template yields the same key, flushed. */
START_TEST(created_ek_equals_persisted_and_is_flushed)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity before = load(&c), after;
	char out[1024], cmd[2048];

	ck_assert_int_eq(sh(TOOL "tpm2_evictcontrol -T %s -C o -c 0x81010001 "
	    ">/dev/null", tcti), 0);
	after = load(&c);
	ck_assert_uint_eq(before.ek_pub_len, after.ek_pub_len);
	ck_assert_mem_eq(before.ek_pub, after.ek_pub, before.ek_pub_len);
	ck_assert_mem_eq(before.ak_name, after.ak_name, before.ak_name_len);
	check_ek_cert(&after);
	activate_round_trip(&c);
	snprintf(cmd, sizeof(cmd), TOOL "tpm2_getcap -T %s handles-transient; "
	    TOOL "tpm2_getcap -T %s handles-loaded-session", tcti, tcti);
	capture(out, sizeof(out), cmd);
	ck_assert_str_eq(out, "");
	tpm_identity_free(&before);
	tpm_identity_free(&after);
}
END_TEST

/* No persistent ECC EK: a P-256 one from the TCG template, no cert. */
START_TEST(ecc_p256_ek_created_when_none_persisted)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity id;
	TPM2B_PUBLIC ek;

	c.ek_alg = TPM2_ALG_ECC;
	ck_assert_int_eq(sh(TOOL "tpm2_evictcontrol -T %s -C o -c 0x81010016 "
	    ">/dev/null", tcti), 0);
	id = load(&c);
	unmarshal_pub(id.ek_pub, id.ek_pub_len, &ek);
	ck_assert_uint_eq(ek.publicArea.type, TPM2_ALG_ECC);
	ck_assert_uint_eq(ek.publicArea.parameters.eccDetail.curveID,
	    TPM2_ECC_NIST_P256);
	ck_assert_ptr_null(id.ek_cert);		/* swtpm has no 0x01c0000a */
	ck_assert_uint_eq(id.ek_cert_len, 0);
	tpm_identity_free(&id);
	activate_round_trip(&c);
}
END_TEST

/* Restart of the swtpm process, then a reboot (TPM_Init + Startup). */
START_TEST(ak_survives_restart_and_reboot)
{
	struct tpm_cfg c = cfg_default();
	struct tpm_identity a = load(&c), b;
	struct pcr_selection sel = sel_boot();
	struct quote q;
	static const uint8_t zero[32];

	ck_assert_int_eq(sh(TOOL "tpm2_pcrextend -T %s 10:sha256=%064d",
	    tcti, 1), 0);
	ck_assert_int_eq(sh("swtpm_stop %s && swtpm_start %s && "
	    "swtpm_reset %s", tdir, tdir, tdir), 0);
	b = load(&c);
	ck_assert_mem_eq(a.ak_name, b.ak_name, a.ak_name_len);
	quote(&c, &sel, &q);
	check_quote(&c, &sel, &q);
	ck_assert_mem_eq(pcr_values_get(&q.pcrs, TPM2_ALG_SHA256, 10), zero, 32);
	quote_free(&q);
	tpm_identity_free(&a);
	tpm_identity_free(&b);
}
END_TEST

START_TEST(bad_tcti_is_tpm_error)
{
	struct tpm_cfg c = { .tcti = "swtpm:path=/nonexistent/assay.sock" };
	struct tpm_identity id;

	ck_assert_int_eq(tpm_identity_load(&c, &id), ASSAY_ERR_TPM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "TCTI"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("agent_tpm");
	TCase *tc = tcase_create("swtpm");
	TCase *chain = tcase_create("swtpm_altered");
	TCase *plain = tcase_create("no_tpm");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(tc, tpm_up, tpm_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, identity_load_creates_persistent_ak);
	tcase_add_test(tc, identity_second_load_returns_same_ak);
	tcase_add_test(tc, ak_name_is_tpm_name_of_ak_public);
	tcase_add_test(tc, rsa_ek_cert_matches_ek_public);
	tcase_add_test(tc, ek_cert_chains_to_test_ca);
	tcase_add_test(tc, ecc_ek_is_used_with_its_cert);
	tcase_add_test(tc, ak_of_other_algorithm_is_config_error);
	tcase_add_test(tc, quote_verifies_with_ak_and_matches_pcrs);
	tcase_add_test(tc, quote_with_rsa_ak_verifies);
	tcase_add_test(tc, quote_reports_extended_pcr);
	tcase_add_test(tc, quote_passes_verifier_quote_verify);
	tcase_add_test(tc, quote_rejects_nonce_over_64_bytes);
	tcase_add_test(tc, quote_without_ak_is_state_error);
	tcase_add_test(tc, quote_of_inactive_bank_is_unsupported);
	tcase_add_test(tc, pcr_read_matches_tpm2_pcrread);
	tcase_add_test(tc, activate_recovers_secret);
	tcase_add_test(tc, activate_with_ecc_ek_recovers_secret);
	tcase_add_test(tc, activate_for_other_name_fails);
	tcase_add_test(tc, activate_rejects_trailing_bytes);
	tcase_add_test(tc, calls_leave_no_transient_handles);
	suite_add_tcase(s, tc);

	tcase_add_unchecked_fixture(chain, tpm_up, tpm_down);
	tcase_set_timeout(chain, 60);
	tcase_add_test(chain, ek_chain_read_from_nv);
	tcase_add_test(chain, created_ek_equals_persisted_and_is_flushed);
	tcase_add_test(chain, ecc_p256_ek_created_when_none_persisted);
	tcase_add_test(chain, ak_survives_restart_and_reboot);
	suite_add_tcase(s, chain);

	tcase_add_test(plain, bad_tcti_is_tpm_error);
	suite_add_tcase(s, plain);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
