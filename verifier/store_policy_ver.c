/*
 * store_policy_ver.c — policy versions in the verifier's store. Every
 * upload is a new immutable row of policy_versions, numbered per name
 * (1, 2, ...; numbers are never reused, the rows outlive a deleted name),
 * with its content hash, uploader, signer and time. The policies row
 * names the version in force and an optional canary version; putting a
 * version in force (upload, rollback, promotion) rewrites that row with
 * the version's text and a new revision, in the same transaction.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/clock.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

int64_t
store_policy_new_rev(void)
{
	int64_t rev;

	if (RAND_bytes((unsigned char *)&rev, sizeof(rev)) != 1)
		fatalx("RAND_bytes failed");
	return rev & INT64_MAX;
}

/* Inside a transaction: the number the next version of name gets. */
static int
next_version(struct store *s, const char *name, int64_t *out)
{
	struct db_stmt *st = s->st[ST_PVER_NEXT];
	int rc;

	db_bind_text(st, 1, name);
	if ((rc = db_step(st)) == DB_ROW)
		*out = db_col_i64(st, 0);
	db_reset(st);
	if (rc != DB_ROW)
		return store_note_write(s, assay_err_set(ASSAY_ERR_DB,
		    "store %s: policy %s: no next version", s->path, name));
	return ASSAY_OK;
}

/* Inside a transaction: the policies row says version (text) is in force. */
static int
put_in_force(struct store *s, const char *name, const char *text,
    int64_t version)
{
	struct db_stmt *st = s->st[ST_POLICY_PUT];
	int64_t rev = store_policy_new_rev();
	int r;

	db_bind_text(st, 1, name);
	db_bind_text(st, 2, text);
	db_bind_i64(st, 3, clock_unix());
	db_bind_i64(st, 4, rev);
	db_bind_i64(st, 5, version);
	if ((r = store_step_done(s, ST_POLICY_PUT, NULL)) == ASSAY_OK)
		s->policy_rev = rev;
	return r;
}

/* Inside a transaction: the canary of an existing policies row. */
static int
put_canary(struct store *s, const char *name, int64_t version,
    const char *agents)
{
	struct db_stmt *st = s->st[ST_POLICY_CANARY];
	int64_t rev = store_policy_new_rev(), changes = 0;
	int r;

	db_bind_i64(st, 1, version);
	db_bind_text(st, 2, agents);
	db_bind_i64(st, 3, clock_unix());
	db_bind_i64(st, 4, rev);
	db_bind_text(st, 5, name);
	if ((r = store_step_done(s, ST_POLICY_CANARY, &changes)) != ASSAY_OK)
		return r;
	if (changes == 0)
		return assay_err_set(ASSAY_ERR_NOT_FOUND, "no policy '%s' to "
		    "try a canary version of", name);
	s->policy_rev = rev;
	return ASSAY_OK;
}

static int
add_version(struct store *s, const char *name, const char *text,
    const struct policy_meta *m, int64_t version)
{
	struct db_stmt *st = s->st[ST_PVER_ADD];
	char hex[65];

	sha256_hex(text, strlen(text), hex);
	db_bind_text(st, 1, name);
	db_bind_i64(st, 2, version);
	db_bind_text(st, 3, hex);
	db_bind_text(st, 4, text);
	db_bind_text(st, 5, m != NULL ? m->envelope : NULL);
	db_bind_text(st, 6, m != NULL ? m->uploader : NULL);
	db_bind_text(st, 7, m != NULL ? m->signer : NULL);
	db_bind_i64(st, 8, m != NULL ? m->signed_at : 0);
	db_bind_i64(st, 9, clock_unix());
	return store_step_done(s, ST_PVER_ADD, NULL);
}

int
store_policy_put_version(struct store *s, const char *name, const char *text,
    const struct policy_meta *meta, const char *canary, int64_t *version)
{
	int r;

	*version = 0;
	if ((r = store_check_policy_name(name)) != 0)
		return r;
	if (text == NULL)
		return assay_err_set(ASSAY_ERR_INVAL, "policy %s without text",
		    name);
	if ((r = store_tx_begin(s, "begin policy put")) != 0)
		return r;
	if ((r = next_version(s, name, version)) == ASSAY_OK)
		r = add_version(s, name, text, meta, *version);
	if (r == ASSAY_OK)
		r = canary == NULL ? put_in_force(s, name, text, *version) :
		    put_canary(s, name, *version, canary);
	if (r != ASSAY_OK)
		*version = 0;
	return store_tx_end(s, r, "commit policy put");
}

int
store_policy_select(struct store *s, const char *name, int64_t version)
{
	struct store_policy_version pv;
	int r;

	if ((r = store_tx_begin(s, "begin policy select")) != 0)
		return r;
	if ((r = store_policy_version_get(s, name, version, &pv)) == ASSAY_OK) {
		r = put_in_force(s, name, pv.text, version);
		store_policy_version_free(&pv);
	}
	return store_tx_end(s, r, "commit policy select");
}

static int
version_read(struct store *s, struct db_stmt *st, void *p)
{
	struct store_policy_version *v = p;
	const char *hex;

	v->name = store_col_text(st, 0);
	v->version = db_col_i64(st, 1);
	if ((hex = db_col_text(st, 2)) != NULL && strlen(hex) == 64)
		memcpy(v->sha256, hex, 65);
	v->uploader = store_col_text(st, 3);
	v->signer = store_col_text(st, 4);
	v->signed_at = db_col_i64(st, 5);
	v->created = db_col_i64(st, 6);
	v->size = db_col_i64(st, 7);
	v->text = store_col_text(st, 8);
	v->envelope = store_col_text(st, 9);
	if (v->name == NULL)
		return assay_err_set(ASSAY_ERR_DB, "store %s: policy version "
		    "without a name", s->path);
	if (v->sha256[0] == '\0' && v->text != NULL)
		sha256_hex(v->text, strlen(v->text), v->sha256);	/* migrated version 1 */
	return ASSAY_OK;
}

static void version_free_v(void *p) { store_policy_version_free(p); }

static const struct row_kind version_rows = { "policy version",
    sizeof(struct store_policy_version), version_read, version_free_v };

int
store_policy_version_get(struct store *s, const char *name, int64_t version,
    struct store_policy_version *out)
{
	struct db_stmt *st = s->st[ST_PVER_GET];
	void *v = NULL;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_check_policy_name(name)) != 0)
		return r;
	db_bind_text(st, 1, name);
	db_bind_i64(st, 2, version);
	if ((r = store_rows_collect(s, st, &version_rows, 1, &v, &n)) != 0)
		return r;
	if (n == 0) {
		free(v);
		return assay_err_set(ASSAY_ERR_NOT_FOUND, "policy %s has no "
		    "version %lld", name, (long long)version);
	}
	memcpy(out, v, sizeof(*out));
	free(v);
	return ASSAY_OK;
}

int
store_policy_versions(struct store *s, const char *name,
    struct store_policy_version **out, size_t *n)
{
	struct db_stmt *st = s->st[ST_PVER_LIST];
	void *v = NULL;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = store_check_policy_name(name)) != 0)
		return r;
	db_bind_text(st, 1, name);
	r = store_rows_collect(s, st, &version_rows, SIZE_MAX, &v, n);
	*out = v;
	return r;
}
