/*
 * test_eventlog.c — event log parsing (malformations give their precise
 * error), replay rules (StartupLocality, PCRs 17-22, EV_NO_ACTION, SHA-1
 * logs), the check against quoted PCRs, and the data-digest rules.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/encode.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "eventlog_fixture.h"

static const uint8_t sep[4] = { 0, 0, 0, 0 };

static int
parse_buf(struct buf *b, struct eventlog *el)
{
	return eventlog_parse(b->d, b->len, el);
}

START_TEST(parse_refuses_empty_log)
{
	struct eventlog el;

	ck_assert_int_eq(eventlog_parse((const uint8_t *)"", 0, &el),
	    ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "empty"));
}
END_TEST

/* Only the Spec ID event: valid, and it replays to the initial values. */
START_TEST(parse_accepts_spec_id_only_log)
{
	static const uint8_t zero[32], ones[32] = {
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct eventlog el;
	struct el_pcrs rp;
	struct buf b;
	uint8_t *d;
	size_t n;

	fx_sha256_only(&b);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	ck_assert_uint_eq(el.n, 0);
	ck_assert_int_eq(eventlog_replay(&el, &rp), ASSAY_OK);
	ck_assert_mem_eq(rp.bank[0].v[0], zero, 32);
	ck_assert_mem_eq(rp.bank[0].v[17], ones, 32);
	ck_assert_uint_eq(rp.bank[0].touched, 0);
	eventlog_free(&el);
	buf_free(&b);
	/* tpm2-tss's test vector: a Spec ID event with vendor data, no events */
	d = fx_read("tpm2-tss/specid-vendordata.bin", &n);
	ck_assert_int_eq(eventlog_parse(d, n, &el), ASSAY_OK);
	ck_assert_uint_eq(el.n, 0);
	ck_assert_uint_gt(el.vendor_info.len, 0);
	eventlog_free(&el);
	free(d);
	/* padding alone, no Spec ID event: no log at all */
	b.len = 0;
	buf_init(&b);
	for (int i = 0; i < 64; i++)
		buf_put_u8(&b, 0);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "neither a Spec ID"));
	buf_free(&b);
}
END_TEST

START_TEST(parse_refuses_truncated_event)
{
	struct eventlog el;
	struct buf b;

	fx_sha256_only(&b);
	fx_event2(&b, 4, EV_SEPARATOR, 1, sep, 4);
	b.len -= 1;
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_ERR_TRUNCATED);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "event 0 at offset"));
	buf_free(&b);
}
END_TEST

START_TEST(parse_refuses_size_beyond_buffer)
{
	struct eventlog el;
	struct buf b;
	size_t at;

	fx_sha256_only(&b);
	at = b.len + 4 + 4 + 4 + 2 + 32;
	fx_event2(&b, 4, EV_SEPARATOR, 1, sep, 4);
	b.d[at] = 0x40;		/* data size 0x40 with 4 bytes left */
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_ERR_TRUNCATED);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "larger than"));
	b.d[at + 3] = 0x7f;	/* and over the 1 MiB bound */
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "limit"));
	buf_free(&b);
}
END_TEST

START_TEST(parse_refuses_trailing_garbage)
{
	struct eventlog el;
	struct buf b;

	fx_sha256_only(&b);
	fx_event2(&b, 4, EV_SEPARATOR, 1, sep, 4);
	buf_put(&b, "\x01\x02\x03", 3);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "trailing garbage"));
	buf_free(&b);
}
END_TEST

START_TEST(parse_accepts_zero_and_ff_padding)
{
	static const uint8_t z[64], ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff };
	struct eventlog el;
	struct buf b;

	fx_sha256_only(&b);
	fx_event2(&b, 4, EV_SEPARATOR, 1, sep, 4);
	buf_put(&b, z, sizeof(z));
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	ck_assert_uint_eq(el.n, 1);
	eventlog_free(&el);
	b.len -= sizeof(z);
	buf_put(&b, ff, sizeof(ff));
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	eventlog_free(&el);
	buf_free(&b);
}
END_TEST

START_TEST(parse_refuses_unknown_bank)
{
	static const uint16_t a[] = { 0x000b, 0x0099 }, s[] = { 32, 32 };
	struct eventlog el;
	struct buf b;

	buf_init(&b);
	fx_specid(&b, a, s, 2);
	fx_event2(&b, 4, EV_SEPARATOR, 1, sep, 4);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "unknown bank 0x0099"));
	buf_free(&b);
}
END_TEST

START_TEST(parse_refuses_digest_of_unannounced_bank)
{
	static const uint16_t a[] = { 0x0004 }, s[] = { 20 };
	struct eventlog el;
	struct buf b;

	buf_init(&b);
	fx_specid(&b, a, s, 1);
	fx_event2(&b, 4, EV_SEPARATOR, 1, sep, 4);	/* a sha256 digest */
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "did not announce"));
	buf_free(&b);
}
END_TEST

START_TEST(parse_refuses_bank_with_wrong_size)
{
	static const uint16_t a[] = { 0x000b }, s[] = { 20 };
	struct eventlog el;
	struct buf b;

	buf_init(&b);
	fx_specid(&b, a, s, 1);
	fx_event2(&b, 4, EV_SEPARATOR, 1, sep, 4);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "digest size 20"));
	buf_free(&b);
}
END_TEST

static void
expect_extend(uint16_t alg, const uint8_t *init, uint8_t fill, uint8_t *out)
{
	uint8_t in[64], d[32];
	size_t len;

	memcpy(in, init, 32);
	memset(d, fill, 32);
	memcpy(in + 32, d, 32);
	tpm2_hash(alg, in, 64, out, &len);
}

START_TEST(startup_locality_3_seeds_pcr0)
{
	static const char loc[17] = "StartupLocality\0\x03";
	struct eventlog el;
	struct el_pcrs rp;
	struct buf b;
	uint8_t init[32] = { 0 }, want[32];

	fx_sha256_only(&b);
	fx_event2(&b, 0, EV_NO_ACTION, 0, loc, sizeof(loc));
	fx_event2(&b, 0, EV_S_CRTM_VERSION, 7, "v1", 2);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	ck_assert_int_eq(el.has_locality, 1);
	ck_assert_uint_eq(el.startup_locality, 3);
	ck_assert_int_eq(eventlog_replay(&el, &rp), ASSAY_OK);
	init[31] = 3;
	expect_extend(TPM2_ALG_SHA256, init, 7, want);
	ck_assert_mem_eq(rp.bank[0].v[0], want, 32);
	eventlog_free(&el);
	buf_free(&b);
}
END_TEST

START_TEST(pcrs_17_to_22_start_at_ones)
{
	struct eventlog el;
	struct el_pcrs rp;
	struct buf b;
	uint8_t ones[32], want[32];

	memset(ones, 0xff, sizeof(ones));
	fx_sha256_only(&b);
	fx_event2(&b, 17, EV_EVENT_TAG, 5, "x", 1);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	ck_assert_int_eq(eventlog_replay(&el, &rp), ASSAY_OK);
	expect_extend(TPM2_ALG_SHA256, ones, 5, want);
	ck_assert_mem_eq(rp.bank[0].v[17], want, 32);
	ck_assert_mem_eq(rp.bank[0].v[22], ones, 32);
	ck_assert_uint_eq(rp.bank[0].touched, 1u << 17);
	eventlog_free(&el);
	buf_free(&b);
}
END_TEST

START_TEST(no_action_events_are_not_extended)
{
	struct eventlog el;
	struct el_pcrs rp;
	struct buf b;
	uint8_t zero[32] = { 0 };

	fx_sha256_only(&b);
	fx_event2(&b, 1, EV_NO_ACTION, 9, "SP800-155 Event3", 16);
	fx_event2(&b, 2, EV_SEPARATOR, 9, sep, 4);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	ck_assert_int_eq(eventlog_replay(&el, &rp), ASSAY_OK);
	ck_assert_mem_eq(rp.bank[0].v[1], zero, 32);
	ck_assert_uint_eq(rp.bank[0].touched, 1u << 2);
	eventlog_free(&el);
	buf_free(&b);
}
END_TEST

START_TEST(sha1_format_log_replays)
{
	struct eventlog el;
	struct el_pcrs rp;
	struct buf b;
	uint8_t d[20], in[40] = { 0 }, want[20];
	size_t len;

	/* A legacy TCG_PCR_EVENT log with no Spec ID event at all. */
	buf_init(&b);
	memset(d, 0xab, sizeof(d));
	fx_u32(&b, 4);
	fx_u32(&b, EV_SEPARATOR);
	buf_put(&b, d, 20);
	fx_u32(&b, 4);
	buf_put(&b, sep, 4);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	ck_assert_int_eq(el.agile, 0);
	ck_assert_uint_eq(el.nalgs, 1);
	ck_assert_uint_eq(el.alg[0].alg, TPM2_ALG_SHA1);
	ck_assert_int_eq(eventlog_replay(&el, &rp), ASSAY_OK);
	memcpy(in + 20, d, 20);
	tpm2_hash(TPM2_ALG_SHA1, in, 40, want, &len);
	ck_assert_mem_eq(rp.bank[0].v[4], want, 20);
	eventlog_free(&el);
	buf_free(&b);
}
END_TEST

static void
replay_file(const char *name, struct eventlog *el, struct el_pcrs *rp,
    uint8_t **d)
{
	size_t n;

	*d = fx_read(name, &n);
	ck_assert_int_eq(eventlog_parse(*d, n, el), ASSAY_OK);
	ck_assert_int_eq(eventlog_replay(el, rp), ASSAY_OK);
}

START_TEST(real_sha1_log_replays_to_expected_pcrs)
{
	/* go-tpm-tools server/eventlog_test.go Debian10GCE, PCR 0 sha1 */
	struct eventlog el;
	struct el_pcrs rp;
	uint8_t *d, want[20];
	size_t len;

	replay_file("go-tpm-tools/debian-10.bin", &el, &rp, &d);
	ck_assert_int_eq(el.agile, 0);
	ck_assert_int_eq(hex_decode("0f2d3a2a1adaa479aeeca8f5df76aadc41b862ea",
	    want, sizeof(want), &len), ASSAY_OK);
	ck_assert_mem_eq(rp.bank[0].v[0], want, 20);
	eventlog_free(&el);
	free(d);
}
END_TEST

START_TEST(real_log_startup_locality_matches_tpm)
{
	/* good-1: recorded TPM PCR 0 equals a replay seeded with locality 3 */
	struct eventlog el;
	struct el_pcrs rp;
	uint8_t *d, want[32];
	size_t len, k;

	replay_file("guard-oss/derived/good-1.evidence.eventlog.bin", &el, &rp, &d);
	ck_assert_int_eq(el.has_locality, 1);
	ck_assert_uint_eq(el.startup_locality, 3);
	for (k = 0; k < rp.nbanks; k++)
		if (rp.bank[k].alg == TPM2_ALG_SHA256)
			break;
	ck_assert_int_eq(hex_decode("d9f71ad1402adec38f39eded3a6804b27b95eaac9b"
	    "241265b44fc793c581ec69", want, sizeof(want), &len), ASSAY_OK);
	ck_assert_mem_eq(rp.bank[k].v[0], want, 32);
	eventlog_free(&el);
	free(d);
}
END_TEST

START_TEST(check_pcrs_names_pcr_and_bank_on_mismatch)
{
	struct eventlog el;
	struct el_pcrs rp;
	struct pcr_values q;
	struct pcr_selection sel;
	struct verdict vd;
	uint8_t *d, bad[32];
	unsigned i;

	replay_file("qemu-ovmf/boot1.binary_bios_measurements", &el, &rp, &d);
	ck_assert_int_eq(pcr_selection_parse("sha256:0-7,9", &sel), ASSAY_OK);
	pcr_values_init(&q);
	for (i = 0; i < 10; i++)
		pcr_values_set(&q, TPM2_ALG_SHA256, i, rp.bank[1].v[i], 32);
	verdict_init(&vd);
	eventlog_check_pcrs(&rp, &q, &sel, 0x3ffu, &vd);
	ck_assert_int_eq(verdict_ok(&vd), 1);
	memcpy(bad, rp.bank[1].v[4], 32);
	bad[0] ^= 1;
	pcr_values_set(&q, TPM2_ALG_SHA256, 4, bad, 32);
	eventlog_check_pcrs(&rp, &q, &sel, 0x3ffu, &vd);
	ck_assert_uint_eq(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "eventlog.replay");
	ck_assert_ptr_nonnull(strstr(vd.fail[0].detail, "PCR 4 in bank sha256"));
	eventlog_free(&el);
	free(d);
}
END_TEST

START_TEST(check_pcrs_fails_a_quoted_bank_the_log_lacks)
{
	struct eventlog el;
	struct el_pcrs rp;
	struct pcr_values q;
	struct pcr_selection sel;
	struct verdict vd;
	uint8_t *d;

	replay_file("qemu-ovmf/boot1.binary_bios_measurements", &el, &rp, &d);
	ck_assert_int_eq(pcr_selection_parse("sha384:0", &sel), ASSAY_OK);
	pcr_values_init(&q);
	verdict_init(&vd);
	eventlog_check_pcrs(&rp, &q, &sel, 0x3ffu, &vd);
	ck_assert_int_eq(verdict_has(&vd, "eventlog.replay"), 1);
	ck_assert_ptr_nonnull(strstr(vd.fail[0].detail, "bank sha384"));
	eventlog_free(&el);
	free(d);
}
END_TEST

START_TEST(data_matches_follows_the_spec_per_type)
{
	struct eventlog el;
	struct buf b;
	uint8_t d[32];
	size_t len;

	fx_sha256_only(&b);
	fx_event2(&b, 4, EV_SEPARATOR, 0, sep, 4);
	fx_event2(&b, 4, EV_EFI_BOOT_SERVICES_APPLICATION, 1, "app", 3);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	ck_assert_int_eq(eventlog_data_matches(&el.ev[0], TPM2_ALG_SHA256), 0);
	ck_assert_int_eq(eventlog_data_matches(&el.ev[1], TPM2_ALG_SHA256), -1);
	eventlog_free(&el);
	/* now with the right digest of the separator */
	tpm2_hash(TPM2_ALG_SHA256, sep, 4, d, &len);
	b.len = 0;
	buf_free(&b);
	fx_sha256_only(&b);
	fx_event2(&b, 4, EV_SEPARATOR, 0, sep, 4);
	memcpy(b.d + b.len - 4 - 4 - 32, d, 32);
	ck_assert_int_eq(parse_buf(&b, &el), ASSAY_OK);
	ck_assert_int_eq(eventlog_data_matches(&el.ev[0], TPM2_ALG_SHA256), 1);
	eventlog_free(&el);
	buf_free(&b);
}
END_TEST

START_TEST(type_names_come_from_the_table)
{
	ck_assert_str_eq(eventlog_type_name(EV_SEPARATOR), "EV_SEPARATOR");
	ck_assert_str_eq(eventlog_type_name(EV_EFI_VARIABLE_AUTHORITY),
	    "EV_EFI_VARIABLE_AUTHORITY");
	ck_assert_ptr_null(eventlog_type_name(0x12345678u));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("eventlog");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, parse_refuses_empty_log);
	tcase_add_test(tc, parse_accepts_spec_id_only_log);
	tcase_add_test(tc, parse_refuses_truncated_event);
	tcase_add_test(tc, parse_refuses_size_beyond_buffer);
	tcase_add_test(tc, parse_refuses_trailing_garbage);
	tcase_add_test(tc, parse_accepts_zero_and_ff_padding);
	tcase_add_test(tc, parse_refuses_unknown_bank);
	tcase_add_test(tc, parse_refuses_digest_of_unannounced_bank);
	tcase_add_test(tc, parse_refuses_bank_with_wrong_size);
	tcase_add_test(tc, startup_locality_3_seeds_pcr0);
	tcase_add_test(tc, pcrs_17_to_22_start_at_ones);
	tcase_add_test(tc, no_action_events_are_not_extended);
	tcase_add_test(tc, sha1_format_log_replays);
	tcase_add_test(tc, real_sha1_log_replays_to_expected_pcrs);
	tcase_add_test(tc, real_log_startup_locality_matches_tpm);
	tcase_add_test(tc, check_pcrs_names_pcr_and_bank_on_mismatch);
	tcase_add_test(tc, check_pcrs_fails_a_quoted_bank_the_log_lacks);
	tcase_add_test(tc, data_matches_follows_the_spec_per_type);
	tcase_add_test(tc, type_names_come_from_the_table);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
