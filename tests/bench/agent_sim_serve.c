/*
 * agent_sim_serve.c — `agent_sim serve`: the pull side. One listener per
 * process for all of its agents (the address a connection was made to
 * names the agent), GET /v1/quote answered as assay-agent does, and the
 * -P processes forked to share the fleet.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>

#include "common/err.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/proto/doc.h"
#include "common/proto/quote_req.h"
#include "tests/bench/agent_sim.h"

/* SSL ex_data: set once a connection answered a quote. */
int sim_ssl_idx = -1;

/* The agent r's connection was made to (its local address), or NULL. */
static struct sim_agent *
sim_agent_of(struct sim *s, struct http_request *r)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	uint32_t ip, hi, lo;
	size_t i;
	int fd = (int)bufferevent_getfd(evhttp_connection_get_bufferevent(
	    evhttp_request_get_connection(r->req)));

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&sin, &len) != 0 ||
	    sin.sin_family != AF_INET)
		return NULL;
	ip = ntohl(sin.sin_addr.s_addr);
	if ((ip & 0xffff0000u) != SIM_NET)
		return NULL;
	hi = (ip >> 8) & 0xffu;
	lo = ip & 0xffu;
	if (lo < 1 || lo > SIM_PER_NET)
		return NULL;
	i = (size_t)hi * SIM_PER_NET + lo - 1;
	return i < s->n && i % s->nprocs == s->proc ? &s->a[i] : NULL;
}

/* quote_req_parse's view of the request's query. */
static const char *
sim_query(void *ctx, const char *key)
{
	return http_query(ctx, key);
}

static void
api_quote(struct http_request *r)
{
	struct sim_agent *a = sim_agent_of(r->arg, r);
	const char *ctype;
	uint8_t *b = NULL;
	size_t n;
	struct evidence_doc d;
	struct quote_req q;
	SSL *ssl;

	if (a == NULL) {
		((struct sim *)r->arg)->refused++;
		http_reply_error(r, 404, "no agent at this address");
		return;
	}
	evidence_doc_init(&d);
	if (quote_req_parse(sim_query, r, &q) != 0) {
		a->sim->refused++;
		http_reply_error(r, 400, "%s", assay_err_detail());
		return;
	}
	if (sim_evidence(a, q.nonce, q.nonce_len, &q.sel, &d) != 0) {
		a->sim->refused++;
		evidence_doc_free(&d);
		http_reply_error(r, 400, "bank not simulated");
		return;
	}
	a->sim->quotes++;
	ssl = bufferevent_openssl_get_ssl(evhttp_connection_get_bufferevent(
	    evhttp_request_get_connection(r->req)));
	if (SSL_get_ex_data(ssl, sim_ssl_idx) != NULL)
		a->sim->kept++;		/* a connection kept open since */
	else if (SSL_session_reused(ssl))
		a->sim->resumed++;
	SSL_set_ex_data(ssl, sim_ssl_idx, a);
	/* The form asked, as assay-agent answers (quote_req.h). */
	if (evidence_doc_encode(&d, q.format, &b, &n, &ctype) != 0)
		http_reply_error(r, 500, "%s", assay_err_detail());
	else
		http_reply_raw(r, 200, ctype, b, n);
	free(b);
	evidence_doc_free(&d);
}

static const struct http_route sim_routes[] = {
	{ "GET", "/v1/quote", ROLE_VERIFIER, api_quote, 0 },
	{ NULL, NULL, 0, NULL, 0 },
};

/*
 * A listener for agents: the wildcard address on port, tied to the
 * loopback device where the kernel lets us (sim_agent_of refuses
 * connections to any other address anyway). The descriptor, or -1 (the
 * port is taken).
 */
int
sim_listen_fd(uint16_t port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		fprintf(stderr, "agent_sim: socket: %s\n", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3);
	http_set_nodelay(fd);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4096) == -1) {
		fprintf(stderr, "agent_sim: listen on port %u: %s\n",
		    (unsigned)port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Serve as process k of s->nprocs, on s->base: listener k, the agents
 * whose index is k modulo nprocs.
 */
void
sim_serve(struct sim *s, unsigned k)
{
	SSL_CTX *sctx = sim_tls_ctx(s->pkidir, "agent-sim", 1);
	struct rlimit rl;
	int conns = 1024;

	s->proc = k;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 1088)
		conns = rl.rlim_cur > 1000000 ? 1000000 : (int)rl.rlim_cur - 64;
	s->srv = http_server_new(s->base, sctx, sim_routes, s);
	SSL_CTX_free(sctx);
	/* One peer (the verifier) holds a connection per agent. */
	http_server_set_max_connections(s->srv, conns);
	http_server_set_max_per_addr(s->srv, conns);
	if (evhttp_accept_socket_with_handle(s->srv->http, s->lfd[k]) == NULL) {
		fprintf(stderr, "agent_sim: evhttp_accept_socket failed\n");
		exit(1);
	}
	s->srv->port = s->port + (uint16_t)k;
	for (unsigned i = 0; i < s->nprocs; i++)
		if (i != k)
			close(s->lfd[i]);
	memset(s->lfd, -1, sizeof(s->lfd));	/* evhttp owns k's */
}

/* Process k of s->nprocs serves its agents until told to stop; 0. */
static int
serve_proc(struct sim *s, unsigned k, struct timeval *tv)
{
	s->base = event_base_new();
	sim_serve(s, k);
	sim_serve_loop(s->base, tv);
	fprintf(stderr, "agent_sim: process %u of %u, %zu agents: %llu quotes "
	    "(%llu over connections kept open, %llu over resumed TLS "
	    "sessions, %llu refused) in %.0f s\n", k + 1, s->nprocs,
	    (s->n + s->nprocs - 1 - k) / s->nprocs,
	    (unsigned long long)s->quotes, (unsigned long long)s->kept,
	    (unsigned long long)s->resumed, (unsigned long long)s->refused,
	    sim_now() - s->t0);
	sim_free(s);
	event_base_free(s->base);
	return 0;
}

/* nprocs processes serve; this one waits, then stops them. */
static int
serve_procs(struct sim *s, struct timeval *tv)
{
	pid_t pid[SIM_MAX_PROCS];
	struct event_base *base;
	unsigned k;

	for (k = 0; k < s->nprocs; k++) {
		if ((pid[k] = fork()) == -1) {
			perror("agent_sim: fork");
			break;
		}
		if (pid[k] == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
			exit(serve_proc(s, k, tv));
		}
	}
	base = event_base_new();
	if (k == s->nprocs)
		sim_serve_loop(base, tv);
	event_base_free(base);
	while (k-- > 0)
		(void)kill(pid[k], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	sim_free(s);
	return 0;
}

int
sim_cmd_serve(int argc, char **argv)
{
	const char *pkidir, *db = NULL, *ready = NULL;
	struct timeval tv = { 300, 0 };
	long interval = 10, base, n, procs = 1;
	struct sim s;
	int ch;

	if (argc < 4)
		goto usage;
	pkidir = argv[1];
	base = strtol(argv[2], NULL, 10);
	n = strtol(argv[3], NULL, 10);
	optind = 4;
	while ((ch = getopt(argc, argv, "d:i:P:r:t:")) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'i': interval = strtol(optarg, NULL, 10); break;
		case 'P': procs = strtol(optarg, NULL, 10); break;
		case 'r': ready = optarg; break;
		case 't': tv.tv_sec = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (base < 1024 || procs < 1 || procs > (long)SIM_MAX_PROCS ||
	    base + procs > 65536 || n < 1 || n > (long)SIM_MAX_AGENTS)
		goto usage;
	memset(&s, 0, sizeof(s));
	if (sim_start(&s, pkidir, (uint16_t)base, (unsigned)procs,
	    (size_t)n) != 0)
		return 3;	/* port taken: the caller picks another base */
	if (db != NULL && sim_populate(&s, db, (int)interval, 0) != 0) {
		fprintf(stderr, "agent_sim: store %s: %s\n", db, assay_err_detail());
		return 1;
	}
	sim_write_ready(ready, n);
	return procs == 1 ? serve_proc(&s, 0, &tv) : serve_procs(&s, &tv);
 usage:
	fprintf(stderr, "usage: agent_sim serve PKIDIR PORT N [-d DB] "
	    "[-i INTERVAL] [-P PROCS] [-r READYFILE] [-t MAXSEC]\n");
	return 2;
}
