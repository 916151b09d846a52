/*
 * test_tpm_public.c — TPM2B_PUBLIC parsing against publics made by swtpm +
 * tpm2-tools (tests/data/tpm_public/): key fields, Name == tpm2-tools'
 * ak.name, AK attribute checks, and rejection of truncated, oversized and
 * off-curve inputs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>

#include "common/err.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/tpm_public.h"
#include "common/xmalloc.h"

/* Offsets into the TPM2B_PUBLIC test files (size prefix included). */
#define OFF_ATTRS	6
#define AK_ECC_Y_LAST	89	/* last byte of unique.y in ak-ecc.pub */
#define EK_RSA_NSIZE	58	/* unique.rsa size in ek-rsa.pub */

static void
load(const char *name, uint8_t **p, size_t *n)
{
	const char *dir = getenv("ASSAY_TEST_DATA");
	char *path = xasprintf("%s/tpm_public/%s", dir ? dir : "tests/data", name);
	FILE *f = fopen(path, "rb");
	uint8_t tmp[4096];

	ck_assert_msg(f != NULL, "cannot open %s", path);
	*n = fread(tmp, 1, sizeof(tmp), f);
	fclose(f);
	*p = xmemdup(tmp, *n);
	free(path);
}

static void
parse_file(const char *name, struct tpm2_public *pub)
{
	uint8_t *p;
	size_t n;
	int r;

	load(name, &p, &n);
	r = tpm2_public_parse(p, n, pub);
	ck_assert_msg(r == ASSAY_OK, "%s: %s", name, assay_err_detail());
	free(p);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

START_TEST(parses_rsa_ek)
{
	struct tpm2_public pub;

	parse_file("ek-rsa.pub", &pub);
	ck_assert_uint_eq(pub.type, TPM2_ALG_RSA);
	ck_assert_uint_eq(pub.name_alg, TPM2_ALG_SHA256);
	ck_assert_uint_eq(pub.key_bits, 2048);
	ck_assert_uint_eq(pub.exponent, 65537);	/* 0 on the wire */
	ck_assert_uint_eq(pub.sym_alg, TPM2_ALG_AES);
	ck_assert_uint_eq(pub.sym_bits, 128);
	ck_assert_uint_eq(pub.policy_len, 32);
	ck_assert(pub.attributes & TPMA_OBJECT_DECRYPT);
	ck_assert_ptr_nonnull(pub.pkey);
	ck_assert_int_eq(EVP_PKEY_get_bits(pub.pkey), 2048);
	ck_assert_uint_eq(pub.tpmt_len, 314);
	tpm2_public_free(&pub);
}
END_TEST

START_TEST(parses_ecc_ek)
{
	struct tpm2_public pub;

	parse_file("ek-ecc.pub", &pub);
	ck_assert_uint_eq(pub.type, TPM2_ALG_ECC);
	ck_assert_uint_eq(pub.curve, TPM2_ECC_NIST_P256);
	ck_assert_uint_eq(pub.sym_bits, 128);
	ck_assert_uint_eq(pub.ecc_x_len, 32);
	ck_assert_int_eq(EVP_PKEY_get_bits(pub.pkey), 256);
	tpm2_public_free(&pub);
}
END_TEST

static void
check_name(const char *pubfile, const char *namefile)
{
	struct tpm2_public pub;
	uint8_t *name;
	size_t n;

	parse_file(pubfile, &pub);
	load(namefile, &name, &n);
	ck_assert_uint_eq(pub.name_len, n);
	ck_assert_int_eq(memcmp(pub.name, name, n), 0);
	free(name);
	tpm2_public_free(&pub);
}

START_TEST(ecc_ak_name_matches_tpm2_tools)
{
	check_name("ak-ecc.pub", "ak-ecc.name");
}
END_TEST

START_TEST(rsa_ak_name_matches_tpm2_tools)
{
	check_name("ak-rsa.pub", "ak-rsa.name");
}
END_TEST

START_TEST(ak_check_passes_for_aks)
{
	struct tpm2_public pub;

	parse_file("ak-ecc.pub", &pub);
	ck_assert_int_eq(tpm2_public_check_ak(&pub), ASSAY_OK);
	tpm2_public_free(&pub);
	parse_file("ak-rsa.pub", &pub);
	ck_assert_int_eq(tpm2_public_check_ak(&pub), ASSAY_OK);
	tpm2_public_free(&pub);
}
END_TEST

START_TEST(ak_check_rejects_ek_for_decrypt)
{
	struct tpm2_public pub;

	parse_file("ek-rsa.pub", &pub);
	ck_assert_int_eq(tpm2_public_check_ak(&pub), ASSAY_FAIL);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "decrypt"));
	tpm2_public_free(&pub);
}
END_TEST

START_TEST(ak_check_names_missing_fixedtpm)
{
	struct tpm2_public pub;
	uint8_t *p;
	size_t n;

	load("ak-ecc.pub", &p, &n);
	p[OFF_ATTRS + 3] &= (uint8_t)~TPMA_OBJECT_FIXEDTPM;
	ck_assert_int_eq(tpm2_public_parse(p, n, &pub), ASSAY_OK);
	ck_assert_int_eq(tpm2_public_check_ak(&pub), ASSAY_FAIL);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "fixedTPM"));
	tpm2_public_free(&pub);
	free(p);
}
END_TEST

START_TEST(ak_check_names_missing_restricted)
{
	struct tpm2_public pub;
	uint8_t *p;
	size_t n;

	load("ak-ecc.pub", &p, &n);
	p[OFF_ATTRS + 1] &= (uint8_t)~(TPMA_OBJECT_RESTRICTED >> 16);
	ck_assert_int_eq(tpm2_public_parse(p, n, &pub), ASSAY_OK);
	ck_assert_int_eq(tpm2_public_check_ak(&pub), ASSAY_FAIL);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "restricted"));
	tpm2_public_free(&pub);
	free(p);
}
END_TEST

/* nameAlg SHA-1: a Name collision would detach the attributes checked. */
START_TEST(ak_check_refuses_sha1_name_alg)
{
	struct tpm2_public pub;
	uint8_t *p;
	size_t n;

	load("ak-ecc.pub", &p, &n);
	p[4] = 0x00;
	p[5] = 0x04;		/* TPM2_ALG_SHA1 */
	ck_assert_int_eq(tpm2_public_parse(p, n, &pub), ASSAY_OK);
	ck_assert_int_eq(tpm2_public_check_ak(&pub), ASSAY_FAIL);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "SHA-1"));
	tpm2_public_free(&pub);
	free(p);
}
END_TEST

START_TEST(matches_own_key_not_other_tpm)
{
	struct tpm2_public a, b;

	parse_file("ek-rsa.pub", &a);
	parse_file("other-ek-rsa.pub", &b);
	ck_assert_int_eq(tpm2_public_matches(&a, a.pkey), ASSAY_OK);
	ck_assert_int_eq(tpm2_public_matches(&a, b.pkey), ASSAY_FAIL);
	ck_assert_int_eq(tpm2_public_matches(&a, NULL), ASSAY_FAIL);
	tpm2_public_free(&a);
	tpm2_public_free(&b);
}
END_TEST

/* Every shorter body, with a consistent size prefix, is truncated. */
START_TEST(truncated_bodies_rejected)
{
	static const char *files[] = { "ak-ecc.pub", "ek-rsa.pub", "ek-ecc.pub" };
	struct tpm2_public pub;
	uint8_t *p, *q;
	size_t n;

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		load(files[f], &p, &n);
		q = xmalloc(n);
		for (size_t k = 1; k < n - 2; k++) {
			put16(q, (uint16_t)k);
			memcpy(q + 2, p + 2, k);
			ck_assert_msg(tpm2_public_parse(q, k + 2, &pub) ==
			    ASSAY_ERR_TRUNCATED, "%s cut at %zu", files[f], k);
			ck_assert_ptr_null(pub.pkey);
		}
		/* The outer size prefix disagreeing with the length. */
		ck_assert_int_eq(tpm2_public_parse(p, n - 1, &pub), ASSAY_ERR_TRUNCATED);
		ck_assert_int_eq(tpm2_public_parse(p, 1, &pub), ASSAY_ERR_TRUNCATED);
		free(q);
		free(p);
	}
}
END_TEST

START_TEST(trailing_bytes_rejected)
{
	struct tpm2_public pub;
	uint8_t *p, *q;
	size_t n;

	load("ak-ecc.pub", &p, &n);
	q = xcalloc(1, n + 1);
	memcpy(q, p, n);
	ck_assert_int_eq(tpm2_public_parse(q, n + 1, &pub), ASSAY_ERR_FORMAT);
	put16(q, (uint16_t)(n - 1));	/* extra byte inside the TPM2B */
	ck_assert_int_eq(tpm2_public_parse(q, n + 1, &pub), ASSAY_ERR_FORMAT);
	free(q);
	free(p);
}
END_TEST

START_TEST(oversized_public_rejected)
{
	struct tpm2_public pub;
	uint8_t *q;
	size_t n = 2 + TPM_PUBLIC_MAX_SIZE + 1;

	q = xcalloc(1, n);
	put16(q, TPM_PUBLIC_MAX_SIZE + 1);
	ck_assert_int_eq(tpm2_public_parse(q, n, &pub), ASSAY_ERR_RANGE);
	ck_assert_int_eq(tpm2_public_parse_tpmt(q + 2, n - 2, &pub), ASSAY_ERR_RANGE);
	free(q);
}
END_TEST

START_TEST(oversized_rsa_modulus_rejected)
{
	struct tpm2_public pub;
	uint8_t *p, *q;
	size_t n, qn;

	load("ek-rsa.pub", &p, &n);
	qn = EK_RSA_NSIZE + 2 + 513;
	q = xcalloc(1, qn);
	memcpy(q, p, EK_RSA_NSIZE);
	put16(q, (uint16_t)(qn - 2));
	put16(q + EK_RSA_NSIZE, 513);
	memset(q + EK_RSA_NSIZE + 2, 0xab, 513);
	ck_assert_int_eq(tpm2_public_parse(q, qn, &pub), ASSAY_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "modulus"));
	free(q);
	free(p);
}
END_TEST

START_TEST(rsa_modulus_not_matching_keybits_rejected)
{
	struct tpm2_public pub;
	uint8_t *p;
	size_t n;

	load("ek-rsa.pub", &p, &n);
	put16(p + 52, 3072);	/* keyBits */
	ck_assert_int_eq(tpm2_public_parse(p, n, &pub), ASSAY_ERR_FORMAT);
	free(p);
}
END_TEST

START_TEST(oversized_ecc_coordinate_rejected)
{
	struct tpm2_public pub;
	uint8_t *p, *q;
	size_t n, qn, xoff = 22;

	load("ak-ecc.pub", &p, &n);
	qn = xoff + 2 + 67 + 2 + 32;
	q = xcalloc(1, qn);
	memcpy(q, p, xoff);
	put16(q, (uint16_t)(qn - 2));
	put16(q + xoff, 67);
	memset(q + xoff + 2, 0x01, 67);
	put16(q + xoff + 2 + 67, 32);
	ck_assert_int_eq(tpm2_public_parse(q, qn, &pub), ASSAY_ERR_RANGE);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "coordinate"));
	free(q);
	free(p);
}
END_TEST

START_TEST(ecc_point_not_on_curve_rejected)
{
	struct tpm2_public pub;
	uint8_t *p;
	size_t n;

	load("ak-ecc.pub", &p, &n);
	ck_assert_uint_eq(n, AK_ECC_Y_LAST + 1);
	p[AK_ECC_Y_LAST] ^= 0x01;
	ck_assert_int_eq(tpm2_public_parse(p, n, &pub), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "not on curve"));
	ck_assert_ptr_null(pub.pkey);
	free(p);
}
END_TEST

/* A coordinate sent shorter than the curve size is left-padded. */
START_TEST(ecc_short_coordinates_left_padded)
{
	uint8_t pt[65];
	struct tpm2_public pub;
	EVP_PKEY *k = NULL;
	size_t ptlen, i, n = 0;

	for (i = 0; i < 20000; i++) {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "prime256v1");
		ck_assert_ptr_nonnull(k);
		ck_assert_int_eq(EVP_PKEY_get_octet_string_param(k,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen), 1);
		if (pt[1] == 0)
			break;
		EVP_PKEY_free(k);
		k = NULL;
	}
	ck_assert_ptr_nonnull(k);
	/* TPMT_PUBLIC: ECC, sha256, AK attributes, no policy, NULL sym,
	 * ECDSA/sha256, P-256, NULL KDF, x without its zero byte, y. */
	static const uint8_t head[] = {
		0x00, 0x23, 0x00, 0x0b, 0x00, 0x05, 0x00, 0x72, 0x00, 0x00,
		0x00, 0x10, 0x00, 0x18, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x10,
	};
	uint8_t buf[2 + sizeof(head) + 2 + 31 + 2 + 32];

	n = 2;
	memcpy(buf + n, head, sizeof(head));
	n += sizeof(head);
	put16(buf + n, 31);
	memcpy(buf + n + 2, pt + 2, 31);
	n += 2 + 31;
	put16(buf + n, 32);
	memcpy(buf + n + 2, pt + 33, 32);
	n += 2 + 32;
	put16(buf, (uint16_t)(n - 2));
	ck_assert_int_eq(tpm2_public_parse(buf, n, &pub), ASSAY_OK);
	ck_assert_uint_eq(pub.ecc_x_len, 31);
	ck_assert_int_eq(tpm2_public_matches(&pub, k), ASSAY_OK);
	tpm2_public_free(&pub);
	EVP_PKEY_free(k);
}
END_TEST

START_TEST(keyedhash_object_unsupported)
{
	static const uint8_t kh[] = {
		0x00, 0x0e, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x72,
		0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
	};
	struct tpm2_public pub;

	ck_assert_int_eq(tpm2_public_parse(kh, sizeof(kh), &pub),
	    ASSAY_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(unknown_name_alg_unsupported)
{
	struct tpm2_public pub;
	uint8_t *p;
	size_t n;

	load("ak-ecc.pub", &p, &n);
	put16(p + 4, 0x0099);
	ck_assert_int_eq(tpm2_public_parse(p, n, &pub), ASSAY_ERR_UNSUPPORTED);
	free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tpm_public");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, parses_rsa_ek);
	tcase_add_test(tc, parses_ecc_ek);
	tcase_add_test(tc, ecc_ak_name_matches_tpm2_tools);
	tcase_add_test(tc, rsa_ak_name_matches_tpm2_tools);
	tcase_add_test(tc, ak_check_passes_for_aks);
	tcase_add_test(tc, ak_check_rejects_ek_for_decrypt);
	tcase_add_test(tc, ak_check_names_missing_fixedtpm);
	tcase_add_test(tc, ak_check_names_missing_restricted);
	tcase_add_test(tc, ak_check_refuses_sha1_name_alg);
	tcase_add_test(tc, matches_own_key_not_other_tpm);
	tcase_add_test(tc, truncated_bodies_rejected);
	tcase_add_test(tc, trailing_bytes_rejected);
	tcase_add_test(tc, oversized_public_rejected);
	tcase_add_test(tc, oversized_rsa_modulus_rejected);
	tcase_add_test(tc, rsa_modulus_not_matching_keybits_rejected);
	tcase_add_test(tc, oversized_ecc_coordinate_rejected);
	tcase_add_test(tc, ecc_point_not_on_curve_rejected);
	tcase_add_test(tc, ecc_short_coordinates_left_padded);
	tcase_add_test(tc, keyedhash_object_unsupported);
	tcase_add_test(tc, unknown_name_alg_unsupported);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
