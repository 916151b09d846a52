/*
 * fuzz_audit_rec.c — libFuzzer harness for what `assayctl audit verify`
 * reads from an export file: audit_rec_parse (the record and its hash),
 * the chain check, and for any JSON object audit_round_job (a round's
 * inputs and evidence back into a job), run and compared like a re-run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "common/appraise/audit_round.h"
#include "common/appraise/verify.h"
#include "common/proto/audit_rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_chain c;
	struct verify_job *j = NULL;
	json_t *o = NULL;

	if (audit_rec_parse((const char *)data, size, &o) == 0) {
		audit_chain_init(&c);
		(void)audit_chain_add(&c, o);
		(void)audit_chain_head(&c, c.seq, c.hash);
		json_decref(o);
	}
	if ((o = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	if (audit_round_job(o, NULL, &j) == 0) {
		verify_run(j);
		(void)audit_round_compare(o, j);
		verify_job_free(j);
	}
	json_decref(o);
	return 0;
}
