/*
 * test_http_resume.c — TLS session resumption in the HTTPS client
 * (common/http_client.c): a second request to the same host:port resumes
 * the cached session, the expected server CN is still enforced on a
 * resumed connection (and the session is then dropped), resumption can be
 * turned off per client or through ASSAY_TLS_NO_RESUME=1.
 */
#include <check.h>
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
#include "common/http_int.h"
#include "common/tls.h"
#include "tools/certs.h"

static char certdir[256];	/* CA, verifier (the server), admin (us) */

static void
h_item(struct http_request *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "id", r->param[0]));
}

static const struct http_route routes[] = {
	{ "GET", "/v1/items/{id}", ROLE_ADMIN, h_item },
	{ NULL, NULL, 0, NULL },
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

static char *
cpath(const char *name)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", certdir, name);
	return b;
}

static void
server_start(void)
{
	SSL_CTX *ctx;

	ctx = tls_server_ctx(cpath("verifier.pem"), cpath("verifier.key"),
	    cpath("ca.pem"));
	ck_assert_ptr_nonnull(ctx);
	S.base = event_base_new();
	S.srv = http_server_new(S.base, ctx, routes, NULL);
	SSL_CTX_free(ctx);
	ck_assert_int_eq(http_server_listen(S.srv, "127.0.0.1", 0), ASSAY_OK);
	S.port = http_server_port(S.srv);
	ck_assert_int_eq(pthread_create(&S.thr, NULL, server_main, NULL), 0);
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

/* One client (and its session cache) on a loop of the test's own. */
struct cl {
	struct event_base	*base;
	SSL_CTX			*ctx;
	struct http_client	*c;
	int			 done, err, status;
	char			 detail[512];
};

static void
cl_init(struct cl *k)
{
	memset(k, 0, sizeof(*k));
	k->base = event_base_new();
	k->ctx = tls_client_ctx(cpath("admin.pem"), cpath("admin.key"),
	    cpath("ca.pem"));
	ck_assert_ptr_nonnull(k->ctx);
	k->c = http_client_new(k->base, k->ctx);
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

	k->done = 1;
	k->err = err;
	k->status = status;
	snprintf(k->detail, sizeof(k->detail), "%s",
	    err != ASSAY_OK ? assay_err_detail() : "");
	event_base_loopbreak(k->base);
}

/* GET /v1/items/1 expecting server CN cn; returns the transport error. */
static int
cl_get(struct cl *k, const char *cn)
{
	k->done = 0;
	ck_assert_int_eq(http_client_request(k->c, "GET", "127.0.0.1", S.port,
	    "/v1/items/1", NULL, NULL, 0, 5, cn, cl_cb, k), ASSAY_OK);
	while (!k->done)
		ck_assert_int_ne(event_base_dispatch(k->base), -1);
	return k->err;
}

static void
stats(struct cl *k, uint64_t *hs, uint64_t *resumed, size_t *cached)
{
	http_client_tls_stats(k->c, hs, resumed, cached);
}

START_TEST(second_request_resumes_session)
{
	struct cl k;
	uint64_t hs, res;
	size_t cached;

	cl_init(&k);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(hs, 1);
	ck_assert_uint_eq(res, 0);
	ck_assert_uint_eq(cached, 1);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(hs, 2);
	ck_assert_uint_eq(res, 1);
	cl_free(&k);
}
END_TEST

START_TEST(resumed_session_still_enforces_expect_cn)
{
	struct cl k;
	uint64_t hs, res;
	size_t cached;

	cl_init(&k);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	/* Same server, same session, but another identity is expected now. */
	ck_assert_int_eq(cl_get(&k, "agent-x"), ASSAY_ERR_PERM);
	ck_assert_int_eq(k.status, 0);
	ck_assert_ptr_nonnull(strstr(k.detail, "CN \"verifier\" is not \"agent-x\""));
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(res, 1);	/* it was the resumed connection */
	ck_assert_uint_eq(cached, 0);	/* and the session is gone */
	/* The next request is a full handshake again. */
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(hs, 3);
	ck_assert_uint_eq(res, 1);
	cl_free(&k);
}
END_TEST

START_TEST(resumption_off_makes_full_handshakes)
{
	struct cl k;
	uint64_t hs, res;
	size_t cached;

	cl_init(&k);
	http_client_set_resumption(k.c, 0);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(hs, 2);
	ck_assert_uint_eq(res, 0);
	ck_assert_uint_eq(cached, 0);
	cl_free(&k);
}
END_TEST

START_TEST(env_no_resume_turns_it_off)
{
	struct cl k;
	uint64_t hs, res;
	size_t cached;

	setenv("ASSAY_TLS_NO_RESUME", "1", 1);
	cl_init(&k);
	unsetenv("ASSAY_TLS_NO_RESUME");
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(res, 0);
	ck_assert_uint_eq(cached, 0);
	cl_free(&k);
}
END_TEST

START_TEST(failed_request_drops_session)
{
	struct cl k;
	uint64_t hs, res;
	size_t cached;
	uint16_t port;

	cl_init(&k);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(cached, 1);
	/* The server goes away: the cached session for it is dropped. */
	port = S.port;
	server_stop();
	S.port = port;
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_ERR_NET);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(cached, 0);
	cl_free(&k);
	server_start();	/* for the fixture's teardown */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http_resume");
	TCase *tc = tcase_create("resume");
	SRunner *sr;
	char *agents[] = { "agent1" };
	char cmd[600];
	int nf;

	evthread_use_pthreads();
	snprintf(certdir, sizeof(certdir), "/tmp/assay-resume.XXXXXX");
	if (mkdtemp(certdir) == NULL ||
	    certs_init(certdir, NULL, agents, 1, 1, 1) != ASSAY_OK) {
		fprintf(stderr, "cannot make test PKI: %s\n", assay_err_detail());
		return 1;
	}
	tcase_add_checked_fixture(tc, server_start, server_stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, second_request_resumes_session);
	tcase_add_test(tc, resumed_session_still_enforces_expect_cn);
	tcase_add_test(tc, resumption_off_makes_full_handshakes);
	tcase_add_test(tc, env_no_resume_turns_it_off);
	tcase_add_test(tc, failed_request_drops_session);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", certdir);
	return nf == 0 ? 0 : 1;
}
