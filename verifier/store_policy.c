/*
 * store_policy.c — named policies in the verifier's store: read one
 * policies row (the version in force, a canary) and the store_policy_*
 * operations on it (get, delete, list, revisions, users). Versions, and
 * putting one in force: store_policy_ver.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"

#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "verifier/store.h"
#include "verifier/store_int.h"

static int
policy_read(struct store *s, struct db_stmt *st, void *p)
{
	struct store_policy *pol = p;

	pol->name = store_col_text(st, 0);
	pol->text = store_col_text(st, 1);
	pol->updated = db_col_i64(st, 2);
	pol->rev = db_col_i64(st, 3);
	pol->version = db_col_i64(st, 4);
	pol->canary_version = db_col_i64(st, 5);
	pol->canary_agents = store_col_text(st, 6);
	return ASSAY_OK;
}

static void policy_free_v(void *p) { store_policy_free(p); }

static const struct row_kind policy_rows =
    { "policy", sizeof(struct store_policy), policy_read, policy_free_v };

/* ---- policies -------------------------------------------------------- */

int
store_check_policy_name(const char *name)
{
	if (name == NULL || *name == '\0')
		return assay_err_set(ASSAY_ERR_INVAL, "empty policy name");
	return ASSAY_OK;
}

int
store_policy_put(struct store *s, const char *name, const char *text)
{
	int64_t version;

	return store_policy_put_version(s, name, text, NULL, NULL, &version);
}

int
store_policy_get(struct store *s, const char *name, struct store_policy *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_check_policy_name(name)) != 0)
		return r;
	return store_get_one(s, ST_POLICY_GET, &policy_rows, name, out);
}

int
store_policy_delete(struct store *s, const char *name)
{
	int r;

	if ((r = store_check_policy_name(name)) != 0)
		return r;
	return store_delete_one(s, ST_POLICY_DEL, "policy", name, NULL);
}

int
store_policy_list(struct store *s, struct store_policy **out, size_t *n)
{
	void *v;
	int r;

	r = store_rows_collect(s, s->st[ST_POLICY_LIST], &policy_rows,
	    SIZE_MAX, &v, n);
	*out = v;
	return r;
}

int64_t
store_policy_last_rev(const struct store *s)
{
	return s->policy_rev;
}

static int
rev_read(struct store *s, struct db_stmt *st, void *p)
{
	struct store_policy *pol = p;

	pol->name = store_col_text(st, 0);
	pol->rev = db_col_i64(st, 1);
	return pol->name != NULL ? ASSAY_OK : assay_err_set(ASSAY_ERR_DB,
	    "store %s: policy row without a name", s->path);
}

static const struct row_kind rev_rows =
    { "policy revision", sizeof(struct store_policy), rev_read, policy_free_v };

int
store_policy_revs(struct store *s, struct store_policy **out, size_t *n)
{
	void *v;
	int r;

	r = store_rows_collect(s, s->st[ST_POLICY_REVS], &rev_rows, SIZE_MAX,
	    &v, n);
	*out = v;
	return r;
}

int
store_policy_users(struct store *s, const char *name, int64_t *n)
{
	struct db_stmt *st = s->st[ST_POLICY_USERS];
	int rc;

	*n = 0;
	db_bind_text(st, 1, name);
	if ((rc = db_step(st)) == DB_ROW)
		*n = db_col_i64(st, 0);
	db_reset(st);
	return rc == DB_ROW || rc == DB_DONE ? ASSAY_OK : rc;
}
