/*
 * test_http_limits.c — the HTTPS server's defences against hostile
 * clients: the absolute per-request deadline (slow TLS handshake, slow
 * headers, slow second request on a keep-alive connection, and no charge
 * for idle keep-alive time), the cap on concurrent connections, per
 * address and for connections still in their handshake (with its own
 * deadline). Body limits: test_http_bodies.c; the server and clients:
 * http_limits_fixture.h.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/thread.h>

#include "http_limits_fixture.h"

static void
deadline_setup(void)
{
	server_start(DEADLINE, 0);
}

static void
maxconn_setup(void)
{
	server_start(IDLE_TIMEOUT, 2);
}

static void
unauth_setup(void)
{
	O.unauth_max = 2;
	O.hs_deadline = 1;
	server_start(10, 8);
}

static void
peraddr_setup(void)
{
	O.per_addr = 3;
	server_start(10, 0);
}

static const char slow_req[] = "GET /v1/items/1 HTTP/1.1\r\nHost: x\r\n"
    "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

START_TEST(slow_headers_after_handshake_closed_at_deadline)
{
	SSL_CTX *ctx;
	SSL *ssl;
	double t0 = now();
	int fd;

	ssl = tls_connect(&ctx, &fd);
	assert_deadline_close(drip_until_closed(fd, ssl, slow_req,
	    sizeof(slow_req) - 1, t0, DEADLINE + 3));
	tls_close(ssl, ctx, fd);
	assert_server_alive();
}
END_TEST

START_TEST(slow_tls_handshake_closed_at_deadline)
{
	/* A handshake record header announcing 512 bytes, then a drip. */
	static const char hello[] = "\x16\x03\x01\x02\x00";
	static const char zero[] = { 0 };
	double t0 = now();
	int fd = raw_connect();

	ck_assert_int_eq(send(fd, hello, sizeof(hello) - 1, 0),
	    (ssize_t)sizeof(hello) - 1);
	assert_deadline_close(drip_until_closed(fd, NULL, zero, 1, t0,
	    DEADLINE + 3));
	close(fd);
	assert_server_alive();
}
END_TEST

START_TEST(idle_keepalive_time_not_charged_to_deadline)
{
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;

	ssl = tls_connect(&ctx, &fd);
	ck_assert_int_eq(tls_get(ssl, "/v1/items/1"), 200);
	/* Idle past the deadline but within the idle timeout. */
	usleep((DEADLINE + 1) * 1000000);
	ck_assert_int_eq(tls_get(ssl, "/v1/items/2"), 200);
	tls_close(ssl, ctx, fd);
}
END_TEST

START_TEST(slow_second_request_closed_at_deadline)
{
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;

	ssl = tls_connect(&ctx, &fd);
	ck_assert_int_eq(tls_get(ssl, "/v1/items/1"), 200);
	usleep(1000000);
	/* The clock starts with the first byte of the second request. */
	assert_deadline_close(drip_until_closed(fd, ssl, slow_req,
	    sizeof(slow_req) - 1, now(), DEADLINE + 3));
	tls_close(ssl, ctx, fd);
	assert_server_alive();
}
END_TEST

/* Verified (handshake complete) connections hold the slots here. */
START_TEST(connection_over_limit_closed_while_others_stay)
{
	SSL_CTX *c1, *c2;
	SSL *s1, *s2;
	double dt;
	int fd1, fd2, fd3;

	s1 = tls_connect(&c1, &fd1);
	s2 = tls_connect(&c2, &fd2);
	usleep(200000);		/* let the server see both handshakes */
	fd3 = raw_connect();
	dt = wait_closed(fd3, 2000);
	ck_assert_msg(dt >= 0 && dt < 0.5, "third connection: %.2f s", dt);
	/* The two held connections still serve requests. */
	ck_assert_int_eq(tls_get(s1, "/v1/items/1"), 200);
	ck_assert_int_eq(tls_get(s2, "/v1/items/2"), 200);
	close(fd3);
	tls_close(s2, c2, fd2);
	tls_close(s1, c1, fd1);
}
END_TEST

START_TEST(request_over_limit_fails_with_net_error)
{
	SSL_CTX *c1, *c2;
	SSL *s1, *s2;
	int fd1, fd2, st = 0;

	s1 = tls_connect(&c1, &fd1);
	s2 = tls_connect(&c2, &fd2);
	usleep(200000);
	ck_assert_int_eq(sync_get("/v1/items/x", &st), ASSAY_ERR_NET);
	tls_close(s2, c2, fd2);
	tls_close(s1, c1, fd1);
}
END_TEST

START_TEST(closed_connections_free_their_slots)
{
	SSL_CTX *c1, *c2;
	SSL *s1, *s2;
	int fd1, fd2, st = 0, r = -1;

	s1 = tls_connect(&c1, &fd1);
	s2 = tls_connect(&c2, &fd2);
	usleep(200000);
	tls_close(s2, c2, fd2);
	tls_close(s1, c1, fd1);
	for (int i = 0; i < 20 && r != ASSAY_OK; i++) {
		usleep(50000);
		r = sync_get("/v1/items/x", &st);
	}
	ck_assert_int_eq(r, ASSAY_OK);
	ck_assert_int_eq(st, 200);
	/* Two in a row: the previous request's slot came back too. */
	usleep(100000);
	assert_server_alive();
	usleep(100000);
	assert_server_alive();
}
END_TEST

END_TEST

START_TEST(unauthenticated_flood_cannot_keep_verified_peer_out)
{
	int fds[20], st = 0;

	/* Far more idle, handshake-less connections than the 8 slots. */
	for (size_t i = 0; i < 20; i++)
		fds[i] = raw_connect();
	usleep(200000);
	for (int k = 0; k < 3; k++) {
		ck_assert_int_eq(sync_get("/v1/items/x", &st), ASSAY_OK);
		ck_assert_int_eq(st, 200);
	}
	for (size_t i = 0; i < 20; i++)
		close(fds[i]);
}
END_TEST

START_TEST(certificate_no_route_accepts_cannot_hold_the_slots)
{
	SSL_CTX *c[8];
	SSL *s[8];
	int fd[8], st = 0;

	/* Verified, but no route allows the verifier role: evictable. */
	for (int i = 0; i < 8; i++)
		s[i] = tls_connect_as("verifier", &c[i], &fd[i]);
	usleep(200000);
	ck_assert_int_eq(sync_get("/v1/items/x", &st), ASSAY_OK);
	ck_assert_int_eq(st, 200);
	for (int i = 0; i < 8; i++)
		tls_close(s[i], c[i], fd[i]);
}
END_TEST

START_TEST(unauthenticated_connections_get_a_short_handshake_deadline)
{
	double dt;
	int fd = raw_connect();

	/* 1 s to complete the handshake; the request deadline is 10 s. */
	dt = wait_closed(fd, 4000);
	ck_assert_msg(dt >= 0.7 && dt <= 2.0, "closed after %.2f s", dt);
	close(fd);
}
END_TEST

START_TEST(verified_connection_not_held_to_handshake_deadline)
{
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;

	ssl = tls_connect(&ctx, &fd);
	usleep(1700000);
	ck_assert_int_eq(tls_get(ssl, "/v1/items/1"), 200);
	tls_close(ssl, ctx, fd);
}
END_TEST

START_TEST(connections_per_address_capped)
{
	struct pollfd pfd;
	SSL_CTX *c[3];
	SSL *s[3];
	double dt;
	int fd[3], over, other;

	for (int i = 0; i < 3; i++)
		s[i] = tls_connect(&c[i], &fd[i]);
	usleep(100000);
	over = raw_connect();
	dt = wait_closed(over, 2000);
	ck_assert_msg(dt >= 0 && dt < 0.5, "4th connection: %.2f s", dt);
	close(over);
	/* Another address is not affected. */
	other = raw_connect_from(0x7f000002);
	pfd = (struct pollfd){ .fd = other, .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 500), 0);
	close(other);
	for (int i = 0; i < 3; i++)
		tls_close(s[i], c[i], fd[i]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http_limits");
	TCase *td = tcase_create("deadline");
	TCase *tm = tcase_create("maxconn");
	TCase *tu = tcase_create("unauth");
	TCase *tp = tcase_create("peraddr");
	SRunner *sr;
	int nf;

	evthread_use_pthreads();
	pki_make("limits");
	tcase_add_checked_fixture(td, deadline_setup, server_stop);
	tcase_set_timeout(td, 30);
	tcase_add_test(td, slow_headers_after_handshake_closed_at_deadline);
	tcase_add_test(td, slow_tls_handshake_closed_at_deadline);
	tcase_add_test(td, idle_keepalive_time_not_charged_to_deadline);
	tcase_add_test(td, slow_second_request_closed_at_deadline);
	suite_add_tcase(s, td);
	tcase_add_checked_fixture(tm, maxconn_setup, server_stop);
	tcase_set_timeout(tm, 30);
	tcase_add_test(tm, connection_over_limit_closed_while_others_stay);
	tcase_add_test(tm, request_over_limit_fails_with_net_error);
	tcase_add_test(tm, closed_connections_free_their_slots);
	suite_add_tcase(s, tm);
	tcase_add_checked_fixture(tu, unauth_setup, server_stop);
	tcase_set_timeout(tu, 30);
	tcase_add_test(tu, unauthenticated_flood_cannot_keep_verified_peer_out);
	tcase_add_test(tu, unauthenticated_connections_get_a_short_handshake_deadline);
	tcase_add_test(tu, certificate_no_route_accepts_cannot_hold_the_slots);
	tcase_add_test(tu, verified_connection_not_held_to_handshake_deadline);
	suite_add_tcase(s, tu);
	tcase_add_checked_fixture(tp, peraddr_setup, server_stop);
	tcase_set_timeout(tp, 30);
	tcase_add_test(tp, connections_per_address_capped);
	suite_add_tcase(s, tp);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	pki_remove();
	return nf == 0 ? 0 : 1;
}
