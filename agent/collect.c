/*
 * collect.c — the agent's evidence for one request, gathered in one
 * place: a quote over the requested PCRs (values read consistently
 * around it, tpm_quote.c), then the IMA page asked from the list whose
 * template hashes suit the quoted bank, and the firmware event log when
 * asked; and the form to answer in. The HTTP handler (api.c) only
 * decodes, rate-limits and replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/collect.h"
#include "common/err.h"
#include "common/log.h"
#include "common/xmalloc.h"

int
agent_form(const struct quote_req *q)
{
	const char *cap = getenv("ASSAY_AGENT_FORMAT_MAX");
	int f = q->format > 0 ? q->format : DOC_FORM_JSON;

	if (cap != NULL && cap[0] >= '1' && cap[0] < '0' + f && cap[1] == '\0')
		f = cap[0] - '0';
	return f;
}

/*
 * The list whose template hashes suit the quoted bank: the kernel's
 * per-bank list (<path>_<bank>) when it exists, else the classic SHA-1 one.
 */
static struct ima_reader *
ima_list_for(struct agent *a, uint16_t bank)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(bank);
	char *p;

	if (a->conf.ima_path == NULL || a->conf.ima_path[0] == '\0')
		return NULL;
	for (size_t i = 0; i < a->nima; i++)
		if (a->ima[i].thash_alg == bank)
			return &a->ima[i];
	if (bank != TPM2_ALG_SHA1 && h != NULL) {
		p = xasprintf("%s_%s", a->conf.ima_path, h->name);
		if (access(p, R_OK) == 0 && a->nima < TPM2_MAX_BANKS) {
			ima_reader_init(&a->ima[a->nima], p, bank);
			free(p);
			return &a->ima[a->nima++];
		}
		free(p);
	}
	for (size_t i = 0; i < a->nima; i++)
		if (a->ima[i].thash_alg == TPM2_ALG_SHA1)
			return &a->ima[i];
	if (a->nima >= TPM2_MAX_BANKS)
		return NULL;
	ima_reader_init(&a->ima[a->nima], a->conf.ima_path, TPM2_ALG_SHA1);
	return &a->ima[a->nima++];
}

/*
 * Entries from `from` read after the quote: the kernel appends, then
 * extends. One page: at most max entries (0: as many as fit) and at most
 * doc_ima_page_cap(bytes) bytes, with "more" when the list goes on (doc.h).
 */
static int
add_ima(struct agent *a, uint16_t bank, uint64_t from, uint64_t max,
    uint64_t bytes, struct evidence_doc *d)
{
	struct ima_reader *ir = ima_list_for(a, bank);
	int r;

	if (ir == NULL)
		return ASSAY_OK;
	if ((r = ima_reader_update(ir)) != 0) {
		if (!a->ima_warned++)
			log_warnx("IMA list: %s", assay_err_detail());
		return ASSAY_OK;	/* no IMA: the verifier's policy decides */
	}
	if (from > ir->n)
		from = ir->n;
	if ((r = ima_reader_page(ir, from, max, doc_ima_page_cap(bytes), &d->ima,
	    &d->ima_len,
	    &d->ima_count, &d->ima_more)) != 0)
		return r;
	d->has_ima = 1;
	d->ima_from = from;
	d->ima_thash_alg = ir->thash_alg;
	return ASSAY_OK;
}

/* The whole firmware event log (it is small and fixed after boot). */
static int
add_eventlog(struct agent *a, struct evidence_doc *d)
{
	const char *path = a->conf.eventlog_path;
	size_t cap = 64 * 1024, have = 0;
	uint8_t *buf;
	ssize_t got;
	int fd;

	if (path == NULL || path[0] == '\0')
		return ASSAY_OK;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (!a->eventlog_warned++)
			log_warn("event log %s", path);
		return ASSAY_OK;	/* none: the verifier's policy decides */
	}
	buf = xmalloc(cap);
	for (;;) {
		if (have == cap) {
			if (cap >= DOC_EVENTLOG_MAX) {
				close(fd);
				free(buf);
				return assay_err_set(ASSAY_ERR_RANGE, "event log %s: larger "
				    "than %u bytes", path, DOC_EVENTLOG_MAX);
			}
			buf = xreallocarray(buf, 2, cap);
			cap *= 2;
		}
		if ((got = read(fd, buf + have, cap - have)) < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		have += (size_t)got;
	}
	close(fd);
	if (got < 0) {
		free(buf);
		return assay_err_set(ASSAY_ERR_IO, "event log %s: %s", path, strerror(errno));
	}
	d->eventlog = buf;
	d->eventlog_len = have;
	return ASSAY_OK;
}

int
collect_evidence(struct agent *a, const struct quote_req *q,
    struct evidence_doc *d)
{
	if (tpm_quote(&a->tpm, q->nonce, q->nonce_len, &q->sel, &d->attest,
	    &d->attest_len, &d->sig, &d->sig_len, &d->pcrs) != 0)
		return assay_err_set(ASSAY_ERR_TPM, "TPM quote failed: %s",
		    assay_err_detail());
	if (q->ima && add_ima(a, q->sel.bank[0].hash, q->ima_from, q->ima_max,
	    q->ima_bytes, d) != 0)
		return assay_err_set(ASSAY_ERR_IO, "IMA list: %s",
		    assay_err_detail());
	if (q->eventlog && add_eventlog(a, d) != 0)
		return ASSAY_ERR_IO;
	(void)ident_certify(a, q, d);
	return ASSAY_OK;
}
