/*
 * ima_check_cmd.c — `assayctl ima check --policy P.yaml [--ascii]
 * [--thash ALG] FILE`: check every entry of an IMA list against a policy's
 * ima: section offline, with the verifier's own ima_policy_check(), and
 * print each failure and notice as "index<TAB>name<TAB>id<TAB>detail".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "tools/cmd.h"
#include "tools/policy_cmd.h"
#include "tools/policy_cmd_int.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"

/* The policy's ima: section; *pol holds it. 0, or 2 after a message. */
static int
load_policy(const char *path, struct policy **pol, const struct ima_policy **ip)
{
	uint8_t *text = NULL;
	size_t len;
	int r = 2;

	if (cmd_load(path, POLICY_CMD_FILE_MAX, &text, &len) != 0)
		return 2;
	if (policy_compile((char *)text, len, NULL, pol) != 0)
		fprintf(stderr, "error: %s: %s\n", path, assay_err_detail());
	else if ((*ip = policy_ima(*pol)) == NULL)
		fprintf(stderr, "error: %s has no ima: section\n", path);
	else
		r = 0;
	free(text);
	return r;
}

/* Check one entry; print its failures and notices. 1 if it fails. */
static int
check_entry(const struct ima_policy *ip, const struct ima_entry *e, size_t i)
{
	struct verdict vd;
	char name[80];
	size_t j;

	if (e->name.len >= 14 && memcmp(e->name.p, "boot_aggregate", 14) == 0 &&
	    (e->name.len == 14 || e->name.p[14] == '\0'))
		return 0;	/* checked against PCRs, not the policy */
	verdict_init(&vd);
	ima_policy_check(ip, e, &vd);
	snprintf(name, sizeof(name), "%.*s", (int)(e->name.len < sizeof(name) ?
	    e->name.len : sizeof(name) - 1), (const char *)e->name.p);
	for (j = 0; j < vd.nfail; j++)
		printf("%zu\t%s\t%s\t%s\n", i, name, vd.fail[j].id,
		    vd.fail[j].detail);
	for (j = 0; j < vd.nnotice; j++)
		printf("%zu\t%s\t%s\t%s (notice)\n", i, name, vd.notice[j].id,
		    vd.notice[j].detail);
	return vd.nfail > 0;
}

int
cmd_ima_check(struct cmd_args *a)
{
	const struct tpm2_hash *th = tpm2_hash_by_alg(TPM2_ALG_SHA1);
	const char *path = a->pos[0], *v;
	const struct ima_policy *ip = NULL;
	struct policy *pol = NULL;
	struct ima_list l = { 0 };
	uint8_t *list = NULL;
	size_t llen, i, bad = 0;
	int r = 2;

	if ((v = cmd_str(a, OPT_THASH)) != NULL &&
	    (th = tpm2_hash_by_name(v)) == NULL)
		return cmd_usage(a);
	if (load_policy(cmd_str(a, OPT_POLICY), &pol, &ip) != 0 ||
	    cmd_load(path, POLICY_CMD_FILE_MAX, &list, &llen) != 0)
		goto done;
	if ((cmd_flag(a, OPT_ASCII) ? ima_parse_ascii((char *)list, llen, &l) :
	    ima_parse_binary(list, llen, th->alg, &l, NULL)) != 0) {
		fprintf(stderr, "error: %s: %s\n", path, assay_err_detail());
		goto done;
	}
	for (i = 0; i < l.n; i++)
		bad += check_entry(ip, &l.e[i], i);
	fprintf(stderr, "%zu entries, %zu failing\n", l.n, bad);
	r = bad > 0 ? 1 : 0;
 done:
	ima_list_free(&l);
	policy_unref(pol);
	free(list);
	return r;
}
