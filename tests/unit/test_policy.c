/*
 * test_policy.c — compiling policies (YAML and JSON), the errors that name
 * the offending line, the static PCR check and its failure ids, the quote
 * selection and the reference count.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/evidence/pcr.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/appraise/policy.h"

/* Digests used throughout: every byte = b, as 2*n hex digits. */
static const char *
hexrep(char *buf, size_t n, unsigned b)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", b);
	return buf;
}

static void
digest(uint8_t *d, size_t n, unsigned b)
{
	memset(d, (int)b, n);
}

#define H32(b)	hexrep((char[65]){ 0 }, 32, (b))

static struct policy *
compile_ok(const char *text)
{
	struct policy *p = NULL;
	int r;

	assay_err_clear();
	r = policy_compile(text, strlen(text), NULL, &p);
	ck_assert_msg(r == ASSAY_OK, "compile: %s: %s", assay_strerror(r),
	    assay_err_detail());
	ck_assert_ptr_nonnull(p);
	return p;
}

static int
compile_err(const char *text, const char *name)
{
	struct policy *p = (struct policy *)1;
	int r;

	assay_err_clear();
	r = policy_compile(text, strlen(text), name, &p);
	ck_assert_ptr_null(p);
	return r;
}

/* PCR 7 allows 0x07.. or 0x77..; PCR 14 allows 0x14.. */
static char yaml_form[1024], json_form[1024];

static void
forms_setup(void)
{
	char a[65], b[65], c[65];

	hexrep(a, 32, 0x07);
	hexrep(b, 32, 0x77);
	hexrep(c, 32, 0x14);
	snprintf(yaml_form, sizeof(yaml_form),
	    "# comment\n"
	    "name: web-fleet\n"
	    "description: hosts behind the load balancer\n"
	    "bank: sha256\n"
	    "pcrs:\n"
	    "  7:\n"
	    "    - %s\n"
	    "    - \"%s\"\n"
	    "  14: %s\n", a, b, c);
	snprintf(json_form, sizeof(json_form),
	    "{\"name\": \"web-fleet\", \"bank\": \"sha256\",\n"
	    " \"description\": \"hosts behind the load balancer\",\n"
	    " \"pcrs\": {\"7\": [\"%s\", \"%s\"], \"14\": [\"%s\"]}}\n",
	    a, b, c);
}

/* sha256 values for PCRs 0-23, each byte = PCR index. */
static void
values_all(struct pcr_values *v)
{
	uint8_t d[32];
	unsigned i;

	pcr_values_init(v);
	for (i = 0; i < TPM2_PCR_COUNT; i++) {
		digest(d, sizeof(d), i == 14 ? 0x14 : i);
		ck_assert_int_eq(pcr_values_set(v, TPM2_ALG_SHA256, i, d,
		    sizeof(d)), ASSAY_OK);
	}
}

static void
set_pcr(struct pcr_values *v, uint16_t alg, unsigned pcr, unsigned b, size_t n)
{
	uint8_t d[TPM2_MAX_DIGEST];

	digest(d, n, b);
	ck_assert_int_eq(pcr_values_set(v, alg, pcr, d, n), ASSAY_OK);
}

START_TEST(policy_yaml_compiles)
{
	struct policy *p = compile_ok(yaml_form);

	ck_assert_str_eq(policy_name(p), "web-fleet");
	ck_assert_uint_eq(policy_bank(p), TPM2_ALG_SHA256);
	policy_unref(p);
}
END_TEST

/* Same name, bank, selection and check results for both forms. */
START_TEST(policy_json_compiles_to_same_as_yaml)
{
	struct policy *py = compile_ok(yaml_form), *pj = compile_ok(json_form);
	struct pcr_selection sy, sj;
	struct pcr_values v;
	struct verdict vy, vj;
	static const unsigned probes[] = { 0x07, 0x77, 0x70, 0x00 };
	size_t i;

	ck_assert_str_eq(policy_name(py), policy_name(pj));
	ck_assert_uint_eq(policy_bank(py), policy_bank(pj));
	policy_selection(py, &sy);
	policy_selection(pj, &sj);
	ck_assert(pcr_selection_equal(&sy, &sj));
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		values_all(&v);
		set_pcr(&v, TPM2_ALG_SHA256, 7, probes[i], 32);
		verdict_init(&vy);
		verdict_init(&vj);
		policy_check_pcrs(py, &v, &vy);
		policy_check_pcrs(pj, &v, &vj);
		ck_assert_int_eq(verdict_ok(&vy), verdict_ok(&vj));
		ck_assert_uint_eq(vy.nfail, vj.nfail);
		if (vy.nfail > 0)
			ck_assert_str_eq(vy.fail[0].detail, vj.fail[0].detail);
	}
	policy_unref(py);
	policy_unref(pj);
}
END_TEST

START_TEST(policy_default_bank_is_sha256)
{
	struct policy *p = compile_ok("name: x\n");

	ck_assert_uint_eq(policy_bank(p), TPM2_ALG_SHA256);
	policy_unref(p);
}
END_TEST

START_TEST(policy_other_banks_use_their_digest_length)
{
	char h[129], text[512];
	struct policy *p;

	snprintf(text, sizeof(text), "name: x\nbank: sha384\npcrs: {0: %s}\n",
	    hexrep(h, 48, 0xab));
	p = compile_ok(text);
	ck_assert_uint_eq(policy_bank(p), TPM2_ALG_SHA384);
	policy_unref(p);
	/* bank: after pcrs: still decides the length */
	snprintf(text, sizeof(text), "name: x\npcrs: {0: %s}\nallow_sha1: true\nbank: sha1\n",
	    hexrep(h, 20, 0xab));
	p = compile_ok(text);
	ck_assert_uint_eq(policy_bank(p), TPM2_ALG_SHA1);
	policy_unref(p);
}
END_TEST

START_TEST(policy_unknown_bank_rejected)
{
	ck_assert_int_eq(compile_err("name: x\nbank: md5\n", NULL),
	    ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "line 2: unknown bank"));
}
END_TEST

START_TEST(policy_name_argument_must_match)
{
	struct policy *p = NULL;

	ck_assert_int_eq(compile_err("name: web\n", "db"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(),
	    "line 1: policy name 'web' does not match 'db'");
	ck_assert_int_eq(policy_compile("name: web\n", 10, "web", &p), ASSAY_OK);
	policy_unref(p);
}
END_TEST

START_TEST(policy_name_argument_supplies_missing_name)
{
	struct policy *p = NULL;
	const char *text = "bank: sha256\n";

	ck_assert_int_eq(policy_compile(text, strlen(text), "given", &p),
	    ASSAY_OK);
	ck_assert_str_eq(policy_name(p), "given");
	policy_unref(p);
}
END_TEST

START_TEST(policy_without_any_name_rejected)
{
	ck_assert_int_eq(compile_err("bank: sha256\n", NULL), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "no name"));
}
END_TEST

START_TEST(policy_invalid_name_rejected)
{
	ck_assert_int_eq(compile_err("\nname: a/b\n", NULL), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "line 2: invalid policy name"));
	ck_assert_int_eq(compile_err("name: ok\n", "../x"), ASSAY_ERR_INVAL);
}
END_TEST

START_TEST(policy_name_valid_rules)
{
	char longname[POLICY_NAME_MAX + 2];

	ck_assert(policy_name_valid("web-fleet_2.prod"));
	ck_assert(!policy_name_valid(""));
	ck_assert(!policy_name_valid(NULL));
	ck_assert(!policy_name_valid("a b"));
	ck_assert(!policy_name_valid("a/b"));
	ck_assert(!policy_name_valid(".."));
	memset(longname, 'a', sizeof(longname));
	longname[POLICY_NAME_MAX] = '\0';
	ck_assert(policy_name_valid(longname));
	longname[POLICY_NAME_MAX] = 'a';
	longname[POLICY_NAME_MAX + 1] = '\0';
	ck_assert(!policy_name_valid(longname));
}
END_TEST

START_TEST(policy_bad_hex_rejected)
{
	char text[256], h[65];

	hexrep(h, 32, 0x01);
	h[10] = 'g';
	snprintf(text, sizeof(text), "name: x\npcrs:\n  0:\n    - %s\n", h);
	ck_assert_int_eq(compile_err(text, NULL), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: PCR 0 value is not hex");
}
END_TEST

START_TEST(policy_uppercase_hex_accepted)
{
	char text[256], h[65];
	struct policy *p;
	struct pcr_values v;
	struct verdict vd;
	size_t i;

	hexrep(h, 32, 0xab);
	for (i = 0; h[i] != '\0'; i++)
		h[i] = (char)(h[i] == 'a' ? 'A' : h[i] == 'b' ? 'B' : h[i]);
	snprintf(text, sizeof(text), "name: x\npcrs: {3: %s}\n", h);
	p = compile_ok(text);
	pcr_values_init(&v);
	set_pcr(&v, TPM2_ALG_SHA256, 3, 0xab, 32);
	verdict_init(&vd);
	policy_check_pcrs(p, &v, &vd);
	ck_assert(verdict_ok(&vd));
	policy_unref(p);
}
END_TEST

START_TEST(policy_sha1_bank_needs_explicit_consent)
{
	ck_assert_int_eq(compile_err("name: x\nbank: sha1\n", NULL), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "allow_sha1"));
	ck_assert_int_eq(compile_err("name: x\nallow_sha1: maybe\n", NULL),
	    ASSAY_ERR_CONFIG);
}
END_TEST

START_TEST(policy_wrong_digest_length_for_bank_rejected)
{
	char text[256];

	snprintf(text, sizeof(text), "name: x\nallow_sha1: true\nbank: sha1\npcrs:\n  0: %s\n",
	    H32(0x01));
	ck_assert_int_eq(compile_err(text, NULL), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(),
	    "line 5: PCR 0 value has 64 hex digits, sha1 needs 40");
}
END_TEST

START_TEST(policy_pcr_24_rejected)
{
	char text[256];

	snprintf(text, sizeof(text), "name: x\npcrs:\n  23: %s\n  24: %s\n",
	    H32(1), H32(2));
	ck_assert_int_eq(compile_err(text, NULL), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(),
	    "line 4: PCR index '24' out of range 0-23");
}
END_TEST

START_TEST(policy_non_numeric_pcr_rejected)
{
	char text[256];

	snprintf(text, sizeof(text), "name: x\npcrs:\n  -1: %s\n", H32(1));
	ck_assert_int_eq(compile_err(text, NULL), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "line 3: PCR index"));
}
END_TEST

START_TEST(policy_duplicate_pcr_rejected)
{
	char text[256];

	snprintf(text, sizeof(text), "name: x\npcrs:\n  7: %s\n  07: %s\n",
	    H32(1), H32(2));
	ck_assert_int_eq(compile_err(text, NULL), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: PCR 7 listed twice");
}
END_TEST

START_TEST(policy_empty_value_list_rejected)
{
	ck_assert_int_eq(compile_err("name: x\npcrs:\n  7: []\n", NULL),
	    ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "PCR 7 has no allowed values"));
}
END_TEST

START_TEST(policy_unknown_key_names_line)
{
	ck_assert_int_eq(compile_err("name: x\nbank: sha256\n\npcr:\n  0: ab\n",
	    NULL), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: unknown key 'pcr'");
}
END_TEST

START_TEST(policy_duplicate_section_rejected)
{
	ck_assert_int_eq(compile_err("name: x\nbank: sha1\nbank: sha256\n",
	    NULL), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: duplicate key 'bank'");
}
END_TEST

START_TEST(policy_ima_section_compiles)
{
	struct policy *p = NULL;
	static const char y[] = "name: x\nima:\n  unknown: fail\nallow_sha1: true\nbank: sha1\n";

	ck_assert_int_eq(policy_compile(y, sizeof(y) - 1, NULL, &p), ASSAY_OK);
	ck_assert_ptr_nonnull(policy_ima(p));
	ck_assert_uint_eq(policy_bank(p), TPM2_ALG_SHA1);
	policy_unref(p);
}
END_TEST

START_TEST(policy_without_ima_has_no_ima_policy)
{
	struct policy *p = NULL;

	ck_assert_int_eq(policy_compile("name: x\n", 8, NULL, &p), ASSAY_OK);
	ck_assert_ptr_null(policy_ima(p));
	policy_unref(p);
}
END_TEST

START_TEST(policy_ima_section_error_has_line)
{
	ck_assert_int_eq(compile_err("name: x\nima:\n  unknown: maybe\n",
	    NULL), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(),
	    "line 3: unknown must be fail or warn");
}
END_TEST

START_TEST(policy_measured_boot_section_compiled)
{
	struct policy *p;

	p = compile_ok("name: x\n\nmeasured_boot: {}\n");
	ck_assert_ptr_nonnull(policy_mb(p));
	policy_unref(p);
	p = compile_ok("name: x\n");
	ck_assert_ptr_null(policy_mb(p));
	policy_unref(p);
	ck_assert_int_eq(compile_err("name: x\n\nmeasured_boot:\n"
	    "  secure_boot: maybe\n", NULL), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: secure_boot 'maybe': "
	    "want required or allowed");
}
END_TEST

START_TEST(policy_non_mapping_and_empty_rejected)
{
	ck_assert_int_eq(compile_err("[1, 2]\n", NULL), ASSAY_ERR_CONFIG);
	ck_assert_int_eq(compile_err("", NULL), ASSAY_ERR_CONFIG);
	ck_assert_int_eq(compile_err("name: x\n---\nname: y\n", NULL),
	    ASSAY_ERR_CONFIG);
	ck_assert_int_eq(compile_err("{\"name\": \"x\"", NULL), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "line "));
}
END_TEST

START_TEST(policy_check_passes_with_allowed_values)
{
	struct policy *p = compile_ok(yaml_form);
	struct pcr_values v;
	struct verdict vd;

	values_all(&v);		/* PCR 7 = 0x07.., PCR 14 = 0x14.. */
	verdict_init(&vd);
	policy_check_pcrs(p, &v, &vd);
	ck_assert(verdict_ok(&vd));
	set_pcr(&v, TPM2_ALG_SHA256, 7, 0x77, 32);	/* the other allowed */
	verdict_init(&vd);
	policy_check_pcrs(p, &v, &vd);
	ck_assert(verdict_ok(&vd));
	policy_unref(p);
}
END_TEST

START_TEST(policy_check_fails_naming_pcr_with_other_value)
{
	struct policy *p = compile_ok(yaml_form);
	struct pcr_values v;
	struct verdict vd;
	char want[256];

	values_all(&v);
	set_pcr(&v, TPM2_ALG_SHA256, 7, 0x70, 32);
	verdict_init(&vd);
	policy_check_pcrs(p, &v, &vd);
	ck_assert(!verdict_ok(&vd));
	ck_assert_uint_eq(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "pcr.value");
	snprintf(want, sizeof(want), "PCR 7 (sha256) is %s, not an allowed value",
	    H32(0x70));
	ck_assert_str_eq(vd.fail[0].detail, want);
	policy_unref(p);
}
END_TEST

START_TEST(policy_check_fails_when_not_reported)
{
	struct policy *p = compile_ok(yaml_form);
	struct pcr_values v;
	struct verdict vd;

	pcr_values_init(&v);
	set_pcr(&v, TPM2_ALG_SHA256, 7, 0x07, 32);
	set_pcr(&v, TPM2_ALG_SHA1, 14, 0x14, 20);	/* wrong bank */
	verdict_init(&vd);
	policy_check_pcrs(p, &v, &vd);
	ck_assert_uint_eq(vd.nfail, 1);
	ck_assert_str_eq(vd.fail[0].id, "pcr.value");
	ck_assert_str_eq(vd.fail[0].detail, "PCR 14 (sha256) not reported");
	policy_unref(p);
}
END_TEST

START_TEST(policy_selection_is_0_to_10_plus_pinned)
{
	struct policy *p = compile_ok(yaml_form);
	struct pcr_selection sel;

	policy_selection(p, &sel);
	ck_assert_uint_eq(sel.n, 1);
	ck_assert_uint_eq(sel.bank[0].hash, TPM2_ALG_SHA256);
	ck_assert_uint_eq(sel.bank[0].mask, 0x7ffu | (1u << 14));
	policy_unref(p);
	p = compile_ok("name: x\nallow_sha1: true\nbank: sha1\n");
	policy_selection(p, &sel);
	ck_assert_uint_eq(sel.bank[0].hash, TPM2_ALG_SHA1);
	ck_assert_uint_eq(sel.bank[0].mask, 0x7ffu);
	policy_unref(p);
}
END_TEST

START_TEST(policy_ref_keeps_it_alive)
{
	struct policy *p = compile_ok(yaml_form), *q;

	q = policy_ref(p);
	ck_assert_ptr_eq(q, p);
	policy_unref(p);
	/* under ASan a premature free makes this a use-after-free */
	ck_assert_str_eq(policy_name(q), "web-fleet");
	policy_unref(q);
	policy_unref(NULL);
}
END_TEST

static void *
ref_worker(void *arg)
{
	struct policy *p = arg;
	int i;

	for (i = 0; i < 100000; i++)
		policy_unref(policy_ref(p));
	return NULL;
}

START_TEST(policy_refcount_is_thread_safe)
{
	struct policy *p = compile_ok(yaml_form);
	pthread_t t[4];
	size_t i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, ref_worker, p), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_str_eq(policy_name(p), "web-fleet");
	policy_unref(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(tc, forms_setup, NULL);
	tcase_add_test(tc, policy_yaml_compiles);
	tcase_add_test(tc, policy_json_compiles_to_same_as_yaml);
	tcase_add_test(tc, policy_default_bank_is_sha256);
	tcase_add_test(tc, policy_other_banks_use_their_digest_length);
	tcase_add_test(tc, policy_unknown_bank_rejected);
	tcase_add_test(tc, policy_name_argument_must_match);
	tcase_add_test(tc, policy_name_argument_supplies_missing_name);
	tcase_add_test(tc, policy_without_any_name_rejected);
	tcase_add_test(tc, policy_invalid_name_rejected);
	tcase_add_test(tc, policy_name_valid_rules);
	tcase_add_test(tc, policy_bad_hex_rejected);
	tcase_add_test(tc, policy_uppercase_hex_accepted);
	tcase_add_test(tc, policy_wrong_digest_length_for_bank_rejected);
	tcase_add_test(tc, policy_sha1_bank_needs_explicit_consent);
	tcase_add_test(tc, policy_pcr_24_rejected);
	tcase_add_test(tc, policy_non_numeric_pcr_rejected);
	tcase_add_test(tc, policy_duplicate_pcr_rejected);
	tcase_add_test(tc, policy_empty_value_list_rejected);
	tcase_add_test(tc, policy_unknown_key_names_line);
	tcase_add_test(tc, policy_duplicate_section_rejected);
	tcase_add_test(tc, policy_ima_section_compiles);
	tcase_add_test(tc, policy_without_ima_has_no_ima_policy);
	tcase_add_test(tc, policy_ima_section_error_has_line);
	tcase_add_test(tc, policy_measured_boot_section_compiled);
	tcase_add_test(tc, policy_non_mapping_and_empty_rejected);
	tcase_add_test(tc, policy_check_passes_with_allowed_values);
	tcase_add_test(tc, policy_check_fails_naming_pcr_with_other_value);
	tcase_add_test(tc, policy_check_fails_when_not_reported);
	tcase_add_test(tc, policy_selection_is_0_to_10_plus_pinned);
	tcase_add_test(tc, policy_ref_keeps_it_alive);
	tcase_add_test(tc, policy_refcount_is_thread_safe);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
