/*
 * activation.h — the proof an agent returns after ActivateCredential, which
 * the verifier recomputes: HMAC-SHA256 keyed by the recovered secret over
 * the agent id; and the id an agent takes from its EK when none is
 * configured. Shared so both sides compute them the same way.
 */
#ifndef ASSAY_ACTIVATION_H
#define ASSAY_ACTIVATION_H

#include <stddef.h>
#include <stdint.h>

#define ACTIVATION_PROOF_LEN	32

void	activation_proof(const uint8_t *secret, size_t len, const char *id,
	    uint8_t out[ACTIVATION_PROOF_LEN]);

/*
 * "ek-" and the first 16 bytes of SHA-256 over the EK's TPM2B_PUBLIC as
 * sent at registration, in lowercase hex; caller frees.
 */
char	*activation_ek_id(const uint8_t *ek_pub, size_t len);

#endif
