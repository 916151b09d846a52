/*
 * certify.h — verification of a TPM2_Certify of a host identity key by
 * the AK, checked like a quote: AK signature (not SHA-1), magic, type,
 * this round's nonce in extraData, the AK as qualifiedSigner, the
 * certified Name equal to the Name of the public area sent with it, and
 * the key's attributes (made in this TPM, unable to leave it, signing,
 * unrestricted). Pure: bytes in, verdict out.
 */
#ifndef ASSAY_CERTIFY_H
#define ASSAY_CERTIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/evidence/tpm_public.h"
#include "common/evidence/verdict.h"

struct certify_evidence {
	const uint8_t	*pub;		/* the key's TPM2B_PUBLIC wire bytes */
	size_t		 pub_len;
	const uint8_t	*attest;	/* TPMS_ATTEST wire bytes */
	size_t		 attest_len;
	const uint8_t	*sig;		/* TPMT_SIGNATURE wire bytes */
	size_t		 sig_len;
};

struct certify_expect {
	EVP_PKEY	*ak;		/* enrolled AK public key */
	const uint8_t	*ak_name;	/* the AK's Qualified Name, or NULL */
	size_t		 ak_name_len;
	const uint8_t	*nonce;		/* this round's nonce */
	size_t		 nonce_len;
};

/*
 * Run every check; each failing one adds its failure id to v
 * (identity.format, .signature, .nonce, .signer, .name, .key). On
 * ASSAY_OK *key holds the parsed key (caller frees with
 * tpm2_public_free); on ASSAY_FAIL it is empty.
 */
int	certify_verify(const struct certify_evidence *ev,
	    const struct certify_expect *ex, struct tpm2_public *key,
	    struct verdict *v);

#endif
