/*
 * test_identity.c — host identities without a TPM: the identity document
 * both sides exchange (common/proto/identity.c: strict parsing, PEM
 * written again) and the push verdict member "identity" that carries it
 * (common/proto/push.c). The documents are issued by the identity CA
 * (tested in test_ident_ca.c) from a PKI made with openssl(1); the
 * evidence and quote request members are tested in test_ident_proto.c.
 */
#include "tests/unit/ident_fixture.h"

/* ---- the identity document ------------------------------------------------ */

/* One issued document per test process, a fresh copy each call. */
static json_t *
doc_json(void)
{
	static json_t *once;
	struct ident_doc d;

	if (once == NULL) {
		issued(&d);
		once = ident_doc_encode(&d);
		ck_assert_ptr_nonnull(once);
		ident_doc_free(&d);
	}
	return json_deep_copy(once);
}

static void
set_str(json_t *j, const char *key, const char *s)
{
	ck_assert_int_eq(json_object_set_new(j, key, json_string(s)), 0);
}

/* j (stolen) must be refused, nothing handed out; detail names want. */
static void
doc_refused(json_t *j, const char *want)
{
	struct ident_doc d;
	int r;

	assay_err_clear();
	r = ident_doc_parse(j, &d);
	ck_assert_msg(r == ASSAY_ERR_FORMAT || r == ASSAY_ERR_INVAL,
	    "want refusal naming '%s', got %d", want, r);
	ck_assert_ptr_null(d.spiffe_id);
	ck_assert_ptr_null(d.cert);
	ck_assert_ptr_null(d.chain);
	ck_assert_msg(strstr(assay_err_detail(), want) != NULL,
	    "detail '%s' does not name '%s'", assay_err_detail(), want);
	json_decref(j);
}

/*
 * j (stolen) is either refused or parsed into exactly cert and chain, as
 * OpenSSL writes them: what is not a certificate never comes through.
 */
static void
doc_dropped_or_refused(json_t *j, const char *cert, const char *chain)
{
	struct ident_doc d;

	if (ident_doc_parse(j, &d) == ASSAY_OK) {
		ck_assert_str_eq(d.cert, cert);
		ck_assert_str_eq(d.chain, chain);
		ident_doc_free(&d);
	} else
		ck_assert_ptr_null(d.cert);
	json_decref(j);
}

static const char *
member(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(doc_round_trips)
{
	struct ident_doc in, out;
	json_t *j;
	char *text;

	issued(&in);
	j = ident_doc_encode(&in);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	j = json_loads(text, 0, NULL);
	ck_assert_int_eq(ident_doc_parse(j, &out), ASSAY_OK);
	ck_assert_str_eq(out.spiffe_id, in.spiffe_id);
	ck_assert_str_eq(out.cert, in.cert);
	ck_assert_str_eq(out.chain, in.chain);
	ck_assert_int_eq(out.not_before, in.not_before);
	ck_assert_int_eq(out.not_after, in.not_after);
	ident_doc_free(&out);
	ck_assert_ptr_null(out.cert);
	/* encode refuses a document with a member missing */
	free(in.chain);
	in.chain = NULL;
	ck_assert_ptr_null(ident_doc_encode(&in));
	ident_doc_free(&in);
	json_decref(j);
	free(text);
}
END_TEST

START_TEST(doc_refuses_wrong_shapes)
{
	static const char *const keys[] = { "spiffe_id", "certificate", "chain",
	    "not_before", "not_after" };
	json_t *j;

	doc_refused(json_array(), "not an object");
	doc_refused(json_string("x"), "not an object");
	for (size_t i = 0; i < 5; i++) {
		j = doc_json();
		json_object_del(j, keys[i]);
		doc_refused(j, keys[i]);
		/* the wrong type */
		j = doc_json();
		json_object_set_new(j, keys[i], i < 3 ? json_integer(1) :
		    json_string("1"));
		doc_refused(j, keys[i]);
		j = doc_json();
		json_object_set_new(j, keys[i], json_null());
		doc_refused(j, keys[i]);
	}
	j = doc_json();
	json_object_set_new(j, "not_before", json_integer(-1));
	doc_refused(j, "'not_before' missing or not a time");
	j = doc_json();
	json_object_set_new(j, "not_after", json_integer(-5));
	doc_refused(j, "'not_after' missing or not a time");
	j = doc_json();
	json_object_set_new(j, "not_after", json_real(1.5));
	doc_refused(j, "not_after");
	j = doc_json();
	set_str(j, "spiffe_id", "");
	doc_refused(j, "spiffe_id");
	/* unknown keys are ignored */
	j = doc_json();
	json_object_set_new(j, "extra", json_true());
	doc_dropped_or_refused(j, member(j, "certificate"), member(j, "chain"));
}
END_TEST

START_TEST(doc_refuses_an_id_that_is_not_spiffe)
{
	json_t *j = doc_json();

	set_str(j, "spiffe_id", "https://example.org/host/host-01");
	doc_refused(j, "spiffe");
	j = doc_json();
	set_str(j, "spiffe_id", "SPIFFE:/x");
	doc_refused(j, "spiffe");
}
END_TEST

START_TEST(doc_refuses_a_certificate_that_is_not_pem)
{
	json_t *j = doc_json();
	char *der, *s;

	set_str(j, "certificate", "hello");
	doc_refused(j, "certificate");
	/* the PEM's base64 alone */
	j = doc_json();
	s = xstrdup(member(j, "certificate"));
	der = strchr(s, '\n') + 1;
	*strstr(der, "-----END") = '\0';
	set_str(j, "certificate", der);
	doc_refused(j, "certificate");
	free(s);
	/* a broken body */
	j = doc_json();
	s = xstrdup(member(j, "certificate"));
	s[40] = s[40] == 'A' ? 'B' : 'A';
	s[41] = '!';
	set_str(j, "certificate", s);
	doc_refused(j, "certificate");
	free(s);
	/* a key, not a certificate */
	j = doc_json();
	s = slurp("leaf.key");
	set_str(j, "certificate", s);
	doc_refused(j, "certificate");
	free(s);
	/* the chain alike */
	j = doc_json();
	set_str(j, "chain", "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n");
	doc_refused(j, "chain");
}
END_TEST

START_TEST(doc_refuses_two_certificates_as_the_leaf)
{
	json_t *j = doc_json();
	char *two = xasprintf("%s%s", member(j, "certificate"),
	    member(j, "certificate"));

	set_str(j, "certificate", two);
	doc_refused(j, "certificate");
	free(two);
}
END_TEST

/* A chain of n copies of the issuing CA. */
static char *
chain_of(size_t n)
{
	char *ca = slurp("ca.pem"), *s = xstrdup(""), *t;

	for (size_t i = 0; i < n; i++) {
		t = xasprintf("%s%s", s, ca);
		free(s);
		s = t;
	}
	free(ca);
	return s;
}

START_TEST(doc_chain_holds_at_most_eight)
{
	struct ident_doc d;
	json_t *j = doc_json();
	char *c8 = chain_of(IDENT_CHAIN_MAX), *c9 = chain_of(IDENT_CHAIN_MAX + 1);

	set_str(j, "chain", c8);
	ck_assert_int_eq(ident_doc_parse(j, &d), ASSAY_OK);
	ck_assert_str_eq(d.chain, c8);
	ident_doc_free(&d);
	set_str(j, "chain", c9);
	doc_refused(j, "chain");
	free(c8);
	free(c9);
}
END_TEST

START_TEST(doc_junk_around_pem_never_comes_through)
{
	json_t *j = doc_json();
	char *cert = xstrdup(member(j, "certificate"));
	char *ca = slurp("ca.pem"), *root = slurp("root.pem");
	char *key = slurp("leaf.key"), *chain = xasprintf("%s%s", ca, root);
	char *s;

	json_decref(j);
	/* junk before the first block: refused */
	j = doc_json();
	s = xasprintf("junk\n%s", cert);
	set_str(j, "certificate", s);
	doc_refused(j, "certificate");
	free(s);
	j = doc_json();
	s = xasprintf("X-Header: 1\n%s", chain);
	set_str(j, "chain", s);
	doc_refused(j, "chain");
	free(s);
	/* between blocks: text, a private key, a header */
	j = doc_json();
	s = xasprintf("%ssome text\n%s", ca, root);
	set_str(j, "chain", s);
	doc_dropped_or_refused(j, cert, chain);
	free(s);
	j = doc_json();
	s = xasprintf("%s%s%s", ca, key, root);
	set_str(j, "chain", s);
	doc_dropped_or_refused(j, cert, chain);
	free(s);
	/* after the last block */
	j = doc_json();
	s = xasprintf("%s%s", cert, key);
	set_str(j, "certificate", s);
	doc_dropped_or_refused(j, cert, member(j, "chain"));
	free(s);
	j = doc_json();
	s = xasprintf("%s\ntrailing junk\n", chain);
	set_str(j, "chain", s);
	doc_dropped_or_refused(j, cert, chain);
	free(s);
	/* a NUL inside the text: jansson keeps it, the parser must not read past */
	j = doc_json();
	s = xasprintf("%s", cert);
	json_object_set_new(j, "certificate", json_stringn(s, strlen(s) + 1));
	doc_dropped_or_refused(j, cert, member(j, "chain"));
	free(s);
	free(cert);
	free(ca);
	free(root);
	free(key);
	free(chain);
}
END_TEST

START_TEST(doc_times_must_match_the_leaf)
{
	json_t *j = doc_json();
	json_int_t nb = json_integer_value(json_object_get(j, "not_before"));
	json_int_t na = json_integer_value(json_object_get(j, "not_after"));

	json_object_set_new(j, "not_after", json_integer(na + 1));
	doc_refused(j, "not_after");
	j = doc_json();
	json_object_set_new(j, "not_before", json_integer(nb - 1));
	doc_refused(j, "not_before");
	j = doc_json();
	json_object_set_new(j, "not_before", json_integer(na));
	json_object_set_new(j, "not_after", json_integer(nb));
	doc_refused(j, "not_before");
}
END_TEST

static char *
filled(const char *prefix, size_t n, char c)
{
	size_t pl = strlen(prefix);
	char *s = xmalloc(pl + n + 1);

	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	s[pl + n] = '\0';
	return s;
}

START_TEST(doc_refuses_oversize_members)
{
	json_t *j = doc_json();
	char *s, *t;

	s = filled("spiffe://", IDENT_SPIFFE_MAX - 9 + 1, 'a');
	set_str(j, "spiffe_id", s);
	doc_refused(j, "longer than");
	free(s);
	/* the most: accepted */
	j = doc_json();
	s = filled("spiffe://", IDENT_SPIFFE_MAX - 9, 'a');
	set_str(j, "spiffe_id", s);
	doc_dropped_or_refused(j, member(j, "certificate"), member(j, "chain"));
	free(s);
	j = doc_json();
	t = filled("", IDENT_PEM_MAX, '\n');
	s = xasprintf("%s%s", member(j, "certificate"), t);
	set_str(j, "certificate", s);
	doc_refused(j, "longer than");
	free(s);
	free(t);
	j = doc_json();
	t = filled("", IDENT_CHAIN_PEM_MAX, '\n');
	s = xasprintf("%s%s", member(j, "chain"), t);
	set_str(j, "chain", s);
	doc_refused(j, "longer than");
	free(s);
	free(t);
}
END_TEST

/* ---- push verdict ------------------------------------------------------------ */

START_TEST(verdict_carries_an_identity)
{
	struct push_verdict in = { .state = "trusted", .next_ms = 1000 }, out;
	json_t *j;

	issued(&in.identity);
	in.has_identity = 1;
	j = over_the_wire(push_verdict_encode(&in));
	ck_assert(json_is_object(json_object_get(j, "identity")));
	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_int_eq(out.has_identity, 1);
	ck_assert_str_eq(out.identity.spiffe_id, in.identity.spiffe_id);
	ck_assert_str_eq(out.identity.cert, in.identity.cert);
	ck_assert_str_eq(out.identity.chain, in.identity.chain);
	ck_assert_int_eq(out.identity.not_before, in.identity.not_before);
	ck_assert_int_eq(out.identity.not_after, in.identity.not_after);
	ck_assert_str_eq(out.state, "trusted");
	push_verdict_free(&out);
	json_decref(j);
	/* none: no member, none parsed */
	in.has_identity = 0;
	j = over_the_wire(push_verdict_encode(&in));
	ck_assert_ptr_null(json_object_get(j, "identity"));
	ck_assert_int_eq(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_int_eq(out.has_identity, 0);
	ck_assert_ptr_null(out.identity.cert);
	push_verdict_free(&out);
	json_decref(j);
	/* an identity with a member missing is not encoded */
	in.has_identity = 1;
	free(in.identity.cert);
	in.identity.cert = NULL;
	ck_assert_ptr_null(push_verdict_encode(&in));
	ident_doc_free(&in.identity);
}
END_TEST

START_TEST(verdict_with_a_malformed_identity_is_refused)
{
	struct push_verdict in = { .state = "trusted", .next_ms = 1000 }, out;
	json_t *j, *id;

	issued(&in.identity);
	in.has_identity = 1;
	j = over_the_wire(push_verdict_encode(&in));
	id = json_object_get(j, "identity");
	json_object_set_new(id, "not_after",
	    json_integer(in.identity.not_after + 3600));
	ck_assert_int_ne(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_ptr_null(out.state);
	ck_assert_int_eq(out.has_identity, 0);
	ck_assert_ptr_null(out.identity.cert);
	json_object_set_new(j, "identity", json_string("x"));
	ck_assert_int_ne(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_ptr_null(out.state);
	json_object_set_new(j, "identity", json_null());
	ck_assert_int_ne(push_verdict_parse(j, &out), ASSAY_OK);
	ck_assert_ptr_null(out.state);
	json_decref(j);
	ident_doc_free(&in.identity);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("identity");
	TCase *doc = tcase_create("ident_doc");
	SRunner *sr;
	int nf;

	tcase_add_unchecked_fixture(doc, pki_up, pki_down);
	tcase_set_timeout(doc, 60);
	tcase_add_test(doc, doc_round_trips);
	tcase_add_test(doc, doc_refuses_wrong_shapes);
	tcase_add_test(doc, doc_refuses_an_id_that_is_not_spiffe);
	tcase_add_test(doc, doc_refuses_a_certificate_that_is_not_pem);
	tcase_add_test(doc, doc_refuses_two_certificates_as_the_leaf);
	tcase_add_test(doc, doc_chain_holds_at_most_eight);
	tcase_add_test(doc, doc_junk_around_pem_never_comes_through);
	tcase_add_test(doc, doc_times_must_match_the_leaf);
	tcase_add_test(doc, doc_refuses_oversize_members);
	tcase_add_test(doc, verdict_carries_an_identity);
	tcase_add_test(doc, verdict_with_a_malformed_identity_is_refused);
	suite_add_tcase(s, doc);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
