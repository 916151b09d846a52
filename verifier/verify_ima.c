/*
 * verify_ima.c — the IMA stage: the list fragment the agent sent must
 * continue where the last accepted round stopped, parse, carry correct
 * template hashes and replay into the quoted PCR 10 (the longest matching
 * prefix is accepted, the rest waits for the next round); a fresh list
 * must start with a boot_aggregate matching the quoted PCRs 0-7/0-9; every
 * accepted entry is judged by the policy's ima: section.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/evidence/doc.h"
#include "common/xmalloc.h"
#include "verifier/policy.h"
#include "verifier/policy_ima.h"
#include "verifier/verify.h"
#include "verifier/verify_ima.h"

static const char *const scheme_names[] = {
	[IMA_EXTEND_AUTO] = "auto",
	[IMA_EXTEND_SHA1_PADDED] = "sha1-padded",
	[IMA_EXTEND_BANK_HASH] = "bank-hash",
};

void
ima_state_reset(struct ima_state *s, uint16_t bank, int scheme)
{
	uint16_t ba = s->ba_alg;	/* what boot_aggregate uses survives reboots */

	memset(s, 0, sizeof(*s));
	ima_replay_init(&s->rp, bank, scheme);
	s->ba_alg = ba;
	s->valid = 1;
}

char *
ima_state_to_json(const struct ima_state *s)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(s->rp.bank);
	const struct tpm2_hash *ba = tpm2_hash_by_alg(s->ba_alg);
	char *pcr, *alt, *out;
	json_t *o;

	if (!s->valid || h == NULL)
		return NULL;
	pcr = hex_encode(s->rp.pcr, h->size);
	alt = hex_encode(s->rp.pcr_alt, h->size);
	o = json_pack("{s:{s:s, s:s, s:I, s:s, s:s, s:s?}}", "ima",
	    "bank", h->name, "scheme", scheme_names[s->rp.scheme],
	    "count", (json_int_t)s->rp.count, "pcr", pcr, "pcr_alt", alt,
	    "boot_aggregate", ba != NULL ? ba->name : NULL);
	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(pcr);
	free(alt);
	return out;
}

void
ima_state_from_json(const char *text, struct ima_state *s)
{
	const struct tpm2_hash *h, *ba;
	const char *bank, *scheme, *pcr, *alt, *bas = NULL;
	json_int_t count;
	size_t n1, n2;
	json_t *o;
	int sc;

	memset(s, 0, sizeof(*s));
	if (text == NULL || (o = json_loads(text, 0, NULL)) == NULL)
		return;
	if (json_unpack(o, "{s:{s:s, s:s, s:I, s:s, s:s, s?:s}}", "ima", "bank", &bank,
	    "scheme", &scheme, "count", &count, "pcr", &pcr, "pcr_alt", &alt,
	    "boot_aggregate", &bas) != 0 || (h = tpm2_hash_by_name(bank)) == NULL ||
	    count < 0)
		goto out;
	for (sc = 0; sc < 3; sc++)
		if (strcmp(scheme, scheme_names[sc]) == 0)
			break;
	if (sc == 3)
		goto out;
	ima_replay_init(&s->rp, h->alg, sc);
	if (hex_decode(pcr, s->rp.pcr, sizeof(s->rp.pcr), &n1) != 0 ||
	    hex_decode(alt, s->rp.pcr_alt, sizeof(s->rp.pcr_alt), &n2) != 0 ||
	    n1 != h->size || n2 != h->size)
		goto out;
	s->rp.count = (uint64_t)count;
	if (bas != NULL && (ba = tpm2_hash_by_name(bas)) != NULL)
		s->ba_alg = ba->alg;
	s->valid = 1;
 out:
	if (!s->valid)
		memset(s, 0, sizeof(*s));
	json_decref(o);
}

static int
selected(const struct pcr_selection *sel, uint16_t bank, unsigned pcr)
{
	for (size_t i = 0; i < sel->n; i++)
		if (sel->bank[i].hash == bank && (sel->bank[i].mask & (1u << pcr)))
			return 1;
	return 0;
}

static void
entry_label(const struct ima_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)(e->name.len > 200 ? 200 : e->name.len),
	    (const char *)e->name.p);
}

/* boot_aggregate of a fresh list; 1 = needs another round with its bank. */
static int
check_boot_aggregate(struct verify_job *j, const struct evidence_doc *d,
    const struct ima_entry *e, struct ima_state *st)
{
	const uint8_t *pcrs[10] = { 0 };
	uint8_t ba[TPM2_MAX_DIGEST];
	char label[256], *want, *got;
	unsigned k;
	size_t n;
	uint16_t alg;

	entry_label(e, label, sizeof(label));
	if (e->name.len != 14 || memcmp(e->name.p, "boot_aggregate", 14) != 0) {
		verdict_fail(&j->verdict, "ima.boot_aggregate",
		    "the list does not start with boot_aggregate but with '%s'", label);
		return 0;
	}
	alg = e->tmpl == IMA_TMPL_IMA ? TPM2_ALG_SHA1 : e->dalg;
	if (tpm2_hash_by_alg(alg) == NULL) {
		verdict_fail(&j->verdict, "ima.boot_aggregate",
		    "boot_aggregate uses a hash this verifier does not know");
		return 0;
	}
	k = alg == TPM2_ALG_SHA1 ? 7 : 9;
	for (unsigned i = 0; i <= k; i++) {
		if (!selected(&j->sel, alg, i) ||
		    (pcrs[i] = pcr_values_get(&d->pcrs, alg, i)) == NULL) {
			st->ba_alg = alg;	/* quote that bank next round */
			j->retry = 1;
			snprintf(j->retry_reason, sizeof(j->retry_reason),
			    "boot_aggregate needs %s PCRs 0-%u in the quote",
			    tpm2_hash_by_alg(alg)->name, k);
			return 1;
		}
	}
	if (ima_boot_aggregate(alg, pcrs, ba, &n) != 0 || n != e->digest.len ||
	    memcmp(ba, e->digest.p, n) != 0) {
		want = hex_encode(ba, n);
		got = hex_encode(e->digest.p, e->digest.len);
		verdict_fail(&j->verdict, "ima.boot_aggregate",
		    "boot_aggregate is %s, the quoted %s PCRs 0-%u give %s", got,
		    tpm2_hash_by_alg(alg)->name, k, want);
		free(want);
		free(got);
	}
	st->ba_alg = alg;
	return 0;
}

/*
 * The fragment must continue the accepted entries; a new boot, another
 * bank or a scheme no longer accepted restarts the list (inconclusive:
 * asked again from entry 0). 0 to go on, -1 when the round ends here.
 */
/*
 * Pre-5.8 kernels extend other banks with the zero-padded SHA-1 template
 * hash: PCR 10 then binds entries by SHA-1 only, so that scheme is taken
 * only where the policy accepts it.
 */
static int
ima_scheme(const struct ima_policy *ip)
{
	return ima_policy_legacy_extend(ip) ? IMA_EXTEND_AUTO :
	    IMA_EXTEND_BANK_HASH;
}

static int
ima_start(struct verify_job *j, const struct evidence_doc *d,
    const struct ima_policy *ip, uint16_t bank, struct ima_state *st)
{
	int scheme = ima_scheme(ip), restart;

	restart = !st->valid || j->qres.rebooted || st->rp.bank != bank ||
	    (scheme != IMA_EXTEND_AUTO && st->rp.scheme != scheme);
	if (restart)
		ima_state_reset(st, bank, scheme);
	if (!d->has_ima) {
		verdict_fail(&j->verdict, "ima.format", "the agent sent no IMA "
		    "measurement list (IMA off, or the agent's ima.path unreadable)");
		return -1;
	}
	if (d->ima_from == st->rp.count)
		return 0;
	if (restart) {
		j->retry = 1;
		snprintf(j->retry_reason, sizeof(j->retry_reason),
		    "IMA list restarts (TPM reset, new bank or scheme)");
		j->ima_out = *st;
		return -1;
	}
	verdict_fail(&j->verdict, "ima.replay", "the agent's list fragment "
	    "starts at entry %llu, %llu entries were accepted before "
	    "(a list that shrinks without a TPM reset)",
	    (unsigned long long)d->ima_from, (unsigned long long)st->rp.count);
	return -1;
}

/* The fragment parses, as counted, every entry of PCR 10; 0 or -1. */
static int
ima_fragment(struct verify_job *j, const struct evidence_doc *d,
    struct ima_list *l)
{
	char label[256];

	if (ima_parse_binary(d->ima, d->ima_len, d->ima_thash_alg, l, NULL) != 0) {
		verdict_fail(&j->verdict, "ima.format", "%s", assay_err_detail());
		return -1;
	}
	if (l->n != d->ima_count) {
		verdict_fail(&j->verdict, "ima.format", "the agent counted %llu entries, "
		    "the list holds %zu", (unsigned long long)d->ima_count, l->n);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->e[i].pcr == IMA_PCR)
			continue;
		/* Replayed into nothing we quote: such an entry binds nothing. */
		entry_label(&l->e[i], label, sizeof(label));
		verdict_fail(&j->verdict, "ima.replay", "entry %llu (%s) extends "
		    "PCR %u; only PCR 10 is replayed and quoted",
		    (unsigned long long)(d->ima_from + i), label, l->e[i].pcr);
		return -1;
	}
	return 0;
}

/* Replay onto the running PCR 10; 0 with *accepted, or -1 (failed). */
static int
ima_bind(struct verify_job *j, const struct evidence_doc *d,
    const struct tpm2_hash *h, struct ima_state *st, struct ima_list *l,
    size_t *accepted)
{
	size_t bad = (size_t)-1;
	const uint8_t *quoted;
	char label[256], *hex;

	if (!selected(&j->sel, h->alg, IMA_PCR) ||
	    (quoted = pcr_values_get(&d->pcrs, h->alg, IMA_PCR)) == NULL) {
		verdict_fail(&j->verdict, "ima.replay", "PCR 10 (%s) was not quoted",
		    h->name);
		return -1;
	}
	if (ima_replay(&st->rp, l, quoted, h->size, accepted, &bad) == 0)
		return 0;
	if (bad != (size_t)-1 && bad < l->n) {
		entry_label(&l->e[bad], label, sizeof(label));
		verdict_fail(&j->verdict, "ima.template_hash", "entry %llu (%s): %s",
		    (unsigned long long)(d->ima_from + bad), label,
		    assay_err_detail());
	} else {
		hex = hex_encode(quoted, h->size);
		verdict_fail(&j->verdict, "ima.replay", "entries %llu-%llu do not "
		    "reproduce the quoted PCR 10 (%s) %s: %s",
		    (unsigned long long)d->ima_from,
		    (unsigned long long)(d->ima_from + l->n),
		    h->name, hex, assay_err_detail());
		free(hex);
	}
	return -1;
}

void
stage_ima(struct verify_job *j, const struct evidence_doc *d)
{
	const struct ima_policy *ip = j->policy != NULL ? policy_ima(j->policy) : NULL;
	uint16_t bank = j->sel.n > 0 ? j->sel.bank[0].hash : TPM2_ALG_SHA256;
	const struct tpm2_hash *h = tpm2_hash_by_alg(bank);
	struct ima_list l = { 0 };
	struct ima_state st = j->ima_in;
	size_t accepted = 0, first = 0;
	int fresh;

	if (ip == NULL || h == NULL || ima_start(j, d, ip, bank, &st) != 0)
		return;
	if (ima_fragment(j, d, &l) != 0)
		goto out;
	fresh = st.rp.count == 0;
	if (ima_bind(j, d, h, &st, &l, &accepted) != 0)
		goto out;
	if (fresh && accepted > 0) {
		if (check_boot_aggregate(j, d, &l.e[0], &st) != 0) {
			/* Keep the learned bank, not the replay: redo next round. */
			ima_state_reset(&j->ima_out, bank, ima_scheme(ip));
			j->ima_out.ba_alg = st.ba_alg;
			goto out;
		}
		first = 1;
	}
	for (size_t i = first; i < accepted; i++)
		ima_policy_check(ip, &l.e[i], &j->verdict);
	j->ima_out = st;
	j->ima_accepted = accepted;
 out:
	ima_list_free(&l);
}
