/*
 * activation.c — the credential-activation proof (HMAC-SHA256) and the
 * EK-derived agent id.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/activation.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/xmalloc.h"

void
activation_proof(const uint8_t *secret, size_t len, const char *id,
    uint8_t out[ACTIVATION_PROOF_LEN])
{
	unsigned int olen = ACTIVATION_PROOF_LEN;

	if (HMAC(EVP_sha256(), secret, (int)len, (const unsigned char *)id,
	    strlen(id), out, &olen) == NULL)
		fatalx("HMAC-SHA256 failed");
}

char *
activation_ek_id(const uint8_t *ek_pub, size_t len)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char *hex, *s;

	SHA256(ek_pub, len, h);
	hex = hex_encode(h, 16);
	s = xasprintf("ek-%s", hex);
	free(hex);
	return s;
}
