/*
 * bench_ima.c — IMA list throughput on generated 100,000-entry ima-ng
 * lists (sha256 file digests): parse + template-hash check + replay into
 * the SHA-256 bank (BANK_HASH), and the same plus ima_policy_check() of
 * every entry against a compiled policy that allows all of them (half by
 * path in allow:, half in allow_digests). Two lists with the same entries:
 * SHA-256 template hashes (binary_runtime_measurements_sha256) and SHA-1
 * template hashes (binary_runtime_measurements, the file evmctl reads).
 * With argv[1], write the SHA-1 list there and, as argv[1].pcrs, the
 * sha256 PCRs 0-10 in evmctl's --pcrs format (PCR 10 = the list's replay),
 * so that tests/bench/run.sh can time evmctl ima_measurement on the same
 * bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"
#include "tests/unit/ima_gen.h"

#define N	100000
#define ROUNDS	5

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
put_hex(struct buf *b, const uint8_t *d, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char o[2];

	for (size_t i = 0; i < n; i++) {
		o[0] = hx[d[i] >> 4];
		o[1] = hx[d[i] & 15];
		buf_put(b, o, 2);
	}
}

/*
 * A policy allowing every entry of gen_list(N): entries 0..N/2-1 by path
 * (allow:), the rest by digest (allow_digests:); unknown entries fail.
 */
static struct policy *
make_policy(void)
{
	struct policy *p = NULL;
	struct buf t;
	uint8_t dg[32];
	char path[64], line[128];
	size_t i, l;

	buf_init(&t);
	buf_put(&t, "name: bench\nima:\n  unknown: fail\n  allow:\n", 42);
	for (i = 0; i < N; i++) {
		if (i == N / 2)
			buf_put(&t, "  allow_digests:\n", 17);
		snprintf(path, sizeof(path), "/usr/lib/x86_64-linux-gnu/lib%zu.so", i);
		tpm2_hash(TPM2_ALG_SHA256, path, strlen(path), dg, &l);
		if (i < N / 2)
			snprintf(line, sizeof(line), "    %s: [ \"sha256:", path);
		else
			snprintf(line, sizeof(line), "    - \"sha256:");
		buf_put(&t, line, strlen(line));
		put_hex(&t, dg, 32);
		if (i < N / 2)
			buf_put(&t, "\" ]\n", 4);
		else
			buf_put(&t, "\"\n", 2);
	}
	if (policy_compile((const char *)t.d, t.len, NULL, &p) != ASSAY_OK) {
		fprintf(stderr, "policy: %s\n", assay_err_detail());
		exit(1);
	}
	buf_free(&t);
	return p;
}

/* The quoted value for list b: its full replay into the sha256 bank. */
static void
final_pcr(const struct buf *b, uint16_t thash_alg, uint8_t *q, size_t *ql)
{
	struct ima_list l;
	size_t bad;

	if (ima_parse_binary(b->d, b->len, thash_alg, &l, NULL) != 0 ||
	    ima_replay_all(&l, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH, q, ql,
	    &bad) != 0) {
		fprintf(stderr, "setup: %s\n", assay_err_detail());
		exit(1);
	}
	ima_list_free(&l);
}

/*
 * Best of ROUNDS: parse, replay (template hashes checked on the way) up to
 * the quoted value, and with ip also the policy check of every entry.
 * *parse gets the best parse-alone time.
 */
static double
run(const struct buf *b, uint16_t thash_alg, const uint8_t *q, size_t ql,
    const struct ima_policy *ip, double *parse)
{
	struct ima_list l;
	struct ima_replay r;
	struct verdict vd;
	size_t acc, bad, i;
	double t0, t1, t2, best = 1e9, bp = 1e9;

	for (int round = 0; round < ROUNDS; round++) {
		verdict_init(&vd);
		t0 = now();
		if (ima_parse_binary(b->d, b->len, thash_alg, &l, NULL) != 0) {
			fprintf(stderr, "parse: %s\n", assay_err_detail());
			exit(1);
		}
		t1 = now();
		ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
		if (ima_replay(&r, &l, q, ql, &acc, &bad) != 0 || acc != N) {
			fprintf(stderr, "replay: %zu of %d accepted: %s\n", acc, N,
			    assay_err_detail());
			exit(1);
		}
		if (ip != NULL)
			for (i = 0; i < acc; i++)
				ima_policy_check(ip, &l.e[i], &vd);
		t2 = now();
		if (!verdict_ok(&vd) || vd.nnotice != 0) {
			fprintf(stderr, "policy: %zu failures, %zu notices, first: %s\n",
			    vd.nfail, vd.nnotice, vd.nfail ? vd.fail[0].detail : "");
			exit(1);
		}
		ima_list_free(&l);
		if (t2 - t0 < best)
			best = t2 - t0;
		if (t1 - t0 < bp)
			bp = t1 - t0;
	}
	if (parse != NULL)
		*parse = bp;
	return best;
}

static int
write_files(const char *path, const struct buf *b, const uint8_t *q, size_t ql)
{
	static const uint8_t zero[32];
	char pcrs[4096];
	struct buf t;
	FILE *f;
	int pcr;

	if ((f = fopen(path, "wb")) == NULL || fwrite(b->d, 1, b->len, f) != b->len ||
	    fclose(f) != 0) {
		perror(path);
		return -1;
	}
	/* evmctl reads "PCR-00: <hex>" ... in order; PCR 10 is what it checks */
	buf_init(&t);
	for (pcr = 0; pcr <= 10; pcr++) {
		snprintf(pcrs, sizeof(pcrs), "PCR-%02d: ", pcr);
		buf_put(&t, pcrs, strlen(pcrs));
		put_hex(&t, pcr == 10 ? q : zero, pcr == 10 ? ql : 32);
		buf_put(&t, "\n", 1);
	}
	snprintf(pcrs, sizeof(pcrs), "%s.pcrs", path);
	if ((f = fopen(pcrs, "w")) == NULL || fwrite(t.d, 1, t.len, f) != t.len ||
	    fclose(f) != 0) {
		perror(pcrs);
		buf_free(&t);
		return -1;
	}
	buf_free(&t);
	return 0;
}

int
main(int argc, char **argv)
{
	struct buf b256, b1;
	struct policy *p;
	const struct ima_policy *ip;
	uint8_t q256[TPM2_MAX_DIGEST], q1[TPM2_MAX_DIGEST];
	size_t ql256, ql1;
	double t, tp, tc;

	buf_init(&b256);
	buf_init(&b1);
	gen_list(&b256, TPM2_ALG_SHA256, N, 0);
	gen_list(&b1, TPM2_ALG_SHA1, N, 0);
	final_pcr(&b256, TPM2_ALG_SHA256, q256, &ql256);
	final_pcr(&b1, TPM2_ALG_SHA1, q1, &ql1);
	if (argc > 1 && write_files(argv[1], &b1, q1, ql1) != 0)
		return 2;

	t = run(&b256, TPM2_ALG_SHA256, q256, ql256, NULL, &tp);
	printf("ima replay %d entries: %.0f entries/s (parse alone %.0f entries/s, "
	    "%zu bytes)\n", N, N / t, N / tp, b256.len);

	tc = now();
	p = make_policy();
	tc = now() - tc;
	ip = policy_ima(p);
	t = run(&b1, TPM2_ALG_SHA1, q1, ql1, ip, NULL);
	printf("ima replay+policy %d entries: %.0f entries/s (%.3f s; sha1 "
	    "template hashes as in binary_runtime_measurements, sha256 bank; "
	    "every entry allowed: %d by path, %d by digest; policy compiled in "
	    "%.2f s)\n", N, N / t, t, N / 2, N - N / 2, tc);
	t = run(&b256, TPM2_ALG_SHA256, q256, ql256, ip, NULL);
	printf("ima replay+policy %d entries: %.0f entries/s (%.3f s; sha256 "
	    "template hashes, sha256 bank)\n", N, N / t, t);
	policy_unref(p);
	buf_free(&b256);
	buf_free(&b1);
	return 0;
}
