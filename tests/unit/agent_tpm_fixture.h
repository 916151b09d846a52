/*
 * agent_tpm_fixture.h — shared by test_agent_tpm*.c: a private swtpm
 * (tests/lib/swtpm.sh, EK cert from a test CA made by the fixture), and
 * independent checks built on the TSS marshalling and OpenSSL only: key
 * from TPM2B_PUBLIC, TPMT_SIGNATURE verification, pcrDigest, qualified
 * names, tpm2_makecredential. Set ASSAY_SRCDIR when not run from the top
 * of the source tree.
 */
#ifndef ASSAY_TEST_AGENT_TPM_FIXTURE_H
#define ASSAY_TEST_AGENT_TPM_FIXTURE_H

#define FIXTURE static __attribute__((unused))

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
/* noDA: unclean shutdowns must not lock a host out of attestation. */
#define AK_ATTRS	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT)

static char lib[PATH_MAX];
static char tdir[256];
static char tcti[320];

static int
sh(const char *fmt, ...) __attribute__((unused))
    __attribute__((format(printf, 1, 2)));

FIXTURE int
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
FIXTURE void
capture(char *out, size_t outlen, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	pclose(f);
}

FIXTURE double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

FIXTURE void
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

FIXTURE void
tpm_down(void)
{
	if (tdir[0] != '\0')
		(void)sh("swtpm_stop %s; rm -rf '%s'", tdir, tdir);
	tdir[0] = '\0';
}

FIXTURE struct tpm_cfg
cfg_default(void)
{
	struct tpm_cfg c = { .tcti = tcti };

	return c;
}

FIXTURE struct tpm_identity
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

FIXTURE void
unmarshal_pub(const uint8_t *p, size_t n, TPM2B_PUBLIC *pub)
{
	size_t off = 0;

	memset(pub, 0, sizeof(*pub));
	ck_assert_int_eq(Tss2_MU_TPM2B_PUBLIC_Unmarshal(p, n, &off, pub), 0);
	ck_assert_uint_eq(off, n);
}

/* OpenSSL key from TPM2B_PUBLIC bytes, built here, not by the agent. */
FIXTURE EVP_PKEY *
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
FIXTURE int
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

FIXTURE void
sel_set(struct pcr_selection *sel, size_t i, uint16_t hash, uint32_t mask)
{
	sel->bank[i].hash = hash;
	sel->bank[i].mask = mask;
	if (sel->n < i + 1)
		sel->n = i + 1;
}

/* sha256:0-7,10 (9 PCRs: more than one PCR_Read) + sha1:10 */
FIXTURE struct pcr_selection
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

/* Quote with c's AK (loaded or created first: tests run in any order). */
FIXTURE void
quote(const struct tpm_cfg *c, const struct pcr_selection *sel,
    struct quote *q)
{
	struct tpm_identity id = load(c);
	double t0;
	int r;

	tpm_identity_free(&id);
	memset(q, 0, sizeof(*q));
	RAND_bytes(q->nonce, sizeof(q->nonce));
	t0 = now_ms();
	r = tpm_quote(c, q->nonce, sizeof(q->nonce), sel, &q->attest,
	    &q->attest_len, &q->sig, &q->sig_len, &q->pcrs);
	ck_assert_msg(r == ASSAY_OK, "tpm_quote: %s: %s", assay_strerror(r),
	    assay_err_detail());
	fprintf(stderr, "timing: quote %.1f ms\n", now_ms() - t0);
}

FIXTURE void
quote_free(struct quote *q)
{
	free(q->attest);
	free(q->sig);
}

FIXTURE void
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

FIXTURE void
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

/* QN = nameAlg || SHA-256(parent QN || Name), for sha256 objects. */
FIXTURE void
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
FIXTURE void
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

/* tpm2_makecredential's file: u32 magic, u32 version, two TPM2Bs. */
FIXTURE void
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

FIXTURE void
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

#endif
