/*
 * fuzz_policy.c — libFuzzer harness for policy_compile(): arbitrary bytes
 * as YAML/JSON policy text; a compiled policy is exercised (selection,
 * PCR check against empty values) and released.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/evidence/pcr.h"
#include "common/evidence/verdict.h"
#include "common/appraise/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pcr_values v;
	struct pcr_selection sel;
	struct verdict vd;
	struct policy *p = NULL;

	if (policy_compile((const char *)data, size, NULL, &p) != 0)
		return 0;
	policy_selection(p, &sel);
	pcr_values_init(&v);
	verdict_init(&vd);
	policy_check_pcrs(p, &v, &vd);
	policy_unref(policy_ref(p));
	policy_unref(p);
	return 0;
}
