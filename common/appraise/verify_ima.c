/*
 * verify_ima.c — the IMA stage: the list fragment the agent sent must
 * continue where the last accepted round stopped, parse, carry correct
 * template hashes and replay into the quoted PCR 10 (the longest matching
 * prefix is accepted, the rest waits for the next round); a fresh list
 * must start with a boot_aggregate matching the quoted PCRs 0-7/0-9; every
 * accepted entry is judged by the policy's ima: section.
 *
 * Paging (verify_ima.h): a page short of the quote is held pending and
 * counts only once a later round's page binds the chain to its quote.
 * Every entry, boot_aggregate and finding is applied in the round whose
 * quote signed the PCR 10 its prefix replays to, never earlier.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/encode.h"
#include "common/err.h"
#include "common/proto/doc.h"
#include "common/xmalloc.h"
#include "common/appraise/policy.h"
#include "common/appraise/policy_ima.h"
#include "common/appraise/verify.h"
#include "common/appraise/verify_ima.h"

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

static json_t *
pend_to_json(const struct ima_state *s, const struct tpm2_hash *h)
{
	const struct tpm2_hash *ba = tpm2_hash_by_alg(s->pend_ba_alg);
	char *pcr = hex_encode(s->pend.pcr, h->size);
	char *alt = hex_encode(s->pend.pcr_alt, h->size);
	json_t *o, *items = json_array();

	for (size_t i = 0; i < s->pend_nitems; i++)
		json_array_append_new(items, json_pack("{s:s, s:b, s:s}", "id",
		    s->pend_item[i].id, "notice", s->pend_item[i].notice,
		    "detail", s->pend_item[i].detail));
	o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:I}",
	    "n", (json_int_t)s->pend_n, "bytes", (json_int_t)s->pend_bytes,
	    "scheme", scheme_names[s->pend.scheme], "pcr", pcr, "pcr_alt", alt,
	    "items", items, "dropped", (json_int_t)s->pend_dropped);
	if (s->pend_ba && ba != NULL) {
		char *d = hex_encode(s->pend_ba_digest, s->pend_ba_len);

		json_object_set_new(o, "ba", json_pack("{s:s, s:s}", "alg", ba->name,
		    "digest", d));
		free(d);
	}
	free(pcr);
	free(alt);
	return o;
}

/* The pending part of a stored state; 0, or -1 when malformed. */
static int
pend_from_json(const json_t *o, const struct tpm2_hash *h, struct ima_state *s)
{
	const char *scheme, *pcr, *alt, *id, *detail, *bas, *bad;
	json_int_t n, bytes, dropped;
	const struct tpm2_hash *ba;
	json_t *items, *ban = NULL, *it;
	size_t n1, n2, i;
	int sc, notice;

	if (json_unpack((json_t *)o, "{s:I, s:I, s:s, s:s, s:s, s:o, s:I, s?:o}",
	    "n", &n, "bytes", &bytes, "scheme", &scheme, "pcr", &pcr,
	    "pcr_alt", &alt, "items", &items, "dropped", &dropped, "ba", &ban) != 0 ||
	    n <= 0 || bytes < 0 || dropped < 0 || !json_is_array(items) ||
	    json_array_size(items) > IMA_PEND_ITEMS)
		return -1;
	for (sc = 0; sc < 3; sc++)
		if (strcmp(scheme, scheme_names[sc]) == 0)
			break;
	if (sc == 3)
		return -1;
	ima_replay_init(&s->pend, h->alg, sc);
	if (hex_decode(pcr, s->pend.pcr, sizeof(s->pend.pcr), &n1) != 0 ||
	    hex_decode(alt, s->pend.pcr_alt, sizeof(s->pend.pcr_alt), &n2) != 0 ||
	    n1 != h->size || n2 != h->size)
		return -1;
	s->pend_n = (uint64_t)n;
	s->pend.count = s->rp.count + s->pend_n;
	s->pend_bytes = (uint64_t)bytes;
	s->pend_dropped = (uint64_t)dropped;
	json_array_foreach(items, i, it) {
		const struct failure_def *f;

		if (json_unpack(it, "{s:s, s:b, s:s}", "id", &id, "notice", &notice,
		    "detail", &detail) != 0 || (f = failure_lookup(id)) == NULL)
			return -1;
		s->pend_item[i].fid = failure_index(f);
		s->pend_item[i].id = f->id;
		s->pend_item[i].notice = notice;
		snprintf(s->pend_item[i].detail, sizeof(s->pend_item[i].detail), "%s",
		    detail);
	}
	s->pend_nitems = json_array_size(items);
	if (ban != NULL) {
		if (json_unpack(ban, "{s:s, s:s}", "alg", &bas, "digest", &bad) != 0 ||
		    (ba = tpm2_hash_by_name(bas)) == NULL ||
		    hex_decode(bad, s->pend_ba_digest, sizeof(s->pend_ba_digest),
		    &s->pend_ba_len) != 0 || s->pend_ba_len != ba->size)
			return -1;
		s->pend_ba = 1;
		s->pend_ba_alg = ba->alg;
	}
	return 0;
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
	if (s->pend_n > 0)
		json_object_set_new(json_object_get(o, "ima"), "pending",
		    pend_to_json(s, h));
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
	json_t *o, *pend = NULL;
	int sc;

	memset(s, 0, sizeof(*s));
	if (text == NULL || (o = json_loads(text, 0, NULL)) == NULL)
		return;
	if (json_unpack(o, "{s:{s:s, s:s, s:I, s:s, s:s, s?:s, s?:o}}", "ima",
	    "bank", &bank, "scheme", &scheme, "count", &count, "pcr", &pcr,
	    "pcr_alt", &alt, "boot_aggregate", &bas, "pending", &pend) != 0 ||
	    (h = tpm2_hash_by_name(bank)) == NULL || count < 0)
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
	if (pend != NULL && pend_from_json(pend, h, s) != 0)
		goto out;
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

/* A fresh list's first entry must be boot_aggregate; its digest alg, or 0. */
static uint16_t
ba_entry(const struct ima_entry *e, struct verdict *vd)
{
	char label[256];
	uint16_t alg;

	entry_label(e, label, sizeof(label));
	if (e->name.len != 14 || memcmp(e->name.p, "boot_aggregate", 14) != 0) {
		verdict_fail(vd, FID_IMA_BOOT_AGGREGATE,
		    "the list does not start with boot_aggregate but with '%s'", label);
		return 0;
	}
	alg = e->tmpl == IMA_TMPL_IMA ? TPM2_ALG_SHA1 : e->dalg;
	if (tpm2_hash_by_alg(alg) == NULL) {
		verdict_fail(vd, FID_IMA_BOOT_AGGREGATE,
		    "boot_aggregate uses a hash this verifier does not know");
		return 0;
	}
	return alg;
}

/*
 * A boot_aggregate digest against this round's quoted PCRs 0-7/0-9 of
 * alg; 1 = needs another round with that bank quoted.
 */
static int
ba_compare(struct verify_job *j, const struct evidence_doc *d, uint16_t alg,
    const uint8_t *digest, size_t dlen, struct ima_state *st)
{
	const uint8_t *pcrs[10] = { 0 };
	uint8_t ba[TPM2_MAX_DIGEST];
	char *want, *got;
	unsigned k;
	size_t n;

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
	if (ima_boot_aggregate(alg, pcrs, ba, &n) != 0 || n != dlen ||
	    memcmp(ba, digest, n) != 0) {
		want = hex_encode(ba, n);
		got = hex_encode(digest, dlen);
		verdict_fail(&j->verdict, FID_IMA_BOOT_AGGREGATE,
		    "boot_aggregate is %s, the quoted %s PCRs 0-%u give %s", got,
		    tpm2_hash_by_alg(alg)->name, k, want);
		free(want);
		free(got);
	}
	st->ba_alg = alg;
	return 0;
}

/* boot_aggregate of a fresh list; 1 = needs another round with its bank. */
static int
check_boot_aggregate(struct verify_job *j, const struct evidence_doc *d,
    const struct ima_entry *e, struct ima_state *st)
{
	uint16_t alg = ba_entry(e, &j->verdict);

	if (alg == 0)
		return 0;
	return ba_compare(j, d, alg, e->digest.p, e->digest.len, st);
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
	uint64_t next;

	restart = !st->valid || j->qres.rebooted || st->rp.bank != bank ||
	    (scheme != IMA_EXTEND_AUTO && st->rp.scheme != scheme);
	if (restart)
		ima_state_reset(st, bank, scheme);	/* drops what was pending */
	if (!d->has_ima) {
		verdict_fail(&j->verdict, FID_IMA_FORMAT, "the agent sent no IMA "
		    "measurement list (IMA off, or the agent's ima.path unreadable)");
		return -1;
	}
	if (j->ima_bytes != 0 && d->ima_len > doc_ima_page_cap(j->ima_bytes)) {
		verdict_fail(&j->verdict, FID_IMA_FORMAT, "a page of %zu bytes, over "
		    "the %zu asked", d->ima_len, doc_ima_page_cap(j->ima_bytes));
		return -1;
	}
	next = st->rp.count + st->pend_n;
	if (d->ima_from == next)
		return 0;
	if (restart) {
		j->retry = 1;
		snprintf(j->retry_reason, sizeof(j->retry_reason),
		    "IMA list restarts (TPM reset, new bank or scheme)");
		j->ima_out = *st;
		return -1;
	}
	verdict_fail(&j->verdict, FID_IMA_REPLAY, "the agent's list fragment "
	    "starts at entry %llu, %llu entries were received before "
	    "(a list that shrinks without a TPM reset)",
	    (unsigned long long)d->ima_from, (unsigned long long)next);
	return -1;
}

/* The fragment parses, as counted, every entry of PCR 10; 0 or -1. */
static int
ima_fragment(struct verify_job *j, const struct evidence_doc *d,
    struct ima_list *l)
{
	char label[256];

	if (ima_parse_binary(d->ima, d->ima_len, d->ima_thash_alg, l, NULL) != 0) {
		verdict_fail(&j->verdict, FID_IMA_FORMAT, "%s", assay_err_detail());
		return -1;
	}
	if (l->n != d->ima_count) {
		verdict_fail(&j->verdict, FID_IMA_FORMAT, "the agent counted %llu entries, "
		    "the list holds %zu", (unsigned long long)d->ima_count, l->n);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->e[i].pcr == IMA_PCR)
			continue;
		/* Replayed into nothing we quote: such an entry binds nothing. */
		entry_label(&l->e[i], label, sizeof(label));
		verdict_fail(&j->verdict, FID_IMA_REPLAY, "entry %llu (%s) extends "
		    "PCR %u; only PCR 10 is replayed and quoted",
		    (unsigned long long)(d->ima_from + i), label, l->e[i].pcr);
		return -1;
	}
	return 0;
}

/*
 * A page that says more entries follow must be full (doc.h), and what is
 * pending stays within the list bounds: a host cannot stretch the time
 * its entries go unjudged beyond what its largest list takes. 0 or -1.
 */
static int
ima_page_check(struct verify_job *j, const struct evidence_doc *d,
    const struct ima_state *st)
{
	if (!evidence_doc_page_full(d, j->ima_max, j->ima_bytes)) {
		verdict_fail(&j->verdict, FID_IMA_FORMAT, "a page of %llu entries "
		    "(%zu bytes) from entry %llu says more follow but is not full "
		    "(%llu entries asked)", (unsigned long long)d->ima_count,
		    d->ima_len, (unsigned long long)d->ima_from,
		    (unsigned long long)j->ima_max);
		return -1;
	}
	if (st->pend_n + d->ima_count > IMA_LIST_MAX_ENTRIES ||
	    st->pend_bytes + d->ima_len > IMA_PEND_BYTES_MAX) {
		verdict_fail(&j->verdict, FID_IMA_REPLAY, "%llu entries from entry "
		    "%llu were sent without reaching a quoted PCR 10 (the most a "
		    "list may hold)", (unsigned long long)(st->pend_n + d->ima_count),
		    (unsigned long long)st->rp.count);
		return -1;
	}
	return 0;
}

/*
 * Extend the pending head r by every entry of l (template hashes were
 * checked by the failed ima_replay), under both schemes while AUTO, the
 * way ima_replay() does.
 */
static int
pend_advance(struct ima_replay *r, const struct ima_list *l)
{
	const struct tpm2_hash *h = tpm2_hash_by_alg(r->bank);
	const EVP_MD *md = tpm2_hash_md(r->bank);
	int sch[2], nsch = r->scheme == IMA_EXTEND_AUTO ? 2 : 1, rc = ASSAY_OK;
	uint8_t *pcr[2] = { r->pcr, r->pcr_alt }, dg[TPM2_MAX_DIGEST];
	EVP_MD_CTX *ctx;
	unsigned int olen;
	size_t dlen;

	if (h == NULL || md == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "PCR bank 0x%04x", r->bank);
	sch[0] = r->scheme == IMA_EXTEND_AUTO ? IMA_EXTEND_BANK_HASH : r->scheme;
	sch[1] = IMA_EXTEND_SHA1_PADDED;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return assay_err_set(ASSAY_ERR_CRYPTO, "EVP_MD_CTX_new");
	for (size_t i = 0; i < l->n && rc == ASSAY_OK; i++) {
		if (l->e[i].pcr != IMA_PCR)
			continue;
		for (int s = 0; s < nsch && rc == ASSAY_OK; s++) {
			if (s == 1 && r->bank == TPM2_ALG_SHA1) {
				memcpy(pcr[1], pcr[0], h->size);	/* schemes coincide */
				continue;
			}
			if ((rc = ima_entry_extend_digest(&l->e[i], l->thash_alg,
			    r->bank, sch[s], dg, &dlen)) != 0)
				break;
			if (dlen != h->size || !EVP_DigestInit_ex2(ctx, md, NULL) ||
			    !EVP_DigestUpdate(ctx, pcr[s], h->size) ||
			    !EVP_DigestUpdate(ctx, dg, h->size) ||
			    !EVP_DigestFinal_ex(ctx, pcr[s], &olen))
				rc = assay_err_set(ASSAY_ERR_CRYPTO, "PCR extend");
		}
	}
	EVP_MD_CTX_free(ctx);
	if (rc == ASSAY_OK)
		r->count += l->n;
	return rc;
}

/* Hold one finding; failures displace notices so none is ever lost. */
static void
pend_hold(struct ima_state *st, const struct verdict_item *it, int notice)
{
	struct ima_pend_item *slot = NULL;

	if (st->pend_nitems < IMA_PEND_ITEMS) {
		slot = &st->pend_item[st->pend_nitems++];
	} else if (!notice) {
		for (size_t i = 0; i < st->pend_nitems && slot == NULL; i++)
			if (st->pend_item[i].notice)
				slot = &st->pend_item[i];
		st->pend_dropped++;	/* the displaced notice, or this one */
	} else
		st->pend_dropped++;
	if (slot == NULL)
		return;
	slot->fid = it->fid;
	slot->id = it->id;
	slot->notice = notice;
	snprintf(slot->detail, sizeof(slot->detail), "%s", it->detail);
}

/*
 * Hold a page that ends short of the quote: advance the head, judge its
 * entries into held findings (a fresh list's boot_aggregate digest kept
 * for the binding round's quote). 0, or -1 when the round failed.
 */
static int
ima_hold(struct verify_job *j, const struct evidence_doc *d,
    const struct ima_policy *ip, struct ima_state *st, struct ima_list *l,
    struct ima_replay *head)
{
	struct verdict *vd = xcalloc(1, sizeof(*vd));
	size_t first = 0;
	uint16_t alg;

	verdict_init(vd);
	if (pend_advance(head, l) != 0) {
		verdict_fail(&j->verdict, FID_IMA_REPLAY, "%s", assay_err_detail());
		free(vd);
		return -1;
	}
	if (st->rp.count == 0 && st->pend_n == 0 && l->n > 0) {
		if ((alg = ba_entry(&l->e[0], vd)) != 0) {
			st->pend_ba = 1;
			st->pend_ba_alg = alg;
			st->ba_alg = alg;	/* the binding round quotes its bank */
			st->pend_ba_len = l->e[0].digest.len;
			memcpy(st->pend_ba_digest, l->e[0].digest.p,
			    l->e[0].digest.len < TPM2_MAX_DIGEST ?
			    l->e[0].digest.len : TPM2_MAX_DIGEST);
		}
		first = 1;
	}
	for (size_t i = first; i < l->n; i++)
		ima_policy_check(ip, &l->e[i], vd);
	for (size_t i = 0; i < vd->nfail; i++)
		pend_hold(st, &vd->fail[i], 0);
	for (size_t i = 0; i < vd->nnotice; i++)
		pend_hold(st, &vd->notice[i], 1);
	st->pend_dropped += vd->dropped;
	st->pend = *head;
	st->pend_n += l->n;
	st->pend_bytes += d->ima_len;
	free(vd);
	return 0;
}

/*
 * The chain reached this round's quote: what was held is bound now.
 * 0, or 1 when boot_aggregate needs another round with its bank.
 */
static int
ima_release(struct verify_job *j, const struct evidence_doc *d,
    struct ima_state *st)
{
	for (size_t i = 0; i < st->pend_nitems; i++) {
		if (st->pend_item[i].notice)
			verdict_notice(&j->verdict, st->pend_item[i].fid, "%s",
			    st->pend_item[i].detail);
		else
			verdict_fail(&j->verdict, st->pend_item[i].fid, "%s",
			    st->pend_item[i].detail);
	}
	j->verdict.dropped += (size_t)st->pend_dropped;
	if (st->pend_ba && ba_compare(j, d, st->pend_ba_alg, st->pend_ba_digest,
	    st->pend_ba_len, st) != 0)
		return 1;
	return 0;
}

static void
pend_clear(struct ima_state *st)
{
	st->pend_n = 0;
	st->pend_bytes = 0;
	memset(&st->pend, 0, sizeof(st->pend));
	st->pend_ba = 0;
	st->pend_ba_alg = 0;
	st->pend_ba_len = 0;
	st->pend_nitems = 0;
	st->pend_dropped = 0;
}

/*
 * Replay the page onto the head (the pending chain, else the accepted
 * state). 0 with *accepted when a prefix reproduces the quoted PCR 10;
 * 1 when none does but more entries follow (hold the page); -1 failed.
 */
static int
ima_bind(struct verify_job *j, const struct evidence_doc *d,
    const struct tpm2_hash *h, struct ima_replay *head, struct ima_list *l,
    uint64_t pending, size_t *accepted)
{
	size_t bad = (size_t)-1;
	const uint8_t *quoted;
	char label[256], *hex;

	if (!selected(&j->sel, h->alg, IMA_PCR) ||
	    (quoted = pcr_values_get(&d->pcrs, h->alg, IMA_PCR)) == NULL) {
		verdict_fail(&j->verdict, FID_IMA_REPLAY, "PCR 10 (%s) was not quoted",
		    h->name);
		return -1;
	}
	if (ima_replay(head, l, quoted, h->size, accepted, &bad) == 0)
		return 0;
	if (bad != (size_t)-1 && bad < l->n) {
		entry_label(&l->e[bad], label, sizeof(label));
		verdict_fail(&j->verdict, FID_IMA_TEMPLATE_HASH, "entry %llu (%s): %s",
		    (unsigned long long)(d->ima_from + bad), label,
		    assay_err_detail());
		return -1;
	}
	if (d->ima_more)
		return 1;
	hex = hex_encode(quoted, h->size);
	verdict_fail(&j->verdict, FID_IMA_REPLAY, "entries %llu-%llu do not "
	    "reproduce the quoted PCR 10 (%s) %s: %s",
	    (unsigned long long)(d->ima_from - pending),
	    (unsigned long long)(d->ima_from + l->n),
	    h->name, hex, assay_err_detail());
	free(hex);
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
	struct ima_replay head;
	size_t accepted = 0, first = 0;
	uint64_t pending;
	int fresh, r;

	j->ima_pending = 0;
	j->ima_more = 0;
	if (ip == NULL || h == NULL || ima_start(j, d, ip, bank, &st) != 0)
		return;
	if (ima_fragment(j, d, &l) != 0)
		goto out;
	if (d->ima_more && ima_page_check(j, d, &st) != 0)
		goto out;
	pending = st.pend_n;
	fresh = st.rp.count == 0 && pending == 0;
	head = pending > 0 ? st.pend : st.rp;
	if ((r = ima_bind(j, d, h, &head, &l, pending, &accepted)) < 0)
		goto out;
	if (r == 1) {
		/* Short of the quote, more to come: nothing here counts yet. */
		if (ima_hold(j, d, ip, &st, &l, &head) != 0)
			goto out;
		j->ima_out = st;
		j->ima_pending = 1;
		j->ima_more = 1;
		goto out;
	}
	if (pending > 0) {
		if (ima_release(j, d, &st) != 0) {
			ima_state_reset(&j->ima_out, bank, ima_scheme(ip));
			j->ima_out.ba_alg = st.ba_alg;
			goto out;
		}
	} else if (fresh && accepted > 0) {
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
	st.rp = head;
	pend_clear(&st);
	j->ima_out = st;
	j->ima_accepted = (size_t)pending + accepted;
	/* Catching up: page again soon while each round makes progress. */
	j->ima_more = d->ima_more && pending + accepted > 0;
 out:
	ima_list_free(&l);
}
