/*
 * agent.h — the agent's process context: configuration, TPM identity,
 * TLS contexts, HTTP server (pull mode) and client, the enrollment state
 * and the push loop (push mode).
 * Everything here belongs to the event loop thread.
 */
#ifndef ASSAY_AGENT_H
#define ASSAY_AGENT_H

#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "agent/ima_reader.h"
#include "agent/tpm.h"
#include "common/proto/doc.h"
#include "common/proto/quote_req.h"
#include "common/evidence/tpm2.h"
#include "common/http.h"

struct aconf {
	char	*id;			/* default: derived from the EK */
	char	*tcti;
	char	*ek_alg, *ak_alg;	/* "rsa" | "ecc" */
	char	*ak_handle;		/* "0x81010020" */
	char	*mode;		/* "pull" (default) | "push" */
	char	*listen;		/* "0.0.0.0:8992" (pull mode) */
	char	*advertise;		/* address the verifier polls (pull mode) */
	char	*verifier;		/* "host:port" of the verifier */
	char	*verifier_name;		/* expected verifier certificate CN */
	char	*tls_cert, *tls_key, *tls_ca;
	long	 quote_rate;		/* quotes per second allowed */
	long	 recheck;		/* seconds between enrollment checks */
	char	*ima_path;		/* binary IMA list, "" to disable */
	char	*eventlog_path;		/* firmware event log, "" to disable */
	char	*result_path;		/* its signed result (EAR), optional */
	char	*ident_key;		/* TPM identity key file (TSS2 PEM), optional */
	char	*ident_cert;		/* its certificate, kept current */
	char	*ident_chain;		/* the issuing CA chain */
	char	*ident_parent;		/* "0x81000001" */
};

enum enroll_state { ENROLL_NONE, ENROLL_REGISTERING, ENROLL_ACTIVATING, ENROLL_DONE };

struct push_loop;

struct agent {
	struct event_base	*base;
	const char		*conf_path;
	struct aconf		 conf;
	struct tpm_cfg		 tpm;
	struct tpm_identity	 ident;
	char			*id;
	SSL_CTX			*server_ctx, *client_ctx;
	struct http_server	*http;		/* NULL in push mode */
	int			 push;		/* mode: push */
	struct push_loop	*pushl;		/* push.c's, once enrolled */
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
	/* the signed result (result.c) */
	struct event		*result_timer;
	double			 result_off;	/* verifier signs none: until then */
	/* the host identity (ident.c) */
	struct tpm_idkey	 idkey;		/* pub NULL: none configured */
	uint32_t		 idparent;
	double			 ident_off;	/* verifier issues none: until then */
	int			 ident_volunteer; /* certify unasked next round */
};

/* api.c */
extern const struct http_route agent_routes[];
/* Take a quote token: 0, or the seconds until one is available (none taken). */
double	quote_token_take(struct agent *a);
/* enroll.c */
void	enroll_start(struct agent *a, double delay);
char	*agent_default_id(const struct tpm_identity *id);
/* result.c: the agent's signed result, kept in result.path */
void	result_store(struct agent *a, const char *jwt, size_t len);
/* Pull mode, a quote served: fetch its result once judged. */
void	result_after_quote(struct agent *a);
void	result_free(struct agent *a);
/* ident.c: the host identity key and its certificate */
int	ident_setup(struct agent *a);		/* load or make the key */
/*
 * The key's certification into d over q's nonce, when q asks identity=1
 * or the verifier may hold another key (none configured: nothing).
 */
int	ident_certify(struct agent *a, const struct quote_req *q,
	    struct evidence_doc *d);
struct ident_doc;
void	ident_store(struct agent *a, const struct ident_doc *d);
int	ident_wanted(struct agent *a);		/* fetch after a round? */
void	ident_fetch(struct agent *a);		/* GET .../identity, store */
/* push.c */
/* Enrollment done or confirmed: start the push loop, or resume it. */
void	push_enrolled(struct agent *a);
void	push_free(struct agent *a);
/* A uniformly random delay in [0, max] seconds (jitter). */
double	push_jitter(double max);

#endif
