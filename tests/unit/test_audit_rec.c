/*
 * test_audit_rec.c — the audit record's canonical hash and chain
 * (common/proto/audit_rec.c): the hash is SHA-256 over sorted compact
 * JSON without "hash" (a vector computed independently), any edit of a
 * sealed record is caught on parse, and a synthetic chain is refused for
 * a seq gap, a wrong prev, a wrong first prev and a head that is not its
 * last record.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/proto/audit_rec.h"

/* {"agent":"a","kind":"x","prev":"0..0","seq":1,"z":[1,"é/"]}, by Python */
#define VECTOR_HASH \
	"6430cbfbc272ea3ccf1f45d5817789b89e0049543a988b3f29d71fb043c94b3b"

/* A sealed record of kind after prev; *text its canonical text. */
static json_t *
sealed(const char *agent, int64_t seq, const char *prev, const char *kind,
    char **text)
{
	json_t *o = json_pack("{s:s, s:i}", "kind", kind, "n", (int)seq);
	char hash[AUDIT_HASH_HEX];

	ck_assert_int_eq(audit_rec_seal(o, agent, seq, prev, text, hash),
	    ASSAY_OK);
	ck_assert_str_eq(json_string_value(json_object_get(o, "hash")), hash);
	return o;
}

/* A chain of n records of agent "a". */
static void
chain_of(json_t **recs, size_t n)
{
	const char *prev = AUDIT_ZERO_HASH;
	char *text;

	for (size_t i = 0; i < n; i++) {
		recs[i] = sealed("a", (int64_t)i + 1, prev, "round", &text);
		free(text);
		prev = json_string_value(json_object_get(recs[i], "hash"));
	}
}

static void
chain_free(json_t **recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(recs[i]);
}

START_TEST(hash_matches_independent_vector)
{
	/* Members in another order, and a "hash" member: neither counts. */
	json_t *o = json_pack("{s:[i,s], s:i, s:s, s:s, s:s, s:s}", "z", 1,
	    "\xc3\xa9/", "seq", 1, "prev", AUDIT_ZERO_HASH, "kind", "x", "hash",
	    "whatever", "agent", "a");
	char h[AUDIT_HASH_HEX];

	ck_assert_int_eq(audit_rec_hash(o, h), ASSAY_OK);
	ck_assert_str_eq(h, VECTOR_HASH);
	json_decref(o);
}
END_TEST

START_TEST(sealed_record_parses_back)
{
	char *text;
	json_t *o = sealed("agent-1", 1, AUDIT_ZERO_HASH, "enroll", &text), *p;

	ck_assert_int_eq(audit_rec_parse(text, strlen(text), &p), ASSAY_OK);
	ck_assert(json_equal(o, p));
	json_decref(p);
	json_decref(o);
	free(text);
}
END_TEST

START_TEST(edited_record_fails_its_hash)
{
	char *text, *at;
	json_t *o = sealed("a", 1, AUDIT_ZERO_HASH, "round", &text), *p = NULL;

	at = strstr(text, "\"n\":1");
	ck_assert_ptr_nonnull(at);
	at[4] = '2';
	ck_assert_int_eq(audit_rec_parse(text, strlen(text), &p),
	    ASSAY_ERR_CRYPTO);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "hash mismatch"));
	json_decref(o);
	free(text);
}
END_TEST

START_TEST(record_without_chain_fields_is_refused)
{
	const char *t = "{\"kind\":\"round\",\"seq\":1}";
	json_t *p = NULL;

	ck_assert_int_eq(audit_rec_parse(t, strlen(t), &p), ASSAY_ERR_FORMAT);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(whole_chain_and_head_pass)
{
	struct audit_chain c;
	json_t *r[4];

	chain_of(r, 4);
	audit_chain_init(&c);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(audit_chain_add(&c, r[i]), ASSAY_OK);
	ck_assert_int_eq(c.first_seq, 1);
	ck_assert_int_eq(audit_chain_head(&c, 4, json_string_value(
	    json_object_get(r[3], "hash"))), ASSAY_OK);
	chain_free(r, 4);
}
END_TEST

START_TEST(chain_may_start_later)
{
	struct audit_chain c;
	json_t *r[4];

	chain_of(r, 4);
	audit_chain_init(&c);
	ck_assert_int_eq(audit_chain_add(&c, r[2]), ASSAY_OK);
	ck_assert_int_eq(audit_chain_add(&c, r[3]), ASSAY_OK);
	ck_assert_int_eq(c.first_seq, 3);
	chain_free(r, 4);
}
END_TEST

START_TEST(seq_gap_is_refused)
{
	struct audit_chain c;
	json_t *r[4];

	chain_of(r, 4);
	audit_chain_init(&c);
	ck_assert_int_eq(audit_chain_add(&c, r[0]), ASSAY_OK);
	ck_assert_int_eq(audit_chain_add(&c, r[2]), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "records 2..2 missing"));
	chain_free(r, 4);
}
END_TEST

START_TEST(wrong_prev_is_refused)
{
	struct audit_chain c;
	json_t *r[2], *other;
	char *text;

	chain_of(r, 2);
	/* seq 2 sealed after another record than seq 1 */
	other = sealed("a", 2, VECTOR_HASH, "round", &text);
	free(text);
	audit_chain_init(&c);
	ck_assert_int_eq(audit_chain_add(&c, r[0]), ASSAY_OK);
	ck_assert_int_eq(audit_chain_add(&c, other), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "prev does not match"));
	json_decref(other);
	chain_free(r, 2);
}
END_TEST

START_TEST(first_record_needs_zero_prev)
{
	struct audit_chain c;
	char *text;
	json_t *o = sealed("a", 1, VECTOR_HASH, "round", &text);

	free(text);
	audit_chain_init(&c);
	ck_assert_int_eq(audit_chain_add(&c, o), ASSAY_ERR_FORMAT);
	json_decref(o);
}
END_TEST

START_TEST(other_agent_is_refused)
{
	struct audit_chain c;
	json_t *r[1], *o;
	char *text;

	chain_of(r, 1);
	o = sealed("b", 2, json_string_value(json_object_get(r[0], "hash")),
	    "round", &text);
	free(text);
	audit_chain_init(&c);
	ck_assert_int_eq(audit_chain_add(&c, r[0]), ASSAY_OK);
	ck_assert_int_eq(audit_chain_add(&c, o), ASSAY_ERR_FORMAT);
	json_decref(o);
	chain_free(r, 1);
}
END_TEST

START_TEST(head_past_last_record_is_refused)
{
	struct audit_chain c;
	json_t *r[3];

	chain_of(r, 3);
	audit_chain_init(&c);
	for (size_t i = 0; i < 2; i++)	/* seq 3 cut off */
		ck_assert_int_eq(audit_chain_add(&c, r[i]), ASSAY_OK);
	ck_assert_int_eq(audit_chain_head(&c, 3, json_string_value(
	    json_object_get(r[2], "hash"))), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "records 3..3 missing"));
	chain_free(r, 3);
}
END_TEST

START_TEST(head_hash_mismatch_is_refused)
{
	struct audit_chain c;
	json_t *r[2];

	chain_of(r, 2);
	audit_chain_init(&c);
	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(audit_chain_add(&c, r[i]), ASSAY_OK);
	ck_assert_int_eq(audit_chain_head(&c, 2, VECTOR_HASH), ASSAY_ERR_FORMAT);
	ck_assert_int_eq(audit_chain_head(&c, 2, "nothex"), ASSAY_ERR_FORMAT);
	chain_free(r, 2);
}
END_TEST

START_TEST(seal_refuses_bad_chain_position)
{
	json_t *o = json_pack("{s:s}", "kind", "x");
	char h[AUDIT_HASH_HEX], *text;

	ck_assert_int_eq(audit_rec_seal(o, "a", 0, AUDIT_ZERO_HASH, &text, h),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(audit_rec_seal(o, "a", 1, "abc", &text, h),
	    ASSAY_ERR_INVAL);
	ck_assert_ptr_null(text);
	json_decref(o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("audit_rec");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, hash_matches_independent_vector);
	tcase_add_test(tc, sealed_record_parses_back);
	tcase_add_test(tc, edited_record_fails_its_hash);
	tcase_add_test(tc, record_without_chain_fields_is_refused);
	tcase_add_test(tc, whole_chain_and_head_pass);
	tcase_add_test(tc, chain_may_start_later);
	tcase_add_test(tc, seq_gap_is_refused);
	tcase_add_test(tc, wrong_prev_is_refused);
	tcase_add_test(tc, first_record_needs_zero_prev);
	tcase_add_test(tc, other_agent_is_refused);
	tcase_add_test(tc, head_past_last_record_is_refused);
	tcase_add_test(tc, head_hash_mismatch_is_refused);
	tcase_add_test(tc, seal_refuses_bad_chain_position);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
