/*
 * test_quote_req.c — the quote request (common/proto/quote_req.c): what
 * the verifier formats the agent parses back field for field (the
 * selection's '+' survives the query), and each malformed parameter is
 * refused with its name.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/proto/quote_req.h"

/* A query split into key=value pairs, looked up by quote_req_parse. */
struct query {
	char	 buf[1024];
	char	*key[16], *val[16];
	int	 n;
};

static void
query_split(struct query *q, const char *path)
{
	char *p, *amp;

	memset(q, 0, sizeof(*q));
	p = strchr(path, '?');
	ck_assert_ptr_nonnull(p);
	snprintf(q->buf, sizeof(q->buf), "%s", p + 1);
	for (p = q->buf; p != NULL && *p != '\0'; p = amp) {
		if ((amp = strchr(p, '&')) != NULL)
			*amp++ = '\0';
		q->key[q->n] = p;
		q->val[q->n] = strchr(p, '=');
		ck_assert_ptr_nonnull(q->val[q->n]);
		*q->val[q->n]++ = '\0';
		/* the one escape the format uses */
		for (char *e; (e = strstr(q->val[q->n], "%2B")) != NULL;) {
			*e = '+';
			memmove(e + 1, e + 3, strlen(e + 3) + 1);
		}
		q->n++;
	}
}

static const char *
query_get(void *ctx, const char *key)
{
	struct query *q = ctx;

	for (int i = 0; i < q->n; i++)
		if (strcmp(q->key[i], key) == 0)
			return q->val[i];
	return NULL;
}

static struct quote_req
sample(void)
{
	struct quote_req q = { .nonce_len = QUOTE_NONCE_LEN, .ima = 1,
	    .ima_from = 12345, .ima_max = 65536, .ima_bytes = 262144,
	    .eventlog = 1 };

	for (size_t i = 0; i < q.nonce_len; i++)
		q.nonce[i] = (uint8_t)(i * 11 + 3);
	ck_assert_int_eq(pcr_selection_parse("sha256:0,1,2,3,4,5,6,7,10+sha1:10",
	    &q.sel), 0);
	return q;
}

START_TEST(format_then_parse_gives_the_same_request)
{
	struct quote_req in = sample(), out;
	struct query qs;
	char *path = quote_req_format(&in);

	ck_assert_ptr_nonnull(path);
	ck_assert(strncmp(path, QUOTE_PATH "?", strlen(QUOTE_PATH) + 1) == 0);
	ck_assert_ptr_null(strchr(path, '+'));
	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_OK);
	ck_assert_uint_eq(out.nonce_len, in.nonce_len);
	ck_assert_mem_eq(out.nonce, in.nonce, in.nonce_len);
	ck_assert(pcr_selection_equal(&out.sel, &in.sel));
	ck_assert_int_eq(out.ima, 1);
	ck_assert_uint_eq(out.ima_from, 12345);
	ck_assert_uint_eq(out.ima_max, 65536);
	ck_assert_uint_eq(out.ima_bytes, 262144);
	ck_assert_int_eq(out.eventlog, 1);
	free(path);
}
END_TEST

START_TEST(without_ima_or_eventlog_nothing_is_asked)
{
	struct quote_req in = sample(), out;
	struct query qs;
	char *path;

	in.ima = 0;
	in.eventlog = 0;
	path = quote_req_format(&in);
	ck_assert_ptr_null(strstr(path, "ima_"));
	ck_assert_ptr_null(strstr(path, "eventlog"));
	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_OK);
	ck_assert_int_eq(out.ima, 0);
	ck_assert_int_eq(out.eventlog, 0);
	free(path);
}
END_TEST

/* Parse path's query and expect a refusal naming what. */
static void
refused(const char *path, const char *what)
{
	struct quote_req out;
	struct query qs;

	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_ERR_INVAL);
	ck_assert_msg(strstr(assay_err_detail(), what) != NULL, "%s: %s", path,
	    assay_err_detail());
}

#define N32 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

START_TEST(bad_parameters_refused_by_name)
{
	refused("/v1/quote?pcrs=sha256:0", "nonce");
	refused("/v1/quote?nonce=0011&pcrs=sha256:0", "nonce");	/* too short */
	refused("/v1/quote?nonce=" N32 N32 "00&pcrs=sha256:0", "nonce");
	refused("/v1/quote?nonce=zz" N32 "&pcrs=sha256:0", "nonce");
	refused("/v1/quote?nonce=" N32, "pcrs");
	refused("/v1/quote?nonce=" N32 "&pcrs=md5:0", "pcrs");
	refused("/v1/quote?nonce=" N32 "&pcrs=sha256:24", "pcrs");
	refused("/v1/quote?nonce=" N32 "&pcrs=sha256:0&ima_from=-1", "ima_from");
	refused("/v1/quote?nonce=" N32 "&pcrs=sha256:0&ima_from=1x", "ima_from");
	refused("/v1/quote?nonce=" N32 "&pcrs=sha256:0&ima_from=0&ima_max=0",
	    "ima_max");
	refused("/v1/quote?nonce=" N32 "&pcrs=sha256:0&ima_from=0&ima_bytes=0",
	    "ima_bytes");
	refused("/v1/quote?nonce=" N32 "&pcrs=sha256:0&ima_from="
	    "99999999999999999999999", "ima_from");
	refused("/v1/quote?nonce=" N32 "&pcrs=sha256:0&eventlog=yes", "eventlog");
}
END_TEST

START_TEST(format_refuses_a_bad_nonce_length)
{
	struct quote_req in = sample();

	in.nonce_len = QUOTE_NONCE_MIN - 1;
	ck_assert_ptr_null(quote_req_format(&in));
	in.nonce_len = QUOTE_NONCE_MAX + 1;
	ck_assert_ptr_null(quote_req_format(&in));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("quote_req");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, format_then_parse_gives_the_same_request);
	tcase_add_test(tc, without_ima_or_eventlog_nothing_is_asked);
	tcase_add_test(tc, bad_parameters_refused_by_name);
	tcase_add_test(tc, format_refuses_a_bad_nonce_length);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
