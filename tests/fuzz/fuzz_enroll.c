/*
 * fuzz_enroll.c — libFuzzer harness for enrollment as the verifier takes
 * it from a certificate holder: the bytes go through the bounded JSON
 * loader every route uses, then through each of the three parsers
 * (registration request, credential answer, activation proof). A request
 * that parses is encoded again and must parse back to the same fields,
 * then its fields are checked as api_register checks them: the EK and AK
 * publics parsed, the EK certificate and chain verified against a trust
 * store (an EK allowlist naming the seed corpus's RSA EK), the AK
 * checked, and a credential made for the EK.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/proto/enroll.h"
#include "common/evidence/tpm_public.h"
#include "common/fileio.h"
#include "common/http.h"
#include "verifier/registrar.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static void
round_trip(const struct enroll_register *q)
{
	struct enroll_register back;
	json_t *o = enroll_register_encode(q);

	if (enroll_register_parse(o, &back) != 0)
		abort();
	if (strcmp(back.id, q->id) != 0 ||
	    (back.address == NULL) != (q->address == NULL) ||
	    (q->address != NULL && strcmp(back.address, q->address) != 0) ||
	    !same_bytes(back.ek_pub, back.ek_pub_len, q->ek_pub, q->ek_pub_len) ||
	    !same_bytes(back.ak_pub, back.ak_pub_len, q->ak_pub, q->ak_pub_len) ||
	    !same_bytes(back.ek_cert, back.ek_cert_len, q->ek_cert,
	    q->ek_cert_len) || back.nchain != q->nchain)
		abort();
	for (size_t i = 0; i < q->nchain; i++)
		if (!same_bytes(back.chain[i], back.chain_len[i], q->chain[i],
		    q->chain_len[i]))
			abort();
	enroll_register_free(&back);
	json_decref(o);
}

static struct ek_trust *trust;

/* The allowlist: the hash of tests/data/tpm_public/ek-rsa.pub. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/fuzz-enroll-XXXXXX", *hex;
	uint8_t *ek = NULL;
	size_t len = 0;
	FILE *f;
	int fd;

	(void)argc; (void)argv;
	if (file_read_all("tests/data/tpm_public/ek-rsa.pub", 4096, &ek,
	    &len) != 0 || (hex = ek_pub_hash_hex(ek, len)) == NULL ||
	    (fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		abort();
	fprintf(f, "%s\n", hex);
	fclose(f);
	if (ek_trust_load(NULL, path, &trust) != 0)
		abort();
	unlink(path);
	free(hex);
	free(ek);
	return 0;
}

/* What api_register does with a request that parses. */
static void
register_checks(const struct enroll_register *q)
{
	struct tpm2_public ek, ak;
	uint8_t secret[32] = { 1 }, *cred = NULL, *enc = NULL;
	size_t cred_len, enc_len;

	if (tpm2_public_parse(q->ek_pub, q->ek_pub_len, &ek) != 0)
		return;
	(void)ek_verify(trust, &ek, q->ek_cert, q->ek_cert_len,
	    (const uint8_t *const *)q->chain, q->chain_len, q->nchain);
	if (tpm2_public_parse(q->ak_pub, q->ak_pub_len, &ak) == 0) {
		(void)tpm2_public_check_ak(&ak);
		if (make_credential(&ek, ak.name, ak.name_len, secret,
		    sizeof(secret), &cred, &cred_len, &enc, &enc_len) == 0) {
			if (cred_len == 0 || enc_len == 0)
				abort();
			free(cred);
			free(enc);
		}
		tpm2_public_free(&ak);
	}
	tpm2_public_free(&ek);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enroll_register q;
	struct enroll_credential c;
	uint8_t proof[ENROLL_PROOF_LEN];
	json_t *j = NULL;
	char msg[256];

	if (http_json_load(data, size, &j, msg, sizeof(msg)) != 0)
		return 0;
	if (enroll_register_parse(j, &q) == 0) {
		if (!enroll_id_valid(q.id) || q.ek_pub == NULL || q.ak_pub == NULL)
			abort();
		round_trip(&q);
		register_checks(&q);
		enroll_register_free(&q);
	}
	if (enroll_credential_parse(j, &c) == 0) {
		if (c.cred == NULL || c.secret == NULL)
			abort();
		enroll_credential_free(&c);
	}
	(void)enroll_proof_parse(j, proof);
	json_decref(j);
	return 0;
}
