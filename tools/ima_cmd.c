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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/xmalloc.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "tools/ima_cmd.h"

#define IMA_FILE_MAX	(1024u * 1024 * 1024)

static const uint16_t all_banks[] = {
	TPM2_ALG_SHA1, TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512,
	TPM2_ALG_SM3_256,
};

static void
usage(void)
{
	fprintf(stderr, "usage: assayctl ima replay [--bank sha1|sha256|...] "
	    "[--ascii] [--template-hash-alg ALG] FILE\n");
}

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

int
cmd_ima(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bank", required_argument, NULL, 'b' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "template-hash-alg", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct tpm2_hash *th;
	struct ima_list l = { 0 };
	size_t counts[IMA_TMPL_MAX] = { 0 }, viol = 0, i, n = 0;
	uint16_t bank = 0, thash = 0;
	uint8_t *d = NULL;
	char *padname;
	int ascii = 0, ch, r, rc = 2, first;

	if (argc < 1 || strcmp(argv[0], "replay") != 0) {
		usage();
		return 2;
	}
	optind = 0;	/* full reset: the main getopt ran in "+" mode */
	while ((ch = getopt_long(argc, argv, "b:at:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if ((th = tpm2_hash_by_name(optarg)) == NULL &&
			    (th = tpm2_hash_by_alg(ima_digest_alg_by_name(
			    (const uint8_t *)optarg, strlen(optarg)))) == NULL) {
				fprintf(stderr, "unknown bank %s\n", optarg);
				return 2;
			}
			bank = th->alg;
			break;
		case 'a':
			ascii = 1;
			break;
		case 't':
			if ((th = tpm2_hash_by_name(optarg)) == NULL &&
			    (th = tpm2_hash_by_alg(ima_digest_alg_by_name(
			    (const uint8_t *)optarg, strlen(optarg)))) == NULL) {
				fprintf(stderr, "unknown hash %s\n", optarg);
				return 2;
			}
			thash = th->alg;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	if ((r = file_read_all(argv[optind], IMA_FILE_MAX, &d, &n)) != 0) {
		fprintf(stderr, "%s\n", assay_err_detail());
		return 2;
	}
	if (ascii)
		r = ima_parse_ascii_alg((const char *)d, n, thash, &l);
	else
		r = ima_parse_binary(d, n, thash ? thash : TPM2_ALG_SHA1, &l, NULL);
	if (r != 0) {
		fprintf(stderr, "FAIL: %s: %s\n", argv[optind], assay_err_detail());
		rc = 1;
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		counts[l.e[i].tmpl]++;
		viol += l.e[i].violation != 0;
	}
	/* check every template hash before printing anything */
	for (i = 0; i < l.n; i++) {
		if (ima_entry_check_thash(&l.e[i], l.thash_alg) != 0) {
			fprintf(stderr, "FAIL: %s: entry %zu: %s\n", argv[optind], i,
			    assay_err_detail());
			rc = 1;
			goto out;
		}
	}
	printf("{\"entries\":%zu,\"templates\":{", l.n);
	first = 1;
	for (i = 0; i < IMA_TMPL_MAX; i++) {
		if (counts[i] == 0)
			continue;
		printf("%s\"%s\":%zu", first ? "" : ",", ima_template_name((int)i),
		    counts[i]);
		first = 0;
	}
	printf("},\"violations\":%zu,\"pcr10\":{", viol);
	first = 1;
	for (i = 0; i < sizeof(all_banks) / sizeof(all_banks[0]); i++) {
		if (bank != 0 && all_banks[i] != bank)
			continue;
		if (tpm2_hash_md(all_banks[i]) == NULL)
			continue;
		th = tpm2_hash_by_alg(all_banks[i]);
		if ((r = print_bank(&l, th->alg, IMA_EXTEND_BANK_HASH, th->name,
		    &first)) != 0)
			goto fail;
		if (th->alg == TPM2_ALG_SHA1)
			continue;
		padname = xasprintf("%s-padded", th->name);
		r = print_bank(&l, th->alg, IMA_EXTEND_SHA1_PADDED, padname, &first);
		free(padname);
		if (r != 0)
			goto fail;
	}
	printf("}}\n");
	rc = 0;
	goto out;
 fail:
	printf("}}\n");
	fprintf(stderr, "FAIL: %s: %s\n", argv[optind], assay_err_detail());
	rc = 1;
 out:
	ima_list_free(&l);
	free(d);
	return rc;
}
