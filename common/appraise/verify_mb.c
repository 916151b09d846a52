/*
 * verify_mb.c — measured boot in a verification round. The stage covers
 * PCRs 0-9, 12-14 and every other PCR the log was seen to extend; all are
 * quoted. When they equal the last accepted values and no log is owed,
 * nothing is parsed. Otherwise the round needs the event log
 * (inconclusive until the agent sends it): it must parse, replay every
 * bank to the quoted value of every covered PCR, and the events of the
 * PCRs it binds (bind.h) must satisfy the measured_boot: section.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/bind.h"
#include "common/proto/doc.h"
#include "common/evidence/eventlog.h"
#include "common/evidence/ima.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_mb.h"
#include "common/appraise/verify.h"
#include "common/appraise/verify_mb.h"


char *
mb_state_to_json(const struct mb_state *s)
{
	char *hex, *out;
	json_t *o;

	if (!s->valid && s->extra == 0 && !s->need_log)
		return NULL;
	hex = hex_encode(s->pcrs_digest, sizeof(s->pcrs_digest));
	o = json_pack("{s:{s:b, s:s, s:I, s:b}}", "measured_boot", "valid", s->valid,
	    "pcrs", hex, "extra", (json_int_t)s->extra, "need_log", s->need_log);
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(hex);
	return out;
}

void
mb_state_from_json(const char *text, struct mb_state *s)
{
	const char *hex;
	json_int_t extra;
	int valid, need;
	size_t n;
	json_t *o;

	memset(s, 0, sizeof(*s));
	if (text == NULL || (o = json_loads(text, 0, NULL)) == NULL)
		return;
	if (json_unpack(o, "{s:{s:b, s:s, s:I, s:b}}", "measured_boot", "valid", &valid,
	    "pcrs", &hex, "extra", &extra, "need_log", &need) == 0 &&
	    hex_decode(hex, s->pcrs_digest, sizeof(s->pcrs_digest), &n) == 0 &&
	    n == sizeof(s->pcrs_digest) && extra >= 0 && extra <= 0xffffff) {
		s->valid = valid;
		s->extra = (uint32_t)extra & ~(MB_COVER_PCRS | 1u << IMA_PCR);
		s->need_log = need;
	} else
		memset(s, 0, sizeof(*s));
	json_decref(o);
}

/* PCRs of bank in the selection. */
static uint32_t
quoted_mask(const struct pcr_selection *sel, uint16_t bank)
{
	uint32_t m = 0;

	for (size_t i = 0; i < sel->n; i++)
		if (sel->bank[i].hash == bank)
			m |= sel->bank[i].mask;
	return m;
}

/*
 * SHA-256 over the cover mask and the quoted values of every PCR in it
 * (ascending); 0 with the first missing PCR in *missing.
 */
static int
pcrs_digest(const struct pcr_values *v, uint16_t bank, uint32_t cover,
    uint8_t out[32], unsigned *missing)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(bank);
	uint8_t all[4 + TPM2_PCR_COUNT * TPM2_MAX_DIGEST];
	size_t n = 0, len;

	if (h == NULL)
		return 0;
	for (unsigned i = 0; i < 4; i++)
		all[n++] = (uint8_t)(cover >> (8 * i));
	for (unsigned i = 0; i < TPM2_PCR_COUNT; i++) {
		const uint8_t *p;

		if (!(cover & (1u << i)))
			continue;
		if ((p = pcr_values_get(v, bank, i)) == NULL) {
			*missing = i;
			return 0;
		}
		memcpy(all + n, p, h->size);
		n += h->size;
	}
	return tpm2_hash(TPM2_ALG_SHA256, all, n, out, &len) == 0;
}

static void
need_log(struct verify_job *j, const char *why)
{
	j->mb_out.need_log = 1;
	j->retry = 1;
	snprintf(j->retry_reason, sizeof(j->retry_reason), "%s", why);
}

/*
 * The PCRs this stage covers this round: those firmware and boot loaders
 * extend (MB_COVER_PCRS) and the extra ones the log was seen to extend.
 * All must be quoted; each is compared with the replay; the skip
 * shortcut hashes all of them.
 */
static int
mb_cover(struct verify_job *j, uint16_t bank, uint32_t *cover)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(bank);
	uint32_t want = MB_COVER_PCRS | j->mb_in.extra, q;
	unsigned i;

	q = quoted_mask(&j->sel, bank);
	if ((want & ~q) != 0 || h == NULL) {
		for (i = 0; i < TPM2_PCR_COUNT && !((want & ~q) & (1u << i)); i++)
			;
		verdict_fail(&j->verdict, FID_EVENTLOG_REPLAY, "PCR %u (%s) was "
		    "not quoted", i, h != NULL ? h->name : "?");
		return -1;
	}
	*cover = want;
	return 0;
}

/* The log: parsed, replayed; PCRs it extends beyond the cover learned. */
static int
mb_replay(struct verify_job *j, const struct evidence_doc *d, uint16_t bank,
    struct eventlog *el, struct el_pcrs *rp)
{
	uint32_t extra = 0;

	if (eventlog_parse(d->eventlog, d->eventlog_len, el) != 0) {
		verdict_fail(&j->verdict, FID_EVENTLOG_FORMAT, "%s", assay_err_detail());
		return -1;
	}
	if (eventlog_replay(el, rp) != 0) {
		verdict_fail(&j->verdict, FID_EVENTLOG_FORMAT, "%s", assay_err_detail());
		return -1;
	}
	/* PCRs the log extends beyond the cover (not IMA's 10) are quoted too. */
	for (size_t b = 0; b < rp->nbanks; b++)
		if (rp->bank[b].alg == bank)
			extra = rp->bank[b].touched & ~(MB_COVER_PCRS | 1u << IMA_PCR);
	extra &= ~quoted_mask(&j->sel, bank);
	if (extra != 0) {
		j->mb_out.extra |= extra;
		need_log(j, "the event log extends more PCRs: quoting them too");
		return 1;
	}
	return 0;
}

void
stage_measured_boot(struct verify_job *j, const struct evidence_doc *d)
{
	const struct mb_policy *mp = j->policy != NULL ? policy_mb(j->policy) : NULL;
	uint16_t bank = j->policy != NULL ? policy_bank(j->policy) : TPM2_ALG_SHA256;
	struct eventlog el = { 0 };
	struct el_pcrs *rp = NULL;
	struct el_facts *facts = NULL;
	uint32_t cover, bound;
	uint8_t dg[32];
	unsigned missing = 0;
	size_t before;

	if (mp == NULL)
		return;
	j->mb_out = j->mb_in;
	if (mb_cover(j, bank, &cover) != 0)
		return;
	if (!pcrs_digest(&d->pcrs, bank, cover, dg, &missing)) {
		verdict_fail(&j->verdict, FID_EVENTLOG_REPLAY, "PCR %u (%s) was not "
		    "reported", missing, tpm2_hash_by_alg(bank)->name);
		return;
	}
	/* Every covered PCR unchanged and judged, no log owed: nothing to do. */
	if (j->mb_in.valid && !j->mb_in.need_log && !j->qres.rebooted &&
	    memcmp(dg, j->mb_in.pcrs_digest, sizeof(dg)) == 0 && d->eventlog == NULL)
		return;
	if (d->eventlog == NULL) {
		/* Asked for it (no accepted state, or asked last round): none came. */
		if (!j->mb_in.valid || j->mb_in.need_log) {
			verdict_fail(&j->verdict, FID_EVENTLOG_FORMAT, "the agent sent no "
			    "firmware event log (its eventlog.path unreadable?)");
			return;
		}
		need_log(j, "boot PCRs changed: the event log is needed");
		return;
	}
	rp = xcalloc(1, sizeof(*rp));
	facts = xcalloc(1, sizeof(*facts));
	if (mb_replay(j, d, bank, &el, rp) != 0)
		goto out;
	before = j->verdict.nfail;
	eventlog_check_pcrs(rp, &d->pcrs, &j->sel, cover, &j->verdict);
	if (j->verdict.nfail != before)
		goto out;	/* facts from a log that does not replay mean nothing */
	bound = bind_eventlog_pcrs(rp, &d->pcrs, &j->sel, bank);
	if (eventlog_facts(&el, bank, bound, facts) != 0) {
		verdict_fail(&j->verdict, FID_EVENTLOG_FORMAT, "%s", assay_err_detail());
		goto out;
	}
	mb_policy_check(mp, facts, &j->verdict);
	eventlog_facts_free(facts);
	if (j->verdict.nfail == before) {
		j->mb_out.valid = 1;
		j->mb_out.need_log = 0;
		memcpy(j->mb_out.pcrs_digest, dg, sizeof(dg));
	}
 out:
	free(facts);
	free(rp);
	eventlog_free(&el);
}
