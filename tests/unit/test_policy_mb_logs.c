/*
 * test_policy_mb_logs.c — measured_boot: policies on real firmware event
 * logs from tests/data/eventlog: the checks on decoded facts (secure boot
 * on in keylime's RHEL 9 log, off in the QEMU/OVMF recordings), tampered
 * variable data, required/forbidden events, and `assayctl policy
 * from-eventlog` round trips (same log passes, another log fails).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "tests/unit/eventlog_fixture.h"
#include "tools/cmd.h"
#include "tools/policy_mb_cmd.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_mb.h"

#define SB_LOG		"keylime/create-mb-policy_binary_bios_measurements-secureboot"
#define NOSB_LOG	"keylime/create-mb-policy_binary_bios_measurements"
#define OVMF_LOG	"qemu-ovmf/boot1.binary_bios_measurements"

/* Measured in SB_LOG: the PK certificate, one dbx hash, shim and grub. */
#define SB_PK	"sha256:7f122fab825041c2b0c67696bb151db6f39fed7df2d1104107f5b892b354ef5c"
#define SB_DBX	"sha256:80b4d96931bf0d02fd91a61e19d14f1da452e66db2408ca8604d411f92659f0a"
#define SB_SHIM	"sha256:27b12463e599b3147635f272e3722960e443def60fef088eba600697017529f2"
#define SB_GRUB	"sha256:0abc88ee4d2915c3c5c010a331be980766d6445419c22fe236867b92d254f01f"

struct logfx {
	uint8_t		*data;
	size_t		 len;
	struct eventlog	 el;
	struct el_facts	 f;
};

static void
log_open_buf(struct logfx *x)
{
	ck_assert_msg(eventlog_parse(x->data, x->len, &x->el) == ASSAY_OK,
	    "parse: %s", assay_err_detail());
	ck_assert_msg(eventlog_facts(&x->el, TPM2_ALG_SHA256, BIND_ALL_PCRS, &x->f) ==
	    ASSAY_OK, "facts: %s", assay_err_detail());
}

static void
log_open(struct logfx *x, const char *name)
{
	memset(x, 0, sizeof(*x));
	x->data = fx_read(name, &x->len);
	log_open_buf(x);
}

static void
log_close(struct logfx *x)
{
	eventlog_facts_free(&x->f);
	eventlog_free(&x->el);
	free(x->data);
}

static struct verdict
check_text(const char *text, const struct el_facts *f)
{
	struct policy *p = NULL;
	struct verdict vd;
	int r;

	assay_err_clear();
	r = policy_compile(text, strlen(text), NULL, &p);
	ck_assert_msg(r == ASSAY_OK, "compile: %s", assay_err_detail());
	ck_assert_ptr_nonnull(policy_mb(p));
	verdict_init(&vd);
	mb_policy_check(policy_mb(p), f, &vd);
	policy_unref(p);
	return vd;
}

static int
has_detail(const struct verdict *vd, const char *id, const char *needle)
{
	size_t i;

	for (i = 0; i < vd->nfail; i++)
		if (strcmp(vd->fail[i].id, id) == 0 &&
		    strstr(vd->fail[i].detail, needle) != NULL)
			return 1;
	return 0;
}

static void
assert_ok(const struct verdict *vd)
{
	ck_assert_msg(vd->nfail == 0, "%zu failures, first %s: %s", vd->nfail,
	    vd->nfail ? vd->fail[0].id : "-",
	    vd->nfail ? vd->fail[0].detail : "-");
}

START_TEST(mb_log_secure_boot_on_passes_checks)
{
	struct logfx x;
	struct verdict vd;

	log_open(&x, SB_LOG);
	ck_assert_int_eq(x.f.secure_boot, 1);
	vd = check_text("name: t\nmeasured_boot:\n  secure_boot: required\n"
	    "  pk: [\"" SB_PK "\"]\n  dbx_contains: [\"" SB_DBX "\"]\n"
	    "  require_events: [EV_SEPARATOR, EV_EFI_VARIABLE_DRIVER_CONFIG]\n",
	    &x.f);
	assert_ok(&vd);
	log_close(&x);
}
END_TEST

START_TEST(mb_log_unlisted_boot_app_named)
{
	struct logfx x;
	struct verdict vd;

	log_open(&x, SB_LOG);
	vd = check_text("name: t\nmeasured_boot:\n  boot_apps: [\"" SB_SHIM
	    "\"]\n", &x.f);
	ck_assert_uint_ge(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "eventlog.boot_app");
	ck_assert_msg(has_detail(&vd, "eventlog.boot_app", SB_GRUB " on PCR 4 "
	    "\\EFI\\redhat\\grubx64.efi not allowed"), "%s", vd.fail[0].detail);
	ck_assert(!has_detail(&vd, "eventlog.boot_app", SB_SHIM));
	log_close(&x);
}
END_TEST

START_TEST(mb_log_secure_boot_off_fails_required)
{
	struct logfx x;
	struct verdict vd;

	log_open(&x, OVMF_LOG);
	ck_assert_int_ne(x.f.secure_boot, 1);
	vd = check_text("name: t\nmeasured_boot:\n  secure_boot: required\n",
	    &x.f);
	ck_assert_uint_eq(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "eventlog.secureboot");
	log_close(&x);
	log_open(&x, NOSB_LOG);
	vd = check_text("name: t\nmeasured_boot:\n  secure_boot: required\n",
	    &x.f);
	ck_assert_uint_eq(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "eventlog.secureboot");
	ck_assert_str_eq(vd.fail[0].detail, "SecureBoot is off");
	log_close(&x);
}
END_TEST

/* Flip the last data byte of the first EFI variable event named var. */
static void
tamper_var(struct logfx *x, const char *var)
{
	struct efi_var v;
	size_t i, off;

	for (i = 0; i < x->el.n; i++) {
		if (x->el.ev[i].type != EV_EFI_VARIABLE_DRIVER_CONFIG ||
		    efi_var_parse(&x->el.ev[i].data, &v) != 0 ||
		    !efi_var_name_is(&v, var))
			continue;
		off = (size_t)(x->el.ev[i].data.p - x->data) +
		    x->el.ev[i].data.len - 1;
		eventlog_facts_free(&x->f);
		eventlog_free(&x->el);
		x->data[off] ^= 0x01;
		log_open_buf(x);
		return;
	}
	ck_abort_msg("no %s variable event", var);
}

START_TEST(mb_log_tampered_pk_not_verified)
{
	struct logfx x;
	struct verdict vd;

	log_open(&x, SB_LOG);
	tamper_var(&x, "PK");
	ck_assert_int_eq(x.f.pk.verified, 0);
	vd = check_text("name: t\nmeasured_boot:\n  pk: [\"" SB_PK "\"]\n",
	    &x.f);
	ck_assert_uint_eq(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "eventlog.pk");
	ck_assert_str_eq(vd.fail[0].detail, "PK event not verified: its digest "
	    "does not match its data");
	log_close(&x);
}
END_TEST

START_TEST(mb_log_tampered_secure_boot_not_verified)
{
	struct logfx x;
	struct verdict vd;

	log_open(&x, SB_LOG);
	/* SecureBoot's one data byte is 1; flipping it makes it 0 ("off"). */
	tamper_var(&x, "SecureBoot");
	vd = check_text("name: t\nmeasured_boot:\n  secure_boot: required\n",
	    &x.f);
	ck_assert_uint_eq(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "eventlog.secureboot");
	log_close(&x);
}
END_TEST

START_TEST(mb_log_required_and_forbidden_events)
{
	struct logfx x;
	struct verdict vd;

	log_open(&x, SB_LOG);
	vd = check_text("name: t\nmeasured_boot:\n"
	    "  require_events: [EV_EFI_HCRTM_EVENT]\n"
	    "  forbid_events: [EV_SEPARATOR]\n", &x.f);
	ck_assert_uint_eq(vd.nfail, 2);
	ck_assert(has_detail(&vd, "eventlog.event", "required event "
	    "EV_EFI_HCRTM_EVENT not in the log"));
	ck_assert(has_detail(&vd, "eventlog.event", "forbidden event "
	    "EV_SEPARATOR in the log"));
	log_close(&x);
}
END_TEST

static char *
generate(const char *name)
{
	size_t len;
	uint8_t *d = fx_read(name, &len);
	char *text = NULL;
	int r;

	r = policy_from_eventlog(d, len, "gen", TPM2_ALG_SHA256, name, &text);
	ck_assert_msg(r == ASSAY_OK, "generate: %s", assay_err_detail());
	free(d);
	return text;
}

START_TEST(mb_generated_policy_passes_its_log)
{
	static const char *logs[] = { SB_LOG, NOSB_LOG, OVMF_LOG,
	    "go-tpm-tools/ubuntu-2104-no-secure-boot.bin",
	    "go-tpm-tools/rhel8-uefi.bin" };
	struct logfx x;
	struct verdict vd;
	char *text;
	size_t i;

	for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		text = generate(logs[i]);
		log_open(&x, logs[i]);
		vd = check_text(text, &x.f);
		ck_assert_msg(vd.nfail == 0, "%s: %s: %s", logs[i],
		    vd.nfail ? vd.fail[0].id : "-",
		    vd.nfail ? vd.fail[0].detail : "-");
		log_close(&x);
		free(text);
	}
}
END_TEST

/*
 * Every copied log whose sha256 bank a policy can be made from passes the
 * policy made from it: the label-free classification (bind.h) keeps
 * honest logs trusted.
 */
START_TEST(mb_generated_policy_passes_every_copied_log)
{
	const char *base = getenv("ASSAY_TEST_DATA");
	char dir[512], name[1024];
	struct dirent *de, *fe;
	struct logfx x;
	struct verdict vd;
	struct eventlog el;
	uint8_t *d;
	size_t len, checked = 0;
	char *text;
	DIR *top, *sub;

	snprintf(dir, sizeof(dir), "%s/eventlog", base != NULL ? base : "tests/data");
	ck_assert_ptr_nonnull(top = opendir(dir));
	while ((de = readdir(top)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s", dir, de->d_name);
		if ((sub = opendir(name)) == NULL)
			continue;
		while ((fe = readdir(sub)) != NULL) {
			if (fe->d_name[0] == '.' || fe->d_type != DT_REG ||
			    strstr(fe->d_name, ".yaml") ||
			    strstr(fe->d_name, ".json") || strstr(fe->d_name, ".err"))
				continue;
			snprintf(name, sizeof(name), "%s/%s", de->d_name, fe->d_name);
			d = fx_read(name, &len);
			text = NULL;
			if (eventlog_parse(d, len, &el) != 0) {
				free(d);
				continue;
			}
			eventlog_free(&el);
			if (policy_from_eventlog(d, len, "gen", TPM2_ALG_SHA256, name,
			    &text) != 0) {
				free(d);
				continue;	/* no sha256 bank */
			}
			free(d);
			log_open(&x, name);
			vd = check_text(text, &x.f);
			ck_assert_msg(vd.nfail == 0, "%s: %s: %s", name,
			    vd.nfail ? vd.fail[0].id : "-",
			    vd.nfail ? vd.fail[0].detail : "-");
			log_close(&x);
			free(text);
			checked++;
		}
		closedir(sub);
	}
	closedir(top);
	ck_assert_uint_ge(checked, 30);
}
END_TEST

START_TEST(mb_generated_policy_secure_boot_required_when_on)
{
	char *text;

	text = generate(SB_LOG);
	ck_assert_ptr_nonnull(strstr(text, "  secure_boot: required\n"));
	ck_assert_ptr_nonnull(strstr(text, "\"" SB_PK "\""));
	ck_assert_ptr_nonnull(strstr(text, "\"" SB_DBX "\""));
	free(text);
	text = generate(OVMF_LOG);
	ck_assert_ptr_nonnull(strstr(text, "  secure_boot: allowed\n"));
	ck_assert_ptr_nonnull(strstr(text, "# REVIEW: secure boot was"));
	free(text);
}
END_TEST

START_TEST(mb_generated_policy_rejects_other_log)
{
	struct logfx x;
	struct verdict vd;
	char *text;

	text = generate(SB_LOG);
	log_open(&x, NOSB_LOG);
	vd = check_text(text, &x.f);
	ck_assert(has_detail(&vd, "eventlog.secureboot", "SecureBoot is off"));
	ck_assert(has_detail(&vd, "eventlog.pk", "not allowed"));
	ck_assert(has_detail(&vd, "eventlog.boot_app", "shimx64.efi"));
	ck_assert(has_detail(&vd, "eventlog.cmdline", "not allowed"));
	log_close(&x);
	free(text);
	/* A secure-boot-off QEMU policy against the RHEL log. */
	text = generate(OVMF_LOG);
	log_open(&x, SB_LOG);
	vd = check_text(text, &x.f);
	ck_assert(has_detail(&vd, "eventlog.boot_app", "not allowed"));
	log_close(&x);
	free(text);
}
END_TEST

START_TEST(mb_from_eventlog_command_writes_file)
{
	char dir[] = "/tmp/test_policy_mb.XXXXXX", *out, *log, *text;
	char *words[9] = { "policy" }, **argv = words + 1;
	struct logfx x;
	struct verdict vd;
	size_t len;
	FILE *f;
	long n;
	const char *data = getenv("ASSAY_TEST_DATA");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	out = xasprintf("%s/p.yaml", dir);
	log = xasprintf("%s/eventlog/%s", data ? data : "tests/data", SB_LOG);
	argv[0] = "from-eventlog";
	argv[1] = log;
	argv[2] = "--name";
	argv[3] = "rhel9";
	argv[4] = "-o";
	argv[5] = out;
	argv[6] = NULL;
	ck_assert_int_eq(cmd_run(NULL, 7, words), 0);
	ck_assert_ptr_nonnull(f = fopen(out, "r"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = xcalloc(1, (size_t)n + 1);
	len = fread(text, 1, (size_t)n, f);
	ck_assert_uint_eq(len, (size_t)n);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "name: \"rhel9\"\n"));
	log_open(&x, SB_LOG);
	vd = check_text(text, &x.f);
	assert_ok(&vd);
	log_close(&x);
	/* Usage errors: no file, unknown bank. */
	argv[1] = "--bank";
	argv[2] = "md5";
	argv[3] = log;
	argv[4] = NULL;
	ck_assert_int_eq(cmd_run(NULL, 5, words), 2);
	unlink(out);
	rmdir(dir);
	free(text);
	free(out);
	free(log);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy_mb_logs");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, mb_log_secure_boot_on_passes_checks);
	tcase_add_test(tc, mb_log_unlisted_boot_app_named);
	tcase_add_test(tc, mb_log_secure_boot_off_fails_required);
	tcase_add_test(tc, mb_log_tampered_pk_not_verified);
	tcase_add_test(tc, mb_log_tampered_secure_boot_not_verified);
	tcase_add_test(tc, mb_log_required_and_forbidden_events);
	tcase_add_test(tc, mb_generated_policy_passes_its_log);
	tcase_add_test(tc, mb_generated_policy_passes_every_copied_log);
	tcase_add_test(tc, mb_generated_policy_secure_boot_required_when_on);
	tcase_add_test(tc, mb_generated_policy_rejects_other_log);
	tcase_add_test(tc, mb_from_eventlog_command_writes_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
