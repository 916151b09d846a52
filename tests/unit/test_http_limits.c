/*
 * test_http_limits.c — the HTTPS server's defences against hostile
 * clients: the absolute per-request deadline (slow TLS handshake, slow
 * headers, slow second request on a keep-alive connection, and no charge
 * for idle keep-alive time) and the cap on concurrent connections.
 */
#include <sys/socket.h>
#include <sys/time.h>

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
#include "tools/certs.h"

#define DEADLINE	2	/* request deadline in the deadline tests */
#define IDLE_TIMEOUT	5	/* evhttp idle timeout: longer than DEADLINE */
#define DRIP_MS		300

static char certdir[256];

static void
h_item(struct http_request *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "id", r->param[0]));
}

static const struct http_route routes[] = {
	{ "GET",	"/v1/items/{id}",	ROLE_ADMIN,	h_item },
	{ NULL,		NULL,			0,		NULL },
};

static struct {
	struct event_base	*base;
	struct http_server	*srv;
	pthread_t		 thr;
	uint16_t		 port;
} S;

static char *
cpath(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", certdir, name);
	return b;
}

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

	ctx = tls_server_ctx(cpath("verifier.pem"), cpath("verifier.key"),
	    cpath("ca.pem"));
	ck_assert_ptr_nonnull(ctx);
	S.base = event_base_new();
	S.srv = http_server_new(S.base, ctx, routes, NULL);
	SSL_CTX_free(ctx);
	http_server_set_timeout(S.srv, IDLE_TIMEOUT);
	http_server_set_request_deadline(S.srv, deadline);
	if (max_conns > 0)
		http_server_set_max_connections(S.srv, max_conns);
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

static int
raw_connect(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(S.port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* A blocking mutual-TLS connection as admin; free with tls_close. */
static SSL *
tls_connect(SSL_CTX **ctxp, int *fdp)
{
	SSL_CTX *ctx;
	SSL *ssl;

	ctx = tls_client_ctx(cpath("admin.pem"), cpath("admin.key"),
	    cpath("ca.pem"));
	ck_assert_ptr_nonnull(ctx);
	*fdp = raw_connect();
	ssl = SSL_new(ctx);
	ck_assert_ptr_nonnull(ssl);
	SSL_set_fd(ssl, *fdp);
	ck_assert_int_eq(SSL_connect(ssl), 1);
	*ctxp = ctx;
	return ssl;
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

	ctx = tls_client_ctx(cpath("admin.pem"), cpath("admin.key"),
	    cpath("ca.pem"));
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

START_TEST(connection_over_limit_closed_while_others_stay)
{
	struct pollfd pfd[2];
	double dt;
	int fd1, fd2, fd3;

	fd1 = raw_connect();
	fd2 = raw_connect();
	usleep(200000);		/* let the server accept both */
	fd3 = raw_connect();
	dt = wait_closed(fd3, 2000);
	ck_assert_msg(dt >= 0 && dt < 0.5, "third connection: %.2f s", dt);
	pfd[0] = (struct pollfd){ .fd = fd1, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fd2, .events = POLLIN };
	ck_assert_int_eq(poll(pfd, 2, 500), 0);
	close(fd3);
	close(fd2);
	close(fd1);
}
END_TEST

START_TEST(request_over_limit_fails_with_net_error)
{
	int fd1, fd2, st = 0;

	fd1 = raw_connect();
	fd2 = raw_connect();
	usleep(200000);
	ck_assert_int_eq(sync_get("/v1/items/x", &st), ASSAY_ERR_NET);
	close(fd2);
	close(fd1);
}
END_TEST

START_TEST(closed_connections_free_their_slots)
{
	int fd1, fd2, st = 0, r = -1;

	fd1 = raw_connect();
	fd2 = raw_connect();
	usleep(200000);
	close(fd1);
	close(fd2);
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

static void
make_dirs(void)
{
	char *agents[] = { "agent1" };

	snprintf(certdir, sizeof(certdir), "/tmp/assay-limits-XXXXXX");
	if (mkdtemp(certdir) == NULL ||
	    certs_init(certdir, NULL, agents, 1, 1, 1) != ASSAY_OK) {
		fprintf(stderr, "test setup: %s\n", assay_err_detail());
		exit(1);
	}
}

int
main(void)
{
	Suite *s = suite_create("http_limits");
	TCase *td = tcase_create("deadline");
	TCase *tm = tcase_create("maxconn");
	SRunner *sr;
	char cmd[300];
	int nf;

	evthread_use_pthreads();
	make_dirs();
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
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", certdir);
	return nf == 0 ? 0 : 1;
}
