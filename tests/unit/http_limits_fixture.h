/*
 * http_limits_fixture.h — what the HTTPS server defence suites
 * (test_http_limits, test_http_bodies) share: a server with a few routes
 * (one with a small body limit, one for agents only) on its own thread,
 * started with the limits under test, and raw TCP and blocking mutual-TLS
 * clients that drip, wait for the close and read a status. Header-only
 * (static inline) so that each suite stays a single translation unit.
 */
#ifndef ASSAY_HTTP_LIMITS_FIXTURE_H
#define ASSAY_HTTP_LIMITS_FIXTURE_H

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


static inline void
h_item(struct http_request *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "id", r->param[0]));
}

static inline void
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

static inline void *
server_main(void *arg)
{
	event_base_dispatch(S.base);
	return NULL;
}

static inline void
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

static inline void
server_stop(void)
{
	usleep(50000);
	event_base_loopbreak(S.base);
	pthread_join(S.thr, NULL);
	http_server_free(S.srv);
	event_base_free(S.base);
	memset(&S, 0, sizeof(S));
}

static inline double
now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* A TCP connection from source address src (host order), or loopback. */
static inline int
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

static inline int
raw_connect(void)
{
	return raw_connect_from(0);
}

/* A blocking mutual-TLS connection as who; free with tls_close. */
static inline SSL *
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

static inline SSL *
tls_connect(SSL_CTX **ctxp, int *fdp)
{
	return tls_connect_as("admin", ctxp, fdp);
}

static inline void
tls_close(SSL *ssl, SSL_CTX *ctx, int fd)
{
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
}

/* One keep-alive GET on ssl; returns the HTTP status (-1: closed). */
static inline int
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
static inline double
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
static inline double
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

static inline int
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

static inline void
assert_server_alive(void)
{
	int st = 0;

	ck_assert_int_eq(sync_get("/v1/items/alive", &st), ASSAY_OK);
	ck_assert_int_eq(st, 200);
}

static inline void
assert_deadline_close(double dt)
{
	ck_assert_msg(dt >= 0, "connection still open after %d s",
	    DEADLINE + 3);
	/* Not earlier (the drip beats the idle timeout), and on time. */
	ck_assert_msg(dt >= DEADLINE - 0.5 && dt <= DEADLINE + 1.0,
	    "closed after %.2f s, deadline %d s", dt, DEADLINE);
}

/* The status of the response on ssl, -1 if none within 3 s; *dt: seconds. */
static inline int
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


#endif
