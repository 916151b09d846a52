/*
 * verifier.h — the verifier's process-wide context and its in-memory view
 * of agents and policies. The store is the truth on disk; these maps are
 * loaded from it at start and every change goes to the store first.
 * Everything here is owned by the event loop thread.
 */
#ifndef ASSAY_VERIFIER_H
#define ASSAY_VERIFIER_H

#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "common/config.h"
#include "common/evidence/tpm_public.h"
#include "common/appraise/verify_ima.h"
#include "common/appraise/verify_mb.h"
#include "common/http.h"
#include "common/proto/identity.h"
#include "common/proto/quote_req.h"
#include "common/strmap.h"
#include "verifier/store.h"

struct vconf {
	char	*listen;		/* "127.0.0.1:8991" */
	char	*tls_cert, *tls_key, *tls_ca;
	char	*db;
	char	*ek_ca;			/* EK CA bundle dir or file */
	char	*ek_allowlist;		/* optional */
	char	*policy_dir;		/* optional: policies loaded at start */
	char	*resolv_conf;		/* resolver configuration (resolv.conf format) */
	long	 interval;		/* default poll interval, s */
	long	 timeout;		/* request timeout, s */
	long	 max_backoff;		/* s */
	long	 unreachable_after;	/* consecutive transport failures */
	long	 threads;		/* verify workers */
	long	 max_inflight;		/* concurrent polls */
	long	 max_conns;		/* server connections (0: half the fds) */
	char	*quote_pcrs;		/* extra selection, optional */
	long	 ima_page_entries;	/* IMA entries asked per round (restart) */
	long	 ima_inflight_mb;	/* IMA list MiB the polls in flight may bring */
	/* notifications (notify.c) */
	struct cfg_strlist notify_webhooks;	/* https URLs */
	char	*notify_ca;		/* webhook servers must chain to it */
	char	*notify_cert, *notify_key;	/* optional client certificate */
	char	*notify_server_name;	/* optional: webhook certificate CN */
	char	*notify_command;	/* optional hook, absolute path */
	long	 notify_timeout;	/* s per attempt */
	long	 notify_max_inflight;
	long	 notify_max_age;	/* s before giving up */
	/* event retention (main.c timer, store_retention.c) */
	long	 events_max_age;	/* s since last seen, 0: keep */
	long	 events_max_per_agent;	/* newest kept per agent, 0: all */
	long	 events_prune_interval;	/* s between pruning steps */
	long	 audit_retention;	/* s audit records are kept, 0: no audit */
	/* many verifiers on PostgreSQL (cluster.c) */
	char	*node;			/* this verifier's name (default: host name) */
	long	 cluster_heartbeat;	/* s between heartbeats */
	long	 cluster_lease_ttl;	/* s without one before a node is dead */
	long	 cluster_cmd_timeout;	/* s an admin request waits for the owner */
	/* signed attestation results (ear.c); no key: off */
	char	*results_key;		/* PEM EC P-256 private key (ES256) */
	struct cfg_strlist results_prev;	/* PEM public keys still published */
	struct cfg_strlist policy_signers;	/* "name\tPEM path" (CFG_STRMAP) */
	char	*results_verifier_id;	/* ear.verifier-id developer */
	/* host identities (ident_ca.c); no CA: off */
	char	*identity_ca_cert;	/* PEM issuing CA (+ intermediates) */
	char	*identity_ca_key;
	char	*identity_trust_domain;	/* SPIFFE trust domain */
	long	 identity_intervals;	/* lifetime in rounds after the last */
};

struct vagent {
	struct verifier		*v;
	struct agent_rec	 rec;
	struct tpm2_public	 ak;		/* parsed rec.ak_pub */
	int			 ak_ok;
	uint8_t			 ak_qn[2 + TPM2_MAX_DIGEST];	/* qualified name */
	size_t			 ak_qn_len;	/* 0: unknown, not checked */
	struct event		*timer;
	int			 inflight;	/* poll or verification running */
	int			 deleted;	/* free when the round returns */
	uint64_t		 gen;		/* bumped on re-registration */
	uint8_t			 nonce[QUOTE_NONCE_LEN];
	int			 nonce_valid;
	struct pcr_selection	 sel;		/* this round's quoted selection */
	struct policy		*round_policy;	/* the round is judged with it (ref) */
	uint64_t		 epoch;		/* bumped when what was judged is void */
	uint64_t		 round_epoch;	/* epoch the round was asked under */
	int			 failures;	/* consecutive transport failures */
	int			 attest_now;	/* admin asked for a round */
	struct ima_state	 ima;		/* parsed rec.verify_state */
	struct mb_state		 mb;
	int			 retries;	/* inconclusive rounds in a row */
	size_t			 ima_reserved;	/* list bytes this poll may bring */
	int			 ima_big;	/* more is known to follow: a large page */
	int			 lease_lost;	/* another node attests it now */
	/* push mode (push_rounds.c) */
	int			 push_phase;	/* enum push_phase */
	struct http_request	*push_wait;	/* its challenge request, held */
	struct http_request	*push_ev;	/* its evidence, verdict pending */
	struct event		*push_hold;	/* ends push_wait's hold */
	double			 push_tokens, push_refill;	/* challenge rate */
	/* the identity last issued here (api_result.c), reused while young */
	struct ident_doc	 ident;
	uint8_t			 ident_key[32];	/* SHA-256 of the key it is for */
	/* the audit trail (audit.c) */
	struct json_t		*audit_next;	/* record the next store write carries */
	int			 audit_loaded;	/* audit_seq/head read from the store */
	int64_t			 audit_seq;	/* the chain's last record */
	char			 audit_head[65];	/* its hash (hex) */
};

struct policy;
struct verify_job;
struct notify;
struct metrics;
struct cluster;
struct ear_keys;
struct ident_ca;

struct verifier {
	struct event_base	*base;
	struct vconf		 conf;
	const char		*conf_path;
	struct store		*store;
	struct strmap		*agents;	/* id -> struct vagent */
	struct strmap		*policies;	/* name -> struct policy */
	struct strmap		*policy_revs;	/* name -> int64_t: stored revision here */
	struct strmap		*canaries;	/* name -> policy_canary.c's canary */
	struct signer_set	*signers;	/* policy_signers.c, NULL: none */
	struct ek_trust		*trust;
	SSL_CTX			*server_ctx, *client_ctx;
	struct http_server	*http;
	struct http_client	*client;
	struct evdns_base	*dns;		/* async resolver for agents and webhooks */
	struct verify_pool	*pool;
	struct workq		*adminq;	/* admin work off the loop (policy compiles) */
	int			 inflight;
	size_t			 ima_reserved;	/* sum over the polls in flight */
	int64_t			 started;
	/* a policy_dir file changed (set to sched_policy_changed) */
	void			(*policy_changed)(struct verifier *, const char *,
				    const char *);
	struct metrics		*metrics;	/* metrics.c */
	struct notify		*notify;	/* notify.c, NULL if none configured */
	struct cluster		*cluster;	/* cluster.c, NULL on SQLite */
	struct ear_keys		*ear;		/* ear.c, NULL: results not signed */
	struct ident_ca		*ident;		/* ident_ca.c, NULL: no identities */
	struct event		*store_timer;	/* main.c: write retry, retention */
	struct event		*batch_timer;	/* agents.c: grouped round writes */
	int64_t			 prune_at;	/* next retention step, unix s */
	struct strmap		*audit_pols;	/* policy SHA-256s stored for the audit */
};

/* agents.c: registry and state transitions */
int	agents_load(struct verifier *v);
struct vagent *agent_find(struct verifier *v, const char *id);
/*
 * The record of agent id into out (caller frees): from memory when this
 * node attests it, else from the store (another node's, or not admitted).
 */
int	agent_lookup(struct verifier *v, const char *id, struct agent_rec *out);
struct vagent *agent_add(struct verifier *v, const struct agent_rec *rec);
/* Parse rec.ak_pub into va->ak. */
int	agent_load_ak(struct vagent *va);
/*
 * Persist va->rec (and an event of type, with failure id and detail) in
 * one transaction. A store that cannot write now queues the change (it
 * applies in memory at once and lands later, in order): ASSAY_OK. Only a
 * refused change (bad record) restores the in-memory record from the store
 * and returns the error.
 */
int	agent_save(struct vagent *va, const char *type, const char *failure_id,
	    const char *detail);
/* Change state, persist with an event, log one line (queued as agent_save). */
int	agent_set_state(struct vagent *va, int state, const char *failure_id,
	    const char *detail);
void	agent_remove(struct vagent *va);
/* Retry the store's queued writes when their backoff is over (timer). */
void	agents_store_retry(struct verifier *v);
/*
 * The timer that commits the store's grouped round writes STORE_BATCH_MS
 * after the first (made at start; without it each write commits at once).
 */
void	agents_batch_start(struct verifier *v);
/* Forget incremental IMA state: the next round re-checks the whole list. */
void	agent_ima_restart(struct vagent *va);
/* Keep va->ima, va->mb and rec.verify_state in step. */
void	agent_set_ima(struct vagent *va, const struct ima_state *st);
void	agent_set_verify_state(struct vagent *va, const struct ima_state *ima,
	    const struct mb_state *mb);
/* Forget the accepted boot PCRs: the next round re-reads the event log. */
void	agent_mb_restart(struct vagent *va);

/* scheduler.c */
void	sched_start(struct verifier *v);
void	sched_agent(struct vagent *va, double delay);
/* A polled agent this node just took: its first round within a second. */
void	sched_join(struct vagent *va);
void	sched_cancel(struct vagent *va);
/* va leaves the fleet: its timer stops and the registry drops it. */
void	sched_remove(struct vagent *va);
/* Policy name's content changed: every agent using it is judged again. */
void	sched_policy_changed(struct verifier *v, const char *name,
	    const char *why);
void	sched_verify_done(struct verify_job *j, void *arg);
/* A transport failure of va's round: backoff, unreachable after enough. */
void	sched_transport_failure(struct vagent *va, const char *detail);
enum round_prep { ROUND_GO, ROUND_LATER, ROUND_FAILED };
/* Ready va's next round (budget, policy, nonce, selection, *path). */
enum round_prep sched_prepare(struct vagent *va, char **path, int *want_log);
/* The evidence of va's round (body handed over): verify it. */
void	sched_submit(struct vagent *va, uint8_t *body, size_t len,
	    uint64_t ima_bytes);
/* Give up the round in flight (nothing came). */
void	sched_abandon(struct vagent *va);

/* policies (policies.c) */
int	policies_load(struct verifier *v);
struct policy *policy_find(struct verifier *v, const char *name);
/* Install p under its name (replacing, and dropping, the old one). */
void	policy_install(struct verifier *v, struct policy *p);
/* Agents whose policy is name. */
int	policy_users(struct verifier *v, const char *name);
/* Install what other nodes uploaded or deleted since the last call. */
void	policies_sync(struct verifier *v);
/* Remember the revision of name that this node has (after a local put). */
void	policies_seen(struct verifier *v, const char *name, int64_t rev);
/* The stored revision of name this node has installed (0: unknown). */
int64_t	policies_rev(struct verifier *v, const char *name);

/* policy_signers.c: an upload's policy text and where it came from. */
struct policy_in {
	char	*text;
	char	*signer;	/* who signed it, as verified, or NULL */
	int64_t	 signed_at;	/* as signed (verified envelopes), else 0 */
	char	*envelope;	/* the DSSE envelope uploaded, or NULL */
	char	 sha256[65];	/* hex of text */
};
struct cfg_strlist;
struct signer_set;
struct dsse_trust;
/* policy_signers ("name\tPEM path" pairs) replace v->signers, or an error. */
int	policy_signers_load(struct verifier *v, const struct cfg_strlist *l);
struct signer_set *signer_set_ref(struct signer_set *ss);	/* NULL-safe */
void	signer_set_unref(struct signer_set *ss);		/* NULL-safe */
/* The signers name must be signed by, or NULL: none apply. */
const struct dsse_trust *policy_signers_for(const struct signer_set *ss,
	    const char *name);
/*
 * An upload's body (YAML, or a DSSE envelope) for policy name: 0, or the
 * HTTP status of a refusal (400 malformed, 403 unsigned or wrongly
 * signed while signers apply) with the error detail set.
 */
int	policy_in_open(const struct signer_set *ss, const char *name,
	    const uint8_t *body, size_t len, struct policy_in *out);
/* A stored version may be put in force again: 0 or 403 (detail set). */
int	policy_in_recheck(const struct signer_set *ss, const char *name,
	    const char *envelope);
void	policy_in_free(struct policy_in *in);

/* policy_canary.c */
struct store_policy;
/* The version in force, or the canary version for an agent it names. */
struct policy *policy_for_agent(struct verifier *v, const struct vagent *va);
/* The canary of name (NULL none); *agents ",id,id," if not NULL. */
struct policy *policy_canary(struct verifier *v, const char *name,
	    const char **agents);
int	policy_canary_has(struct verifier *v, const char *name, const char *id);
/* Takes p; agents "id,id". */
void	policy_canary_set(struct verifier *v, const char *name, struct policy *p,
	    const char *agents);
void	policy_canary_clear(struct verifier *v, const char *name);
/* Compile and install a stored policies row: version in force, canary. */
int	policies_install_stored(struct verifier *v, const struct store_policy *sp);

/*
 * The host identity rec may hold now (api_result.c, ident_ca.h): 0 and
 * *out, or ASSAY_ERR_STATE (none due: not trusted, no certified key,
 * stale) / ASSAY_ERR_NOT_FOUND (identities off) with detail.
 */
int	agent_identity(struct verifier *v, const struct agent_rec *rec,
	    struct ident_doc *out);

/* http route tables */
extern const struct http_route api_routes[];

#endif
