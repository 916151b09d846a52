/*
 * collect.h — the agent's evidence for one quote request (collect.c).
 */
#ifndef ASSAY_AGENT_COLLECT_H
#define ASSAY_AGENT_COLLECT_H

#include "agent/agent.h"
#include "common/proto/doc.h"
#include "common/proto/quote_req.h"

/*
 * Quote, IMA page and event log as q asks, into d (initialized by the
 * caller, freed by it on error too). No IMA list or no event log is not
 * an error: the verifier's policy decides. 0, or an error with detail.
 */
int	collect_evidence(struct agent *a, const struct quote_req *q,
	    struct evidence_doc *d);
/*
 * The form to answer q in (DOC_FORM_*): the one it asks, at most
 * ASSAY_AGENT_FORMAT_MAX from the environment when set (1 or 2: tests
 * stand in for an agent that knows only the older forms).
 */
int	agent_form(const struct quote_req *q);

#endif
