/*
 * fuzz_ima_sig.c — libFuzzer harness for ima_sig_parse() and
 * ima_sig_verify(): arbitrary bytes as a security.ima signature, verified
 * over a fixed sha256 digest with fixed RSA-2048 and EC P-256 keys made
 * once; also ima_key_load() on the same bytes (PEM/DER key parsing).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/evidence/ima_sig.h"
#include "common/evidence/tpm2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *rsa, *ec;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t digest[64] = { 0x66, 0x7b, 0xf2 };
	struct ima_key k;
	struct ima_sig s;

	if (rsa == NULL) {
		rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	}
	if (ima_sig_parse(data, size, &s) == 0) {
		(void)ima_sig_verify(&s, rsa, s.dalg, digest,
		    s.dalg == TPM2_ALG_SHA1 ? 20 : 32);
		(void)ima_sig_verify(&s, ec, TPM2_ALG_SHA256, digest, 32);
	}
	if (ima_key_load(data, size, &k) == 0)
		ima_key_clear(&k);
	return 0;
}
