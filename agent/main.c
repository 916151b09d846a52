/*
 * main.c — assay-agent: configuration, TPM identity (EK, AK), mutual-TLS
 * server for the verifier's quote requests (pull mode) or none at all
 * (push mode: push.c calls the verifier), enrollment, signals.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "agent/agent.h"
#include "common/config.h"
#include "common/daemon.h"
#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/http.h"
#include "common/log.h"
#include "common/tls.h"
#include "common/xmalloc.h"

#define CONF(f) offsetof(struct aconf, f)

/*
 * Connections: one verifier and a few admins. Those without a completed
 * TLS handshake hold AGENT_MAX_UNAUTH slots at most and get
 * AGENT_HANDSHAKE_SEC; one address holds AGENT_MAX_PER_ADDR.
 */
#define AGENT_MAX_CONNS		16
#define AGENT_MAX_UNAUTH	8
#define AGENT_HANDSHAKE_SEC	3
#define AGENT_MAX_PER_ADDR	8

static const struct cfg_key aconf_keys[] = {
	{ "id", CFG_STR, CONF(id), 0, 0, "agent id (default: ek-<hash of the EK public>)" },
	{ "tcti", CFG_STR, CONF(tcti), 0, 0, "TPM access: device:/dev/tpmrm0 or swtpm:path=..." },
	{ "ek_alg", CFG_STR, CONF(ek_alg), 0, 0, "EK type: rsa (default) or ecc" },
	{ "ak_alg", CFG_STR, CONF(ak_alg), 0, 0, "AK type: ecc (P-256, default) or rsa (2048)" },
	{ "ak_handle", CFG_STR, CONF(ak_handle), 0, 0, "persistent handle of the AK (0x81000000-0x817fffff)" },
	{ "mode", CFG_STR, CONF(mode), 0, 0, "pull (the verifier connects, default) or push (no listener: the agent connects)" },
	{ "listen", CFG_STR, CONF(listen), 0, 0, "address:port for the verifier's requests (pull mode)" },
	{ "advertise", CFG_STR, CONF(advertise), 0, 0, "address:port the verifier should poll (pull mode)" },
	{ "verifier.address", CFG_STR, CONF(verifier), 0, 0, "address:port of the verifier" },
	{ "verifier.name", CFG_STR, CONF(verifier_name), 0, 0, "CN of the verifier's certificate" },
	{ "tls.cert", CFG_STR, CONF(tls_cert), 0, 0, "agent certificate (PEM, OU=agent)" },
	{ "tls.key", CFG_STR, CONF(tls_key), 0, 0, "its private key" },
	{ "tls.ca", CFG_STR, CONF(tls_ca), 0, 0, "CA bundle for the verifier's certificate" },
	{ "quote_rate", CFG_INT, CONF(quote_rate), 1, 1000, "quotes per second served at most" },
	{ "recheck", CFG_INT, CONF(recheck), 5, 86400, "seconds between enrollment checks" },
	{ "ima.path", CFG_STR, CONF(ima_path), 0, 0, "binary IMA measurement list (\"\" disables IMA)" },
	{ "eventlog.path", CFG_STR, CONF(eventlog_path), 0, 0, "firmware event log (\"\" disables it)" },
	{ "result.path", CFG_STR, CONF(result_path), 0, 0, "file kept holding this host's signed attestation result (EAR JWT) for local services (optional)" },
	{ "identity.key", CFG_STR, CONF(ident_key), 0, 0, "TSS2 PRIVATE KEY file of this host's TPM identity key, made on first start (optional)" },
	{ "identity.cert", CFG_STR, CONF(ident_cert), 0, 0, "file kept holding the identity certificate the verifier issues while the host is trusted" },
	{ "identity.chain", CFG_STR, CONF(ident_chain), 0, 0, "file kept holding the issuing CA chain" },
	{ "identity.parent", CFG_STR, CONF(ident_parent), 0, 0, "persistent handle of the storage key the identity key lives under (default 0x81000001, made if empty)" },
	{ NULL, 0, 0, 0, 0, NULL }
};

static int
alg_from(const char *s, uint16_t *alg)
{
	if (strcmp(s, "rsa") == 0)
		*alg = TPM2_ALG_RSA;
	else if (strcmp(s, "ecc") == 0)
		*alg = TPM2_ALG_ECC;
	else
		return ASSAY_ERR_CONFIG;
	return ASSAY_OK;
}

static int
aconf_load(const char *path, struct agent *a)
{
	struct aconf *c = &a->conf;
	unsigned long handle;
	char *end;

	memset(c, 0, sizeof(*c));
	c->tcti = xstrdup("device:/dev/tpmrm0");
	c->ek_alg = xstrdup("rsa");
	c->ak_alg = xstrdup("ecc");
	c->ak_handle = xstrdup("0x81010020");
	c->mode = xstrdup("pull");
	c->listen = xstrdup("0.0.0.0:8992");
	c->verifier_name = xstrdup("verifier");
	c->quote_rate = 5;
	c->recheck = 60;
	c->ima_path = xstrdup("/sys/kernel/security/ima/binary_runtime_measurements");
	c->eventlog_path = xstrdup("/sys/kernel/security/tpm0/binary_bios_measurements");
	if (config_load(path, aconf_keys, c) != 0)
		return ASSAY_ERR_CONFIG;
	if (c->verifier == NULL || c->tls_cert == NULL || c->tls_key == NULL ||
	    c->tls_ca == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: verifier.address, tls.cert, "
		    "tls.key and tls.ca are required", path);
	if (strcmp(c->mode, "pull") != 0 && strcmp(c->mode, "push") != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: mode '%s': must be pull "
		    "or push", path, c->mode);
	a->push = strcmp(c->mode, "push") == 0;
	if (alg_from(c->ek_alg, &a->tpm.ek_alg) != 0 ||
	    alg_from(c->ak_alg, &a->tpm.ak_alg) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: ek_alg/ak_alg must be rsa or ecc",
		    path);
	if (http_split_hostport(c->verifier, a->vhost, sizeof(a->vhost), &a->vport) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: verifier.address must be "
		    "host:port", path);
	daemon_resolve_path(path, &c->tls_cert);
	daemon_resolve_path(path, &c->tls_key);
	daemon_resolve_path(path, &c->tls_ca);
	daemon_resolve_path(path, &c->result_path);
	daemon_resolve_path(path, &c->ident_key);
	daemon_resolve_path(path, &c->ident_cert);
	daemon_resolve_path(path, &c->ident_chain);
	if (c->ident_key == NULL && (c->ident_cert != NULL ||
	    c->ident_chain != NULL))
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: identity.cert and "
		    "identity.chain need identity.key", path);
	a->tpm.tcti = c->tcti;
	errno = 0;
	handle = strtoul(c->ak_handle, &end, 16);
	if (errno != 0 || *end != '\0' || handle < 0x81000000UL || handle > 0x817fffffUL)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: ak_handle '%s' is not a "
		    "persistent owner handle (0x81000000-0x817fffff)", path, c->ak_handle);
	a->tpm.ak_handle = (uint32_t)handle;
	a->idparent = TPM_IDKEY_PARENT_DEFAULT;
	if (c->ident_parent != NULL) {
		errno = 0;
		handle = strtoul(c->ident_parent, &end, 16);
		if (errno != 0 || *end != '\0' || handle < 0x81000000UL ||
		    handle > 0x817fffffUL || handle == a->tpm.ak_handle)
			return assay_err_set(ASSAY_ERR_CONFIG, "%s: identity.parent "
			    "'%s' is not a persistent owner handle other than the "
			    "AK's", path, c->ident_parent);
		a->idparent = (uint32_t)handle;
	}
	return ASSAY_OK;
}

static int
str_differs(const char *x, const char *y)
{
	return (x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0);
}

/* Swap a string setting; returns whether it changed. */
static int
swap_str(char **cur, char **next)
{
	int changed = (*cur == NULL) != (*next == NULL) ||
	    (*cur != NULL && strcmp(*cur, *next) != 0);
	char *t = *cur;

	*cur = *next;
	*next = t;
	return changed;
}

/*
 * SIGHUP: re-read the configuration. Rate, recheck interval, verifier
 * name and the IMA/event log paths apply at once; identity, TPM, TLS and
 * addresses need a restart (said in the log, never half-applied).
 */
static void
reload(struct agent *a)
{
	struct agent n;

	memset(&n, 0, sizeof(n));
	if (aconf_load(a->conf_path, &n) != 0) {
		log_err("reload: %s; keeping the running configuration",
		    assay_err_detail());
		config_free(aconf_keys, &n.conf);
		return;
	}
	a->conf.quote_rate = n.conf.quote_rate;
	a->conf.recheck = n.conf.recheck;
	(void)swap_str(&a->conf.verifier_name, &n.conf.verifier_name);
	if (swap_str(&a->conf.ima_path, &n.conf.ima_path)) {
		for (size_t i = 0; i < a->nima; i++)
			ima_reader_free(&a->ima[i]);
		a->nima = 0;
		a->ima_warned = 0;
	}
	if (swap_str(&a->conf.eventlog_path, &n.conf.eventlog_path))
		a->eventlog_warned = 0;
	/* Compared only: these take effect on restart (a->tpm points into them). */
	if (str_differs(a->conf.tcti, n.conf.tcti) ||
	    str_differs(a->conf.listen, n.conf.listen) ||
	    str_differs(a->conf.tls_cert, n.conf.tls_cert) ||
	    str_differs(a->conf.tls_key, n.conf.tls_key) ||
	    str_differs(a->conf.tls_ca, n.conf.tls_ca) ||
	    str_differs(a->conf.verifier, n.conf.verifier) ||
	    str_differs(a->conf.id, n.conf.id) ||
	    str_differs(a->conf.mode, n.conf.mode))
		log_warnx("reload: id, mode, tcti, listen, tls.* and "
		    "verifier.address changes need a restart");
	config_free(aconf_keys, &n.conf);
	log_notice("configuration reloaded from %s", a->conf_path);
}

/* daemon_run's steps for the agent. */
static int
agent_configure(void *ctx, const char *config)
{
	struct agent *a = ctx;
	char host[256];
	uint16_t port;

	a->conf_path = config;
	if (aconf_load(config, a) != 0)
		return ASSAY_ERR_CONFIG;
	if (!a->push && http_split_hostport(a->conf.listen, host, sizeof(host),
	    &port) != 0)
		return assay_err_set(ASSAY_ERR_CONFIG, "%s: listen: not host:port",
		    config);
	if ((!a->push && (a->server_ctx = tls_server_ctx(a->conf.tls_cert,
	    a->conf.tls_key, a->conf.tls_ca)) == NULL) ||
	    (a->client_ctx = tls_client_ctx(a->conf.tls_cert, a->conf.tls_key,
	    a->conf.tls_ca)) == NULL)
		return assay_err_set(ASSAY_ERR_CONFIG, "TLS: %s",
		    assay_err_detail());
	return ASSAY_OK;
}

/* Pull mode: the HTTPS server the verifier polls. */
static int
agent_listen(struct agent *a, struct event_base *base)
{
	char host[256];
	uint16_t port;

	a->http = http_server_new(base, a->server_ctx, agent_routes, a);
	http_server_set_max_connections(a->http, AGENT_MAX_CONNS);
	/*
	 * Anyone who reaches the port can open connections: those without a
	 * completed handshake hold 8 slots at most (a new one closes the
	 * oldest) and get 3 s, so the verifier always finds a slot; one
	 * address holds 8 at most.
	 */
	http_server_set_unauth_limits(a->http, AGENT_MAX_UNAUTH,
	    AGENT_HANDSHAKE_SEC);
	http_server_set_max_per_addr(a->http, AGENT_MAX_PER_ADDR);
	(void)http_split_hostport(a->conf.listen, host, sizeof(host), &port);
	if (http_server_listen(a->http, host, port) != 0) {
		log_err("listen %s: %s", a->conf.listen, assay_err_detail());
		return ASSAY_ERR_NET;
	}
	log_notice("agent '%s' listening on %s:%u (AK %s, EK certificate %s)",
	    a->id, host, http_server_port(a->http),
	    a->tpm.ak_alg == TPM2_ALG_ECC ? "ecc" : "rsa",
	    a->ident.ek_cert != NULL ? "present" : "absent");
	return ASSAY_OK;
}

/*
 * Push mode opens no socket: enrollment first, then push.c. The first
 * contact waits a random 0..1 s so that a fleet started at once spreads.
 */
static int
agent_start(void *ctx, struct event_base *base)
{
	struct agent *a = ctx;
	int r;

	if (tpm_identity_load(&a->tpm, &a->ident) != 0) {
		log_err("TPM: %s", assay_err_detail());
		return ASSAY_ERR_TPM;
	}
	a->id = a->conf.id != NULL ? xstrdup(a->conf.id) :
	    agent_default_id(&a->ident);
	if (ident_setup(a) != 0) {
		log_err("identity key: %s", assay_err_detail());
		return ASSAY_ERR_TPM;
	}
	a->base = base;
	a->client = http_client_new(base, a->client_ctx);
	/* Push rounds: challenge and evidence over one TLS connection. */
	http_client_set_keepalive(a->client, a->push);
	a->tokens = (double)a->conf.quote_rate;
	if (!a->push && (r = agent_listen(a, base)) != 0)
		return r;
	if (a->push) {
		log_debug("push mode: no listener; listen and advertise ignored");
		log_notice("agent '%s' in push mode: no listener, the verifier is "
		    "%s:%u (AK %s, EK certificate %s)", a->id, a->vhost, a->vport,
		    a->tpm.ak_alg == TPM2_ALG_ECC ? "ecc" : "rsa",
		    a->ident.ek_cert != NULL ? "present" : "absent");
	}
	enroll_start(a, a->push ? push_jitter(1.0) : 0);
	return ASSAY_OK;
}

static void
agent_reload(void *ctx)
{
	reload(ctx);
}

static void
agent_stop(void *ctx)
{
	struct agent *a = ctx;

	for (size_t i = 0; i < a->nima; i++)
		ima_reader_free(&a->ima[i]);
	if (a->enroll_timer != NULL)
		event_free(a->enroll_timer);
	push_free(a);
	result_free(a);
	tpm_idkey_free(&a->idkey);
	http_server_free(a->http);
	http_client_free(a->client);
	SSL_CTX_free(a->server_ctx);
	SSL_CTX_free(a->client_ctx);
	tpm_identity_free(&a->ident);
	free(a->id);
	config_free(aconf_keys, &a->conf);
}

int
main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
		.prog = "assay-agent",
		.default_config = "/etc/assay/agent.yaml",
		.configure = agent_configure,
		.start = agent_start,
		.reload = agent_reload,
		.stop = agent_stop,
	};
	struct agent a;

	/* We log TPM errors ourselves, decoded; keep the TSS's own lines out. */
	setenv("TSS2_LOG", "all+NONE", 0);
	memset(&a, 0, sizeof(a));
	return daemon_run(argc, argv, &ops, &a);
}
