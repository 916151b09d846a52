/*
 * store_fixture.h — helpers shared by the store unit suites (test_store.c,
 * test_store_durability.c): a per-run base temp dir removed by an
 * unchecked fixture, a per-test dir with an open store, a fully populated
 * agent record and field-by-field comparison, and the put / event-list
 * shortcuts. Header-only, static inline functions.
 */
#ifndef ASSAY_TEST_STORE_FIXTURE_H
#define ASSAY_TEST_STORE_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/xmalloc.h"
#include "verifier/db.h"
#include "verifier/store.h"

struct fx {
	char		*dir;
	char		*db;
	struct store	*s;
};

/*
 * Each test gets its own mkdtemp dir under one per-run base dir; the base
 * is removed by an unchecked fixture in the runner process, so a failed
 * test (whose forked child exits early) leaves nothing behind.
 */
static char *base_dir;

static inline void
base_setup(void)
{
	const char *t = getenv("TMPDIR");

	base_dir = xasprintf("%s/assay-store-XXXXXX", t != NULL ? t : "/tmp");
	if (mkdtemp(base_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(base_dir, 0755);	/* the read-only test drops to nobody */
}

static inline int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static inline void
base_teardown(void)
{
	nftw(base_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(base_dir);
}

/*
 * 1 while the suite runs on PostgreSQL (ASSAY_TEST_PG_URI, a database the
 * test may wipe): every test starts from an empty schema there.
 */
static int fx_pg;

static inline void
fx_pg_wipe(const char *uri)
{
	struct db *db;

	ck_assert_msg(db_open(uri, &db) == ASSAY_OK, "%s", assay_err_detail());
	ck_assert_msg(db_exec(db, "DROP SCHEMA public CASCADE;"
	    " CREATE SCHEMA public", "wipe") == ASSAY_OK, "%s",
	    assay_err_detail());
	db_close(db);
}

static inline void
fx_dir(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->dir = xasprintf("%s/t-XXXXXX", base_dir);
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	if (fx_pg) {
		f->db = xstrdup(getenv("ASSAY_TEST_PG_URI"));
		fx_pg_wipe(f->db);
	} else
		f->db = xasprintf("%s/verifier.db", f->dir);
}

/*
 * Run the suite make() builds on SQLite, then on PostgreSQL when
 * ASSAY_TEST_PG_URI names one; the number of failed tests.
 */
static inline int
fx_run_both(Suite *(*make)(int pg))
{
	const char *uri = getenv("ASSAY_TEST_PG_URI");
	SRunner *sr;
	int nf = 0;

	for (fx_pg = 0; fx_pg <= 1; fx_pg++) {
		if (fx_pg && (uri == NULL || *uri == '\0')) {
			printf("(PostgreSQL backend not tested: ASSAY_TEST_PG_URI"
			    " unset)\n");
			break;
		}
		sr = srunner_create(make(fx_pg));
		srunner_run_all(sr, CK_NORMAL);
		nf += srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	return nf;
}

/* A temp dir with an open store in it. */
static inline void
fx_open(struct fx *f)
{
	fx_dir(f);
	ck_assert_msg(store_open(f->db, &f->s) == ASSAY_OK, "store_open: %s",
	    assay_err_detail());
}

static inline void
fx_done(struct fx *f)
{
	store_close(f->s);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->db);
	free(f->dir);
}

static inline uint8_t *
bytes(size_t n, uint8_t seed)
{
	uint8_t *p = xmalloc(n);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
	return p;
}

/* A fully populated record, every field distinct. */
static inline void
agent_full(struct agent_rec *a, const char *id)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->ek_pub = bytes(a->ek_pub_len = 314, 1);
	a->ek_cert = bytes(a->ek_cert_len = 1021, 2);
	a->ak_pub = bytes(a->ak_pub_len = 280, 3);
	a->cert_cn = xstrdup("agent-cn");
	a->activated = 1;
	a->admitted = 1;
	a->state = AGENT_UNTRUSTED;
	a->address = xstrdup("10.0.0.7:8890");
	a->policy = xstrdup("web-fleet");
	a->interval = 30;
	a->reason = xstrdup("ima.not_allowed");
	a->reason_detail = xstrdup("/usr/bin/evil sha256:00ff");
	a->registered_at = 1700000000;
	a->last_attested = 1700000100;
	a->last_event_at = -5;
	a->clock.valid = 1;
	a->clock.clock = 0xffffffffffffffffULL;
	a->clock.reset_count = 0xfffffffeU;
	a->clock.restart_count = 7;
	a->clock.firmware_version = 0x8000000000000000ULL;
	a->attest_ok = 0x7fffffffffffffffULL;
	a->attest_fail = 0x8000000000000001ULL;
	a->poll_errors = 3;
	a->verify_state = xstrdup("{\"ima_count\":12,\"pcr10\":\"ab\"}");
}

static inline void
blob_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	ck_assert_uint_eq(alen, blen);
	if (a == NULL || b == NULL)
		ck_assert(a == b);
	else
		ck_assert_int_eq(memcmp(a, b, alen), 0);
}

static inline void
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		ck_assert(a == b);
	else
		ck_assert_str_eq(a, b);
}

static inline void
agent_eq(const struct agent_rec *a, const struct agent_rec *b)
{
	ck_assert_str_eq(a->id, b->id);
	blob_eq(a->ek_pub, a->ek_pub_len, b->ek_pub, b->ek_pub_len);
	blob_eq(a->ek_cert, a->ek_cert_len, b->ek_cert, b->ek_cert_len);
	blob_eq(a->ak_pub, a->ak_pub_len, b->ak_pub, b->ak_pub_len);
	str_eq(a->cert_cn, b->cert_cn);
	ck_assert_int_eq(a->activated, b->activated);
	ck_assert_int_eq(a->admitted, b->admitted);
	ck_assert_int_eq(a->state, b->state);
	str_eq(a->address, b->address);
	str_eq(a->policy, b->policy);
	ck_assert_int_eq(a->interval, b->interval);
	str_eq(a->reason, b->reason);
	str_eq(a->reason_detail, b->reason_detail);
	ck_assert(a->registered_at == b->registered_at);
	ck_assert(a->last_attested == b->last_attested);
	ck_assert(a->last_event_at == b->last_event_at);
	ck_assert_int_eq(a->clock.valid, b->clock.valid);
	ck_assert(a->clock.clock == b->clock.clock);
	ck_assert_uint_eq(a->clock.reset_count, b->clock.reset_count);
	ck_assert_uint_eq(a->clock.restart_count, b->clock.restart_count);
	ck_assert(a->clock.firmware_version == b->clock.firmware_version);
	ck_assert(a->attest_ok == b->attest_ok);
	ck_assert(a->attest_fail == b->attest_fail);
	ck_assert(a->poll_errors == b->poll_errors);
	str_eq(a->verify_state, b->verify_state);
}

static inline void
put_ok(struct store *s, const struct agent_rec *a, const struct store_event *ev)
{
	ck_assert_msg(store_agent_put(s, a, ev) == ASSAY_OK, "put %s: %s",
	    a->id, assay_err_detail());
}

static inline void
events_free(struct store_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_event_free(&evs[i]);
	free(evs);
}

#endif
