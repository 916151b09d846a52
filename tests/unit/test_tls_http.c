/*
 * test_tls_http.c — mutual TLS and the evhttp server/client: routing,
 * roles, the body limit, JSON errors, a handler that never replies, and
 * the async client's peer identity checks (expected CN, no certificate,
 * either side from another CA). Hostile peers, transport errors and curl:
 * test_tls_peers.c; the shared server and clients: tls_http_fixture.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/thread.h>

#include "tls_http_fixture.h"

START_TEST(admin_get_captures_param_and_query)
{
	json_t *j;
	int st;

	ck_assert_int_eq(req_as("admin", "GET", "/v1/items/ab%20c?q=hello%20w&x=1",
	    NULL, &st, &j), ASSAY_OK);
	ck_assert_int_eq(st, 200);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jstr(j, "id"), "ab c");
	ck_assert_str_eq(jstr(j, "q"), "hello w");
	ck_assert_str_eq(jstr(j, "cn"), "admin");
	ck_assert_str_eq(jstr(j, "role"), "admin");
	ck_assert_str_eq(jstr(j, "path"), "/v1/items/ab c");
	json_decref(j);
	if (getenv("TEST_VERBOSE") != NULL) {
		struct timeval t0, t1;

		gettimeofday(&t0, NULL);
		for (int i = 0; i < 20; i++)
			req_as("agent-agent1", "POST", "/v1/echo", "{}", &st, NULL);
		gettimeofday(&t1, NULL);
		fprintf(stderr, "20 sync POSTs: %.1f ms each\n",
		    ((t1.tv_sec - t0.tv_sec) * 1e3 +
		    (t1.tv_usec - t0.tv_usec) / 1e3) / 20);
	}
}
END_TEST

START_TEST(param_with_encoded_slash_is_404)
{
	int st;

	ck_assert_int_eq(req_as("admin", "GET", "/v1/items/a%2Fb", NULL, &st,
	    NULL), ASSAY_OK);
	ck_assert_int_eq(st, 404);
	ck_assert_int_eq(req_as("admin", "GET", "/v1/items/", NULL, &st,
	    NULL), ASSAY_OK);
	ck_assert_int_eq(st, 404);
}
END_TEST

START_TEST(agent_on_admin_route_is_403_json_error)
{
	json_t *j;
	int st;

	ck_assert_int_eq(req_as("agent-agent1", "GET", "/v1/items/x", NULL,
	    &st, &j), ASSAY_OK);
	ck_assert_int_eq(st, 403);
	ck_assert_ptr_nonnull(j);
	ck_assert_ptr_nonnull(strstr(jstr(j, "error"), "agent"));
	json_decref(j);
}
END_TEST

START_TEST(agent_post_echoes_json)
{
	json_t *j;
	int st;

	ck_assert_int_eq(req_as("agent-agent1", "POST", "/v1/echo",
	    "{\"a\":[1,2],\"b\":\"x\"}", &st, &j), ASSAY_OK);
	ck_assert_int_eq(st, 200);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jstr(j, "b"), "x");
	json_decref(j);
}
END_TEST

START_TEST(unknown_path_is_404)
{
	json_t *j;
	int st;

	ck_assert_int_eq(req_as("admin", "GET", "/v1/nothing", NULL, &st, &j),
	    ASSAY_OK);
	ck_assert_int_eq(st, 404);
	ck_assert_ptr_nonnull(jstr(j, "error"));
	json_decref(j);
}
END_TEST

START_TEST(wrong_method_is_405)
{
	json_t *j;
	int st;

	ck_assert_int_eq(req_as("agent-agent1", "GET", "/v1/echo", NULL, &st,
	    &j), ASSAY_OK);
	ck_assert_int_eq(st, 405);
	ck_assert_ptr_nonnull(jstr(j, "error"));
	json_decref(j);
}
END_TEST

START_TEST(body_over_limit_is_413)
{
	char *big = malloc(TEST_MAX_BODY * 3);
	int st;

	memset(big, ' ', TEST_MAX_BODY * 3 - 3);
	big[0] = '{';
	memcpy(big + TEST_MAX_BODY * 3 - 3, "}", 2);
	ck_assert_int_eq(req_as("agent-agent1", "POST", "/v1/echo", big, &st,
	    NULL), ASSAY_OK);
	ck_assert_int_eq(st, 413);
	free(big);
}
END_TEST

START_TEST(malformed_json_is_400)
{
	json_t *j;
	int st;

	ck_assert_int_eq(req_as("agent-agent1", "POST", "/v1/echo", "{\"a\":",
	    &st, &j), ASSAY_OK);
	ck_assert_int_eq(st, 400);
	ck_assert_ptr_nonnull(strstr(jstr(j, "error"), "invalid JSON"));
	json_decref(j);
	ck_assert_int_eq(req_as("agent-agent1", "POST", "/v1/echo",
	    "{\"a\":1,\"a\":2}", &st, NULL), ASSAY_OK);
	ck_assert_int_eq(st, 400);
	ck_assert_int_eq(req_as("agent-agent1", "POST", "/v1/echo", "[1]",
	    &st, &j), ASSAY_OK);
	ck_assert_int_eq(st, 400);
	ck_assert_ptr_nonnull(strstr(jstr(j, "error"), "object"));
	json_decref(j);
}
END_TEST

START_TEST(handler_without_reply_gets_500)
{
	int st;

	ck_assert_int_eq(req_as("admin", "GET", "/v1/silent", NULL, &st, NULL),
	    ASSAY_OK);
	ck_assert_int_eq(st, 500);
}
END_TEST

START_TEST(async_client_admin_get_with_expected_cn)
{
	SSL_CTX *ctx = client_ctx(certdir, "admin");
	struct result res = async_req(ctx, S.port, "/v1/items/7", 5, "verifier");

	ck_assert_int_eq(res.err, ASSAY_OK);
	ck_assert_int_eq(res.status, 200);
	ck_assert_ptr_nonnull(strstr(res.body, "\"id\":\"7\""));
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(expect_cn_mismatch_is_perm)
{
	SSL_CTX *ctx = client_ctx(certdir, "admin");
	struct result res = async_req(ctx, S.port, "/v1/items/7", 5, "agent1");

	ck_assert_int_eq(res.err, ASSAY_ERR_PERM);
	ck_assert_int_eq(res.status, 0);
	ck_assert_str_eq(res.body, "");
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "verifier"));
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(client_without_certificate_is_refused)
{
	SSL_CTX *ctx = tls_client_ctx(NULL, NULL, cpath(certdir, "ca.pem"));
	struct result res;

	ck_assert_ptr_nonnull(ctx);
	res = async_req(ctx, S.port, "/v1/items/7", 5, NULL);
	ck_assert_int_eq(res.err, ASSAY_ERR_NET);
	ck_assert_int_eq(res.status, 0);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(client_cert_from_other_ca_is_refused)
{
	SSL_CTX *ctx = client_ctx(otherdir, "admin");
	struct result res = async_req(ctx, S.port, "/v1/items/7", 5, NULL);

	ck_assert_int_eq(res.err, ASSAY_ERR_NET);
	ck_assert_int_eq(res.status, 0);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(server_cert_from_other_ca_is_refused)
{
	/* Trusts only the other CA: our verifier must not be accepted. */
	SSL_CTX *ctx = tls_client_ctx(cpath(otherdir, "admin.pem"),
	    cpath(otherdir, "admin.key"), cpath(otherdir, "ca.pem"));
	struct result res;

	ck_assert_ptr_nonnull(ctx);
	res = async_req(ctx, S.port, "/v1/items/7", 5, NULL);
	ck_assert_int_eq(res.err, ASSAY_ERR_NET);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "certificate"));
	SSL_CTX_free(ctx);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tls_http");
	TCase *tc = tcase_create("server");
	SRunner *sr;
	int nf;

	evthread_use_pthreads();
	make_dirs();
	tcase_add_checked_fixture(tc, server_start, server_stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, admin_get_captures_param_and_query);
	tcase_add_test(tc, param_with_encoded_slash_is_404);
	tcase_add_test(tc, agent_on_admin_route_is_403_json_error);
	tcase_add_test(tc, agent_post_echoes_json);
	tcase_add_test(tc, unknown_path_is_404);
	tcase_add_test(tc, wrong_method_is_405);
	tcase_add_test(tc, body_over_limit_is_413);
	tcase_add_test(tc, malformed_json_is_400);
	tcase_add_test(tc, handler_without_reply_gets_500);
	tcase_add_test(tc, async_client_admin_get_with_expected_cn);
	tcase_add_test(tc, expect_cn_mismatch_is_perm);
	tcase_add_test(tc, client_without_certificate_is_refused);
	tcase_add_test(tc, client_cert_from_other_ca_is_refused);
	tcase_add_test(tc, server_cert_from_other_ca_is_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_dirs();
	return nf == 0 ? 0 : 1;
}

