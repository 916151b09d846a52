/*
 * test_tls_peers.c — the HTTP client's transport error mapping (closed
 * port, silent server, timeouts, bad arguments), hostile peers (TLS
 * garbage, plain HTTP, idle connections), curl as an independent peer,
 * TLS context errors and host:port parsing; the shared server and
 * clients: tls_http_fixture.h.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <poll.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/thread.h>

#include "tls_http_fixture.h"

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

int
main(void)
{
	Suite *s = suite_create("tls_peers");
	TCase *tc = tcase_create("server");
	TCase *tn = tcase_create("plain");
	SRunner *sr;
	int nf;

	evthread_use_pthreads();
	make_dirs();
	tcase_add_checked_fixture(tc, server_start, server_stop);
	tcase_set_timeout(tc, 30);
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
	remove_dirs();
	return nf == 0 ? 0 : 1;
}

