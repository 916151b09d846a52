/*
 * bench_store.c — store throughput: 10,000 agent_put calls, each its own
 * transaction as the verifier writes one per attestation round, then one
 * store_agent_list of all 10,000. Works in its own mkdtemp directory.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/store.h"

#define NAGENTS	10000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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
 close:
	agent_rec_free(&a);
	store_close(s);
 out:
	rm_dir(dir);
	free(db);
	free(dir);
	return r;
}
