/*
 * agent_sim_selftest.c — `agent_sim` without arguments, for make bench: a
 * temp PKI, 200 simulated agents and an in-process client polling them
 * with quote verification, with and without TLS session resumption.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/quote.h"
#include "common/evidence/tpm_public.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/proto/doc.h"
#include "common/xmalloc.h"
#include "tools/certs.h"
#include "tests/bench/agent_sim.h"

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
	t0 = sim_now();
	c0 = sim_cpu_seconds();
	for (int i = 0; i < conc; i++) {
		slots[i].p = &p;
		slots[i].i = i;
		poll_one(&slots[i]);
	}
	event_base_dispatch(s->base);
	dt = sim_now() - t0;
	http_client_tls_stats(p.c, &hs, &res, &cached);
	printf("agent_sim in-process: %zu agents, %d in flight, resumption %s: "
	    "%.0f verified rounds/s (%llu bad), %.0f%% CPU of one core for "
	    "client + agents, %llu of %llu handshakes resumed\n", s->n, conc,
	    resume ? "on " : "off", (double)p.ok / dt,
	    (unsigned long long)p.bad, 100.0 * (sim_cpu_seconds() - c0) / dt,
	    (unsigned long long)res, (unsigned long long)hs);
	event_free(ev);
	http_client_free(p.c);
}

int
sim_cmd_selftest(void)
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
	cctx = sim_tls_ctx(dir, "verifier", 0);
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
