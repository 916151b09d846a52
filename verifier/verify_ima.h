/*
 * verify_ima.h — the IMA stage of a verification round and the per-agent
 * incremental state it carries between rounds: entries accepted so far
 * and the running PCR 10 of the quoted bank, so each round only checks
 * what was appended. A TPM reset starts it over.
 */
#ifndef ASSAY_VERIFY_IMA_H
#define ASSAY_VERIFY_IMA_H

#include <stdint.h>

#include "common/evidence/ima.h"

struct ima_state {
	int			valid;
	struct ima_replay	rp;		/* bank, scheme, count, pcr */
	uint16_t		ba_alg;		/* boot_aggregate alg, 0 unknown */
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
