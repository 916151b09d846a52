/*
 * store_enroll.c — registrations waiting for activation, in the database
 * so that any verifier sharing it may activate what another registered:
 * the agent's keys and certificate as the activation will store them,
 * the credential secret (the proof's key; deleted when taken, whatever
 * the outcome, or when expired) and the expiry. Keyed by id and
 * certificate, counted per certificate and per EK for the caps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

int
store_enroll_put(struct store *s, const char *key, const struct agent_rec *rec,
    const char *ek_hash, const uint8_t *secret, size_t secret_len,
    int64_t expires)
{
	struct db_stmt *st = s->st[ST_ENROLL_PUT];

	db_bind_text(st, 1, key);
	db_bind_text(st, 2, rec->id);
	db_bind_text(st, 3, rec->cert_cn);
	db_bind_text(st, 4, ek_hash);
	db_bind_blob(st, 5, secret, secret_len);
	bind_blob_or_null(st, 6, rec->ek_pub, rec->ek_pub_len);
	bind_blob_or_null(st, 7, rec->ek_cert, rec->ek_cert_len);
	bind_blob_or_null(st, 8, rec->ak_pub, rec->ak_pub_len);
	db_bind_text(st, 9, rec->address);
	db_bind_i64(st, 10, expires);
	db_bind_text(st, 11, rec->push ? "push" : "pull");
	return store_step_done(s, ST_ENROLL_PUT, NULL);
}

/* The current row of ST_ENROLL_TAKE into rec and secret. */
static int
take_read(struct db_stmt *st, struct agent_rec *rec, uint8_t *secret,
    size_t secret_len)
{
	const char *id = db_col_text(st, 0);
	const void *b;
	size_t n;

	if (id == NULL || store_check_id(id) != ASSAY_OK)
		return assay_err_set(ASSAY_ERR_DB, "enrollment with a bad id");
	memcpy(rec->id, id, strlen(id) + 1);
	rec->cert_cn = store_col_text(st, 1);
	b = db_col_blob(st, 2, &n);
	if (b == NULL || n != secret_len)
		return assay_err_set(ASSAY_ERR_DB, "enrollment %s: bad secret",
		    rec->id);
	memcpy(secret, b, n);
	store_col_blob(st, 3, &rec->ek_pub, &rec->ek_pub_len);
	store_col_blob(st, 4, &rec->ek_cert, &rec->ek_cert_len);
	store_col_blob(st, 5, &rec->ak_pub, &rec->ak_pub_len);
	rec->address = store_col_text(st, 6);
	id = db_col_text(st, 8);
	rec->push = id != NULL && strcmp(id, "push") == 0;
	return ASSAY_OK;
}

int
store_enroll_take(struct store *s, const char *key, int64_t now,
    struct agent_rec *rec, uint8_t *secret, size_t secret_len)
{
	struct db_stmt *st = s->st[ST_ENROLL_TAKE];
	int64_t expires = 0;
	int rc, r = ASSAY_OK;

	memset(rec, 0, sizeof(*rec));
	(void)store_batch_commit(s);	/* a write: grouped records first */
	db_bind_text(st, 1, key);
	if ((rc = db_step(st)) == DB_ROW) {
		r = take_read(st, rec, secret, secret_len);
		expires = db_col_i64(st, 7);
	} else
		r = rc == DB_DONE ? ASSAY_ERR_NOT_FOUND : rc;
	db_reset(st);
	if (r == ASSAY_OK && expires < now)
		r = ASSAY_ERR_NOT_FOUND;
	if (r != ASSAY_OK) {
		agent_rec_free(rec);
		memset(secret, 0, secret_len);
		if (r == ASSAY_ERR_NOT_FOUND)
			r = assay_err_set(r, "no enrollment in progress");
	}
	return r;
}

int
store_enroll_room(struct store *s, const char *key, const char *cn,
    const char *ek_hash, int64_t now, struct store_enroll_counts *c)
{
	struct db_stmt *st = s->st[ST_ENROLL_ROOM];
	int rc;

	memset(c, 0, sizeof(*c));
	db_bind_i64(st, 1, now);
	db_bind_text(st, 2, cn);
	db_bind_text(st, 3, ek_hash);
	db_bind_text(st, 4, key);
	if ((rc = db_step(st)) == DB_ROW) {
		c->total = db_col_i64(st, 0);
		c->by_cert = db_col_i64(st, 1);
		c->by_ek = db_col_i64(st, 2);
		c->same_key = db_col_i64(st, 3);
	}
	db_reset(st);
	return rc == DB_ROW ? ASSAY_OK : rc == DB_DONE ?
	    assay_err_set(ASSAY_ERR_DB, "enrollment counts: no row") : rc;
}

int
store_enroll_expire(struct store *s, int64_t now)
{
	db_bind_i64(s->st[ST_ENROLL_EXPIRE], 1, now);
	return store_step_done(s, ST_ENROLL_EXPIRE, NULL);
}
