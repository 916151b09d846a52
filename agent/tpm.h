/*
 * tpm.h — everything the agent asks of its TPM, through ESAPI: the EK
 * (persistent or created from the TCG default template) and its
 * certificate(s) from NV, the AK (restricted signing key under the EK,
 * persisted), quotes with PCR values consistent with the quote's digest,
 * and credential activation. Each call opens the TCTI, does its work,
 * flushes every transient handle and session, and closes the TCTI: the TPM
 * is never held open between requests.
 */
#ifndef ASSAY_AGENT_TPM_H
#define ASSAY_AGENT_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "common/evidence/pcr.h"

struct tpm_cfg {
	const char	*tcti;		/* "device:/dev/tpmrm0", "swtpm:path=..." */
	uint16_t	 ek_alg;	/* TPM2_ALG_RSA (default) or TPM2_ALG_ECC */
	uint16_t	 ak_alg;	/* TPM2_ALG_ECC (default, P-256) or TPM2_ALG_RSA */
	uint32_t	 ak_handle;	/* persistent handle, 0: TPM_AK_HANDLE_DEFAULT */
};

/*
 * 0x81010020: not 0x81010002, which the TCG reserves for the ECC P-256 EK.
 * EKs are taken from 0x81010001 (RSA-2048), 0x81010002 (ECC P-256) or
 * 0x81010016 (the ECC P-384 EK swtpm_setup persists) when they fit the
 * profile, else created from the TCG default template (RSA-2048 / P-256).
 */
#define TPM_AK_HANDLE_DEFAULT	0x81010020u

#define TPM_EK_CHAIN_MAX	8

struct tpm_identity {
	uint8_t	*ek_pub;		/* TPM2B_PUBLIC wire bytes */
	size_t	 ek_pub_len;
	uint8_t	*ek_cert;		/* DER, NULL when the TPM has none */
	size_t	 ek_cert_len;
	uint8_t	*chain[TPM_EK_CHAIN_MAX];	/* DER intermediates from NV, if any */
	size_t	 chain_len[TPM_EK_CHAIN_MAX];
	size_t	 nchain;
	uint8_t	*ak_pub;		/* TPM2B_PUBLIC wire bytes */
	size_t	 ak_pub_len;
	uint8_t	 ak_name[2 + 64];
	size_t	 ak_name_len;
};

/* Load (or create and persist) EK and AK. */
int	tpm_identity_load(const struct tpm_cfg *cfg, struct tpm_identity *out);
void	tpm_identity_free(struct tpm_identity *id);

/*
 * Quote sel with the AK over nonce; PCR values read before and after the
 * quote must agree with the quoted digest (retried on a race, then
 * ASSAY_ERR_BUSY). Outputs are TPMS_ATTEST and TPMT_SIGNATURE wire bytes.
 */
int	tpm_quote(const struct tpm_cfg *cfg, const uint8_t *nonce, size_t nonce_len,
	    const struct pcr_selection *sel, uint8_t **attest, size_t *attest_len,
	    uint8_t **sig, size_t *sig_len, struct pcr_values *pcrs);

/*
 * ActivateCredential of the AK with the EK: cred is TPM2B_ID_OBJECT and
 * secret TPM2B_ENCRYPTED_SECRET wire bytes (size prefixes included).
 * *out is the recovered secret (caller wipes and frees).
 */
int	tpm_activate(const struct tpm_cfg *cfg, const uint8_t *cred, size_t cred_len,
	    const uint8_t *secret, size_t secret_len, uint8_t **out, size_t *out_len);

int	tpm_pcr_read(const struct tpm_cfg *cfg, const struct pcr_selection *sel,
	    struct pcr_values *out);
/* Extend pcr in n banks: algs[i] with digests[i] (the bank's size). */
int	tpm_pcr_extend(const struct tpm_cfg *cfg, unsigned pcr, const uint16_t *algs,
	    const uint8_t *const *digests, size_t n);
/*
 * count extends of pcr on one TPM connection, each in the n banks algs:
 * digests holds, per extend, each bank's digest in algs order (packed).
 * For tools that replay many measurements (the tests' IMA stand-in).
 */
int	tpm_pcr_extend_seq(const struct tpm_cfg *cfg, unsigned pcr,
	    const uint16_t *algs, size_t n, const uint8_t *digests, size_t count);

/*
 * The host identity key (tpm_ident.c): its wire TPM2B_PUBLIC and
 * TPM2B_PRIVATE (the TPM-wrapped blob, useless without this TPM) and the
 * persistent storage key it lives under.
 */
struct tpm_idkey {
	uint8_t		*pub;
	size_t		 pub_len;
	uint8_t		*priv;
	size_t		 priv_len;
	uint32_t	 parent;
	int		 empty_auth;
};

void	tpm_idkey_free(struct tpm_idkey *k);	/* wipes priv; NULL-safe */

#define TPM_IDKEY_PARENT_DEFAULT	0x81000001u	/* the TCG's SRK handle */

/*
 * Make a new identity key under parent (the storage key persisted there,
 * made from the TCG ECC P-256 SRK template when the handle is empty).
 */
int	tpm_ident_create(const struct tpm_cfg *cfg, uint32_t parent,
	    uint8_t **pub, size_t *pub_len, uint8_t **priv, size_t *priv_len);
/* TPM2_Certify of k by the AK over nonce: TPMS_ATTEST, TPMT_SIGNATURE. */
int	tpm_ident_certify(const struct tpm_cfg *cfg, const struct tpm_idkey *k,
	    const uint8_t *nonce, size_t nonce_len, uint8_t **attest,
	    size_t *attest_len, uint8_t **sig, size_t *sig_len);

#endif
