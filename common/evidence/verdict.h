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

/* The failure-id table; terminated by an entry with id NULL. */
extern const struct failure_def failure_table[];
const struct failure_def *failure_lookup(const char *id);

#define VERDICT_MAX_ITEMS	32

struct verdict_item {
	const char	*id;		/* points into failure_table */
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
/* Record an integrity failure; aborts if id is not in the table (a bug). */
void	verdict_fail(struct verdict *v, const char *id, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	verdict_notice(struct verdict *v, const char *id, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	verdict_ok(const struct verdict *v);
int	verdict_has(const struct verdict *v, const char *id);

#endif
