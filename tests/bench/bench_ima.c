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
 * bytes (argv[2] "--write-only": only that, no timing). Also the
 * one-pass replay (ima_replay_binary, what `assayctl ima replay` runs)
 * and the floor under it: the hashes it cannot avoid, timed alone over
 * the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/ima.h"
#include "common/evidence/ima_int.h"
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

/*
 * Best of ROUNDS: the one-pass replay of the whole list (as `assayctl ima
 * replay --bank sha256` runs it) into the sha256 bank, under nch schemes
 * (1: BANK_HASH, 2: and SHA1_PADDED). *pcr gets the BANK_HASH value.
 */
static double
stream_run(const struct buf *b, uint16_t thash_alg, size_t nch, uint8_t *pcr)
{
	struct ima_chain ch[2];
	struct ima_tally t;
	double t0, best = 1e9;
	size_t bad;

	for (int round = 0; round < ROUNDS; round++) {
		ima_chain_init(&ch[0], TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
		ima_chain_init(&ch[1], TPM2_ALG_SHA256, IMA_EXTEND_SHA1_PADDED);
		t0 = now();
		if (ima_replay_binary(b->d, b->len, thash_alg, ch, nch, &t,
		    &bad) != 0 || t.entries != N) {
			fprintf(stderr, "stream replay: %s\n", assay_err_detail());
			exit(1);
		}
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
	}
	memcpy(pcr, ch[0].pcr, 32);
	return best;
}

/*
 * Best of ROUNDS of one hash of alg over each of the n ranges v[], into
 * out (chained: the extends write where v[] reads, as a PCR is extended).
 */
static double
hash_floor(uint16_t alg, const struct cur *v, size_t n, uint8_t *out)
{
	double t0, best = 1e9;
	size_t i, olen;

	for (int round = 0; round < ROUNDS; round++) {
		t0 = now();
		for (i = 0; i < n; i++)
			if (ima_hashv(NULL, alg, &v[i], 1, out, &olen) != 0)
				exit(1);
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
	}
	return best;
}

/*
 * The hashes a replay of list b into the sha256 bank cannot avoid, timed
 * alone with the replay's own primitive (ima_hashv) over the same bytes:
 * the SHA-1 template hash check of each entry's template data, the
 * SHA-256 template digest (BANK_HASH) and a 64-byte SHA-256 PCR extend
 * per entry and scheme, each extend taking the last one's result.
 */
static void
print_floor(const struct buf *b)
{
	struct cur c, *td, *ext;
	struct ima_entry e;
	static uint8_t pcrbuf[64];
	uint8_t out[TPM2_MAX_DIGEST];
	const char *why;
	double s1, s256, sext;
	size_t i;

	td = xreallocarray(NULL, N, sizeof(*td));
	ext = xreallocarray(NULL, N, sizeof(*ext));
	cur_init(&c, b->d, b->len);
	for (i = 0; i < N; i++) {
		if (ima_binary_next(&c, TPM2_ALG_SHA1, &e, &why) != 0) {
			fprintf(stderr, "floor: %s\n", why);
			exit(1);
		}
		td[i] = e.tdata;
		cur_init(&ext[i], pcrbuf, sizeof(pcrbuf));
	}
	s1 = hash_floor(TPM2_ALG_SHA1, td, N, out);
	s256 = hash_floor(TPM2_ALG_SHA256, td, N, out);
	sext = hash_floor(TPM2_ALG_SHA256, ext, N, pcrbuf);
	printf("ima hash floor %d entries: %.1f ms both schemes, %.1f ms one "
	    "(per entry: sha1 template check %.0f ns, sha256 template digest "
	    "%.0f ns, sha256 extend %.0f ns per scheme)\n", N,
	    (s1 + s256 + 2 * sext) * 1e3, (s1 + s256 + sext) * 1e3,
	    s1 * 1e9 / N, s256 * 1e9 / N, sext * 1e9 / N);
	free(td);
	free(ext);
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
	uint8_t q256[TPM2_MAX_DIGEST], q1[TPM2_MAX_DIGEST], pcr[TPM2_MAX_DIGEST];
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
	if (argc > 2 && strcmp(argv[2], "--write-only") == 0)
		goto out;

	t = stream_run(&b1, TPM2_ALG_SHA1, 2, pcr);
	tp = stream_run(&b1, TPM2_ALG_SHA1, 1, pcr);
	if (memcmp(pcr, q1, 32) != 0) {
		fprintf(stderr, "stream replay: PCR 10 differs from the list's\n");
		return 1;
	}
	printf("ima stream replay %d entries: %.1f ms both schemes, %.1f ms "
	    "one (%.0f / %.0f entries/s; sha1 template hashes, sha256 bank, "
	    "as `assayctl ima replay --bank sha256` runs it)\n", N, t * 1e3,
	    tp * 1e3, N / t, N / tp);
	print_floor(&b1);

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
 out:
	buf_free(&b256);
	buf_free(&b1);
	return 0;
}
