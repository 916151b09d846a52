/*
 * tpm_public.h — TPM2B_PUBLIC / TPMT_PUBLIC: parse RSA and ECC keys into
 * an OpenSSL EVP_PKEY, compute the object Name (nameAlg || H(TPMT_PUBLIC)),
 * and judge AK attributes. Pure, no I/O.
 */
#ifndef ASSAY_TPM_PUBLIC_H
#define ASSAY_TPM_PUBLIC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/evidence/tpm2.h"

#define TPM_PUBLIC_MAX_SIZE	1024
#define TPM_PUBLIC_RSA_MAX	512	/* modulus bytes (RSA-4096) */
#define TPM_PUBLIC_ECC_MAX	66	/* coordinate bytes (P-521) */

struct tpm2_public {
	uint16_t	type;		/* TPM2_ALG_RSA or TPM2_ALG_ECC */
	uint16_t	name_alg;
	uint32_t	attributes;	/* TPMA_OBJECT */
	uint16_t	sym_alg;	/* parameters.symmetric.algorithm */
	uint16_t	sym_bits;
	uint16_t	scheme;		/* parameters.scheme.scheme */
	uint16_t	scheme_hash;
	uint16_t	key_bits;	/* RSA */
	uint32_t	exponent;	/* RSA, 0 on the wire already mapped to 65537 */
	uint16_t	curve;		/* ECC: TPM2_ECC_NIST_* */
	size_t		policy_len;
	uint8_t		policy[TPM2_MAX_DIGEST];
	EVP_PKEY	*pkey;		/* owned */
	uint8_t		name[2 + TPM2_MAX_DIGEST];
	size_t		name_len;
	/* ECC: unique.x exactly as on the wire (KDFe PartyVInfo). */
	uint8_t		ecc_x[TPM_PUBLIC_ECC_MAX];
	size_t		ecc_x_len;
	/* The TPMT_PUBLIC bytes as parsed (what the Name hashes). */
	uint8_t		tpmt[TPM_PUBLIC_MAX_SIZE];
	size_t		tpmt_len;
};

/* Parse TPM2B_PUBLIC (u16 size prefix) — exactly n bytes, no trailing data. */
int	tpm2_public_parse(const uint8_t *p, size_t n, struct tpm2_public *out);
/* Same, for a bare TPMT_PUBLIC. */
int	tpm2_public_parse_tpmt(const uint8_t *p, size_t n, struct tpm2_public *out);
void	tpm2_public_free(struct tpm2_public *pub);	/* frees pkey; struct not freed */
/*
 * ASSAY_OK when the key is a usable attestation key: fixedTPM, fixedParent,
 * sensitiveDataOrigin, restricted, sign set; decrypt clear; nameAlg known;
 * RSA >= 2048 or ECC P-256/P-384. ASSAY_FAIL with detail naming the
 * offending attribute otherwise.
 */
int	tpm2_public_check_ak(const struct tpm2_public *pub);
/*
 * ASSAY_OK when the key is usable as a host identity key: fixedTPM,
 * fixedParent, sensitiveDataOrigin, sign set; restricted and decrypt
 * clear; nameAlg known and not SHA-1; RSA >= 2048 or ECC P-256/P-384.
 * ASSAY_FAIL with detail naming what is wrong otherwise.
 */
int	tpm2_public_check_identity(const struct tpm2_public *pub);
/*
 * Compare an OpenSSL public key (e.g. from an EK certificate) with pub:
 * ASSAY_OK when equal, ASSAY_FAIL when not (or key is NULL).
 */
int	tpm2_public_matches(const struct tpm2_public *pub, EVP_PKEY *key);
/* OpenSSL group name for a TPM curve ("prime256v1"), NULL if unknown. */
const char *tpm2_curve_group(uint16_t curve, size_t *coord_len);

/*
 * The Qualified Name a quote's qualifiedSigner carries for an AK created
 * under the EK (endorsement hierarchy): H(QN(EK) || Name(AK)) with
 * QN(EK) = H(TPM_RH_ENDORSEMENT || Name(EK)). out holds TPM2_NAME_MAX bytes.
 */
int	tpm2_ak_qualified_name(const struct tpm2_public *ek, const struct tpm2_public *ak,
	    uint8_t *out, size_t *outlen);

#endif
