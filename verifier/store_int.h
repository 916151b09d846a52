/*
 * store_int.h — internals shared by the store's source files: store.c
 * (open, schema and migrations, prepared statements, transactions and the
 * row helpers), store_agent.c, store_event.c, store_policy.c and
 * store_notify.c (the notification queue). Not for use outside verifier/store*.c.
 */
#ifndef ASSAY_STORE_INT_H
#define ASSAY_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_audit.h"

/* A record of the open group of round writes, kept until it commits. */
struct batch_item {
	struct agent_rec	 rec;
	int			 has_au;
	struct store_audit	 au;
};

/* Agent columns; the enum gives each its index (bind index is + 1). */
#define AGENT_COLS \
	"id, ek_pub, ek_cert, ak_pub, cert_cn, activated, admitted, state," \
	" address, policy, interval, reason, reason_detail, registered_at," \
	" last_attested, last_event_at, clock_valid, clock, reset_count," \
	" restart_count, firmware_version, attest_ok, attest_fail," \
	" poll_errors, verify_state, mode, identity_key, policy_version"
enum {
	AC_ID, AC_EK_PUB, AC_EK_CERT, AC_AK_PUB, AC_CERT_CN, AC_ACTIVATED,
	AC_ADMITTED, AC_STATE, AC_ADDRESS, AC_POLICY, AC_INTERVAL, AC_REASON,
	AC_REASON_DETAIL, AC_REGISTERED_AT, AC_LAST_ATTESTED, AC_LAST_EVENT_AT,
	AC_CLOCK_VALID, AC_CLOCK, AC_RESET_COUNT, AC_RESTART_COUNT,
	AC_FIRMWARE_VERSION, AC_ATTEST_OK, AC_ATTEST_FAIL, AC_POLL_ERRORS,
	AC_VERIFY_STATE, AC_MODE, AC_IDENTITY_KEY, AC_POLICY_VERSION, AC_MAX
};

/* One prepared statement per operation; SQL text in store_schema.c. */
enum stmt_id {
	ST_AGENT_PUT, ST_AGENT_GET, ST_AGENT_DEL, ST_AGENT_LIST,
	ST_EVENT_ADD, ST_EVENTS_ALL, ST_EVENTS_AGENT, ST_NOTICE_LAST,
	ST_NOTICE_FOLD,
	ST_POLICY_PUT, ST_POLICY_GET, ST_POLICY_DEL, ST_POLICY_LIST,
	ST_POLICY_CANARY, ST_PVER_NEXT, ST_PVER_ADD, ST_PVER_GET, ST_PVER_LIST,
	ST_NOTIFY_ADD, ST_NOTIFY_PENDING, ST_NOTIFY_DONE, ST_NOTIFY_RETRY,
	ST_NOTIFY_DUE_ALL, ST_NOTIFY_COUNT,
	ST_PRUNE_AGE, ST_PRUNE_NEXT_AGENT, ST_PRUNE_CUT, ST_PRUNE_COUNT,
	ST_EVENTS_COUNT,
	ST_LEASE_CHECK, ST_LEASE_DROP, ST_NODE_BEAT, ST_NODES_LIST,
	ST_FLEET_VIEW, ST_LEASES_MINE, ST_LEASE_CLAIM, ST_LEASE_ACQUIRE,
	ST_LEASE_OWNER, ST_LEASE_RELEASE, ST_LEASE_MOVE,
	ST_CMD_ADD, ST_CMD_MINE, ST_CMD_DONE, ST_CMD_RESULT, ST_CMD_PRUNE,
	ST_POLICY_REVS, ST_POLICY_USERS, ST_STATE_COUNTS,
	ST_CHAL_CLEAR, ST_CHAL_PUT, ST_CHAL_TAKE,
	ST_ENROLL_PUT, ST_ENROLL_TAKE, ST_ENROLL_ROOM, ST_ENROLL_EXPIRE,
	ST_AUDIT_ADD, ST_AUDIT_HEAD_PUT, ST_AUDIT_HEAD_MOVE, ST_AUDIT_HEAD_GET,
	ST_AUDIT_POLICY_ADD, ST_AUDIT_POLICY_GET, ST_AUDIT_LIST, ST_AUDIT_PRUNE,
	ST_MAX
};

/* Per statement: its SQL (shared, or per backend when they differ). */
struct stmt_def {
	const char	*sql;
	const char	*pg;		/* NULL: sql serves both */
};
extern const struct stmt_def store_stmts[ST_MAX];
extern const struct db_migration store_migrations[];
extern const int store_schema_version_n;

struct wq_item;
struct store_audit;

struct store {
	struct db	*db;
	char		*path;		/* for messages: db_name() */
	struct db_stmt	*st[ST_MAX];
	int64_t		 last_seq;	/* event written (or folded into) last */
	/* write-behind queue (store_wq.c) */
	struct wq_item	*wq_head, *wq_tail;
	size_t		 wq_len;
	int64_t		 wq_retry_at;	/* next flush attempt, unix s */
	int		 wq_backoff;	/* s, doubles to STORE_WQ_BACKOFF_MAX */
	uint64_t	 wq_dropped;	/* notices dropped while the queue was full */
	size_t		 batch_n;	/* records in the open group (store_agent.c) */
	struct batch_item batch[STORE_BATCH_MAX];	/* their copies */
	int		 batch_writing;	/* a statement of the open group runs */
	/* health */
	int		 write_failed;	/* the last write attempt failed */
	char		*fail_msg;	/* its error, while failing */
	int64_t		 fail_since;
	uint64_t	 write_errors;
	/* retention (store_retention.c) */
	char		 prune_cursor[AGENT_ID_MAX];	/* last agent checked */
	int64_t		 events_rows;	/* sampled by store_events_prune, -1 unknown */
	uint64_t	 events_pruned;
	uint64_t	 events_folded;
	uint64_t	 db_bytes;	/* size, as last sampled */
	/* cluster (store_cluster.c) */
	char		*node;		/* set: agent writes need this node's lease */
	int64_t		 lease_lost;	/* writes refused for a lost lease, total */
	int64_t		 policy_rev;	/* revision the last policy put wrote */
	/* the audit record an agent delete writes (store_agent_delete_audit) */
	const struct store_audit *tx_audit;
};

/* Same 64 bits, as the signed integer the database stores; no overflow UB. */
static inline int64_t
u64_to_i64(uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		return (int64_t)v;
	return (int64_t)(v - (uint64_t)INT64_MAX - 1) + INT64_MIN;
}

static inline uint64_t
i64_to_u64(int64_t v)
{
	return (uint64_t)v;	/* modulo 2^64: exact inverse of u64_to_i64 */
}

/* Bind a blob, or SQL NULL when p is NULL. */
static inline void
bind_blob_or_null(struct db_stmt *st, int idx, const uint8_t *p, size_t len)
{
	if (p == NULL)
		db_bind_text(st, idx, NULL);
	else
		db_bind_blob(st, idx, p, len);
}

/* The connection (tests reach under the store with it). */
static inline struct db *
store_db(struct store *s)
{
	return s->db;
}

/* Record the outcome of a write (for store_health); returns r. */
int	store_note_write(struct store *s, int r);
/*
 * Run a statement that returns no rows; always resets it. *changes (may
 * be NULL): rows it changed.
 */
int	store_step_done(struct store *s, enum stmt_id id, int64_t *changes);
/* Column i as a malloc'ed string / blob; NULL for SQL NULL. */
char	*store_col_text(struct db_stmt *st, int i);
void	store_col_blob(struct db_stmt *st, int i, uint8_t **p, size_t *len);
int	store_check_id(const char *id);
int	store_check_event(const struct store_event *ev);	/* NULL is fine */

int	store_tx_begin(struct store *s, const char *op);
/* Commit r == ASSAY_OK work, roll back otherwise; returns the outcome. */
int	store_tx_end(struct store *s, int r, const char *op);
/*
 * Inside a transaction. agent_id fills in when ev->agent_id is NULL. A
 * notice identical to the agent's last notice of that id (no other event
 * of the agent since) is folded into it (count + 1, last_time). Either
 * way s->last_seq is the event's row.
 */
int	store_event_insert(struct store *s, const struct store_event *ev,
	    const char *agent_id);
/*
 * Inside a transaction, with a node set: the agent's lease is this node's
 * (locked until the transaction ends, so no take-over commits between),
 * else ASSAY_ERR_STATE "lease lost". Without a node: ASSAY_OK.
 */
int	store_lease_check_tx(struct store *s, const char *id);
/* Inside a transaction: the agent's lease goes with it (delete). */
int	store_lease_drop_tx(struct store *s, const char *id);
/* A policy name the store takes (non-empty). */
int	store_check_policy_name(const char *name);
/* A fresh random revision (any node sees a change as a different value). */
int64_t	store_policy_new_rev(void);
/* A record (and its audit record, may be NULL) in the open group of round
 * writes (store_agent.c). */
int	store_batch_put(struct store *s, const struct agent_rec *a,
	    const struct store_audit *au);
/*
 * A change for the write-behind queue, behind those queued (a group of
 * round writes that did not land goes there, in order).
 */
void	store_wq_requeue(struct store *s, const struct agent_rec *a,
	    const struct store_audit *au);
/* Free the write-behind queue (store_close). */
void	store_wq_free(struct store *s);
/* Called by store_agent_put_notify inside its transaction. */
int	store_notify_insert_tx(struct store *s, int64_t event_seq,
	    const char *const *targets, size_t ntargets);

/* How to read (into zeroed memory) and free one row type. */
struct row_kind {
	const char	*what;
	size_t		 size;
	int		(*read)(struct store *, struct db_stmt *, void *);
	void		(*free)(void *);
};

/* Step a bound statement for up to max rows into a new array; resets st. */
int	store_rows_collect(struct store *s, struct db_stmt *st,
	    const struct row_kind *k, size_t max, void **out, size_t *n);
/* The row whose key is key, into out (zeroed first). */
int	store_get_one(struct store *s, enum stmt_id id,
	    const struct row_kind *k, const char *key, void *out);
/* Delete the row keyed key and log ev (may be NULL) in one transaction. */
int	store_delete_one(struct store *s, enum stmt_id id, const char *what,
	    const char *key, const struct store_event *ev);

#endif
