/*
 * test_policy_mb.c — the measured_boot: policy section: compiling it (YAML
 * and JSON, errors naming the line), each check passing and failing on
 * hand-built event log facts with its failure id and a detail naming the
 * item, entry digests of EFI signature data, and real firmware logs from
 * tests/data/eventlog (facts, and `assayctl policy from-eventlog` round
 * trips).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "verifier/policy.h"
#include "verifier/policy_mb.h"

/* SHA-256("abc"), the fingerprint of a "certificate" whose DER is "abc". */
#define SHA256_ABC \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const uint8_t guid_x509[16] = {
	0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
	0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t guid_sha256[16] = {
	0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
	0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };
static const uint8_t guid_sha1[16] = {
	0x12, 0xa5, 0x6c, 0x82, 0x10, 0xcf, 0xc9, 0x4a,
	0xb1, 0x87, 0xbe, 0x01, 0x49, 0x66, 0x31, 0xbd };
static const uint8_t owner[16] = {
	0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x33, 0x33,
	0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 };

/* "sha256:" + 64 hex digits of byte b. */
static const char *
h32(char *buf, unsigned b)
{
	size_t i;

	memcpy(buf, "sha256:", 7);
	for (i = 0; i < 32; i++)
		snprintf(buf + 7 + 2 * i, 3, "%02x", b);
	return buf;
}
#define H32(b)	h32((char[7 + 65]){ 0 }, (b))

static struct policy *
compile_ok(const char *text)
{
	struct policy *p = NULL;
	int r;

	assay_err_clear();
	r = policy_compile(text, strlen(text), "t", &p);
	ck_assert_msg(r == ASSAY_OK, "compile: %s: %s", assay_strerror(r),
	    assay_err_detail());
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(policy_mb(p));
	return p;
}

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
	policy_unref(compile_ok("name: t\nbank: sha1\nmeasured_boot:\n"
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
		cmdline_add(&f, "grub_cmd: set root", 1);
		cmdline_add(&f, ok[i], 1);
		vd = run(cmd_pol, &f);
		assert_ok(&vd);
	}
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
	tcase_add_test(tc, mb_cmdline_unverified_does_not_count);
	tcase_add_test(tc, mb_cmdline_none_measured_fails);
	tcase_add_test(tc, mb_forbidden_action_named);
	tcase_add_test(tc, mb_event_type_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
