/*
 * test_push_msg.c — the push-mode messages (common/proto/push.c): a
 * challenge (round or wait) and a verdict survive encode, text and parse
 * unchanged; every malformed member is refused with its key named and the
 * right error, and a refused parse leaves nothing allocated; the quote
 * request a challenge carries parses to what quote_req_format was given.
 * Also the registration's "mode" (common/proto/enroll.c) that push agents
 * send.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/proto/enroll.h"
#include "common/proto/push.h"
#include "common/xmalloc.h"
#include "common/proto/quote_req.h"

#define ID64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static struct quote_req
sample_req(void)
{
	struct quote_req q = { .nonce_len = QUOTE_NONCE_LEN, .ima = 1,
	    .ima_from = 77, .ima_max = 4096, .ima_bytes = 262144, .eventlog = 1 };

	for (size_t i = 0; i < q.nonce_len; i++)
		q.nonce[i] = (uint8_t)(i * 13 + 5);
	ck_assert_int_eq(pcr_selection_parse("sha256:0,1,2,3,4,5,6,7,10+sha1:10",
	    &q.sel), 0);
	return q;
}

/* A round's JSON (the caller frees it). */
static json_t *
round_json(void)
{
	struct quote_req q = sample_req();
	struct push_challenge c = { .id = ID64, .deadline_ms = 30000,
	    .max_bytes = 1048576 };
	json_t *j;

	c.request = quote_req_format(&q);
	j = push_challenge_encode(&c);
	ck_assert_ptr_nonnull(j);
	free(c.request);
	return j;
}

/* Text and back: what the other side parses. */
static json_t *
over_the_wire(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_t *back = json_loads(text, 0, NULL);

	ck_assert_ptr_nonnull(back);
	free(text);
	json_decref(j);
	return back;
}

/* Parse o (stolen), expect err with key named, nothing kept. */
static void
challenge_refused(json_t *o, int err, const char *key)
{
	struct push_challenge c;

	ck_assert_int_eq(push_challenge_parse(o, &c), err);
	ck_assert_msg(strstr(assay_err_detail(), key) != NULL,
	    "detail '%s' does not name %s", assay_err_detail(), key);
	ck_assert_ptr_null(c.request);
	ck_assert_str_eq(c.id, "");
	json_decref(o);
}

static json_t *
with(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		json_object_del(o, key);
	else
		json_object_set_new(o, key, v);
	return o;
}

START_TEST(round_round_trips)
{
	struct push_challenge c;
	json_t *j = over_the_wire(round_json());

	ck_assert_int_eq(push_challenge_parse(j, &c), ASSAY_OK);
	ck_assert_str_eq(c.id, ID64);
	ck_assert(strncmp(c.request, QUOTE_PATH "?nonce=", 15) == 0);
	ck_assert_int_eq(c.deadline_ms, 30000);
	ck_assert_uint_eq(c.max_bytes, 1048576);
	ck_assert_int_eq(c.wait_ms, 0);
	push_challenge_free(&c);
	ck_assert_ptr_null(c.request);
	json_decref(j);
}
END_TEST

START_TEST(wait_round_trips)
{
	struct push_challenge in = { .wait_ms = 2500 }, out;
	json_t *j = over_the_wire(push_challenge_encode(&in));

	ck_assert_int_eq(push_challenge_parse(j, &out), ASSAY_OK);
	ck_assert_str_eq(out.id, "");
	ck_assert_ptr_null(out.request);
	ck_assert_int_eq(out.wait_ms, 2500);
	json_decref(j);
	in.wait_ms = 0;		/* ask again at once */
	j = push_challenge_encode(&in);
	ck_assert_int_eq(push_challenge_parse(j, &out), ASSAY_OK);
	ck_assert_int_eq(out.wait_ms, 0);
	json_decref(j);
}
END_TEST

START_TEST(challenge_id_must_be_64_lowercase_hex)
{
	ck_assert(push_challenge_id_valid(ID64));
	ck_assert(!push_challenge_id_valid(""));
	ck_assert(!push_challenge_id_valid(ID64 "0"));		/* 65 */
	ck_assert(!push_challenge_id_valid(&ID64[1]));		/* 63 */
	ck_assert(!push_challenge_id_valid("A0112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff"));		/* upper case */
	ck_assert(!push_challenge_id_valid("g0112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff"));
	challenge_refused(with(round_json(), "challenge", json_string(ID64 "0")),
	    ASSAY_ERR_INVAL, "'challenge'");
	challenge_refused(with(round_json(), "challenge", json_string(&ID64[2])),
	    ASSAY_ERR_INVAL, "'challenge'");
	challenge_refused(with(round_json(), "challenge",
	    json_string("00112233445566778899AABBCCDDEEFF00112233445566778899"
	    "aabbccddeeff")), ASSAY_ERR_INVAL, "'challenge'");
	challenge_refused(with(round_json(), "challenge", json_stringn(ID64
	    "\0" "00", 67)), ASSAY_ERR_FORMAT, "'challenge'");
}
END_TEST

START_TEST(request_must_be_a_quote_request)
{
	challenge_refused(with(round_json(), "request",
	    json_string("/v1/info?nonce=00")), ASSAY_ERR_INVAL, "'request'");
	challenge_refused(with(round_json(), "request",
	    json_string("/v1/quote")), ASSAY_ERR_INVAL, "'request'");
	challenge_refused(with(round_json(), "request",
	    json_string("https://x/v1/quote?nonce=00")), ASSAY_ERR_INVAL, "'request'");
	challenge_refused(with(round_json(), "request",
	    json_string("/v1/quote?pcrs=sha256:0")), ASSAY_ERR_INVAL, "nonce");
	challenge_refused(with(round_json(), "request",
	    json_string("/v1/quote?nonce=" ID64 "&pcrs=sha256:0 x")),
	    ASSAY_ERR_INVAL, "'request'");
	challenge_refused(with(round_json(), "request",
	    json_string("/v1/quote?nonce=" ID64 "&pcrs=md5:0")), ASSAY_ERR_INVAL,
	    "pcrs");
}
END_TEST

START_TEST(numbers_out_of_range_refused)
{
	challenge_refused(with(round_json(), "deadline_ms", json_integer(0)),
	    ASSAY_ERR_INVAL, "'deadline_ms'");
	challenge_refused(with(round_json(), "deadline_ms", json_integer(-5)),
	    ASSAY_ERR_INVAL, "'deadline_ms'");
	challenge_refused(with(round_json(), "deadline_ms",
	    json_integer(PUSH_DEADLINE_MAX_MS + 1)), ASSAY_ERR_INVAL, "'deadline_ms'");
	challenge_refused(with(round_json(), "max_bytes", json_integer(0)),
	    ASSAY_ERR_INVAL, "'max_bytes'");
	challenge_refused(with(round_json(), "max_bytes", json_integer(-1)),
	    ASSAY_ERR_INVAL, "'max_bytes'");
	challenge_refused(json_pack("{s:I}", "wait_ms", (json_int_t)-1),
	    ASSAY_ERR_INVAL, "'wait_ms'");
	challenge_refused(json_pack("{s:I}", "wait_ms",
	    (json_int_t)PUSH_WAIT_MAX_MS + 1), ASSAY_ERR_INVAL, "'wait_ms'");
}
END_TEST

START_TEST(wrong_types_and_shapes_refused)
{
	challenge_refused(json_array(), ASSAY_ERR_FORMAT, "object");
	challenge_refused(json_object(), ASSAY_ERR_FORMAT, "neither");
	challenge_refused(with(round_json(), "wait_ms", json_integer(0)),
	    ASSAY_ERR_FORMAT, "both");
	challenge_refused(json_pack("{s:i, s:s}", "wait_ms", 5, "request",
	    "/v1/quote?x=1"), ASSAY_ERR_FORMAT, "both");
	challenge_refused(with(round_json(), "challenge", json_integer(1)),
	    ASSAY_ERR_FORMAT, "'challenge'");
	challenge_refused(with(round_json(), "challenge", NULL),
	    ASSAY_ERR_FORMAT, "'challenge'");
	challenge_refused(with(round_json(), "request", json_null()),
	    ASSAY_ERR_FORMAT, "'request'");
	challenge_refused(with(round_json(), "request", NULL),
	    ASSAY_ERR_FORMAT, "'request'");
	challenge_refused(with(round_json(), "deadline_ms", json_string("30000")),
	    ASSAY_ERR_FORMAT, "'deadline_ms'");
	challenge_refused(with(round_json(), "deadline_ms", json_real(30000.0)),
	    ASSAY_ERR_FORMAT, "'deadline_ms'");
	challenge_refused(with(round_json(), "max_bytes", NULL),
	    ASSAY_ERR_FORMAT, "'max_bytes'");
	challenge_refused(json_pack("{s:b}", "wait_ms", 1), ASSAY_ERR_FORMAT,
	    "'wait_ms'");
}
END_TEST

START_TEST(unknown_keys_are_ignored)
{
	struct push_challenge c;
	json_t *j = with(round_json(), "hint", json_string("newer verifier"));

	ck_assert_int_eq(push_challenge_parse(j, &c), ASSAY_OK);
	push_challenge_free(&c);
	json_decref(j);
}
END_TEST

START_TEST(encoder_refuses_what_the_parser_would)
{
	struct quote_req q = sample_req();
	struct push_challenge c = { .id = ID64, .deadline_ms = 1000,
	    .max_bytes = 1 };

	ck_assert_ptr_null(push_challenge_encode(&c));		/* no request */
	c.request = quote_req_format(&q);
	c.deadline_ms = 0;
	ck_assert_ptr_null(push_challenge_encode(&c));
	c.deadline_ms = 1000;
	c.max_bytes = 0;
	ck_assert_ptr_null(push_challenge_encode(&c));
	c.max_bytes = 1;
	c.id[5] = 'X';
	ck_assert_ptr_null(push_challenge_encode(&c));
	free(c.request);
	c = (struct push_challenge){ .wait_ms = -1 };
	ck_assert_ptr_null(push_challenge_encode(&c));
}
END_TEST

START_TEST(request_parses_to_the_formatted_quote_request)
{
	struct quote_req in = sample_req(), out;
	char *path = quote_req_format(&in);

	ck_assert_int_eq(push_request_parse(path, &out), ASSAY_OK);
	ck_assert_uint_eq(out.nonce_len, in.nonce_len);
	ck_assert_mem_eq(out.nonce, in.nonce, in.nonce_len);
	ck_assert(pcr_selection_equal(&out.sel, &in.sel));
	ck_assert_int_eq(out.ima, 1);
	ck_assert_uint_eq(out.ima_from, in.ima_from);
	ck_assert_uint_eq(out.ima_max, in.ima_max);
	ck_assert_uint_eq(out.ima_bytes, in.ima_bytes);
	ck_assert_int_eq(out.eventlog, 1);
	free(path);
	in.ima = 0;
	in.eventlog = 0;
	path = quote_req_format(&in);
	ck_assert_int_eq(push_request_parse(path, &out), ASSAY_OK);
	ck_assert_int_eq(out.ima, 0);
	ck_assert_int_eq(out.eventlog, 0);
	ck_assert(pcr_selection_equal(&out.sel, &in.sel));
	free(path);
}
END_TEST

static struct push_verdict
sample_verdict(void)
{
	return (struct push_verdict){ .state = "untrusted",
	    .failure_id = "ima.not_allowed", .detail = "/usr/bin/x: not allowed",
	    .next_ms = 1500 };
}

/* Parse o (stolen), expect err with key named, nothing kept. */
static void
verdict_refused(json_t *o, int err, const char *key)
{
	struct push_verdict v;

	ck_assert_int_eq(push_verdict_parse(o, &v), err);
	ck_assert_msg(strstr(assay_err_detail(), key) != NULL,
	    "detail '%s' does not name %s", assay_err_detail(), key);
	ck_assert_ptr_null(v.state);
	ck_assert_ptr_null(v.failure_id);
	ck_assert_ptr_null(v.detail);
	json_decref(o);
}

START_TEST(verdict_round_trips)
{
	struct push_verdict in = sample_verdict(), out;
	json_t *j = over_the_wire(push_verdict_encode(&in));

	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_str_eq(out.state, "untrusted");
	ck_assert_str_eq(out.failure_id, "ima.not_allowed");
	ck_assert_str_eq(out.detail, in.detail);
	ck_assert_int_eq(out.next_ms, 1500);
	push_verdict_free(&out);
	json_decref(j);
	in = (struct push_verdict){ .state = "trusted" };
	j = over_the_wire(push_verdict_encode(&in));
	ck_assert(json_is_null(json_object_get(j, "failure_id")));
	ck_assert(json_is_null(json_object_get(j, "detail")));
	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_str_eq(out.state, "trusted");
	ck_assert_ptr_null(out.failure_id);
	ck_assert_ptr_null(out.detail);
	ck_assert_int_eq(out.next_ms, 0);
	push_verdict_free(&out);
	json_decref(j);
}
END_TEST

static json_t *
verdict_json(void)
{
	struct push_verdict v = sample_verdict();

	return push_verdict_encode(&v);
}

START_TEST(verdict_carries_the_signed_result)
{
	struct push_verdict in = { .state = "trusted" }, out;
	json_t *j;
	char *big;

	in.ear = "eyJhbGciOiJFUzI1NiJ9.eyJpYXQiOjF9.c2ln-_";
	j = over_the_wire(push_verdict_encode(&in));
	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_str_eq(out.ear, in.ear);
	push_verdict_free(&out);
	json_decref(j);
	/* Not a compact JWT, or too long: refused, nothing kept. */
	j = verdict_json();
	json_object_set_new(j, "ear", json_string("a.b.c\nX-Injected: 1"));
	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_ERR_INVAL);
	ck_assert_ptr_null(out.ear);
	big = xmalloc(PUSH_EAR_MAX + 2);
	memset(big, 'A', PUSH_EAR_MAX + 1);
	big[PUSH_EAR_MAX + 1] = '\0';
	json_object_set_new(j, "ear", json_string(big));
	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_ERR_INVAL);
	json_object_set_new(j, "ear", json_integer(1));
	ck_assert_int_ne(push_verdict_parse(j, &out), ASSAY_OK);
	free(big);
	json_decref(j);
}
END_TEST

START_TEST(verdict_bad_members_refused)
{
	struct push_verdict v = sample_verdict();

	verdict_refused(json_string("x"), ASSAY_ERR_FORMAT, "object");
	verdict_refused(with(verdict_json(), "state", NULL), ASSAY_ERR_FORMAT,
	    "'state'");
	verdict_refused(with(verdict_json(), "state", json_null()),
	    ASSAY_ERR_FORMAT, "'state'");
	verdict_refused(with(verdict_json(), "state", json_string("")),
	    ASSAY_ERR_INVAL, "'state'");
	verdict_refused(with(verdict_json(), "state", json_string("Trusted!")),
	    ASSAY_ERR_INVAL, "'state'");
	verdict_refused(with(verdict_json(), "failure_id", json_integer(3)),
	    ASSAY_ERR_FORMAT, "'failure_id'");
	verdict_refused(with(verdict_json(), "failure_id", json_string("a b")),
	    ASSAY_ERR_INVAL, "'failure_id'");
	verdict_refused(with(verdict_json(), "detail", json_true()),
	    ASSAY_ERR_FORMAT, "'detail'");
	verdict_refused(with(verdict_json(), "next_ms", NULL), ASSAY_ERR_FORMAT,
	    "'next_ms'");
	verdict_refused(with(verdict_json(), "next_ms", json_integer(-1)),
	    ASSAY_ERR_INVAL, "'next_ms'");
	verdict_refused(with(verdict_json(), "next_ms",
	    json_integer(PUSH_WAIT_MAX_MS + 1)), ASSAY_ERR_INVAL, "'next_ms'");
	verdict_refused(with(verdict_json(), "next_ms", json_string("0")),
	    ASSAY_ERR_FORMAT, "'next_ms'");
	v.next_ms = -1;
	ck_assert_ptr_null(push_verdict_encode(&v));
	v = sample_verdict();
	v.state = NULL;
	ck_assert_ptr_null(push_verdict_encode(&v));
}
END_TEST

/* The registration a push agent sends: "mode":"push" and no address. */
static json_t *
register_json(int push, const char *address)
{
	static uint8_t ek[40] = { 1 }, ak[30] = { 2 };
	struct enroll_register q = { .id = "agent-1", .ek_pub = ek,
	    .ek_pub_len = sizeof(ek), .ak_pub = ak, .ak_pub_len = sizeof(ak),
	    .address = (char *)address, .push = push };

	return enroll_register_encode(&q);
}

START_TEST(register_mode_round_trips)
{
	struct enroll_register out;
	json_t *j = over_the_wire(register_json(1, "ignored:1"));

	ck_assert_str_eq(json_string_value(json_object_get(j, "mode")), "push");
	ck_assert_ptr_null(json_object_get(j, "address"));
	ck_assert_int_eq(enroll_register_parse(j, &out), ASSAY_OK);
	ck_assert_int_eq(out.push, 1);
	ck_assert_ptr_null(out.address);
	enroll_register_free(&out);
	json_decref(j);
	j = over_the_wire(register_json(0, "h:1"));
	ck_assert_ptr_null(json_object_get(j, "mode"));	/* pull: as before */
	ck_assert_int_eq(enroll_register_parse(j, &out), ASSAY_OK);
	ck_assert_int_eq(out.push, 0);
	ck_assert_str_eq(out.address, "h:1");
	enroll_register_free(&out);
	j = with(j, "mode", json_string("pull"));
	ck_assert_int_eq(enroll_register_parse(j, &out), ASSAY_OK);
	ck_assert_int_eq(out.push, 0);
	enroll_register_free(&out);
	json_decref(j);
}
END_TEST

static void
register_refused(json_t *o, const char *key)
{
	struct enroll_register out;

	ck_assert_int_eq(enroll_register_parse(o, &out), ASSAY_ERR_INVAL);
	ck_assert_msg(strstr(assay_err_detail(), key) != NULL,
	    "detail '%s' does not name %s", assay_err_detail(), key);
	ck_assert_ptr_null(out.address);
	ck_assert_ptr_null(out.ek_pub);
	json_decref(o);
}

START_TEST(register_mode_refusals)
{
	register_refused(with(register_json(0, NULL), "mode",
	    json_string("poll")), "'mode'");
	register_refused(with(register_json(0, NULL), "mode", json_integer(1)),
	    "'mode'");
	register_refused(with(register_json(0, NULL), "mode",
	    json_stringn("push\0x", 6)), "'mode'");
	register_refused(with(register_json(1, NULL), "address",
	    json_string("h:1")), "'address'");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("push_msg");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, round_round_trips);
	tcase_add_test(tc, wait_round_trips);
	tcase_add_test(tc, challenge_id_must_be_64_lowercase_hex);
	tcase_add_test(tc, request_must_be_a_quote_request);
	tcase_add_test(tc, numbers_out_of_range_refused);
	tcase_add_test(tc, wrong_types_and_shapes_refused);
	tcase_add_test(tc, unknown_keys_are_ignored);
	tcase_add_test(tc, encoder_refuses_what_the_parser_would);
	tcase_add_test(tc, request_parses_to_the_formatted_quote_request);
	tcase_add_test(tc, verdict_round_trips);
	tcase_add_test(tc, verdict_bad_members_refused);
	tcase_add_test(tc, verdict_carries_the_signed_result);
	tcase_add_test(tc, register_mode_round_trips);
	tcase_add_test(tc, register_mode_refusals);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
