/*
 * test_policy_ima.c — the ima: policy section: compile (YAML and JSON),
 * compile errors with their line, glob semantics, and the verdict of
 * ima_policy_check() for each rule, on hand-built entries.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"

#define D1 "1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "3333333333333333333333333333333333333333333333333333333333333333"
#define S1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const char base_yaml[] =
    "name: t\n"
    "ima:\n"
    "  allow:\n"
    "    /usr/bin/bash: [ \"sha256:" D1 "\" ]\n"
    "    /usr/bin/ls:\n"
    "      - " D2 "\n"
    "      - sha1:" S1 "\n"
    "  allow_digests: [ \"" D3 "\" ]\n"
    "  exclude: [ \"/tmp/**\", \"/proc/*/fd\", \"/var/**/cache/*.db\" ]\n"
    "  buffers:\n"
    "    kexec-cmdline: [ \"sha256:" D1 "\" ]\n"
    "  unknown: fail\n"
    "bank: sha256\n";

struct fx {
	struct policy		*pol;
	const struct ima_policy	*ip;
	struct ima_entry	 e;
	uint8_t			 d[TPM2_MAX_DIGEST];
	char			 name[256];
	struct verdict		 vd;
};

static void
fx_compile(struct fx *f, const char *text)
{
	int r;

	memset(f, 0, sizeof(*f));
	r = policy_compile(text, strlen(text), NULL, &f->pol);
	ck_assert_msg(r == ASSAY_OK, "%s", assay_err_detail());
	f->ip = policy_ima(f->pol);
	ck_assert_ptr_nonnull(f->ip);
}

/* Entry with a path and "alg:hex" or bare hex digest. */
static void
fx_entry(struct fx *f, int tmpl, const char *path, uint16_t alg, const char *hex)
{
	size_t n;

	memset(&f->e, 0, sizeof(f->e));
	f->e.pcr = 10;
	f->e.tmpl = tmpl;
	snprintf(f->name, sizeof(f->name), "%s", path);
	cur_init(&f->e.name, f->name, strlen(f->name));
	ck_assert_int_eq(hex_decode(hex, f->d, sizeof(f->d), &n), 0);
	f->e.dalg = alg;
	cur_init(&f->e.digest, f->d, n);
	verdict_init(&f->vd);
}

static void
fx_check(struct fx *f)
{
	ima_policy_check(f->ip, &f->e, &f->vd);
}

static void
fx_free(struct fx *f)
{
	policy_unref(f->pol);
}

static int
compile_err(const char *text)
{
	struct policy *p = NULL;
	int r = policy_compile(text, strlen(text), "t", &p);

	ck_assert_ptr_null(p);
	return r;
}

START_TEST(non_ascii_text_before_the_ima_section_compiles)
{
	/* libyaml counts characters: the section cut must be in bytes. */
	static const char text[] =
	    "name: t\n"
	    "# caf\xc3\xa9 \xe2\x80\x94 a comment with UTF-8\n"
	    "description: \"na\xc3\xafve \xf0\x9f\x94\x92\"\n"
	    "ima:\n"
	    "  allow_digests: [\"sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000000\"]\n"
	    "bank: sha256\n";
	struct policy *p = NULL;

	ck_assert_msg(policy_compile(text, strlen(text), "t", &p) == ASSAY_OK, "%s",
	    assay_err_detail());
	ck_assert_ptr_nonnull(policy_ima(p));
	policy_unref(p);
}
END_TEST

START_TEST(crowded_digests_are_all_found)
{
	/* 300 digests alike but for their last bytes share one bucket. */
	char *text = xmalloc(300 * 80 + 64), hex[65];
	size_t o, i;
	struct fx f;

	o = (size_t)sprintf(text, "name: t\nima:\n  allow_digests:\n");
	for (i = 0; i < 300; i++)
		o += (size_t)sprintf(text + o, "    - sha256:%060zx%04zx\n",
		    (size_t)0, (i * 7919) % 300 * 2);	/* even, shuffled */
	fx_compile(&f, text);
	for (i = 0; i < 600; i++) {
		snprintf(hex, sizeof(hex), "%060zx%04zx", (size_t)0, i);
		fx_entry(&f, IMA_TMPL_IMA_NG, "/x", TPM2_ALG_SHA256, hex);
		fx_check(&f);
		ck_assert_uint_eq(f.vd.nfail, i % 2);
	}
	fx_free(&f);
	free(text);
}
END_TEST

START_TEST(allowed_digest_for_path_passes)
{
	struct fx f;

	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/usr/bin/bash", TPM2_ALG_SHA256, D1);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail + f.vd.nnotice, 0);
	fx_entry(&f, IMA_TMPL_IMA, "/usr/bin/ls", TPM2_ALG_SHA1, S1);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail + f.vd.nnotice, 0);
	fx_free(&f);
}
END_TEST

START_TEST(known_path_other_digest_is_not_allowed)
{
	struct fx f;

	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/usr/bin/bash", TPM2_ALG_SHA256, D2);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail, 1);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert_str_eq(f.vd.fail[0].detail, "/usr/bin/bash: sha256:" D2
	    " not allowed for this path");
	fx_free(&f);
}
END_TEST

START_TEST(allow_digests_passes_for_any_path)
{
	struct fx f;

	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/opt/x", TPM2_ALG_SHA256, D3);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail + f.vd.nnotice, 0);
	/* also for a path listed with other digests */
	fx_entry(&f, IMA_TMPL_IMA_NG, "/usr/bin/bash", TPM2_ALG_SHA256, D3);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail + f.vd.nnotice, 0);
	fx_free(&f);
}
END_TEST

START_TEST(same_bytes_other_algorithm_are_different_digests)
{
	struct fx f;

	fx_compile(&f, "name: t\nima:\n  allow_digests: [ \"sha256:" D3 "\" ]\n");
	fx_entry(&f, IMA_TMPL_IMA_NG, "/x", TPM2_ALG_SM3_256, D3);
	fx_check(&f);
	ck_assert(verdict_has(&f.vd, "ima.not_allowed"));
	fx_free(&f);
}
END_TEST

START_TEST(unknown_file_fails_in_fail_mode)
{
	struct fx f;

	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/opt/evil", TPM2_ALG_SHA256, D2);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail, 1);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert_str_eq(f.vd.fail[0].detail, "file /opt/evil: sha256:" D2
	    " unknown to the policy");
	fx_free(&f);
}
END_TEST

START_TEST(unknown_file_is_notice_in_warn_mode)
{
	struct fx f;

	fx_compile(&f, "name: t\nima:\n  unknown: warn\n  allow:\n"
	    "    /a: [ " D1 " ]\n");
	fx_entry(&f, IMA_TMPL_IMA_NG, "/opt/evil", TPM2_ALG_SHA256, D2);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail, 0);
	ck_assert_uint_eq(f.vd.nnotice, 1);
	ck_assert_str_eq(f.vd.notice[0].id, "ima.unknown");
	ck_assert(verdict_ok(&f.vd));
	/* a known path with a wrong digest still fails */
	fx_entry(&f, IMA_TMPL_IMA_NG, "/a", TPM2_ALG_SHA256, D2);
	fx_check(&f);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	fx_free(&f);
}
END_TEST

START_TEST(excluded_paths_pass_whatever_digest)
{
	static const char *yes[] = { "/tmp/x", "/tmp/a/b/c", "/tmp",
	    "/proc/1/fd", "/var/lib/cache/x.db", "/var/a/b/cache/rpm.db" };
	struct fx f;
	size_t i;

	fx_compile(&f, base_yaml);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		fx_entry(&f, IMA_TMPL_IMA_NG, yes[i], TPM2_ALG_SHA256, D2);
		fx_check(&f);
		ck_assert_msg(f.vd.nfail == 0, "%s", yes[i]);
	}
	fx_free(&f);
}
END_TEST

START_TEST(glob_star_stays_in_segment)
{
	ck_assert(ima_glob_match("/proc/*/fd", "/proc/12/fd", 11));
	ck_assert(!ima_glob_match("/proc/*/fd", "/proc/1/2/fd", 12));
	ck_assert(!ima_glob_match("/proc/*/fd", "/proc/1/fdx", 11));
	ck_assert(ima_glob_match("/a/*.so", "/a/x.so", 7));
	ck_assert(!ima_glob_match("/a/*.so", "/a/b/x.so", 9));
	ck_assert(ima_glob_match("/a/x*y*z", "/a/xaaybbz", 10));
}
END_TEST

START_TEST(glob_double_star_spans_segments)
{
	ck_assert(ima_glob_match("/tmp/**", "/tmp/a/b", 8));
	ck_assert(ima_glob_match("/tmp/**", "/tmp", 4));
	ck_assert(!ima_glob_match("/tmp/**", "/tmpx/a", 7));
	ck_assert(ima_glob_match("/a/**/b", "/a/b", 4));
	ck_assert(ima_glob_match("/a/**/b", "/a/x/y/b", 8));
	ck_assert(!ima_glob_match("/a/**/b", "/a/x/y/c", 8));
	ck_assert(ima_glob_match("/**/*.pyc", "/usr/lib/x.pyc", 14));
	ck_assert(!ima_glob_match("/usr/**", "/etc/usr/x", 10));
}
END_TEST

START_TEST(glob_invalid_patterns_rejected)
{
	ck_assert_ptr_nonnull(ima_glob_invalid("tmp/**"));
	ck_assert_ptr_nonnull(ima_glob_invalid(""));
	ck_assert_ptr_nonnull(ima_glob_invalid("/a/b**"));
	ck_assert_ptr_nonnull(ima_glob_invalid("/a/***"));
	ck_assert_ptr_null(ima_glob_invalid("/a/**/b*"));
	ck_assert_int_eq(compile_err("ima:\n  exclude:\n    - /ok/**\n"
	    "    - relative/*\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: exclude pattern "
	    "'relative/*' must be an absolute path");
}
END_TEST

START_TEST(bad_digests_rejected_with_line)
{
	ck_assert_int_eq(compile_err("ima:\n  allow_digests:\n    - "
	    "sha256:abcd\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 3: 'sha256:abcd' has the "
	    "wrong length for its algorithm");
	ck_assert_int_eq(compile_err("ima:\n  allow:\n    /x: [ md5:00 ]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert(strstr(assay_err_detail(), "line 3: 'md5:00' names an "
	    "unknown algorithm") == assay_err_detail());
	ck_assert_int_eq(compile_err("ima:\n  allow_digests: [ abc ]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert(strncmp(assay_err_detail(), "line 2: 'abc' is not a digest",
	    29) == 0);
	ck_assert_int_eq(compile_err("ima:\n  allow_digests: [ \"" S1
	    "zz\" ]\n"), ASSAY_ERR_CONFIG);
	ck_assert_int_eq(compile_err("ima:\n\n  allow_digests: [ "
	    "\"sha1:" "g" S1 "\" ]\n"), ASSAY_ERR_CONFIG);
	ck_assert(strncmp(assay_err_detail(), "line 3:", 7) == 0);
}
END_TEST

START_TEST(bad_keys_and_fields_rejected_with_line)
{
	ck_assert_int_eq(compile_err("ima:\n  keys: [ ima-signing.pem ]\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 2: keys must be inline PEM "
	    "public keys or certificates");
	ck_assert_int_eq(compile_err("ima:\n  keys:\n    - |\n      -----BEGIN "
	    "PUBLIC KEY-----\n      AAAA\n      -----END PUBLIC KEY-----\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert(strncmp(assay_err_detail(), "line 3: key:", 12) == 0);
	ck_assert_int_eq(compile_err("ima:\n  colour: red\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 2: unknown key 'ima.colour'");
	ck_assert_int_eq(compile_err("ima:\n  require_signature: maybe\n"),
	    ASSAY_ERR_CONFIG);
	ck_assert_int_eq(compile_err("ima:\n  allow:\n    /a: [ " D1 " ]\n"
	    "    /a: [ " D2 " ]\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 4: '/a' listed twice in allow");
	ck_assert_int_eq(compile_err("ima: [ 1 ]\n"), ASSAY_ERR_CONFIG);
	ck_assert_int_eq(compile_err("ima: {}\nima: {}\n"), ASSAY_ERR_CONFIG);
	ck_assert_int_eq(compile_err("x: &a [1]\nima:\n  exclude: *a\n"),
	    ASSAY_ERR_CONFIG);
}
END_TEST

START_TEST(json_policy_compiles)
{
	static const char json[] = "{\"name\": \"t\", \"ima\": {\"allow\": "
	    "{\"/usr/bin/bash\": [\"sha256:" D1 "\"]}, \"exclude\": "
	    "[\"/tmp/**\"], \"allow_digests\": [\"" D3 "\"], \"unknown\": "
	    "\"warn\"}, \"bank\": \"sha384\"}";
	struct fx f;

	fx_compile(&f, json);
	ck_assert_uint_eq(policy_bank(f.pol), TPM2_ALG_SHA384);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/usr/bin/bash", TPM2_ALG_SHA256, D1);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail + f.vd.nnotice, 0);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/usr/bin/bash", TPM2_ALG_SHA256, D2);
	fx_check(&f);
	ck_assert(verdict_has(&f.vd, "ima.not_allowed"));
	fx_free(&f);
}
END_TEST

START_TEST(sections_after_ima_keep_their_lines)
{
	ck_assert_int_eq(compile_err("ima:\n  allow:\n    /a: [ " D1 " ]\n"
	    "  exclude: [ /tmp/** ]\nbank: sha7\n"), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "line 5: unknown bank (want "
	    "sha1, sha256, sha384 or sha512)");
}
END_TEST

START_TEST(buffer_allowlist_by_name)
{
	struct fx f;

	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_BUF, "kexec-cmdline", TPM2_ALG_SHA256, D1);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail + f.vd.nnotice, 0);
	fx_entry(&f, IMA_TMPL_IMA_BUF, "kexec-cmdline", TPM2_ALG_SHA256, D3);
	fx_check(&f);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert_str_eq(f.vd.fail[0].detail, "buffer kexec-cmdline: sha256:"
	    D3 " not allowed");
	/* allow_digests does not cover buffers */
	fx_entry(&f, IMA_TMPL_IMA_BUF, "dm_table_load", TPM2_ALG_SHA256, D3);
	fx_check(&f);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert_str_eq(f.vd.fail[0].detail, "buffer dm_table_load: sha256:"
	    D3 " unknown to the policy");
	fx_free(&f);
}
END_TEST

/* The template name is unbound: a path labelled ima-buf is still a file. */
START_TEST(path_relabelled_ima_buf_is_judged_as_a_file)
{
	struct fx f;

	fx_compile(&f, "name: t\nima:\n  buffers:\n    /usr/bin/evil: [ "
	    "\"sha256:" D1 "\" ]\n  unknown: fail\n");
	fx_entry(&f, IMA_TMPL_IMA_BUF, "/usr/bin/evil", TPM2_ALG_SHA256, D1);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail, 1);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert(strstr(f.vd.fail[0].detail, "file /usr/bin/evil") != NULL);
	fx_free(&f);
}
END_TEST

/* The pre-5.8 SHA-1-padded extend binds by SHA-1: only on request. */
START_TEST(legacy_sha1_extend_is_opt_in)
{
	struct policy *p = NULL;
	static const char on[] = "name: t\nima:\n  legacy_sha1_extend: true\n";
	static const char off[] = "name: t\nima:\n  unknown: warn\n";

	ck_assert_int_eq(policy_compile(on, sizeof(on) - 1, NULL, &p), ASSAY_OK);
	ck_assert_int_eq(ima_policy_legacy_extend(policy_ima(p)), 1);
	policy_unref(p);
	ck_assert_int_eq(policy_compile(off, sizeof(off) - 1, NULL, &p), ASSAY_OK);
	ck_assert_int_eq(ima_policy_legacy_extend(policy_ima(p)), 0);
	policy_unref(p);
}
END_TEST

START_TEST(require_signature_without_signature_fails)
{
	struct fx f;

	fx_compile(&f, "name: t\nima:\n  require_signature: true\n"
	    "  allow_digests: [ " D1 " ]\n");
	fx_entry(&f, IMA_TMPL_IMA_SIG, "/usr/bin/x", TPM2_ALG_SHA256, D1);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail, 1);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.signature");
	ck_assert_str_eq(f.vd.fail[0].detail, "/usr/bin/x: no signature");
	fx_free(&f);
}
END_TEST

START_TEST(violation_is_not_allowed)
{
	struct fx f;

	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/var/x", TPM2_ALG_SHA256, D1);
	f.e.violation = 1;
	fx_check(&f);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert(strstr(f.vd.fail[0].detail, "measurement violation")
	    != NULL);
	fx_free(&f);
}
END_TEST

/* A violation's name and template are covered by nothing: judged first. */
START_TEST(violation_renamed_into_an_exclude_still_fails)
{
	struct fx f;

	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/tmp/anything", TPM2_ALG_SHA256, D1);
	f.e.violation = 1;
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail, 1);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert(strstr(f.vd.fail[0].detail, "measurement violation") != NULL);
	fx_free(&f);
}
END_TEST

START_TEST(violation_relabelled_ima_buf_still_fails)
{
	struct fx f;

	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_BUF, "kexec-cmdline", TPM2_ALG_SHA256, D1);
	f.e.violation = 1;
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail, 1);
	ck_assert(strstr(f.vd.fail[0].detail, "measurement violation") != NULL);
	fx_free(&f);
}
END_TEST

START_TEST(long_path_detail_is_truncated_not_overflowed)
{
	char path[600];
	struct fx f;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	fx_compile(&f, base_yaml);
	fx_entry(&f, IMA_TMPL_IMA_NG, "/", TPM2_ALG_SHA256, D2);
	cur_init(&f.e.name, path, strlen(path));
	fx_check(&f);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	ck_assert(strstr(f.vd.fail[0].detail, "sha256:" D2) != NULL);
	fx_free(&f);
}
END_TEST

static char *
load(const char *name, size_t *n)
{
	const char *dir = getenv("ASSAY_TEST_DATA");
	char *path = xasprintf("%s/ima/%s", dir ? dir : "tests/data", name);
	FILE *f = fopen(path, "rb");
	char *p = xmalloc(8192);

	ck_assert_msg(f != NULL, "cannot open %s", path);
	*n = fread(p, 1, 8191, f);
	p[*n] = '\0';
	fclose(f);
	free(path);
	return p;
}

/* Policy with the evmctl RSA key inline, entry signed by it. */
static void
fx_signed(struct fx *f, const char *extra, uint8_t **sig)
{
	char *pem, *hex, *y, *ind, *o;
	size_t n, slen, i;

	pem = load("evm-rsa.pub", &n);
	ind = xmalloc(2 * n + 1);
	for (i = 0, o = ind; i < n; i++) {
		*o++ = pem[i];
		if (pem[i] == '\n' && i + 1 < n)
			o += sprintf(o, "      ");
	}
	*o = '\0';
	y = xasprintf("name: t\nima:\n  keys:\n    - |\n      %s%s", ind, extra);
	fx_compile(f, y);
	hex = load("evm-file.sha256", &n);
	hex[64] = '\0';
	fx_entry(f, IMA_TMPL_IMA_SIG, "/usr/bin/signed", TPM2_ALG_SHA256, hex);
	*sig = (uint8_t *)load("evm-file.rsa.sig", &slen);
	cur_init(&f->e.sig, *sig, slen);
	free(pem);
	free(ind);
	free(y);
	free(hex);
}

START_TEST(good_signature_from_policy_key_passes)
{
	struct fx f;
	uint8_t *sig;

	fx_signed(&f, "  unknown: fail\n", &sig);
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail + f.vd.nnotice, 0);
	free(sig);
	fx_free(&f);
}
END_TEST

START_TEST(bad_signature_is_ima_signature)
{
	struct fx f;
	uint8_t *sig;

	fx_signed(&f, "", &sig);
	f.d[0] ^= 1;
	fx_check(&f);
	ck_assert_uint_eq(f.vd.nfail, 1);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.signature");
	ck_assert(strncmp(f.vd.fail[0].detail, "/usr/bin/signed: signature "
	    "does not verify", 40) == 0);
	free(sig);
	fx_free(&f);
}
END_TEST

START_TEST(unknown_key_with_require_signature_is_ima_signature)
{
	struct fx f;
	uint8_t *sig;

	fx_signed(&f, "  require_signature: true\n", &sig);
	sig[4] ^= 0xff;		/* keyid */
	fx_check(&f);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.signature");
	ck_assert(strstr(f.vd.fail[0].detail, "signed by unknown key") != NULL);
	free(sig);
	fx_free(&f);
}
END_TEST

START_TEST(unknown_key_without_require_falls_back_to_digests)
{
	struct fx f;
	uint8_t *sig;

	fx_signed(&f, "", &sig);
	sig[4] ^= 0xff;
	fx_check(&f);
	ck_assert_str_eq(f.vd.fail[0].id, "ima.not_allowed");
	free(sig);
	fx_free(&f);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("policy_ima");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, allowed_digest_for_path_passes);
	tcase_add_test(tc, crowded_digests_are_all_found);
	tcase_add_test(tc, non_ascii_text_before_the_ima_section_compiles);
	tcase_add_test(tc, known_path_other_digest_is_not_allowed);
	tcase_add_test(tc, allow_digests_passes_for_any_path);
	tcase_add_test(tc, same_bytes_other_algorithm_are_different_digests);
	tcase_add_test(tc, unknown_file_fails_in_fail_mode);
	tcase_add_test(tc, unknown_file_is_notice_in_warn_mode);
	tcase_add_test(tc, excluded_paths_pass_whatever_digest);
	tcase_add_test(tc, glob_star_stays_in_segment);
	tcase_add_test(tc, glob_double_star_spans_segments);
	tcase_add_test(tc, glob_invalid_patterns_rejected);
	tcase_add_test(tc, bad_digests_rejected_with_line);
	tcase_add_test(tc, bad_keys_and_fields_rejected_with_line);
	tcase_add_test(tc, json_policy_compiles);
	tcase_add_test(tc, sections_after_ima_keep_their_lines);
	tcase_add_test(tc, buffer_allowlist_by_name);
	tcase_add_test(tc, require_signature_without_signature_fails);
	tcase_add_test(tc, violation_is_not_allowed);
	tcase_add_test(tc, legacy_sha1_extend_is_opt_in);
	tcase_add_test(tc, path_relabelled_ima_buf_is_judged_as_a_file);
	tcase_add_test(tc, violation_renamed_into_an_exclude_still_fails);
	tcase_add_test(tc, violation_relabelled_ima_buf_still_fails);
	tcase_add_test(tc, long_path_detail_is_truncated_not_overflowed);
	tcase_add_test(tc, good_signature_from_policy_key_passes);
	tcase_add_test(tc, bad_signature_is_ima_signature);
	tcase_add_test(tc, unknown_key_with_require_signature_is_ima_signature);
	tcase_add_test(tc, unknown_key_without_require_falls_back_to_digests);
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
