/*
 * verify_mb.c — measured boot in a verification round. When the quoted
 * PCRs 0-9 equal the last accepted ones nothing is parsed. Otherwise the
 * round needs the event log (inconclusive until the agent sends it): it
 * must parse, replay every bank to the quoted values of every PCR it
 * extends, and satisfy the policy's measured_boot: section.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/doc.h"
#include "common/evidence/eventlog.h"
#include "common/xmalloc.h"
#include "verifier/policy.h"
#include "verifier/policy_mb.h"
#include "verifier/verify.h"
#include "verifier/verify_mb.h"

#define MB_PCRS	0x3ffu	/* PCRs 0-9 */

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
		s->extra = (uint32_t)extra & ~(MB_PCRS | 1u << 10);
		s->need_log = need;
	} else
		memset(s, 0, sizeof(*s));
	json_decref(o);
}

/* SHA-256 over PCRs 0-9 of bank as quoted; 0 if one is missing. */
static int
pcrs_digest(const struct pcr_values *v, uint16_t bank, uint8_t out[32])
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(bank);
	uint8_t all[10 * TPM2_MAX_DIGEST];
	size_t n;

	if (h == NULL)
		return 0;
	for (unsigned i = 0; i < 10; i++) {
		const uint8_t *p = pcr_values_get(v, bank, i);

		if (p == NULL)
			return 0;
		memcpy(all + i * h->size, p, h->size);
	}
	return tpm2_hash(TPM2_ALG_SHA256, all, 10 * h->size, out, &n) == 0;
}

static void
need_log(struct verify_job *j, const char *why)
{
	j->mb_out.need_log = 1;
	j->retry = 1;
	snprintf(j->retry_reason, sizeof(j->retry_reason), "%s", why);
}

void
stage_measured_boot(struct verify_job *j, const struct evidence_doc *d)
{
	const struct mb_policy *mp = j->policy != NULL ? policy_mb(j->policy) : NULL;
	uint16_t bank = j->policy != NULL ? policy_bank(j->policy) : TPM2_ALG_SHA256;
	struct eventlog el;
	struct el_pcrs *rp = NULL;
	struct el_facts *facts = NULL;
	uint8_t dg[32];
	uint32_t extra = 0;
	size_t before;

	if (mp == NULL)
		return;
	if (!pcrs_digest(&d->pcrs, bank, dg)) {
		verdict_fail(&j->verdict, "eventlog.replay", "PCRs 0-9 (%s) were not "
		    "quoted", tpm2_hash_by_alg(bank) != NULL ?
		    tpm2_hash_by_alg(bank)->name : "?");
		return;
	}
	j->mb_out = j->mb_in;
	/* Unchanged boot PCRs were judged already: nothing to parse. */
	if (j->mb_in.valid && !j->qres.rebooted &&
	    memcmp(dg, j->mb_in.pcrs_digest, sizeof(dg)) == 0 && d->eventlog == NULL)
		return;
	if (d->eventlog == NULL) {
		/* Asked for it (no accepted state, or asked last round): none came. */
		if (!j->mb_in.valid || j->mb_in.need_log) {
			verdict_fail(&j->verdict, "eventlog.format", "the agent sent no "
			    "firmware event log (its eventlog.path unreadable?)");
			return;
		}
		need_log(j, "boot PCRs changed: the event log is needed");
		return;
	}
	if (eventlog_parse(d->eventlog, d->eventlog_len, &el) != 0) {
		verdict_fail(&j->verdict, "eventlog.format", "%s", assay_err_detail());
		return;
	}
	rp = xcalloc(1, sizeof(*rp));
	facts = xcalloc(1, sizeof(*facts));
	if (eventlog_replay(&el, rp) != 0) {
		verdict_fail(&j->verdict, "eventlog.format", "%s", assay_err_detail());
		goto out;
	}
	/* PCRs the log extends beyond 0-9 (not IMA's 10) must be quoted too. */
	for (size_t b = 0; b < rp->nbanks; b++)
		if (rp->bank[b].alg == bank)
			extra = rp->bank[b].touched & ~(MB_PCRS | 1u << 10);
	for (size_t i = 0; i < j->sel.n; i++)
		if (j->sel.bank[i].hash == bank)
			extra &= ~j->sel.bank[i].mask;
	if (extra != 0) {
		j->mb_out.extra |= extra;
		need_log(j, "the event log extends PCRs beyond 0-9: quoting them too");
		goto out;
	}
	before = j->verdict.nfail;
	eventlog_check_pcrs(rp, &d->pcrs, &j->sel, &j->verdict);
	if (j->verdict.nfail != before)
		goto out;	/* facts from a log that does not replay mean nothing */
	if (eventlog_facts(&el, bank, facts) != 0) {
		verdict_fail(&j->verdict, "eventlog.format", "%s", assay_err_detail());
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
