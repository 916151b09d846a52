/*
 * test_policy_mb.c — compiling the measured_boot: policy section (YAML and
 * JSON, errors naming the line: digests, regexes and their cost, event
 * types, keys, shapes) and its building blocks: entry digests of EFI
 * signature data and event type names. The checks on event log facts:
 * test_policy_mb_check.c; real firmware logs: test_policy_mb_logs.c.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/eventlog.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_mb.h"
#include "tests/unit/policy_mb_fixture.h"

static const uint8_t guid_sha1[16] = {
	0x12, 0xa5, 0x6c, 0x82, 0x10, 0xcf, 0xc9, 0x4a,
	0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd };

static int
compile_err(const char *text)
{
	struct policy *p = NULL;
	int r;

	assay_err_clear();
	r = policy_compile(text, strlen(text), "t", &p);
	ck_assert_ptr_null(p);
	return r;
}

/* ---- compile ---- */

static const char *full_yaml =
    "name: t\n"
    "measured_boot:\n"
    "  secure_boot: required\n"
    "  pk: [\"sha256:" SHA256_ABC "\"]\n"
    "  kek: [" SHA256_ABC "]\n"
    "  db: [\"SHA256:" SHA256_ABC "\", \"sha1:a9993e364706816aba3e25717850c26c9cd0d89d\"]\n"
    "  dbx_contains: []\n"
    "  boot_apps: [\"sha256:" SHA256_ABC "\"]\n"
    "  drivers: []\n"
    "  kernel_cmdline: [\"ro quiet\", \"re:^BOOT_IMAGE=/vmlinuz-[0-9.]+ root=UUID=.* ro$\", \"glob:*nomodeset*\"]\n"
    "  require_events: [EV_SEPARATOR, \"0x80000007\"]\n"
    "  forbid_events: [EV_EFI_HCRTM_EVENT]\n"
    "  forbid_actions: [\"DMA Protection Disabled\"]\n";

START_TEST(mb_compiles_every_key_yaml)
{
	policy_unref(compile_ok(full_yaml));
}
END_TEST

START_TEST(mb_compiles_json)
{
	policy_unref(compile_ok("{\"name\": \"t\", \"bank\": \"sha256\", "
	    "\"measured_boot\": {\"secure_boot\": \"allowed\", "
	    "\"dbx_contains\": [\"sha256:" SHA256_ABC "\"], "
	    "\"allowed_boot_apps\": [\"" SHA256_ABC "\"], "
	    "\"kernel_cmdline\": [\"re:quiet\"]}}"));
}
END_TEST

START_TEST(mb_absent_section_is_null)
{
	struct policy *p = NULL;

	ck_assert_int_eq(policy_compile("name: t\n", 8, NULL, &p), ASSAY_OK);
	ck_assert_ptr_null(policy_mb(p));
	policy_unref(p);
}
END_TEST

START_TEST(mb_rejects_bad_digest_with_line)
{
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n  db:\n"
	    "    - \"sha256:" SHA256_ABC "\"\n    - \"sha256:abcd\"\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 5: db 'sha256:abcd': want "
	    "64 hex digits for sha256");
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  pk: [\"md5:00\"]\n"), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "line 3: pk 'md5:00'"));
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  dbx_contains: [\"sha256:" "zz" SHA256_ABC "\"]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "line 3: "));
}
END_TEST

START_TEST(mb_app_digest_must_be_policy_bank)
{
	ck_assert_int_eq(compile_err("name: t\nbank: sha256\nmeasured_boot:\n"
	    "  boot_apps: [\"sha1:a9993e364706816aba3e25717850c26c9cd0d89d\"]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: boot_apps "
	    "'sha1:a9993e364706816aba3e25717850c26c9cd0d89d': algorithm must "
	    "be sha256");
	/* In a sha1 policy the same entry is fine. */
	policy_unref(compile_ok("name: t\nallow_sha1: true\nbank: sha1\nmeasured_boot:\n"
	    "  boot_apps: [\"sha1:a9993e364706816aba3e25717850c26c9cd0d89d\"]\n"));
}
END_TEST

START_TEST(mb_rejects_bad_regex_with_line)
{
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  kernel_cmdline:\n    - \"ro\"\n    - \"re:ro (quiet\"\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_msg(strncmp(assay_err_detail(), "line 5: kernel_cmdline regex "
	    "'ro (quiet': ", 37) == 0, "%s", assay_err_detail());
}
END_TEST

START_TEST(mb_rejects_costly_regex)
{
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  kernel_cmdline: [\"re:a+++++++++++++++++\"]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: kernel_cmdline regex "
	    "'a+++++++++++++++++': repetition of a repetition");
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  kernel_cmdline: [\"re:((a{9}){9}){9}\"]\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: kernel_cmdline regex "
	    "'((a{9}){9}){9}': repeated groups grow too large");
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  kernel_cmdline: [\"re:(a)\\\\1\"]\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: kernel_cmdline regex "
	    "'(a)\\1': back-references are not supported");
	/* Ordinary patterns pass. */
	policy_unref(compile_ok("name: t\nmeasured_boot:\n  kernel_cmdline: "
	    "[\"re:^root=[^ ]+ (quiet|splash)* [0-9]{1,3}$\"]\n"));
}
END_TEST

START_TEST(mb_rejects_unknown_event_type)
{
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  require_events: [EV_SEPARATOR,\n    EV_BOGUS]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: require_events: unknown "
	    "event type 'EV_BOGUS'");
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  forbid_events: [\"0x1234567890\"]\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: forbid_events: unknown "
	    "event type '0x1234567890'");
}
END_TEST

START_TEST(mb_rejects_unknown_key)
{
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  secure_boot: allowed\n  shim: []\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: unknown key "
	    "'measured_boot.shim'");
}
END_TEST

START_TEST(mb_rejects_secure_boot_value)
{
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  secure_boot: yes-please\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: secure_boot "
	    "'yes-please': want required or allowed");
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  secure_boot: [required]\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: secure_boot must be a "
	    "string");
}
END_TEST

START_TEST(mb_rejects_wrong_shapes)
{
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot: [1]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 2: measured_boot must be a "
	    "mapping");
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  db: \"sha256:" SHA256_ABC "\"\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: db must be a list");
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  kernel_cmdline: []\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: kernel_cmdline is empty "
	    "(no command line could match)");
	ck_assert_int_eq(compile_err("name: t\nmeasured_boot:\n"
	    "  boot_apps: []\n  allowed_boot_apps: []\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: duplicate key "
	    "'measured_boot.allowed_boot_apps'");
}
END_TEST

/* ---- entry digests ---- */

START_TEST(mb_entry_digest_of_hash_and_cert)
{
	char e[MB_ENTRY_MAX];
	uint8_t d[32], s1[20];
	struct cur c;

	memset(d, 0xab, sizeof(d));
	cur_init(&c, d, sizeof(d));
	ck_assert_int_eq(mb_sig_entry(guid_sha256, &c, e), ASSAY_OK);
	ck_assert_str_eq(e, H32(0xab));
	cur_init(&c, "abc", 3);
	ck_assert_int_eq(mb_sig_entry(guid_x509, &c, e), ASSAY_OK);
	ck_assert_str_eq(e, "sha256:" SHA256_ABC);
	memset(s1, 0x01, sizeof(s1));
	cur_init(&c, s1, sizeof(s1));
	ck_assert_int_eq(mb_sig_entry(guid_sha1, &c, e), ASSAY_OK);
	ck_assert_str_eq(e, "sha1:0101010101010101010101010101010101010101");
	/* A "SHA-256 hash" of the wrong size is treated as opaque data. */
	cur_init(&c, "abc", 3);
	ck_assert_int_eq(mb_sig_entry(guid_sha256, &c, e), ASSAY_OK);
	ck_assert_str_eq(e, "sha256:" SHA256_ABC);
}
END_TEST

START_TEST(mb_event_type_names)
{
	uint32_t t = 0;

	ck_assert_int_eq(mb_event_type("EV_SEPARATOR", &t), 0);
	ck_assert_uint_eq(t, EV_SEPARATOR);
	ck_assert_int_eq(mb_event_type("EV_EFI_BOOT_SERVICES_APPLICATION", &t),
	    0);
	ck_assert_uint_eq(t, EV_EFI_BOOT_SERVICES_APPLICATION);
	ck_assert_int_eq(mb_event_type("0x800000E0", &t), 0);
	ck_assert_uint_eq(t, EV_EFI_VARIABLE_AUTHORITY);
	ck_assert_int_eq(mb_event_type("EV_NOPE", &t), -1);
	ck_assert_int_eq(mb_event_type("0x", &t), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy_mb");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, mb_compiles_every_key_yaml);
	tcase_add_test(tc, mb_compiles_json);
	tcase_add_test(tc, mb_absent_section_is_null);
	tcase_add_test(tc, mb_rejects_bad_digest_with_line);
	tcase_add_test(tc, mb_app_digest_must_be_policy_bank);
	tcase_add_test(tc, mb_rejects_bad_regex_with_line);
	tcase_add_test(tc, mb_rejects_costly_regex);
	tcase_add_test(tc, mb_rejects_unknown_event_type);
	tcase_add_test(tc, mb_rejects_unknown_key);
	tcase_add_test(tc, mb_rejects_secure_boot_value);
	tcase_add_test(tc, mb_rejects_wrong_shapes);
	tcase_add_test(tc, mb_entry_digest_of_hash_and_cert);
	tcase_add_test(tc, mb_event_type_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
