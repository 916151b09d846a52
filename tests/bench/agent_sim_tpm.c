/*
 * agent_sim_tpm.c — the agent_sim bench's software TPM: per-agent P-256
 * EK and AK (TPM2B_PUBLIC, the AK's qualified name under the EK), the
 * fleet's fixed PCR values, and the quote (TPMS_ATTEST signed by the AK)
 * and evidence document an agent answers a nonce and selection with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/tpm_public.h"
#include "tests/unit/quote_fixture.h"
#include "tests/bench/agent_sim.h"

/* The TCG EK template's authPolicy: PolicySecret(TPM_RH_ENDORSEMENT). */
static const uint8_t ek_policy[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

/* TPM2B_PUBLIC of a P-256 key: an AK (ECDSA-SHA256 signer) or an EK. */
static uint8_t *
ecc_public(EVP_PKEY *k, int ek, size_t *len)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t bx[32], by[32];
	struct buf t, o;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
	    BN_bn2binpad(x, bx, 32) != 32 || BN_bn2binpad(y, by, 32) != 32)
		abort();
	BN_free(x);
	BN_free(y);
	buf_init(&t);
	buf_put_u16be(&t, TPM2_ALG_ECC);
	buf_put_u16be(&t, TPM2_ALG_SHA256);
	if (ek) {
		buf_put_u32be(&t, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
		    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
		buf_put_tpm2b(&t, ek_policy, sizeof(ek_policy));
		buf_put_u16be(&t, TPM2_ALG_AES);	/* symmetric */
		buf_put_u16be(&t, 128);
		buf_put_u16be(&t, TPM2_ALG_CFB);
		buf_put_u16be(&t, TPM2_ALG_NULL);	/* scheme */
	} else {
		buf_put_u32be(&t, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
		    TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
		    TPMA_OBJECT_SIGN_ENCRYPT);
		buf_put_tpm2b(&t, NULL, 0);
		buf_put_u16be(&t, TPM2_ALG_NULL);	/* symmetric */
		buf_put_u16be(&t, TPM2_ALG_ECDSA);	/* scheme */
		buf_put_u16be(&t, TPM2_ALG_SHA256);
	}
	buf_put_u16be(&t, TPM2_ECC_NIST_P256);
	buf_put_u16be(&t, TPM2_ALG_NULL);		/* kdf */
	buf_put_tpm2b(&t, bx, 32);
	buf_put_tpm2b(&t, by, 32);
	buf_init(&o);
	buf_put_tpm2b(&o, t.d, t.len);
	buf_free(&t);
	return buf_steal(&o, len);
}

void
sim_agent_keys(struct sim_agent *a)
{
	struct tpm2_public ek, ak;
	EVP_PKEY *ekk = soft_key_ec();

	a->ak = soft_key_ec();
	a->ak_pub = ecc_public(a->ak, 0, &a->ak_pub_len);
	a->ek_pub = ecc_public(ekk, 1, &a->ek_pub_len);
	EVP_PKEY_free(ekk);
	if (tpm2_public_parse(a->ek_pub, a->ek_pub_len, &ek) != 0 ||
	    tpm2_public_parse(a->ak_pub, a->ak_pub_len, &ak) != 0 ||
	    tpm2_public_check_ak(&ak) != 0 ||
	    tpm2_ak_qualified_name(&ek, &ak, a->qn, &a->qn_len) != 0) {
		fprintf(stderr, "agent_sim: software keys: %s\n", assay_err_detail());
		exit(1);
	}
	tpm2_public_free(&ek);
	tpm2_public_free(&ak);
}

void
sim_values(struct sim *s)
{
	static const uint16_t banks[] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256,
	    TPM2_ALG_SHA384 };
	uint8_t d[TPM2_MAX_DIGEST];

	pcr_values_init(&s->vals);
	for (size_t b = 0; b < sizeof(banks) / sizeof(banks[0]); b++) {
		const struct tpm2_hash *h = tpm2_hash_by_alg(banks[b]);

		for (unsigned i = 0; i < TPM2_PCR_COUNT; i++) {
			memset(d, (int)(0x40 + i), h->size);
			if (pcr_values_set(&s->vals, banks[b], i, d, h->size) != 0)
				abort();
		}
	}
}

/* TPMS_ATTEST for one quote of agent a. */
static uint8_t *
attest_build(struct sim_agent *a, const uint8_t *nonce, size_t nonce_len,
    const struct pcr_selection *sel, size_t *len)
{
	uint8_t dig[TPM2_MAX_DIGEST];
	uint64_t ms = (uint64_t)((sim_now() - a->sim->t0) * 1000.0) + 1000;
	size_t dlen = 0;
	struct buf b;

	if (pcr_values_digest(&a->sim->vals, sel, TPM2_ALG_SHA256, dig,
	    &dlen) != 0)
		return NULL;
	a->clock = ms > a->clock ? ms : a->clock + 1;
	buf_init(&b);
	buf_put_u32be(&b, TPM2_GENERATED_VALUE);
	buf_put_u16be(&b, TPM2_ST_ATTEST_QUOTE);
	buf_put_tpm2b(&b, a->qn, a->qn_len);
	buf_put_tpm2b(&b, nonce, nonce_len);
	buf_put_u64be(&b, a->clock);		/* clockInfo */
	buf_put_u32be(&b, 1);			/* resetCount */
	buf_put_u32be(&b, 0);			/* restartCount */
	buf_put_u8(&b, 1);			/* safe */
	buf_put_u64be(&b, 0x2019102300163636ULL);	/* firmwareVersion */
	pcr_selection_marshal(sel, &b);
	buf_put_tpm2b(&b, dig, dlen);
	return buf_steal(&b, len);
}

/*
 * The evidence document agent a answers a quote request with (nonce and
 * selection): what GET /v1/quote answers, and what a push agent posts.
 * 0, or -1 for a bank not simulated.
 */
int
sim_evidence(struct sim_agent *a, const uint8_t *nonce, size_t nonce_len,
    const struct pcr_selection *sel, struct evidence_doc *d)
{
	for (size_t i = 0; i < sel->n; i++)
		for (unsigned p = 0; p < TPM2_PCR_COUNT; p++) {
			const uint8_t *v;

			if ((sel->bank[i].mask & (1u << p)) == 0)
				continue;
			if ((v = pcr_values_get(&a->sim->vals, sel->bank[i].hash,
			    p)) == NULL)
				return -1;
			(void)pcr_values_set(&d->pcrs, sel->bank[i].hash, p, v,
			    tpm2_hash_by_alg(sel->bank[i].hash)->size);
		}
	if ((d->attest = attest_build(a, nonce, nonce_len, sel,
	    &d->attest_len)) == NULL)
		return -1;
	d->sig = soft_sign(a->ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256, 0, d->attest,
	    d->attest_len, &d->sig_len);
	return 0;
}
