/*
 * test_tls_http.c — mutual TLS contexts and the evhttp server/client:
 * routing, roles, limits, peer identity, transport error mapping, a
 * hostile client, and curl as an independent peer.
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

#include "common/err.h"
#include "common/http.h"
#include "common/tls.h"
#include "tools/certs.h"

static char certdir[256];	/* our CA, verifier, admin, agent-agent1 */
static char otherdir[256];	/* a different CA with its own admin */

/* ------------------------------------------------------------ server */

static void
h_item(struct http_request *r)
{
	const char *q = http_query(r, "q");

	http_reply_json(r, 200, json_pack("{s:s, s:s?, s:s, s:s, s:s}",
	    "id", r->param[0], "q", q, "cn", r->peer.cn,
	    "role", tls_role_name(r->peer.role), "path", r->path));
}

static void
h_echo(struct http_request *r)
{
	json_t *j;

	if ((j = http_body_json(r)) == NULL)
		return;
	http_reply_json(r, 200, j);
}

static void
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

static void *
server_main(void *arg)
{
	event_base_dispatch(S.base);
	return NULL;
}

static char *
cpath(const char *dir, const char *name)
{
	static char bufs[6][512];
	static int i;
	char *b = bufs[i++ % 6];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static void
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

static void
server_stop(void)
{
	usleep(50000);	/* let the server finish closing: see report */
	event_base_loopbreak(S.base);
	pthread_join(S.thr, NULL);
	http_server_free(S.srv);
	event_base_free(S.base);
	memset(&S, 0, sizeof(S));
}

static SSL_CTX *
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
static int
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

static const char *
jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

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

/* ------------------------------------------------------ async client */

struct result {
	int	calls;
	int	err;
	int	status;
	char	body[512];
};

static void
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
static struct result
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

static int
listen_socket(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

START_TEST(closed_port_is_err_net)
{
	SSL_CTX *ctx = client_ctx(certdir, "admin");
	struct result res;
	uint16_t port;

	close(listen_socket(&port));
	res = async_req(ctx, port, "/v1/items/7", 5, NULL);
	ck_assert_int_eq(res.err, ASSAY_ERR_NET);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(silent_server_times_out)
{
	SSL_CTX *ctx = client_ctx(certdir, "admin");
	struct timeval t0, t1;
	struct result res;
	uint16_t port;
	double dt;
	int fd = listen_socket(&port);	/* never accepted from */

	gettimeofday(&t0, NULL);
	res = async_req(ctx, port, "/v1/items/7", 1, NULL);
	gettimeofday(&t1, NULL);
	dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
	ck_assert_int_eq(res.err, ASSAY_ERR_TIMEOUT);
	ck_assert(dt >= 0.9 && dt < 2.5);
	close(fd);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(sync_client_maps_timeout)
{
	SSL_CTX *ctx = client_ctx(certdir, "admin");
	uint8_t *resp = (uint8_t *)"x";
	size_t len = 1;
	uint16_t port;
	int st = -1, fd = listen_socket(&port);

	ck_assert_int_eq(http_request_sync(ctx, "GET", "127.0.0.1", port, "/",
	    NULL, NULL, 0, 1, NULL, &st, &resp, &len), ASSAY_ERR_TIMEOUT);
	ck_assert_int_eq(st, 0);
	ck_assert_ptr_null(resp);
	ck_assert_uint_eq(len, 0);
	close(fd);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(client_rejects_bad_arguments_without_callback)
{
	struct event_base *base = event_base_new();
	SSL_CTX *ctx = client_ctx(certdir, "admin");
	struct http_client *c = http_client_new(base, ctx);
	struct result res;

	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(http_client_request(c, "FROB", "127.0.0.1", 1, "/",
	    NULL, NULL, 0, 1, NULL, async_cb, &res), ASSAY_ERR_INVAL);
	ck_assert_int_eq(http_client_request(c, "GET", "127.0.0.1", 1, "nope",
	    NULL, NULL, 0, 1, NULL, async_cb, &res), ASSAY_ERR_INVAL);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(res.calls, 0);
	http_client_free(c);
	event_base_free(base);
	SSL_CTX_free(ctx);
}
END_TEST

/* ------------------------------------------------------ hostile peers */

static int
raw_connect(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Seconds until the server closes fd (reads and drops what it sends). */
static double
wait_closed(int fd, int max_sec)
{
	struct timeval t0, t1;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[4096];

	gettimeofday(&t0, NULL);
	for (;;) {
		if (poll(&pfd, 1, max_sec * 1000) <= 0)
			return -1;
		if (recv(fd, buf, sizeof(buf), 0) <= 0)
			break;
	}
	gettimeofday(&t1, NULL);
	return (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
}

static void
assert_server_alive(void)
{
	int st;

	ck_assert_int_eq(req_as("admin", "GET", "/v1/items/alive", NULL, &st,
	    NULL), ASSAY_OK);
	ck_assert_int_eq(st, 200);
}

START_TEST(tls_garbage_is_dropped)
{
	static const char junk[] = "\x16\x03\x01\xff\xff garbage garbage";
	int fd = raw_connect(S.port);

	ck_assert_int_eq(send(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	ck_assert(wait_closed(fd, 5) >= 0);
	close(fd);
	assert_server_alive();
}
END_TEST

START_TEST(plain_http_is_dropped)
{
	static const char req[] = "GET /v1/items/1 HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[64];
	int fd = raw_connect(S.port);

	ck_assert_int_eq(send(fd, req, sizeof(req) - 1, 0),
	    (ssize_t)sizeof(req) - 1);
	ck_assert(wait_closed(fd, 5) >= 0);
	/* Whatever came back, it was no HTTP answer to our request. */
	ck_assert_int_le(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(fd);
	assert_server_alive();
}
END_TEST

START_TEST(idle_connection_is_closed_after_timeout)
{
	int fd = raw_connect(S.port);
	double dt = wait_closed(fd, TEST_SRV_TIMEOUT + 4);

	ck_assert(dt >= TEST_SRV_TIMEOUT - 0.5);
	close(fd);
	assert_server_alive();
}
END_TEST

/* ------------------------------------------------------------- curl */

static int
have_curl(void)
{
	return system("curl --version >/dev/null 2>&1") == 0;
}

/* Runs curl as `who`, returns the HTTP status; headers into hdrs. */
static int
curl_as(const char *who, const char *extra, const char *path, char *hdrs,
    size_t hlen)
{
	char cmd[2048], out[256], hfile[300];
	FILE *f;
	int code = -1;
	size_t n;

	snprintf(hfile, sizeof(hfile), "%s/curl.hdr", certdir);
	snprintf(cmd, sizeof(cmd), "curl -sS --max-time 5 --cacert %s "
	    "--cert %s/%s.pem --key %s/%s.key %s -D %s -o /dev/null "
	    "-w '%%{http_code}' 'https://127.0.0.1:%u%s'",
	    cpath(certdir, "ca.pem"), certdir, who, certdir, who, extra, hfile,
	    (unsigned)S.port, path);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	if (fgets(out, sizeof(out), f) != NULL)
		code = atoi(out);
	pclose(f);
	hdrs[0] = '\0';
	if ((f = fopen(hfile, "r")) != NULL) {
		n = fread(hdrs, 1, hlen - 1, f);
		hdrs[n] = '\0';
		fclose(f);
	}
	return code;
}

START_TEST(curl_admin_get_and_405_allow)
{
	char hdrs[2048];

	if (!have_curl()) {
		printf("curl not installed: skipping curl test\n");
		return;
	}
	ck_assert_int_eq(curl_as("admin", "", "/v1/items/9?q=1", hdrs,
	    sizeof(hdrs)), 200);
	ck_assert_ptr_nonnull(strcasestr(hdrs, "Content-Type: application/json"));
	ck_assert_int_eq(curl_as("agent-agent1", "", "/v1/items/9", hdrs,
	    sizeof(hdrs)), 403);
	ck_assert_int_eq(curl_as("admin", "-X DELETE", "/v1/items/9", hdrs,
	    sizeof(hdrs)), 405);
	ck_assert_ptr_nonnull(strcasestr(hdrs, "Allow: GET"));
}
END_TEST

/* -------------------------------------------------------- contexts */

START_TEST(ctx_rejects_key_of_other_cert)
{
	ck_assert_ptr_null(tls_server_ctx(cpath(certdir, "verifier.pem"),
	    cpath(certdir, "admin.key"), cpath(certdir, "ca.pem")));
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "mismatch"));
	ck_assert_ptr_null(tls_client_ctx(cpath(certdir, "admin.pem"),
	    cpath(certdir, "admin.key"), cpath(certdir, "missing.pem")));
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "loading CA"));
}
END_TEST

START_TEST(split_hostport_cases)
{
	char h[64];
	uint16_t p;

	ck_assert_int_eq(http_split_hostport("127.0.0.1:8443", h, sizeof(h), &p),
	    ASSAY_OK);
	ck_assert_str_eq(h, "127.0.0.1");
	ck_assert_uint_eq(p, 8443);
	ck_assert_int_eq(http_split_hostport("[::1]:9", h, sizeof(h), &p),
	    ASSAY_OK);
	ck_assert_str_eq(h, "::1");
	ck_assert_uint_eq(p, 9);
	ck_assert_int_eq(http_split_hostport("host.example:65535", h, sizeof(h),
	    &p), ASSAY_OK);
	ck_assert_int_eq(http_split_hostport("::1:9", h, sizeof(h), &p),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(http_split_hostport("h:0", h, sizeof(h), &p),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(http_split_hostport("h:65536", h, sizeof(h), &p),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(http_split_hostport(":80", h, sizeof(h), &p),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(http_split_hostport("h:-1", h, sizeof(h), &p),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(http_split_hostport("h", h, sizeof(h), &p),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(http_split_hostport("[::1]9", h, sizeof(h), &p),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(http_split_hostport("abcdefgh:1", h, 4, &p),
	    ASSAY_ERR_INVAL);
}
END_TEST

static void
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

int
main(void)
{
	Suite *s = suite_create("tls_http");
	TCase *tc = tcase_create("server");
	TCase *tn = tcase_create("plain");
	SRunner *sr;
	char cmd[600];
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
	tcase_add_test(tc, tls_garbage_is_dropped);
	tcase_add_test(tc, plain_http_is_dropped);
	tcase_add_test(tc, idle_connection_is_closed_after_timeout);
	tcase_add_test(tc, curl_admin_get_and_405_allow);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tn, 30);
	tcase_add_test(tn, closed_port_is_err_net);
	tcase_add_test(tn, silent_server_times_out);
	tcase_add_test(tn, sync_client_maps_timeout);
	tcase_add_test(tn, client_rejects_bad_arguments_without_callback);
	tcase_add_test(tn, ctx_rejects_key_of_other_cert);
	tcase_add_test(tn, split_hostport_cases);
	suite_add_tcase(s, tn);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", certdir, otherdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", certdir);
	return nf == 0 ? 0 : 1;
}
