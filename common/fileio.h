/*
 * fileio.h — read a whole file (or stdin) into memory under a size cap:
 * the one helper the tools and the verifier use for policies, logs, keys
 * and evidence documents given by path.
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

#endif
