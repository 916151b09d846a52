/*
 * activation.c — the credential-activation proof (HMAC-SHA256).
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/activation.h"
#include "common/log.h"

void
activation_proof(const uint8_t *secret, size_t len, const char *id,
    uint8_t out[ACTIVATION_PROOF_LEN])
{
	unsigned int olen = ACTIVATION_PROOF_LEN;

	if (HMAC(EVP_sha256(), secret, (int)len, (const unsigned char *)id,
	    strlen(id), out, &olen) == NULL)
		fatalx("HMAC-SHA256 failed");
}
