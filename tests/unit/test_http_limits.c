/*
 * test_http_limits.c — the HTTPS server's defences against hostile
 * clients: the absolute per-request deadline (slow TLS handshake, slow
 * headers, slow second request on a keep-alive connection, and no charge
 * for idle keep-alive time), the cap on concurrent connections, per
 * address and for connections still in their handshake (with its own
 * deadline), and per-route body limits enforced from the headers, before
 * the body is read.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/err.h"
#include "common/http.h"
#include "common/tls.h"
#include "pki_fixture.h"

#define DEADLINE	2	/* request deadline in the deadline tests */
#define IDLE_TIMEOUT	5	/* evhttp idle timeout: longer than DEADLINE */
#define DRIP_MS		300


static void
h_item(struct http_request *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "id", r->param[0]));
}

static void
h_json(struct http_request *r)
{
	json_t *j;

	if ((j = http_body_json(r)) == NULL)
		return;
	http_reply_json(r, 200, j);
}

#define SMALL_LIMIT	1024

static const struct http_route routes[] = {
	{ "GET",	"/v1/items/{id}",	ROLE_ADMIN,	h_item, 0 },
	{ "POST",	"/v1/small",		ROLE_ADMIN,	h_json, SMALL_LIMIT },
	{ "POST",	"/v1/agentonly",	ROLE_AGENT,	h_json, 1 << 20 },
	{ NULL,		NULL,			0,		NULL, 0 },
};

/* Server options the next server_start uses (0: defaults). */
static struct {
	int	unauth_max, hs_deadline, per_addr;
} O;

static struct {
	struct event_base	*base;
	struct http_server	*srv;
	pthread_t		 thr;
	uint16_t		 port;
} S;

static void *
server_main(void *arg)
{
	event_base_dispatch(S.base);
	return NULL;
}

static void
server_start(int deadline, int max_conns)
{
	SSL_CTX *ctx;

	ctx = pki_ctx("verifier", 1);
	ck_assert_ptr_nonnull(ctx);
	S.base = event_base_new();
	S.srv = http_server_new(S.base, ctx, routes, NULL);
	SSL_CTX_free(ctx);
	http_server_set_timeout(S.srv, IDLE_TIMEOUT);
	http_server_set_request_deadline(S.srv, deadline);
	if (max_conns > 0)
		http_server_set_max_connections(S.srv, max_conns);
	if (O.unauth_max > 0 || O.hs_deadline > 0)
		http_server_set_unauth_limits(S.srv, O.unauth_max, O.hs_deadline);
	if (O.per_addr > 0)
		http_server_set_max_per_addr(S.srv, O.per_addr);
	memset(&O, 0, sizeof(O));
	ck_assert_int_eq(http_server_listen(S.srv, "127.0.0.1", 0), ASSAY_OK);
	S.port = http_server_port(S.srv);
	ck_assert_int_eq(pthread_create(&S.thr, NULL, server_main, NULL), 0);
}

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
bodies_setup(void)
{
	server_start(10, 0);
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

static void
server_stop(void)
{
	usleep(50000);
	event_base_loopbreak(S.base);
	pthread_join(S.thr, NULL);
	http_server_free(S.srv);
	event_base_free(S.base);
	memset(&S, 0, sizeof(S));
}

static double
now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* A TCP connection from source address src (host order), or loopback. */
static int
raw_connect_from(uint32_t src)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	if (src != 0) {
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(src);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin,
		    sizeof(sin)), 0);
		memset(&sin, 0, sizeof(sin));
	}
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(S.port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

static int
raw_connect(void)
{
	return raw_connect_from(0);
}

/* A blocking mutual-TLS connection as who; free with tls_close. */
static SSL *
tls_connect_as(const char *who, SSL_CTX **ctxp, int *fdp)
{
	SSL_CTX *ctx;
	SSL *ssl;

	ctx = pki_ctx(who, 0);
	ck_assert_ptr_nonnull(ctx);
	*fdp = raw_connect();
	ssl = SSL_new(ctx);
	ck_assert_ptr_nonnull(ssl);
	SSL_set_fd(ssl, *fdp);
	ck_assert_int_eq(SSL_connect(ssl), 1);
	*ctxp = ctx;
	return ssl;
}

static SSL *
tls_connect(SSL_CTX **ctxp, int *fdp)
{
	return tls_connect_as("admin", ctxp, fdp);
}

static void
tls_close(SSL *ssl, SSL_CTX *ctx, int fd)
{
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

/* One keep-alive GET on ssl; returns the HTTP status (-1: closed). */
static int
tls_get(SSL *ssl, const char *path)
{
	char req[256], resp[4096], *eoh, *cl;
	int n, len = 0, status;
	size_t want;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	if (SSL_write(ssl, req, (int)strlen(req)) != (int)strlen(req))
		return -1;
	for (;;) {
		if ((n = SSL_read(ssl, resp + len, sizeof(resp) - 1 - len)) <= 0)
			return -1;
		len += n;
		resp[len] = '\0';
		if ((eoh = strstr(resp, "\r\n\r\n")) == NULL)
			continue;
		if ((cl = strcasestr(resp, "Content-Length:")) == NULL)
			return -1;
		want = (size_t)(eoh + 4 - resp) + strtoul(cl + 15, NULL, 10);
		if ((size_t)len >= want)
			break;
	}
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		return -1;
	return status;
}

/*
 * Send bytes one at a time every DRIP_MS (through ssl if not NULL) until
 * the server closes the connection; seconds from t0, or -1 if it is still
 * open after max_sec.
 */
static double
drip_until_closed(int fd, SSL *ssl, const char *bytes, size_t len,
    double t0, int max_sec)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[256];
	size_t i = 0;
	int r;

	while (now() - t0 < max_sec) {
		if ((r = poll(&pfd, 1, DRIP_MS)) > 0) {
			r = ssl != NULL ? SSL_read(ssl, buf, sizeof(buf)) :
			    (int)recv(fd, buf, sizeof(buf), 0);
			if (r <= 0)
				return now() - t0;
			continue;
		}
		r = ssl != NULL ? SSL_write(ssl, bytes + i % len, 1) :
		    (int)send(fd, bytes + i % len, 1, MSG_NOSIGNAL);
		if (r <= 0)
			return now() - t0;
		i++;
	}
	return -1;
}

/* Seconds until the server closes fd, -1 if not within max_ms. */
static double
wait_closed(int fd, int max_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double t0 = now();
	char buf[256];

	for (;;) {
		if (poll(&pfd, 1, max_ms) <= 0)
			return -1;
		if (recv(fd, buf, sizeof(buf), 0) <= 0)
			return now() - t0;
	}
}

static int
sync_get(const char *path, int *status)
{
	SSL_CTX *ctx;
	uint8_t *resp = NULL;
	size_t len = 0;
	int r;

	ctx = pki_ctx("admin", 0);
	ck_assert_ptr_nonnull(ctx);
	r = http_request_sync(ctx, "GET", "127.0.0.1", S.port, path, NULL,
	    NULL, 0, 5, NULL, status, &resp, &len);
	SSL_CTX_free(ctx);
	free(resp);
	return r;
}

static void
assert_server_alive(void)
{
	int st = 0;

	ck_assert_int_eq(sync_get("/v1/items/alive", &st), ASSAY_OK);
	ck_assert_int_eq(st, 200);
}

static void
assert_deadline_close(double dt)
{
	ck_assert_msg(dt >= 0, "connection still open after %d s",
	    DEADLINE + 3);
	/* Not earlier (the drip beats the idle timeout), and on time. */
	ck_assert_msg(dt >= DEADLINE - 0.5 && dt <= DEADLINE + 1.0,
	    "closed after %.2f s, deadline %d s", dt, DEADLINE);
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

/* The status of the response on ssl, -1 if none within 3 s; *dt: seconds. */
static int
read_status(SSL *ssl, int fd, double *dt)
{
	struct timeval tv = { 3, 0 };
	char resp[4096];
	double t0 = now();
	int n, len = 0, status = -1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len < (int)sizeof(resp) - 1) {
		if ((n = SSL_read(ssl, resp + len, sizeof(resp) - 1 - len)) <= 0)
			break;
		len += n;
		resp[len] = '\0';
		if (strstr(resp, "\r\n\r\n") != NULL)
			break;
	}
	*dt = now() - t0;
	resp[len] = '\0';
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		return -1;
	return status;
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
	TCase *tb = tcase_create("bodies");
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
	tcase_add_checked_fixture(tb, bodies_setup, server_stop);
	tcase_set_timeout(tb, 30);
	tcase_add_test(tb, body_over_route_limit_refused_before_it_is_sent);
	tcase_add_test(tb, body_for_forbidden_role_refused_before_it_is_sent);
	tcase_add_test(tb, body_on_get_route_refused);
	tcase_add_test(tb, chunked_body_over_route_limit_refused);
	tcase_add_test(tb, body_within_route_limit_accepted);
	tcase_add_test(tb, json_depth_bomb_refused);
	suite_add_tcase(s, tb);
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
