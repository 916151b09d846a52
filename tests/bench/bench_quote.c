/*
 * bench_quote.c — single-thread quote_verify() throughput on the swtpm
 * fixtures (ECC P-256 and RSA-2048 AKs, sha256 PCRs 0-10): full parse,
 * signature, nonce, signer, selection and pcrDigest checks per call.
 * Run from the source root (reads tests/data/quote).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/unit/quote_fixture.h"

#define BENCH_SECONDS	1.0

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
bench(const char *fixture, const char *label)
{
	struct qf *f = qf_load(fixture);
	double t0, t;
	long n = 0, i;

	if (qf_verify(f) != ASSAY_OK) {
		fprintf(stderr, "%s: fixture does not verify\n", fixture);
		qf_free(f);
		return 1;
	}
	t0 = now();
	do {
		for (i = 0; i < 100; i++) {
			if (qf_verify(f) != ASSAY_OK)
				abort();
		}
		n += 100;
		t = now() - t0;
	} while (t < BENCH_SECONDS);
	printf("quote verify %s: %.0f/s (%ld verifies, %.1f us each)\n", label,
	    n / t, n, t / n * 1e6);
	qf_free(f);
	return 0;
}

int
main(void)
{
	int r = 0;

	r |= bench("ecc-p256", "ecc-p256");
	r |= bench("rsa-2048", "rsa-2048");
	return r;
}
