/*
 * err.h — the one error enum every function returns, its strings, and a
 * per-thread detail message for the human ("PCR 7 in bank sha256", file:line).
 */
#ifndef ASSAY_ERR_H
#define ASSAY_ERR_H

enum assay_err {
	ASSAY_OK = 0,
	ASSAY_FAIL,		/* evidence checked and found bad: see the verdict */
	ASSAY_ERR_TRUNCATED,	/* input ended early */
	ASSAY_ERR_FORMAT,	/* input malformed */
	ASSAY_ERR_RANGE,	/* a value out of its allowed range */
	ASSAY_ERR_UNSUPPORTED,	/* well-formed but not something we handle */
	ASSAY_ERR_CRYPTO,	/* a crypto library call failed */
	ASSAY_ERR_IO,		/* file or socket I/O failed */
	ASSAY_ERR_TPM,		/* the TPM or TSS returned an error */
	ASSAY_ERR_CONFIG,	/* configuration invalid */
	ASSAY_ERR_NOT_FOUND,
	ASSAY_ERR_EXISTS,
	ASSAY_ERR_DB,		/* the store failed */
	ASSAY_ERR_NET,		/* transport failure */
	ASSAY_ERR_PERM,		/* caller not allowed */
	ASSAY_ERR_TIMEOUT,
	ASSAY_ERR_BUSY,		/* try again later */
	ASSAY_ERR_INVAL,	/* bad argument from a caller or client */
	ASSAY_ERR_STATE,	/* not allowed in the current state */
	ASSAY_ERR_MAX
};

const char	*assay_strerror(int err);

/*
 * Detail for the last error on this thread. assay_err_set() formats it and
 * returns err so that "return assay_err_set(ASSAY_ERR_FORMAT, ...)" reads well.
 */
int		 assay_err_set(int err, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
const char	*assay_err_detail(void);
void		 assay_err_clear(void);

#endif
