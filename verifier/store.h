/*
 * store.h — the verifier's persistent state: agents, policies, the event
 * history and the notification queue, in a SQLite file (WAL; the default)
 * or a PostgreSQL database shared by many verifiers (db.h). Schema
 * versioned and migrated at open. Every state change is written with its
 * event in one transaction, so a killed verifier resumes exactly. Used
 * from one thread.
 */
#ifndef ASSAY_STORE_H
#define ASSAY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto/enroll.h"
#include "common/evidence/quote.h"
#include "verifier/db.h"

#define AGENT_ID_MAX	ENROLL_ID_MAX	/* common/evidence/enroll.h */

enum agent_state {
	AGENT_REGISTERED = 0,	/* enrolled (EK/AK bound), not admitted */
	AGENT_PENDING,		/* admitted with a policy, no verdict yet */
	AGENT_TRUSTED,
	AGENT_UNTRUSTED,	/* integrity failure: sticky until reset */
	AGENT_UNREACHABLE,	/* transport failure: never an integrity verdict */
	AGENT_STOPPED,		/* paused by the admin */
	AGENT_STATE_MAX
};

/* Names: registered pending trusted untrusted unreachable stopped; NULL if out of range. */
const char *agent_state_name(int state);
int	agent_state_parse(const char *s, int *state);

struct agent_rec {
	char		 id[AGENT_ID_MAX];
	uint8_t		*ek_pub;	/* TPM2B_PUBLIC */
	size_t		 ek_pub_len;
	uint8_t		*ek_cert;	/* DER, may be NULL (allowlisted EK) */
	size_t		 ek_cert_len;
	uint8_t		*ak_pub;	/* TPM2B_PUBLIC */
	size_t		 ak_pub_len;
	char		*cert_cn;	/* TLS identity bound at registration */
	int		 activated;	/* credential activation proven */
	int		 admitted;	/* has been PUT by an admin */
	int		 state;
	char		*address;	/* "host:port" */
	char		*policy;
	int		 interval;	/* seconds */
	char		*reason;	/* failure id of the last failure, or NULL */
	char		*reason_detail;
	int64_t		 registered_at;	/* unix seconds */
	int64_t		 last_attested;	/* last successful round, 0 never */
	int64_t		 last_event_at;
	struct clock_state clock;	/* last accepted quote */
	uint64_t	 attest_ok;
	uint64_t	 attest_fail;
	uint64_t	 poll_errors;
	char		*verify_state;	/* JSON text for incremental checks (IMA), or NULL */
	int		 push;		/* push mode: it asks for its rounds */
	uint8_t		*id_pub;	/* identity key (TPM2B_PUBLIC) the AK
					 * certified in an accepted round, or NULL */
	size_t		 id_pub_len;
	int64_t		 policy_version;	/* version of policy the last
					 * verdict was judged with, 0 none */
};

void	agent_rec_free(struct agent_rec *a);	/* frees contents, not a */
void	agent_rec_copy(struct agent_rec *dst, const struct agent_rec *src); /* deep; dst overwritten */

struct store_event {
	int64_t		 seq;
	int64_t		 time;
	char		*agent_id;
	char		*type;		/* "state", "registered", "admitted", "reset", ... */
	char		*old_state;
	char		*new_state;
	char		*failure_id;
	char		*detail;
	int64_t		 count;		/* read back: identical notices folded in (>= 1) */
	int64_t		 last_time;	/* read back: time of the last of them */
};

/* Deep copy; dst overwritten. */
void	store_event_copy(struct store_event *dst, const struct store_event *src);
void	store_event_free(struct store_event *e);

struct store_policy {
	char	*name;
	char	*text;		/* source of the version in force */
	int64_t	 updated;
	int64_t	 rev;		/* changes at every put (random) */
	int64_t	 version;	/* in force; 1, 2, ... per name */
	int64_t	 canary_version; /* tried on canary_agents first, 0 none */
	char	*canary_agents;	/* agent ids, comma separated */
};

/* One immutable uploaded version of a policy (policy_versions). */
struct store_policy_version {
	char	*name;
	int64_t	 version;
	char	 sha256[65];	/* hex of the policy text */
	char	*uploader;	/* admin certificate CN, "policy_dir:PATH", ... */
	char	*signer;	/* who signed it (DSSE), NULL unsigned */
	int64_t	 signed_at;	/* the signed statement's time, 0 unsigned */
	int64_t	 created;	/* stored at, unix s */
	int64_t	 size;		/* bytes of text */
	char	*text;		/* store_policy_version_get only */
	char	*envelope;	/* the DSSE envelope as uploaded, or NULL */
};
void	store_policy_version_free(struct store_policy_version *v);

/* Where a version came from; any member may be NULL/0. */
struct policy_meta {
	const char	*uploader;
	const char	*signer;
	int64_t		 signed_at;
	const char	*envelope;
};

struct store;

/* target: a SQLite path or a PostgreSQL URI (db_open). Migrates. */
int	store_open(const char *target, struct store **out);
void	store_close(struct store *s);
/*
 * For "assay-verifier -n": the database answers and its schema is this
 * verifier's (ASSAY_ERR_DB naming what is wrong otherwise). Changes nothing
 * (a SQLite file that does not exist yet is created empty: version 0).
 */
int	store_check_schema(const char *target, int *version, int *want);
enum db_kind store_kind(const struct store *s);

/*
 * Insert or replace the whole agent record; ev (may be NULL) in the same tx.
 * Events: seq is assigned by the store, time 0 means now, agent_id NULL in
 * agent_put/agent_delete means the agent's id. Ids must be 1..AGENT_ID_MAX-1
 * bytes (else ASSAY_ERR_INVAL); a missing row is ASSAY_ERR_NOT_FOUND; any
 * SQLite failure (disk full, read-only file) is ASSAY_ERR_DB, rolled back.
 */
int	store_agent_put(struct store *s, const struct agent_rec *a,
	    const struct store_event *ev);
/*
 * store_agent_put with one notification row per target (webhook URL or
 * command hook) for ev, in the same transaction: a state change and its
 * notifications land together or not at all. ntargets > 0 needs ev.
 */
int	store_agent_put_notify(struct store *s, const struct agent_rec *a,
	    const struct store_event *ev, const char *const *targets,
	    size_t ntargets);
int	store_agent_get(struct store *s, const char *id, struct agent_rec *out);
int	store_agent_delete(struct store *s, const char *id, const struct store_event *ev);
/* All agents; caller frees each with agent_rec_free and the array with free. */
int	store_agent_list(struct store *s, struct agent_rec **out, size_t *n);

int	store_event_add(struct store *s, const struct store_event *ev);
/* Newest first, at most limit (<= 0: all); caller frees. agent_id NULL: all agents. */
int	store_events_list(struct store *s, const char *agent_id, int limit,
	    struct store_event **out, size_t *n);

/* A new version (meta may be NULL) that is put in force at once. */
int	store_policy_put(struct store *s, const char *name, const char *text);
/*
 * A new version of name (numbered after every earlier one, *version);
 * canary NULL: in force at once (a canary is dropped); canary "id,id":
 * tried on those agents first, the version in force stays (the policy
 * must exist).
 */
int	store_policy_put_version(struct store *s, const char *name,
	    const char *text, const struct policy_meta *meta,
	    const char *canary, int64_t *version);
/* Put stored version in force (rollback, or a canary's promotion). */
int	store_policy_select(struct store *s, const char *name, int64_t version);
int	store_policy_version_get(struct store *s, const char *name,
	    int64_t version, struct store_policy_version *out);
/* Every version of name, oldest first, without text; caller frees. */
int	store_policy_versions(struct store *s, const char *name,
	    struct store_policy_version **out, size_t *n);
int	store_policy_get(struct store *s, const char *name, struct store_policy *out);
int	store_policy_delete(struct store *s, const char *name);
int	store_policy_list(struct store *s, struct store_policy **out, size_t *n);
void	store_policy_free(struct store_policy *p);
/* The revision the last store_policy_put on this handle wrote. */
int64_t	store_policy_last_rev(const struct store *s);
/* Names and revisions only (text NULL): what changed since a sync. */
int	store_policy_revs(struct store *s, struct store_policy **out, size_t *n);
/* Agents naming the policy, in the whole database. */
int	store_policy_users(struct store *s, const char *name, int64_t *n);

/* ---- write-behind (store_wq.c) ---------------------------------------- */

/*
 * An agent change (record, event, notification rows: one transaction, as
 * store_agent_put_notify) that never gets lost while the process lives.
 * Changes queued earlier are written first, in order; if the queue is
 * waiting out its backoff, or a write fails (disk full, read-only, locked),
 * the change is queued behind them and retried by store_wq_flush.
 * Returns ASSAY_OK when it landed now, ASSAY_ERR_DB when it was queued (the
 * caller keeps its in-memory state: it will land), any other error when it
 * was refused (nothing kept). A record-only change (no event) replaces the
 * record of the agent's last queued change; when STORE_WQ_MAX changes wait,
 * a further notice event is dropped (its record kept).
 */
#define STORE_WQ_MAX		65536
#define STORE_WQ_BACKOFF_MAX	30	/* s between flush attempts, at most */
int	store_agent_save(struct store *s, const struct agent_rec *a,
	    const struct store_event *ev, const char *const *targets,
	    size_t ntargets);
/*
 * Grouped round writes (SQLite without a cluster node): store_agent_save
 * of a record alone (no event, no notification: a round's counters, clock
 * and verify state) joins one open transaction instead of committing its
 * own (ASSAY_OK once written in it). The group commits at
 * STORE_BATCH_MAX records, before any other write of the store (so an
 * event or a notification never lands before the records written ahead of
 * it), at store_batch_commit (the caller's timer: STORE_BATCH_MS after the
 * first record) and at store_close. Reads on this store see the records at
 * once; other connections after the commit. A failed group commit is
 * counted as a write error (store_health) and its records are lost, not
 * queued: each is the agent's whole row, written again by its next change.
 */
#define STORE_BATCH_MAX		128
/* An audit record larger than this is written in its own transaction. */
#define STORE_BATCH_AUDIT_MAX	(64u * 1024)
#define STORE_BATCH_MS		100
/* Records written in the open group (0: none open). */
size_t	store_batch_pending(const struct store *s);

/* Commit the open group, if any. */
int	store_batch_commit(struct store *s);
/*
 * Write queued changes in order until the queue is empty (ASSAY_OK) or one
 * fails (ASSAY_ERR_DB; backoff doubles). Unless force, does nothing before
 * the backoff is over (ASSAY_ERR_DB if changes wait). *landed (may be
 * NULL): changes written by this call.
 */
int	store_wq_flush(struct store *s, int force, size_t *landed);
size_t	store_wq_len(const struct store *s);
/* 1 when a change of agent id waits in the queue. */
int	store_wq_holds(const struct store *s, const char *id);

/* Fault and size figures for /v1/health and /metrics. */
struct store_health {
	int		 failing;	/* writes queued or the last write failed */
	const char	*error;		/* the last write error while failing, or NULL */
	int64_t		 since;		/* failing since (unix s), 0 if not */
	uint64_t	 pending;	/* changes waiting in the write-behind queue */
	uint64_t	 write_errors;	/* failed write attempts, total */
	uint64_t	 dropped;	/* notices dropped while the queue was full */
	uint64_t	 db_bytes;	/* database file + WAL, bytes */
	int64_t		 events_rows;	/* at the last retention pass; -1 unknown */
	uint64_t	 events_pruned;	/* rows deleted by retention, total */
	uint64_t	 events_folded;	/* notices folded into an earlier row, total */
};
void	store_health(struct store *s, struct store_health *h);

/* ---- retention (store_retention.c) ------------------------------------- */

/*
 * One bounded pruning step: delete at most batch event rows last seen
 * (last_time) before now - max_age (0: no age limit), then, agent by agent
 * from where the last step stopped, the oldest beyond each agent's newest
 * max_per_agent (0: no limit). Rows a queued notification still reports
 * are kept. *deleted: rows deleted (== batch: more work is waiting). Also
 * samples the events row count.
 */
int	store_events_prune(struct store *s, int64_t now, int64_t max_age,
	    int64_t max_per_agent, size_t batch, size_t *deleted);

/* ---- notifications (store_notify.c) ----------------------------------- */

struct store_notification {
	int64_t			 id;
	char			*target;
	int64_t			 created;	/* unix seconds */
	int64_t			 next_at;
	int			 attempts;
	struct store_event	 ev;		/* the event it reports */
};

void	store_notification_free(struct store_notification *n);	/* contents */
/* With a node set, pending rows are this node's to deliver for so long. */
#define STORE_NOTIFY_LEASE_MS	(120 * 1000)
/* Queue a notification of event seq for target (outside agent_put). */
int	store_notify_add(struct store *s, int64_t event_seq, const char *target);
/* Due (next_at <= now), oldest first, at most limit; caller frees. */
int	store_notify_pending(struct store *s, int64_t now, size_t limit,
	    struct store_notification **out, size_t *n);
/* Delivered or given up: the row goes. */
int	store_notify_done(struct store *s, int64_t id);
int	store_notify_retry(struct store *s, int64_t id, int64_t next_at,
	    int attempts);
/* Rows queued; the earliest next_at (0 when none). */
int	store_notify_count(struct store *s, int64_t *count, int64_t *next_at);
/* Make every queued row due at now (start-up: retry without waiting). */
int	store_notify_due_all(struct store *s, int64_t now);

/* ---- push mode challenges (store_challenge.c) -------------------------- */

struct store_challenge {
	char	*agent_id, *cert_cn;
	char	*request;		/* the quote request (quote_req.h) */
	char	*node;			/* who issued it (NULL: no cluster) */
	int64_t	 epoch, policy_rev;	/* what the round was asked under */
	int64_t	 max_bytes;		/* evidence bytes allowed */
	int64_t	 left_ms;		/* to its deadline when taken (< 0: late) */
};
void	store_challenge_free(struct store_challenge *c);	/* contents */
/*
 * The agent's one challenge: replaces its earlier ones (and forgets ones
 * long expired), expires deadline_ms from now by the database clock.
 */
int	store_challenge_put(struct store *s, const char *id,
	    const struct store_challenge *c, int64_t deadline_ms);
/* Take (delete) challenge id; ASSAY_ERR_NOT_FOUND if unknown or used. */
int	store_challenge_take(struct store *s, const char *id,
	    struct store_challenge *out);

/* ---- enrollments waiting for activation (store_enroll.c) --------------- */

/* rec: id, cert_cn, ek_pub, ek_cert, ak_pub, address as activation stores. */
int	store_enroll_put(struct store *s, const char *key,
	    const struct agent_rec *rec, const char *ek_hash,
	    const uint8_t *secret, size_t secret_len, int64_t expires);
/*
 * Take (delete) key's enrollment: rec and secret filled; ASSAY_ERR_NOT_FOUND
 * when there is none or it expired before now.
 */
int	store_enroll_take(struct store *s, const char *key, int64_t now,
	    struct agent_rec *rec, uint8_t *secret, size_t secret_len);
struct store_enroll_counts {
	int64_t	total, by_cert, by_ek;	/* live, others than key */
	int64_t	same_key;		/* key itself is live */
};
int	store_enroll_room(struct store *s, const char *key, const char *cn,
	    const char *ek_hash, int64_t now, struct store_enroll_counts *c);
int	store_enroll_expire(struct store *s, int64_t now);

/* ---- many verifiers on one database (store_cluster.c) ----------------- */

/*
 * With a node name set, every agent write (put, delete) is conditional on
 * this node holding the agent's lease: otherwise ASSAY_ERR_STATE, nothing
 * written (and a queued change is dropped, not retried).
 */
void	store_set_node(struct store *s, const char *node);
const char *store_node(const struct store *s);
uint64_t store_lease_lost_count(const struct store *s);

/* Agents of the whole database by state (counts[AGENT_STATE_MAX]). */
int	store_state_counts(struct store *s, int64_t *counts);

/* Heartbeat: this node's row, stamped with the database clock. */
int	store_node_beat(struct store *s, int64_t started_ms, int64_t leases,
	    const char *status);

struct store_node {
	char	*node;
	int64_t	 heartbeat_ms, started_ms, age_ms;	/* database clock */
	int64_t	 leases;		/* held now */
	int64_t	 leases_reported;	/* at its last heartbeat */
	char	*status;
	int	 live;			/* age_ms < ttl_ms */
};
void	store_node_free(struct store_node *n);		/* contents */
int	store_nodes_list(struct store *s, int64_t ttl_ms,
	    struct store_node **out, size_t *n);
/* Live nodes, admitted agents and the fewest leases a live node reported. */
int	store_fleet_view(struct store *s, int64_t ttl_ms, int64_t *live,
	    int64_t *admitted, int64_t *min_leases);

void	store_ids_free(char **ids, size_t n);
/* Agents whose lease this node holds. */
int	store_leases_mine(struct store *s, char ***ids, size_t *n);
/* Up to max admitted agents no live node holds, now this node's. */
int	store_lease_claim(struct store *s, int64_t ttl_ms, int64_t max,
	    char ***ids, size_t *n);
/*
 * One agent's lease for this node: ASSAY_OK when it is (or was already)
 * ours; ASSAY_ERR_BUSY when a live node holds it (*owner, caller frees).
 */
int	store_lease_acquire(struct store *s, const char *id, int64_t ttl_ms,
	    char **owner);
/* The holder (NULL: none) and whether it is live. */
int	store_lease_owner(struct store *s, const char *id, int64_t ttl_ms,
	    char **owner, int *live);
int	store_lease_release(struct store *s, const char *id);
/* The lease is this node's now, whoever held it (a push agent's contact). */
int	store_lease_move(struct store *s, const char *id);

struct store_command {
	int64_t	 id;
	char	*agent_id, *op, *arg, *origin;
	int64_t	 age_ms;
};
void	store_command_free(struct store_command *c);	/* contents */
/* A command for the agent's owner; *id to wait for its result. */
int	store_command_add(struct store *s, const char *agent_id, const char *op,
	    const char *arg, int64_t *id);
/* Open commands for the agents this node holds (at most 64), oldest first. */
int	store_commands_mine(struct store *s, struct store_command **out,
	    size_t *n);
int	store_command_done(struct store *s, int64_t id, int status,
	    const char *result);
int	store_command_result(struct store *s, int64_t id, int *done,
	    int *status, char **result);
/* Forget commands older than age_ms. */
int	store_commands_prune(struct store *s, int64_t age_ms);

#endif
