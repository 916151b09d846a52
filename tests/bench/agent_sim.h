/*
 * agent_sim.h — internal to the agent_sim bench (tests/bench/agent_sim*.c):
 * the simulated fleet (struct sim: N agents, their software keys and PCR
 * values, one event loop) and what its modules call of each other:
 *   agent_sim.c          main, the fleet's set-up and tear-down, clocks, TLS
 *   agent_sim_tpm.c      software TPM: keys, identity, quotes, evidence
 *   agent_sim_serve.c    pull: the agents' GET /v1/quote server (serve)
 *   agent_sim_push.c     push: agents asking the verifier for rounds (push)
 *   agent_sim_db.c       the verifier's store seeded with the fleet (-d)
 *   agent_sim_selftest.c no arguments: an in-process poller for make bench
 */
#ifndef ASSAY_AGENT_SIM_H
#define ASSAY_AGENT_SIM_H

#include <sys/time.h>

#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"
#include "common/proto/doc.h"

#define SIM_PIN_PCR	0	/* the PCR the "sim" policy pins */

#define SIM_NET		0x7f640000u	/* 127.100.0.0: agent addresses */
#define SIM_PER_NET	250u		/* agents per /24 of it: .1 to .250 */
#define SIM_MAX_AGENTS	(SIM_PER_NET * 256u)
#define SIM_MAX_PROCS	16u		/* serve -P */

struct sim;
struct push_sim;

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

/* agent_sim.c */
double sim_now(void);
double sim_cpu_seconds(void);
SSL_CTX *sim_tls_ctx(const char *dir, const char *who, int server);
int sim_start(struct sim *s, const char *pkidir, uint16_t port,
    unsigned nprocs, size_t n);
void sim_free(struct sim *s);
void sim_on_stop(evutil_socket_t fd, short what, void *arg);
void sim_serve_loop(struct event_base *base, struct timeval *tv);
void sim_write_ready(const char *path, long n);

/* agent_sim_tpm.c */
void sim_agent_keys(struct sim_agent *a);
void sim_values(struct sim *s);
int sim_evidence(struct sim_agent *a, const uint8_t *nonce, size_t nonce_len,
    const struct pcr_selection *sel, struct evidence_doc *d);

/* agent_sim_serve.c */
extern int sim_ssl_idx;
int sim_listen_fd(uint16_t port);
void sim_serve(struct sim *s, unsigned k);
int sim_cmd_serve(int argc, char **argv);

/* agent_sim_push.c */
int sim_cmd_push(int argc, char **argv);

/* agent_sim_db.c */
int sim_populate(const struct sim *s, const char *db, int interval, int push);

/* agent_sim_selftest.c */
int sim_cmd_selftest(void);

#endif
