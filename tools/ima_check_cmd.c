/*
 * ima_check_cmd.c — `assayctl ima check --policy P.yaml [--ascii]
 * [--thash ALG] FILE`: check every entry of an IMA list against a policy's
 * ima: section offline, with the verifier's own ima_policy_check(), and
 * print each failure and notice as "index<TAB>name<TAB>id<TAB>detail".
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "tools/policy_cmd.h"
#include "tools/policy_cmd_int.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"

int
cmd_ima_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "thash", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const struct tpm2_hash *th = tpm2_hash_by_alg(TPM2_ALG_SHA1);
	const char *ppath = NULL;
	const struct ima_policy *ip;
	struct policy *pol = NULL;
	struct ima_list l = { 0 };
	struct verdict vd;
	char *ptext = NULL, *list = NULL, name[80];
	size_t plen, llen, i, j, bad = 0;
	int c, ascii = 0, r;

	optind = 0;	/* full reset: the main getopt ran in "+" mode */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': ppath = optarg; break;
		case 'a': ascii = 1; break;
		case 't':
			if ((th = tpm2_hash_by_name(optarg)) == NULL)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (ppath == NULL || optind != argc - 1)
		goto usage;
	if ((r = policy_read_file(ppath, &ptext, &plen)) != 0 ||
	    (r = policy_compile(ptext, plen, NULL, &pol)) != 0) {
		fprintf(stderr, "error: %s: %s\n", ppath, assay_err_detail());
		r = 2;
		goto done;
	}
	if ((ip = policy_ima(pol)) == NULL) {
		fprintf(stderr, "error: %s has no ima: section\n", ppath);
		r = 2;
		goto done;
	}
	if ((r = policy_read_file(argv[optind], &list, &llen)) != 0 ||
	    (r = ascii ? ima_parse_ascii(list, llen, &l) :
	    ima_parse_binary((const uint8_t *)list, llen, th->alg, &l,
	    NULL)) != 0) {
		fprintf(stderr, "error: %s: %s\n", argv[optind],
		    assay_err_detail());
		r = 2;
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		if (l.e[i].name.len >= 14 &&
		    memcmp(l.e[i].name.p, "boot_aggregate", 14) == 0 &&
		    (l.e[i].name.len == 14 || l.e[i].name.p[14] == '\0'))
			continue;	/* checked against PCRs, not the policy */
		verdict_init(&vd);
		ima_policy_check(ip, &l.e[i], &vd);
		snprintf(name, sizeof(name), "%.*s", (int)(l.e[i].name.len <
		    sizeof(name) ? l.e[i].name.len : sizeof(name) - 1),
		    (const char *)l.e[i].name.p);
		for (j = 0; j < vd.nfail; j++)
			printf("%zu\t%s\t%s\t%s\n", i, name, vd.fail[j].id,
			    vd.fail[j].detail);
		for (j = 0; j < vd.nnotice; j++)
			printf("%zu\t%s\t%s\t%s (notice)\n", i, name,
			    vd.notice[j].id, vd.notice[j].detail);
		if (vd.nfail > 0)
			bad++;
	}
	fprintf(stderr, "%zu entries, %zu failing\n", l.n, bad);
	r = bad > 0 ? 1 : 0;
	goto done;
 usage:
	fprintf(stderr, "usage: assayctl ima check --policy P.yaml [--ascii] "
	    "[--thash ALG] FILE\n");
	r = 2;
 done:
	ima_list_free(&l);
	policy_unref(pol);
	free(ptext);
	free(list);
	return r;
}
