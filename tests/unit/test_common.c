/*
 * test_common.c — the small shared pieces: error strings and details, the
 * activation proof, config-relative paths, xmalloc helpers.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/activation.h"
#include "common/daemon.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"

START_TEST(every_error_has_a_string)
{
	for (int e = 0; e < ASSAY_ERR_MAX; e++)
		ck_assert_str_ne(assay_strerror(e), "unknown error");
	ck_assert_str_eq(assay_strerror(ASSAY_ERR_MAX), "unknown error");
	ck_assert_str_eq(assay_strerror(-1), "unknown error");
}
END_TEST

START_TEST(err_set_returns_code_and_keeps_detail)
{
	ck_assert_int_eq(assay_err_set(ASSAY_ERR_FORMAT, "PCR %d in %s", 7, "sha256"),
	    ASSAY_ERR_FORMAT);
	ck_assert_str_eq(assay_err_detail(), "PCR 7 in sha256");
	assay_err_clear();
	ck_assert_str_eq(assay_err_detail(), "");
}
END_TEST

START_TEST(activation_proof_is_hmac_sha256_of_id)
{
	static const uint8_t secret[32] = { 1, 2, 3 };
	uint8_t got[ACTIVATION_PROOF_LEN], want[32], other[ACTIVATION_PROOF_LEN];
	unsigned int n = sizeof(want);

	activation_proof(secret, sizeof(secret), "web1", got);
	HMAC(EVP_sha256(), secret, sizeof(secret), (const unsigned char *)"web1", 4,
	    want, &n);
	ck_assert_int_eq(memcmp(got, want, sizeof(want)), 0);
	activation_proof(secret, sizeof(secret), "web2", other);
	ck_assert_int_ne(memcmp(got, other, sizeof(got)), 0);
}
END_TEST

START_TEST(text_sanitize_replaces_controls_and_bad_utf8)
{
	char a[] = "/tmp/\x1b[31mevil\x07\x7f";
	char b[] = "ok \xc3\xa9 \xff\xfe \xc3 \xe2\x80\xae rtl \xc2\x9b csi";
	char c[] = "\xed\xa0\x80 surrogate, \xc0\xaf overlong, \xf0\x9f\x98\x80";
	struct verdict vd;

	ck_assert_str_eq(text_sanitize(a), "/tmp/?[31mevil??");
	ck_assert_str_eq(text_sanitize(b), "ok \xc3\xa9 ?? ? ? rtl ? csi");
	ck_assert_str_eq(text_sanitize(c), "??? surrogate, ?? overlong, "
	    "\xf0\x9f\x98\x80");
	/* every verdict detail goes through it */
	verdict_init(&vd);
	verdict_fail(&vd, FID_IMA_NOT_ALLOWED, "file %s", "/x/\x1b]0;pwned\x07\xff");
	ck_assert_str_eq(vd.fail[0].detail, "file /x/?]0;pwned??");
}
END_TEST

START_TEST(ek_id_is_the_sha256_prefix_of_the_ek)
{
	static const uint8_t ek[3] = { 1, 2, 3 };
	char *id = activation_ek_id(ek, sizeof(ek));

	/* sha256(01 02 03) = 039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81 */
	ck_assert_str_eq(id, "ek-039058c6f2c0cb492c533b0a4d14ef77");
	free(id);
}
END_TEST

START_TEST(relative_config_paths_follow_the_config_file)
{
	char *p = xstrdup("pki/ca.pem"), *abs = xstrdup("/etc/ca.pem"), *none = NULL;
	char *bare = xstrdup("ca.pem");

	daemon_resolve_path("/etc/assay/verifier.yaml", &p);
	ck_assert_str_eq(p, "/etc/assay/pki/ca.pem");
	daemon_resolve_path("/etc/assay/verifier.yaml", &abs);
	ck_assert_str_eq(abs, "/etc/ca.pem");
	daemon_resolve_path("/etc/assay/verifier.yaml", &none);
	ck_assert_ptr_null(none);
	daemon_resolve_path("verifier.yaml", &bare);	/* no directory: unchanged */
	ck_assert_str_eq(bare, "ca.pem");
	free(p);
	free(abs);
	free(bare);
}
END_TEST

START_TEST(xmalloc_helpers_copy_and_format)
{
	char *s = xasprintf("%s-%d", "a", 5), *n = xstrndup("abcdef", 3);
	void *m = xmemdup("xyz", 3);

	ck_assert_str_eq(s, "a-5");
	ck_assert_str_eq(n, "abc");
	ck_assert_int_eq(memcmp(m, "xyz", 3), 0);
	free(s);
	free(n);
	free(m);
	freezero_secret(NULL, 10);	/* NULL-safe */
	freezero_secret(xstrdup("secret"), 7);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, every_error_has_a_string);
	tcase_add_test(tc, err_set_returns_code_and_keeps_detail);
	tcase_add_test(tc, activation_proof_is_hmac_sha256_of_id);
	tcase_add_test(tc, relative_config_paths_follow_the_config_file);
	tcase_add_test(tc, text_sanitize_replaces_controls_and_bad_utf8);
	tcase_add_test(tc, ek_id_is_the_sha256_prefix_of_the_ek);
	tcase_add_test(tc, xmalloc_helpers_copy_and_format);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
