/*
 * verify_ima.h — the IMA stage of a verification round and the per-agent
 * incremental state it carries between rounds: entries accepted so far
 * and the running PCR 10 of the quoted bank, so each round only checks
 * what was appended. A TPM reset starts it over.
 *
 * Paging: the agent sends at most a page of entries per round. A page
 * that does not reach this round's quoted PCR 10 while the agent says
 * more follow is kept *pending*: replayed (template hashes checked) onto
 * a separate head and judged, its findings held back. Nothing pending
 * counts, for or against, until a later round's page extends the head to
 * the PCR 10 that round's quote signed; then the whole chain is a prefix
 * bound to that quote and the held findings (and the pending
 * boot_aggregate, checked against that quote's PCRs) are applied.
 */
#ifndef ASSAY_VERIFY_IMA_H
#define ASSAY_VERIFY_IMA_H

#include <stdint.h>

#include "common/evidence/ima.h"

#include "common/evidence/verdict.h"

#define IMA_PEND_ITEMS		8		/* findings held, more are counted */
#define IMA_PEND_BYTES_MAX	(2ull * 1024 * 1024 * 1024)	/* = agent list cap */
#define IMA_PAGE_ENTRIES	65536		/* default ima_page_entries */

struct ima_pend_item {
	enum failure_id		 fid;
	const char		*id;		/* failure_table[fid].id */
	int			 notice;	/* verdict_notice, not verdict_fail */
	char			 detail[256];
};

struct ima_state {
	int			valid;
	struct ima_replay	rp;		/* bank, scheme, count, pcr */
	uint16_t		ba_alg;		/* boot_aggregate alg, 0 unknown */
	/* unbound entries after rp (pend_n == 0: none) */
	uint64_t		pend_n;
	uint64_t		pend_bytes;
	struct ima_replay	pend;		/* head: rp advanced by them */
	int			pend_ba;	/* boot_aggregate digest held */
	uint16_t		pend_ba_alg;
	uint8_t			pend_ba_digest[TPM2_MAX_DIGEST];
	size_t			pend_ba_len;
	size_t			pend_nitems;
	struct ima_pend_item	pend_item[IMA_PEND_ITEMS];
	uint64_t		pend_dropped;	/* findings beyond pend_item */
};

struct verify_job;
struct evidence_doc;

/* Fresh state for bank; scheme: IMA_EXTEND_AUTO or one fixed scheme. */
void	ima_state_reset(struct ima_state *s, uint16_t bank, int scheme);
/* JSON text for agent_rec.verify_state; caller frees. */
char	*ima_state_to_json(const struct ima_state *s);
/* NULL or malformed text gives an invalid (start over) state. */
void	ima_state_from_json(const char *text, struct ima_state *s);


/* The pipeline stage (needs a verified quote). */
void	stage_ima(struct verify_job *j, const struct evidence_doc *d);

#endif
