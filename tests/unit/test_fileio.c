/*
 * test_fileio.c — file_read_all(): sizes at and past the cap, empty
 * files, errors naming the path, directories, stdin from a pipe, and
 * files whose fstat size is not their length (/proc).
 */
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"

static char tmpdir[] = "/tmp/test_fileio.XXXXXX";

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(tmpdir, "/tmp/test_fileio.XXXXXX");
}

/* A file of n bytes 'a'..'z' repeating; returns its path (static). */
static const char *
make_file(const char *name, size_t n)
{
	static char path[256];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	for (i = 0; i < n; i++)
		fputc('a' + (int)(i % 26), f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(reads_small_file_nul_terminated)
{
	const char *p = make_file("small", 5);
	uint8_t *d = NULL;
	size_t n = 99;

	ck_assert_int_eq(file_read_all(p, 1024, &d, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq((char *)d, "abcde");
	free(d);
}
END_TEST

START_TEST(reads_empty_file_as_empty_string)
{
	const char *p = make_file("empty", 0);
	uint8_t *d = NULL;
	size_t n = 99;

	ck_assert_int_eq(file_read_all(p, 1024, &d, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d[0], '\0');
	free(d);
}
END_TEST

START_TEST(reads_file_of_exactly_max)
{
	const char *p = make_file("exact", 100000);
	uint8_t *d = NULL;
	size_t n = 0;

	ck_assert_int_eq(file_read_all(p, 100000, &d, &n), ASSAY_OK);
	ck_assert_uint_eq(n, 100000);
	ck_assert_int_eq(d[99999], 'a' + 99999 % 26);
	ck_assert_int_eq(d[100000], '\0');
	free(d);
}
END_TEST

START_TEST(file_of_max_plus_one_is_range)
{
	const char *p = make_file("over", 101);
	uint8_t *d = (uint8_t *)"x";
	size_t n = 7;

	ck_assert_int_eq(file_read_all(p, 100, &d, &n), ASSAY_ERR_RANGE);
	ck_assert_ptr_null(d);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), p));
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), "larger than 100 bytes"));
}
END_TEST

START_TEST(missing_file_is_io_naming_path)
{
	char path[256];
	uint8_t *d = NULL;
	size_t n;

	snprintf(path, sizeof(path), "%s/no-such-file", tmpdir);
	ck_assert_int_eq(file_read_all(path, 100, &d, &n), ASSAY_ERR_IO);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), path));
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), strerror(ENOENT)));
}
END_TEST

START_TEST(directory_is_io)
{
	uint8_t *d = NULL;
	size_t n;

	ck_assert_int_eq(file_read_all(tmpdir, 100, &d, &n), ASSAY_ERR_IO);
	ck_assert_ptr_null(d);
	ck_assert_ptr_nonnull(strstr(assay_err_detail(), tmpdir));
}
END_TEST

START_TEST(proc_file_with_zero_stat_size_is_read_whole)
{
	uint8_t *d = NULL;
	size_t n = 0;

	if (access("/proc/self/status", R_OK) != 0)
		return;	/* no procfs here */
	ck_assert_int_eq(file_read_all("/proc/self/status", 1 << 20, &d, &n),
	    ASSAY_OK);
	ck_assert_uint_gt(n, 0);
	ck_assert_ptr_nonnull(strstr((char *)d, "Name:"));
	ck_assert_uint_eq(strlen((char *)d), n);
	free(d);
}
END_TEST

/*
 * In a child, feed `total` bytes through a pipe on stdin and read "-"
 * with the cap `max`; the exit status is the result code, after checking
 * the length and content on success.
 */
static int
stdin_pipe_result(size_t total, size_t max)
{
	int fds[2], st;
	pid_t pid;
	char chunk[4096];
	size_t left, k;

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		uint8_t *d = NULL;
		size_t n = 0, i;
		int r;

		close(fds[1]);
		if (dup2(fds[0], STDIN_FILENO) == -1)
			_exit(100);
		close(fds[0]);
		r = file_read_all("-", max, &d, &n);
		if (r == ASSAY_OK) {
			if (n != total || d[n] != '\0')
				_exit(101);
			for (i = 0; i < n; i++)
				if (d[i] != (uint8_t)('a' + i % 26))
					_exit(102);
		} else if (strstr(assay_err_detail(), "stdin") == NULL)
			_exit(103);
		free(d);
		_exit(r);
	}
	close(fds[0]);
	for (left = total; left > 0; left -= k) {
		size_t i, off = total - left;

		k = left < sizeof(chunk) ? left : sizeof(chunk);
		for (i = 0; i < k; i++)
			chunk[i] = (char)('a' + (off + i) % 26);
		if (write(fds[1], chunk, k) != (ssize_t)k)
			break;	/* the child stopped reading: EPIPE */
	}
	close(fds[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(reads_stdin_from_pipe)
{
	/* Several stream chunks, so the buffer grows more than once. */
	ck_assert_int_eq(stdin_pipe_result(300000, 1 << 20), ASSAY_OK);
}
END_TEST

START_TEST(stdin_of_exactly_max_is_ok)
{
	ck_assert_int_eq(stdin_pipe_result(70000, 70000), ASSAY_OK);
}
END_TEST

START_TEST(stdin_past_max_is_range)
{
	ck_assert_int_eq(stdin_pipe_result(70001, 70000), ASSAY_ERR_RANGE);
}
END_TEST

static Suite *
fileio_suite(void)
{
	Suite *s = suite_create("fileio");
	TCase *tc = tcase_create("read_all");

	signal(SIGPIPE, SIG_IGN);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reads_small_file_nul_terminated);
	tcase_add_test(tc, reads_empty_file_as_empty_string);
	tcase_add_test(tc, reads_file_of_exactly_max);
	tcase_add_test(tc, file_of_max_plus_one_is_range);
	tcase_add_test(tc, missing_file_is_io_naming_path);
	tcase_add_test(tc, directory_is_io);
	tcase_add_test(tc, proc_file_with_zero_stat_size_is_read_whole);
	tcase_add_test(tc, reads_stdin_from_pipe);
	tcase_add_test(tc, stdin_of_exactly_max_is_ok);
	tcase_add_test(tc, stdin_past_max_is_range);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fileio_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
