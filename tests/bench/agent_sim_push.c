/*
 * agent_sim_push.c — `agent_sim push`: N push agents, each looping
 * challenge, evidence, verdict against the verifier through the async
 * HTTP client, with jittered backoff on errors; connect() is interposed
 * here to spread the agents over source addresses.
 */
#include <sys/socket.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/err.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/proto/doc.h"
#include "common/proto/push.h"
#include "common/xmalloc.h"
#include "tests/bench/agent_sim.h"

#define PSIM_CHALLENGE_TIMEOUT	90	/* s: the verifier holds it (long poll) */
#define PSIM_EVIDENCE_TIMEOUT	60	/* s: upload and appraisal */
#define PSIM_CHALLENGE_MAX	(64u * 1024)	/* response bytes, as agent/push.c */
#define PSIM_VERDICT_MAX	(256u * 1024)
#define PSIM_BACKOFF_MIN	1.0	/* s */
#define PSIM_BACKOFF_MAX	60.0	/* s */
#define PSIM_PER_ADDR		128	/* agents per source address */
#define PSIM_LOG_ERRORS		10	/* errors logged one by one, then counted */

struct push_sim {
	struct sim		*s;
	char			 host[256];
	uint16_t		 port;
	uint64_t		 rounds, trusted, waits, errors, challenges;
	double			 rtt_sum;	/* challenge receipt to verdict, s */
};

/*
 * The source address of the connection being opened (host order; 0: the
 * kernel's choice). connect() below binds every socket this process
 * connects to 127.x to it first: the verifier takes at most 256
 * connections per peer address, and here one host plays N agents that
 * each hold a challenge request open. (Interposed here, for the bench
 * only: libevent calls connect(), and the client is common code.)
 */
static uint32_t psim_src;

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in *to = (const struct sockaddr_in *)(const void *)sa;
	struct sockaddr_in src;
	int one = 1;

	if (psim_src != 0 && sa != NULL && sa->sa_family == AF_INET &&
	    len >= (socklen_t)sizeof(*to) &&
	    (ntohl(to->sin_addr.s_addr) >> 24) == 127) {
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(psim_src);
#ifdef IP_BIND_ADDRESS_NO_PORT
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
#else
		(void)one;
#endif
		/* Failing (already bound): the kernel's choice, as without. */
		(void)bind(fd, (struct sockaddr *)&src, sizeof(src));
	}
	return (int)syscall(SYS_connect, fd, sa, len);
}

static double
psim_jitter(double max)
{
	return max * ((double)random() / (double)RAND_MAX);
}

static void
psim_arm(struct sim_agent *a, double delay)
{
	struct timeval tv;

	if (delay < 0)
		delay = 0;
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	evtimer_add(a->timer, &tv);
}

/* A failed step: the next challenge after a jittered, growing delay. */
static void __attribute__((format(printf, 2, 3)))
psim_fail(struct sim_agent *a, const char *fmt, ...)
{
	struct push_sim *ps = a->sim->push;
	char why[300];
	va_list ap;

	ps->errors++;
	a->backoff = a->backoff == 0 ? PSIM_BACKOFF_MIN :
	    (a->backoff * 2 > PSIM_BACKOFF_MAX ? PSIM_BACKOFF_MAX : a->backoff * 2);
	if (ps->errors <= PSIM_LOG_ERRORS) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		fprintf(stderr, "agent_sim: %s: %s (backoff %.0f s)%s\n", a->id,
		    why, a->backoff, ps->errors == PSIM_LOG_ERRORS ?
		    "; further errors only counted" : "");
	}
	psim_arm(a, psim_jitter(a->backoff));
}

/* A body's "error" member, or its start. */
static void
psim_error_text(const uint8_t *body, size_t len, char *buf, size_t buflen)
{
	json_t *j = json_loadb((const char *)body, len, 0, NULL);
	const char *e = json_string_value(json_object_get(j, "error"));

	snprintf(buf, buflen, "%.200s", e != NULL ? e :
	    body != NULL ? (const char *)body : "");
	json_decref(j);
}

static void
psim_verdict(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct sim_agent *a = arg;
	struct push_sim *ps = a->sim->push;
	struct push_verdict v;
	json_t *j = NULL;
	char why[300];

	if (err != 0) {
		psim_fail(a, "sending evidence: %s", assay_err_detail());
		return;
	}
	if (status != 200) {
		psim_error_text(body, len, why, sizeof(why));
		psim_fail(a, "evidence: HTTP %d: %s", status, why);
		return;
	}
	if (http_json_load(body, len, &j, why, sizeof(why)) != 0 ||
	    push_verdict_parse(j, &v) != 0) {
		psim_fail(a, "malformed verdict: %s", j == NULL ? why :
		    assay_err_detail());
		json_decref(j);
		return;
	}
	json_decref(j);
	ps->rounds++;
	ps->rtt_sum += sim_now() - a->received;
	if (strcmp(v.state, "trusted") == 0)
		ps->trusted++;
	a->backoff = 0;
	psim_arm(a, (double)v.next_ms / 1000.0);
	push_verdict_free(&v);
}

/* Agent a's answer to challenge ch: the evidence, posted. */
static void
psim_answer(struct sim_agent *a, const struct push_challenge *ch)
{
	struct push_sim *ps = a->sim->push;
	struct evidence_doc d;
	struct quote_req q;
	const char *ctype;
	uint8_t *body = NULL;
	char *path;
	size_t n;

	evidence_doc_init(&d);
	if (push_request_parse(ch->request, &q) != 0) {
		psim_fail(a, "challenge request: %s", assay_err_detail());
		goto out;
	}
	if (sim_evidence(a, q.nonce, q.nonce_len, &q.sel, &d) != 0) {
		a->sim->refused++;
		psim_fail(a, "challenge asks a bank not simulated: %s",
		    ch->request);
		goto out;
	}
	a->sim->quotes++;
	/* The form asked, as assay-agent answers (quote_req.h). */
	if (evidence_doc_encode(&d, q.format, &body, &n, &ctype) != 0) {
		psim_fail(a, "cannot encode the evidence document");
		goto out;
	}
	if (n > ch->max_bytes) {
		psim_fail(a, "evidence of %zu bytes, over the verifier's %llu", n,
		    (unsigned long long)ch->max_bytes);
		goto out;
	}
	path = xasprintf(PUSH_EVIDENCE_PATH "?challenge=%s", a->id, ch->id);
	psim_src = 0x7f000002u + a->idx / PSIM_PER_ADDR;
	if (http_client_request_max(a->client, "POST", ps->host, ps->port, path,
	    ctype, body, n, PSIM_EVIDENCE_TIMEOUT, "verifier",
	    PSIM_VERDICT_MAX, psim_verdict, a) != 0)
		psim_fail(a, "%s", assay_err_detail());
	psim_src = 0;
	free(path);
 out:
	free(body);
	evidence_doc_free(&d);
}

static void
psim_challenge(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct sim_agent *a = arg;
	struct push_sim *ps = a->sim->push;
	struct push_challenge ch;
	json_t *j = NULL;
	char why[300];

	if (err != 0) {
		psim_fail(a, "asking for a challenge: %s", assay_err_detail());
		return;
	}
	if (status != 200) {
		psim_error_text(body, len, why, sizeof(why));
		psim_fail(a, "challenge: HTTP %d: %s", status, why);
		return;
	}
	if (http_json_load(body, len, &j, why, sizeof(why)) != 0 ||
	    push_challenge_parse(j, &ch) != 0) {
		psim_fail(a, "malformed challenge: %s", j == NULL ? why :
		    assay_err_detail());
		json_decref(j);
		return;
	}
	json_decref(j);
	a->backoff = 0;
	if (ch.id[0] == '\0') {
		ps->waits++;
		psim_arm(a, (double)ch.wait_ms / 1000.0);
	} else {
		ps->challenges++;
		a->received = sim_now();
		psim_answer(a, &ch);
	}
	push_challenge_free(&ch);
}

static void
psim_ask(evutil_socket_t fd, short what, void *arg)
{
	struct sim_agent *a = arg;
	struct push_sim *ps = a->sim->push;
	char *path = xasprintf(PUSH_CHALLENGE_PATH, a->id);

	psim_src = 0x7f000002u + a->idx / PSIM_PER_ADDR;
	if (http_client_request_max(a->client, "POST", ps->host, ps->port, path,
	    "application/json", "{}", 2, PSIM_CHALLENGE_TIMEOUT, "verifier",
	    PSIM_CHALLENGE_MAX, psim_challenge, a) != 0)
		psim_fail(a, "%s", assay_err_detail());
	psim_src = 0;
	free(path);
}

/* Block until host:port accepts a connection (the verifier is up); 0 or -1. */
static int
psim_wait_listening(const char *host, uint16_t port, double secs)
{
	struct addrinfo hints, *res = NULL;
	char serv[8];
	double t_end = sim_now() + secs;
	int fd, ok;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0)
		return -1;
	for (ok = 0; !ok && sim_now() < t_end; ) {
		if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) == -1)
			break;
		ok = connect(fd, res->ai_addr, res->ai_addrlen) == 0;
		close(fd);
		if (!ok)
			usleep(100000);
	}
	freeaddrinfo(res);
	return ok ? 0 : -1;
}

int
sim_cmd_push(int argc, char **argv)
{
	const char *pkidir, *db = NULL, *ready = NULL;
	struct timeval tv = { 300, 0 };
	struct push_sim ps;
	long interval = 10, n;
	uint64_t hs = 0, res = 0, h1, r1;
	size_t cached;
	SSL_CTX *cctx;
	struct sim s;
	double t_start, c0;
	int ch;

	if (argc < 4)
		goto usage;
	memset(&ps, 0, sizeof(ps));
	pkidir = argv[1];
	if (http_split_hostport(argv[2], ps.host, sizeof(ps.host), &ps.port) != 0)
		goto usage;
	n = strtol(argv[3], NULL, 10);
	if (n < 1 || n > 100000)
		goto usage;
	optind = 4;
	while ((ch = getopt(argc, argv, "d:i:r:t:")) != -1) {
		switch (ch) {
		case 'd': db = optarg; break;
		case 'i': interval = strtol(optarg, NULL, 10); break;
		case 'r': ready = optarg; break;
		case 't': tv.tv_sec = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (interval < 1)
		goto usage;
	memset(&s, 0, sizeof(s));
	s.base = event_base_new();
	s.push = &ps;
	ps.s = &s;
	(void)sim_start(&s, pkidir, 0, 1, (size_t)n);
	if (db != NULL && sim_populate(&s, db, (int)interval, 1) != 0) {
		fprintf(stderr, "agent_sim: store %s: %s\n", db, assay_err_detail());
		return 1;
	}
	sim_write_ready(ready, n);
	if (psim_wait_listening(ps.host, ps.port, (double)tv.tv_sec) != 0) {
		fprintf(stderr, "agent_sim: %s: not listening\n", argv[2]);
		return 1;
	}
	cctx = sim_tls_ctx(pkidir, "agent-sim", 0);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	for (long i = 0; i < n; i++) {
		struct sim_agent *a = &s.a[i];

		a->client = http_client_new(s.base, cctx);
		http_client_set_keepalive(a->client, 1);	/* as assay-agent */
		if ((a->timer = evtimer_new(s.base, psim_ask, a)) == NULL)
			abort();
		psim_arm(a, psim_jitter((double)interval));
	}
	t_start = sim_now();
	c0 = sim_cpu_seconds();
	sim_serve_loop(s.base, &tv);
	SSL_CTX_free(cctx);
	for (long i = 0; i < n; i++) {
		http_client_tls_stats(s.a[i].client, &h1, &r1, &cached);
		hs += h1;
		res += r1;
	}
	fprintf(stderr, "agent_sim: %ld push agents: %llu rounds (%llu "
	    "trusted, %.0f ms challenge to verdict), %llu waits, %llu errors, "
	    "%llu of %llu handshakes resumed, %.0f%% CPU, in %.0f s\n", n,
	    (unsigned long long)ps.rounds, (unsigned long long)ps.trusted,
	    ps.rounds ? 1000.0 * ps.rtt_sum / (double)ps.rounds : 0.0,
	    (unsigned long long)ps.waits, (unsigned long long)ps.errors,
	    (unsigned long long)res, (unsigned long long)hs,
	    100.0 * (sim_cpu_seconds() - c0) / (sim_now() - t_start), sim_now() - t_start);
	for (long i = 0; i < n; i++)
		http_client_free(s.a[i].client);
	sim_free(&s);
	event_base_free(s.base);
	return 0;
 usage:
	fprintf(stderr, "usage: agent_sim push PKIDIR VERIFIER_HOST:PORT N "
	    "[-d DB] [-i INTERVAL] [-r READYFILE] [-t MAXSEC]\n");
	return 2;
}
