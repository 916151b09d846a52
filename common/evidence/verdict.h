/*
 * verdict.h — the outcome of verifying one piece of evidence: the failed
 * checks (each a stable failure id from the table, plus a human detail),
 * the notices (such as tpm.reboot) and whatever state the next round needs.
 */
#ifndef ASSAY_VERDICT_H
#define ASSAY_VERDICT_H

#include <stddef.h>
#include <stdint.h>

enum failure_kind { FK_INTEGRITY, FK_NOTICE, FK_TRANSPORT };

struct failure_def {
	const char		*id;		/* "quote.nonce" */
	enum failure_kind	 kind;
	const char		*what;		/* one line, used by docs and API */
};

/*
 * Every failure id is a constant here, indexing failure_table: a check
 * names its failure with one (an unknown id does not compile); the
 * strings are what the API, events, metrics and docs carry.
 */
enum failure_id {
	FID_QUOTE_FORMAT,
	FID_QUOTE_SIGNATURE,
	FID_QUOTE_MAGIC,
	FID_QUOTE_TYPE,
	FID_QUOTE_NONCE,
	FID_QUOTE_SIGNER,
	FID_QUOTE_PCR_SELECT,
	FID_QUOTE_PCR_DIGEST,
	FID_QUOTE_CLOCK,
	FID_PCR_VALUE,
	FID_EVIDENCE_FORMAT,
	FID_AK_MISMATCH,
	FID_TPM_REBOOT,
	FID_TPM_FIRMWARE,
	FID_COMM_UNREACHABLE,
	FID_COMM_TLS,
	FID_IMA_NOT_ALLOWED,
	FID_IMA_SIGNATURE,
	FID_IMA_UNKNOWN,
	FID_IMA_TEMPLATE_HASH,
	FID_IMA_REPLAY,
	FID_IMA_BOOT_AGGREGATE,
	FID_IMA_FORMAT,
	FID_EVENTLOG_FORMAT,
	FID_EVENTLOG_REPLAY,
	FID_EVENTLOG_SECUREBOOT,
	FID_EVENTLOG_PK,
	FID_EVENTLOG_KEK,
	FID_EVENTLOG_DB,
	FID_EVENTLOG_DBX,
	FID_EVENTLOG_BOOT_APP,
	FID_EVENTLOG_DRIVER,
	FID_EVENTLOG_CMDLINE,
	FID_EVENTLOG_EVENT,
	FID_POLICY_MISSING,
	FID_IDENTITY_FORMAT,
	FID_IDENTITY_SIGNATURE,
	FID_IDENTITY_NONCE,
	FID_IDENTITY_SIGNER,
	FID_IDENTITY_NAME,
	FID_IDENTITY_KEY,
	FID_COUNT
};

extern const struct failure_def failure_table[FID_COUNT];
/* A failure id's entry by its string (stored state, tools), or NULL. */
const struct failure_def *failure_lookup(const char *id);
enum failure_id failure_index(const struct failure_def *f);
/* The string of a failure id constant (for state reasons, events). */
#define FAILURE_ID(fid)	(failure_table[(fid)].id)

#define VERDICT_MAX_ITEMS	32

struct verdict_item {
	enum failure_id	 fid;
	const char	*id;		/* failure_table[fid].id */
	char		 detail[256];
};

struct verdict {
	size_t			nfail;
	struct verdict_item	fail[VERDICT_MAX_ITEMS];
	size_t			nnotice;
	struct verdict_item	notice[VERDICT_MAX_ITEMS];
	size_t			dropped;	/* items beyond the arrays */
};

void	verdict_init(struct verdict *v);
void	verdict_fail(struct verdict *v, enum failure_id id, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	verdict_notice(struct verdict *v, enum failure_id id, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
int	verdict_ok(const struct verdict *v);
int	verdict_has(const struct verdict *v, const char *id);

#endif
