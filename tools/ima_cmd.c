/*
 * ima_cmd.c — `assayctl ima replay [--bank ALG] [--ascii]
 * [--template-hash-alg ALG] FILE`: parse an IMA list with ima_parse_*,
 * check every template hash and print {"entries","templates",
 * "violations","pcr10":{bank:hex}} on stdout. Non-SHA-1 banks appear
 * twice: "<bank>" (each bank hashes the template data, kernels >= 5.8)
 * and "<bank>-padded" (SHA-1 template hash zero-padded, older kernels).
 * A refused list prints "FAIL: <detail>" on stderr and exits 1; usage
 * and I/O errors exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "tools/cmd.h"
#include "tools/ima_cmd.h"

#define IMA_FILE_MAX	(1024u * 1024 * 1024)

static const uint16_t all_banks[] = {
	TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512,
	TPM2_ALG_SM3_256,
};

static void
print_hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int
print_bank(const struct ima_list *l, uint16_t bank, int scheme, const char *name,
    int *first)
{
	uint8_t pcr[TPM2_MAX_DIGEST];
	size_t len, bad;
	int r;

	if ((r = ima_replay_all(l, bank, scheme, pcr, &len, &bad)) != 0)
		return r;
	printf("%s\"%s\":\"", *first ? "" : ",", name);
	print_hex(pcr, len);
	printf("\"");
	*first = 0;
	return ASSAY_OK;
}

/*
 * A hash named by an option (TPM name or IMA name), or 0 when the option
 * is absent. -1 (message printed) when the name is unknown.
 */
static int
hash_opt(const struct cmd_args *a, enum opt_slot s, const char *what,
    uint16_t *alg)
{
	const struct tpm2_hash *th;
	const char *v = cmd_str(a, s);

	*alg = 0;
	if (v == NULL)
		return 0;
	if ((th = tpm2_hash_by_name(v)) == NULL &&
	    (th = tpm2_hash_by_alg(ima_digest_alg_by_name((const uint8_t *)v,
	    strlen(v)))) == NULL) {
		fprintf(stderr, "unknown %s %s\n", what, v);
		return -1;
	}
	*alg = th->alg;
	return 0;
}

/*
 * Parse the list and check every template hash before printing anything.
 * The entries point into *d, which the caller frees after l.
 */
static int
load_list(const char *path, int ascii, uint16_t thash, uint8_t **d,
    struct ima_list *l)
{
	size_t n = 0, i;
	int r;

	if (cmd_load(path, IMA_FILE_MAX, d, &n) != 0)
		return 2;
	if (ascii)
		r = ima_parse_ascii_alg((const char *)*d, n, thash, l);
	else
		r = ima_parse_binary(*d, n, thash ? thash : TPM2_ALG_SHA1, l, NULL);
	if (r != 0) {
		fprintf(stderr, "FAIL: %s: %s\n", path, assay_err_detail());
		return 1;
	}
	for (i = 0; i < l->n; i++) {
		if (ima_entry_check_thash(&l->e[i], l->thash_alg) != 0) {
			fprintf(stderr, "FAIL: %s: entry %zu: %s\n", path, i,
			    assay_err_detail());
			return 1;
		}
	}
	return 0;
}

static void
print_counts(const struct ima_list *l)
{
	size_t counts[IMA_TMPL_MAX] = { 0 }, viol = 0, i;
	int first = 1;

	for (i = 0; i < l->n; i++) {
		counts[l->e[i].tmpl]++;
		viol += l->e[i].violation != 0;
	}
	printf("{\"entries\":%zu,\"templates\":{", l->n);
	for (i = 0; i < IMA_TMPL_MAX; i++) {
		if (counts[i] == 0)
			continue;
		printf("%s\"%s\":%zu", first ? "" : ",", ima_template_name((int)i),
		    counts[i]);
		first = 0;
	}
	printf("},\"violations\":%zu,", viol);
}

/* "pcr10":{...} for every bank (or just bank), closing the object. */
static int
print_pcr10(const struct ima_list *l, uint16_t bank)
{
	const struct tpm2_hash *th;
	char *padname;
	size_t i;
	int first = 1, r = 0;

	printf("\"pcr10\":{");
	for (i = 0; i < sizeof(all_banks) / sizeof(all_banks[0]) && r == 0; i++) {
		if (bank != 0 && all_banks[i] != bank)
			continue;
		if (tpm2_hash_md(all_banks[i]) == NULL)
			continue;
		th = tpm2_hash_by_alg(all_banks[i]);
		if ((r = print_bank(l, th->alg, IMA_EXTEND_BANK_HASH, th->name,
		    &first)) != 0 || th->alg == TPM2_ALG_SHA1)
			continue;
		padname = xasprintf("%s-padded", th->name);
		r = print_bank(l, th->alg, IMA_EXTEND_SHA1_PADDED, padname, &first);
		free(padname);
	}
	printf("}}\n");
	return r;
}

int
cmd_ima_replay(struct cmd_args *a)
{
	struct ima_list l = { 0 };
	uint16_t bank, thash;
	uint8_t *d = NULL;
	int rc;

	if (hash_opt(a, OPT_BANK, "bank", &bank) != 0 ||
	    hash_opt(a, OPT_TEMPLATE_HASH, "hash", &thash) != 0)
		return 2;
	if ((rc = load_list(a->pos[0], cmd_flag(a, OPT_ASCII), thash, &d,
	    &l)) != 0)
		goto out;
	print_counts(&l);
	if (print_pcr10(&l, bank) != 0) {
		fprintf(stderr, "FAIL: %s: %s\n", a->pos[0], assay_err_detail());
		rc = 1;
	}
 out:
	ima_list_free(&l);
	free(d);
	return rc;
}
