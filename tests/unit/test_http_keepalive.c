/*
 * test_http_keepalive.c — keep-alive in the HTTPS client
 * (common/http_client_pool.c) against the real server: with it on, two
 * sequential requests share one TCP connection, off they do not; a parked
 * connection is used only for the same expected CN, at most one is kept
 * per target and CN, it is closed after the idle timeout, when the server
 * closes it, and when the server answers "Connection: close"; a parked
 * connection the server closed unnoticed is retried transparently on a
 * fresh one; freeing the client with a parked connection leaks nothing.
 * The server tells each request's connection by the client's source port.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <jansson.h>

#include "common/err.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/tls.h"
#include "pki_fixture.h"

/* The port the request came from: one per TCP connection. */
static int
peer_port(struct http_request *r)
{
	char *addr = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(evhttp_request_get_connection(r->req),
	    &addr, &port);
	return port;
}

static void
h_item(struct http_request *r)
{
	http_reply_json(r, 200, json_pack("{s:i}", "port", peer_port(r)));
}

static void
h_echo(struct http_request *r)
{
	json_t *j;

	if ((j = http_body_json(r)) == NULL)
		return;
	json_object_set_new(j, "port", json_integer(peer_port(r)));
	http_reply_json(r, 200, j);
}

static void
h_close(struct http_request *r)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Connection", "close");
	http_reply_json(r, 200, json_pack("{s:i}", "port", peer_port(r)));
}

static const struct http_route routes[] = {
	{ "GET",	"/v1/items/{id}",	ROLE_ADMIN,	h_item, 0 },
	{ "POST",	"/v1/echo",		ROLE_ADMIN,	h_echo, 0 },
	{ "GET",	"/v1/close",		ROLE_ADMIN,	h_close, 0 },
	{ NULL,		NULL,			0,		NULL, 0 },
};

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
server_start_idle(int idle_sec)
{
	SSL_CTX *ctx;

	ctx = pki_ctx("verifier", 1);
	ck_assert_ptr_nonnull(ctx);
	S.base = event_base_new();
	S.srv = http_server_new(S.base, ctx, routes, NULL);
	SSL_CTX_free(ctx);
	http_server_set_timeout(S.srv, idle_sec);
	ck_assert_int_eq(http_server_listen(S.srv, "127.0.0.1", 0), ASSAY_OK);
	S.port = http_server_port(S.srv);
	ck_assert_int_eq(pthread_create(&S.thr, NULL, server_main, NULL), 0);
}

/* The server's default idle timeout (30 s). */
static void
server_start(void)
{
	server_start_idle(0);
}

/* A server that closes keep-alive connections idle for 1 s. */
static void
server_start_short(void)
{
	server_start_idle(1);
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

/* One client on a loop of the test's own; requests run one at a time. */
struct cl {
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct http_client	*c;
	int			 pending, err, status, port;
	char			 echo[64];
};

static void
cl_init(struct cl *k, int keepalive)
{
	memset(k, 0, sizeof(*k));
	k->base = event_base_new();
	k->ctx = pki_ctx("admin", 0);
	ck_assert_ptr_nonnull(k->ctx);
	k->c = http_client_new(k->base, k->ctx);
	http_client_set_keepalive(k->c, keepalive);
}

static void
cl_free(struct cl *k)
{
	http_client_free(k->c);
	SSL_CTX_free(k->ctx);
	event_base_free(k->base);
}

static void
cl_cb(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct cl *k = arg;
	json_t *j;

	k->err = err;
	k->status = status;
	k->port = -1;
	k->echo[0] = '\0';
	if (err == ASSAY_OK &&
	    (j = json_loadb((const char *)body, len, 0, NULL)) != NULL) {
		k->port = (int)json_integer_value(json_object_get(j, "port"));
		snprintf(k->echo, sizeof(k->echo), "%s",
		    json_string_value(json_object_get(j, "x")) != NULL ?
		    json_string_value(json_object_get(j, "x")) : "");
		json_decref(j);
	}
	if (--k->pending == 0)
		event_base_loopbreak(k->base);
}

static void
cl_start(struct cl *k, const char *method, const char *path,
    const char *body, const char *cn)
{
	k->pending++;
	ck_assert_int_eq(http_client_request(k->c, method, "127.0.0.1", S.port,
	    path, body != NULL ? "application/json" : NULL, body,
	    body != NULL ? strlen(body) : 0, 5, cn, cl_cb, k), ASSAY_OK);
}

static void
cl_wait(struct cl *k)
{
	while (k->pending > 0)
		ck_assert_int_ne(event_base_dispatch(k->base), -1);
}

/* GET /v1/items/1 expecting server CN cn: the transport error. */
static int
cl_get(struct cl *k, const char *cn)
{
	cl_start(k, "GET", "/v1/items/1", NULL, cn);
	cl_wait(k);
	return k->err;
}

/* Run the client's loop for ms milliseconds, no request pending. */
static void
cl_idle(struct cl *k, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(k->base, &tv);
	ck_assert_int_ne(event_base_dispatch(k->base), -1);
}

static uint64_t
cl_reused(struct cl *k, uint64_t *retried, size_t *idle)
{
	uint64_t r, t;
	size_t n;

	http_client_keepalive_stats(k->c, &r, &t, &n);
	if (retried != NULL)
		*retried = t;
	if (idle != NULL)
		*idle = n;
	return r;
}

START_TEST(keepalive_two_requests_one_connection)
{
	struct cl k;
	uint64_t hs, res, retried;
	size_t cached, idle;
	int p1;

	cl_init(&k, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	p1 = k.port;
	ck_assert_int_gt(p1, 0);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	ck_assert_int_eq(k.port, p1);		/* the same TCP connection */
	ck_assert_uint_eq(cl_reused(&k, &retried, &idle), 1);
	ck_assert_uint_eq(retried, 0);
	ck_assert_uint_eq(idle, 1);
	http_client_tls_stats(k.c, &hs, &res, &cached);
	ck_assert_uint_eq(hs, 1);		/* one handshake for both */
	cl_free(&k);
}
END_TEST

START_TEST(keepalive_off_two_connections)
{
	struct cl k;
	size_t idle;
	int p1;

	cl_init(&k, 0);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	p1 = k.port;
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	ck_assert_int_ne(k.port, p1);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 0);
	cl_free(&k);
}
END_TEST

START_TEST(post_bodies_over_one_connection)
{
	struct cl k;
	int p1;

	cl_init(&k, 1);
	cl_start(&k, "POST", "/v1/echo", "{\"x\":\"first\"}", "verifier");
	cl_wait(&k);
	ck_assert_int_eq(k.err, ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	ck_assert_str_eq(k.echo, "first");
	p1 = k.port;
	cl_start(&k, "POST", "/v1/echo", "{\"x\":\"second\"}", "verifier");
	cl_wait(&k);
	ck_assert_int_eq(k.err, ASSAY_OK);
	ck_assert_str_eq(k.echo, "second");
	ck_assert_int_eq(k.port, p1);
	cl_free(&k);
}
END_TEST

START_TEST(other_expected_cn_does_not_reuse)
{
	struct cl k;
	size_t idle;
	int p1, p2;

	cl_init(&k, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	p1 = k.port;
	/* A new connection, whose handshake refuses the server's CN. */
	ck_assert_int_eq(cl_get(&k, "someone-else"), ASSAY_ERR_PERM);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 1);		/* the verifier one, untouched */
	/* Any CA-verified server: a key of its own. */
	ck_assert_int_eq(cl_get(&k, NULL), ASSAY_OK);
	p2 = k.port;
	ck_assert_int_ne(p2, p1);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 2);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.port, p1);
	ck_assert_int_eq(cl_get(&k, NULL), ASSAY_OK);
	ck_assert_int_eq(k.port, p2);
	ck_assert_uint_eq(cl_reused(&k, NULL, NULL), 2);
	cl_free(&k);
}
END_TEST

START_TEST(at_most_one_parked_per_target)
{
	struct cl k;
	size_t idle;

	cl_init(&k, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	/* Two at once: one takes the parked connection, one opens another. */
	cl_start(&k, "GET", "/v1/items/2", NULL, "verifier");
	cl_start(&k, "GET", "/v1/items/3", NULL, "verifier");
	cl_wait(&k);
	ck_assert_int_eq(k.err, ASSAY_OK);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 1);
	ck_assert_uint_eq(idle, 1);
	cl_free(&k);
}
END_TEST

START_TEST(max_idle_caps_parked_and_keeps_the_first)
{
	struct cl k;
	size_t idle;
	int p1;

	cl_init(&k, 1);
	http_client_set_max_idle(k.c, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	p1 = k.port;
	/* Another key at the cap: served, then closed, not parked. */
	ck_assert_int_eq(cl_get(&k, NULL), ASSAY_OK);
	ck_assert_int_ne(k.port, p1);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 1);
	ck_assert_int_eq(cl_get(&k, NULL), ASSAY_OK);
	ck_assert_uint_eq(cl_reused(&k, NULL, NULL), 0);
	/* The one parked first stays in use. */
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.port, p1);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 1);
	ck_assert_uint_eq(idle, 1);
	cl_free(&k);
}
END_TEST

START_TEST(idle_timeout_closes_parked)
{
	struct cl k;
	uint64_t retried;
	size_t idle;
	int p1;

	cl_init(&k, 1);
	http_client_set_idle_timeout_ms(k.c, 200);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	p1 = k.port;
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 1);
	cl_idle(&k, 500);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 0);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_ne(k.port, p1);
	ck_assert_uint_eq(cl_reused(&k, &retried, NULL), 0);
	ck_assert_uint_eq(retried, 0);
	cl_free(&k);
}
END_TEST

START_TEST(server_connection_close_is_not_parked)
{
	struct cl k;
	size_t idle;
	int p1;

	cl_init(&k, 1);
	cl_start(&k, "GET", "/v1/close", NULL, "verifier");
	cl_wait(&k);
	ck_assert_int_eq(k.err, ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	p1 = k.port;
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 0);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_ne(k.port, p1);
	cl_free(&k);
}
END_TEST

START_TEST(keepalive_off_closes_parked)
{
	struct cl k;
	size_t idle;

	cl_init(&k, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 1);
	http_client_set_keepalive(k.c, 0);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 0);
	cl_free(&k);
}
END_TEST

START_TEST(free_with_parked_connection)
{
	struct cl k;
	size_t idle;

	/* Under ASan (CK_FORK=no): nothing of the parked connection leaks. */
	cl_init(&k, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(cl_get(&k, NULL), ASSAY_OK);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 2);
	cl_free(&k);
}
END_TEST

/* ---- against a server that closes connections idle for 1 s ---- */

START_TEST(closed_parked_is_retried_on_fresh_connection)
{
	struct cl k;
	uint64_t retried;
	size_t idle;
	int p1;

	cl_init(&k, 1);
	cl_start(&k, "POST", "/v1/echo", "{\"x\":\"one\"}", "verifier");
	cl_wait(&k);
	ck_assert_int_eq(k.err, ASSAY_OK);
	p1 = k.port;
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 1);
	/* The client's loop does not run: it cannot see the server close. */
	usleep(2000000);
	cl_start(&k, "POST", "/v1/echo", "{\"x\":\"two\"}", "verifier");
	cl_wait(&k);
	ck_assert_int_eq(k.err, ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	ck_assert_str_eq(k.echo, "two");	/* the body, sent again */
	ck_assert_int_ne(k.port, p1);
	ck_assert_uint_eq(cl_reused(&k, &retried, &idle), 1);
	ck_assert_uint_eq(retried, 1);
	ck_assert_uint_eq(idle, 1);		/* the fresh one, parked */
	cl_free(&k);
}
END_TEST

START_TEST(server_close_of_parked_is_noticed)
{
	struct cl k;
	uint64_t retried;
	size_t idle;
	int p1;

	cl_init(&k, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	p1 = k.port;
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 1);
	/* The loop runs while the server times the connection out. */
	cl_idle(&k, 2000);
	ck_assert_uint_eq(cl_reused(&k, NULL, &idle), 0);
	ck_assert_uint_eq(idle, 0);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_ne(k.port, p1);
	ck_assert_uint_eq(cl_reused(&k, &retried, NULL), 0);
	ck_assert_uint_eq(retried, 0);
	cl_free(&k);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http_keepalive");
	TCase *tc = tcase_create("keepalive");
	TCase *ts = tcase_create("server_closes");
	SRunner *sr;
	int nf;

	evthread_use_pthreads();
	pki_make("keepalive");
	tcase_add_checked_fixture(tc, server_start, server_stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, keepalive_two_requests_one_connection);
	tcase_add_test(tc, keepalive_off_two_connections);
	tcase_add_test(tc, post_bodies_over_one_connection);
	tcase_add_test(tc, other_expected_cn_does_not_reuse);
	tcase_add_test(tc, at_most_one_parked_per_target);
	tcase_add_test(tc, max_idle_caps_parked_and_keeps_the_first);
	tcase_add_test(tc, idle_timeout_closes_parked);
	tcase_add_test(tc, server_connection_close_is_not_parked);
	tcase_add_test(tc, keepalive_off_closes_parked);
	tcase_add_test(tc, free_with_parked_connection);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, server_start_short, server_stop);
	tcase_set_timeout(ts, 30);
	tcase_add_test(ts, closed_parked_is_retried_on_fresh_connection);
	tcase_add_test(ts, server_close_of_parked_is_noticed);
	suite_add_tcase(s, ts);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	pki_remove();
	return nf == 0 ? 0 : 1;
}
