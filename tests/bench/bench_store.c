/*
 * bench_store.c — store throughput: 10,000 agent_put calls, each its own
 * transaction as the verifier writes one per attestation round, then one
 * store_agent_list of all 10,000; then the verifier's round writes as it
 * groups them (store_agent_save_audit, 50 a group as 500 rounds/s give in
 * STORE_BATCH_MS) over 5,000 agents in rounds, without and with a 3.5 KB
 * audit record each: CPU per round and the WAL's size. Works in its own
 * mkdtemp directory.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "verifier/store_audit.h"

#define NAGENTS	10000
#define RAGENTS	5000	/* round writes: agents */
#define RROUNDS	6	/* rounds of each */
#define RGROUP	50	/* records a group */
#define RREC	3500	/* audit record bytes */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Bytes this process wrote so far (/proc/self/io wchar), 0 unknown. */
static double
wchar(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	double v = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "wchar: %lf", &v) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return v;
}

static void
rm_dir(const char *dir)
{
	DIR *d;
	struct dirent *de;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	rmdir(dir);
}

/* Sizes like a real enrolled agent: RSA EK public, EK cert, ECC AK. */
static void
agent_fill(struct agent_rec *a)
{
	memset(a, 0, sizeof(*a));
	a->ek_pub = xcalloc(1, a->ek_pub_len = 314);
	a->ek_cert = xcalloc(1, a->ek_cert_len = 1100);
	a->ak_pub = xcalloc(1, a->ak_pub_len = 120);
	a->cert_cn = xstrdup("agent");
	a->activated = a->admitted = 1;
	a->state = AGENT_TRUSTED;
	a->address = xstrdup("10.1.2.3:8890");
	a->policy = xstrdup("web-fleet");
	a->interval = 60;
	a->registered_at = time(NULL);
	a->clock.valid = 1;
	a->verify_state = xstrdup("{\"ima_count\":1234,\"pcr10\":"
	    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}");
}

/* A sealed-looking record: JSON text of n bytes. */
static char *
audit_text(size_t n)
{
	char *t = xmalloc(n + 1);

	memset(t, 'A', n);
	memcpy(t, "{\"hash\":\"", 9);
	t[n - 2] = '"';
	t[n - 1] = '}';
	t[n] = '\0';
	return t;
}

/* RROUNDS rounds of RAGENTS round writes, grouped; with audit records. */
static int
bench_rounds(const char *dir, int audit)
{
	char *db = xasprintf("%s/rounds-%d.db", dir, audit);
	char *wal = xasprintf("%s-wal", db);
	struct store_audit au = { 0 };
	struct agent_rec a;
	struct store *s;
	struct stat st;
	double c0, c1, w0 = 0;
	off_t walmax = 0;
	int r = 1, n = 0;

	if (store_open(db, &s) != ASSAY_OK) {
		fprintf(stderr, "store_open: %s\n", assay_err_detail());
		goto out;
	}
	agent_fill(&a);
	au.kind = xstrdup("round");
	au.record = audit_text(RREC);
	au.hash = xstrdup("0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef");
	c0 = cpu();
	for (int k = 0; k <= RROUNDS; k++) {
		if (k == 1) {
			c0 = cpu();	/* round 0 inserts the rows */
			w0 = wchar();
		}
		for (int i = 0; i < RAGENTS; i++) {
			/* Scattered as the agents' schedules are. */
			int j = (int)((i * 7919L) % RAGENTS);

			snprintf(a.id, sizeof(a.id), "%08x-5f3c-4a2e-9d1b-%012d",
			    j, j);
			a.attest_ok = (uint64_t)k;
			a.last_attested = time(NULL);
			a.clock.clock = (uint64_t)(k * RAGENTS + i) * 1000;
			au.agent_id = a.id;
			au.seq = k + 1;
			au.time = a.last_attested;
			if (store_agent_save_audit(s, &a, NULL, NULL, 0,
			    audit ? &au : NULL) != ASSAY_OK) {
				fprintf(stderr, "round write: %s\n",
				    assay_err_detail());
				goto close;
			}
			if (++n % RGROUP == 0 && store_batch_commit(s) != ASSAY_OK)
				goto close;
			if (n % 500 == 0 && stat(wal, &st) == 0 &&
			    st.st_size > walmax)
				walmax = st.st_size;
		}
	}
	(void)store_batch_commit(s);
	c1 = cpu();
	printf("store round writes, audit %s: %.1f us CPU, %.1f KB written "
	    "per round (%d agents x %d rounds, groups of %d), WAL up to "
	    "%.1f MB\n", audit ? "on" : "off",
	    (c1 - c0) * 1e6 / (RAGENTS * RROUNDS),
	    (wchar() - w0) / 1024 / (RAGENTS * RROUNDS), RAGENTS, RROUNDS,
	    RGROUP, walmax / 1048576.0);
	r = 0;
 close:
	au.agent_id = NULL;
	store_audit_free(&au);
	agent_rec_free(&a);
	store_close(s);
 out:
	free(wal);
	free(db);
	return r;
}

int
main(void)
{
	const char *base = getenv("TMPDIR");
	char *dir, *db;
	struct store *s;
	struct agent_rec a, *list;
	size_t n;
	double t0, t1;
	int r = 1;

	dir = xasprintf("%s/assay-bench-store-XXXXXX", base != NULL ? base : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	db = xasprintf("%s/verifier.db", dir);
	if (store_open(db, &s) != ASSAY_OK) {
		fprintf(stderr, "store_open: %s\n", assay_err_detail());
		goto out;
	}
	agent_fill(&a);
	t0 = now();
	for (int i = 0; i < NAGENTS; i++) {
		snprintf(a.id, sizeof(a.id), "agent-%05d", i);
		a.attest_ok = (uint64_t)i;
		a.last_attested = time(NULL);
		a.clock.clock = (uint64_t)i * 1000;
		if (store_agent_put(s, &a, NULL) != ASSAY_OK) {
			fprintf(stderr, "agent_put: %s\n", assay_err_detail());
			goto close;
		}
	}
	t1 = now();
	printf("store agent_put: %.0f/s (%d puts, one transaction each, %.3f s)\n",
	    NAGENTS / (t1 - t0), NAGENTS, t1 - t0);

	t0 = now();
	if (store_agent_list(s, &list, &n) != ASSAY_OK) {
		fprintf(stderr, "agent_list: %s\n", assay_err_detail());
		goto close;
	}
	t1 = now();
	printf("store agent_list: %zu agents in %.1f ms\n", n, (t1 - t0) * 1e3);
	for (size_t i = 0; i < n; i++)
		agent_rec_free(&list[i]);
	free(list);
	r = n == NAGENTS ? 0 : 1;
	if (r == 0)
		r = bench_rounds(dir, 0) || bench_rounds(dir, 1);
 close:
	agent_rec_free(&a);
	store_close(s);
 out:
	rm_dir(dir);
	free(db);
	free(dir);
	return r;
}
