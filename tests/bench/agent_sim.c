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
 *	agent i connects from 127.0.0.(2 + i / 128) (see connect() below).
 *	Runs until SIGTERM/SIGINT or MAXSEC; prints rounds, errors and TLS
 *	resumption at exit.
 *   agent_sim (no arguments)
 *	Short self-contained figure for `make bench`: a temp PKI, 200
 *	simulated agents and an in-process client polling them with quote
 *	verification, with and without TLS session resumption.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "common/http_int.h"
#include "common/proto/doc.h"
#include "common/proto/push.h"
#include "common/evidence/tpm_public.h"
#include "common/http.h"
#include "common/log.h"
#include "common/tls.h"
#include "tests/unit/quote_fixture.h"
#include "tools/certs.h"
#include "verifier/store.h"

#define SIM_PIN_PCR	0	/* the PCR the "sim" policy pins */

/* The TCG EK template's authPolicy: PolicySecret(TPM_RH_ENDORSEMENT). */
static const uint8_t ek_policy[32] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

struct sim;
struct push_sim;

#define SIM_NET		0x7f640000u	/* 127.100.0.0: agent addresses */
#define SIM_PER_NET	250u		/* agents per /24 of it: .1 to .250 */
#define SIM_MAX_AGENTS	(SIM_PER_NET * 256u)
#define SIM_MAX_PROCS	16u		/* serve -P */

struct sim_agent {
	struct sim		*sim;
	unsigned		 idx;
	uint16_t		 port;
	char			 addr[INET_ADDRSTRLEN];	/* 127.100.x.y */
	EVP_PKEY		*ak;
	uint8_t			*ak_pub, *ek_pub;
	size_t			 ak_pub_len, ek_pub_len;
	uint8_t			 qn[TPM2_NAME_MAX];
	size_t			 qn_len;
	uint64_t		 clock;
	/* push mode */
	char			 id[32];
	struct http_client	*client;	/* its own, as a real agent's */
	struct event		*timer;
	double			 backoff;	/* s: the jitter's ceiling, 0 after success */
	double			 received;	/* the challenge's receipt */
};

struct sim {
	struct event_base	*base;
	struct sim_agent	*a;
	size_t			 n;
	struct http_server	*srv;		/* serve: this process's agents */
	const char		*pkidir;
	uint16_t		 port;		/* listener k on port + k */
	unsigned		 nprocs, proc;	/* serving agents i % nprocs == proc */
	int			 lfd[SIM_MAX_PROCS];
	struct pcr_values	 vals;		/* sha1/sha256/sha384, PCRs 0-23 */
	double			 t0;
	uint64_t		 quotes, refused, resumed, kept;
	struct push_sim		*push;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_seconds(void)
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

/* TPM2B_PUBLIC of a P-256 key: an AK (ECDSA-SHA256 signer) or an EK. */
static uint8_t *
ecc_public(EVP_PKEY *k, int ek, size_t *len)
{
	BIGNUM *x = NULL, *y = NULL;
	uint8_t bx[32], by[32];
	struct buf t, o;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
	    BN_bn2binpad(x, bx, 32) != 32 || BN_bn2binpad(y, by, 32) != 32)
		abort();
	BN_free(x);
	BN_free(y);
	buf_init(&t);
	buf_put_u16be(&t, TPM2_ALG_ECC);
	buf_put_u16be(&t, TPM2_ALG_SHA256);
	if (ek) {
		buf_put_u32be(&t, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
		    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
		buf_put_tpm2b(&t, ek_policy, sizeof(ek_policy));
		buf_put_u16be(&t, TPM2_ALG_AES);	/* symmetric */
		buf_put_u16be(&t, 128);
		buf_put_u16be(&t, TPM2_ALG_CFB);
		buf_put_u16be(&t, TPM2_ALG_NULL);	/* scheme */
	} else {
		buf_put_u32be(&t, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
		    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
		    TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
		    TPMA_OBJECT_SIGN_ENCRYPT);
		buf_put_tpm2b(&t, NULL, 0);
		buf_put_u16be(&t, TPM2_ALG_NULL);	/* symmetric */
		buf_put_u16be(&t, TPM2_ALG_ECDSA);	/* scheme */
		buf_put_u16be(&t, TPM2_ALG_SHA256);
	}
	buf_put_u16be(&t, TPM2_ECC_NIST_P256);
	buf_put_u16be(&t, TPM2_ALG_NULL);		/* kdf */
	buf_put_tpm2b(&t, bx, 32);
	buf_put_tpm2b(&t, by, 32);
	buf_init(&o);
	buf_put_tpm2b(&o, t.d, t.len);
	buf_free(&t);
	return buf_steal(&o, len);
}

static void
agent_keys(struct sim_agent *a)
{
	struct tpm2_public ek, ak;
	EVP_PKEY *ekk = soft_key_ec();

	a->ak = soft_key_ec();
	a->ak_pub = ecc_public(a->ak, 0, &a->ak_pub_len);
	a->ek_pub = ecc_public(ekk, 1, &a->ek_pub_len);
	EVP_PKEY_free(ekk);
	if (tpm2_public_parse(a->ek_pub, a->ek_pub_len, &ek) != 0 ||
	    tpm2_public_parse(a->ak_pub, a->ak_pub_len, &ak) != 0 ||
	    tpm2_public_check_ak(&ak) != 0 ||
	    tpm2_ak_qualified_name(&ek, &ak, a->qn, &a->qn_len) != 0) {
		fprintf(stderr, "agent_sim: software keys: %s\n", assay_err_detail());
		exit(1);
	}
	tpm2_public_free(&ek);
	tpm2_public_free(&ak);
}

static void
sim_values(struct sim *s)
{
	static const uint16_t banks[] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256,
	    TPM2_ALG_SHA384 };
	uint8_t d[TPM2_MAX_DIGEST];

	pcr_values_init(&s->vals);
	for (size_t b = 0; b < sizeof(banks) / sizeof(banks[0]); b++) {
		const struct tpm2_hash *h = tpm2_hash_by_alg(banks[b]);

		for (unsigned i = 0; i < TPM2_PCR_COUNT; i++) {
			memset(d, (int)(0x40 + i), h->size);
			if (pcr_values_set(&s->vals, banks[b], i, d, h->size) != 0)
				abort();
		}
	}
}

/* TPMS_ATTEST for one quote of agent a. */
static uint8_t *
attest_build(struct sim_agent *a, const uint8_t *nonce, size_t nonce_len,
    const struct pcr_selection *sel, size_t *len)
{
	uint8_t dig[TPM2_MAX_DIGEST];
	uint64_t ms = (uint64_t)((now() - a->sim->t0) * 1000.0) + 1000;
	size_t dlen = 0;
	struct buf b;

	if (pcr_values_digest(&a->sim->vals, sel, TPM2_ALG_SHA256, dig,
	    &dlen) != 0)
		return NULL;
	a->clock = ms > a->clock ? ms : a->clock + 1;
	buf_init(&b);
	buf_put_u32be(&b, TPM2_GENERATED_VALUE);
	buf_put_u16be(&b, TPM2_ST_ATTEST_QUOTE);
	buf_put_tpm2b(&b, a->qn, a->qn_len);
	buf_put_tpm2b(&b, nonce, nonce_len);
	buf_put_u64be(&b, a->clock);		/* clockInfo */
	buf_put_u32be(&b, 1);			/* resetCount */
	buf_put_u32be(&b, 0);			/* restartCount */
	buf_put_u8(&b, 1);			/* safe */
	buf_put_u64be(&b, 0x2019102300163636ULL);	/* firmwareVersion */
	pcr_selection_marshal(sel, &b);
	buf_put_tpm2b(&b, dig, dlen);
	return buf_steal(&b, len);
}

/*
 * The evidence document agent a answers a quote request with (nonce and
 * selection): what GET /v1/quote answers, and what a push agent posts.
 * 0, or -1 for a bank not simulated.
 */
static int
sim_evidence(struct sim_agent *a, const uint8_t *nonce, size_t nonce_len,
    const struct pcr_selection *sel, struct evidence_doc *d)
{
	for (size_t i = 0; i < sel->n; i++)
		for (unsigned p = 0; p < TPM2_PCR_COUNT; p++) {
			const uint8_t *v;

			if ((sel->bank[i].mask & (1u << p)) == 0)
				continue;
			if ((v = pcr_values_get(&a->sim->vals, sel->bank[i].hash,
			    p)) == NULL)
				return -1;
			(void)pcr_values_set(&d->pcrs, sel->bank[i].hash, p, v,
			    tpm2_hash_by_alg(sel->bank[i].hash)->size);
		}
	if ((d->attest = attest_build(a, nonce, nonce_len, sel,
	    &d->attest_len)) == NULL)
		return -1;
	d->sig = soft_sign(a->ak, TPM2_ALG_ECDSA, TPM2_ALG_SHA256, 0, d->attest,
	    d->attest_len, &d->sig_len);
	return 0;
}

/* SSL ex_data: set once a connection answered a quote. */
static int sim_ssl_idx = -1;

/* Agent i's address, host order. */
static uint32_t
sim_agent_ip(size_t i)
{
	return SIM_NET + (uint32_t)(i / SIM_PER_NET) * 256u +
	    (uint32_t)(i % SIM_PER_NET) + 1u;
}

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

static char *
pki(const char *dir, const char *f)
{
	return xasprintf("%s/%s", dir, f);
}

static SSL_CTX *
ctx_for(const char *dir, const char *who, int server)
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
 * A listener for agents: the wildcard address on port, tied to the
 * loopback device where the kernel lets us (sim_agent_of refuses
 * connections to any other address anyway). The descriptor, or -1 (the
 * port is taken).
 */
static int
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
static void
sim_serve(struct sim *s, unsigned k)
{
	SSL_CTX *sctx = ctx_for(s->pkidir, "agent-sim", 1);
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

/*
 * The listeners port .. port + nprocs - 1 (none for port 0: push agents),
 * then keys for all; ASSAY_ERR_NET when a port is taken.
 */
static int
sim_start(struct sim *s, const char *pkidir, uint16_t port, unsigned nprocs,
    size_t n)
{
	s->n = n;
	s->a = xcalloc(n, sizeof(*s->a));
	s->t0 = now();
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
		agent_keys(a);
	}
	return ASSAY_OK;
}

static void
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

static char *
sim_policy_text(const struct sim *s)
{
	char *hex = hex_encode(pcr_values_get(&s->vals, TPM2_ALG_SHA256,
	    SIM_PIN_PCR), 32);
	char *t = xasprintf("name: sim\nbank: sha256\npcrs:\n  %d: [\"%s\"]\n",
	    SIM_PIN_PCR, hex);

	free(hex);
	return t;
}

/* Enrolled-and-admitted rows, written directly (see the header comment). */
static int
sim_populate(const struct sim *s, const char *db, int interval, int push)
{
	struct store *st = NULL;
	struct agent_rec rec;
	char addr[INET_ADDRSTRLEN + 8], *pol;
	int r;

	if ((r = store_open(db, &st)) != 0)
		return r;
	pol = sim_policy_text(s);
	r = store_policy_put(st, "sim", pol);
	free(pol);
	for (size_t i = 0; r == 0 && i < s->n; i++) {
		const struct sim_agent *a = &s->a[i];

		memset(&rec, 0, sizeof(rec));
		snprintf(addr, sizeof(addr), "%s:%u", a->addr, a->port);
		snprintf(rec.id, sizeof(rec.id), "%s", a->id);
		rec.ek_pub = a->ek_pub;
		rec.ek_pub_len = a->ek_pub_len;
		rec.ak_pub = a->ak_pub;
		rec.ak_pub_len = a->ak_pub_len;
		rec.cert_cn = "sim";
		rec.activated = 1;
		rec.admitted = 1;
		rec.state = AGENT_PENDING;
		rec.address = push ? NULL : addr;
		rec.push = push;
		rec.policy = "sim";
		rec.interval = interval;
		rec.registered_at = (int64_t)time(NULL);
		r = store_agent_put(st, &rec, NULL);
	}
	store_close(st);
	return r;
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/* Run base until SIGTERM/SIGINT or tv. */
static void
serve_loop(struct event_base *base, struct timeval *tv)
{
	struct event *sigt, *sigi, *deadline;

	sigt = evsignal_new(base, SIGTERM, on_stop, base);
	sigi = evsignal_new(base, SIGINT, on_stop, base);
	deadline = evtimer_new(base, on_stop, base);
	evsignal_add(sigt, NULL);
	evsignal_add(sigi, NULL);
	evtimer_add(deadline, tv);
	event_base_dispatch(base);
	event_free(sigt);
	event_free(sigi);
	event_free(deadline);
}

/* Process k of s->nprocs serves its agents until told to stop; 0. */
static int
serve_proc(struct sim *s, unsigned k, struct timeval *tv)
{
	s->base = event_base_new();
	sim_serve(s, k);
	serve_loop(s->base, tv);
	fprintf(stderr, "agent_sim: process %u of %u, %zu agents: %llu quotes "
	    "(%llu over connections kept open, %llu over resumed TLS "
	    "sessions, %llu refused) in %.0f s\n", k + 1, s->nprocs,
	    (s->n + s->nprocs - 1 - k) / s->nprocs,
	    (unsigned long long)s->quotes, (unsigned long long)s->kept,
	    (unsigned long long)s->resumed, (unsigned long long)s->refused,
	    now() - s->t0);
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
		serve_loop(base, tv);
	event_base_free(base);
	while (k-- > 0)
		(void)kill(pid[k], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	sim_free(s);
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	const char *pkidir, *db = NULL, *ready = NULL;
	struct timeval tv = { 300, 0 };
	long interval = 10, base, n, procs = 1;
	struct sim s;
	FILE *f;
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
	if (ready != NULL && (f = fopen(ready, "w")) != NULL) {
		fprintf(f, "%ld\n", n);
		fclose(f);
	}
	return procs == 1 ? serve_proc(&s, 0, &tv) : serve_procs(&s, &tv);
 usage:
	fprintf(stderr, "usage: agent_sim serve PKIDIR PORT N [-d DB] "
	    "[-i INTERVAL] [-P PROCS] [-r READYFILE] [-t MAXSEC]\n");
	return 2;
}

/* ---- push: N agents asking the verifier for their rounds --------------- */

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
	ps->rtt_sum += now() - a->received;
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
		a->received = now();
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
	double t_end = now() + secs;
	int fd, ok;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0)
		return -1;
	for (ok = 0; !ok && now() < t_end; ) {
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

static int
cmd_push(int argc, char **argv)
{
	const char *pkidir, *db = NULL, *ready = NULL;
	struct event *sigt, *sigi, *deadline;
	struct timeval tv = { 300, 0 };
	struct push_sim ps;
	long interval = 10, n;
	uint64_t hs = 0, res = 0, h1, r1;
	size_t cached;
	SSL_CTX *cctx;
	struct sim s;
	double t_start, c0;
	FILE *f;
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
	if (ready != NULL && (f = fopen(ready, "w")) != NULL) {
		fprintf(f, "%ld\n", n);
		fclose(f);
	}
	if (psim_wait_listening(ps.host, ps.port, (double)tv.tv_sec) != 0) {
		fprintf(stderr, "agent_sim: %s: not listening\n", argv[2]);
		return 1;
	}
	cctx = ctx_for(pkidir, "agent-sim", 0);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	for (long i = 0; i < n; i++) {
		struct sim_agent *a = &s.a[i];

		a->client = http_client_new(s.base, cctx);
		http_client_set_keepalive(a->client, 1);	/* as assay-agent */
		if ((a->timer = evtimer_new(s.base, psim_ask, a)) == NULL)
			abort();
		psim_arm(a, psim_jitter((double)interval));
	}
	sigt = evsignal_new(s.base, SIGTERM, on_stop, s.base);
	sigi = evsignal_new(s.base, SIGINT, on_stop, s.base);
	deadline = evtimer_new(s.base, on_stop, s.base);
	evsignal_add(sigt, NULL);
	evsignal_add(sigi, NULL);
	evtimer_add(deadline, &tv);
	t_start = now();
	c0 = cpu_seconds();
	event_base_dispatch(s.base);
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
	    100.0 * (cpu_seconds() - c0) / (now() - t_start), now() - t_start);
	event_free(sigt);
	event_free(sigi);
	event_free(deadline);
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

/* ---- no arguments: an in-process poller, a few seconds ----------------- */

struct poller {
	struct sim		*s;
	struct http_client	*c;
	struct pcr_selection	 sel;
	size_t			 next;
	int			 inflight;
	int			 stop;
	uint64_t		 ok, bad;
	uint8_t			 nonce[64][32];	/* one per slot */
};

struct slot {
	struct poller	*p;
	int		 i;
	size_t		 agent;
};

static void poll_one(struct slot *sl);

static void
poll_cb(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct slot *sl = arg;
	struct poller *p = sl->p;
	struct sim_agent *a = &p->s->a[sl->agent];
	struct evidence_doc d;
	struct tpm2_public ak;
	struct quote_evidence ev;
	struct quote_expect ex;
	struct quote_result res;
	struct verdict v;

	p->inflight--;
	evidence_doc_init(&d);
	verdict_init(&v);
	if (err != ASSAY_OK || status != 200 ||
	    evidence_doc_parse(body, len, &d) != 0 ||
	    tpm2_public_parse(a->ak_pub, a->ak_pub_len, &ak) != 0) {
		p->bad++;
		goto next;
	}
	memset(&ex, 0, sizeof(ex));
	ex.ak = ak.pkey;
	ex.ak_name = a->qn;
	ex.ak_name_len = a->qn_len;
	ex.nonce = p->nonce[sl->i];
	ex.nonce_len = 32;
	ex.sel = &p->sel;
	ev.attest = d.attest;
	ev.attest_len = d.attest_len;
	ev.sig = d.sig;
	ev.sig_len = d.sig_len;
	ev.pcrs = &d.pcrs;
	if (quote_verify(&ev, &ex, &res, &v) == ASSAY_OK)
		p->ok++;
	else
		p->bad++;
	tpm2_public_free(&ak);
 next:
	evidence_doc_free(&d);
	if (!p->stop)
		poll_one(sl);
	else if (p->inflight == 0)
		event_base_loopbreak(p->s->base);
}

static void
poll_one(struct slot *sl)
{
	struct poller *p = sl->p;
	char *nonce, *path;

	sl->agent = p->next++ % p->s->n;
	if (RAND_bytes(p->nonce[sl->i], 32) != 1)
		abort();
	nonce = hex_encode(p->nonce[sl->i], 32);
	path = xasprintf("/v1/quote?nonce=%s&pcrs=sha256:0-10", nonce);
	p->inflight++;
	if (http_client_request(p->c, "GET", p->s->a[sl->agent].addr,
	    p->s->a[sl->agent].port, path, NULL, NULL, 0, 10, "sim", poll_cb,
	    sl) != 0)
		abort();
	free(nonce);
	free(path);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	((struct poller *)arg)->stop = 1;
}

static void
run_poller(struct sim *s, SSL_CTX *cctx, int resume, double secs, int conc)
{
	struct slot slots[64];
	struct poller p;
	struct event *ev;
	struct timeval tv;
	uint64_t hs, res;
	size_t cached;
	double t0, c0, dt;

	memset(&p, 0, sizeof(p));
	p.s = s;
	p.c = http_client_new(s->base, cctx);
	http_client_set_resumption(p.c, resume);
	if (pcr_selection_parse("sha256:0-10", &p.sel) != 0)
		abort();
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	ev = evtimer_new(s->base, on_deadline, &p);
	evtimer_add(ev, &tv);
	t0 = now();
	c0 = cpu_seconds();
	for (int i = 0; i < conc; i++) {
		slots[i].p = &p;
		slots[i].i = i;
		poll_one(&slots[i]);
	}
	event_base_dispatch(s->base);
	dt = now() - t0;
	http_client_tls_stats(p.c, &hs, &res, &cached);
	printf("agent_sim in-process: %zu agents, %d in flight, resumption %s: "
	    "%.0f verified rounds/s (%llu bad), %.0f%% CPU of one core for "
	    "client + agents, %llu of %llu handshakes resumed\n", s->n, conc,
	    resume ? "on " : "off", (double)p.ok / dt,
	    (unsigned long long)p.bad, 100.0 * (cpu_seconds() - c0) / dt,
	    (unsigned long long)res, (unsigned long long)hs);
	event_free(ev);
	http_client_free(p.c);
}

static int
cmd_selftest(void)
{
	char dir[] = "/tmp/agent_sim.XXXXXX", *agents[] = { "sim" }, *cmd;
	SSL_CTX *cctx;
	struct sim s;
	uint16_t base;
	int r = 1, tries;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (certs_init(dir, NULL, agents, 1, 1, 1) != ASSAY_OK) {
		fprintf(stderr, "agent_sim: PKI: %s\n", assay_err_detail());
		goto out;
	}
	for (tries = 0; tries < 5; tries++) {
		memset(&s, 0, sizeof(s));
		s.base = event_base_new();
		base = (uint16_t)(20000 + (unsigned)(getpid() * 7 + tries * 997) % 10000);
		if (sim_start(&s, dir, base, 1, 200) == ASSAY_OK) {
			sim_serve(&s, 0);
			break;
		}
		sim_free(&s);
		event_base_free(s.base);
	}
	if (tries == 5)
		goto out;
	cctx = ctx_for(dir, "verifier", 0);
	run_poller(&s, cctx, 0, 2.0, 16);
	run_poller(&s, cctx, 1, 2.0, 16);
	SSL_CTX_free(cctx);
	sim_free(&s);
	event_base_free(s.base);
	r = 0;
 out:
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "agent_sim: cannot remove %s\n", dir);
	free(cmd);
	return r;
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
		return cmd_selftest();
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "push") == 0)
		return cmd_push(argc - 1, argv + 1);
	fprintf(stderr, "usage: agent_sim [serve PKIDIR PORT N [-d DB] "
	    "[-i INTERVAL] [-P PROCS] [-r READYFILE] [-t MAXSEC]]\n"
	    "       agent_sim push PKIDIR VERIFIER_HOST:PORT N [-d DB] "
	    "[-i INTERVAL] [-r READYFILE] [-t MAXSEC]\n");
	return 2;
}
