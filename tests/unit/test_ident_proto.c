/*
 * test_ident_proto.c — the protocol members that ask for and carry a host
 * identity: the evidence document's "identity" (the identity key's
 * public area, its TPMS_ATTEST and signature: common/proto/doc.c) round
 * trips and is parsed strictly, and the quote request asks for it with
 * identity=1 and refuses anything but 0 or 1 (common/proto/quote_req.c).
 */
#include "tests/unit/ident_fixture.h"

/* ---- evidence document ------------------------------------------------------- */

static uint8_t *
pattern(size_t n, unsigned seed)
{
	uint8_t *p = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
	return p;
}

static void
doc_with_identity(struct evidence_doc *d)
{
	uint8_t dg[32];

	evidence_doc_init(d);
	d->attest_len = 145;
	d->attest = pattern(d->attest_len, 1);
	d->sig_len = 70;
	d->sig = pattern(d->sig_len, 2);
	memset(dg, 0x11, sizeof(dg));
	ck_assert_int_eq(pcr_values_set(&d->pcrs, TPM2_ALG_SHA256, 0, dg, 32), 0);
	d->id_pub_len = 90;
	d->id_pub = pattern(d->id_pub_len, 5);
	d->id_attest_len = 150;
	d->id_attest = pattern(d->id_attest_len, 6);
	d->id_sig_len = 72;
	d->id_sig = pattern(d->id_sig_len, 7);
}

static json_t *
evidence_json(void)
{
	struct evidence_doc d;
	json_t *j;

	doc_with_identity(&d);
	j = evidence_doc_to_json(&d);
	evidence_doc_free(&d);
	ck_assert_ptr_nonnull(j);
	return j;
}

static void
evidence_refused(json_t *j, const char *want)
{
	struct evidence_doc d;

	assay_err_clear();
	ck_assert_int_eq(evidence_doc_from_json(j, &d), ASSAY_ERR_FORMAT);
	ck_assert_msg(strstr(assay_err_detail(), want) != NULL,
	    "detail '%s' does not name '%s'", assay_err_detail(), want);
	ck_assert_ptr_null(d.id_pub);
	ck_assert_ptr_null(d.id_attest);
	ck_assert_ptr_null(d.id_sig);
	ck_assert_ptr_null(d.attest);
	json_decref(j);
}

START_TEST(evidence_round_trips_the_identity)
{
	struct evidence_doc in, out;
	json_t *j, *id;

	doc_with_identity(&in);
	j = over_the_wire(evidence_doc_to_json(&in));
	id = json_object_get(j, "identity");
	ck_assert(json_is_object(id));
	ck_assert_int_eq(json_object_size(id), 3);
	ck_assert_int_eq(evidence_doc_from_json(j, &out), ASSAY_OK);
	ck_assert_uint_eq(out.id_pub_len, in.id_pub_len);
	ck_assert_mem_eq(out.id_pub, in.id_pub, in.id_pub_len);
	ck_assert_uint_eq(out.id_attest_len, in.id_attest_len);
	ck_assert_mem_eq(out.id_attest, in.id_attest, in.id_attest_len);
	ck_assert_uint_eq(out.id_sig_len, in.id_sig_len);
	ck_assert_mem_eq(out.id_sig, in.id_sig, in.id_sig_len);
	ck_assert_uint_eq(out.attest_len, in.attest_len);
	evidence_doc_free(&out);
	json_decref(j);
	/* without a key: no member, nothing parsed */
	free(in.id_pub);
	in.id_pub = NULL;
	in.id_pub_len = 0;
	j = over_the_wire(evidence_doc_to_json(&in));
	ck_assert_ptr_null(json_object_get(j, "identity"));
	ck_assert_int_eq(evidence_doc_from_json(j, &out), ASSAY_OK);
	ck_assert_ptr_null(out.id_pub);
	ck_assert_ptr_null(out.id_attest);
	evidence_doc_free(&out);
	json_decref(j);
	evidence_doc_free(&in);
}
END_TEST

START_TEST(evidence_identity_is_parsed_strictly)
{
	static const char *const keys[] = { "public", "message", "signature" };
	json_t *j, *id;
	char *b;
	uint8_t *big;

	j = evidence_json();
	json_object_set_new(json_object_get(j, "identity"), "name",
	    json_string("AA=="));
	evidence_refused(j, "unknown key");
	j = evidence_json();
	json_object_set_new(j, "identity", json_string("x"));
	evidence_refused(j, "identity");
	j = evidence_json();
	json_object_set_new(j, "identity", json_null());
	evidence_refused(j, "identity");
	for (size_t i = 0; i < 3; i++) {
		j = evidence_json();
		id = json_object_get(j, "identity");
		json_object_set_new(id, keys[i], json_string("!!not base64"));
		evidence_refused(j, keys[i]);
		j = evidence_json();
		json_object_del(json_object_get(j, "identity"), keys[i]);
		evidence_refused(j, keys[i]);
		j = evidence_json();
		json_object_set_new(json_object_get(j, "identity"), keys[i],
		    json_integer(1));
		evidence_refused(j, keys[i]);
	}
	/* oversize: one byte more than each bound */
	big = pattern(ATTEST_MAX_SIZE + 1, 9);
	j = evidence_json();
	b = base64_encode(big, TPM_PUBLIC_MAX_SIZE + 1);
	json_object_set_new(json_object_get(j, "identity"), "public",
	    json_string(b));
	evidence_refused(j, "public");
	free(b);
	j = evidence_json();
	b = base64_encode(big, ATTEST_MAX_SIZE + 1);
	json_object_set_new(json_object_get(j, "identity"), "message",
	    json_string(b));
	evidence_refused(j, "message");
	free(b);
	j = evidence_json();
	b = base64_encode(big, SIGNATURE_MAX_SIZE + 1);
	json_object_set_new(json_object_get(j, "identity"), "signature",
	    json_string(b));
	evidence_refused(j, "signature");
	free(b);
	free(big);
}
END_TEST

/* ---- quote request --------------------------------------------------------- */

struct query {
	char	 buf[1024];
	char	*key[16], *val[16];
	int	 n;
};

static void
query_split(struct query *q, const char *path)
{
	char *p, *amp;

	memset(q, 0, sizeof(*q));
	p = strchr(path, '?');
	ck_assert_ptr_nonnull(p);
	snprintf(q->buf, sizeof(q->buf), "%s", p + 1);
	for (p = q->buf; p != NULL && *p != '\0'; p = amp) {
		if ((amp = strchr(p, '&')) != NULL)
			*amp++ = '\0';
		q->key[q->n] = p;
		q->val[q->n] = strchr(p, '=');
		ck_assert_ptr_nonnull(q->val[q->n]);
		*q->val[q->n]++ = '\0';
		q->n++;
	}
}

static const char *
query_get(void *ctx, const char *key)
{
	struct query *q = ctx;

	for (int i = 0; i < q->n; i++)
		if (strcmp(q->key[i], key) == 0)
			return q->val[i];
	return NULL;
}

static struct quote_req
request(int identity)
{
	struct quote_req q = { .nonce_len = QUOTE_NONCE_LEN,
	    .identity = identity };

	for (size_t i = 0; i < q.nonce_len; i++)
		q.nonce[i] = (uint8_t)(i * 5 + 1);
	ck_assert_int_eq(pcr_selection_parse("sha256:0,1,2", &q.sel), 0);
	return q;
}

START_TEST(quote_req_asks_for_the_identity)
{
	struct quote_req in = request(1), out;
	struct query qs;
	char *path = quote_req_format(&in);

	ck_assert_ptr_nonnull(strstr(path, "&identity=1"));
	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_OK);
	ck_assert_int_eq(out.identity, 1);
	ck_assert_int_eq(out.eventlog, 0);
	free(path);
	in = request(0);
	path = quote_req_format(&in);
	ck_assert_ptr_null(strstr(path, "identity"));
	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_OK);
	ck_assert_int_eq(out.identity, 0);
	free(path);
}
END_TEST

START_TEST(quote_req_refuses_identity_other_than_0_or_1)
{
	static const char *const bad[] = { "2", "yes", "", "01", "-1" };
	struct quote_req in = request(0), out;
	struct query qs;
	char *base = quote_req_format(&in), *path;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = xasprintf("%s&identity=%s", base, bad[i]);
		query_split(&qs, path);
		ck_assert_int_eq(quote_req_parse(query_get, &qs, &out),
		    ASSAY_ERR_INVAL);
		ck_assert_msg(strstr(assay_err_detail(), "identity") != NULL,
		    "%s: %s", path, assay_err_detail());
		free(path);
	}
	path = xasprintf("%s&identity=0", base);
	query_split(&qs, path);
	ck_assert_int_eq(quote_req_parse(query_get, &qs, &out), ASSAY_OK);
	ck_assert_int_eq(out.identity, 0);
	free(path);
	free(base);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("identity_proto");
	TCase *proto = tcase_create("proto");
	SRunner *sr;
	int nf;

	tcase_add_test(proto, evidence_round_trips_the_identity);
	tcase_add_test(proto, evidence_identity_is_parsed_strictly);
	tcase_add_test(proto, quote_req_asks_for_the_identity);
	tcase_add_test(proto, quote_req_refuses_identity_other_than_0_or_1);
	suite_add_tcase(s, proto);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
