/*
 * test_http_defer.c — replies a handler sends later (http_defer): the
 * reply arrives and the connection goes on; a pipelined request waits
 * for it, past the request deadline; a client gone before the reply, or
 * a server freed before it, drops the reply and nothing else (the ASan
 * build of this suite is the use-after-free check).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "common/err.h"
#include "common/http.h"
#include "common/tls.h"
#include "pki_fixture.h"

#define DEADLINE	1	/* request deadline, seconds */


static struct {
	struct event_base	*base;
	struct http_server	*srv;
	pthread_t		 thr;
	uint16_t		 port;
	int			 replies;	/* deferred replies sent */
} S;

static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_request *r = arg;

	(void)fd; (void)what;
	S.replies++;
	http_reply_json(r, 200, json_pack("{s:s}", "later", r->param[0]));
}

/* GET /v1/later/{ms}: answered ms milliseconds later, off the handler. */
static void
h_later(struct http_request *r)
{
	long ms = strtol(r->param[0], NULL, 10);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	http_defer(r);
	ck_assert_int_eq(event_base_once(S.base, -1, EV_TIMEOUT, later_cb, r,
	    &tv), 0);
}

/* Defers, then answers before returning after all (a worker was quick). */
static void
h_defer_now(struct http_request *r)
{
	http_defer(r);
	http_reply_json(r, 200, json_pack("{s:s}", "soon", r->param[0]));
}

static void
h_now(struct http_request *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "now", r->param[0]));
}

static const struct http_route routes[] = {
	{ "GET",	"/v1/later/{ms}",	ROLE_ADMIN,	h_later, 0 },
	{ "GET",	"/v1/now/{id}",		ROLE_ADMIN,	h_now, 0 },
	{ "GET",	"/v1/soon/{id}",	ROLE_ADMIN,	h_defer_now, 0 },
	{ NULL,		NULL,			0,		NULL, 0 },
};

static void *
server_main(void *arg)
{
	(void)arg;
	event_base_dispatch(S.base);
	return NULL;
}

static void
setup(void)
{
	SSL_CTX *ctx;

	ctx = pki_ctx("verifier", 1);
	ck_assert_ptr_nonnull(ctx);
	S.base = event_base_new();
	S.srv = http_server_new(S.base, ctx, routes, NULL);
	SSL_CTX_free(ctx);
	http_server_set_timeout(S.srv, 10);
	http_server_set_request_deadline(S.srv, DEADLINE);
	ck_assert_int_eq(http_server_listen(S.srv, "127.0.0.1", 0), ASSAY_OK);
	S.port = http_server_port(S.srv);
	ck_assert_int_eq(pthread_create(&S.thr, NULL, server_main, NULL), 0);
}

static void
server_halt(void)
{
	event_base_loopbreak(S.base);
	pthread_join(S.thr, NULL);
	http_server_free(S.srv);
	S.srv = NULL;
}

static void
teardown(void)
{
	if (S.srv != NULL) {
		usleep(50000);
		server_halt();
	}
	event_base_free(S.base);
	memset(&S, 0, sizeof(S));
}

static SSL *
tls_connect(SSL_CTX **ctxp, int *fdp)
{
	struct sockaddr_in sin;
	SSL_CTX *ctx;
	SSL *ssl;

	ctx = pki_ctx("admin", 0);
	ck_assert_ptr_nonnull(ctx);
	*fdp = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(*fdp, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(S.port);
	ck_assert_int_eq(connect(*fdp, (struct sockaddr *)&sin, sizeof(sin)), 0);
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

static void
send_gets(SSL *ssl, const char *p1, const char *p2)
{
	char req[512];
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", p1);
	if (p2 != NULL)
		n += snprintf(req + n, sizeof(req) - (size_t)n,
		    "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", p2);
	ck_assert_int_eq(SSL_write(ssl, req, n), n);
}

/*
 * Read nresp responses; their statuses and bodies, one after the other,
 * in out ("200 {...}|200 {...}"). -1 if the connection closed first.
 */
static int
read_responses(SSL *ssl, int nresp, char *out, size_t outlen)
{
	static char buf[8192];
	size_t len = 0, o = 0;
	char *p, *eoh, *cl;
	int n, status, got = 0;

	out[0] = '\0';
	p = buf;
	while (got < nresp) {
		buf[len] = '\0';
		if ((eoh = strstr(p, "\r\n\r\n")) != NULL &&
		    (cl = strcasestr(p, "Content-Length:")) != NULL && cl < eoh) {
			size_t blen = strtoul(cl + 15, NULL, 10);

			if ((size_t)(eoh + 4 - buf) + blen <= len) {
				ck_assert_int_eq(sscanf(p, "HTTP/1.1 %d", &status), 1);
				o += (size_t)snprintf(out + o, outlen - o, "%s%d %.*s",
				    got > 0 ? "|" : "", status, (int)blen, eoh + 4);
				p = eoh + 4 + blen;
				got++;
				continue;
			}
		}
		if ((n = SSL_read(ssl, buf + len, (int)(sizeof(buf) - 1 - len))) <= 0)
			return -1;
		len += (size_t)n;
	}
	return 0;
}

START_TEST(deferred_reply_arrives_and_the_connection_goes_on)
{
	SSL_CTX *ctx;
	char out[1024];
	int fd;
	SSL *ssl = tls_connect(&ctx, &fd);

	send_gets(ssl, "/v1/later/200", NULL);
	ck_assert_int_eq(read_responses(ssl, 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "200 {\"later\":\"200\"}");
	send_gets(ssl, "/v1/now/x", NULL);
	ck_assert_int_eq(read_responses(ssl, 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "200 {\"now\":\"x\"}");
	tls_close(ssl, ctx, fd);
}
END_TEST

START_TEST(deferred_then_answered_inside_the_handler)
{
	SSL_CTX *ctx;
	char out[1024];
	int fd;
	SSL *ssl = tls_connect(&ctx, &fd);

	send_gets(ssl, "/v1/soon/a", "/v1/now/b");
	ck_assert_int_eq(read_responses(ssl, 2, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "200 {\"soon\":\"a\"}|200 {\"now\":\"b\"}");
	tls_close(ssl, ctx, fd);
}
END_TEST

START_TEST(pipelined_request_waits_for_the_held_reply_past_the_deadline)
{
	SSL_CTX *ctx;
	char out[1024];
	int fd;
	SSL *ssl = tls_connect(&ctx, &fd);

	/* The held reply takes longer than the request deadline. */
	send_gets(ssl, "/v1/later/1600", "/v1/now/second");
	ck_assert_int_eq(read_responses(ssl, 2, out, sizeof(out)), 0);
	ck_assert_str_eq(out,
	    "200 {\"later\":\"1600\"}|200 {\"now\":\"second\"}");
	tls_close(ssl, ctx, fd);
}
END_TEST

START_TEST(client_gone_before_the_reply_drops_it_only)
{
	SSL_CTX *ctx;
	char out[1024];
	int fd;
	SSL *ssl = tls_connect(&ctx, &fd);

	send_gets(ssl, "/v1/later/300", NULL);
	usleep(100000);
	tls_close(ssl, ctx, fd);
	usleep(500000);		/* the reply was attempted meanwhile */
	ck_assert_int_eq(S.replies, 1);
	ssl = tls_connect(&ctx, &fd);
	send_gets(ssl, "/v1/now/after", NULL);
	ck_assert_int_eq(read_responses(ssl, 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "200 {\"now\":\"after\"}");
	tls_close(ssl, ctx, fd);
}
END_TEST

START_TEST(server_freed_before_the_reply_drops_it)
{
	SSL_CTX *ctx;
	int fd;
	SSL *ssl = tls_connect(&ctx, &fd);

	send_gets(ssl, "/v1/later/300", NULL);
	usleep(100000);
	server_halt();		/* the request is held, its timer pending */
	usleep(300000);
	event_base_loop(S.base, EVLOOP_ONCE);
	ck_assert_int_eq(S.replies, 1);
	tls_close(ssl, ctx, fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http_defer");
	TCase *tc = tcase_create("defer");
	SRunner *sr;
	int nf;

	evthread_use_pthreads();
	pki_make("defer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, deferred_reply_arrives_and_the_connection_goes_on);
	tcase_add_test(tc, deferred_then_answered_inside_the_handler);
	tcase_add_test(tc, pipelined_request_waits_for_the_held_reply_past_the_deadline);
	tcase_add_test(tc, client_gone_before_the_reply_drops_it_only);
	tcase_add_test(tc, server_freed_before_the_reply_drops_it);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	pki_remove();
	return nf == 0 ? 0 : 1;
}
