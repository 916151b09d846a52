/*
 * test_http_resume.c — TLS session resumption in the HTTPS client
 * (common/http_client.c): a second request to the same host:port resumes
 * the cached session, the expected server CN is still enforced on a
 * resumed connection (and the session is then dropped), resumption can be
 * turned off per client or through ASSAY_TLS_NO_RESUME=1. On the server
 * side a resumed session does not outlive its client certificate; and a
 * client with an admin or agent certificate refuses a server that is not
 * a verifier, on a full handshake as on a resumed one.
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
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/http.h"
#include "common/http_int.h"
#include "common/tls.h"
#include "pki_fixture.h"


static void
h_item(struct http_request *r)
{
	http_reply_json(r, 200, json_pack("{s:s}", "id", r->param[0]));
}

static const struct http_route routes[] = {
	{ "GET", "/v1/items/{id}", ROLE_ADMIN, h_item, 0 },
	{ NULL, NULL, 0, NULL, 0 },
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

static const char *srv_cert = "verifier";	/* the server's certificate */

static void
server_start(void)
{
	SSL_CTX *ctx;

	ctx = pki_ctx(srv_cert, 1);
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

/* A client presenting certificate name (.pem/.key in pki_dir). */
static void
cl_init_as(struct cl *k, const char *name)
{
	memset(k, 0, sizeof(*k));
	k->base = event_base_new();
	k->ctx = pki_ctx(name, 0);
	ck_assert_ptr_nonnull(k->ctx);
	k->c = http_client_new(k->base, k->ctx);
}

static void
cl_init(struct cl *k)
{
	cl_init_as(k, "admin");
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

/* pki_dir/name.pem, an admin client certificate valid for sec seconds. */
static void
make_short_lived_admin(const char *name, long sec)
{
	EVP_PKEY *ca_key, *key = NULL;
	X509 *ca, *x = NULL;
	FILE *f;

	ck_assert_ptr_nonnull(f = fopen(pki_path("ca.pem"), "r"));
	ck_assert_ptr_nonnull(ca = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	ck_assert_ptr_nonnull(f = fopen(pki_path("ca.key"), "r"));
	ck_assert_ptr_nonnull(ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL));
	fclose(f);
	ck_assert_int_eq(certs_make_leaf(ca, ca_key, name, "admin",
	    CERTS_USE_CLIENT, 1, &key, &x), ASSAY_OK);
	ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x), sec));
	ck_assert_int_gt(X509_sign(x, ca_key, EVP_sha256()), 0);
	ck_assert_int_eq(certs_write_pair(pki_dir, name, x, key), ASSAY_OK);
	X509_free(x);
	EVP_PKEY_free(key);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
}

START_TEST(resumed_session_with_expired_client_cert_refused)
{
	struct cl k;
	uint64_t hs, res;
	size_t cached;

	make_short_lived_admin("admin-short", 2);
	cl_init_as(&k, "admin-short");
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(k.status, 200);
	sleep(3);	/* the certificate has expired; the session has not */
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(res, 1);	/* it was the resumed session */
	ck_assert_int_eq(k.status, 403);
	cl_free(&k);
}
END_TEST

static void
agent_server_start(void)
{
	srv_cert = "agent-agent1";
	server_start();
	srv_cert = "verifier";
}

START_TEST(admin_client_refuses_server_without_verifier_role)
{
	struct cl k;

	cl_init(&k);
	/* Expecting the CN the server does have: the role still fails. */
	ck_assert_int_eq(cl_get(&k, "agent1"), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(k.detail, "has role agent, not verifier"));
	ck_assert_int_eq(cl_get(&k, NULL), ASSAY_ERR_PERM);
	cl_free(&k);
}
END_TEST

START_TEST(agent_client_refuses_server_without_verifier_role)
{
	struct cl k;

	cl_init_as(&k, "agent-agent1");
	ck_assert_int_eq(cl_get(&k, NULL), ASSAY_ERR_PERM);
	cl_free(&k);
}
END_TEST

START_TEST(verifier_client_accepts_agent_server)
{
	struct cl k;

	/* The verifier polling an agent: no role required of the server. */
	cl_init_as(&k, "verifier");
	ck_assert_int_eq(cl_get(&k, "agent1"), ASSAY_OK);
	ck_assert_int_eq(k.status, 403);	/* the test route is admin-only */
	cl_free(&k);
}
END_TEST

START_TEST(resumed_session_still_enforces_server_role)
{
	struct cl k;
	uint64_t hs, res;
	size_t cached;

	/* Same ctx reused: a session from a verifier, the role checked again. */
	cl_init(&k);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	ck_assert_int_eq(cl_get(&k, "verifier"), ASSAY_OK);
	stats(&k, &hs, &res, &cached);
	ck_assert_uint_eq(res, 1);
	cl_free(&k);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("http_resume");
	TCase *tc = tcase_create("resume");
	TCase *tr = tcase_create("role");
	SRunner *sr;
	int nf;

	evthread_use_pthreads();
	pki_make("resume");
	tcase_add_checked_fixture(tc, server_start, server_stop);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, second_request_resumes_session);
	tcase_add_test(tc, resumed_session_still_enforces_expect_cn);
	tcase_add_test(tc, resumption_off_makes_full_handshakes);
	tcase_add_test(tc, env_no_resume_turns_it_off);
	tcase_add_test(tc, failed_request_drops_session);
	tcase_add_test(tc, resumed_session_with_expired_client_cert_refused);
	tcase_add_test(tc, resumed_session_still_enforces_server_role);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tr, agent_server_start, server_stop);
	tcase_set_timeout(tr, 30);
	tcase_add_test(tr, admin_client_refuses_server_without_verifier_role);
	tcase_add_test(tr, agent_client_refuses_server_without_verifier_role);
	tcase_add_test(tr, verifier_client_accepts_agent_server);
	suite_add_tcase(s, tr);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	pki_remove();
	return nf == 0 ? 0 : 1;
}
