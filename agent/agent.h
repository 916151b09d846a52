/*
 * agent.h — the agent's process context: configuration, TPM identity,
 * TLS contexts, HTTP server and client, and the enrollment state.
 * Everything here belongs to the event loop thread.
 */
#ifndef ASSAY_AGENT_H
#define ASSAY_AGENT_H

#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "agent/ima_reader.h"
#include "agent/tpm.h"
#include "common/evidence/tpm2.h"
#include "common/http.h"

struct aconf {
	char	*id;			/* default: derived from the EK */
	char	*tcti;
	char	*ek_alg, *ak_alg;	/* "rsa" | "ecc" */
	char	*ak_handle;		/* "0x81010020" */
	char	*listen;		/* "0.0.0.0:8992" */
	char	*advertise;		/* address the verifier polls */
	char	*verifier;		/* "host:port" of the verifier */
	char	*verifier_name;		/* expected verifier certificate CN */
	char	*tls_cert, *tls_key, *tls_ca;
	long	 quote_rate;		/* quotes per second allowed */
	long	 recheck;		/* seconds between enrollment checks */
	char	*ima_path;		/* binary IMA list, "" to disable */
	char	*eventlog_path;		/* firmware event log, "" to disable */
};

enum enroll_state { ENROLL_NONE, ENROLL_REGISTERING, ENROLL_ACTIVATING, ENROLL_DONE };

struct agent {
	struct event_base	*base;
	const char		*conf_path;
	struct aconf		 conf;
	struct tpm_cfg		 tpm;
	struct tpm_identity	 ident;
	char			*id;
	SSL_CTX			*server_ctx, *client_ctx;
	struct http_server	*http;
	struct http_client	*client;
	char			 vhost[256];
	uint16_t		 vport;
	/* enrollment */
	int			 enroll;
	struct event		*enroll_timer;
	int			 enroll_failures;
	/* quote rate limit (token bucket) */
	double			 tokens;
	double			 last_refill;
	uint64_t		 n_quotes;
	/* IMA lists: [0] the classic SHA-1 list, then per-bank lists */
	struct ima_reader	 ima[TPM2_MAX_BANKS];
	size_t			 nima;
	int			 ima_warned;
	int			 eventlog_warned;
};

/* api.c */
extern const struct http_route agent_routes[];
/* enroll.c */
void	enroll_start(struct agent *a, double delay);
char	*agent_default_id(const struct tpm_identity *id);

#endif
