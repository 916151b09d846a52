/*
 * test_registrar.c — enrollment checks against a real (software) TPM
 * (registrar_fixture.h): our make_credential must be accepted by
 * tpm2_activatecredential for RSA, ECC and P-384 EKs and fail for another
 * name; the EK allowlist must accept and reject. EK certificates:
 * test_ek_cert.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registrar_fixture.h"

/* ---- MakeCredential interop ---- */

/* tpm2-tools credential file: magic, version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET. */
static void
write_cred_file(const char *name, const uint8_t *cred, size_t cred_len,
    const uint8_t *sec, size_t sec_len)
{
	static const uint8_t hdr[] = { 0xba, 0xdc, 0xc0, 0xde, 0, 0, 0, 1 };
	uint8_t *all = xmalloc(sizeof(hdr) + cred_len + sec_len);

	memcpy(all, hdr, sizeof(hdr));
	memcpy(all + sizeof(hdr), cred, cred_len);
	memcpy(all + sizeof(hdr) + cred_len, sec, sec_len);
	write_all(name, all, sizeof(hdr) + cred_len + sec_len);
	free(all);
}

/*
 * TCG EK Credential Profile policies for the SHA-384 "high range" EK
 * (swtpm's P-384 EK): PolicyB = PolicyOR(PolicyA = PolicySecret(endorsement),
 * PolicyC = PolicyAuthorizeNV(0x01c07f02)); the digests are the profile's.
 */
#define POLICY_A_SHA384 "8bbf2266537c171cb56e403c4dc1d4b64f432611dc386e6f" \
	"532050c3278c930e143e8bb1133824ccb431053871c6db53"
#define POLICY_C_SHA384 "d6032ce61f2fb3c240eb3cf6a33237ef2b6a16f4293c22b4" \
	"55e261cffd217ad5b4947c2d73e63005eed2dc2b3593d165"

/*
 * tpm2_activatecredential with a policy session satisfying the EK's
 * authPolicy: PolicySecret(endorsement), plus the PolicyOR for sha384 EKs.
 */
static int
activate(const char *ek, const char *ak, int sha384)
{
	return sh("timeout 10 tpm2_flushcontext -t >/dev/null 2>&1; "
	    "echo %s | xxd -r -p > pA; echo %s | xxd -r -p > pC; "
	    "timeout 10 tpm2_startauthsession --policy-session -g %s -S s.ctx && "
	    "timeout 10 tpm2_policysecret -S s.ctx -c e >/dev/null && "
	    "%s "
	    "timeout 30 tpm2_activatecredential -c %s -C %s -i cred -o out.secret "
	    "-P session:s.ctx >/dev/null 2>act.err; rc=$?; "
	    "timeout 10 tpm2_flushcontext s.ctx; "
	    "timeout 10 tpm2_flushcontext -t >/dev/null 2>&1; exit $rc",
	    POLICY_A_SHA384, POLICY_C_SHA384, sha384 ? "sha384" : "sha256",
	    sha384 ? "timeout 10 tpm2_policyor -S s.ctx -l sha384:pA,pC >/dev/null &&" : "",
	    ak, ek);
}

static void
credential_round_trip(const char *ekpub, const char *ekctx, const char *akpub,
    const char *akctx, int tamper_name)
{
	struct tpm2_public ek, ak;
	uint8_t secret[32], *cred, *sec, *out;
	size_t cred_len, sec_len, n;

	parse_pub(ekpub, &ek);
	parse_pub(akpub, &ak);
	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(0xa5 ^ i);
	if (tamper_name)
		ak.name[ak.name_len - 1] ^= 1;
	ck_assert_int_eq(make_credential(&ek, ak.name, ak.name_len, secret,
	    sizeof(secret), &cred, &cred_len, &sec, &sec_len), ASSAY_OK);
	write_cred_file("cred", cred, cred_len, sec, sec_len);
	sh("rm -f out.secret");
	if (tamper_name) {
		ck_assert_int_ne(activate(ekctx, akctx, ek.name_alg ==
		    TPM2_ALG_SHA384), 0);
		/* Rejected by the outer HMAC, not by anything else. */
		ck_assert_int_eq(sh("grep -q 'integrity check failed' act.err"), 0);
	} else {
		ck_assert_int_eq(activate(ekctx, akctx, ek.name_alg ==
		    TPM2_ALG_SHA384), 0);
		ck_assert_int_eq(read_all("out.secret", &out, &n), 0);
		ck_assert_uint_eq(n, sizeof(secret));
		ck_assert_int_eq(memcmp(out, secret, n), 0);
		free(out);
	}
	free(cred);
	free(sec);
	tpm2_public_free(&ek);
	tpm2_public_free(&ak);
}

START_TEST(rsa_ek_credential_activates)
{
	credential_round_trip("ek.pub", "ek.ctx", "ak.pub", "ak.ctx", 0);
}
END_TEST

START_TEST(ecc_ek_credential_activates)
{
	credential_round_trip("ekecc.pub", "ekecc.ctx", "akecc.pub", "akecc.ctx", 0);
}
END_TEST

/* The swtpm P-384 EK: nameAlg sha384, AES-256. */
START_TEST(p384_ek_credential_activates)
{
	credential_round_trip("ek384.pub", "0x81010016", "ak384.pub", "ak384.ctx", 0);
}
END_TEST

START_TEST(credential_for_other_name_fails_activation)
{
	credential_round_trip("ek.pub", "ek.ctx", "ak.pub", "ak.ctx", 1);
}
END_TEST

START_TEST(credential_rejects_oversized_secret)
{
	struct tpm2_public ek, ak;
	uint8_t secret[33] = { 0 }, *cred, *sec;
	size_t cred_len, sec_len;

	parse_pub("ek.pub", &ek);
	parse_pub("ak.pub", &ak);
	ck_assert_int_eq(make_credential(&ek, ak.name, ak.name_len, secret,
	    sizeof(secret), &cred, &cred_len, &sec, &sec_len), ASSAY_ERR_INVAL);
	ck_assert_ptr_null(cred);
	tpm2_public_free(&ek);
	tpm2_public_free(&ak);
}
END_TEST

/* ---- allowlist ---- */

START_TEST(ek_hash_matches_sha256sum_of_body)
{
	uint8_t *p, *want;
	size_t n, wn;
	char *hex;

	ck_assert_int_eq(sh("tail -c +3 ek.pub | sha256sum | cut -c1-64 | "
	    "tr -d '\\n' > ek.sha256"), 0);
	ck_assert_int_eq(read_all("ek.pub", &p, &n), 0);
	ck_assert_int_eq(read_all("ek.sha256", &want, &wn), 0);
	hex = ek_pub_hash_hex(p, n);
	ck_assert_ptr_nonnull(hex);
	ck_assert_uint_eq(wn, 64);
	ck_assert_int_eq(memcmp(hex, want, 64), 0);
	ck_assert_ptr_null(ek_pub_hash_hex(p, n - 1));
	free(hex);
	free(want);
	free(p);
}
END_TEST

static int
verify_allowlist(const char *contents, const char *ekpub)
{
	struct ek_trust *t = NULL;
	struct tpm2_public ek;
	char *path = tpath("allow.txt");
	int r;

	write_all("allow.txt", contents, strlen(contents));
	ck_assert_int_eq(ek_trust_load(NULL, path, &t), ASSAY_OK);
	parse_pub(ekpub, &ek);
	r = ek_verify(t, &ek, NULL, 0, NULL, NULL, 0);
	tpm2_public_free(&ek);
	ek_trust_free(t);
	free(path);
	return r;
}

static char *
allow_for(const char *ekpub)
{
	uint8_t *p;
	size_t n;
	char *hex, *s;

	ck_assert_int_eq(read_all(ekpub, &p, &n), 0);
	hex = ek_pub_hash_hex(p, n);
	for (char *c = hex; *c; c++)	/* upper case must be accepted */
		*c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
	s = xasprintf("# lab TPMs\n\n  %s  # rack 3\n%s\n", hex,
	    "0000000000000000000000000000000000000000000000000000000000000000");
	free(hex);
	free(p);
	return s;
}

START_TEST(allowlisted_ek_without_cert_accepted)
{
	char *s = allow_for("ek.pub");

	ck_assert_msg(verify_allowlist(s, "ek.pub") == ASSAY_OK, "%s",
	    assay_err_detail());
	free(s);
}
END_TEST

START_TEST(unlisted_ek_without_cert_rejected)
{
	char *s = allow_for("ek.pub");

	ck_assert_int_eq(verify_allowlist(s, "ekecc.pub"), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not in the EK allowlist"));
	free(s);
}
END_TEST

START_TEST(no_cert_and_no_allowlist_rejected)
{
	struct ek_trust *t = trust("ca");
	struct tpm2_public ek;

	parse_pub("ek.pub", &ek);
	ck_assert_int_eq(ek_verify(t, &ek, NULL, 0, NULL, NULL, 0), ASSAY_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "no EK allowlist"));
	tpm2_public_free(&ek);
	ek_trust_free(t);
}
END_TEST

START_TEST(bad_allowlist_line_is_config_error)
{
	struct ek_trust *t = NULL;
	char *path = tpath("badallow.txt");

	write_all("badallow.txt", "# ok\nabcdef\n", 12);
	ck_assert_int_eq(ek_trust_load(NULL, path, &t), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), ":2:"));
	free(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("registrar");
	TCase *tc = tcase_create("swtpm");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, rsa_ek_credential_activates);
	tcase_add_test(tc, ecc_ek_credential_activates);
	tcase_add_test(tc, p384_ek_credential_activates);
	tcase_add_test(tc, credential_for_other_name_fails_activation);
	tcase_add_test(tc, credential_rejects_oversized_secret);
	tcase_add_test(tc, ek_hash_matches_sha256sum_of_body);
	tcase_add_test(tc, allowlisted_ek_without_cert_accepted);
	tcase_add_test(tc, unlisted_ek_without_cert_rejected);
	tcase_add_test(tc, no_cert_and_no_allowlist_rejected);
	tcase_add_test(tc, bad_allowlist_line_is_config_error);
	suite_add_tcase(s, tc);
	return run_on_swtpm(s);
}
