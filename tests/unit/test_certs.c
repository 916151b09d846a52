/*
 * test_certs.c — `assayctl certs init`: the files it writes, their modes,
 * that every leaf chains to the CA with the right purpose, the CN/OU
 * identities, and that an existing CA is not replaced without --force.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/tls.h"
#include "tools/certs.h"
#include "tools/cmd.h"

static char dir[256];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/assay-certs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
}

static char *
path(const char *name)
{
	static char b[4][512];
	static int i;
	char *p = b[i++ % 4];

	snprintf(p, sizeof(b[0]), "%s/%s", dir, name);
	return p;
}

static X509 *
load_cert(const char *name)
{
	FILE *f = fopen(path(name), "r");
	X509 *x;

	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

static int
run_init(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[9];
	int argc = 0;

	argv[argc++] = "certs";
	argv[argc++] = "init";
	argv[argc++] = dir;
	if (a1 != NULL)
		argv[argc++] = (char *)a1;
	if (a2 != NULL)
		argv[argc++] = (char *)a2;
	if (a3 != NULL)
		argv[argc++] = (char *)a3;
	if (a4 != NULL)
		argv[argc++] = (char *)a4;
	argv[argc] = NULL;
	return cmd_run(NULL, argc, argv);
}

/* X509_verify_cert of name against ca.pem for purpose; the error code. */
static int
verify_chain(const char *name, int purpose)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *ca = load_cert("ca.pem"), *leaf = load_cert(name);
	int ok, err;

	X509_STORE_add_cert(st, ca);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, leaf, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, purpose);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	ck_assert_int_eq(ok == 1, err == X509_V_OK);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(ca);
	X509_free(leaf);
	return err;
}

static void
assert_identity(const char *name, const char *cn, int role)
{
	struct tls_peer p;
	X509 *x = load_cert(name);

	ck_assert_int_eq(tls_x509_identity(x, &p), ASSAY_OK);
	ck_assert_str_eq(p.cn, cn);
	ck_assert_int_eq(p.role, role);
	ck_assert_uint_eq(strlen(p.fingerprint), 64);
	X509_free(x);
}

static int
mode_of(const char *name)
{
	struct stat st;

	ck_assert_int_eq(stat(path(name), &st), 0);
	return st.st_mode & 0777;
}

START_TEST(init_creates_all_files_with_key_modes_0600)
{
	static const char *names[] = { "ca", "verifier", "admin", "agent-agent1" };
	char f[64];

	ck_assert_int_eq(run_init(NULL, NULL, NULL, NULL), 0);
	for (size_t i = 0; i < 4; i++) {
		snprintf(f, sizeof(f), "%s.key", names[i]);
		ck_assert_int_eq(mode_of(f), 0600);
		snprintf(f, sizeof(f), "%s.pem", names[i]);
		ck_assert_int_eq(access(path(f), R_OK), 0);
	}
	ck_assert_int_ne(access(path("agent-agent2.pem"), F_OK), 0);
}
END_TEST

START_TEST(leaves_chain_to_ca_with_their_purpose)
{
	ck_assert_int_eq(run_init("--agents", "2", NULL, NULL), 0);
	ck_assert_int_eq(verify_chain("verifier.pem", X509_PURPOSE_SSL_SERVER),
	    X509_V_OK);
	ck_assert_int_eq(verify_chain("verifier.pem", X509_PURPOSE_SSL_CLIENT),
	    X509_V_OK);
	ck_assert_int_eq(verify_chain("admin.pem", X509_PURPOSE_SSL_CLIENT),
	    X509_V_OK);
	ck_assert_int_eq(verify_chain("agent-agent2.pem",
	    X509_PURPOSE_SSL_SERVER), X509_V_OK);
	/* The admin certificate is for clients only. */
	ck_assert_int_eq(verify_chain("admin.pem", X509_PURPOSE_SSL_SERVER),
	    X509_V_ERR_INVALID_PURPOSE);
}
END_TEST

START_TEST(identities_have_cn_and_role_ou)
{
	ck_assert_int_eq(run_init("--verifier-cn", "v1.example", "--agent",
	    "web-01"), 0);
	assert_identity("verifier.pem", "v1.example", ROLE_VERIFIER);
	assert_identity("admin.pem", "admin", ROLE_ADMIN);
	assert_identity("agent-web-01.pem", "web-01", ROLE_AGENT);
	assert_identity("ca.pem", "Assay CA", ROLE_NONE);
}
END_TEST

START_TEST(ca_is_a_ca_and_leaves_are_not)
{
	X509 *ca, *leaf;
	BIGNUM *serial;

	ck_assert_int_eq(run_init(NULL, NULL, NULL, NULL), 0);
	ca = load_cert("ca.pem");
	leaf = load_cert("agent-agent1.pem");
	ck_assert_int_eq(X509_check_ca(ca), 1);
	ck_assert_int_eq(X509_check_ca(leaf), 0);
	ck_assert_int_eq(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
	ck_assert_int_eq(X509_check_host(leaf, "localhost", 0, 0, NULL), 1);
	serial = ASN1_INTEGER_to_BN(X509_get_serialNumber(leaf), NULL);
	ck_assert_int_ge(BN_num_bits(serial), 120);
	BN_free(serial);
	X509_free(ca);
	X509_free(leaf);
}
END_TEST

START_TEST(existing_ca_is_kept_without_force)
{
	X509 *a, *b;

	ck_assert_int_eq(run_init(NULL, NULL, NULL, NULL), 0);
	a = load_cert("ca.pem");
	ck_assert_int_eq(run_init(NULL, NULL, NULL, NULL), 1);
	ck_assert_int_eq(certs_init(dir, NULL, NULL, 0, 0, 0), ASSAY_ERR_EXISTS);
	b = load_cert("ca.pem");
	ck_assert_int_eq(X509_cmp(a, b), 0);
	X509_free(b);
	ck_assert_int_eq(run_init("--force", NULL, NULL, NULL), 0);
	b = load_cert("ca.pem");
	ck_assert_int_ne(X509_cmp(a, b), 0);
	X509_free(a);
	X509_free(b);
}
END_TEST

START_TEST(bad_names_and_options_are_refused)
{
	char *bad[] = { "../evil" };

	ck_assert_int_eq(certs_init(dir, NULL, bad, 1, 0, 0), ASSAY_ERR_INVAL);
	ck_assert_int_eq(certs_init(dir, "a/b", NULL, 0, 0, 0), ASSAY_ERR_INVAL);
	ck_assert_int_ne(access(path("ca.key"), F_OK), 0);
	ck_assert_int_eq(run_init("--agents", "0", NULL, NULL), 2);
	ck_assert_int_eq(run_init("--days", "x", NULL, NULL), 2);
	ck_assert_int_eq(run_init("--agents", "2", "--agent", "a"), 2);
	ck_assert_int_eq(run_init("--bogus", NULL, NULL, NULL), 2);
}
END_TEST

START_TEST(tls_contexts_load_generated_files)
{
	SSL_CTX *s, *c;

	ck_assert_int_eq(run_init(NULL, NULL, NULL, NULL), 0);
	s = tls_server_ctx(path("verifier.pem"), path("verifier.key"),
	    path("ca.pem"));
	c = tls_client_ctx(path("admin.pem"), path("admin.key"), path("ca.pem"));
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(c);
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("certs");
	TCase *tc = tcase_create("init");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, init_creates_all_files_with_key_modes_0600);
	tcase_add_test(tc, leaves_chain_to_ca_with_their_purpose);
	tcase_add_test(tc, identities_have_cn_and_role_ou);
	tcase_add_test(tc, ca_is_a_ca_and_leaves_are_not);
	tcase_add_test(tc, existing_ca_is_kept_without_force);
	tcase_add_test(tc, bad_names_and_options_are_refused);
	tcase_add_test(tc, tls_contexts_load_generated_files);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
