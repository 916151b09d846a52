/*
 * test_ima_sig.c — IMA/EVM signature parsing and verification against real
 * vectors: the IBM ACS signed ima-sig list with its certificate, and
 * evmctl-made RSA-2048 / ECDSA P-256 signatures (tests/data/ima/).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/ima_sig.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"

static void
load(const char *name, uint8_t **p, size_t *n)
{
	const char *dir = getenv("ASSAY_TEST_DATA");
	char *path = xasprintf("%s/ima/%s", dir ? dir : "tests/data", name);
	FILE *f = fopen(path, "rb");
	long sz;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	*p = xmalloc(sz > 0 ? (size_t)sz : 1);
	*n = fread(*p, 1, (size_t)sz, f);
	fclose(f);
	free(path);
}

static struct ima_key
key(const char *name)
{
	struct ima_key k;
	uint8_t *p;
	size_t n;
	int r;

	load(name, &p, &n);
	r = ima_key_load(p, n, &k);
	ck_assert_msg(r == ASSAY_OK, "%s: %s", name, assay_err_detail());
	free(p);
	return k;
}

/* One ima-sig entry of a binary list: its d-ng digest and sig field. */
struct sig_entry {
	uint16_t	dalg;
	struct cur	digest;
	struct cur	sig;
};

static int
next_field(struct cur *c, struct cur *f)
{
	uint32_t n;

	return cur_u32le(c, &n) != 0 || cur_bytes(c, n, f) != 0;
}

/* Minimal ima-sig reader for the tests (the real parser is ima.c). */
static size_t
read_sig_list(const uint8_t *p, size_t n, struct sig_entry *out, size_t max)
{
	struct cur c, tn, td, d, name;
	uint32_t pcr;
	size_t k = 0;
	const uint8_t *colon;

	cur_init(&c, p, n);
	while (k < max && cur_left(&c) > 0) {
		if (cur_u32le(&c, &pcr) != 0 || cur_skip(&c, 20) != 0 ||
		    next_field(&c, &tn) != 0 || next_field(&c, &td) != 0)
			break;
		if (tn.len != 7 || memcmp(tn.p, "ima-sig", 7) != 0)
			continue;
		if (next_field(&td, &d) != 0 || next_field(&td, &name) != 0 ||
		    next_field(&td, &out[k].sig) != 0)
			continue;
		if ((colon = memchr(d.p, ':', d.len)) == NULL)
			continue;
		out[k].dalg = (colon - d.p == 6 && memcmp(d.p, "sha256", 6) == 0) ?
		    TPM2_ALG_SHA256 : TPM2_ALG_SHA1;
		cur_init(&out[k].digest, colon + 2,
		    d.len - (size_t)(colon + 2 - d.p));
		k++;
	}
	return k;
}

START_TEST(ibm_acs_signatures_verify_with_cert)
{
	struct sig_entry *e = xcalloc(2000, sizeof(*e));
	struct ima_key k = key("imakey.der");
	struct ima_sig s;
	size_t n, i, nsig = 0, mine = 0, ok = 0, len;
	uint8_t *p;

	load("imasig.log", &p, &len);
	n = read_sig_list(p, len, e, 2000);
	ck_assert_uint_eq(n, 1083);
	for (i = 0; i < n; i++) {
		if (e[i].sig.len == 0)
			continue;
		nsig++;
		ck_assert_int_eq(ima_sig_parse(e[i].sig.p, e[i].sig.len, &s),
		    ASSAY_OK);
		if (!ima_key_has_id(&k, s.keyid))
			continue;	/* a few entries use another key */
		mine++;
		if (ima_sig_verify(&s, k.pkey, e[i].dalg, e[i].digest.p,
		    e[i].digest.len) == ASSAY_OK)
			ok++;
	}
	ck_assert_uint_eq(nsig, 899);
	/* Two entries are signed by another key, one file changed later. */
	ck_assert_uint_eq(mine, 897);
	ck_assert_uint_eq(ok, 896);
	free(p);
	free(e);
	ima_key_clear(&k);
}
END_TEST

START_TEST(ibm_acs_flipped_digest_byte_fails)
{
	struct sig_entry *e = xcalloc(2000, sizeof(*e));
	struct ima_key k = key("imakey.der");
	struct ima_sig s;
	uint8_t d[TPM2_MAX_DIGEST], *p;
	size_t n, i, len;

	load("imasig.log", &p, &len);
	n = read_sig_list(p, len, e, 2000);
	for (i = 0; i < n; i++) {
		if (e[i].sig.len == 0 || ima_sig_parse(e[i].sig.p,
		    e[i].sig.len, &s) != 0 || ima_sig_verify(&s, k.pkey,
		    e[i].dalg, e[i].digest.p, e[i].digest.len) != ASSAY_OK)
			continue;
		memcpy(d, e[i].digest.p, e[i].digest.len);
		d[3] ^= 0x01;
		ck_assert_int_eq(ima_sig_verify(&s, k.pkey, e[i].dalg, d,
		    e[i].digest.len), ASSAY_FAIL);
		break;
	}
	ck_assert_uint_lt(i, n);
	free(e);
	free(p);
	ima_key_clear(&k);
}
END_TEST

START_TEST(ibm_acs_flipped_signature_byte_fails)
{
	struct sig_entry *e = xcalloc(2000, sizeof(*e));
	struct ima_key k = key("imakey.der");
	struct ima_sig s;
	uint8_t *p, *copy;
	size_t n, i, len;

	load("imasig.log", &p, &len);
	n = read_sig_list(p, len, e, 2000);
	for (i = 0; i < n; i++) {
		if (e[i].sig.len == 0 || ima_sig_parse(e[i].sig.p,
		    e[i].sig.len, &s) != 0 || ima_sig_verify(&s, k.pkey,
		    e[i].dalg, e[i].digest.p, e[i].digest.len) != ASSAY_OK)
			continue;
		copy = xmemdup(e[i].sig.p, e[i].sig.len);
		copy[e[i].sig.len - 5] ^= 0x80;
		ck_assert_int_eq(ima_sig_parse(copy, e[i].sig.len, &s), ASSAY_OK);
		ck_assert_int_eq(ima_sig_verify(&s, k.pkey, e[i].dalg,
		    e[i].digest.p, e[i].digest.len), ASSAY_FAIL);
		free(copy);
		break;
	}
	ck_assert_uint_lt(i, n);
	free(e);
	free(p);
	ima_key_clear(&k);
}
END_TEST

/* evmctl vector: signature file, public key, file digest. */
static void
evm_vector(const char *alg, struct ima_key *k, uint8_t **sig, size_t *siglen,
    uint8_t d[32])
{
	char name[64];
	uint8_t *hex;
	size_t n, dlen;

	snprintf(name, sizeof(name), "evm-%s.pub", alg);
	*k = key(name);
	snprintf(name, sizeof(name), "evm-file.%s.sig", alg);
	load(name, sig, siglen);
	load("evm-file.sha256", &hex, &n);
	hex[64] = '\0';
	ck_assert_int_eq(hex_decode((char *)hex, d, 32, &dlen), 0);
	ck_assert_uint_eq(dlen, 32);
	free(hex);
}

static void
evm_check(const char *alg)
{
	struct ima_key k;
	struct ima_sig s;
	uint8_t d[32], *sig;
	size_t n;

	evm_vector(alg, &k, &sig, &n, d);
	ck_assert_int_eq(ima_sig_parse(sig, n, &s), ASSAY_OK);
	ck_assert_uint_eq(s.hash_algo, IMA_HASH_SHA256);
	ck_assert_msg(ima_key_has_id(&k, s.keyid), "keyid %08x", s.keyid);
	ck_assert_int_eq(ima_sig_verify(&s, k.pkey, TPM2_ALG_SHA256, d, 32),
	    ASSAY_OK);
	d[31] ^= 1;
	ck_assert_int_eq(ima_sig_verify(&s, k.pkey, TPM2_ALG_SHA256, d, 32),
	    ASSAY_FAIL);
	free(sig);
	ima_key_clear(&k);
}

START_TEST(evmctl_rsa_signature_verifies)
{
	evm_check("rsa");
}
END_TEST

START_TEST(evmctl_ecdsa_p256_signature_verifies)
{
	evm_check("ec");
}
END_TEST

START_TEST(signature_with_other_key_fails)
{
	struct ima_key k, other;
	struct ima_sig s;
	uint8_t d[32], *sig;
	size_t n;

	evm_vector("rsa", &k, &sig, &n, d);
	other = key("imakey.der");
	ck_assert_int_eq(ima_sig_parse(sig, n, &s), ASSAY_OK);
	ck_assert(!ima_key_has_id(&other, s.keyid));
	ck_assert_int_eq(ima_sig_verify(&s, other.pkey, TPM2_ALG_SHA256, d, 32),
	    ASSAY_FAIL);
	free(sig);
	ima_key_clear(&k);
	ima_key_clear(&other);
}
END_TEST

START_TEST(signature_hash_other_than_digest_fails)
{
	struct ima_key k;
	struct ima_sig s;
	uint8_t d[32], *sig;
	size_t n;

	evm_vector("ec", &k, &sig, &n, d);
	ck_assert_int_eq(ima_sig_parse(sig, n, &s), ASSAY_OK);
	ck_assert_int_eq(ima_sig_verify(&s, k.pkey, TPM2_ALG_SHA1, d, 20),
	    ASSAY_FAIL);
	free(sig);
	ima_key_clear(&k);
}
END_TEST

START_TEST(parse_rejects_bad_headers)
{
	uint8_t b[16] = { 3, 2, 4, 1, 2, 3, 4, 0, 4, 0xaa, 0xbb, 0xcc, 0xdd };
	struct ima_sig s;

	ck_assert_int_eq(ima_sig_parse(b, 13, &s), ASSAY_OK);
	ck_assert_uint_eq(s.keyid, 0x01020304);
	ck_assert_uint_eq(s.sig.len, 4);
	ck_assert_int_eq(ima_sig_parse(b, 8, &s), ASSAY_ERR_TRUNCATED);
	ck_assert_int_eq(ima_sig_parse(b, 12, &s), ASSAY_ERR_TRUNCATED);
	ck_assert_int_eq(ima_sig_parse(b, 14, &s), ASSAY_ERR_FORMAT);
	b[0] = 4;
	ck_assert_int_eq(ima_sig_parse(b, 13, &s), ASSAY_ERR_UNSUPPORTED);
	b[0] = 3;
	b[1] = 1;
	ck_assert_int_eq(ima_sig_parse(b, 13, &s), ASSAY_ERR_UNSUPPORTED);
	b[1] = 2;
	b[2] = 0;	/* md4 */
	ck_assert_int_eq(ima_sig_parse(b, 13, &s), ASSAY_ERR_UNSUPPORTED);
	b[2] = 4;
	b[7] = b[8] = 0;
	ck_assert_int_eq(ima_sig_parse(b, 9, &s), ASSAY_ERR_FORMAT);
}
END_TEST

START_TEST(key_load_rejects_garbage)
{
	static const char pem[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n"
	    "-----END PUBLIC KEY-----\n";
	struct ima_key k;

	ck_assert_int_eq(ima_key_load((const uint8_t *)"xyz", 3, &k),
	    ASSAY_ERR_FORMAT);
	ck_assert_int_eq(ima_key_load((const uint8_t *)pem, sizeof(pem) - 1,
	    &k), ASSAY_ERR_FORMAT);
	ck_assert_ptr_null(k.pkey);
}
END_TEST

START_TEST(hash_algo_numbers_match_kernel)
{
	ck_assert_uint_eq(ima_hash_algo_to_tpm(2), TPM2_ALG_SHA1);
	ck_assert_uint_eq(ima_hash_algo_to_tpm(4), TPM2_ALG_SHA256);
	ck_assert_uint_eq(ima_hash_algo_to_tpm(5), TPM2_ALG_SHA384);
	ck_assert_uint_eq(ima_hash_algo_to_tpm(6), TPM2_ALG_SHA512);
	ck_assert_uint_eq(ima_hash_algo_to_tpm(3), 0);
	ck_assert_int_eq(ima_hash_algo_from_tpm(TPM2_ALG_SHA256), 4);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("ima_sig");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ibm_acs_signatures_verify_with_cert);
	tcase_add_test(tc, ibm_acs_flipped_digest_byte_fails);
	tcase_add_test(tc, ibm_acs_flipped_signature_byte_fails);
	tcase_add_test(tc, evmctl_rsa_signature_verifies);
	tcase_add_test(tc, evmctl_ecdsa_p256_signature_verifies);
	tcase_add_test(tc, signature_with_other_key_fails);
	tcase_add_test(tc, signature_hash_other_than_digest_fails);
	tcase_add_test(tc, parse_rejects_bad_headers);
	tcase_add_test(tc, key_load_rejects_garbage);
	tcase_add_test(tc, hash_algo_numbers_match_kernel);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int nfail;

	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
