/*
 * test_policy_signers.c — who may sign which policy (verifier/
 * policy_signers.c): policy_signers pairs load into per-name signer sets
 * ("*" added to every name), a bad entry leaves the signers as they were;
 * an upload's body becomes the policy text only when it may: unsigned
 * while no signer applies, a DSSE envelope a signer of this very name made
 * otherwise (403 for unsigned, wrong key, another name; 400 malformed).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "common/config.h"
#include "common/proto/policy_env.h"
#include "tests/unit/dsse_fixture.h"
#include "verifier/verifier.h"

static char dir[] = "/tmp/assay-signers.XXXXXX";

static char *
write_pub(const char *name, EVP_PKEY *k)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
	return path;
}

static char *
seal(const char *name, const char *text, EVP_PKEY *k)
{
	char *env = NULL;

	ck_assert_int_eq(policy_env_seal(name, text, strlen(text), 1700000000,
	    k, NULL, &env), ASSAY_OK);
	return env;
}

static int
in_open(struct verifier *v, const char *name, const char *body,
    struct policy_in *in)
{
	return policy_in_open(v->signers, name, (const uint8_t *)body,
	    strlen(body), in);
}

START_TEST(signers_per_name)
{
	EVP_PKEY *a = key_new("P-256"), *b = key_new("ED25519"),
	    *c = key_new("P-256");
	char *pa = write_pub("a.pub", a), *pb = write_pub("b.pub", b);
	char *e1 = xasprintf("prod\t%s", pa), *e2 = xasprintf("*\t%s", pb);
	char *v[] = { e1, e2 };
	struct cfg_strlist l = { v, 2 };
	struct verifier vf;
	struct policy_in in;
	char *env;

	memset(&vf, 0, sizeof(vf));
	ck_assert_int_eq(policy_signers_load(&vf, &l), ASSAY_OK);
	ck_assert_ptr_nonnull(policy_signers_for(vf.signers, "prod"));
	ck_assert_ptr_nonnull(policy_signers_for(vf.signers, "other"));
	ck_assert_int_eq(dsse_trust_count(policy_signers_for(vf.signers,
	    "prod")), 2);
	ck_assert_int_eq(dsse_trust_count(policy_signers_for(vf.signers,
	    "other")), 1);

	/* unsigned: refused wherever a signer applies */
	ck_assert_int_eq(in_open(&vf, "prod", "name: prod\n", &in), 403);
	ck_assert_detail_has("must be signed");
	/* signed by a, for prod: taken, with its provenance */
	env = seal("prod", "name: prod\n", a);
	ck_assert_int_eq(in_open(&vf, "prod", env, &in), 0);
	ck_assert_str_eq(in.text, "name: prod\n");
	ck_assert_ptr_nonnull(in.signer);
	ck_assert_int_eq(in.signed_at, 1700000000);
	ck_assert_str_eq(in.envelope, env);
	ck_assert_uint_eq(strlen(in.sha256), 64);
	policy_in_free(&in);
	/* a is prod's only: not a signer of "other" */
	ck_assert_int_eq(in_open(&vf, "other", env, &in), 403);
	ck_assert_detail_has("no signature verifies");
	free(env);
	/* b signs every name, but an envelope for prod is not one for other */
	env = seal("prod", "name: prod\n", b);
	ck_assert_int_eq(in_open(&vf, "other", env, &in), 403);
	ck_assert_detail_has("signs policy 'prod'");
	free(env);
	env = seal("other", "name: other\n", b);
	ck_assert_int_eq(in_open(&vf, "other", env, &in), 0);
	policy_in_free(&in);
	free(env);
	/* an unknown key, and a broken envelope */
	env = seal("prod", "name: prod\n", c);
	ck_assert_int_eq(in_open(&vf, "prod", env, &in), 403);
	free(env);
	ck_assert_int_eq(in_open(&vf, "prod", "{\"payloadType\": 1}", &in), 400);
	/* rollback: an unsigned stored version may not come back */
	ck_assert_int_eq(policy_in_recheck(vf.signers, "prod", NULL), 403);
	signer_set_unref(vf.signers);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(c);
	free(pa);
	free(pb);
	free(e1);
	free(e2);
}
END_TEST

START_TEST(no_signers_takes_yaml)
{
	struct policy_in in;

	ck_assert_int_eq(policy_in_open(NULL, "p", (const uint8_t *)"name: p\n",
	    8, &in), 0);
	ck_assert_str_eq(in.text, "name: p\n");
	ck_assert_ptr_null(in.signer);
	ck_assert_ptr_null(in.envelope);
	policy_in_free(&in);
	ck_assert_int_eq(policy_in_recheck(NULL, "p", NULL), 0);
}
END_TEST

START_TEST(bad_entries_keep_the_old_set)
{
	EVP_PKEY *a = key_new("P-256");
	char *pa = write_pub("k.pub", a);
	char *good = xasprintf("p\t%s", pa), *bad_name = xasprintf("a b\t%s", pa);
	char *missing = xasprintf("p\t%s/nope.pem", dir);
	char *v1[] = { good }, *v2[] = { bad_name }, *v3[] = { missing };
	struct cfg_strlist l1 = { v1, 1 }, l2 = { v2, 1 }, l3 = { v3, 1 },
	    none = { NULL, 0 };
	struct verifier vf;
	struct signer_set *before;

	memset(&vf, 0, sizeof(vf));
	ck_assert_int_eq(policy_signers_load(&vf, &l1), ASSAY_OK);
	before = vf.signers;
	ck_assert_int_ne(policy_signers_load(&vf, &l2), ASSAY_OK);
	ck_assert_detail_has("not a policy name");
	ck_assert_ptr_eq(vf.signers, before);
	ck_assert_int_ne(policy_signers_load(&vf, &l3), ASSAY_OK);
	ck_assert_ptr_eq(vf.signers, before);
	ck_assert_int_eq(policy_signers_load(&vf, &none), ASSAY_OK);
	ck_assert_ptr_null(vf.signers);
	EVP_PKEY_free(a);
	free(pa);
	free(good);
	free(bad_name);
	free(missing);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy signers");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;
	char cmd[64];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, signers_per_name);
	tcase_add_test(tc, no_signers_takes_yaml);
	tcase_add_test(tc, bad_entries_keep_the_old_set);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)system(cmd);
	return nf == 0 ? 0 : 1;
}
