/*
 * fileio.c — file_read_all(): a whole file or stdin into one NUL-terminated
 * buffer, at most max bytes. A regular file gets one allocation sized by
 * fstat; a stream (or a file whose size fstat does not know, /proc) grows
 * geometrically. The size from fstat is only a hint: reading goes on
 * until EOF, and whatever passes max is refused, so a file that grows
 * between fstat and read is cut and reported, never overrun.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/xmalloc.h"

#define STREAM_CHUNK	(64u * 1024)

int
file_read_all(const char *path, size_t max, uint8_t **out, size_t *len)
{
	const int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "stdin" : path;
	struct stat st;
	uint8_t *d = NULL;
	size_t cap = 0, n = 0, limit, grow;
	ssize_t got;
	int fd = -1, r;

	*out = NULL;
	*len = 0;
	/* Room for the byte past max (to notice it) and the NUL. */
	if (max > SIZE_MAX - 2)
		max = SIZE_MAX - 2;
	limit = max + 1;
	if (is_stdin)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return assay_err_set(ASSAY_ERR_IO, "%s: %s", name,
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", name,
		    strerror(EISDIR));
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uintmax_t)st.st_size > max) {
			r = assay_err_set(ASSAY_ERR_RANGE, "%s: larger than %zu "
			    "bytes", name, max);
			goto out;
		}
		/* One byte more than the size: EOF is seen without a resize. */
		cap = (size_t)st.st_size + 1;
		d = xmalloc(cap + 1);
	}
	for (;;) {
		if (n == cap) {
			/* n <= max here: the check below stops at limit. */
			grow = cap < STREAM_CHUNK ? STREAM_CHUNK : cap;
			cap = grow > limit - cap ? limit : cap + grow;
			d = xreallocarray(d, 1, cap + 1);
		}
		got = read(fd, d + n, cap - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			r = assay_err_set(ASSAY_ERR_IO, "%s: %s", name,
			    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			r = assay_err_set(ASSAY_ERR_RANGE, "%s: larger than %zu "
			    "bytes", name, max);
			goto out;
		}
	}
	d[n] = '\0';
	*out = d;
	*len = n;
	d = NULL;
	r = ASSAY_OK;
 out:
	free(d);
	if (fd != -1 && !is_stdin)
		close(fd);
	return r;
}

int
file_write_atomic(const char *path, const uint8_t *data, size_t len, int mode)
{
	char *tmp = xasprintf("%s.tmp", path);
	size_t off = 0;
	ssize_t w;
	int fd, r = ASSAY_OK;

	(void)unlink(tmp);	/* a stale one, maybe with another mode */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) < 0) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		if ((w = write(fd, data + off, len - off)) < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off != len || fsync(fd) != 0) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: write: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		r = assay_err_set(ASSAY_ERR_IO, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
 out:
	free(tmp);
	return r;
}
