/*
 * bind.c — the binding rule (see bind.h): which reported values, event
 * log events and IMA entries may count for a policy, decided only from
 * bytes the quote's digests cover.
 */
#include <string.h>

#include "common/err.h"
#include "common/evidence/bind.h"

static uint32_t
sel_mask(const struct pcr_selection *sel, uint16_t bank)
{
	uint32_t m = 0;
	size_t i;

	for (i = 0; i < sel->n; i++)
		if (sel->bank[i].hash == bank)
			m |= sel->bank[i].mask;
	return m;
}

int
bind_pcr_values(const struct pcr_values *v, const struct pcr_selection *sel)
{
	const struct tpm2_hash *h;
	uint32_t stray;
	unsigned i;
	size_t b;

	for (b = 0; b < v->nbanks; b++) {
		stray = v->bank[b].present & ~sel_mask(sel, v->bank[b].hash);
		if (stray == 0)
			continue;
		for (i = 0; i < TPM2_PCR_COUNT && !(stray & (1u << i)); i++)
			;
		h = tpm2_hash_by_alg(v->bank[b].hash);
		return assay_err_set(ASSAY_ERR_FORMAT, "a value for PCR %u "
		    "(%s) was reported but not quoted", i,
		    h != NULL ? h->name : "unknown bank");
	}
	return ASSAY_OK;
}

uint32_t
bind_eventlog_pcrs(const struct el_pcrs *rp, const struct pcr_values *quoted,
    const struct pcr_selection *sel, uint16_t bank)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(bank);
	uint32_t want, bound = 0;
	const uint8_t *q;
	unsigned i;
	size_t k;

	if (h == NULL)
		return 0;
	for (k = 0; k < rp->nbanks; k++)
		if (rp->bank[k].alg == bank)
			break;
	if (k == rp->nbanks)
		return 0;
	want = sel_mask(sel, bank) & ~BIND_RESETTABLE_PCRS;
	for (i = 0; i < TPM2_PCR_COUNT; i++) {
		if (!(want & (1u << i)) ||
		    (q = pcr_values_get(quoted, bank, i)) == NULL)
			continue;
		if (memcmp(q, rp->bank[k].v[i], h->size) == 0)
			bound |= 1u << i;
	}
	return bound;
}

int
bind_eventlog_event(const struct el_event *e, uint16_t bank, uint32_t bound)
{
	size_t i;

	if (e->type == EV_NO_ACTION || e->pcr >= TPM2_PCR_COUNT ||
	    !(((bound & ~BIND_RESETTABLE_PCRS) >> e->pcr) & 1u))
		return 0;
	/* An event without the bank's digest changed no value in that bank. */
	for (i = 0; i < e->ndigests; i++)
		if (e->digest[i].alg == bank)
			return 1;
	return 0;
}

enum bind_ima_kind
bind_ima_kind(const struct ima_entry *e)
{
	/* Checked first: a violation's name and template are anybody's. */
	if (e->violation)
		return BIND_IMA_VIOLATION;
	if (e->tmpl == IMA_TMPL_IMA_BUF &&
	    (e->name.len == 0 || e->name.p[0] != '/'))
		return BIND_IMA_BUFFER;
	return BIND_IMA_FILE;
}
