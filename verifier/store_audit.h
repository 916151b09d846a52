/*
 * store_audit.h — the audit trail in the verifier's store: each agent's
 * hash-chained records (common/proto/audit_rec.h), its head (seq and
 * hash of the last record, kept after the agent is deleted) and the
 * policy texts rounds were judged with, stored once by SHA-256. A record
 * is written in the transaction of the agent change it belongs to, and
 * only onto the head it was sealed after (else ASSAY_ERR_STATE): a killed
 * verifier never leaves a verdict without its record or a broken chain.
 */
#ifndef ASSAY_STORE_AUDIT_H
#define ASSAY_STORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto/audit_rec.h"
#include "verifier/store.h"

struct store_audit {
	char	*agent_id;
	int64_t	 seq;
	int64_t	 time;
	char	*kind;
	char	*record;	/* the sealed record's canonical text */
	char	*hash;		/* its hash (hex) */
	/* a round's policy text, stored once by its SHA-256 (all NULL: none) */
	char	*pol_sha256, *pol_name, *pol_text;
};
void	store_audit_copy(struct store_audit *dst, const struct store_audit *src);
void	store_audit_free(struct store_audit *a);	/* contents, NULL-safe */

/*
 * store_agent_put_notify with an audit record (may be NULL) in the same
 * transaction; store_agent_save (write-behind) likewise: a change that
 * carries a record is never merged into a queued one.
 */
int	store_agent_put_audit(struct store *s, const struct agent_rec *a,
	    const struct store_event *ev, const char *const *targets,
	    size_t ntargets, const struct store_audit *au);
int	store_agent_save_audit(struct store *s, const struct agent_rec *a,
	    const struct store_event *ev, const char *const *targets,
	    size_t ntargets, const struct store_audit *au);
/* store_agent_delete with the agent's "delete" record (may be NULL). */
int	store_agent_delete_audit(struct store *s, const char *id,
	    const struct store_event *ev, const struct store_audit *au);

/* Inside a transaction (store_agent.c): the record, its policy, the head. */
int	store_audit_insert_tx(struct store *s, const struct store_audit *au);

/* The agent's head: seq 0 and the zero hash when it has no record. */
int	store_audit_head(struct store *s, const char *id, int64_t *seq,
	    char hash[AUDIT_HASH_HEX]);
/*
 * Up to max records of id with after < seq <= upto and time >= since, in
 * seq order; caller frees each (store_audit_free) and the array.
 */
int	store_audit_list(struct store *s, const char *id, int64_t after,
	    int64_t upto, int64_t since, size_t max, struct store_audit **out,
	    size_t *n);
/* A stored policy text by SHA-256 (hex); ASSAY_ERR_NOT_FOUND if none. */
int	store_audit_policy(struct store *s, const char *sha256, char **name,
	    char **text);
/*
 * One bounded retention step: delete at most batch records older than
 * now - max_age, oldest first, never an agent's head. *deleted: rows gone.
 */
int	store_audit_prune(struct store *s, int64_t now, int64_t max_age,
	    size_t batch, size_t *deleted);

#endif
