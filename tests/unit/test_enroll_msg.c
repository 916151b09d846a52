/*
 * test_enroll_msg.c — the enrollment messages (common/evidence/enroll.c):
 * what the agent encodes the verifier parses back unchanged; every
 * malformed field is refused with the field named, and a refused parse
 * leaves nothing allocated; ids, addresses, chains and proofs at and past
 * their limits.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/proto/enroll.h"
#include "common/xmalloc.h"

static uint8_t ekb[300], akb[200], certb[900], c1[500], c2[600];

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static struct enroll_register
sample(void)
{
	struct enroll_register q = {
		.address = "host.example:9443",
		.ek_pub = ekb, .ek_pub_len = sizeof(ekb),
		.ak_pub = akb, .ak_pub_len = sizeof(akb),
		.ek_cert = certb, .ek_cert_len = sizeof(certb),
		.chain = { c1, c2 }, .chain_len = { sizeof(c1), sizeof(c2) },
		.nchain = 2,
	};

	fill(ekb, sizeof(ekb), 1);
	fill(akb, sizeof(akb), 2);
	fill(certb, sizeof(certb), 3);
	fill(c1, sizeof(c1), 4);
	fill(c2, sizeof(c2), 5);
	strcpy(q.id, "ek-0123abcd");
	return q;
}

/* Parse o (stolen) and expect a refusal naming field. */
static void
refused(json_t *o, const char *field)
{
	struct enroll_register q;

	ck_assert_int_eq(enroll_register_parse(o, &q), ASSAY_ERR_INVAL);
	ck_assert_msg(strstr(assay_err_detail(), field) != NULL,
	    "detail '%s' does not name %s", assay_err_detail(), field);
	ck_assert_ptr_null(q.ek_pub);
	ck_assert_ptr_null(q.ak_pub);
	ck_assert_ptr_null(q.ek_cert);
	ck_assert_ptr_null(q.address);
	ck_assert_uint_eq(q.nchain, 0);
	json_decref(o);
}

static json_t *
good(void)
{
	struct enroll_register q = sample();

	return enroll_register_encode(&q);
}

START_TEST(register_round_trips)
{
	struct enroll_register in = sample(), out;
	json_t *o = enroll_register_encode(&in);
	char *text = json_dumps(o, JSON_COMPACT);
	json_t *back = json_loads(text, 0, NULL);

	ck_assert_int_eq(enroll_register_parse(back, &out), ASSAY_OK);
	ck_assert_str_eq(out.id, in.id);
	ck_assert_str_eq(out.address, in.address);
	ck_assert_mem_eq(out.ek_pub, ekb, sizeof(ekb));
	ck_assert_uint_eq(out.ek_pub_len, sizeof(ekb));
	ck_assert_mem_eq(out.ak_pub, akb, sizeof(akb));
	ck_assert_mem_eq(out.ek_cert, certb, sizeof(certb));
	ck_assert_uint_eq(out.nchain, 2);
	ck_assert_mem_eq(out.chain[1], c2, sizeof(c2));
	ck_assert_uint_eq(out.chain_len[1], sizeof(c2));
	enroll_register_free(&out);
	json_decref(back);
	json_decref(o);
	free(text);
}
END_TEST

START_TEST(register_optional_fields_absent_or_null)
{
	struct enroll_register in = sample(), out;
	json_t *o;

	in.address = NULL;
	in.ek_cert = NULL;
	in.nchain = 0;
	o = enroll_register_encode(&in);
	json_object_set_new(o, "ek_cert", json_null());
	ck_assert_int_eq(enroll_register_parse(o, &out), ASSAY_OK);
	ck_assert_ptr_null(out.address);
	ck_assert_ptr_null(out.ek_cert);
	ck_assert_uint_eq(out.nchain, 0);
	enroll_register_free(&out);
	json_decref(o);
}
END_TEST

START_TEST(register_bad_fields_refused_by_name)
{
	json_t *o;
	char big[2000];

	refused(json_string("x"), "object");
	o = good(); json_object_del(o, "id"); refused(o, "'id'");
	o = good(); json_object_set_new(o, "id", json_integer(3)); refused(o, "'id'");
	o = good(); json_object_set_new(o, "id", json_string("a/b")); refused(o, "'id'");
	o = good(); json_object_set_new(o, "id", json_string("")); refused(o, "'id'");
	o = good(); json_object_set_new(o, "id", json_stringn("a\0b", 3)); refused(o, "'id'");
	o = good(); json_object_del(o, "ek_pub"); refused(o, "'ek_pub'");
	o = good(); json_object_set_new(o, "ek_pub", json_string("!!")); refused(o, "'ek_pub'");
	o = good(); json_object_set_new(o, "ek_pub", json_string("")); refused(o, "'ek_pub'");
	o = good(); json_object_set_new(o, "ak_pub", json_true()); refused(o, "'ak_pub'");
	o = good(); json_object_set_new(o, "ek_cert", json_string("@@@@")); refused(o, "'ek_cert'");
	o = good(); json_object_set_new(o, "address", json_string("nohost")); refused(o, "'address'");
	o = good(); json_object_set_new(o, "address", json_string("h:0")); refused(o, "'address'");
	o = good(); json_object_set_new(o, "address", json_string("h:70000")); refused(o, "'address'");
	memset(big, 'a', sizeof(big) - 8);
	strcpy(big + sizeof(big) - 8, ":443");
	o = good(); json_object_set_new(o, "address", json_string(big)); refused(o, "'address'");
	o = good(); json_object_set_new(o, "ek_chain", json_string("x")); refused(o, "'ek_chain'");
	o = good(); json_array_append_new(json_object_get(o, "ek_chain"),
	    json_integer(1)); refused(o, "'ek_chain'[2]");
}
END_TEST

START_TEST(register_limits)
{
	struct enroll_register in = sample(), out;
	char id[ENROLL_ID_MAX + 1];
	uint8_t *huge = xcalloc(1, ENROLL_PUB_MAX + 1);
	json_t *o, *chain;

	memset(id, 'x', ENROLL_ID_MAX - 1);
	id[ENROLL_ID_MAX - 1] = '\0';
	o = good();
	json_object_set_new(o, "id", json_string(id));	/* 127: fine */
	ck_assert_int_eq(enroll_register_parse(o, &out), ASSAY_OK);
	ck_assert_str_eq(out.id, id);
	enroll_register_free(&out);
	json_decref(o);
	id[ENROLL_ID_MAX - 1] = 'x';
	id[ENROLL_ID_MAX] = '\0';
	o = good();
	json_object_set_new(o, "id", json_string(id));	/* 128: too long */
	refused(o, "'id'");

	in.ek_pub = huge;
	in.ek_pub_len = ENROLL_PUB_MAX + 1;
	refused(enroll_register_encode(&in), "'ek_pub'");
	free(huge);

	o = good();
	chain = json_object_get(o, "ek_chain");
	while (json_array_size(chain) <= ENROLL_CHAIN_MAX)
		json_array_append(chain, json_array_get(chain, 0));
	refused(o, "'ek_chain'");
}
END_TEST

START_TEST(credential_round_trips_and_refuses_garbage)
{
	uint8_t cred[100], sec[60];
	struct enroll_credential c;
	json_t *o;

	fill(cred, sizeof(cred), 9);
	fill(sec, sizeof(sec), 10);
	o = enroll_credential_encode(cred, sizeof(cred), sec, sizeof(sec));
	ck_assert_int_eq(enroll_credential_parse(o, &c), ASSAY_OK);
	ck_assert_mem_eq(c.cred, cred, sizeof(cred));
	ck_assert_mem_eq(c.secret, sec, sizeof(sec));
	enroll_credential_free(&c);
	json_object_del(o, "secret");
	ck_assert_int_eq(enroll_credential_parse(o, &c), ASSAY_ERR_INVAL);
	ck_assert_ptr_null(c.cred);
	json_object_set_new(o, "secret", json_string("not base64!"));
	ck_assert_int_eq(enroll_credential_parse(o, &c), ASSAY_ERR_INVAL);
	json_decref(o);
	o = json_array();
	ck_assert_int_eq(enroll_credential_parse(o, &c), ASSAY_ERR_INVAL);
	json_decref(o);
}
END_TEST

START_TEST(proof_round_trips_and_needs_64_hex_digits)
{
	uint8_t p[ENROLL_PROOF_LEN], back[ENROLL_PROOF_LEN];
	char hex[2 * ENROLL_PROOF_LEN + 3];
	json_t *o;

	fill(p, sizeof(p), 11);
	o = enroll_proof_encode(p);
	ck_assert_int_eq(enroll_proof_parse(o, back), ASSAY_OK);
	ck_assert_mem_eq(back, p, sizeof(p));
	json_decref(o);

	memset(hex, 'a', sizeof(hex));
	hex[2 * ENROLL_PROOF_LEN - 2] = '\0';	/* 62 digits */
	o = json_pack("{s:s}", "proof", hex);
	ck_assert_int_eq(enroll_proof_parse(o, back), ASSAY_ERR_INVAL);
	json_decref(o);
	memset(hex, 'a', sizeof(hex));
	hex[2 * ENROLL_PROOF_LEN + 2] = '\0';	/* 66 digits */
	o = json_pack("{s:s}", "proof", hex);
	ck_assert_int_eq(enroll_proof_parse(o, back), ASSAY_ERR_INVAL);
	json_decref(o);
	memset(hex, 'g', sizeof(hex));
	hex[2 * ENROLL_PROOF_LEN] = '\0';	/* 64, not hex */
	o = json_pack("{s:s}", "proof", hex);
	ck_assert_int_eq(enroll_proof_parse(o, back), ASSAY_ERR_INVAL);
	json_decref(o);
	o = json_pack("{s:i}", "proof", 5);
	ck_assert_int_eq(enroll_proof_parse(o, back), ASSAY_ERR_INVAL);
	json_decref(o);
}
END_TEST

START_TEST(id_charset)
{
	ck_assert(enroll_id_valid("web-1.example_a:b"));
	ck_assert(!enroll_id_valid(""));
	ck_assert(!enroll_id_valid("a b"));
	ck_assert(!enroll_id_valid("a/b"));
	ck_assert(!enroll_id_valid("a\n"));
	ck_assert(!enroll_id_valid("\xc3\xa9"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enroll_msg");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, register_round_trips);
	tcase_add_test(tc, register_optional_fields_absent_or_null);
	tcase_add_test(tc, register_bad_fields_refused_by_name);
	tcase_add_test(tc, register_limits);
	tcase_add_test(tc, credential_round_trips_and_refuses_garbage);
	tcase_add_test(tc, proof_round_trips_and_needs_64_hex_digits);
	tcase_add_test(tc, id_charset);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
