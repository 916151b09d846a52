/*
 * tls_http_fixture.h — what the mutual-TLS HTTP suites (test_tls_http,
 * test_tls_peers) share: two test PKIs (ours and a different CA's), a
 * server on its own thread with an admin route, an agent route with a
 * body and a handler that never replies, blocking requests as a given
 * certificate, and one async client request on a fresh event base.
 * Header-only (static inline) so that each suite stays a single
 * translation unit.
 */
#ifndef ASSAY_TLS_HTTP_FIXTURE_H
#define ASSAY_TLS_HTTP_FIXTURE_H

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

#include "common/err.h"
#include "common/http.h"
#include "common/tls.h"
#include "tools/certs.h"

static char certdir[256];	/* our CA, verifier, admin, agent-agent1 */
static char otherdir[256];	/* a different CA with its own admin */

/* ------------------------------------------------------------ server */

static inline void
h_item(struct http_request *r)
{
	const char *q = http_query(r, "q");

	http_reply_json(r, 200, json_pack("{s:s, s:s?, s:s, s:s, s:s}",
	    "id", r->param[0], "q", q, "cn", r->peer.cn,
	    "role", tls_role_name(r->peer.role), "path", r->path));
}

static inline void
h_echo(struct http_request *r)
{
	json_t *j;

	if ((j = http_body_json(r)) == NULL)
		return;
	http_reply_json(r, 200, j);
}

static inline void
h_silent(struct http_request *r)
{
	/* Forgets to reply: the server must answer 500 for it. */
}

static const struct http_route routes[] = {
	{ "GET",	"/v1/items/{id}",	ROLE_ADMIN,	h_item, 0 },
	{ "POST",	"/v1/echo",		ROLE_AGENT,	h_echo, 0 },
	{ "GET",	"/v1/silent",		ROLE_ADMIN,	h_silent, 0 },
	{ NULL,		NULL,			0,		NULL, 0 },
};

#define TEST_MAX_BODY	1024
#define TEST_SRV_TIMEOUT 2

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

static inline char *
cpath(const char *dir, const char *name)
{
	static char bufs[6][512];
	static int i;
	char *b = bufs[i++ % 6];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static inline void
server_start(void)
{
	SSL_CTX *ctx;

	ctx = tls_server_ctx(cpath(certdir, "verifier.pem"),
	    cpath(certdir, "verifier.key"), cpath(certdir, "ca.pem"));
	ck_assert_ptr_nonnull(ctx);
	S.base = event_base_new();
	S.srv = http_server_new(S.base, ctx, routes, NULL);
	SSL_CTX_free(ctx);	/* the server keeps its own reference */
	http_server_set_max_body(S.srv, TEST_MAX_BODY);
	http_server_set_timeout(S.srv, TEST_SRV_TIMEOUT);
	ck_assert_int_eq(http_server_listen(S.srv, "127.0.0.1", 0), ASSAY_OK);
	S.port = http_server_port(S.srv);
	ck_assert_uint_ne(S.port, 0);
	ck_assert_int_eq(pthread_create(&S.thr, NULL, server_main, NULL), 0);
}

static inline void
server_stop(void)
{
	usleep(50000);	/* let the server finish closing: see report */
	event_base_loopbreak(S.base);
	pthread_join(S.thr, NULL);
	http_server_free(S.srv);
	event_base_free(S.base);
	memset(&S, 0, sizeof(S));
}

static inline SSL_CTX *
client_ctx(const char *dir, const char *who)
{
	char cert[64], key[64];
	SSL_CTX *ctx;

	snprintf(cert, sizeof(cert), "%s.pem", who);
	snprintf(key, sizeof(key), "%s.key", who);
	ctx = tls_client_ctx(cpath(dir, cert), cpath(dir, key),
	    cpath(certdir, "ca.pem"));
	ck_assert_ptr_nonnull(ctx);
	return ctx;
}

/* Blocking request as `who`; returns the transport error. */
static inline int
req_as(const char *who, const char *method, const char *path,
    const char *body, int *status, json_t **json)
{
	SSL_CTX *ctx = client_ctx(certdir, who);
	uint8_t *resp = NULL;
	size_t len = 0;
	int r;

	r = http_request_sync(ctx, method, "127.0.0.1", S.port, path,
	    body != NULL ? "application/json" : NULL, body,
	    body != NULL ? strlen(body) : 0, 5, NULL, status, &resp, &len);
	SSL_CTX_free(ctx);
	if (json != NULL)
		*json = r == ASSAY_OK ? json_loadb((char *)resp, len, 0, NULL) : NULL;
	if (r == ASSAY_OK)
		ck_assert_int_eq(resp[len], '\0');
	free(resp);
	return r;
}

static inline const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}
/* ------------------------------------------------------ async client */

struct result {
	int	calls;
	int	err;
	int	status;
	char	body[512];
};

static inline void
async_cb(int err, int status, const uint8_t *body, size_t len, void *arg)
{
	struct result *res = arg;

	res->calls++;
	res->err = err;
	res->status = status;
	if (body != NULL)
		snprintf(res->body, sizeof(res->body), "%.*s", (int)len, body);
}

/* One async request on a fresh base in this thread; cb checked once. */
static inline struct result
async_req(SSL_CTX *ctx, uint16_t port, const char *path, int timeout,
    const char *expect_cn)
{
	struct event_base *base = event_base_new();
	struct http_client *c = http_client_new(base, ctx);
	struct result res;

	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(http_client_request(c, "GET", "127.0.0.1", port, path,
	    NULL, NULL, 0, timeout, expect_cn, async_cb, &res), ASSAY_OK);
	ck_assert_int_eq(res.calls, 0);	/* never from inside the call */
	event_base_dispatch(base);
	ck_assert_int_eq(res.calls, 1);
	if (getenv("TEST_VERBOSE") != NULL)
		fprintf(stderr, "%s: err %d status %d detail \"%s\"\n", path,
		    res.err, res.status, res.err ? assay_err_detail() : "");
	http_client_free(c);
	event_base_free(base);
	return res;
}
static inline void
make_dirs(void)
{
	char *agents[] = { "agent1" };

	snprintf(certdir, sizeof(certdir), "/tmp/assay-tls-XXXXXX");
	snprintf(otherdir, sizeof(otherdir), "/tmp/assay-tls-other-XXXXXX");
	if (mkdtemp(certdir) == NULL || mkdtemp(otherdir) == NULL ||
	    certs_init(certdir, NULL, agents, 1, 1, 1) != ASSAY_OK ||
	    certs_init(otherdir, NULL, agents, 1, 1, 1) != ASSAY_OK) {
		fprintf(stderr, "test setup: %s\n", assay_err_detail());
		exit(1);
	}
}

/* Remove both PKIs. */
static inline void
remove_dirs(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", certdir, otherdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", certdir);
}

#endif
