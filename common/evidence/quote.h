/*
 * quote.h — verification of one TPM2 quote against what the verifier asked
 * for: AK signature, magic, type, nonce, signer name, quoted PCR selection,
 * PCR digest over the reported values, clock monotonicity for this AK.
 * Pure: bytes in, verdict out.
 */
#ifndef ASSAY_QUOTE_H
#define ASSAY_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/evidence/attest.h"
#include "common/evidence/pcr.h"
#include "common/evidence/verdict.h"

struct clock_state {
	int		valid;		/* 0: no earlier quote of this AK */
	uint64_t	clock;
	uint32_t	reset_count;
	uint32_t	restart_count;
	uint64_t	firmware_version;
};

struct quote_expect {
	EVP_PKEY			*ak;		/* enrolled AK public key */
	/*
	 * Optional: compared with qualifiedSigner. NB this is the AK's
	 * QUALIFIED name, not its Name (see tpm2_qualified_name).
	 */
	const uint8_t			*ak_name;
	size_t				 ak_name_len;
	const uint8_t			*nonce;
	size_t				 nonce_len;
	const struct pcr_selection	*sel;		/* requested selection; NULL: any */
	const struct clock_state	*prev;		/* last accepted quote of this AK, or NULL */
};

struct quote_evidence {
	const uint8_t		*attest;	/* TPMS_ATTEST wire bytes */
	size_t			 attest_len;
	const uint8_t		*sig;		/* TPMT_SIGNATURE wire bytes */
	size_t			 sig_len;
	const struct pcr_values	*pcrs;		/* values the agent reported */
};

struct quote_result {
	struct clock_state	clock;		/* to store when the round is accepted */
	int			rebooted;	/* resetCount changed: notice tpm.reboot */
};

/*
 * Run every quote check; each failing check adds its own failure id to v
 * (quote.format, quote.signature, quote.magic, quote.type, quote.nonce,
 * quote.signer, quote.pcr_select, quote.pcr_digest, quote.clock), a reboot
 * adds the notice tpm.reboot, a firmwareVersion change the notice
 * tpm.firmware. v must have been set up with verdict_init(); items are
 * appended. PCR digest uses the signature's hash (as TPM2_Quote does) over
 * ev->pcrs for the quoted selection. Returns ASSAY_OK when no check failed,
 * ASSAY_FAIL otherwise.
 */
int	quote_verify(const struct quote_evidence *ev, const struct quote_expect *ex,
	    struct quote_result *res, struct verdict *v);

#endif
