/*
 * test_config.c — the table-driven YAML config loader: every value type,
 * nested keys, and the file:line errors for unknown keys, wrong types,
 * ranges and duplicates.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/err.h"
#include "common/xmalloc.h"

struct tconf {
	char			*name;
	long			 port;
	int			 verbose;
	char			*tls_cert;
	char			*tls_key;
	long			 tls_depth;
	struct cfg_strlist	 peers;
	struct cfg_strlist	 signers;
};

static const struct cfg_key keys[] = {
	{ "name", CFG_STR, offsetof(struct tconf, name), 0, 0, "instance name" },
	{ "port", CFG_INT, offsetof(struct tconf, port), 1, 65535, "TCP port" },
	{ "verbose", CFG_BOOL, offsetof(struct tconf, verbose), 0, 0, "chatty" },
	{ "tls.cert", CFG_STR, offsetof(struct tconf, tls_cert), 0, 0, "cert" },
	{ "tls.key", CFG_STR, offsetof(struct tconf, tls_key), 0, 0, "key" },
	{ "tls.depth", CFG_INT, offsetof(struct tconf, tls_depth), -1, 9, "depth" },
	{ "peers", CFG_STRLIST, offsetof(struct tconf, peers), 0, 0, "peers" },
	{ "signers", CFG_STRMAP, offsetof(struct tconf, signers), 0, 0, "map" },
	{ NULL, CFG_STR, 0, 0, 0, NULL }
};

static void
tconf_defaults(struct tconf *c)
{
	memset(c, 0, sizeof(*c));
	c->name = xstrdup("default");
	c->port = 8881;
	c->tls_depth = 3;
}

static int
load(const char *text, struct tconf *c)
{
	tconf_defaults(c);
	assay_err_clear();
	return config_load_string(text, strlen(text), "t.conf", keys, c);
}

START_TEST(config_reads_all_types)
{
	struct tconf c;

	ck_assert_int_eq(load("name: alpha\nport: 443\nverbose: yes\n"
	    "peers: [a, \"b c\"]\n", &c), ASSAY_OK);
	ck_assert_str_eq(c.name, "alpha");
	ck_assert_int_eq(c.port, 443);
	ck_assert_int_eq(c.verbose, 1);
	ck_assert_uint_eq(c.peers.n, 2);
	ck_assert_str_eq(c.peers.v[0], "a");
	ck_assert_str_eq(c.peers.v[1], "b c");
	config_free(keys, &c);
	ck_assert_ptr_null(c.name);
	ck_assert_ptr_null(c.peers.v);
}
END_TEST

START_TEST(config_strmap_flattens_names_and_lists)
{
	struct tconf c;

	ck_assert_int_eq(load("signers:\n  p1: /a.pem\n  \"*\": [/b.pem, "
	    "/c.pem]\n", &c), ASSAY_OK);
	ck_assert_uint_eq(c.signers.n, 3);
	ck_assert_str_eq(c.signers.v[0], "p1\t/a.pem");
	ck_assert_str_eq(c.signers.v[1], "*\t/b.pem");
	ck_assert_str_eq(c.signers.v[2], "*\t/c.pem");
	config_free(keys, &c);
	ck_assert_ptr_null(c.signers.v);
	/* wrong shapes: a list, a nested mapping, a repeated name, null */
	ck_assert_int_eq(load("signers: [a]\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "wants a mapping"));
	config_free(keys, &c);
	ck_assert_int_eq(load("signers:\n  p: {x: y}\n", &c), ASSAY_ERR_CONFIG);
	config_free(keys, &c);
	ck_assert_int_eq(load("signers:\n  p: /a\n  p: /b\n", &c),
	    ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "given twice"));
	config_free(keys, &c);
	ck_assert_int_eq(load("signers:\n  p:\n", &c), ASSAY_ERR_CONFIG);
	config_free(keys, &c);
	ck_assert_int_eq(load("signers:\n  \"a\\tb\": /x\n", &c),
	    ASSAY_ERR_CONFIG);
	config_free(keys, &c);
}
END_TEST

START_TEST(config_bool_spellings)
{
	static const struct { const char *s; int v; } cases[] = {
		{ "true", 1 }, { "on", 1 }, { "Yes", 1 },
		{ "false", 0 }, { "off", 0 }, { "NO", 0 },
	};
	struct tconf c;
	char text[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "verbose: %s\n", cases[i].s);
		ck_assert_int_eq(load(text, &c), ASSAY_OK);
		ck_assert_int_eq(c.verbose, cases[i].v);
		config_free(keys, &c);
	}
}
END_TEST

START_TEST(config_nested_mapping_flattens_to_dotted_keys)
{
	struct tconf c;

	ck_assert_int_eq(load("tls:\n  cert: /etc/a.pem\n  depth: -1\n", &c),
	    ASSAY_OK);
	ck_assert_str_eq(c.tls_cert, "/etc/a.pem");
	ck_assert_ptr_null(c.tls_key);
	ck_assert_int_eq(c.tls_depth, -1);
	config_free(keys, &c);
}
END_TEST

START_TEST(config_absent_keys_keep_defaults)
{
	struct tconf c;

	ck_assert_int_eq(load("verbose: on\n", &c), ASSAY_OK);
	ck_assert_str_eq(c.name, "default");
	ck_assert_int_eq(c.port, 8881);
	ck_assert_int_eq(c.tls_depth, 3);
	config_free(keys, &c);
}
END_TEST

START_TEST(config_empty_file_is_all_defaults)
{
	struct tconf c;

	ck_assert_int_eq(load("", &c), ASSAY_OK);
	ck_assert_str_eq(c.name, "default");
	ck_assert_int_eq(c.port, 8881);
	config_free(keys, &c);
	ck_assert_int_eq(load("# only a comment\n", &c), ASSAY_OK);
	ck_assert_str_eq(c.name, "default");
	config_free(keys, &c);
}
END_TEST

START_TEST(config_unknown_key_names_line)
{
	struct tconf c;

	ck_assert_int_eq(load("name: x\n\ntls:\n  cert: a\n  crt: b\n", &c),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "t.conf:5: unknown key 'tls.crt'");
	/* the failed load changed nothing */
	ck_assert_str_eq(c.name, "default");
	ck_assert_ptr_null(c.tls_cert);
	config_free(keys, &c);
}
END_TEST

START_TEST(config_unknown_top_level_key)
{
	struct tconf c;

	ck_assert_int_eq(load("port: 1\nbogus: 2\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "t.conf:2: unknown key 'bogus'");
	config_free(keys, &c);
}
END_TEST

START_TEST(config_mapping_for_scalar_is_wrong_type)
{
	struct tconf c;

	ck_assert_int_eq(load("name:\n  first: x\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "'name' wants a string"));
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "t.conf:2:"));
	config_free(keys, &c);
}
END_TEST

START_TEST(config_scalar_for_section_is_wrong_type)
{
	struct tconf c;

	ck_assert_int_eq(load("tls: yes\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "t.conf:1: key 'tls' wants a mapping");
	config_free(keys, &c);
}
END_TEST

START_TEST(config_non_integer_rejected)
{
	struct tconf c;

	ck_assert_int_eq(load("port: 80x\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "t.conf:1: key 'port' wants an integer");
	config_free(keys, &c);
	ck_assert_int_eq(load("port: 99999999999999999999999\n", &c),
	    ASSAY_ERR_CONFIG);
	config_free(keys, &c);
}
END_TEST

START_TEST(config_integer_out_of_range_rejected)
{
	struct tconf c;

	ck_assert_int_eq(load("port: 65536\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(),
	    "t.conf:1: key 'port' is 65536, outside [1, 65535]");
	config_free(keys, &c);
	ck_assert_int_eq(load("port: 0\n", &c), ASSAY_ERR_CONFIG);
	config_free(keys, &c);
	ck_assert_int_eq(load("port: 65535\n", &c), ASSAY_OK);
	ck_assert_int_eq(c.port, 65535);
	config_free(keys, &c);
}
END_TEST

START_TEST(config_bad_bool_rejected)
{
	struct tconf c;

	ck_assert_int_eq(load("\nverbose: maybe\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "t.conf:2: key 'verbose' wants a boolean"));
	config_free(keys, &c);
}
END_TEST

START_TEST(config_missing_value_rejected)
{
	struct tconf c;

	ck_assert_int_eq(load("name:\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "'name' has no value"));
	config_free(keys, &c);
	ck_assert_int_eq(load("name: \"\"\n", &c), ASSAY_OK);
	ck_assert_str_eq(c.name, "");
	config_free(keys, &c);
}
END_TEST

START_TEST(config_duplicate_key_rejected)
{
	struct tconf c;

	ck_assert_int_eq(load("port: 1\nport: 2\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "t.conf:2: duplicate key 'port'");
	config_free(keys, &c);
	ck_assert_int_eq(load("tls:\n  cert: a\ntls:\n  key: b\n", &c),
	    ASSAY_ERR_CONFIG);
	ck_assert_str_eq(assay_err_detail(), "t.conf:3: duplicate key 'tls'");
	config_free(keys, &c);
}
END_TEST

START_TEST(config_strlist_single_scalar_is_list_of_one)
{
	struct tconf c;

	ck_assert_int_eq(load("peers: solo\n", &c), ASSAY_OK);
	ck_assert_uint_eq(c.peers.n, 1);
	ck_assert_str_eq(c.peers.v[0], "solo");
	config_free(keys, &c);
}
END_TEST

START_TEST(config_strlist_block_sequence_and_empty)
{
	struct tconf c;

	ck_assert_int_eq(load("peers:\n  - h1:1\n  - h2:2\n  - h3:3\n", &c),
	    ASSAY_OK);
	ck_assert_uint_eq(c.peers.n, 3);
	ck_assert_str_eq(c.peers.v[2], "h3:3");
	config_free(keys, &c);
	ck_assert_int_eq(load("peers: []\n", &c), ASSAY_OK);
	ck_assert_uint_eq(c.peers.n, 0);
	config_free(keys, &c);
}
END_TEST

START_TEST(config_strlist_rejects_nested_items)
{
	struct tconf c;

	ck_assert_int_eq(load("peers:\n  - a\n  - [b]\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "t.conf:3: key 'peers'"));
	config_free(keys, &c);
}
END_TEST

START_TEST(config_top_level_must_be_mapping)
{
	struct tconf c;

	ck_assert_int_eq(load("- a\n- b\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "must be a mapping"));
	config_free(keys, &c);
}
END_TEST

START_TEST(config_yaml_syntax_error_names_line)
{
	struct tconf c;

	ck_assert_int_eq(load("name: a\nport: [1, 2\n", &c), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "t.conf:"));
	config_free(keys, &c);
}
END_TEST

START_TEST(config_missing_file_is_io_error_with_path)
{
	struct tconf c;

	tconf_defaults(&c);
	ck_assert_int_eq(config_load("/nonexistent/assay-h6.conf", keys, &c),
	    ASSAY_ERR_IO);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "/nonexistent/assay-h6.conf"));
	config_free(keys, &c);
}
END_TEST

static char *
write_temp(const char *text, size_t len)
{
	char *path = xstrdup("/tmp/assay-test-config-XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(config_loads_from_file_with_file_name_in_errors)
{
	struct tconf c;
	const char *text = "port: 9\ntls:\n  key: k.pem\n  nope: 1\n";
	char *path = write_temp(text, strlen(text));
	char want[128];

	tconf_defaults(&c);
	ck_assert_int_eq(config_load(path, keys, &c), ASSAY_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s:4: unknown key 'tls.nope'", path);
	ck_assert_str_eq(assay_err_detail(), want);
	config_free(keys, &c);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(config_file_over_1mib_refused)
{
	struct tconf c;
	size_t len = 1024 * 1024 + 10;
	char *text = xmalloc(len), *path;

	memset(text, '#', len);
	text[len - 1] = '\n';
	path = write_temp(text, len);
	tconf_defaults(&c);
	ck_assert_int_eq(config_load(path, keys, &c), ASSAY_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "larger than"));
	config_free(keys, &c);
	unlink(path);
	free(path);
	free(text);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, config_reads_all_types);
	tcase_add_test(tc, config_bool_spellings);
	tcase_add_test(tc, config_nested_mapping_flattens_to_dotted_keys);
	tcase_add_test(tc, config_absent_keys_keep_defaults);
	tcase_add_test(tc, config_empty_file_is_all_defaults);
	tcase_add_test(tc, config_unknown_key_names_line);
	tcase_add_test(tc, config_unknown_top_level_key);
	tcase_add_test(tc, config_mapping_for_scalar_is_wrong_type);
	tcase_add_test(tc, config_scalar_for_section_is_wrong_type);
	tcase_add_test(tc, config_non_integer_rejected);
	tcase_add_test(tc, config_integer_out_of_range_rejected);
	tcase_add_test(tc, config_bad_bool_rejected);
	tcase_add_test(tc, config_missing_value_rejected);
	tcase_add_test(tc, config_duplicate_key_rejected);
	tcase_add_test(tc, config_strlist_single_scalar_is_list_of_one);
	tcase_add_test(tc, config_strlist_block_sequence_and_empty);
	tcase_add_test(tc, config_strlist_rejects_nested_items);
	tcase_add_test(tc, config_top_level_must_be_mapping);
	tcase_add_test(tc, config_yaml_syntax_error_names_line);
	tcase_add_test(tc, config_missing_file_is_io_error_with_path);
	tcase_add_test(tc, config_loads_from_file_with_file_name_in_errors);
	tcase_add_test(tc, config_file_over_1mib_refused);
	tcase_add_test(tc, config_strmap_flattens_names_and_lists);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
