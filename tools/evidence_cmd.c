/*
 * evidence_cmd.c — `assayctl evidence verify`: run the verifier's own check
 * pipeline offline on a captured evidence document, with a given AK,
 * nonce, PCR selection and (optionally) policy. Exit 0 when every check
 * passes, 1 listing each failed check's id otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/evidence/tpm_public.h"
#include "common/xmalloc.h"
#include "tools/admin.h"
#include "common/appraise/policy.h"
#include "common/appraise/verify.h"

int
cmd_evidence(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ak", required_argument, NULL, 'a' },
		{ "ek", required_argument, NULL, 'e' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "policy", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	const char *akf = NULL, *ekf = NULL, *nonce = NULL, *pcrs = NULL, *polf = NULL;
	struct tpm2_public ak, ek;
	struct policy *pol = NULL;
	struct verify_job *j = NULL;
	uint8_t *akb = NULL, *ekb = NULL, *doc = NULL, *ptext = NULL;
	size_t akl, ekl, docl, pl;
	int ch, r = 2, have_ak = 0;

	if (argc < 1 || strcmp(argv[0], "verify") != 0)
		goto usage;
	optind = 0;	/* full reset: the main getopt ran in "+" mode */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': akf = optarg; break;
		case 'e': ekf = optarg; break;
		case 'n': nonce = optarg; break;
		case 'p': pcrs = optarg; break;
		case 'P': polf = optarg; break;
		default: goto usage;
		}
	}
	if (akf == NULL || nonce == NULL || pcrs == NULL || optind != argc - 1)
		goto usage;
	if (file_read_all(akf, TPM_PUBLIC_MAX_SIZE, &akb, &akl) != 0) {
		fprintf(stderr, "assayctl: %s\n", assay_err_detail());
		goto out;
	}
	if (tpm2_public_parse(akb, akl, &ak) != 0) {
		fprintf(stderr, "assayctl: %s: not a TPM2B_PUBLIC: %s\n", akf,
		    assay_err_detail());
		goto out;
	}
	have_ak = 1;
	if (polf != NULL && file_read_all(polf, 64u << 20, &ptext, &pl) != 0) {
		fprintf(stderr, "assayctl: %s\n", assay_err_detail());
		goto out;
	}
	if (polf != NULL && policy_compile((char *)ptext, pl, NULL, &pol) != 0) {
		fprintf(stderr, "assayctl: %s: %s\n", polf, assay_err_detail());
		goto out;
	}
	if (file_read_all(argv[optind], DOC_IMA_MAX + DOC_EVENTLOG_MAX, &doc,
	    &docl) != 0) {
		fprintf(stderr, "assayctl: %s\n", assay_err_detail());
		goto out;
	}
	j = verify_job_new("offline", doc, docl, ak.pkey, pol);
	doc = NULL;
	if (ekf != NULL) {
		/* With the EK, the quote's signer (AK qualified name) is checked. */
		if (file_read_all(ekf, TPM_PUBLIC_MAX_SIZE, &ekb, &ekl) != 0) {
			fprintf(stderr, "assayctl: %s\n", assay_err_detail());
			goto out;
		}
		if (tpm2_public_parse(ekb, ekl, &ek) != 0) {
			fprintf(stderr, "assayctl: %s: not a TPM2B_PUBLIC\n", ekf);
			goto out;
		}
		r = tpm2_ak_qualified_name(&ek, &ak, j->ak_name, &j->ak_name_len);
		tpm2_public_free(&ek);
		if (r != 0) {
			r = 2;
			fprintf(stderr, "assayctl: cannot compute the AK qualified name\n");
			goto out;
		}
		r = 2;
	}
	if (hex_decode(nonce, j->nonce, sizeof(j->nonce), &j->nonce_len) != 0 ||
	    pcr_selection_parse(pcrs, &j->sel) != 0) {
		fprintf(stderr, "assayctl: bad --nonce or --pcrs\n");
		goto out;
	}
	verify_run(j);
	for (size_t i = 0; i < j->verdict.nnotice; i++)
		printf("NOTICE: %s: %s\n", j->verdict.notice[i].id,
		    j->verdict.notice[i].detail);
	if (verdict_ok(&j->verdict) && j->retry) {
		/* The verifier would poll again at once, e.g. for a new boot. */
		printf("INCONCLUSIVE: %s\n", j->retry_reason);
		r = 3;
	} else if (verdict_ok(&j->verdict)) {
		printf("OK: evidence verified\n");
		r = 0;
	} else {
		for (size_t i = 0; i < j->verdict.nfail; i++)
			printf("FAIL: %s: %s\n", j->verdict.fail[i].id,
			    j->verdict.fail[i].detail);
		r = 1;
	}
 out:
	verify_job_free(j);
	policy_unref(pol);
	if (have_ak)
		tpm2_public_free(&ak);
	free(akb);
	free(ekb);
	free(doc);
	free(ptext);
	return r;
 usage:
	fprintf(stderr, "usage: assayctl evidence verify --ak AK.tpm2b [--ek EK.tpm2b] "
	    "--nonce HEX --pcrs SEL [--policy P.yaml] EVIDENCE.json\n");
	return 2;
}
