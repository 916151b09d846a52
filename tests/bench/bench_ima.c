/*
 * bench_ima.c — time parse + template-hash check + replay (SHA-256 bank,
 * BANK_HASH) of a generated 100,000-entry ima-ng list with SHA-256
 * template hashes. With argv[1], also write the list there (for timing
 * evmctl ima_measurement on the same bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "tests/unit/ima_gen.h"

#define N	100000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct buf b;
	struct ima_list l;
	struct ima_replay r;
	uint8_t q[TPM2_MAX_DIGEST];
	size_t ql, acc, bad;
	double t0, t1, t2, best = 1e9, bp = 1e9;
	FILE *f;
	int round;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA256, N, 0);
	if (argc > 1) {
		if ((f = fopen(argv[1], "wb")) == NULL ||
		    fwrite(b.d, 1, b.len, f) != b.len || fclose(f) != 0) {
			perror(argv[1]);
			return 2;
		}
	}
	/* the quoted value: the full replay */
	if (ima_parse_binary(b.d, b.len, TPM2_ALG_SHA256, &l, NULL) != 0 ||
	    ima_replay_all(&l, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH, q, &ql,
	    &bad) != 0) {
		fprintf(stderr, "setup: %s\n", assay_err_detail());
		return 1;
	}
	ima_list_free(&l);
	for (round = 0; round < 5; round++) {
		t0 = now();
		if (ima_parse_binary(b.d, b.len, TPM2_ALG_SHA256, &l, NULL) != 0)
			return 1;
		t1 = now();
		ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
		if (ima_replay(&r, &l, q, ql, &acc, &bad) != 0 || acc != N) {
			fprintf(stderr, "replay: %s\n", assay_err_detail());
			return 1;
		}
		t2 = now();
		ima_list_free(&l);
		if (t2 - t0 < best)
			best = t2 - t0;
		if (t1 - t0 < bp)
			bp = t1 - t0;
	}
	printf("ima replay %d entries: %.0f entries/s (parse alone %.0f entries/s, "
	    "%zu bytes)\n", N, N / best, N / bp, b.len);
	buf_free(&b);
	return 0;
}
