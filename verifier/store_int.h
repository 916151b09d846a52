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

#include <sqlite3.h>

#include "verifier/store.h"

/* Agent columns; the enum gives each its index (bind index is + 1). */
#define AGENT_COLS \
	"id, ek_pub, ek_cert, ak_pub, cert_cn, activated, admitted, state," \
	" address, policy, interval, reason, reason_detail, registered_at," \
	" last_attested, last_event_at, clock_valid, clock, reset_count," \
	" restart_count, firmware_version, attest_ok, attest_fail," \
	" poll_errors, verify_state"
enum {
	AC_ID, AC_EK_PUB, AC_EK_CERT, AC_AK_PUB, AC_CERT_CN, AC_ACTIVATED,
	AC_ADMITTED, AC_STATE, AC_ADDRESS, AC_POLICY, AC_INTERVAL, AC_REASON,
	AC_REASON_DETAIL, AC_REGISTERED_AT, AC_LAST_ATTESTED, AC_LAST_EVENT_AT,
	AC_CLOCK_VALID, AC_CLOCK, AC_RESET_COUNT, AC_RESTART_COUNT,
	AC_FIRMWARE_VERSION, AC_ATTEST_OK, AC_ATTEST_FAIL, AC_POLL_ERRORS,
	AC_VERIFY_STATE, AC_MAX
};

/* One prepared statement per operation; SQL text in store.c (stmt_sql). */
enum stmt_id {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_AGENT_PUT, ST_AGENT_GET, ST_AGENT_DEL, ST_AGENT_LIST,
	ST_EVENT_ADD, ST_EVENTS_ALL, ST_EVENTS_AGENT, ST_NOTICE_LAST,
	ST_NOTICE_FOLD,
	ST_POLICY_PUT, ST_POLICY_GET, ST_POLICY_DEL, ST_POLICY_LIST,
	ST_MAX
};

struct wq_item;

struct store {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*st[ST_MAX];
	int64_t		 last_seq;	/* event written (or folded into) last */
	/* write-behind queue (store_wq.c) */
	struct wq_item	*wq_head, *wq_tail;
	size_t		 wq_len;
	int64_t		 wq_retry_at;	/* next flush attempt, unix s */
	int		 wq_backoff;	/* s, doubles to STORE_WQ_BACKOFF_MAX */
	uint64_t	 wq_dropped;	/* notices dropped while the queue was full */
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
};

sqlite3	*store_sqlite(struct store *s);
const char *store_path(const struct store *s);

/* Same 64 bits, as the signed integer SQLite stores; no overflow UB. */
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

static inline void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Binding accumulates the first error; later binds are skipped. */
struct binder {
	sqlite3_stmt	*st;
	int		 rc;
};

static inline void
b_i64(struct binder *b, int idx, int64_t v)
{
	if (b->rc == SQLITE_OK)
		b->rc = sqlite3_bind_int64(b->st, idx, v);
}

static inline void
b_text(struct binder *b, int idx, const char *v)
{
	if (b->rc != SQLITE_OK)
		return;
	if (v == NULL)
		b->rc = sqlite3_bind_null(b->st, idx);
	else
		b->rc = sqlite3_bind_text(b->st, idx, v, -1, SQLITE_STATIC);
}

static inline void
b_blob(struct binder *b, int idx, const uint8_t *p, size_t len)
{
	if (b->rc != SQLITE_OK)
		return;
	if (p == NULL)
		b->rc = sqlite3_bind_null(b->st, idx);
	else
		b->rc = sqlite3_bind_blob64(b->st, idx, p, len, SQLITE_STATIC);
}

/* Record the outcome of a write (for store_health); returns r. */
int	store_note_write(struct store *s, int r);
/* ASSAY_ERR_DB with the path, op and SQLite's message. */
int	store_db_err(struct store *s, const char *op);
/* Run a statement that returns no rows; always resets it. */
int	store_step_done(struct store *s, enum stmt_id id, const char *op);
/* Column i as a malloc'ed string / blob; NULL for SQL NULL. */
char	*store_col_text(sqlite3_stmt *st, int i);
void	store_col_blob(sqlite3_stmt *st, int i, uint8_t **p, size_t *len);
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
/* Free the write-behind queue (store_close). */
void	store_wq_free(struct store *s);
/* Called by store_agent_put_notify inside its transaction. */
int	store_notify_insert_tx(struct store *s, int64_t event_seq,
	    const char *const *targets, size_t ntargets);

/* How to read (into zeroed memory) and free one row type. */
struct row_kind {
	const char	*what;
	size_t		 size;
	int		(*read)(struct store *, sqlite3_stmt *, void *);
	void		(*free)(void *);
};

/* Step a bound statement for up to max rows into a new array; resets st. */
int	store_rows_collect(struct store *s, sqlite3_stmt *st,
	    const struct row_kind *k, size_t max, void **out, size_t *n);
/* The row whose key is key, into out (zeroed first). */
int	store_get_one(struct store *s, enum stmt_id id,
	    const struct row_kind *k, const char *key, void *out);
/* Delete the row keyed key and log ev (may be NULL) in one transaction. */
int	store_delete_one(struct store *s, enum stmt_id id, const char *what,
	    const char *key, const struct store_event *ev);

#endif
