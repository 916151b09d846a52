/*
 * err.c — error strings (a table indexed by the enum) and the per-thread
 * detail buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

static const char *const err_strings[ASSAY_ERR_MAX] = {
	[ASSAY_OK] = "success",
	[ASSAY_FAIL] = "verification failed",
	[ASSAY_ERR_TRUNCATED] = "input truncated",
	[ASSAY_ERR_FORMAT] = "malformed input",
	[ASSAY_ERR_RANGE] = "value out of range",
	[ASSAY_ERR_UNSUPPORTED] = "unsupported",
	[ASSAY_ERR_CRYPTO] = "cryptographic operation failed",
	[ASSAY_ERR_IO] = "I/O error",
	[ASSAY_ERR_TPM] = "TPM error",
	[ASSAY_ERR_CONFIG] = "configuration error",
	[ASSAY_ERR_NOT_FOUND] = "not found",
	[ASSAY_ERR_EXISTS] = "already exists",
	[ASSAY_ERR_DB] = "database error",
	[ASSAY_ERR_NET] = "network error",
	[ASSAY_ERR_PERM] = "permission denied",
	[ASSAY_ERR_TIMEOUT] = "timed out",
	[ASSAY_ERR_BUSY] = "busy",
	[ASSAY_ERR_INVAL] = "invalid argument",
	[ASSAY_ERR_STATE] = "not allowed in this state",
};

static _Thread_local char err_detail[512];

const char *
assay_strerror(int err)
{
	if (err < 0 || err >= ASSAY_ERR_MAX || err_strings[err] == NULL)
		return "unknown error";
	return err_strings[err];
}

int
assay_err_set(int err, const char *fmt, ...)
{
	char buf[sizeof(err_detail)];
	va_list ap;

	/* Formatted aside: the arguments may quote the current detail. */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(err_detail, buf, sizeof(buf));
	return err;
}

const char *
assay_err_detail(void)
{
	return err_detail;
}

void
assay_err_clear(void)
{
	err_detail[0] = '\0';
}
