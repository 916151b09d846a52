/*
 * agent_sim.c — bench: one process, one event loop, N simulated assay
 * agents answering GET /v1/quote like assay-agent does (agent/api.c) over
 * HTTPS: agent i at 127.100.(i / 250).(i % 250 + 1):PORT, all of them
 * behind one listening socket on PORT (the address a connection was made
 * to names the agent, see sim_agent_of), so 20,000 agents need one
 * listener, not 20,000 descriptors. Each answers with a software
 * TPMS_ATTEST (magic, QUOTE, qualifiedSigner = the AK's qualified name
 * under a software EK, extraData = nonce, increasing clock, the requested
 * selection and the digest of fixed PCR values) signed by a per-agent
 * ECDSA P-256 AK, returned as the evidence document of common/evidence/doc.h.
 *
 *   agent_sim serve PKIDIR PORT N [-d DB] [-i INTERVAL] [-P PROCS] [-r READYFILE] [-t MAXSEC]
 *	The listener is bound to the wildcard address (one socket for all
 *	of 127.100/16), tied to the loopback device where allowed
 *	(SO_BINDTODEVICE), and answers only connections made to an agent's
 *	address; mTLS as for the real agent. Exit status 3: PORT taken.
 *	-P: PROCS processes (forked once the keys exist), process k
 *	serving agents i % PROCS == k on PORT + k: each holds the
 *	connections of its agents only (a descriptor limit per process).
 *	With -d, writes the N agents straight into the verifier's store
 *	(enrolled, activated, admitted, pending, policy "sim") and a static
 *	PCR policy "sim" before listening. This bypasses enrollment ON
 *	PURPOSE: enrollment (EK certificate, credential activation) is
 *	tested by the integration tests; here only polling is measured.
 *	Serves until SIGTERM/SIGINT or MAXSEC (default 300) seconds.
 *   agent_sim push PKIDIR VERIFIER_HOST:PORT N [-d DB] [-i INTERVAL] [-r READYFILE] [-t MAXSEC]
 *	N push agents (common/proto/push.h): no listener; each loops POST
 *	/v1/agents/sim-NNNNN/challenge (held by the verifier until its round
 *	is due), builds the evidence the challenge's request asks for (the
 *	same software quote as serve) and POSTs it to .../evidence, then asks
 *	again; all through the async client agent/push.c uses (one
 *	connection per request, one client and so one TLS session cache per
 *	agent), certificate agent-sim (CN "sim"). With -d
 *	the rows are written as push agents (no address). Waits until
 *	HOST:PORT accepts connections (after writing READYFILE), then
 *	spreads the first contacts over INTERVAL; errors back off with full
 *	jitter (1 s doubling to 60 s). Every agent holds a challenge request
 *	open most of the time and the verifier takes at most 256 connections
 *	from one address (a NAT in front of many agents, in its view), so
 *	agent i connects from 127.0.0.(2 + i / 128) (see connect() in agent_sim_push.c).
 *	Runs until SIGTERM/SIGINT or MAXSEC; prints rounds, errors and TLS
 *	resumption at exit.
 *   agent_sim (no arguments)
 *	Short self-contained figure for `make bench`: a temp PKI, 200
 *	simulated agents and an in-process client polling them with quote
 *	verification, with and without TLS session resumption.
 *
 * This file: main, the fleet's set-up and tear-down (listeners, keys,
 * addresses), clocks, TLS contexts and the stop signals; the modules are
 * listed in agent_sim.h.
 */
#include <sys/resource.h>

#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/http_int.h"
#include "common/log.h"
#include "common/tls.h"
#include "common/xmalloc.h"
#include "tests/bench/agent_sim.h"

double
sim_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
sim_cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Agent i's address, host order. */
static uint32_t
sim_agent_ip(size_t i)
{
	return SIM_NET + (uint32_t)(i / SIM_PER_NET) * 256u +
	    (uint32_t)(i % SIM_PER_NET) + 1u;
}

static char *
pki(const char *dir, const char *f)
{
	return xasprintf("%s/%s", dir, f);
}

SSL_CTX *
sim_tls_ctx(const char *dir, const char *who, int server)
{
	char *c = xasprintf("%s/%s.pem", dir, who), *k = xasprintf("%s/%s.key",
	    dir, who), *ca = pki(dir, "ca.pem");
	SSL_CTX *ctx = server ? tls_server_ctx(c, k, ca) : tls_client_ctx(c, k, ca);

	free(c);
	free(k);
	free(ca);
	if (ctx == NULL) {
		fprintf(stderr, "agent_sim: TLS %s: %s\n", who, assay_err_detail());
		exit(1);
	}
	return ctx;
}

/*
 * The listeners port .. port + nprocs - 1 (none for port 0: push agents),
 * then keys for all; ASSAY_ERR_NET when a port is taken.
 */
int
sim_start(struct sim *s, const char *pkidir, uint16_t port, unsigned nprocs,
    size_t n)
{
	s->n = n;
	s->a = xcalloc(n, sizeof(*s->a));
	s->t0 = sim_now();
	s->pkidir = pkidir;
	s->port = port;
	s->nprocs = nprocs;
	memset(s->lfd, -1, sizeof(s->lfd));
	sim_values(s);
	for (unsigned k = 0; port != 0 && k < nprocs; k++)
		if ((s->lfd[k] = sim_listen_fd((uint16_t)(port + k))) == -1)
			return ASSAY_ERR_NET;
	for (size_t i = 0; i < n; i++) {
		struct sim_agent *a = &s->a[i];
		struct in_addr ia;

		a->sim = s;
		a->idx = (unsigned)i;
		a->port = (uint16_t)(port + i % nprocs);
		ia.s_addr = htonl(sim_agent_ip(i));
		inet_ntop(AF_INET, &ia, a->addr, sizeof(a->addr));
		snprintf(a->id, sizeof(a->id), "sim-%05zu", i);
		sim_agent_keys(a);
	}
	return ASSAY_OK;
}

void
sim_free(struct sim *s)
{
	if (s->srv != NULL)
		http_server_free(s->srv);
	for (unsigned k = 0; k < s->nprocs; k++)
		if (s->lfd[k] != -1)
			close(s->lfd[k]);
	for (size_t i = 0; i < s->n; i++) {
		if (s->a[i].timer != NULL)
			event_free(s->a[i].timer);
		EVP_PKEY_free(s->a[i].ak);
		free(s->a[i].ak_pub);
		free(s->a[i].ek_pub);
	}
	free(s->a);
}

void
sim_on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* READYFILE: the fleet's size, for the script waiting on it. */
void
sim_write_ready(const char *path, long n)
{
	FILE *f;

	if (path != NULL && (f = fopen(path, "w")) != NULL) {
		fprintf(f, "%ld\n", n);
		fclose(f);
	}
}

/* Run base until SIGTERM/SIGINT or tv. */
void
sim_serve_loop(struct event_base *base, struct timeval *tv)
{
	struct event *sigt, *sigi, *deadline;

	sigt = evsignal_new(base, SIGTERM, sim_on_stop, base);
	sigi = evsignal_new(base, SIGINT, sim_on_stop, base);
	deadline = evtimer_new(base, sim_on_stop, base);
	evsignal_add(sigt, NULL);
	evsignal_add(sigi, NULL);
	evtimer_add(deadline, tv);
	event_base_dispatch(base);
	event_free(sigt);
	event_free(sigi);
	event_free(deadline);
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if ((sim_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    NULL)) < 0)
		abort();
	log_init("agent_sim", 0);
	if (argc == 1)
		return sim_cmd_selftest();
	if (strcmp(argv[1], "serve") == 0)
		return sim_cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "push") == 0)
		return sim_cmd_push(argc - 1, argv + 1);
	fprintf(stderr, "usage: agent_sim [serve PKIDIR PORT N [-d DB] "
	    "[-i INTERVAL] [-P PROCS] [-r READYFILE] [-t MAXSEC]]\n"
	    "       agent_sim push PKIDIR VERIFIER_HOST:PORT N [-d DB] "
	    "[-i INTERVAL] [-r READYFILE] [-t MAXSEC]\n");
	return 2;
}
