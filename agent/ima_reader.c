/*
 * ima_reader.c — incremental reading of the kernel's binary IMA list:
 * entries are found with the evidence library's framer (ima_frame_next,
 * the same bounds the verifier's parser applies), their offsets indexed,
 * pages cut from them. Full parsing is the verifier's job.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ima_reader.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"
#include "common/xmalloc.h"

#define READ_CHUNK	(256u * 1024)

void
ima_reader_init(struct ima_reader *r, const char *path, uint16_t thash_alg)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(thash_alg);

	memset(r, 0, sizeof(*r));
	r->path = xstrdup(path);
	r->thash_alg = thash_alg;
	r->hlen = h != NULL ? h->size : 20;
	r->cap = 1024;
	r->off = xcalloc(r->cap, sizeof(*r->off));
}

void
ima_reader_free(struct ima_reader *r)
{
	free(r->path);
	free(r->off);
	memset(r, 0, sizeof(*r));
}

int
ima_frame(const uint8_t *p, size_t n, size_t hlen, uint64_t max,
    uint64_t *entries, size_t *used, uint64_t *offsets)
{
	struct ima_frame f;
	struct cur c;
	const char *why;
	uint64_t k = 0;
	int r;

	*entries = 0;
	*used = 0;
	cur_init(&c, p, n);
	while (k < max) {
		size_t at = n - cur_left(&c);

		if ((r = ima_frame_next(&c, hlen, &f, &why)) == ASSAY_ERR_TRUNCATED)
			break;		/* the kernel is still appending */
		if (r != 0)
			return assay_err_set(ASSAY_ERR_FORMAT, "IMA entry %llu at "
			    "offset %zu: %s", (unsigned long long)k, at, why);
		if (offsets != NULL)
			offsets[k] = (uint64_t)at;
		k++;
		*used = n - cur_left(&c);
	}
	*entries = k;
	return ASSAY_OK;
}

static void
reset(struct ima_reader *r)
{
	r->n = 0;
	r->off[0] = 0;
}

static void
grow(struct ima_reader *r, uint64_t need)
{
	while (r->cap < need + 1) {
		r->off = xreallocarray(r->off, r->cap * 2, sizeof(*r->off));
		r->cap *= 2;
	}
}

int
ima_reader_update(struct ima_reader *r)
{
	uint8_t *buf = NULL;
	size_t have = 0, cap = 0, used;
	uint64_t k, *tmp = NULL;
	struct stat st;
	ssize_t got;
	int fd, ret = ASSAY_OK;

	if ((fd = open(r->path, O_RDONLY | O_CLOEXEC)) < 0)
		return assay_err_set(ASSAY_ERR_IO, "%s: %s", r->path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		ret = assay_err_set(ASSAY_ERR_IO, "%s: %s", r->path, strerror(errno));
		goto out;
	}
	/* Regular files (tests) can shrink or be replaced; securityfs cannot. */
	if (st.st_dev != r->dev || st.st_ino != r->ino ||
	    (S_ISREG(st.st_mode) && (uint64_t)st.st_size < r->off[r->n])) {
		reset(r);
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
	if (lseek(fd, (off_t)r->off[r->n], SEEK_SET) == (off_t)-1) {
		ret = assay_err_set(ASSAY_ERR_IO, "%s: seek: %s", r->path, strerror(errno));
		goto out;
	}
	for (;;) {
		if (cap - have < READ_CHUNK)
			buf = xreallocarray(buf, 1, cap = cap * 2 + READ_CHUNK);
		if ((got = read(fd, buf + have, cap - have)) < 0) {
			if (errno == EINTR)
				continue;
			ret = assay_err_set(ASSAY_ERR_IO, "%s: %s", r->path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		have += (size_t)got;
		if ((uint64_t)have > 2ull * 1024 * 1024 * 1024) {
			ret = assay_err_set(ASSAY_ERR_RANGE, "%s: list too large", r->path);
			goto out;
		}
	}
	/* One pass: the new entries' offsets go straight into the index. */
	tmp = xcalloc(READ_CHUNK / 64 + 1, sizeof(*tmp));
	for (size_t done = 0; done < have; done += used) {
		if ((ret = ima_frame(buf + done, have - done, r->hlen,
		    READ_CHUNK / 64, &k, &used, tmp)) != 0) {
			/* the framer counts from this chunk: say where it is */
			ret = assay_err_set(ret, "%s: %s (in the entries after "
			    "entry %llu, byte %llu)", r->path, assay_err_detail(),
			    (unsigned long long)r->n,
			    (unsigned long long)r->off[r->n]);
			goto out;
		}
		if (r->n + k > IMA_LIST_MAX_ENTRIES) {
			ret = assay_err_set(ASSAY_ERR_RANGE, "%s: too many entries",
			    r->path);
			goto out;
		}
		grow(r, r->n + k);
		for (uint64_t i = 0; i < k; i++)
			r->off[r->n + i] = r->off[r->n] + tmp[i];
		r->off[r->n + k] = r->off[r->n] + used;
		r->n += k;
		if (k == 0)
			break;		/* a partial entry: the kernel is appending */
	}
 out:
	free(tmp);
	free(buf);
	close(fd);
	return ret;
}

int
ima_reader_get(struct ima_reader *r, uint64_t from, uint8_t **out, size_t *len,
    uint64_t *count)
{
	int more;

	return ima_reader_page(r, from, 0, SIZE_MAX, out, len, count, &more);
}

/* Entries [from, end) with end the largest within max entries and max_bytes. */
static uint64_t
page_end(const struct ima_reader *r, uint64_t from, uint64_t max, size_t max_bytes)
{
	uint64_t lo = from, hi = r->n, mid;

	if (max != 0 && hi - from > max)
		hi = from + max;
	/* off[] grows with the index: the last end whose bytes fit. */
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (r->off[mid] - r->off[from] <= (uint64_t)max_bytes)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

int
ima_reader_page(struct ima_reader *r, uint64_t from, uint64_t max,
    size_t max_bytes, uint8_t **out, size_t *len, uint64_t *count, int *more)
{
	size_t want, have = 0;
	uint64_t end;
	ssize_t got;
	uint8_t *buf;
	int fd;

	*out = NULL;
	*len = 0;
	*count = 0;
	*more = 0;
	if (from > r->n)
		from = r->n;
	end = page_end(r, from, max, max_bytes);
	want = (size_t)(r->off[end] - r->off[from]);
	buf = xmalloc(want + 1);
	if (want > 0) {
		if ((fd = open(r->path, O_RDONLY | O_CLOEXEC)) < 0) {
			free(buf);
			return assay_err_set(ASSAY_ERR_IO, "%s: %s", r->path, strerror(errno));
		}
		if (lseek(fd, (off_t)r->off[from], SEEK_SET) == (off_t)-1) {
			close(fd);
			free(buf);
			return assay_err_set(ASSAY_ERR_IO, "%s: seek: %s", r->path,
			    strerror(errno));
		}
		while (have < want) {
			if ((got = read(fd, buf + have, want - have)) < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			have += (size_t)got;
		}
		close(fd);
		if (have != want) {
			free(buf);
			return assay_err_set(ASSAY_ERR_IO, "%s: list changed while read",
			    r->path);
		}
	}
	*out = buf;
	*len = want;
	*count = end - from;
	*more = end < r->n;
	return ASSAY_OK;
}
