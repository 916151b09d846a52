/*
 * test_http_bodies.c — the HTTPS server's per-route body limits, enforced
 * from the headers before the body is read (announced and chunked bodies,
 * a forbidden role, a GET with a body), and its refusal of deeply nested
 * JSON; the server and clients are http_limits_fixture.h's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/thread.h>

#include "http_limits_fixture.h"

static void
bodies_setup(void)
{
	server_start(10, 0);
}

static void
ssl_send(SSL *ssl, const void *p, size_t n)
{
	ck_assert_int_eq(SSL_write(ssl, p, (int)n), (int)n);
}

/*
 * Announce a 1 MiB body, send the headers and 16 KiB of it, and time the
 * answer while the rest is still unsent.
 */
static int
announce_big_body(const char *method, const char *path, double *dt)
{
	static char part[16384];
	SSL_CTX *ctx;
	SSL *ssl;
	char hdr[256];
	int fd, st;

	memset(part, 'a', sizeof(part));
	ssl = tls_connect(&ctx, &fd);
	snprintf(hdr, sizeof(hdr), "%s %s HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n",
	    method, path);
	ssl_send(ssl, hdr, strlen(hdr));
	ssl_send(ssl, part, sizeof(part));
	st = read_status(ssl, fd, dt);
	tls_close(ssl, ctx, fd);
	return st;
}

START_TEST(body_over_route_limit_refused_before_it_is_sent)
{
	double dt;

	ck_assert_int_eq(announce_big_body("POST", "/v1/small", &dt), 413);
	ck_assert_msg(dt < 1.0, "413 after %.2f s", dt);
	assert_server_alive();
}
END_TEST

START_TEST(body_for_forbidden_role_refused_before_it_is_sent)
{
	double dt;

	/* admin certificate, agent-only route with a 1 MiB limit */
	ck_assert_int_eq(announce_big_body("POST", "/v1/agentonly", &dt), 403);
	ck_assert_msg(dt < 1.0, "403 after %.2f s", dt);
}
END_TEST

START_TEST(body_on_get_route_refused)
{
	double dt;

	ck_assert_int_eq(announce_big_body("GET", "/v1/items/1", &dt), 413);
	ck_assert_msg(dt < 1.0, "413 after %.2f s", dt);
}
END_TEST

START_TEST(chunked_body_over_route_limit_refused)
{
	static const char req[] = "POST /v1/small HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "200\r\n";
	static char chunk[512 + 2];
	SSL_CTX *ctx;
	SSL *ssl;
	double dt;
	int fd, st = -1;

	memset(chunk, 'a', sizeof(chunk));
	memcpy(chunk + 512, "\r\n", 2);
	ssl = tls_connect(&ctx, &fd);
	ssl_send(ssl, req, sizeof(req) - 1);
	/* Chunks of 512 bytes: the third goes over the 1 KiB limit. */
	for (int i = 0; i < 3; i++) {
		ssl_send(ssl, chunk, sizeof(chunk));
		if (i < 2)
			ssl_send(ssl, "200\r\n", 5);
	}
	st = read_status(ssl, fd, &dt);
	ck_assert_int_eq(st, 413);
	tls_close(ssl, ctx, fd);
	assert_server_alive();
}
END_TEST

static int
post_small(const char *body, char **resp)
{
	SSL_CTX *ctx;
	uint8_t *out = NULL;
	size_t len = 0;
	int st = 0;

	ctx = pki_ctx("admin", 0);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(http_request_sync(ctx, "POST", "127.0.0.1", S.port,
	    "/v1/small", "application/json", body, strlen(body), 5, NULL,
	    &st, &out, &len), ASSAY_OK);
	SSL_CTX_free(ctx);
	*resp = (char *)out;
	return st;
}

START_TEST(body_within_route_limit_accepted)
{
	char *resp;

	ck_assert_int_eq(post_small("{\"a\":[1,2,3]}", &resp), 200);
	free(resp);
}
END_TEST

START_TEST(json_depth_bomb_refused)
{
	char body[SMALL_LIMIT], *resp;
	size_t n = 0;
	int depth = HTTP_JSON_MAX_DEPTH + 8;

	n += (size_t)snprintf(body, sizeof(body), "{\"a\":");
	for (int i = 0; i < depth; i++)
		body[n++] = '[';
	for (int i = 0; i < depth; i++)
		body[n++] = ']';
	body[n++] = '}';
	body[n] = '\0';
	ck_assert_int_eq(post_small(body, &resp), 400);
	ck_assert_ptr_nonnull(strstr(resp, "nested deeper"));
	free(resp);
	/* Brackets inside strings do not count. */
	ck_assert_int_eq(post_small("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[\"}", &resp), 200);
	free(resp);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http_bodies");
	TCase *tb = tcase_create("bodies");
	SRunner *sr;
	int nf;

	evthread_use_pthreads();
	pki_make("bodies");
	tcase_add_checked_fixture(tb, bodies_setup, server_stop);
	tcase_set_timeout(tb, 30);
	tcase_add_test(tb, body_over_route_limit_refused_before_it_is_sent);
	tcase_add_test(tb, body_for_forbidden_role_refused_before_it_is_sent);
	tcase_add_test(tb, body_on_get_route_refused);
	tcase_add_test(tb, chunked_body_over_route_limit_refused);
	tcase_add_test(tb, body_within_route_limit_accepted);
	tcase_add_test(tb, json_depth_bomb_refused);
	suite_add_tcase(s, tb);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	pki_remove();
	return nf == 0 ? 0 : 1;
}
