/*
 * verify_mb.h — the measured-boot stage: the firmware event log replayed
 * against the quoted PCRs and judged by the policy's measured_boot:
 * section; and the small per-agent state that makes it cheap: a digest
 * of the PCR 0-9 values last accepted (unchanged PCRs need no log) and
 * the extra PCRs the log extends, to be quoted too.
 */
#ifndef ASSAY_VERIFY_MB_H
#define ASSAY_VERIFY_MB_H

#include <stdint.h>

#include "common/evidence/tpm2.h"

/*
 * PCRs measured boot always quotes and compares with the replay: what
 * firmware (0-7), boot loaders and the Linux EFI stub (8, 9), systemd-boot
 * (12, 13) and shim (14) extend. PCRs 11 and 15 are extended at run time
 * outside the firmware log; they are covered only when the log extends
 * them (extra).
 */
#define MB_COVER_PCRS	0x73ffu

struct mb_state {
	int		valid;		/* pcrs_digest is of an accepted log */
	uint8_t		pcrs_digest[32];	/* SHA-256 over the covered PCRs */
	uint32_t	extra;		/* PCRs beyond the cover the log extends (not 10) */
	int		need_log;	/* next round must carry the event log */
};

struct verify_job;
struct evidence_doc;

/* JSON of the state (for agent_rec.verify_state); caller frees. */
char	*mb_state_to_json(const struct mb_state *s);
void	mb_state_from_json(const char *text, struct mb_state *s);

void	stage_measured_boot(struct verify_job *j, const struct evidence_doc *d);

#endif
