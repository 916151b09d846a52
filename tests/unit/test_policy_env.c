/*
 * test_policy_env.c — common/proto/policy_env.c: a sealed policy opens
 * with its name, time, text and signer (keys and x5c chains), or parsed
 * only without trust; sniffing tells envelopes from YAML; each refusal
 * (payloadType, statement members, a renamed statement, an untrusted
 * signer, size, NUL in the text, bad names) with its error and message.
 */
#include "common/proto/policy_env.h"
#include "tests/unit/dsse_fixture.h"

#define TEXT	"name: web\nbank: sha256\n"

static char *
seal(EVP_PKEY *k, STACK_OF(X509) *certs)
{
	char *json = NULL;

	ck_assert_int_eq(policy_env_seal("web", TEXT, strlen(TEXT), 1700000000,
	    k, certs, &json), ASSAY_OK);
	return json;
}

static int
open_env(const char *json, const struct dsse_trust *t, struct policy_stmt *s)
{
	return policy_env_open((const uint8_t *)json, strlen(json), t, s);
}

START_TEST(sealed_policy_opens_with_everything_signed)
{
	EVP_PKEY *k = key_new("P-256");
	struct dsse_trust *t = trust_key(k);
	struct policy_stmt s;
	char *json = seal(k, NULL), *kid;

	ck_assert_int_eq(dsse_keyid(k, &kid), ASSAY_OK);
	ck_assert_int_eq(open_env(json, t, &s), ASSAY_OK);
	ck_assert_str_eq(s.name, "web");
	ck_assert_int_eq(s.signed_at, 1700000000);
	ck_assert_str_eq(s.text, TEXT);
	ck_assert_uint_eq(s.text_len, strlen(TEXT));
	ck_assert_str_eq(s.keyid, kid);
	ck_assert_ptr_nonnull(strstr(s.signer, kid));
	policy_stmt_free(&s);
	free(kid);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(without_trust_parses_only)
{
	EVP_PKEY *k = key_new("ED25519");
	struct policy_stmt s;
	char *json = seal(k, NULL);

	ck_assert_int_eq(open_env(json, NULL, &s), ASSAY_OK);
	ck_assert_str_eq(s.name, "web");
	ck_assert_ptr_null(s.signer);
	ck_assert_ptr_null(s.keyid);
	policy_stmt_free(&s);
	free(json);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(x5c_sealed_policy_names_leaf_and_ca)
{
	EVP_PKEY *cak = key_new("P-256"), *lk = key_new("ED25519");
	X509 *ca = ca_new("Policy Root", cak);
	X509 *leaf = cert_new("alice", lk, ca, cak, 0, -DAY, DAY,
	    "digitalSignature");
	STACK_OF(X509) *chain = chain_of(leaf, NULL);
	struct dsse_trust *t = trust_ca(ca);
	struct policy_stmt s;
	char *json = seal(lk, chain), *kid;

	ck_assert_int_eq(open_env(json, t, &s), ASSAY_OK);
	ck_assert_str_eq(s.signer, "x509 CN=alice (CA CN=Policy Root)");
	ck_assert_int_eq(dsse_keyid(lk, &kid), ASSAY_OK);
	ck_assert_str_eq(s.keyid, kid);	/* the leaf's */
	free(kid);
	policy_stmt_free(&s);
	free(json);
	dsse_trust_free(t);
	chain_free(chain);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(lk);
}
END_TEST

START_TEST(sniff_tells_envelopes_from_yaml)
{
	static const char *yes[] = { "{\"payloadType\":1}",
	    " \n\t{\"payload\":\"\",\"payloadType\":\"x\"}" };
	static const char *no[] = { "", "name: web\n", "{\"name\":\"web\"}",
	    "[\"payloadType\"]", "# {\"payloadType\"\nname: x\n" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(policy_env_sniff((const uint8_t *)yes[i],
		    strlen(yes[i])) == 1, "yes %zu", i);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(policy_env_sniff((const uint8_t *)no[i],
		    strlen(no[i])) == 0, "no %zu", i);
}
END_TEST

START_TEST(other_payload_type_refused)
{
	EVP_PKEY *k = key_new("ED25519");
	struct dsse_trust *t = trust_key(k);
	struct policy_stmt s;
	const char *body = "{\"_type\":\"https://assay.dev/policy/v1\","
	    "\"name\":\"web\",\"signed_at\":1,\"policy\":\"name: web\\n\"}";
	char *json = NULL;

	ck_assert_int_eq(dsse_sign("application/vnd.in-toto+json",
	    (const uint8_t *)body, strlen(body), k, NULL, &json), ASSAY_OK);
	ck_assert_int_eq(open_env(json, t, &s), ASSAY_ERR_FORMAT);
	ck_assert_detail_has("payloadType is not application/vnd.assay.policy+json");
	ck_assert_ptr_null(s.name);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(bad_statements_refused)
{
	static const struct {
		const char *body, *detail;
	} bad[] = {
		{ "name: web", "policy statement: JSON" },
		{ "[]", "not a JSON object" },
		{ "{\"_type\":\"https://assay.dev/policy/v2\",\"name\":\"web\","
		    "\"signed_at\":1,\"policy\":\"\"}", "\"_type\" is not" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"web\","
		    "\"signed_at\":1,\"policy\":\"\",\"extra\":1}",
		    "unknown member \"extra\"" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"../x\","
		    "\"signed_at\":1,\"policy\":\"\"}", "\"name\" is not" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"."
		    "\",\"signed_at\":1,\"policy\":\"\"}", "\"name\" is not" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"a"
		    "123456789012345678901234567890123456789012345678901234567890"
		    "1234\",\"signed_at\":1,\"policy\":\"\"}", "\"name\" is not" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"web\","
		    "\"signed_at\":-1,\"policy\":\"\"}", "\"signed_at\" is not" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"web\","
		    "\"signed_at\":\"1\",\"policy\":\"\"}", "\"signed_at\" is not" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"web\","
		    "\"signed_at\":1}", "\"policy\" is not a string" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"web\","
		    "\"signed_at\":1,\"policy\":\"a\\u0000b\"}",
		    "policy statement: JSON" },
		{ "{\"_type\":\"https://assay.dev/policy/v1\",\"name\":\"web\","
		    "\"name\":\"db\",\"signed_at\":1,\"policy\":\"\"}",
		    "duplicate" },
	};
	EVP_PKEY *k = key_new("P-256");
	struct dsse_trust *t = trust_key(k);
	struct policy_stmt s;
	char *json;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(dsse_sign(POLICY_ENV_TYPE,
		    (const uint8_t *)bad[i].body, strlen(bad[i].body), k, NULL,
		    &json), ASSAY_OK);
		ck_assert_msg(open_env(json, t, &s) == ASSAY_ERR_FORMAT,
		    "case %zu", i);
		ck_assert_detail_has(bad[i].detail);
		free(json);
	}
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(renamed_statement_refused)
{
	EVP_PKEY *k = key_new("ED25519");
	struct dsse_trust *t = trust_key(k);
	struct policy_stmt s;
	char *json = seal(k, NULL), *b64, *bad;
	const char *body = "{\"_type\":\"https://assay.dev/policy/v1\","
	    "\"name\":\"db\",\"signed_at\":1700000000,\"policy\":\"name: web\\n"
	    "bank: sha256\\n\"}";

	b64 = base64_encode(body, strlen(body));
	bad = env_set(json, "payload", json_string(b64));
	ck_assert_int_eq(open_env(bad, NULL, &s), ASSAY_OK);	/* parses */
	ck_assert_str_eq(s.name, "db");
	policy_stmt_free(&s);
	ck_assert_int_eq(open_env(bad, t, &s), ASSAY_ERR_PERM);
	ck_assert_detail_has("no signature verifies");
	free(b64);
	free(bad);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(untrusted_signer_refused)
{
	EVP_PKEY *k = key_new("P-256"), *other = key_new("ED25519");
	struct dsse_trust *t = trust_key(other);
	struct policy_stmt s;
	char *json = seal(k, NULL), *kid;

	ck_assert_int_eq(dsse_keyid(k, &kid), ASSAY_OK);
	ck_assert_int_eq(open_env(json, t, &s), ASSAY_ERR_PERM);
	ck_assert_detail_has(kid);
	ck_assert_ptr_null(s.name);
	free(kid);
	free(json);
	dsse_trust_free(t);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}
END_TEST

START_TEST(oversized_envelope_refused)
{
	uint8_t *big = calloc(1, POLICY_ENV_MAX + 1);
	struct policy_stmt s;

	ck_assert_ptr_nonnull(big);
	big[0] = '{';
	ck_assert_int_eq(policy_env_open(big, POLICY_ENV_MAX + 1, NULL, &s),
	    ASSAY_ERR_RANGE);
	free(big);
}
END_TEST

START_TEST(seal_refusals)
{
	EVP_PKEY *k = key_new("P-256"), *rsa = key_new("RSA");
	char *json = NULL;

	ck_assert_int_eq(policy_env_seal("web", "a\0b", 3, 1, k, NULL, &json),
	    ASSAY_ERR_INVAL);
	ck_assert_detail_has("NUL");
	ck_assert_int_eq(policy_env_seal("we/b", "x", 1, 1, k, NULL, &json),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(policy_env_seal("", "x", 1, 1, k, NULL, &json),
	    ASSAY_ERR_INVAL);
	ck_assert_int_eq(policy_env_seal("web", "\xff", 1, 1, k, NULL, &json),
	    ASSAY_ERR_INVAL);
	ck_assert_detail_has("not UTF-8");
	ck_assert_int_eq(policy_env_seal("web", "x", 1, 1, rsa, NULL, &json),
	    ASSAY_ERR_UNSUPPORTED);
	ck_assert_ptr_null(json);
	EVP_PKEY_free(k);
	EVP_PKEY_free(rsa);
}
END_TEST

static Suite *
policy_env_suite(void)
{
	Suite *s = suite_create("policy_env");
	TCase *tc = tcase_create("policy_env");

	tcase_add_test(tc, sealed_policy_opens_with_everything_signed);
	tcase_add_test(tc, without_trust_parses_only);
	tcase_add_test(tc, x5c_sealed_policy_names_leaf_and_ca);
	tcase_add_test(tc, sniff_tells_envelopes_from_yaml);
	tcase_add_test(tc, other_payload_type_refused);
	tcase_add_test(tc, bad_statements_refused);
	tcase_add_test(tc, renamed_statement_refused);
	tcase_add_test(tc, untrusted_signer_refused);
	tcase_add_test(tc, oversized_envelope_refused);
	tcase_add_test(tc, seal_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(policy_env_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
