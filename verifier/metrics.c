/*
 * metrics.c — the verifier's Prometheus metrics: counters and latency
 * histograms (verification, database writes), failures by failure id,
 * notification outcomes, fed by the modules as things happen, and their
 * rendering with the gauges sampled at scrape time (api_metrics.c) in the
 * text exposition format (version 0.0.4).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/strmap.h"
#include "common/xmalloc.h"
#include "verifier/metrics.h"

/* Seconds: verification is sub-millisecond to seconds (large IMA lists). */
static const double verify_le[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5
};
/* Seconds: one SQLite transaction (WAL, synchronous=NORMAL). */
static const double db_le[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 1
};
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct metrics *
metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->failures = strmap_new();
	m->verify_seconds.le = verify_le;
	m->verify_seconds.nle = NELEM(verify_le);
	m->db_write_seconds.le = db_le;
	m->db_write_seconds.nle = NELEM(db_le);
	return m;
}

void
metrics_free(struct metrics *m)
{
	const char *k;
	void *val;
	size_t pos = 0;

	if (m == NULL)
		return;
	while (strmap_next(m->failures, &pos, &k, &val))
		free(val);
	strmap_free(m->failures);
	free(m);
}

void
histogram_observe(struct histogram *h, double v)
{
	if (isnan(v))
		return;
	for (size_t i = 0; i < h->nle && i < HIST_MAX_BUCKETS; i++)
		if (v <= h->le[i]) {
			h->bucket[i]++;
			break;
		}
	h->count++;
	h->sum += v;
}

void
metrics_failure(struct metrics *m, const char *id)
{
	uint64_t *n;

	if (m == NULL || id == NULL || *id == '\0')
		return;
	if ((n = strmap_get(m->failures, id)) == NULL) {
		n = xcalloc(1, sizeof(*n));
		strmap_put(m->failures, id, n);
	}
	(*n)++;
}

void
metrics_verify_latency(struct metrics *m, double seconds)
{
	if (m != NULL)
		histogram_observe(&m->verify_seconds, seconds);
}

void
metrics_attest(struct metrics *m, int ok)
{
	if (m != NULL) {
		if (ok)
			m->attest_ok++;
		else
			m->attest_fail++;
	}
}

void
metrics_poll_error(struct metrics *m)
{
	if (m != NULL)
		m->poll_errors++;
}

void
metrics_ima_wait(struct metrics *m)
{
	if (m != NULL)
		m->ima_waits++;
}

void
metrics_db_write(struct metrics *m, double seconds)
{
	if (m != NULL)
		histogram_observe(&m->db_write_seconds, seconds);
}

void
metrics_notify(struct metrics *m, int sent, int failed, int errors)
{
	if (m == NULL)
		return;
	m->notify_sent += (uint64_t)sent;
	m->notify_failed += (uint64_t)failed;
	m->notify_errors += (uint64_t)errors;
}

/* ---- rendering -------------------------------------------------------- */

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format asks (\\, \", \n). */
static void
label_value(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
sample_u64(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/* One family with its one unlabelled sample. */
static void
scalar(FILE *f, const char *name, const char *type, const char *help,
    uint64_t v)
{
	family(f, name, type, help);
	sample_u64(f, name, v);
}

static void
render_histogram(FILE *f, const char *name, const char *help,
    const struct histogram *h)
{
	uint64_t cum = 0;

	family(f, name, "histogram", help);
	for (size_t i = 0; i < h->nle && i < HIST_MAX_BUCKETS; i++) {
		cum += h->bucket[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, h->le[i],
		    (unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->count);
	fprintf(f, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name,
	    (unsigned long long)h->count);
}

/* This node among those sharing the database, and the whole fleet. */
static void
render_cluster(FILE *f, const struct metrics_gauges *g)
{
	family(f, "assay_cluster_node_info", "gauge",
	    "This verifier's node name (value 1).");
	fputs("assay_cluster_node_info{node=\"", f);
	label_value(f, g->node);
	fputs("\"} 1\n", f);
	scalar(f, "assay_cluster_live_nodes", "gauge",
	    "Verifiers heartbeating within the lease time.", g->live_nodes);
	scalar(f, "assay_cluster_fenced", "gauge",
	    "1 while this node cannot reach the database and attests nothing.",
	    g->fenced);
	scalar(f, "assay_cluster_takeovers_total", "counter",
	    "Agents this node claimed (unheld, or held by a dead node).",
	    g->takeovers);
	scalar(f, "assay_cluster_released_total", "counter",
	    "Agents this node let go to balance the nodes.", g->released);
	scalar(f, "assay_cluster_leases_lost_total", "counter",
	    "Agent writes refused because another node held the lease.",
	    g->leases_lost);
	scalar(f, "assay_cluster_commands_run_total", "counter",
	    "Admin actions other nodes forwarded that this node ran.",
	    g->commands_run);
	scalar(f, "assay_cluster_commands_forwarded_total", "counter",
	    "Admin actions this node forwarded to the owning node.",
	    g->commands_forwarded);
	if (!g->fleet_ok)
		return;
	family(f, "assay_fleet_agents", "gauge",
	    "Agents of every node by state (from the shared database).");
	for (int i = 0; i < AGENT_STATE_MAX; i++)
		fprintf(f, "assay_fleet_agents{state=\"%s\"} %llu\n",
		    agent_state_name(i), (unsigned long long)g->fleet_agents[i]);
}

void
metrics_render(const struct metrics *m, const struct metrics_gauges *g,
    FILE *f)
{
	const char *id;
	void *val;
	size_t pos = 0;

	family(f, "assay_agents", "gauge", "Agents by state.");
	for (int i = 0; i < AGENT_STATE_MAX; i++)
		fprintf(f, "assay_agents{state=\"%s\"} %llu\n",
		    agent_state_name(i), (unsigned long long)g->agents[i]);
	family(f, "assay_attestations_total", "counter",
	    "Verified attestation rounds by result.");
	fprintf(f, "assay_attestations_total{result=\"ok\"} %llu\n"
	    "assay_attestations_total{result=\"fail\"} %llu\n",
	    (unsigned long long)m->attest_ok, (unsigned long long)m->attest_fail);
	family(f, "assay_failures_total", "counter",
	    "Failed checks of failed rounds, by failure id.");
	while (strmap_next(m->failures, &pos, &id, &val)) {
		fputs("assay_failures_total{id=\"", f);
		label_value(f, id);
		fprintf(f, "\"} %llu\n", (unsigned long long)*(uint64_t *)val);
	}
	scalar(f, "assay_poll_errors_total", "counter",
	    "Transport failures polling agents.", m->poll_errors);
	render_histogram(f, "assay_verify_duration_seconds",
	    "Time to verify one evidence document.", &m->verify_seconds);
	scalar(f, "assay_verify_queue", "gauge",
	    "Evidence documents waiting for a verify worker.", g->verify_queue);
	scalar(f, "assay_polls_inflight", "gauge",
	    "Polls in flight.", g->polls_inflight);
	scalar(f, "assay_ima_inflight_bytes", "gauge",
	    "IMA list bytes the polls in flight may bring (of ima_inflight_mb).",
	    g->ima_reserved);
	scalar(f, "assay_ima_budget_waits_total", "counter",
	    "Polls put off until IMA budget was free.", m->ima_waits);
	render_histogram(f, "assay_db_write_duration_seconds",
	    "Time to write an agent record (and its event) to the store.",
	    &m->db_write_seconds);
	scalar(f, "assay_notifications_pending", "gauge",
	    "Notifications queued for delivery (persisted).", g->notify_pending);
	scalar(f, "assay_notifications_inflight", "gauge",
	    "Notification deliveries running.", g->notify_inflight);
	scalar(f, "assay_notifications_sent_total", "counter",
	    "Notifications delivered.", m->notify_sent);
	scalar(f, "assay_notifications_failed_total", "counter",
	    "Notifications given up after retrying for the maximum age.", m->notify_failed);
	scalar(f, "assay_notification_errors_total", "counter",
	    "Failed delivery attempts (each retried with backoff).", m->notify_errors);
	scalar(f, "assay_store_failing", "gauge",
	    "1 while store writes fail or wait to be retried, else 0.", g->store_failing);
	scalar(f, "assay_store_pending_writes", "gauge",
	    "Agent changes applied in memory, waiting to be written.", g->store_pending_writes);
	scalar(f, "assay_store_write_errors_total", "counter",
	    "Failed store write attempts.", g->store_write_errors);
	scalar(f, "assay_store_dropped_notices_total", "counter",
	    "Notice events dropped while the write queue was full.", g->store_dropped);
	scalar(f, "assay_store_size_bytes", "gauge",
	    "Database file plus its write-ahead log, bytes.", g->store_db_bytes);
	if (g->events_rows >= 0) {
		scalar(f, "assay_store_events", "gauge",
		    "Rows in the event history (at the last retention step).", (uint64_t)g->events_rows);
	}
	scalar(f, "assay_events_pruned_total", "counter",
	    "Events deleted by retention.", g->events_pruned);
	scalar(f, "assay_events_folded_total", "counter",
	    "Repeated notices folded into an earlier event.", g->events_folded);
	if (g->cluster)
		render_cluster(f, g);
}
