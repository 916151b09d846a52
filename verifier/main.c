/*
 * main.c — assay-verifier: configuration, start-up (store, policies,
 * agents, EK trust, TLS, HTTP server, verify pool, scheduler), signals and
 * orderly shutdown.
 */
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/err.h"
#include "common/http.h"
#include "common/log.h"
#include "common/workq.h"
#include "common/tls.h"
#include "common/xmalloc.h"
#include "verifier/cluster.h"
#include "verifier/store_audit.h"
#include "verifier/ear.h"
#include "verifier/ident_ca.h"
#include "verifier/enroll.h"
#include "verifier/metrics.h"
#include "verifier/notify.h"
#include "verifier/push_rounds.h"
#include "common/appraise/policy.h"
#include "verifier/registrar.h"
#include "verifier/verifier.h"
#include "common/appraise/verify.h"
#include "verifier/verify_pool.h"

#define CONF(f) offsetof(struct vconf, f)

static const struct cfg_key vconf_keys[] = {
	{ "listen", CFG_STR, CONF(listen), 0, 0, "address:port of the API (agents and admins)" },
	{ "tls.cert", CFG_STR, CONF(tls_cert), 0, 0, "verifier certificate (PEM, OU=verifier)" },
	{ "tls.key", CFG_STR, CONF(tls_key), 0, 0, "its private key" },
	{ "tls.ca", CFG_STR, CONF(tls_ca), 0, 0, "CA bundle for admin and agent certificates" },
	{ "database", CFG_STR, CONF(db), 0, 0, "SQLite database path, or a PostgreSQL URI (postgresql://...) shared by many verifiers" },
	{ "node", CFG_STR, CONF(node), 0, 0, "this verifier's name among those sharing a PostgreSQL database (default: the host name)" },
	{ "cluster.heartbeat", CFG_INT, CONF(cluster_heartbeat), 1, 60, "seconds between heartbeats (PostgreSQL only)" },
	{ "cluster.lease_ttl", CFG_INT, CONF(cluster_lease_ttl), 2, 600, "seconds without a heartbeat before a verifier's agents are taken over (at least two heartbeats)" },
	{ "cluster.command_timeout", CFG_INT, CONF(cluster_cmd_timeout), 1, 300, "seconds an admin request waits for the verifier attesting the agent" },
	{ "ek.ca", CFG_STR, CONF(ek_ca), 0, 0, "directory (or file) of TPM vendor CA certificates" },
	{ "ek.allowlist", CFG_STR, CONF(ek_allowlist), 0, 0, "EK public SHA-256 allowlist for TPMs without EK certificates" },
	{ "policy_dir", CFG_STR, CONF(policy_dir), 0, 0, "directory of *.yaml/*.json policies loaded at start" },
	{ "resolv_conf", CFG_STR, CONF(resolv_conf), 0, 0, "resolver configuration for agent and webhook host names (default /etc/resolv.conf)" },
	{ "interval", CFG_INT, CONF(interval), 1, 86400, "default seconds between attestation rounds" },
	{ "timeout", CFG_INT, CONF(timeout), 1, 300, "seconds to wait for an agent's answer" },
	{ "max_backoff", CFG_INT, CONF(max_backoff), 1, 86400, "longest retry delay for unreachable agents" },
	{ "unreachable_after", CFG_INT, CONF(unreachable_after), 1, 100, "consecutive transport failures before unreachable" },
	{ "threads", CFG_INT, CONF(threads), 1, 256, "verification worker threads" },
	{ "max_inflight", CFG_INT, CONF(max_inflight), 1, 100000, "concurrent polls" },
	{ "max_connections", CFG_INT, CONF(max_conns), 0, 1000000, "API connections open at once (0: half the descriptor limit); the descriptors left keep pull connections to agents open between rounds" },
	{ "notify.webhooks", CFG_STRLIST, CONF(notify_webhooks), 0, 0, "https URLs POSTed a JSON body on every agent state change" },
	{ "notify.ca", CFG_STR, CONF(notify_ca), 0, 0, "CA bundle webhook servers must chain to (the pin)" },
	{ "notify.cert", CFG_STR, CONF(notify_cert), 0, 0, "client certificate presented to webhook servers (optional)" },
	{ "notify.key", CFG_STR, CONF(notify_key), 0, 0, "its private key" },
	{ "notify.server_name", CFG_STR, CONF(notify_server_name), 0, 0, "CN webhook server certificates must carry (optional)" },
	{ "notify.command", CFG_STR, CONF(notify_command), 0, 0, "command run with the JSON body on stdin on every state change" },
	{ "notify.timeout", CFG_INT, CONF(notify_timeout), 1, 300, "seconds per delivery attempt (webhook or command)" },
	{ "notify.max_inflight", CFG_INT, CONF(notify_max_inflight), 1, 1000, "deliveries running at once" },
	{ "notify.max_age", CFG_INT, CONF(notify_max_age), 60, 30 * 86400, "seconds of retries before a notification is given up" },
	{ "events.max_age", CFG_INT, CONF(events_max_age), 0, 100L * 365 * 86400, "seconds an event is kept after it last happened (0: forever)" },
	{ "events.max_per_agent", CFG_INT, CONF(events_max_per_agent), 0, 100000000, "newest events kept per agent (0: all)" },
	{ "audit_retention", CFG_INT, CONF(audit_retention), 0, 100L * 365 * 86400, "seconds audit trail records are kept (0: no audit trail)" },
	{ "events.prune_interval", CFG_INT, CONF(events_prune_interval), 1, 86400, "seconds between event pruning steps" },
	{ "ima_page_entries", CFG_INT, CONF(ima_page_entries), 1, IMA_LIST_MAX_ENTRIES, "IMA entries asked per round at most (one page; while more remain the next page is asked at once; needs a restart)" },
	{ "ima_inflight_mb", CFG_INT, CONF(ima_inflight_mb), 1, 65536, "MiB of IMA list the polls in flight may bring at once (each page is cut to what is free, 256 KiB at least; a poll waits when less is free)" },
	{ "results.key", CFG_STR, CONF(results_key), 0, 0, "PEM EC P-256 private key signing attestation results (ES256); unset: results are not signed" },
	{ "policy_signers", CFG_STRMAP, CONF(policy_signers), 0, 0, "policy name (or \"*\": every name) -> PEM public keys or CA certificates; a name with signers takes only DSSE envelopes one of them signed" },
	{ "results.previous_keys", CFG_STRLIST, CONF(results_prev), 0, 0, "PEM public keys of earlier results.key, still published in GET /v1/keys until their results expire" },
	{ "results.verifier_id", CFG_STR, CONF(results_verifier_id), 0, 0, "ear.verifier-id developer of the results (default https://github.com/assay/assay)" },
	{ "identity.ca_cert", CFG_STR, CONF(identity_ca_cert), 0, 0, "PEM CA certificate issuing host identities (then its intermediates); unset: no identities" },
	{ "identity.ca_key", CFG_STR, CONF(identity_ca_key), 0, 0, "its PEM private key" },
	{ "identity.trust_domain", CFG_STR, CONF(identity_trust_domain), 0, 0, "SPIFFE trust domain: identities are spiffe://<domain>/host/<agent id>" },
	{ "identity.intervals", CFG_INT, CONF(identity_intervals), 2, 100, "an identity is valid for this many round intervals after the host's last accepted round" },
	{ NULL, 0, 0, 0, 0, NULL }
};

/*
 * The HTTPS server: bodies 64 KiB unless a route says more; a request
 * (a 64 MiB policy upload) gets 120 s; one address 256 connections; a
 * TLS handshake 5 s.
 */
#define VERIFIER_BODY_DEFAULT	(64u * 1024)
#define VERIFIER_REQUEST_SEC	120
#define VERIFIER_MAX_PER_ADDR	256
#define VERIFIER_HANDSHAKE_SEC	5
#define CLIENT_FD_RESERVE	256	/* descriptors kept from parked polls */

/* Rows one pruning step deletes at most; a full step is followed at once. */
#define PRUNE_BATCH	500
#define AUDIT_PRUNE_BUDGET 0.05	/* s of the loop per retention step */

static void
vconf_defaults(struct vconf *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = xstrdup("127.0.0.1:8991");
	c->db = xstrdup("/var/lib/assay/verifier.db");
	c->interval = 10;
	c->timeout = 10;
	c->max_backoff = 300;
	c->unreachable_after = 3;
	c->threads = 2;
	c->max_inflight = 1024;
	c->notify_timeout = 10;
	c->notify_max_inflight = 8;
	c->notify_max_age = 86400;
	c->events_max_age = 90L * 86400;
	c->events_max_per_agent = 10000;
	c->events_prune_interval = 60;
	c->audit_retention = 7L * 86400;
	c->ima_page_entries = IMA_PAGE_ENTRIES;
	c->ima_inflight_mb = 256;
	c->cluster_heartbeat = CLUSTER_HEARTBEAT;
	c->cluster_lease_ttl = CLUSTER_LEASE_TTL;
	c->cluster_cmd_timeout = CLUSTER_CMD_TIMEOUT;
	c->identity_intervals = IDENT_INTERVALS_DEFAULT;
}

/* A "name\tpath" entry (CFG_STRMAP) with path made absolute. */
static void
resolve_pair(const char *config, char **e)
{
	char *tab = strchr(*e, '\t'), *p, *name;

	if (tab == NULL)
		return;
	name = xstrndup(*e, (size_t)(tab - *e));
	p = xstrdup(tab + 1);
	daemon_resolve_path(config, &p);
	free(*e);
	*e = xasprintf("%s\t%s", name, p);
	free(name);
	free(p);
}

static int
vconf_load(const char *path, struct vconf *c)
{
	int r;

	vconf_defaults(c);
	r = config_load(path, vconf_keys, c);	/* defaults at least: caller frees */
	if (r != 0)
		return ASSAY_ERR_CONFIG;
	if (c->tls_cert == NULL || c->tls_key == NULL || c->tls_ca == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: tls.cert, tls.key and tls.ca "
		    "are required", path);
	if (c->ek_ca == NULL && c->ek_allowlist == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: ek.ca or ek.allowlist is "
		    "required to enroll agents", path);
	daemon_resolve_path(path, &c->tls_cert);
	daemon_resolve_path(path, &c->tls_key);
	daemon_resolve_path(path, &c->tls_ca);
	if (c->cluster_lease_ttl < 2 * c->cluster_heartbeat)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: cluster.lease_ttl "
		    "must be at least two heartbeats (%ld s)", path,
		    2 * c->cluster_heartbeat);
	if (c->node != NULL && (*c->node == '\0' || strlen(c->node) > 64))
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: node: 1..64 "
		    "characters", path);
	if (!db_is_uri(c->db))
		daemon_resolve_path(path, &c->db);
	daemon_resolve_path(path, &c->ek_ca);
	daemon_resolve_path(path, &c->ek_allowlist);
	daemon_resolve_path(path, &c->policy_dir);
	daemon_resolve_path(path, &c->resolv_conf);
	daemon_resolve_path(path, &c->notify_ca);
	daemon_resolve_path(path, &c->notify_cert);
	daemon_resolve_path(path, &c->notify_key);
	daemon_resolve_path(path, &c->notify_command);
	daemon_resolve_path(path, &c->results_key);
	for (size_t i = 0; i < c->results_prev.n; i++)
		daemon_resolve_path(path, &c->results_prev.v[i]);
	if (c->results_key == NULL && c->results_prev.n > 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: results.previous_keys "
		    "needs results.key", path);
	for (size_t i = 0; i < c->policy_signers.n; i++)
		resolve_pair(path, &c->policy_signers.v[i]);
	daemon_resolve_path(path, &c->identity_ca_cert);
	daemon_resolve_path(path, &c->identity_ca_key);
	if ((c->identity_ca_cert != NULL) != (c->identity_ca_key != NULL) ||
	    (c->identity_ca_cert != NULL) != (c->identity_trust_domain != NULL))
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: identity.ca_cert, "
		    "identity.ca_key and identity.trust_domain go together", path);
	return notify_conf_check(c, path);
}

/*
 * The resolver for agents' and webhooks' host names: asynchronous on the
 * loop, so a slow name server delays only the rounds that need it. With
 * no readable configuration only IP addresses and /etc/hosts resolve.
 */
static struct evdns_base *
dns_new(struct event_base *base, const char *conf)
{
	const char *path = conf != NULL ? conf : "/etc/resolv.conf";
	struct evdns_base *dns;
	int r;

	if ((dns = evdns_base_new(base, 0)) == NULL)
		fatalx("evdns_base_new failed");
	if ((r = evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, path)) != 0) {
		log_warnx("resolver: %s not usable (evdns error %d): host names "
		    "resolve from /etc/hosts only", path, r);
		(void)evdns_base_load_hosts(dns, NULL);
	}
	return dns;
}

/*
 * Raise the soft file limit to the hard one (agents' polls, admin clients
 * and the database all need descriptors) and keep max_connections of it,
 * by default half, for the server's own connections.
 */
static int
max_connections(const struct verifier *v)
{
	struct rlimit rl;
	rlim_t half;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return v->conf.max_conns > 0 ? (int)v->conf.max_conns : 512;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (v->conf.max_conns > 0)
		return (int)v->conf.max_conns;
	half = rl.rlim_cur / 2;
	return half > 65536 ? 65536 : (int)half;
}

/*
 * Pull rounds keep one connection per agent open from one poll to the
 * next (no TLS handshake per round; the peer identity verified at the
 * connection's handshake carries over, common/http_client_pool.c) as far
 * as descriptors allow: what the server's half, the polls in flight and a
 * reserve (store, webhooks, resolver, logs) leave. Beyond that cap the
 * other agents get a fresh connection per poll, with TLS resumption.
 */
static void
client_keepalive(struct verifier *v)
{
	struct rlimit rl;
	long spare = 0;

	if (v->client == NULL)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		spare = rl.rlim_cur > (rlim_t)LONG_MAX / 2 ? LONG_MAX / 2 :
		    (long)rl.rlim_cur;
	spare -= max_connections(v) + v->conf.max_inflight + CLIENT_FD_RESERVE;
	http_client_set_keepalive(v->client, spare > 0);
	http_client_set_max_idle(v->client, spare > 0 ? (size_t)spare : 0);
}

static int
str_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0);
}

/*
 * SIGHUP: re-read the configuration and the policies. Timing, EK trust
 * and the policy directory apply at once; listen, tls.*, database,
 * threads and notify.* changes need a restart (logged, not half-applied).
 * A file that does not load leaves everything as it was.
 */
static void
reload(struct verifier *v)
{
	struct ek_trust *trust = NULL;
	struct vconf n;
	char **list_a, **list_b;
	size_t i;
	int restart = 0;

	if (vconf_load(v->conf_path, &n) != 0) {
		log_err("reload: %s; keeping the running configuration",
		    assay_err_detail());
		config_free(vconf_keys, &n);
		return;
	}
	if (str_differs(n.ek_ca, v->conf.ek_ca) ||
	    str_differs(n.ek_allowlist, v->conf.ek_allowlist)) {
		if (ek_trust_load(n.ek_ca, n.ek_allowlist, &trust) != 0) {
			log_err("reload: EK trust: %s; keeping the running configuration",
			    assay_err_detail());
			config_free(vconf_keys, &n);
			return;
		}
		ek_trust_free(v->trust);
		v->trust = trust;
	}
	v->conf.interval = n.interval;
	v->conf.timeout = n.timeout;
	v->conf.max_backoff = n.max_backoff;
	v->conf.unreachable_after = n.unreachable_after;
	v->conf.max_inflight = n.max_inflight;
	v->conf.max_conns = n.max_conns;
	if (v->http != NULL)
		http_server_set_max_connections(v->http, max_connections(v));
	client_keepalive(v);
	v->conf.ima_inflight_mb = n.ima_inflight_mb;
	v->conf.events_max_age = n.events_max_age;
	v->conf.events_max_per_agent = n.events_max_per_agent;
	v->conf.events_prune_interval = n.events_prune_interval;
	v->conf.audit_retention = n.audit_retention;
	v->prune_at = 0;
#define SWAP(f) do { char *t_ = v->conf.f; v->conf.f = n.f; n.f = t_; } while (0)
	SWAP(ek_ca);
	SWAP(ek_allowlist);
	SWAP(policy_dir);
#undef SWAP
	restart = str_differs(n.listen, v->conf.listen) ||
	    str_differs(n.resolv_conf, v->conf.resolv_conf) ||
	    n.ima_page_entries != v->conf.ima_page_entries ||
	    str_differs(n.tls_cert, v->conf.tls_cert) ||
	    str_differs(n.tls_key, v->conf.tls_key) ||
	    str_differs(n.tls_ca, v->conf.tls_ca) || str_differs(n.db, v->conf.db) ||
	    n.threads != v->conf.threads ||
	    str_differs(n.notify_ca, v->conf.notify_ca) ||
	    str_differs(n.notify_cert, v->conf.notify_cert) ||
	    str_differs(n.notify_key, v->conf.notify_key) ||
	    str_differs(n.notify_command, v->conf.notify_command) ||
	    str_differs(n.notify_server_name, v->conf.notify_server_name) ||
	    n.notify_webhooks.n != v->conf.notify_webhooks.n ||
	    str_differs(n.results_key, v->conf.results_key) ||
	    str_differs(n.results_verifier_id, v->conf.results_verifier_id) ||
	    n.results_prev.n != v->conf.results_prev.n ||
	    str_differs(n.identity_ca_cert, v->conf.identity_ca_cert) ||
	    str_differs(n.identity_ca_key, v->conf.identity_ca_key) ||
	    str_differs(n.identity_trust_domain, v->conf.identity_trust_domain) ||
	    n.identity_intervals != v->conf.identity_intervals;
	list_a = n.notify_webhooks.v;
	list_b = v->conf.notify_webhooks.v;
	for (i = 0; !restart && i < n.notify_webhooks.n; i++)
		restart = strcmp(list_a[i], list_b[i]) != 0;
	if (restart)
		log_warnx("reload: listen, tls.*, database, threads, resolv_conf, "
		    "notify.*, results.*, identity.* and ima_page_entries changes "
		    "need a restart");
	if (policy_signers_load(v, &n.policy_signers) != 0)
		log_err("reload: %s: the policy signers stay as they were",
		    assay_err_detail());
	config_free(vconf_keys, &n);
	if (policies_load(v) != 0)
		log_err("reload: policies: %s", assay_err_detail());
	log_notice("configuration and policies reloaded from %s", v->conf_path);
}

/*
 * Audit records come with every round (thousands a second in a large
 * fleet): while batches come back full, keep deleting, each batch its own
 * short transaction, for up to AUDIT_PRUNE_BUDGET of the loop per step.
 * Returns the last batch's count (PRUNE_BATCH: behind, step again soon).
 */
static size_t
audit_prune(struct verifier *v, int64_t now)
{
	double t0 = clock_mono();
	size_t m = 0, total = 0;

	do {
		if (store_audit_prune(v->store, now, v->conf.audit_retention,
		    PRUNE_BATCH, &m) != 0) {
			log_warnx("audit retention: %s", assay_err_detail());
			return 0;
		}
		total += m;
	} while (m >= PRUNE_BATCH && clock_mono() - t0 < AUDIT_PRUNE_BUDGET);
	if (total > 0)
		log_debug("audit retention: %zu records pruned", total);
	return m;
}

/*
 * Every second: retry the store's queued writes (they back off on their
 * own, 1 s doubling to 30 s), and when due, one small retention step.
 */
static void
store_tick(evutil_socket_t fd, short what, void *arg)
{
	struct verifier *v = arg;
	int64_t now = clock_unix();
	size_t n = 0, m = 0;

	(void)fd;
	(void)what;
	agents_store_retry(v);
	if (now < v->prune_at || store_wq_len(v->store) > 0)
		return;
	if (store_events_prune(v->store, now, v->conf.events_max_age,
	    v->conf.events_max_per_agent, PRUNE_BATCH, &n) != 0)
		log_warnx("event retention: %s", assay_err_detail());
	else if (n > 0)
		log_debug("event retention: %zu events pruned", n);
	m = audit_prune(v, now);
	n = n > m ? n : m;
	v->prune_at = now + (n >= PRUNE_BATCH ? 1 : v->conf.events_prune_interval);
}

static void
verifier_free(struct verifier *v)
{
	const char *k;
	void *val;
	size_t pos = 0;

	if (v->store_timer != NULL)
		event_free(v->store_timer);
	if (v->batch_timer != NULL)
		event_free(v->batch_timer);
	cluster_free(v->cluster);	/* answers held requests: before the server */
	verify_pool_free(v->pool);
	workq_free(v->adminq);		/* answers held uploads: before the server */
	notify_free(v->notify);
	http_server_free(v->http);
	http_client_free(v->client);
	if (v->dns != NULL)
		evdns_base_free(v->dns, 0);
	if (v->agents != NULL) {
		while (strmap_next(v->agents, &pos, &k, &val)) {
			struct vagent *va = val;

			sched_cancel(va);
			push_release(va);	/* answers dropped: server gone */
			if (va->ak_ok)
				tpm2_public_free(&va->ak);
			agent_rec_free(&va->rec);
			ident_doc_free(&va->ident);
			json_decref(va->audit_next);
			free(va);
		}
		strmap_free(v->agents);
	}
	if (v->policies != NULL) {
		pos = 0;
		while (strmap_next(v->policies, &pos, &k, &val))
			policy_unref(val);
		strmap_free(v->policies);
	}
	if (v->policy_revs != NULL) {
		pos = 0;
		while (strmap_next(v->policy_revs, &pos, &k, &val))
			free(val);
		strmap_free(v->policy_revs);
	}
	if (v->canaries != NULL) {
		while (strmap_count(v->canaries) > 0) {
			pos = 0;
			if (!strmap_next(v->canaries, &pos, &k, &val))
				break;
			policy_canary_clear(v, k);
		}
		strmap_free(v->canaries);
	}
	if (v->audit_pols != NULL)
		strmap_free(v->audit_pols);
	ek_trust_free(v->trust);
	signer_set_unref(v->signers);
	ear_keys_free(v->ear);
	ident_ca_free(v->ident);
	store_close(v->store);
	metrics_free(v->metrics);
	SSL_CTX_free(v->server_ctx);
	SSL_CTX_free(v->client_ctx);
	config_free(vconf_keys, &v->conf);
}

/* daemon_run's steps for the verifier. */
static int
verifier_configure(void *ctx, const char *config)
{
	struct verifier *v = ctx;
	char host[256];
	uint16_t port;

	v->conf_path = config;
	if (vconf_load(config, &v->conf) != 0)
		return ASSAY_ERR_CONFIG;
	if (http_split_hostport(v->conf.listen, host, sizeof(host), &port) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: listen: not host:port",
		    config);
	if ((v->server_ctx = tls_server_ctx(v->conf.tls_cert, v->conf.tls_key,
	    v->conf.tls_ca)) == NULL ||
	    (v->client_ctx = tls_client_ctx(v->conf.tls_cert, v->conf.tls_key,
	    v->conf.tls_ca)) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "TLS: %s",
		    assay_err_detail());
	/* A connection parked between polls holds no record buffers. */
	SSL_CTX_set_mode(v->client_ctx, SSL_MODE_RELEASE_BUFFERS);
	if (ek_trust_load(v->conf.ek_ca, v->conf.ek_allowlist, &v->trust) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "EK trust: %s",
		    assay_err_detail());
	if (v->conf.results_key != NULL && ear_keys_load(v->conf.results_key,
	    v->conf.results_prev.v, v->conf.results_prev.n,
	    v->conf.results_verifier_id, &v->ear) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "results: %s",
		    assay_err_detail());
	if (policy_signers_load(v, &v->conf.policy_signers) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s", assay_err_detail());
	if (v->conf.identity_ca_cert != NULL && ident_ca_load(
	    v->conf.identity_ca_cert, v->conf.identity_ca_key,
	    v->conf.identity_trust_domain, v->conf.identity_intervals,
	    &v->ident) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "identity: %s",
		    assay_err_detail());
	return notify_new(v, &v->notify);
}

/* The HTTPS server on the verifier's loop, listening. */
static int
verifier_listen(struct verifier *v)
{
	char host[256];
	uint16_t port;

	v->http = http_server_new(v->base, v->server_ctx, api_routes, v);
	/*
	 * Each route has its own body limit (api_routes: POLICY_TEXT_MAX for
	 * a policy upload only); any other body route gets 64 KiB.
	 */
	http_server_set_max_body(v->http, VERIFIER_BODY_DEFAULT);
	/* A 64 MiB policy upload needs more than the default 30 s. */
	http_server_set_request_deadline(v->http, VERIFIER_REQUEST_SEC);
	http_server_set_max_connections(v->http, max_connections(v));
	/*
	 * One address (a host, or a NAT for many push agents) holds 256
	 * connections at most; connections still in their TLS handshake a
	 * quarter of all slots and 5 s each, not the 120 s of a request.
	 */
	http_server_set_max_per_addr(v->http, VERIFIER_MAX_PER_ADDR);
	http_server_set_unauth_limits(v->http, 0, VERIFIER_HANDSHAKE_SEC);
	(void)http_split_hostport(v->conf.listen, host, sizeof(host), &port);
	if (http_server_listen(v->http, host, port) != 0) {
		log_err("listen %s: %s", v->conf.listen, assay_err_detail());
		return ASSAY_ERR_NET;
	}
	log_notice("listening on %s:%u, %zu agents, %zu policies", host,
	    http_server_port(v->http), strmap_count(v->agents),
	    strmap_count(v->policies));
	return ASSAY_OK;
}

static int
verifier_start(void *ctx, struct event_base *base)
{
	struct verifier *v = ctx;
	struct timeval sec = { 1, 0 };

	v->base = base;
	v->policy_changed = sched_policy_changed;
	v->started = clock_unix();
	v->metrics = metrics_new();
	v->agents = strmap_new();
	v->policies = strmap_new();
	v->policy_revs = strmap_new();
	v->canaries = strmap_new();
	v->audit_pols = strmap_new();
	if (store_open(v->conf.db, &v->store) != 0) {
		log_err("store: %s", assay_err_detail());
		return ASSAY_ERR_DB;
	}
	/* On PostgreSQL this node loads only the agents it holds. */
	if (policies_load(v) != 0 || (store_kind(v->store) == DB_SQLITE ?
	    agents_load(v) : cluster_start(v)) != 0) {
		log_err("start-up: %s", assay_err_detail());
		return ASSAY_ERR_CONFIG;
	}
	agents_batch_start(v);
	v->pool = verify_pool_new(base, (int)v->conf.threads, sched_verify_done, v);
	v->adminq = workq_new(base, 1);
	v->client = http_client_new(base, v->client_ctx);
	v->dns = dns_new(base, v->conf.resolv_conf);
	http_client_set_dns(v->client, v->dns);
	if (verifier_listen(v) != 0)
		return ASSAY_ERR_NET;
	client_keepalive(v);
	sched_start(v);
	notify_start(v->notify);
	v->store_timer = event_new(base, -1, EV_PERSIST, store_tick, v);
	event_add(v->store_timer, &sec);
	return ASSAY_OK;
}

/* -n: the database answers and has this verifier's schema. */
static int
verifier_check(void *ctx)
{
	struct verifier *v = ctx;
	int have, want;

	if (!db_is_uri(v->conf.db) && access(v->conf.db, F_OK) != 0) {
		printf("database %s: not created yet (created at start)\n",
		    v->conf.db);
		return ASSAY_OK;
	}
	if (store_check_schema(v->conf.db, &have, &want) != 0)
		return ASSAY_ERR_DB;
	printf("database %s: reachable, schema version %d\n",
	    db_is_uri(v->conf.db) ? "(PostgreSQL)" : v->conf.db, have);
	return ASSAY_OK;
}

static void
verifier_reload(void *ctx)
{
	reload(ctx);
}

static void
verifier_stop(void *ctx)
{
	verifier_free(ctx);
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
		.prog = "assay-verifier",
		.default_config = "/etc/assay/verifier.yaml",
		.configure = verifier_configure,
		.start = verifier_start,
		.reload = verifier_reload,
		.check = verifier_check,
		.stop = verifier_stop,
	};
	struct verifier v;

	memset(&v, 0, sizeof(v));
	return daemon_run(argc, argv, &ops, &v);
}
