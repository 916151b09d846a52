/*
 * activation.h — the proof an agent returns after ActivateCredential, which
 * the verifier recomputes: HMAC-SHA256 keyed by the recovered secret over
 * the agent id. Shared so both sides compute it the same way.
 */
#ifndef ASSAY_ACTIVATION_H
#define ASSAY_ACTIVATION_H

#include <stddef.h>
#include <stdint.h>

#define ACTIVATION_PROOF_LEN	32

void	activation_proof(const uint8_t *secret, size_t len, const char *id,
	    uint8_t out[ACTIVATION_PROOF_LEN]);

#endif
