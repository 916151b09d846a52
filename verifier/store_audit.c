/*
 * store_audit.c — the audit trail's rows (store_audit.h): a record with
 * its policy text and the head move, inside the agent change's
 * transaction; the head, the records and the policy texts read back for
 * an export; and bounded retention steps. Statements: store_schema.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_audit.h"
#include "verifier/store_int.h"

void
store_audit_copy(struct store_audit *dst, const struct store_audit *src)
{
	*dst = *src;
	dst->agent_id = xstrdup_or_null(src->agent_id);
	dst->kind = xstrdup_or_null(src->kind);
	dst->record = xstrdup_or_null(src->record);
	dst->hash = xstrdup_or_null(src->hash);
	dst->pol_sha256 = xstrdup_or_null(src->pol_sha256);
	dst->pol_name = xstrdup_or_null(src->pol_name);
	dst->pol_text = xstrdup_or_null(src->pol_text);
}

void
store_audit_free(struct store_audit *a)
{
	if (a == NULL)
		return;
	free(a->agent_id);
	free(a->kind);
	free(a->record);
	free(a->hash);
	free(a->pol_sha256);
	free(a->pol_name);
	free(a->pol_text);
	memset(a, 0, sizeof(*a));
}

/* The head moves from seq - 1 to seq, or the record is refused. */
static int
head_move(struct store *s, const struct store_audit *au)
{
	enum stmt_id id = au->seq == 1 ? ST_AUDIT_HEAD_PUT : ST_AUDIT_HEAD_MOVE;
	struct db_stmt *st = s->st[id];
	int64_t ch = 0;
	int r;

	db_bind_text(st, 1, au->agent_id);
	db_bind_i64(st, 2, au->seq);
	db_bind_text(st, 3, au->hash);
	if ((r = store_step_done(s, id, &ch)) != ASSAY_OK)
		return r;
	if (ch != 1)
		return assay_err_set(ASSAY_ERR_STATE, "agent %s: audit record "
		    "%lld does not follow the stored head", au->agent_id,
		    (long long)au->seq);
	return ASSAY_OK;
}

int
store_audit_insert_tx(struct store *s, const struct store_audit *au)
{
	struct db_stmt *st;
	int r;

	if (au->agent_id == NULL || au->seq < 1 || au->kind == NULL ||
	    au->record == NULL || au->hash == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "incomplete audit record");
	if (au->pol_sha256 != NULL && au->pol_name != NULL &&
	    au->pol_text != NULL) {
		st = s->st[ST_AUDIT_POLICY_ADD];
		db_bind_text(st, 1, au->pol_sha256);
		db_bind_text(st, 2, au->pol_name);
		db_bind_text(st, 3, au->pol_text);
		if ((r = store_step_done(s, ST_AUDIT_POLICY_ADD, NULL)) != 0)
			return r;
	}
	if ((r = head_move(s, au)) != ASSAY_OK)
		return r;
	st = s->st[ST_AUDIT_ADD];
	db_bind_text(st, 1, au->agent_id);
	db_bind_i64(st, 2, au->seq);
	db_bind_i64(st, 3, au->time);
	db_bind_text(st, 4, au->kind);
	db_bind_text(st, 5, au->record);
	db_bind_text(st, 6, au->hash);
	return store_step_done(s, ST_AUDIT_ADD, NULL);
}

int
store_audit_head(struct store *s, const char *id, int64_t *seq,
    char hash[AUDIT_HASH_HEX])
{
	struct db_stmt *st = s->st[ST_AUDIT_HEAD_GET];
	const char *h;
	int rc, r = ASSAY_OK;

	*seq = 0;
	memcpy(hash, AUDIT_ZERO_HASH, AUDIT_HASH_HEX);
	if ((r = store_check_id(id)) != 0)
		return r;
	db_bind_text(st, 1, id);
	if ((rc = db_step(st)) == DB_ROW) {
		h = db_col_text(st, 1);
		if (h == NULL || strlen(h) != AUDIT_HASH_HEX - 1)
			r = assay_err_set(ASSAY_ERR_DB, "agent %s: malformed "
			    "audit head", id);
		else {
			*seq = db_col_i64(st, 0);
			memcpy(hash, h, AUDIT_HASH_HEX);
		}
	} else if (rc != DB_DONE)
		r = rc;
	db_reset(st);
	return r;
}

static int
audit_read(struct store *s, struct db_stmt *st, void *p)
{
	struct store_audit *a = p;

	a->agent_id = store_col_text(st, 0);
	a->seq = db_col_i64(st, 1);
	a->time = db_col_i64(st, 2);
	a->kind = store_col_text(st, 3);
	a->record = store_col_text(st, 4);
	a->hash = store_col_text(st, 5);
	if (a->record == NULL)
		return assay_err_set(ASSAY_ERR_DB, "store %s: audit row without "
		    "a record", s->path);
	return ASSAY_OK;
}

static void audit_free_v(void *p) { store_audit_free(p); }

static const struct row_kind audit_rows =
    { "audit record", sizeof(struct store_audit), audit_read, audit_free_v };

int
store_audit_list(struct store *s, const char *id, int64_t after, int64_t upto,
    int64_t since, size_t max, struct store_audit **out, size_t *n)
{
	struct db_stmt *st = s->st[ST_AUDIT_LIST];
	void *v;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = store_check_id(id)) != 0)
		return r;
	db_bind_text(st, 1, id);
	db_bind_i64(st, 2, after);
	db_bind_i64(st, 3, since);
	db_bind_i64(st, 4, (int64_t)max);
	db_bind_i64(st, 5, upto);
	r = store_rows_collect(s, st, &audit_rows, max, &v, n);
	*out = v;
	return r;
}

int
store_audit_policy(struct store *s, const char *sha256, char **name,
    char **text)
{
	struct db_stmt *st = s->st[ST_AUDIT_POLICY_GET];
	int rc, r = ASSAY_OK;

	*name = *text = NULL;
	db_bind_text(st, 1, sha256);
	if ((rc = db_step(st)) == DB_ROW) {
		*name = store_col_text(st, 0);
		*text = store_col_text(st, 1);
	} else
		r = rc == DB_DONE ? assay_err_set(ASSAY_ERR_NOT_FOUND, "no "
		    "audit policy %.64s", sha256) : rc;
	db_reset(st);
	return r;
}

int
store_audit_prune(struct store *s, int64_t now, int64_t max_age, size_t batch,
    size_t *deleted)
{
	struct db_stmt *st = s->st[ST_AUDIT_PRUNE];
	int64_t ch = 0;
	int r;

	*deleted = 0;
	if (max_age <= 0 || batch == 0)
		return ASSAY_OK;
	db_bind_i64(st, 1, now - max_age);
	db_bind_i64(st, 2, (int64_t)batch);
	if ((r = store_step_done(s, ST_AUDIT_PRUNE, &ch)) != ASSAY_OK)
		return r;
	*deleted = (size_t)ch;
	return ASSAY_OK;
}
