/*
 * test_metrics.c — the /metrics renderer: output from hand-filled
 * counters is valid Prometheus text format (checked by a small parser
 * here: HELP/TYPE before samples, names, labels and escapes, values,
 * families contiguous, histogram buckets cumulative with +Inf == _count),
 * and each family carries the numbers it was given.
 */
#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/metrics.h"

#define MAXFAM	64

struct fam {
	char	name[128];
	char	type[16];
};

/* Why the last text was rejected (for negative tests). */
static char why[256];

static int
bad(const char *fmt, const char *line)
{
	snprintf(why, sizeof(why), fmt, line);
	return 0;
}

static int
name_ok(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return 0;
	return 1;
}

/* The family a sample name belongs to, given the declared type. */
static int
sample_in_family(const char *sample, const struct fam *f)
{
	size_t n = strlen(f->name);

	if (strncmp(sample, f->name, n) != 0)
		return 0;
	if (sample[n] == '\0')
		return strcmp(f->type, "histogram") != 0;
	if (strcmp(f->type, "histogram") == 0)
		return strcmp(sample + n, "_bucket") == 0 ||
		    strcmp(sample + n, "_sum") == 0 || strcmp(sample + n, "_count") == 0;
	return 0;
}

/*
 * Parse one sample line: name, labels into le (the "le" label if any),
 * value. Returns 0 with why set on a malformed line.
 */
static int
parse_sample(const char *line, char *name, size_t namelen, char *le,
    size_t lelen, double *val)
{
	const char *p = line, *q;
	char *end;

	le[0] = '\0';
	q = p + strcspn(p, "{ ");
	if (!name_ok(p, (size_t)(q - p)) || (size_t)(q - p) >= namelen)
		return bad("bad metric name: %s", line);
	memcpy(name, p, (size_t)(q - p));
	name[q - p] = '\0';
	p = q;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			char lname[64], lval[128];
			size_t ln = strcspn(p, "=");
			size_t vi = 0;

			if (!name_ok(p, ln) || ln >= sizeof(lname))
				return bad("bad label name: %s", line);
			memcpy(lname, p, ln);
			lname[ln] = '\0';
			p += ln;
			if (p[0] != '=' || p[1] != '"')
				return bad("label without a quoted value: %s", line);
			p += 2;
			while (*p != '"') {
				if (*p == '\0' || *p == '\n')
					return bad("unterminated label value: %s", line);
				if (*p == '\\') {
					p++;
					if (*p != '\\' && *p != '"' && *p != 'n')
						return bad("bad escape: %s", line);
				}
				if (vi + 1 < sizeof(lval))
					lval[vi++] = *p;
				p++;
			}
			lval[vi] = '\0';
			p++;
			if (strcmp(lname, "le") == 0)
				snprintf(le, lelen, "%s", lval);
			if (*p == ',')
				p++;
			else if (*p != '}')
				return bad("labels not separated by ',': %s", line);
		}
		p++;
	}
	if (*p != ' ')
		return bad("no space before the value: %s", line);
	p++;
	if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 ||
	    strcmp(p, "NaN") == 0) {
		*val = strcmp(p, "NaN") == 0 ? NAN : p[0] == '+' ? INFINITY : -INFINITY;
		return 1;
	}
	*val = strtod(p, &end);
	if (end == p || (*end != '\0' && *end != ' '))
		return bad("bad value: %s", line);
	return 1;
}

/* 1 if text is valid exposition format (the subset we emit). */
static int
prom_text_valid(const char *text)
{
	struct fam fams[MAXFAM];
	size_t nf = 0, cur = SIZE_MAX;
	char *copy = strdup(text), *save = NULL, *line;
	char name[128], le[128], prev_le[128] = "";
	double val, prev_bucket = -1;
	int ok = 1;

	why[0] = '\0';
	if (text[0] == '\0' || text[strlen(text) - 1] != '\n') {
		free(copy);
		return bad("%s", "empty or no final newline");
	}
	for (line = strtok_r(copy, "\n", &save); ok && line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char fname[128], ftype[16];

			if (sscanf(line + 7, "%127s %15s", fname, ftype) != 2 ||
			    !name_ok(fname, strlen(fname)) ||
			    (strcmp(ftype, "counter") != 0 && strcmp(ftype, "gauge") != 0 &&
			    strcmp(ftype, "histogram") != 0 &&
			    strcmp(ftype, "summary") != 0 && strcmp(ftype, "untyped") != 0)) {
				ok = bad("bad TYPE line: %s", line);
				break;
			}
			for (size_t i = 0; i < nf; i++)
				if (strcmp(fams[i].name, fname) == 0)
					ok = bad("family declared twice: %s", line);
			if (!ok || nf == MAXFAM)
				break;
			snprintf(fams[nf].name, sizeof(fams[nf].name), "%s", fname);
			snprintf(fams[nf].type, sizeof(fams[nf].type), "%s", ftype);
			cur = nf++;
			prev_bucket = -1;
			prev_le[0] = '\0';
			continue;
		}
		if (line[0] == '#')
			continue;
		if (!parse_sample(line, name, sizeof(name), le, sizeof(le), &val)) {
			ok = 0;
			break;
		}
		if (cur == SIZE_MAX || !sample_in_family(name, &fams[cur])) {
			ok = bad("sample outside its TYPE'd family: %s", line);
			break;
		}
		if (strcmp(fams[cur].type, "histogram") != 0)
			continue;
		if (strstr(name, "_bucket") != NULL) {
			if (le[0] == '\0' || val < prev_bucket) {
				ok = bad("bucket without le or not cumulative: %s", line);
				break;
			}
			prev_bucket = val;
			snprintf(prev_le, sizeof(prev_le), "%s", le);
		} else if (strstr(name, "_count") != NULL) {
			if (strcmp(prev_le, "+Inf") != 0 || val != prev_bucket)
				ok = bad("+Inf bucket missing or != _count: %s", line);
		}
	}
	free(copy);
	return ok;
}

static char *
render(const struct metrics *m, const struct metrics_gauges *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	metrics_render(m, g, f);
	fclose(f);
	return buf;
}

/* A fake verifier's counters: every family has something in it. */
static struct metrics *
fixture(struct metrics_gauges *g)
{
	struct metrics *m = metrics_new();

	memset(g, 0, sizeof(*g));
	g->agents[AGENT_TRUSTED] = 7;
	g->agents[AGENT_UNTRUSTED] = 2;
	g->verify_queue = 3;
	g->polls_inflight = 5;
	g->notify_pending = 4;
	g->notify_inflight = 1;
	m->attest_ok = 100;
	m->attest_fail = 9;
	m->poll_errors = 11;
	metrics_failure(m, "pcr.value");
	metrics_failure(m, "pcr.value");
	metrics_failure(m, "quote.nonce");
	metrics_verify_latency(m, 0.0003);
	metrics_verify_latency(m, 0.003);
	metrics_verify_latency(m, 10);
	metrics_db_write(m, 0.0002);
	metrics_notify(m, 1, 0, 0);
	metrics_notify(m, 0, 1, 1);
	metrics_notify(m, 0, 0, 1);
	return m;
}

START_TEST(render_is_valid_text_format)
{
	struct metrics_gauges g;
	struct metrics *m = fixture(&g);
	char *t = render(m, &g);

	ck_assert_msg(prom_text_valid(t), "invalid: %s", why);
	free(t);
	metrics_free(m);
}
END_TEST

START_TEST(empty_metrics_render_valid)
{
	struct metrics_gauges g;
	struct metrics *m = metrics_new();
	char *t;

	memset(&g, 0, sizeof(g));
	t = render(m, &g);
	ck_assert_msg(prom_text_valid(t), "invalid: %s", why);
	ck_assert_ptr_nonnull(strstr(t, "# TYPE assay_failures_total counter\n"));
	ck_assert_ptr_nonnull(strstr(t,
	    "assay_verify_duration_seconds_bucket{le=\"+Inf\"} 0\n"));
	free(t);
	metrics_free(m);
}
END_TEST

START_TEST(agents_gauge_by_state)
{
	struct metrics_gauges g;
	struct metrics *m = fixture(&g);
	char *t = render(m, &g);

	ck_assert_ptr_nonnull(strstr(t, "assay_agents{state=\"trusted\"} 7\n"));
	ck_assert_ptr_nonnull(strstr(t, "assay_agents{state=\"untrusted\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t, "assay_agents{state=\"unreachable\"} 0\n"));
	free(t);
	metrics_free(m);
}
END_TEST

START_TEST(failures_counted_per_id)
{
	struct metrics_gauges g;
	struct metrics *m = fixture(&g);
	char *t = render(m, &g);

	ck_assert_ptr_nonnull(strstr(t, "assay_failures_total{id=\"pcr.value\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t, "assay_failures_total{id=\"quote.nonce\"} 1\n"));
	free(t);
	metrics_free(m);
}
END_TEST

START_TEST(counters_and_gauges_carry_values)
{
	struct metrics_gauges g;
	struct metrics *m = fixture(&g);
	char *t = render(m, &g);

	ck_assert_ptr_nonnull(strstr(t, "assay_attestations_total{result=\"ok\"} 100\n"));
	ck_assert_ptr_nonnull(strstr(t, "assay_attestations_total{result=\"fail\"} 9\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_poll_errors_total 11\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_verify_queue 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_polls_inflight 5\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_notifications_pending 4\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_notifications_sent_total 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_notifications_failed_total 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_notification_errors_total 2\n"));
	free(t);
	metrics_free(m);
}
END_TEST

START_TEST(store_fault_and_size_gauges)
{
	struct metrics_gauges g;
	struct metrics *m = fixture(&g);
	char *t;

	g.store_failing = 1;
	g.store_pending_writes = 3;
	g.store_write_errors = 5;
	g.store_db_bytes = 4096;
	g.events_rows = 42;
	g.events_pruned = 7;
	g.events_folded = 2;
	t = render(m, &g);
	ck_assert_msg(prom_text_valid(t), "invalid: %s", why);
	ck_assert_ptr_nonnull(strstr(t, "# TYPE assay_store_failing gauge\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_store_failing 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_store_pending_writes 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_store_write_errors_total 5\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_store_size_bytes 4096\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_store_events 42\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_events_pruned_total 7\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nassay_events_folded_total 2\n"));
	free(t);
	/* Not sampled yet: the row count is left out, not reported as 0. */
	g.events_rows = -1;
	t = render(m, &g);
	ck_assert_msg(prom_text_valid(t), "invalid: %s", why);
	ck_assert_ptr_null(strstr(t, "assay_store_events "));
	free(t);
	metrics_free(m);
}
END_TEST

START_TEST(histogram_buckets_are_cumulative)
{
	struct metrics_gauges g;
	struct metrics *m = fixture(&g);
	char *t = render(m, &g);

	/* 0.0003 and 0.003 and 10 observed. */
	ck_assert_ptr_nonnull(strstr(t,
	    "assay_verify_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(t,
	    "assay_verify_duration_seconds_bucket{le=\"0.005\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t,
	    "assay_verify_duration_seconds_bucket{le=\"5\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t,
	    "assay_verify_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "assay_verify_duration_seconds_count 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "assay_db_write_duration_seconds_count 1\n"));
	free(t);
	metrics_free(m);
}
END_TEST

START_TEST(label_values_are_escaped)
{
	struct metrics_gauges g;
	struct metrics *m = fixture(&g);
	char *t;

	metrics_failure(m, "we\"ird\\id\nx");
	t = render(m, &g);
	ck_assert_msg(prom_text_valid(t), "invalid: %s", why);
	ck_assert_ptr_nonnull(strstr(t, "{id=\"we\\\"ird\\\\id\\nx\"} 1\n"));
	free(t);
	metrics_free(m);
}
END_TEST

/* The checker itself must be able to fail. */
START_TEST(checker_rejects_malformed_text)
{
	ck_assert(!prom_text_valid("x_total 1\n"));
	ck_assert_ptr_nonnull(strstr(why, "outside its TYPE'd family"));
	ck_assert(!prom_text_valid("# TYPE 1x counter\n1x 1\n"));
	ck_assert_ptr_nonnull(strstr(why, "bad TYPE line"));
	ck_assert(!prom_text_valid("# TYPE a gauge\na{l=\"v} 1\n"));
	ck_assert_ptr_nonnull(strstr(why, "unterminated label value"));
	ck_assert(!prom_text_valid("# TYPE a gauge\na one\n"));
	ck_assert_ptr_nonnull(strstr(why, "bad value"));
	ck_assert(!prom_text_valid("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
	    "h_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n"));
	ck_assert_ptr_nonnull(strstr(why, "not cumulative"));
	ck_assert(!prom_text_valid("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
	    "h_bucket{le=\"+Inf\"} 2\nh_sum 0\nh_count 3\n"));
	ck_assert_ptr_nonnull(strstr(why, "!= _count"));
	ck_assert(!prom_text_valid("# TYPE a gauge\n# TYPE a gauge\na 1\n"));
	ck_assert_ptr_nonnull(strstr(why, "declared twice"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, render_is_valid_text_format);
	tcase_add_test(tc, empty_metrics_render_valid);
	tcase_add_test(tc, agents_gauge_by_state);
	tcase_add_test(tc, failures_counted_per_id);
	tcase_add_test(tc, counters_and_gauges_carry_values);
	tcase_add_test(tc, store_fault_and_size_gauges);
	tcase_add_test(tc, histogram_buckets_are_cumulative);
	tcase_add_test(tc, label_values_are_escaped);
	tcase_add_test(tc, checker_rejects_malformed_text);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
