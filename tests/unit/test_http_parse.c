/*
 * test_http_parse.c — the pure request parsers the server's guard and
 * JSON routes use: the header block (method, path without query,
 * Content-Length, chunked, malformed lines) and the bounded JSON body
 * loader (size, depth, syntax, object only), each refusal with its status.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/http.h"

static void
head(const char *text, struct http_head *h, char **buf)
{
	*buf = strdup(text);
	http_head_parse(*buf, h);
}

START_TEST(head_reads_method_path_and_length)
{
	struct http_head h;
	char *b;

	head("\r\nPUT  /v1/policies/p?x=1#f HTTP/1.1\r\nHost: v\r\n"
	    "content-length:  42 \r\nContent-Length: 7\r\n\r\n", &h, &b);
	ck_assert_int_eq(h.bad, 0);
	ck_assert_str_eq(h.method, "PUT");
	ck_assert_str_eq(h.path, "/v1/policies/p");
	ck_assert_uint_eq(h.content_length, 42);	/* the first one counts */
	ck_assert_int_eq(h.chunked, 0);
	http_head_free(&h);
	free(b);
}
END_TEST

START_TEST(head_sees_chunked_and_malformed)
{
	struct http_head h;
	char *b;

	head("POST /v1/register HTTP/1.1\nTransfer-Encoding: Chunked\n\n", &h, &b);
	ck_assert_int_eq(h.chunked, 1);
	ck_assert_int_eq(h.bad, 0);
	http_head_free(&h);
	free(b);
	head("GET\r\n\r\n", &h, &b);
	ck_assert_int_eq(h.bad, 1);
	ck_assert_ptr_null(h.path);
	http_head_free(&h);
	free(b);
	head("PUT /x HTTP/1.1\r\nContent-Length: 12a\r\n\r\n", &h, &b);
	ck_assert_int_eq(h.bad, 1);
	http_head_free(&h);
	free(b);
	head("PUT /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	    &h, &b);
	ck_assert_int_eq(h.bad, 0);
	ck_assert_uint_eq(h.content_length, SIZE_MAX);	/* capped, then refused */
	http_head_free(&h);
	free(b);
}
END_TEST

START_TEST(json_load_bounds_and_refusals)
{
	static const char ok[] = "{\"id\":\"a\",\"s\":\"[[[[\"}";
	char msg[256], *deep;
	json_t *j;
	size_t i;

	ck_assert_int_eq(http_json_load((const uint8_t *)ok, strlen(ok), &j, msg,
	    sizeof(msg)), 0);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
	ck_assert_int_eq(http_json_load((const uint8_t *)"", 0, &j, msg,
	    sizeof(msg)), 400);
	ck_assert_int_eq(http_json_load((const uint8_t *)"[1]", 3, &j, msg,
	    sizeof(msg)), 400);
	ck_assert_ptr_nonnull(strstr(msg, "object"));
	ck_assert_int_eq(http_json_load((const uint8_t *)"{\"a\":1,\"a\":2}", 13,
	    &j, msg, sizeof(msg)), 400);
	deep = malloc(2 * (HTTP_JSON_MAX_DEPTH + 1) + 8);
	strcpy(deep, "{\"a\":");
	for (i = 0; i < HTTP_JSON_MAX_DEPTH; i++)
		strcat(deep, "[");
	for (i = 0; i < HTTP_JSON_MAX_DEPTH; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	ck_assert_int_eq(http_json_load((const uint8_t *)deep, strlen(deep), &j,
	    msg, sizeof(msg)), 400);
	ck_assert_ptr_nonnull(strstr(msg, "nested deeper"));
	ck_assert_ptr_null(j);
	free(deep);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http_parse");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, head_reads_method_path_and_length);
	tcase_add_test(tc, head_sees_chunked_and_malformed);
	tcase_add_test(tc, json_load_bounds_and_refusals);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
