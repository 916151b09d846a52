/*
 * test_ima_replay.c — replay of IMA lists into PCR 10: recorded PCR 10
 * values of real machines (guard-oss) in SHA-1 and SHA-256 banks, both
 * kernel extend schemes on generated lists, violations, the longest
 * matching prefix across rounds, tamper detection, boot_aggregate.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/xmalloc.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "tests/unit/ima_gen.h"

static char *
data_path(const char *name)
{
	const char *dir = getenv("ASSAY_TEST_DATA");

	return xasprintf("%s/ima/%s", dir ? dir : "tests/data", name);
}

static uint8_t *
load(const char *name, size_t *n)
{
	char *path = data_path(name);
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long sz;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	p = xmalloc(sz > 0 ? (size_t)sz : 1);
	ck_assert_uint_eq(fread(p, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	free(path);
	*n = (size_t)sz;
	return p;
}

/* recorded PCR value from a guard-oss .pcrs.json */
static size_t
recorded_pcr(const char *base, const char *bank, int pcr, uint8_t *out)
{
	char *name = xasprintf("%s.pcrs.json", base), *path = data_path(name);
	char idx[16];
	json_t *j = json_load_file(path, 0, NULL);
	const char *hex;
	size_t i, n;

	ck_assert_ptr_nonnull(j);
	snprintf(idx, sizeof(idx), "%d", pcr);
	hex = json_string_value(json_object_get(json_object_get(json_object_get(j,
	    "banks"), bank), idx));
	ck_assert_ptr_nonnull(hex);
	n = strlen(hex) / 2;
	for (i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
	json_decref(j);
	free(path);
	free(name);
	return n;
}

static void
load_list(const char *file, struct ima_list *l, uint8_t **p)
{
	size_t n;

	*p = load(file, &n);
	ck_assert_int_eq(ima_parse_binary(*p, n, TPM2_ALG_SHA1, l, NULL), ASSAY_OK);
}

static const char *recorded[] = {
	"h12ssl.values", "dl160-fwupd-report.evidence", "hahuri-invalid-eventlog.values",
};

START_TEST(guard_oss_list_reproduces_recorded_sha1_pcr10)
{
	char *file = xasprintf("%s.binary_runtime_measurements", recorded[_i]);
	struct ima_list l;
	struct ima_replay r;
	uint8_t q[TPM2_MAX_DIGEST], *p;
	size_t ql, acc, bad;

	load_list(file, &l, &p);
	ql = recorded_pcr(recorded[_i], "sha1", 10, q);
	ima_replay_init(&r, TPM2_ALG_SHA1, IMA_EXTEND_AUTO);
	ck_assert_msg(ima_replay(&r, &l, q, ql, &acc, &bad) == ASSAY_OK, "%s",
	    assay_err_detail());
	ck_assert_uint_eq(acc, l.n);
	ck_assert_uint_eq(r.count, l.n);
	ck_assert(memcmp(r.pcr, q, ql) == 0);
	ima_list_free(&l);
	free(p);
	free(file);
}
END_TEST

/* Ubuntu 20.04.3 (5.x kernel after 5.8): the SHA-256 bank got the
 * SHA-256 hash of each template: AUTO settles on BANK_HASH. */
START_TEST(h12ssl_sha256_bank_replays_with_bank_hash)
{
	struct ima_list l;
	struct ima_replay r;
	uint8_t q[TPM2_MAX_DIGEST], *p;
	size_t ql, acc, bad;

	load_list("h12ssl.values.binary_runtime_measurements", &l, &p);
	ql = recorded_pcr("h12ssl.values", "sha256", 10, q);
	ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_AUTO);
	ck_assert_int_eq(ima_replay(&r, &l, q, ql, &acc, &bad), ASSAY_OK);
	ck_assert_uint_eq(acc, l.n);
	ck_assert_int_eq(r.scheme, IMA_EXTEND_BANK_HASH);
	ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_SHA1_PADDED);
	ck_assert_int_eq(ima_replay(&r, &l, q, ql, &acc, &bad), ASSAY_FAIL);
	ck_assert_uint_eq(r.count, 0);
	ima_list_free(&l);
	free(p);
}
END_TEST

/* independent expected value: one-shot hashes, no replay code */
static void
expect_pcr(const struct ima_list *l, uint16_t bank, int scheme, size_t upto,
    uint8_t *pcr)
{
	size_t bs = tpm2_hash_by_alg(bank)->size, i, dl;
	uint8_t cat[2 * TPM2_MAX_DIGEST], d[TPM2_MAX_DIGEST];

	memset(pcr, 0, bs);
	for (i = 0; i < upto; i++) {
		if (l->e[i].violation) {
			memset(d, 0, bs);
			memset(d, 0xff, scheme == IMA_EXTEND_SHA1_PADDED ? 20 : bs);
		}
		else if (scheme == IMA_EXTEND_BANK_HASH)
			tpm2_hash(bank, l->e[i].tdata.p, l->e[i].tdata.len, d, &dl);
		else {
			memset(d, 0, bs);
			tpm2_hash(TPM2_ALG_SHA1, l->e[i].tdata.p, l->e[i].tdata.len, d, &dl);
		}
		memcpy(cat, pcr, bs);
		memcpy(cat + bs, d, bs);
		tpm2_hash(bank, cat, 2 * bs, pcr, &dl);
	}
}

START_TEST(auto_scheme_picks_whichever_scheme_reproduces)
{
	static const int schemes[] = { IMA_EXTEND_BANK_HASH, IMA_EXTEND_SHA1_PADDED };
	struct buf b;
	struct ima_list l;
	struct ima_replay r;
	uint8_t q[TPM2_MAX_DIGEST];
	size_t acc, bad;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA256, 40, 0);
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA256, &l, NULL), ASSAY_OK);
	expect_pcr(&l, TPM2_ALG_SHA256, schemes[_i], l.n, q);
	ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_AUTO);
	ck_assert_int_eq(ima_replay(&r, &l, q, 32, &acc, &bad), ASSAY_OK);
	ck_assert_uint_eq(acc, 40);
	ck_assert_int_eq(r.scheme, schemes[_i]);
	ima_list_free(&l);
	buf_free(&b);
}
END_TEST

START_TEST(violation_extends_all_ff)
{
	struct buf b;
	struct ima_list l;
	struct ima_replay r;
	uint8_t q[TPM2_MAX_DIGEST], cat[64], d[32];
	size_t acc, bad, dl;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA1, 2, 2);	/* entry 1 is a violation */
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA1, &l, NULL), ASSAY_OK);
	ck_assert(l.e[1].violation);
	ck_assert_int_eq(ima_entry_extend_digest(&l.e[1], TPM2_ALG_SHA1,
	    TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH, d, &dl), ASSAY_OK);
	ck_assert_uint_eq(dl, 32);
	memset(cat, 0xff, sizeof(cat));
	ck_assert(memcmp(d, cat, 32) == 0);
	/* PCR = H(H(0 || d0) || ff..ff) in sha256 */
	memset(cat, 0, 32);
	tpm2_hash(TPM2_ALG_SHA256, l.e[0].tdata.p, l.e[0].tdata.len, cat + 32, &dl);
	tpm2_hash(TPM2_ALG_SHA256, cat, 64, cat, &dl);
	memset(cat + 32, 0xff, 32);
	tpm2_hash(TPM2_ALG_SHA256, cat, 64, q, &dl);
	ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH);
	ck_assert_int_eq(ima_replay(&r, &l, q, 32, &acc, &bad), ASSAY_OK);
	ck_assert_uint_eq(acc, 2);
	ima_list_free(&l);
	buf_free(&b);
}
END_TEST

START_TEST(longer_list_accepts_quoted_prefix_and_continues_next_round)
{
	struct buf b;
	struct ima_list l, rest;
	struct ima_replay r;
	uint8_t q[TPM2_MAX_DIGEST];
	size_t acc, bad;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA1, 30, 9);
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA1, &l, NULL), ASSAY_OK);
	expect_pcr(&l, TPM2_ALG_SHA256, IMA_EXTEND_SHA1_PADDED, 17, q);
	ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_AUTO);
	ck_assert_int_eq(ima_replay(&r, &l, q, 32, &acc, &bad), ASSAY_OK);
	ck_assert_uint_eq(acc, 17);
	ck_assert_uint_eq(r.count, 17);
	ck_assert_int_eq(r.scheme, IMA_EXTEND_SHA1_PADDED);
	/* next round: the entries after the accepted prefix */
	rest = l;
	rest.e = l.e + 17;
	rest.n = l.n - 17;
	expect_pcr(&l, TPM2_ALG_SHA256, IMA_EXTEND_SHA1_PADDED, 30, q);
	ck_assert_int_eq(ima_replay(&r, &rest, q, 32, &acc, &bad), ASSAY_OK);
	ck_assert_uint_eq(acc, 13);
	ck_assert_uint_eq(r.count, 30);
	ima_list_free(&l);
	buf_free(&b);
}
END_TEST

START_TEST(no_matching_prefix_fails_and_keeps_state)
{
	struct buf b;
	struct ima_list l;
	struct ima_replay r, before;
	uint8_t q[32];
	size_t acc, bad;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA256, 5, 0);
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA256, &l, NULL), ASSAY_OK);
	memset(q, 0x5a, sizeof(q));
	ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_AUTO);
	before = r;
	ck_assert_int_eq(ima_replay(&r, &l, q, 32, &acc, &bad), ASSAY_FAIL);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "does not reproduce"));
	ck_assert(memcmp(&r, &before, sizeof(r)) == 0);
	ck_assert_uint_eq(acc, 0);
	ck_assert_int_eq(ima_replay(&r, &l, q, 20, &acc, &bad), ASSAY_ERR_INVAL);
	ima_list_free(&l);
	buf_free(&b);
}
END_TEST

START_TEST(tampered_template_data_fails_replay_with_entry_index)
{
	struct buf b;
	struct ima_list l;
	struct ima_replay r;
	uint8_t q[32];
	size_t acc, bad;

	buf_init(&b);
	gen_list(&b, TPM2_ALG_SHA256, 8, 0);
	ck_assert_int_eq(ima_parse_binary(b.d, b.len, TPM2_ALG_SHA256, &l, NULL), ASSAY_OK);
	expect_pcr(&l, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH, 8, q);
	/* flip a path byte of entry 3 in the caller's buffer */
	((uint8_t *)l.e[3].name.p)[5] ^= 1;
	ima_replay_init(&r, TPM2_ALG_SHA256, IMA_EXTEND_AUTO);
	ck_assert_int_eq(ima_replay(&r, &l, q, 32, &acc, &bad), ASSAY_FAIL);
	ck_assert_uint_eq(bad, 3);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "IMA entry 3"));
	ck_assert_uint_eq(r.count, 0);
	ima_list_free(&l);
	buf_free(&b);
}
END_TEST

/* The first entry of each list is boot_aggregate: H(PCR0..7) in SHA-1,
 * H(PCR0..9) in SHA-256 (hahuri: sha256 file digests). */
START_TEST(boot_aggregate_matches_recorded_pcrs)
{
	static const struct { const char *base; const char *bank; uint16_t alg; }
	    v[] = {
		{ "h12ssl.values", "sha1", TPM2_ALG_SHA1 },
		{ "dl160-fwupd-report.evidence", "sha1", TPM2_ALG_SHA1 },
		{ "hahuri-invalid-eventlog.values", "sha256", TPM2_ALG_SHA256 },
	};
	char *file = xasprintf("%s.binary_runtime_measurements", v[_i].base);
	uint8_t pcrv[10][TPM2_MAX_DIGEST], out[TPM2_MAX_DIGEST], *p;
	const uint8_t *pcrs[10];
	struct ima_list l;
	size_t ol;
	int i;

	for (i = 0; i < 10; i++) {
		recorded_pcr(v[_i].base, v[_i].bank, i, pcrv[i]);
		pcrs[i] = pcrv[i];
	}
	load_list(file, &l, &p);
	ck_assert(l.e[0].name.len == 14 && memcmp(l.e[0].name.p, "boot_aggregate", 14) == 0);
	ck_assert_int_eq(ima_boot_aggregate(v[_i].alg, pcrs, out, &ol), ASSAY_OK);
	ck_assert_uint_eq(ol, l.e[0].digest.len);
	ck_assert(memcmp(out, l.e[0].digest.p, ol) == 0);
	ima_list_free(&l);
	free(p);
	free(file);
}
END_TEST

/* vectors from the openssl command line: PCR i = 32 (20) bytes of value i;
 * `for i in 0..9: head -c 32 /dev/zero | tr '\0' "\\00i"` | openssl dgst */
START_TEST(boot_aggregate_known_vectors)
{
	static const uint8_t s256[32] = {
		0xa4, 0xcc, 0x72, 0x13, 0xa9, 0x8b, 0xc9, 0x2e, 0x11, 0x3d, 0xad,
		0x44, 0xef, 0x63, 0x11, 0x38, 0x26, 0xa1, 0x6c, 0x3a, 0x6c, 0xa5,
		0x51, 0xd2, 0xb7, 0x62, 0x44, 0xa4, 0x9a, 0xe0, 0x43, 0xdd };
	static const uint8_t s1[20] = {
		0x59, 0x34, 0x82, 0x02, 0x94, 0x7a, 0x48, 0xbc, 0x93, 0xf8, 0x82,
		0x7c, 0x12, 0xeb, 0x3f, 0x1b, 0x24, 0xa0, 0x72, 0xd2 };
	uint8_t v[10][32], out[64];
	const uint8_t *pcrs[10];
	size_t ol;
	int i;

	for (i = 0; i < 10; i++) {
		memset(v[i], i, 32);
		pcrs[i] = v[i];
	}
	ck_assert_int_eq(ima_boot_aggregate(TPM2_ALG_SHA256, pcrs, out, &ol), ASSAY_OK);
	ck_assert(ol == 32 && memcmp(out, s256, 32) == 0);
	ck_assert_int_eq(ima_boot_aggregate(TPM2_ALG_SHA1, pcrs, out, &ol), ASSAY_OK);
	ck_assert(ol == 20 && memcmp(out, s1, 20) == 0);
}
END_TEST

START_TEST(ascii_and_binary_replay_to_same_pcr)
{
	struct ima_list lb, la;
	struct buf txt;
	uint8_t *p, a[64], bb[64];
	size_t al, bl, bad;

	load_list("sr630.binary_runtime_measurements", &lb, &p);
	buf_init(&txt);
	gen_ascii(&txt, &lb);
	ck_assert_int_eq(ima_parse_ascii((const char *)txt.d, txt.len, &la), ASSAY_OK);
	ck_assert_int_eq(ima_replay_all(&lb, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH,
	    bb, &bl, &bad), ASSAY_OK);
	ck_assert_int_eq(ima_replay_all(&la, TPM2_ALG_SHA256, IMA_EXTEND_BANK_HASH,
	    a, &al, &bad), ASSAY_OK);
	ck_assert(al == bl && memcmp(a, bb, al) == 0);
	buf_free(&txt);
	ima_list_free(&la);
	ima_list_free(&lb);
	free(p);
}
END_TEST

static Suite *
ima_replay_suite(void)
{
	Suite *s = suite_create("ima_replay");
	TCase *tc = tcase_create("replay");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, guard_oss_list_reproduces_recorded_sha1_pcr10, 0, 3);
	tcase_add_test(tc, h12ssl_sha256_bank_replays_with_bank_hash);
	tcase_add_loop_test(tc, auto_scheme_picks_whichever_scheme_reproduces, 0, 2);
	tcase_add_test(tc, violation_extends_all_ff);
	tcase_add_test(tc, longer_list_accepts_quoted_prefix_and_continues_next_round);
	tcase_add_test(tc, no_matching_prefix_fails_and_keeps_state);
	tcase_add_test(tc, tampered_template_data_fails_replay_with_entry_index);
	tcase_add_loop_test(tc, boot_aggregate_matches_recorded_pcrs, 0, 3);
	tcase_add_test(tc, boot_aggregate_known_vectors);
	tcase_add_test(tc, ascii_and_binary_replay_to_same_pcr);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(ima_replay_suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
