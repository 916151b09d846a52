/*
 * test_buf.c — the bounds-checked cursor, the output buffer and the
 * hex/base64 codecs.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"

START_TEST(cur_reads_big_endian)
{
	static const uint8_t in[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
	struct cur c;
	uint32_t v32;
	uint16_t v16;
	uint64_t v64;

	cur_init(&c, in, sizeof(in));
	ck_assert_int_eq(cur_u64be(&c, &v64), ASSAY_OK);
	ck_assert(v64 == 0x123456789abcdef0ULL);
	cur_init(&c, in, sizeof(in));
	ck_assert_int_eq(cur_u16be(&c, &v16), ASSAY_OK);
	ck_assert_uint_eq(v16, 0x1234);
	ck_assert_int_eq(cur_u32le(&c, &v32), ASSAY_OK);
	ck_assert_uint_eq(v32, 0xbc9a7856);
	ck_assert_uint_eq(cur_left(&c), 2);
}
END_TEST

START_TEST(cur_short_read_is_truncated_and_keeps_position)
{
	static const uint8_t in[] = { 1, 2, 3 };
	struct cur c;
	uint32_t v;

	cur_init(&c, in, sizeof(in));
	ck_assert_int_eq(cur_u32be(&c, &v), ASSAY_ERR_TRUNCATED);
	ck_assert_uint_eq(cur_left(&c), 3);
	ck_assert_int_eq(cur_skip(&c, 4), ASSAY_ERR_TRUNCATED);
	ck_assert_uint_eq(cur_left(&c), 3);
	ck_assert_int_eq(cur_end(&c), ASSAY_ERR_FORMAT);
}
END_TEST

START_TEST(cur_tpm2b_checks_declared_size)
{
	static const uint8_t big[] = { 0x00, 0x05, 'a', 'b' };
	static const uint8_t toolong[] = { 0x01, 0x00, 'a' };
	static const uint8_t ok[] = { 0x00, 0x02, 'a', 'b', 'c' };
	struct cur c, s;

	cur_init(&c, big, sizeof(big));
	ck_assert_int_eq(cur_tpm2b(&c, 64, &s), ASSAY_ERR_TRUNCATED);
	ck_assert_uint_eq(cur_left(&c), sizeof(big));
	cur_init(&c, toolong, sizeof(toolong));
	ck_assert_int_eq(cur_tpm2b(&c, 64, &s), ASSAY_ERR_RANGE);
	cur_init(&c, ok, sizeof(ok));
	ck_assert_int_eq(cur_tpm2b(&c, 64, &s), ASSAY_OK);
	ck_assert_uint_eq(s.len, 2);
	ck_assert_int_eq(memcmp(s.p, "ab", 2), 0);
	ck_assert_uint_eq(cur_left(&c), 1);
}
END_TEST

START_TEST(buf_marshals_and_round_trips)
{
	struct buf b;
	struct cur c, s;
	uint32_t v;
	uint8_t *d;
	size_t n;

	buf_init(&b);
	buf_put_u32be(&b, 0xdeadbeef);
	buf_put_tpm2b(&b, "xyz", 3);
	for (int i = 0; i < 1000; i++)
		buf_put_u8(&b, (uint8_t)i);
	d = buf_steal(&b, &n);
	ck_assert_uint_eq(n, 4 + 2 + 3 + 1000);
	cur_init(&c, d, n);
	ck_assert_int_eq(cur_u32be(&c, &v), ASSAY_OK);
	ck_assert_uint_eq(v, 0xdeadbeef);
	ck_assert_int_eq(cur_tpm2b(&c, 10, &s), ASSAY_OK);
	ck_assert_uint_eq(s.len, 3);
	free(d);
	buf_free(&b);
}
END_TEST

START_TEST(hex_round_trip_and_rejects)
{
	uint8_t out[4];
	size_t n;
	char *s = hex_encode("\x01\xab\xff", 3);

	ck_assert_str_eq(s, "01abff");
	ck_assert_int_eq(hex_decode("01ABff", out, sizeof(out), &n), ASSAY_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(out, "\x01\xab\xff", 3), 0);
	ck_assert_int_eq(hex_decode("abc", out, sizeof(out), &n), ASSAY_ERR_FORMAT);
	ck_assert_int_eq(hex_decode("zz", out, sizeof(out), &n), ASSAY_ERR_FORMAT);
	ck_assert_int_eq(hex_decode("0011223344", out, sizeof(out), &n), ASSAY_ERR_RANGE);
	free(s);
}
END_TEST

START_TEST(base64_round_trip_and_rejects)
{
	static const char *cases[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	uint8_t *d;
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = base64_encode(cases[i], strlen(cases[i]));

		ck_assert_int_eq(base64_decode_alloc(s, 100, &d, &n), ASSAY_OK);
		ck_assert_uint_eq(n, strlen(cases[i]));
		ck_assert_int_eq(memcmp(d, cases[i], n), 0);
		free(d);
		free(s);
	}
	ck_assert_int_eq(base64_decode_alloc("Zm9", 100, &d, &n), ASSAY_ERR_FORMAT);
	ck_assert_int_eq(base64_decode_alloc("Zm=v", 100, &d, &n), ASSAY_ERR_FORMAT);
	ck_assert_int_eq(base64_decode_alloc("Zm9v!A==", 100, &d, &n), ASSAY_ERR_FORMAT);
	ck_assert_int_eq(base64_decode_alloc("Zm9vYmFy", 3, &d, &n), ASSAY_ERR_RANGE);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, cur_reads_big_endian);
	tcase_add_test(tc, cur_short_read_is_truncated_and_keeps_position);
	tcase_add_test(tc, cur_tpm2b_checks_declared_size);
	tcase_add_test(tc, buf_marshals_and_round_trips);
	tcase_add_test(tc, hex_round_trip_and_rejects);
	tcase_add_test(tc, base64_round_trip_and_rejects);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
