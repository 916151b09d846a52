/*
 * bench_eventlog.c — parse + replay (every bank) of every event log under
 * tests/data/eventlog and, when it exists, ../shared/corpus/eventlog:
 * microseconds per log (best of 20 runs) and the total for each set.
 * Logs we refuse are counted and timed as well (the refusal is the work).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xmalloc.h"
#include "common/evidence/bind.h"
#include "common/evidence/eventlog.h"

#define RUNS	20

static double	 set_total, facts_total;
static size_t	 set_n, set_refused, facts_n;
static int	 quiet;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
is_log(const char *path)
{
	static const char *skip[] = { ".yaml", ".yml", ".json", ".err", ".warn",
	    ".md", ".txt", ".b64" };
	size_t i, n = strlen(path), m;

	if (strstr(path, "/expected/") != NULL)
		return 0;
	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		m = strlen(skip[i]);
		if (n >= m && strcmp(path + n - m, skip[i]) == 0)
			return 0;
	}
	return 1;
}

static int
one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	static struct el_pcrs rp;
	struct eventlog el;
	double t0, best = 1e18, dt;
	uint8_t *d;
	FILE *f;
	size_t n;
	int r, i, events = 0;

	if (flag != FTW_F || !is_log(path))
		return 0;
	if ((f = fopen(path, "rb")) == NULL)
		return 0;
	d = xmalloc((size_t)st->st_size + 1);
	n = fread(d, 1, (size_t)st->st_size, f);
	fclose(f);
	for (i = 0; i < RUNS; i++) {
		t0 = now();
		if ((r = eventlog_parse(d, n, &el)) == 0) {
			(void)eventlog_replay(&el, &rp);
			events = (int)el.n;
			eventlog_free(&el);
		}
		dt = now() - t0;
		if (dt < best)
			best = dt;
	}
	set_total += best;
	set_n++;
	/* the measured-boot facts of the sha256 bank, every event bound */
	if (r == 0 && eventlog_parse(d, n, &el) == 0) {
		static struct el_facts fx;
		double fbest = 1e18;

		for (i = 0; i < RUNS; i++) {
			t0 = now();
			if (eventlog_facts(&el, TPM2_ALG_SHA256, BIND_ALL_PCRS, &fx) == 0)
				eventlog_facts_free(&fx);
			else
				break;
			dt = now() - t0;
			if (dt < fbest)
				fbest = dt;
		}
		if (i == RUNS) {
			facts_total += fbest;
			facts_n++;
		}
		eventlog_free(&el);
	}
	if (r != 0)
		set_refused++;
	if (!quiet)
		printf("  %8.1f us  %4d events  %s%s\n", best, events, path,
		    r != 0 ? "  (refused)" : "");
	free(d);
	return 0;
}

static void
run_set(const char *dir)
{
	set_total = facts_total = 0;
	set_n = set_refused = facts_n = 0;
	if (nftw(dir, one, 16, FTW_PHYS) != 0) {
		printf("%s: not found, skipped\n", dir);
		return;
	}
	printf("eventlog parse+replay %s: %zu logs (%zu refused), total %.0f us,"
	    " %.1f us/log\n", dir, set_n, set_refused, set_total,
	    set_n ? set_total / set_n : 0);
	printf("eventlog facts (sha256 bank, label-free rules) %s: %zu logs, "
	    "%.1f us/log\n", dir, facts_n, facts_n ? facts_total / facts_n : 0);
}

int
main(int argc, char **argv)
{
	quiet = argc > 1 && strcmp(argv[1], "-q") == 0;
	run_set("tests/data/eventlog");
	run_set("../shared/corpus/eventlog");
	return 0;
}
