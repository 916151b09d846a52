/*
 * attest.h — TPM 2.0 wire structures of a quote and of a certification:
 * TPMS_ATTEST (quote and certify types),
 * TPMT_SIGNATURE, and signature verification with OpenSSL. Pure, no I/O.
 * Parsed structures point into the caller's input buffer.
 */
#ifndef ASSAY_ATTEST_H
#define ASSAY_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/evidence/pcr.h"

#define ATTEST_MAX_SIZE		2048	/* sane bound for a TPMS_ATTEST */
#define SIGNATURE_MAX_SIZE	1024

/* The header every TPMS_ATTEST has, whatever it attests. */
struct tpm2_attest_header {
	uint32_t		magic;
	uint16_t		type;
	struct cur		qualified_signer;	/* TPM2B_NAME body */
	struct cur		extra_data;		/* TPM2B_DATA body (nonce) */
	uint64_t		clock;
	uint32_t		reset_count;
	uint32_t		restart_count;
	uint8_t			safe;
	uint64_t		firmware_version;
};

struct tpm2_quote_info {
	struct tpm2_attest_header h;
	struct pcr_selection	pcr_select;
	struct cur		pcr_digest;		/* TPM2B_DIGEST body */
};

/*
 * Parse a TPMS_ATTEST (no TPM2B size prefix) whose attested field is a
 * TPMS_QUOTE_INFO. Magic and type are returned, not judged: the quote
 * checks decide. ASSAY_ERR_TRUNCATED/FORMAT/RANGE on malformed input,
 * ASSAY_ERR_UNSUPPORTED for another attestation type; trailing bytes are
 * an error.
 */
int	tpm2_attest_parse(const uint8_t *p, size_t n, struct tpm2_quote_info *out);

/* A TPMS_ATTEST of TPM2_Certify: the header and TPMS_CERTIFY_INFO. */
struct tpm2_certify_info {
	struct tpm2_attest_header h;
	struct cur		name;		/* TPM2B_NAME body: the object's Name */
	struct cur		qualified_name;	/* TPM2B_NAME body */
};

/*
 * Parse a TPMS_ATTEST whose attested field is a TPMS_CERTIFY_INFO. The
 * header is filled in even when the type is another (ASSAY_ERR_UNSUPPORTED);
 * malformed input as tpm2_attest_parse.
 */
int	tpm2_certify_parse(const uint8_t *p, size_t n, struct tpm2_certify_info *out);

struct tpm2_signature {
	uint16_t	sig_alg;	/* TPM2_ALG_RSASSA, RSAPSS, ECDSA */
	uint16_t	hash_alg;
	struct cur	rsa;		/* RSA signature bytes */
	struct cur	ecc_r, ecc_s;
};

int	tpm2_signature_parse(const uint8_t *p, size_t n, struct tpm2_signature *out);
/*
 * Verify sig over msg with key (RSA or EC). ASSAY_OK when valid, ASSAY_FAIL
 * when not (detail says why: wrong key type, scheme, hash or bad signature).
 */
int	tpm2_signature_verify(EVP_PKEY *key, const struct tpm2_signature *sig,
	    const uint8_t *msg, size_t n);

#endif
