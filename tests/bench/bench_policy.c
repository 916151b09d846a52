/*
 * bench_policy.c — the ima: policy at scale: compile a generated policy of
 * 1,000,000 sha256 digests (900,000 in allow_digests, 100,000 paths in
 * allow: with one digest each), report compile time and RSS growth, then
 * ima_policy_check() throughput over a mix of hits and misses. The stable
 * line is policy_1m_compile: the median of 3 whole-policy compiles and the
 * compiled section's heap against the raw digest bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"

#define NDIGESTS	1000000
#define NPATHS		100000
#define NCHECKS		1000000
#define NRUNS		3

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
rss_kb(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res * 4;		/* 4 KiB pages */
}

/* Deterministic digest i: splitmix64 stream. */
static void
digest_of(uint64_t i, uint8_t d[32])
{
	uint64_t z;
	size_t k;

	for (k = 0; k < 4; k++) {
		z = (i * 4 + k + 1) * 0x9e3779b97f4a7c15ULL;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		memcpy(d + 8 * k, &z, 8);
	}
}

static size_t
put_hex(char *o, const uint8_t *d, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		o[2 * i] = hx[d[i] >> 4];
		o[2 * i + 1] = hx[d[i] & 15];
	}
	return 2 * n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *
gen_policy(size_t *len)
{
	size_t cap = (size_t)NDIGESTS * 110 + 1024, o = 0, i;
	char *t = xmalloc(cap);
	uint8_t d[32];

	o += (size_t)snprintf(t + o, cap - o, "name: big\nima:\n  allow:\n");
	for (i = 0; i < NPATHS; i++) {
		digest_of(i, d);
		o += (size_t)snprintf(t + o, cap - o, "    /usr/lib/f%zu: "
		    "[ \"sha256:", i);
		o += put_hex(t + o, d, 32);
		o += (size_t)snprintf(t + o, cap - o, "\" ]\n");
	}
	o += (size_t)snprintf(t + o, cap - o, "  allow_digests:\n");
	for (; i < NDIGESTS; i++) {
		digest_of(i, d);
		o += (size_t)snprintf(t + o, cap - o, "    - sha256:");
		o += put_hex(t + o, d, 32);
		t[o++] = '\n';
	}
	o += (size_t)snprintf(t + o, cap - o, "  exclude: [ \"/tmp/**\", "
	    "\"/proc/*/fd\" ]\n  unknown: fail\n");
	*len = o;
	return t;
}

int
main(void)
{
	struct ima_policy_stats st;
	struct policy *p = NULL;
	struct ima_entry e;
	struct verdict vd;
	const struct ima_policy *ip;
	char path[64];
	uint8_t d[32];
	size_t len, i, fails = 0;
	double t0, t1, times[NRUNS], raw;
	long rss0, rss1 = 0;
	char *text;
	int r;

	text = gen_policy(&len);
	{
		struct ima_policy *only = NULL;
		size_t vs, ve;

		t0 = now();
		r = ima_policy_compile(text, len, &only, &vs, &ve);
		t1 = now();
		printf("ima: section alone (event pass): %.3f s\n", t1 - t0);
		ima_policy_free(only);
	}
	for (i = 0; i < NRUNS; i++) {
		policy_unref(p);
		p = NULL;
		rss0 = rss_kb();
		t0 = now();
		r = policy_compile(text, len, NULL, &p);
		t1 = now();
		if (i == 0)
			rss1 = rss_kb() - rss0;
		if (r != ASSAY_OK) {
			fprintf(stderr, "compile: %s\n", assay_err_detail());
			return 1;
		}
		times[i] = t1 - t0;
	}
	free(text);
	qsort(times, NRUNS, sizeof(times[0]), cmp_double);
	ip = policy_ima(p);
	ima_policy_stats(ip, &st);
	raw = (double)st.digests * 32 / 1048576;
	printf("policy text: %.1f MB, %zu digests, %zu paths\n",
	    (double)len / 1e6, st.digests, st.paths);
	printf("policy_compile: %.3f s; RSS growth %.1f MB; compiled "
	    "section %.1f MB (raw digest bytes %.1f MB)\n", times[NRUNS / 2],
	    (double)rss1 / 1024, (double)st.bytes / 1048576, raw);

	memset(&e, 0, sizeof(e));
	e.tmpl = IMA_TMPL_IMA_NG;
	e.dalg = TPM2_ALG_SHA256;
	cur_init(&e.digest, d, 32);
	t0 = now();
	for (i = 0; i < NCHECKS; i++) {
		/* 3/4 allowed (path or global), 1/4 unknown */
		digest_of((i * 7919) % (NDIGESTS + NDIGESTS / 3), d);
		snprintf(path, sizeof(path), "/usr/lib/f%zu",
		    (i * 7919) % (NDIGESTS + NDIGESTS / 3));
		cur_init(&e.name, path, strlen(path));
		verdict_init(&vd);
		ima_policy_check(ip, &e, &vd);
		fails += vd.nfail;
	}
	t1 = now();
	printf("ima_policy_check: %.0f entries/s (%zu failures of %d, "
	    "incl. verdict formatting)\n", NCHECKS / (t1 - t0), fails, NCHECKS);
	printf("policy_1m_compile: %.2f s (%zu digests, compiled %.1f MB for "
	    "%.1f MB raw digests = %.2f x, median of %d)\n", times[NRUNS / 2],
	    st.digests, (double)st.bytes / 1048576, raw,
	    (double)st.bytes / 1048576 / raw, NRUNS);
	policy_unref(p);
	return 0;
}
