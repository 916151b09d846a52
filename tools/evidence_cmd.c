/*
 * evidence_cmd.c — `assayctl evidence verify`: run the verifier's own check
 * pipeline offline on a captured evidence document, with a given AK,
 * nonce, PCR selection and (optionally) policy. Exit 0 when every check
 * passes, 1 listing each failed check's id otherwise, 3 when the verifier
 * would poll again at once (inconclusive), 2 on usage or input errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/tpm_public.h"
#include "common/proto/doc.h"
#include "common/xmalloc.h"
#include "tools/cmd.h"
#include "tools/evidence_cmd.h"
#include "common/appraise/policy.h"
#include "common/appraise/verify.h"

/* A TPM2B_PUBLIC file (--ak, --ek). 0, or 2 after a message. */
static int
load_public(const char *path, struct tpm2_public *pub, int with_detail)
{
	uint8_t *d = NULL;
	size_t n;
	int r = 0;

	if (cmd_load(path, TPM_PUBLIC_MAX_SIZE, &d, &n) != 0)
		return 2;
	if (tpm2_public_parse(d, n, pub) != 0) {
		if (with_detail)
			fprintf(stderr, "assayctl: %s: not a TPM2B_PUBLIC: %s\n",
			    path, assay_err_detail());
		else
			fprintf(stderr, "assayctl: %s: not a TPM2B_PUBLIC\n", path);
		r = 2;
	}
	free(d);
	return r;
}

/* --policy, compiled; *pol stays NULL without it. 0, or 2. */
static int
load_policy(const char *path, struct policy **pol)
{
	uint8_t *text = NULL;
	size_t len;
	int r = 0;

	*pol = NULL;
	if (path == NULL)
		return 0;
	if (cmd_load(path, POLICY_TEXT_MAX, &text, &len) != 0)
		return 2;
	if (policy_compile((char *)text, len, NULL, pol) != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", path, assay_err_detail());
		r = 2;
	}
	free(text);
	return r;
}

/* With the EK, the quote's signer (AK qualified name) is checked. */
static int
set_signer(const char *ekf, const struct tpm2_public *ak, struct verify_job *j)
{
	struct tpm2_public ek;
	int r;

	if (ekf == NULL)
		return 0;
	if (load_public(ekf, &ek, 0) != 0)
		return 2;
	r = tpm2_ak_qualified_name(&ek, ak, j->ak_name, &j->ak_name_len);
	tpm2_public_free(&ek);
	if (r != 0) {
		fprintf(stderr, "assayctl: cannot compute the AK qualified name\n");
		return 2;
	}
	return 0;
}

/* Run the checks and print the verdict: exit 0, 1 or 3. */
static int
report(struct verify_job *j)
{
	size_t i;

	verify_run(j);
	for (i = 0; i < j->verdict.nnotice; i++)
		printf("NOTICE: %s: %s\n", j->verdict.notice[i].id,
		    j->verdict.notice[i].detail);
	if (verdict_ok(&j->verdict) && j->retry) {
		/* The verifier would poll again at once, e.g. for a new boot. */
		printf("INCONCLUSIVE: %s\n", j->retry_reason);
		return 3;
	}
	if (verdict_ok(&j->verdict)) {
		printf("OK: evidence verified\n");
		return 0;
	}
	for (i = 0; i < j->verdict.nfail; i++)
		printf("FAIL: %s: %s\n", j->verdict.fail[i].id,
		    j->verdict.fail[i].detail);
	return 1;
}

int
cmd_evidence_verify(struct cmd_args *a)
{
	struct tpm2_public ak;
	struct policy *pol = NULL;
	struct verify_job *j = NULL;
	uint8_t *doc = NULL;
	size_t docl;
	int r = 2;

	if (load_public(cmd_str(a, OPT_AK), &ak, 1) != 0)
		return 2;
	if (load_policy(cmd_str(a, OPT_POLICY), &pol) != 0 ||
	    cmd_load(a->pos[0], DOC_IMA_MAX + DOC_EVENTLOG_MAX, &doc, &docl) != 0)
		goto out;
	j = verify_job_new("offline", doc, docl, ak.pkey, pol);
	doc = NULL;	/* the job owns it now */
	if (set_signer(cmd_str(a, OPT_EK), &ak, j) != 0)
		goto out;
	if (hex_decode(cmd_str(a, OPT_NONCE), j->nonce, sizeof(j->nonce),
	    &j->nonce_len) != 0 ||
	    pcr_selection_parse(cmd_str(a, OPT_PCRS), &j->sel) != 0) {
		fprintf(stderr, "assayctl: bad --nonce or --pcrs\n");
		goto out;
	}
	r = report(j);
 out:
	verify_job_free(j);
	policy_unref(pol);
	tpm2_public_free(&ak);
	free(doc);
	return r;
}
