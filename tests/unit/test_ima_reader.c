/*
 * test_ima_reader.c — the agent's incremental IMA list reader: framing of
 * complete entries only, reading just what was appended, serving entries
 * from N byte-exact, and starting over when the list is replaced; the
 * agent frames exactly what the verifier's parser takes (one framer).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/ima_reader.h"
#include "common/err.h"
#include "ima_gen.h"

static char dir[] = "/tmp/assay-imareader.XXXXXX";
static char path[256];

static void
setup(void)
{
	strcpy(dir, "/tmp/assay-imareader.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/list", dir);
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void
write_file(const void *p, size_t n, const char *mode)
{
	FILE *f = fopen(path, mode);

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void
make_list(struct buf *b, size_t n)
{
	buf_init(b);
	gen_list(b, TPM2_ALG_SHA1, n, 0);
}

START_TEST(frames_complete_entries_only)
{
	struct buf b;
	uint64_t n, off[8];
	size_t used, full;

	make_list(&b, 3);
	full = b.len;
	ck_assert_int_eq(ima_frame(b.d, b.len, 20, 100, &n, &used, off), ASSAY_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(used, full);
	ck_assert_uint_eq(off[0], 0);
	/* A partly written last entry is not counted. */
	ck_assert_int_eq(ima_frame(b.d, full - 5, 20, 100, &n, &used, NULL), ASSAY_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(used, off[2]);
	buf_free(&b);
}
END_TEST

START_TEST(absurd_template_name_length_is_format_error)
{
	uint8_t junk[64] = { 10, 0, 0, 0 };

	junk[24] = 0xff;	/* name length after pcr + 20-byte hash */
	junk[25] = 0xff;
	{
		uint64_t n;
		size_t used;

		ck_assert_int_eq(ima_frame(junk, sizeof(junk), 20, 100, &n, &used, NULL),
		    ASSAY_ERR_FORMAT);
	}
}
END_TEST

START_TEST(update_reads_appended_entries_and_get_is_byte_exact)
{
	struct ima_reader r;
	struct buf b, more;
	uint8_t *out;
	size_t len;
	uint64_t count;

	make_list(&b, 5);
	write_file(b.d, b.len, "w");
	ima_reader_init(&r, path, TPM2_ALG_SHA1);
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_OK);
	ck_assert_uint_eq(r.n, 5);
	/* Append three more: only they are framed on the next update. */
	buf_init(&more);
	gen_list(&more, TPM2_ALG_SHA1, 8, 0);
	write_file(more.d + b.len, more.len - b.len, "a");
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_OK);
	ck_assert_uint_eq(r.n, 8);
	ck_assert_int_eq(ima_reader_get(&r, 5, &out, &len, &count), ASSAY_OK);
	ck_assert_uint_eq(count, 3);
	ck_assert_uint_eq(len, more.len - b.len);
	ck_assert_int_eq(memcmp(out, more.d + b.len, len), 0);
	free(out);
	ck_assert_int_eq(ima_reader_get(&r, 0, &out, &len, &count), ASSAY_OK);
	ck_assert_uint_eq(count, 8);
	ck_assert_int_eq(memcmp(out, more.d, more.len), 0);
	free(out);
	ima_reader_free(&r);
	buf_free(&b);
	buf_free(&more);
}
END_TEST

START_TEST(page_stops_at_max_entries_and_says_more)
{
	struct ima_reader r;
	struct buf b;
	uint8_t *out;
	size_t len, e1;
	uint64_t count, n, off[8];
	int more;

	make_list(&b, 7);
	write_file(b.d, b.len, "w");
	ck_assert_int_eq(ima_frame(b.d, b.len, 20, 8, &n, &len, off), ASSAY_OK);
	ima_reader_init(&r, path, TPM2_ALG_SHA1);
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_OK);
	/* [2, 5) of 7: three entries, byte exact, more follow. */
	ck_assert_int_eq(ima_reader_page(&r, 2, 3, SIZE_MAX, &out, &len, &count,
	    &more), ASSAY_OK);
	ck_assert_uint_eq(count, 3);
	ck_assert_int_eq(more, 1);
	ck_assert_uint_eq(len, off[5] - off[2]);
	ck_assert_int_eq(memcmp(out, b.d + off[2], len), 0);
	free(out);
	/* The tail: fewer than asked, no more. */
	ck_assert_int_eq(ima_reader_page(&r, 5, 3, SIZE_MAX, &out, &len, &count,
	    &more), ASSAY_OK);
	ck_assert_uint_eq(count, 2);
	ck_assert_int_eq(more, 0);
	ck_assert_uint_eq(len, b.len - off[5]);
	free(out);
	/* Exactly to the end: no more. */
	ck_assert_int_eq(ima_reader_page(&r, 4, 3, SIZE_MAX, &out, &len, &count,
	    &more), ASSAY_OK);
	ck_assert_uint_eq(count, 3);
	ck_assert_int_eq(more, 0);
	free(out);
	/* A byte budget: whole entries only, the one that does not fit waits. */
	e1 = off[1] - off[0];
	ck_assert_int_eq(ima_reader_page(&r, 0, 0, off[3] + e1 / 2, &out, &len,
	    &count, &more), ASSAY_OK);
	ck_assert_uint_eq(count, 3);
	ck_assert_uint_eq(len, off[3]);
	ck_assert_int_eq(more, 1);
	free(out);
	/* from past the end: nothing, no more. */
	ck_assert_int_eq(ima_reader_page(&r, 9, 3, SIZE_MAX, &out, &len, &count,
	    &more), ASSAY_OK);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(more, 0);
	free(out);
	ima_reader_free(&r);
	buf_free(&b);
}
END_TEST

START_TEST(half_written_entry_waits_for_the_rest)
{
	struct ima_reader r;
	struct buf b;

	make_list(&b, 4);
	write_file(b.d, b.len - 7, "w");
	ima_reader_init(&r, path, TPM2_ALG_SHA1);
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_OK);
	ck_assert_uint_eq(r.n, 3);
	write_file(b.d + b.len - 7, 7, "a");
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_OK);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_uint_eq(r.off[4], b.len);
	ima_reader_free(&r);
	buf_free(&b);
}
END_TEST

START_TEST(replaced_shorter_list_is_indexed_again)
{
	struct ima_reader r;
	struct buf b, small;

	make_list(&b, 6);
	write_file(b.d, b.len, "w");
	ima_reader_init(&r, path, TPM2_ALG_SHA1);
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_OK);
	ck_assert_uint_eq(r.n, 6);
	make_list(&small, 2);		/* a reboot: a new, shorter list */
	write_file(small.d, small.len, "w");
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_OK);
	ck_assert_uint_eq(r.n, 2);
	ima_reader_free(&r);
	buf_free(&b);
	buf_free(&small);
}
END_TEST

START_TEST(from_beyond_the_end_serves_nothing)
{
	struct ima_reader r;
	struct buf b;
	uint8_t *out;
	size_t len;
	uint64_t count;

	make_list(&b, 2);
	write_file(b.d, b.len, "w");
	ima_reader_init(&r, path, TPM2_ALG_SHA1);
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_OK);
	ck_assert_int_eq(ima_reader_get(&r, 9, &out, &len, &count), ASSAY_OK);
	ck_assert_uint_eq(count, 0);
	ck_assert_uint_eq(len, 0);
	free(out);
	ima_reader_free(&r);
	buf_free(&b);
}
END_TEST

START_TEST(missing_list_is_io_error_naming_it)
{
	struct ima_reader r;

	ima_reader_init(&r, "/nonexistent/ima/list", TPM2_ALG_SHA1);
	ck_assert_int_eq(ima_reader_update(&r), ASSAY_ERR_IO);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "/nonexistent/ima/list"));
	ima_reader_free(&r);
}
END_TEST

/* One raw entry: tmpl with tdata of dlen bytes ("ima": a name of dlen). */
static void
raw_entry(struct buf *b, const char *tmpl, size_t dlen)
{
	uint8_t th[20] = { 1 }, *data = calloc(1, dlen + 24);

	buf_init(b);
	gen_u32le(b, 10);
	buf_put(b, th, sizeof(th));
	gen_u32le(b, (uint32_t)strlen(tmpl));
	buf_put(b, tmpl, strlen(tmpl));
	if (strcmp(tmpl, "ima") == 0) {
		buf_put(b, th, 20);		/* the digest */
		gen_u32le(b, (uint32_t)dlen);
		memset(data, 'a', dlen);
		buf_put(b, data, dlen);
	} else {
		gen_u32le(b, (uint32_t)dlen);
		buf_put(b, data, dlen);
	}
	free(data);
}

/* The agent's framer takes an entry exactly when the parser frames it. */
START_TEST(agent_frames_what_the_verifier_parses)
{
	static const struct {
		const char	*tmpl;
		size_t		 dlen;
		int		 framed;
	} cases[] = {
		{ "ima", IMA_OLD_NAME_MAX, 1 },
		{ "ima", IMA_OLD_NAME_MAX + 1, 0 },	/* the agent took 4096 */
		{ "ima-buf", IMA_TEMPLATE_DATA_MAX, 1 },
		{ "ima-buf", IMA_TEMPLATE_DATA_MAX + 1, 0 },	/* and 64K + 4096 */
	};
	struct ima_list l;
	struct buf b;
	uint64_t n;
	size_t used;
	int fr, pr;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		raw_entry(&b, cases[i].tmpl, cases[i].dlen);
		fr = ima_frame(b.d, b.len, 20, 10, &n, &used, NULL);
		ck_assert_int_eq(fr == ASSAY_OK && n == 1, cases[i].framed);
		ck_assert(cases[i].framed || fr == ASSAY_ERR_FORMAT);
		/* the parser refuses these on their contents or their frame */
		pr = ima_parse_binary(b.d, b.len, TPM2_ALG_SHA1, &l, NULL);
		if (pr == ASSAY_OK)
			ima_list_free(&l);
		if (!cases[i].framed)
			ck_assert_int_eq(pr, ASSAY_ERR_RANGE);
		buf_free(&b);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ima_reader");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, frames_complete_entries_only);
	tcase_add_test(tc, absurd_template_name_length_is_format_error);
	tcase_add_test(tc, update_reads_appended_entries_and_get_is_byte_exact);
	tcase_add_test(tc, page_stops_at_max_entries_and_says_more);
	tcase_add_test(tc, half_written_entry_waits_for_the_rest);
	tcase_add_test(tc, replaced_shorter_list_is_indexed_again);
	tcase_add_test(tc, from_beyond_the_end_serves_nothing);
	tcase_add_test(tc, missing_list_is_io_error_naming_it);
	tcase_add_test(tc, agent_frames_what_the_verifier_parses);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
