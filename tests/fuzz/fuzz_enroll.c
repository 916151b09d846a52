/*
 * fuzz_enroll.c — libFuzzer harness for the enrollment messages: the
 * bytes go through the bounded JSON loader every route uses, then through
 * each of the three parsers (registration request, credential answer,
 * activation proof). A request that parses is encoded again and must
 * parse back to the same fields.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/evidence/enroll.h"
#include "common/http.h"

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
