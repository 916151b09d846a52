/*
 * quote_fixture.h — test helpers shared by test_attest, test_quote and the
 * quote benchmark: load a quote fixture from tests/data/quote/<name>, and
 * build + sign software TPMS_ATTEST structures with an in-test key so that
 * one field at a time can be made wrong. Header-only (static inline) so
 * that each test binary stays a single translation unit.
 */
#ifndef ASSAY_QUOTE_FIXTURE_H
#define ASSAY_QUOTE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/attest.h"
#include "common/evidence/pcr.h"
#include "common/evidence/quote.h"
#include "common/evidence/tpm2.h"

#ifndef QF_DATA_DIR
#define QF_DATA_DIR	"tests/data/quote"
#endif

/* Whole file into a new buffer; aborts the test binary if unreadable. */
static inline uint8_t *
qf_read(const char *dir, const char *file, size_t *len)
{
	char path[512];
	uint8_t *d = NULL;
	size_t cap = 0, n = 0, got;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", QF_DATA_DIR, dir, file);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			d = xreallocarray(d, cap, 1);
		}
		if ((got = fread(d + n, 1, cap - n, f)) == 0)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return d;
}

struct qf {
	uint8_t			*msg, *sig, *pcrs_raw, *name;
	size_t			 msg_len, sig_len, pcrs_len, name_len;
	uint8_t			 qname[TPM2_NAME_MAX];	/* AK qualified name */
	size_t			 qname_len;
	uint8_t			 nonce[64];
	size_t			 nonce_len;
	struct pcr_selection	 sel;
	struct pcr_values	 vals;
	EVP_PKEY		*ak;
	struct quote_expect	 ex;
	struct quote_evidence	 ev;
	struct quote_result	 res;
	struct verdict		 v;
};

/* QN of an AK whose parent is the primary key ek_pub (TPM2B_PUBLIC). */
static inline void
qf_qualified_name(const uint8_t *ek_pub, size_t ek_len, const uint8_t *ak_name,
    size_t ak_name_len, uint8_t *out, size_t *outlen)
{
	uint8_t ekname[TPM2_NAME_MAX], ekqn[TPM2_NAME_MAX], hier[4];
	size_t dlen, ekqn_len;
	struct cur c, t;
	uint16_t type, alg;

	cur_init(&c, ek_pub, ek_len);
	if (cur_tpm2b(&c, 1024, &t) != 0 || cur_u16be(&t, &type) != 0 ||
	    cur_u16be(&t, &alg) != 0)
		abort();
	ekname[0] = (uint8_t)(alg >> 8);
	ekname[1] = (uint8_t)alg;
	if (tpm2_hash(alg, ek_pub + 2, ek_len - 2, ekname + 2, &dlen) != 0)
		abort();
	tpm2_hierarchy_qn(TPM2_RH_ENDORSEMENT, hier);
	if (tpm2_qualified_name(hier, 4, ekname, 2 + dlen, ekqn, &ekqn_len) != 0 ||
	    tpm2_qualified_name(ekqn, ekqn_len, ak_name, ak_name_len, out,
	    outlen) != 0)
		abort();
}

/* Load fixture dir (ak.pem, ak.name, q.msg, q.sig, q.pcrs, nonce.hex). */
static inline struct qf *
qf_load(const char *dir)
{
	struct qf *f = xcalloc(1, sizeof(*f));
	uint8_t *pem, *hex, *ek;
	size_t pem_len, hex_len, ek_len;
	BIO *bio;

	f->msg = qf_read(dir, "q.msg", &f->msg_len);
	f->sig = qf_read(dir, "q.sig", &f->sig_len);
	f->pcrs_raw = qf_read(dir, "q.pcrs", &f->pcrs_len);
	f->name = qf_read(dir, "ak.name", &f->name_len);
	ek = qf_read(dir, "ek.pub", &ek_len);
	qf_qualified_name(ek, ek_len, f->name, f->name_len, f->qname,
	    &f->qname_len);
	free(ek);
	hex = qf_read(dir, "nonce.hex", &hex_len);
	while (hex_len > 0 && (hex[hex_len - 1] == '\n' || hex[hex_len - 1] == '\r'))
		hex_len--;
	hex = xreallocarray(hex, hex_len + 1, 1);
	hex[hex_len] = '\0';
	if (hex_decode((char *)hex, f->nonce, sizeof(f->nonce), &f->nonce_len) != 0)
		abort();
	free(hex);
	pem = qf_read(dir, "ak.pem", &pem_len);
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	f->ak = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(pem);
	if (f->ak == NULL)
		abort();
	if (pcr_tpm2tools_parse(f->pcrs_raw, f->pcrs_len, &f->sel, &f->vals) != 0)
		abort();
	f->ex.ak = f->ak;
	f->ex.ak_name = f->qname;
	f->ex.ak_name_len = f->qname_len;
	f->ex.nonce = f->nonce;
	f->ex.nonce_len = f->nonce_len;
	f->ex.sel = &f->sel;
	f->ev.attest = f->msg;
	f->ev.attest_len = f->msg_len;
	f->ev.sig = f->sig;
	f->ev.sig_len = f->sig_len;
	f->ev.pcrs = &f->vals;
	verdict_init(&f->v);
	return f;
}

static inline int
qf_verify(struct qf *f)
{
	verdict_init(&f->v);
	return quote_verify(&f->ev, &f->ex, &f->res, &f->v);
}

static inline void
qf_free(struct qf *f)
{
	if (f == NULL)
		return;
	free(f->msg);
	free(f->sig);
	free(f->pcrs_raw);
	free(f->name);
	EVP_PKEY_free(f->ak);
	free(f);
}

/* A software quote: every field of TPMS_ATTEST under the test's control. */
struct soft_quote {
	uint32_t		magic;
	uint16_t		type;
	uint8_t			signer[34];
	size_t			signer_len;
	uint8_t			nonce[32];
	size_t			nonce_len;
	uint64_t		clock;
	uint32_t		reset_count, restart_count;
	uint8_t			safe;
	uint64_t		firmware;
	struct pcr_selection	sel;
	struct pcr_values	vals;
	uint16_t		hash;		/* signing and pcrDigest hash */
};

static inline void
soft_quote_default(struct soft_quote *q)
{
	uint8_t d[32];
	unsigned i;

	memset(q, 0, sizeof(*q));
	q->magic = TPM2_GENERATED_VALUE;
	q->type = TPM2_ST_ATTEST_QUOTE;
	q->signer[0] = 0x00;
	q->signer[1] = 0x0b;
	for (i = 2; i < 34; i++)
		q->signer[i] = (uint8_t)i;
	q->signer_len = 34;
	for (i = 0; i < 20; i++)
		q->nonce[i] = (uint8_t)(0xa0 + i);
	q->nonce_len = 20;
	q->clock = 100000;
	q->reset_count = 5;
	q->restart_count = 2;
	q->safe = 1;
	q->firmware = 0x2019102300163636ULL;
	q->hash = TPM2_ALG_SHA256;
	q->sel.n = 1;
	q->sel.bank[0].hash = TPM2_ALG_SHA256;
	q->sel.bank[0].mask = 0x7ff;	/* 0-10 */
	pcr_values_init(&q->vals);
	for (i = 0; i < 11; i++) {
		memset(d, (int)(0x10 + i), sizeof(d));
		pcr_values_set(&q->vals, TPM2_ALG_SHA256, i, d, sizeof(d));
	}
}

/* TPMS_ATTEST bytes for q (pcrDigest computed from q->vals). */
static inline uint8_t *
soft_quote_attest(const struct soft_quote *q, size_t *len)
{
	uint8_t dig[TPM2_MAX_DIGEST];
	size_t dlen = 0;
	struct buf b;

	if (pcr_values_digest(&q->vals, &q->sel, q->hash, dig, &dlen) != 0)
		abort();
	buf_init(&b);
	buf_put_u32be(&b, q->magic);
	buf_put_u16be(&b, q->type);
	buf_put_tpm2b(&b, q->signer, q->signer_len);
	buf_put_tpm2b(&b, q->nonce, q->nonce_len);
	buf_put_u64be(&b, q->clock);
	buf_put_u32be(&b, q->reset_count);
	buf_put_u32be(&b, q->restart_count);
	buf_put_u8(&b, q->safe);
	buf_put_u64be(&b, q->firmware);
	pcr_selection_marshal(&q->sel, &b);
	buf_put_tpm2b(&b, dig, dlen);
	return buf_steal(&b, len);
}

static inline EVP_PKEY *
soft_key_ec(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		abort();
	return k;
}

static inline EVP_PKEY *
soft_key_rsa(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);

	if (k == NULL)
		abort();
	return k;
}

/*
 * TPMT_SIGNATURE over msg: ECDSA for EC keys, RSASSA or RSAPSS (with the
 * given salt length) for RSA keys.
 */
static inline uint8_t *
soft_sign(EVP_PKEY *key, uint16_t scheme, uint16_t hash, int saltlen,
    const uint8_t *msg, size_t n, size_t *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t raw[1024], rb[66], sb[66];
	const unsigned char *p;
	const BIGNUM *r, *s;
	ECDSA_SIG *es;
	size_t rawlen = sizeof(raw);
	int rl, sl;
	struct buf b;

	if (EVP_DigestSignInit(ctx, &pctx, tpm2_hash_md(hash), NULL, key) != 1)
		abort();
	if (scheme == TPM2_ALG_RSAPSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) != 1))
		abort();
	if (EVP_DigestSign(ctx, raw, &rawlen, msg, n) != 1)
		abort();
	EVP_MD_CTX_free(ctx);
	buf_init(&b);
	buf_put_u16be(&b, scheme);
	buf_put_u16be(&b, hash);
	if (scheme == TPM2_ALG_ECDSA) {
		p = raw;
		if ((es = d2i_ECDSA_SIG(NULL, &p, (long)rawlen)) == NULL)
			abort();
		ECDSA_SIG_get0(es, &r, &s);
		/* TPMs send fixed-width, left-padded coordinates */
		rl = BN_bn2binpad(r, rb, 32);
		sl = BN_bn2binpad(s, sb, 32);
		if (rl != 32 || sl != 32)
			abort();
		buf_put_tpm2b(&b, rb, 32);
		buf_put_tpm2b(&b, sb, 32);
		ECDSA_SIG_free(es);
	} else
		buf_put_tpm2b(&b, raw, rawlen);
	return buf_steal(&b, len);
}

#endif
