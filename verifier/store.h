/*
 * store.h — the verifier's persistent state in SQLite (WAL): agents,
 * policies and the event history. Schema versioned (user_version) and
 * migrated at open. Every state change is written with its event in one
 * transaction, so a killed verifier resumes exactly. Used from one thread.
 */
#ifndef ASSAY_STORE_H
#define ASSAY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto/enroll.h"
#include "common/evidence/quote.h"

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
	char	*text;		/* source as uploaded */
	int64_t	 updated;
};

struct store;

int	store_open(const char *path, struct store **out);
void	store_close(struct store *s);

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

int	store_policy_put(struct store *s, const char *name, const char *text);
int	store_policy_get(struct store *s, const char *name, struct store_policy *out);
int	store_policy_delete(struct store *s, const char *name);
int	store_policy_list(struct store *s, struct store_policy **out, size_t *n);
void	store_policy_free(struct store_policy *p);

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
 * Write queued changes in order until the queue is empty (ASSAY_OK) or one
 * fails (ASSAY_ERR_DB; backoff doubles). Unless force, does nothing before
 * the backoff is over (ASSAY_ERR_DB if changes wait). *landed (may be
 * NULL): changes written by this call.
 */
int	store_wq_flush(struct store *s, int force, size_t *landed);
size_t	store_wq_len(const struct store *s);

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

#endif
