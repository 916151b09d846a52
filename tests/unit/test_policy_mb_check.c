/*
 * test_policy_mb_check.c — the measured_boot: checks on hand-built event
 * log facts: secure boot, the PK/KEK/db key databases and dbx_contains,
 * boot applications and drivers, kernel command lines and forbidden
 * actions, each passing and failing with its failure id and a detail
 * naming the item. Compiling the section: test_policy_mb.c.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_mb.h"
#include "tests/unit/policy_mb_fixture.h"
#include "tests/unit/eventlog_fixture.h"

static const uint8_t owner[16] = {
	0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33,
	0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };

/* Compile, check f, return the verdict (p released). */
static struct verdict
run(const char *text, const struct el_facts *f)
{
	struct policy *p = compile_ok(text);
	struct verdict vd;

	verdict_init(&vd);
	mb_policy_check(policy_mb(p), f, &vd);
	policy_unref(p);
	return vd;
}

static void
assert_one_failure(const struct verdict *vd, const char *id,
    const char *needle)
{
	ck_assert_msg(vd->nfail == 1, "%zu failures (want 1 %s); first %s: %s",
	    vd->nfail, id, vd->nfail ? vd->fail[0].id : "-",
	    vd->nfail ? vd->fail[0].detail : "-");
	ck_assert_str_eq(vd->fail[0].id, id);
	ck_assert_msg(strstr(vd->fail[0].detail, needle) != NULL,
	    "detail '%s' lacks '%s'", vd->fail[0].detail, needle);
}

static void
assert_ok(const struct verdict *vd)
{
	ck_assert_msg(vd->nfail == 0, "%zu failures, first %s: %s", vd->nfail,
	    vd->nfail ? vd->fail[0].id : "-",
	    vd->nfail ? vd->fail[0].detail : "-");
}

/* Empty facts in sha256; nothing measured. */
static void
facts_init(struct el_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->bank = TPM2_ALG_SHA256;
	f->secure_boot = -1;
}

/* One EFI_SIGNATURE_LIST of type with each of n entries of size sz. */
static void
siglist_add(struct buf *b, const uint8_t type[16], const void *const *sig,
    size_t n, size_t sz)
{
	uint8_t le[4];
	uint32_t v;
	size_t i;

	buf_put(b, type, 16);
	v = (uint32_t)(28 + n * (16 + sz));
	le[0] = v & 0xff; le[1] = (v >> 8) & 0xff; le[2] = (v >> 16) & 0xff;
	le[3] = v >> 24;
	buf_put(b, le, 4);
	memset(le, 0, 4);
	buf_put(b, le, 4);		/* SignatureHeaderSize */
	v = (uint32_t)(16 + sz);
	le[0] = v & 0xff; le[1] = (v >> 8) & 0xff; le[2] = 0; le[3] = 0;
	buf_put(b, le, 4);
	for (i = 0; i < n; i++) {
		buf_put(b, owner, 16);
		buf_put(b, sig[i], sz);
	}
}

static void
var_set(struct el_var *v, struct buf *b)
{
	v->present = 1;
	v->verified = 1;
	cur_init(&v->data, b->d, b->len);
}

/* ---- secure boot ---- */

static const char *sb_required = "name: t\nmeasured_boot:\n"
    "  secure_boot: required\n";

START_TEST(mb_secure_boot_required_passes_when_on_and_verified)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	f.secure_boot = 1;
	f.sb.present = f.sb.verified = 1;
	vd = run(sb_required, &f);
	assert_ok(&vd);
}
END_TEST

START_TEST(mb_secure_boot_required_fails_when_off)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	f.secure_boot = 0;
	f.sb.present = f.sb.verified = 1;
	vd = run(sb_required, &f);
	assert_one_failure(&vd, "eventlog.secureboot", "SecureBoot is off");
}
END_TEST

START_TEST(mb_secure_boot_required_fails_when_not_measured)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	vd = run(sb_required, &f);
	assert_one_failure(&vd, "eventlog.secureboot", "not measured");
}
END_TEST

START_TEST(mb_secure_boot_required_fails_when_not_verified)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	f.secure_boot = 1;
	f.sb.present = 1;
	f.sb.verified = 0;
	vd = run(sb_required, &f);
	assert_one_failure(&vd, "eventlog.secureboot", "not verified");
}
END_TEST

START_TEST(mb_secure_boot_allowed_accepts_off)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	f.secure_boot = 0;
	vd = run("name: t\nmeasured_boot:\n  secure_boot: allowed\n", &f);
	assert_ok(&vd);
}
END_TEST

/* ---- key databases ---- */

START_TEST(mb_pk_allows_listed_certificate)
{
	const void *sig[1] = { "abc" };
	struct el_facts f;
	struct verdict vd;
	struct buf b;

	buf_init(&b);
	siglist_add(&b, guid_x509, sig, 1, 3);
	facts_init(&f);
	var_set(&f.pk, &b);
	vd = run("name: t\nmeasured_boot:\n  pk: [\"sha256:" SHA256_ABC
	    "\"]\n", &f);
	assert_ok(&vd);
	buf_free(&b);
}
END_TEST

START_TEST(mb_pk_rejects_unlisted_certificate)
{
	const void *sig[1] = { "abc" };
	struct el_facts f;
	struct verdict vd;
	struct buf b;

	buf_init(&b);
	siglist_add(&b, guid_x509, sig, 1, 3);
	facts_init(&f);
	var_set(&f.pk, &b);
	vd = run("name: t\nmeasured_boot:\n  pk: [\"sha256:" SHA256_ABC
	    "\", \"sha1:a9993e364706816aba3e25717850c26c9cd0d89d\"]\n", &f);
	assert_ok(&vd);
	vd = run("name: t\nmeasured_boot:\n  pk: [\"sha1:a9993e364706816aba3e"
	    "25717850c26c9cd0d89d\"]\n", &f);
	assert_one_failure(&vd, "eventlog.pk", "PK entry sha256:" SHA256_ABC);
	buf_free(&b);
}
END_TEST

/* Setup mode (empty PK) never satisfies a policy that lists keys. */
START_TEST(mb_empty_pk_fails_a_listed_pk)
{
	struct el_facts f;
	struct verdict vd;
	struct buf b;

	buf_init(&b);
	facts_init(&f);
	var_set(&f.pk, &b);
	vd = run("name: t\nmeasured_boot:\n  pk: [\"sha256:" SHA256_ABC
	    "\"]\n", &f);
	assert_one_failure(&vd, "eventlog.pk", "PK is empty (setup mode)");
	vd = run("name: t\nmeasured_boot:\n  pk: []\n", &f);
	assert_ok(&vd);
	buf_free(&b);
}
END_TEST

START_TEST(mb_kek_must_be_measured)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	vd = run("name: t\nmeasured_boot:\n  kek: [\"sha256:" SHA256_ABC
	    "\"]\n", &f);
	assert_one_failure(&vd, "eventlog.kek", "KEK not measured");
}
END_TEST

START_TEST(mb_db_every_entry_must_be_allowed)
{
	uint8_t h1[32], h2[32];
	const void *sig[2] = { h1, h2 };
	const void *cert[1] = { "abc" };
	struct el_facts f;
	struct verdict vd;
	struct buf b;
	char pol[512];

	memset(h1, 0x01, sizeof(h1));
	memset(h2, 0x02, sizeof(h2));
	buf_init(&b);
	siglist_add(&b, guid_x509, cert, 1, 3);
	siglist_add(&b, guid_sha256, sig, 2, 32);
	facts_init(&f);
	var_set(&f.db, &b);
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  db: [\"sha256:"
	    SHA256_ABC "\", \"%s\", \"%s\"]\n", H32(0x01), H32(0x02));
	vd = run(pol, &f);
	assert_ok(&vd);
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  db: [\"sha256:"
	    SHA256_ABC "\", \"%s\"]\n", H32(0x01));
	vd = run(pol, &f);
	assert_one_failure(&vd, "eventlog.db", H32(0x02));
	buf_free(&b);
}
END_TEST

START_TEST(mb_db_unverified_fails)
{
	const void *cert[1] = { "abc" };
	struct el_facts f;
	struct verdict vd;
	struct buf b;

	buf_init(&b);
	siglist_add(&b, guid_x509, cert, 1, 3);
	facts_init(&f);
	var_set(&f.db, &b);
	f.db.verified = 0;
	vd = run("name: t\nmeasured_boot:\n  db: [\"sha256:" SHA256_ABC
	    "\"]\n", &f);
	assert_one_failure(&vd, "eventlog.db", "db event not verified");
	buf_free(&b);
}
END_TEST

START_TEST(mb_db_malformed_lists_fail)
{
	static const uint8_t junk[30] = { 0x26, 0x16 };
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	f.db.present = f.db.verified = 1;
	cur_init(&f.db.data, junk, sizeof(junk));
	vd = run("name: t\nmeasured_boot:\n  db: [\"sha256:" SHA256_ABC
	    "\"]\n", &f);
	assert_one_failure(&vd, "eventlog.db", "malformed");
}
END_TEST

START_TEST(mb_dbx_contains_required_revocations)
{
	uint8_t h1[32], h2[32];
	const void *sig[2] = { h1, h2 };
	struct el_facts f;
	struct verdict vd;
	struct buf b;
	char pol[512];

	memset(h1, 0x01, sizeof(h1));
	memset(h2, 0x02, sizeof(h2));
	buf_init(&b);
	siglist_add(&b, guid_sha256, sig, 2, 32);
	facts_init(&f);
	var_set(&f.dbx, &b);
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  dbx_contains: "
	    "[\"%s\"]\n", H32(0x02));
	vd = run(pol, &f);
	assert_ok(&vd);
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  dbx_contains: "
	    "[\"%s\", \"%s\"]\n", H32(0x02), H32(0x03));
	vd = run(pol, &f);
	assert_one_failure(&vd, "eventlog.dbx", H32(0x03));
	buf_free(&b);
}
END_TEST

/* ---- applications and drivers ---- */

/* A device path: one file path node "\EFI\BOOT\BOOTX64.EFI", then end. */
static void
devpath(struct buf *b, const char *file)
{
	size_t i, n = strlen(file);
	uint8_t h[4] = { 0x04, 0x04, 0, 0 };
	uint8_t end[4] = { 0x7f, 0xff, 0x04, 0x00 };
	uint8_t ch[2] = { 0, 0 };

	h[2] = (uint8_t)(4 + 2 * (n + 1));
	buf_put(b, h, 4);
	for (i = 0; i < n; i++) {
		ch[0] = (uint8_t)file[i];
		buf_put(b, ch, 2);
	}
	ch[0] = 0;
	buf_put(b, ch, 2);
	buf_put(b, end, 4);
}

static void
app_add(struct el_facts *f, uint32_t type, const uint8_t *d,
    const struct buf *dp)
{
	struct el_app *a = &f->app[f->napps++];

	a->pcr = type == EV_EFI_BOOT_SERVICES_APPLICATION ? 4 : 2;
	a->type = type;
	a->kind = a->pcr == 4 ? EL_CODE_APP : EL_CODE_DRIVER;
	a->digest = d;
	if (dp != NULL)
		cur_init(&a->devpath, dp->d, dp->len);
}

START_TEST(mb_boot_app_allowed_and_not)
{
	uint8_t d1[32], d2[32];
	struct el_facts f;
	struct verdict vd;
	struct buf dp;
	char pol[512];

	memset(d1, 0xa1, sizeof(d1));
	memset(d2, 0xa2, sizeof(d2));
	buf_init(&dp);
	devpath(&dp, "\\EFI\\BOOT\\BOOTX64.EFI");
	facts_init(&f);
	app_add(&f, EV_EFI_BOOT_SERVICES_APPLICATION, d1, &dp);
	app_add(&f, EV_EFI_BOOT_SERVICES_APPLICATION, d2, &dp);
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  boot_apps: "
	    "[\"%s\", \"%s\"]\n", H32(0xa1), H32(0xa2));
	vd = run(pol, &f);
	assert_ok(&vd);
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  boot_apps: "
	    "[\"%s\"]\n", H32(0xa1));
	vd = run(pol, &f);
	assert_one_failure(&vd, "eventlog.boot_app", H32(0xa2));
	ck_assert_ptr_nonnull(strstr(vd.fail[0].detail,
	    "PCR 4 \\EFI\\BOOT\\BOOTX64.EFI"));
	buf_free(&dp);
}
END_TEST

START_TEST(mb_drivers_checked_separately)
{
	uint8_t app[32], drv[32], rt[32];
	struct el_facts f;
	struct verdict vd;
	char pol[512];

	memset(app, 0xa1, sizeof(app));
	memset(drv, 0xd1, sizeof(drv));
	memset(rt, 0xd2, sizeof(rt));
	facts_init(&f);
	app_add(&f, EV_EFI_BOOT_SERVICES_APPLICATION, app, NULL);
	app_add(&f, EV_EFI_BOOT_SERVICES_DRIVER, drv, NULL);
	app_add(&f, EV_EFI_RUNTIME_SERVICES_DRIVER, rt, NULL);
	/* boot_apps alone does not judge drivers. */
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  boot_apps: "
	    "[\"%s\"]\n", H32(0xa1));
	vd = run(pol, &f);
	assert_ok(&vd);
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  drivers: "
	    "[\"%s\"]\n", H32(0xd1));
	vd = run(pol, &f);
	assert_one_failure(&vd, "eventlog.driver", H32(0xd2));
}
END_TEST

START_TEST(mb_boot_app_without_bank_digest_fails)
{
	struct el_facts f;
	struct verdict vd;
	char pol[512];

	facts_init(&f);
	app_add(&f, EV_EFI_BOOT_SERVICES_APPLICATION, NULL, NULL);
	snprintf(pol, sizeof(pol), "name: t\nmeasured_boot:\n  boot_apps: "
	    "[\"%s\"]\n", H32(0xa1));
	vd = run(pol, &f);
	assert_one_failure(&vd, "eventlog.boot_app", "no sha256 digest");
}
END_TEST

/* ---- command lines ---- */

static void
cmdline_add(struct el_facts *f, const char *s, int verified)
{
	struct el_string *c = &f->cmdline[f->ncmdline++];

	c->pcr = 8;
	c->type = EV_IPL;
	c->verified = verified;
	c->s = (char *)(uintptr_t)s;
}

static const char *cmd_pol = "name: t\nmeasured_boot:\n  kernel_cmdline:\n"
    "    - \"exact one\"\n"
    "    - \"re:^BOOT_IMAGE=/vmlinuz-[0-9.]+ root=UUID=.* ro$\"\n"
    "    - \"glob:*nomodeset*\"\n";

START_TEST(mb_cmdline_exact_regex_glob_match)
{
	static const char *ok[] = {
		"exact one",
		"BOOT_IMAGE=/vmlinuz-6.1.0 root=UUID=1234 ro",
		"BOOT_IMAGE=/x nomodeset quiet",
	};
	struct el_facts f;
	struct verdict vd;
	size_t i;

	for (i = 0; i < 3; i++) {
		facts_init(&f);
		cmdline_add(&f, ok[i], 1);
		vd = run(cmd_pol, &f);
		assert_ok(&vd);
	}
}
END_TEST

/* Two linux lines in grub.cfg, or one extended after boot: both judged. */
START_TEST(mb_cmdline_every_measured_line_must_be_allowed)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	cmdline_add(&f, "exact one", 1);
	cmdline_add(&f, "exact one init=/bin/sh", 1);
	vd = run(cmd_pol, &f);
	assert_one_failure(&vd, "eventlog.cmdline", "'exact one init=/bin/sh' "
	    "not allowed");
	facts_init(&f);
	cmdline_add(&f, "exact one init=/bin/sh", 1);
	cmdline_add(&f, "exact one", 1);
	vd = run(cmd_pol, &f);
	assert_one_failure(&vd, "eventlog.cmdline", "'exact one init=/bin/sh' "
	    "not allowed");
}
END_TEST

/* An allowed LoadOptions digest never excuses a forbidden text line. */
START_TEST(mb_cmdline_loadoptions_does_not_excuse_a_text_line)
{
	static uint8_t u16[64], dg[32];
	const char *line = "exact one";
	struct el_facts f;
	struct verdict vd;
	size_t i, n = strlen(line), len;

	for (i = 0; i < n; i++)
		u16[2 * i] = (uint8_t)line[i];
	ck_assert_int_eq(tpm2_hash(TPM2_ALG_SHA256, u16, 2 * n + 2, dg, &len),
	    ASSAY_OK);
	facts_init(&f);
	f.tag[0].pcr = 9;
	f.tag[0].id = EL_TAG_LOAD_OPTIONS;
	f.tag[0].digest = dg;
	f.ntags = 1;
	vd = run(cmd_pol, &f);
	assert_ok(&vd);
	cmdline_add(&f, "exact one init=/bin/sh", 1);
	vd = run(cmd_pol, &f);
	assert_one_failure(&vd, "eventlog.cmdline", "init=/bin/sh");
	/* and a LoadOptions digest of a line not listed fails by itself */
	facts_init(&f);
	dg[0] ^= 1;
	f.tag[0].pcr = 9;
	f.tag[0].id = EL_TAG_LOAD_OPTIONS;
	f.tag[0].digest = dg;
	f.ntags = 1;
	vd = run(cmd_pol, &f);
	assert_one_failure(&vd, "eventlog.cmdline", "LoadOptions digest");
}
END_TEST

/* A forbidden action relabelled as another event type is still caught. */
START_TEST(mb_forbidden_action_found_by_its_digest)
{
	const char *act = "UEFI Debug Mode";
	struct eventlog el;
	struct el_facts f;
	struct verdict vd;
	struct buf b;
	uint8_t d[32];
	size_t len;

	fx_sha256_only(&b);
	ck_assert_int_eq(tpm2_hash(TPM2_ALG_SHA256, act, strlen(act), d, &len),
	    ASSAY_OK);
	fx_u32(&b, 1);			/* PCR 1 */
	fx_u32(&b, EV_POST_CODE);	/* not EV_EFI_ACTION: the type is unbound */
	fx_u32(&b, 1);
	fx_u16(&b, 0x000b);
	buf_put(&b, d, 32);
	fx_u32(&b, 4);
	buf_put(&b, "ROM!", 4);
	ck_assert_int_eq(eventlog_parse(b.d, b.len, &el), ASSAY_OK);
	ck_assert_int_eq(eventlog_facts(&el, TPM2_ALG_SHA256, 1u << 1, &f), ASSAY_OK);
	vd = run("name: t\nmeasured_boot:\n  forbid_actions: [ \"UEFI Debug "
	    "Mode\" ]\n", &f);
	assert_one_failure(&vd, "eventlog.event", "forbidden action 'UEFI Debug "
	    "Mode' measured (event 0)");
	eventlog_facts_free(&f);
	/* not bound (PCR 1 not quoted): it counts for nothing */
	ck_assert_int_eq(eventlog_facts(&el, TPM2_ALG_SHA256, 1u << 2, &f), ASSAY_OK);
	vd = run("name: t\nmeasured_boot:\n  forbid_actions: [ \"UEFI Debug "
	    "Mode\" ]\n", &f);
	assert_ok(&vd);
	eventlog_facts_free(&f);
	eventlog_free(&el);
	buf_free(&b);
}
END_TEST

/* A second PK measurement is never ignored. */
START_TEST(mb_repeated_variable_fails)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	f.secure_boot = 1;
	f.sb.present = f.sb.verified = 1;
	f.sb.repeated = 1;
	vd = run("name: t\nmeasured_boot:\n  secure_boot: required\n", &f);
	assert_one_failure(&vd, "eventlog.secureboot", "more times");
}
END_TEST

START_TEST(mb_cmdline_not_allowed_names_line)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	cmdline_add(&f, "BOOT_IMAGE=/vmlinuz-6.1.0 root=UUID=1234 rw "
	    "init=/bin/sh", 1);
	vd = run(cmd_pol, &f);
	assert_one_failure(&vd, "eventlog.cmdline", "'BOOT_IMAGE=/vmlinuz-6.1.0 "
	    "root=UUID=1234 rw init=/bin/sh' not allowed");
	/* Anchored as written: a match needs the whole line here. */
	facts_init(&f);
	cmdline_add(&f, "exact one two", 1);
	vd = run(cmd_pol, &f);
	assert_one_failure(&vd, "eventlog.cmdline", "'exact one two'");
}
END_TEST

START_TEST(mb_cmdline_unverified_does_not_count)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	cmdline_add(&f, "exact one", 0);
	vd = run(cmd_pol, &f);
	assert_one_failure(&vd, "eventlog.cmdline", "'exact one' not verified");
}
END_TEST

START_TEST(mb_cmdline_none_measured_fails)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	vd = run(cmd_pol, &f);
	assert_one_failure(&vd, "eventlog.cmdline", "no kernel command line "
	    "measured");
}
END_TEST

/* ---- events ---- */

START_TEST(mb_forbidden_action_named)
{
	struct el_facts f;
	struct verdict vd;

	facts_init(&f);
	f.str[0].pcr = 7;
	f.str[0].type = EV_EFI_ACTION;
	f.str[0].verified = 1;
	f.str[0].s = (char *)(uintptr_t)"UEFI Debug Mode";
	f.nstrings = 1;
	vd = run("name: t\nmeasured_boot:\n  forbid_actions: [\"Other\"]\n",
	    &f);
	assert_ok(&vd);
	vd = run("name: t\nmeasured_boot:\n  forbid_actions: [\"Other\", "
	    "\"UEFI Debug Mode\"]\n", &f);
	assert_one_failure(&vd, "eventlog.event", "forbidden action 'UEFI Debug "
	    "Mode' (EV_EFI_ACTION, PCR 7)");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy_mb_check");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, mb_secure_boot_required_passes_when_on_and_verified);
	tcase_add_test(tc, mb_secure_boot_required_fails_when_off);
	tcase_add_test(tc, mb_secure_boot_required_fails_when_not_measured);
	tcase_add_test(tc, mb_secure_boot_required_fails_when_not_verified);
	tcase_add_test(tc, mb_secure_boot_allowed_accepts_off);
	tcase_add_test(tc, mb_pk_allows_listed_certificate);
	tcase_add_test(tc, mb_pk_rejects_unlisted_certificate);
	tcase_add_test(tc, mb_kek_must_be_measured);
	tcase_add_test(tc, mb_db_every_entry_must_be_allowed);
	tcase_add_test(tc, mb_db_unverified_fails);
	tcase_add_test(tc, mb_db_malformed_lists_fail);
	tcase_add_test(tc, mb_dbx_contains_required_revocations);
	tcase_add_test(tc, mb_boot_app_allowed_and_not);
	tcase_add_test(tc, mb_drivers_checked_separately);
	tcase_add_test(tc, mb_boot_app_without_bank_digest_fails);
	tcase_add_test(tc, mb_cmdline_exact_regex_glob_match);
	tcase_add_test(tc, mb_cmdline_not_allowed_names_line);
	tcase_add_test(tc, mb_cmdline_every_measured_line_must_be_allowed);
	tcase_add_test(tc, mb_cmdline_loadoptions_does_not_excuse_a_text_line);
	tcase_add_test(tc, mb_repeated_variable_fails);
	tcase_add_test(tc, mb_empty_pk_fails_a_listed_pk);
	tcase_add_test(tc, mb_forbidden_action_found_by_its_digest);
	tcase_add_test(tc, mb_cmdline_unverified_does_not_count);
	tcase_add_test(tc, mb_cmdline_none_measured_fails);
	tcase_add_test(tc, mb_forbidden_action_named);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
