/*
 * fileio.h — read a whole file (or stdin) into memory under a size cap:
 * the one helper the tools and the verifier use for policies, logs, keys
 * and evidence documents given by path; and replace a file atomically
 * (what the agent hands local services: its result, identity, key).
 */
#ifndef ASSAY_FILEIO_H
#define ASSAY_FILEIO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Read all of path ("-": standard input, left open) into a new buffer,
 * NUL-terminated (the NUL is not counted in *len). Input of more than max
 * bytes, including a file that grows past max while it is read, is
 * ASSAY_ERR_RANGE ("PATH: larger than MAX bytes"); open/read failures and
 * directories are ASSAY_ERR_IO ("PATH: strerror"). On error *out is NULL
 * and *len 0. The caller frees *out.
 */
int	file_read_all(const char *path, size_t max, uint8_t **out, size_t *len);

/*
 * Replace path with data atomically: written to path.tmp (mode, not
 * following a link), fsynced, renamed over path. ASSAY_ERR_IO with detail
 * on failure, path untouched then.
 */
int	file_write_atomic(const char *path, const uint8_t *data, size_t len,
	    int mode);

#endif
