/*
 * bind.h — the binding rule, in one place. A fact counts only if the
 * bytes it was read from are bound, through digests, to a PCR value that
 * this round's quote signed. Everything else may be parsed and shown but
 * never satisfies (or escapes) a policy rule:
 *
 *  - reported PCR values outside the quoted selection (bind_pcr_values);
 *  - event-log events at PCR indexes a TPM lacks (>= 24), EV_NO_ACTION
 *    events (never extended), events of PCRs 16 and 23 (resettable by
 *    the host at any time), events of PCRs that were not quoted in the
 *    bank the facts are read from or whose replay differs from the quote
 *    (bind_eventlog_pcrs, bind_eventlog_event);
 *  - IMA entries beyond the prefix that replays to the quoted PCR 10,
 *    entries of any other PCR (refused), and violation entries' data
 *    (name, template, digest: their template hash is zeros and the
 *    extend a constant, so nothing covers them) (bind_ima_kind);
 *  - the IMA template NAME (outside the template hash): which rules judge
 *    an entry is chosen from bound data, never from that label.
 *
 * Pure: no I/O, no globals.
 */
#ifndef ASSAY_BIND_H
#define ASSAY_BIND_H

#include <stddef.h>
#include <stdint.h>

#include "common/evidence/eventlog.h"
#include "common/evidence/ima.h"
#include "common/evidence/pcr.h"

/* PCRs the host can reset at will (PC Client: debug 16, application 23). */
#define BIND_RESETTABLE_PCRS	((1u << 16) | (1u << 23))
/* Every PCR an offline tool may take facts from (no quote to bind to). */
#define BIND_ALL_PCRS		(((1u << TPM2_PCR_COUNT) - 1) & ~BIND_RESETTABLE_PCRS)

/*
 * Every reported value must belong to the quoted selection. 0 if so;
 * otherwise ASSAY_ERR_FORMAT with a detail naming the first stray value.
 */
int	bind_pcr_values(const struct pcr_values *v, const struct pcr_selection *sel);

/*
 * The PCRs of bank whose event-log replay equals the value this quote
 * signed: quoted in bank, reported, equal to the replay; resettable PCRs
 * never count. Facts come only from events of these PCRs.
 */
uint32_t bind_eventlog_pcrs(const struct el_pcrs *rp, const struct pcr_values *quoted,
	    const struct pcr_selection *sel, uint16_t bank);

/*
 * Does this event count for a policy whose facts are read in bank, given
 * the bound PCR mask? It must have been extended into that bank (carry
 * its digest). 1 or 0.
 */
int	bind_eventlog_event(const struct el_event *e, uint16_t bank, uint32_t bound);

/* What judges an IMA entry that replayed into the quoted PCR 10. */
enum bind_ima_kind {
	BIND_IMA_VIOLATION,	/* data unbound: a violation, nothing else */
	BIND_IMA_FILE,		/* file rules (every entry not a buffer) */
	BIND_IMA_BUFFER,	/* labelled ima-buf AND its hashed name is not
				 * an absolute path: buffer rules */
};
enum bind_ima_kind bind_ima_kind(const struct ima_entry *e);

#endif
