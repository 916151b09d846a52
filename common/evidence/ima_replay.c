/*
 * ima_replay.c — replay IMA entries into PCR 10 of one bank and find the
 * longest prefix that reproduces a quoted value; the per-entry extend
 * digest under both kernel schemes; boot_aggregate. Pure, no globals.
 *
 * Kernel facts: an entry extends PCR_new = H_bank(PCR_old || digest).
 * Before "ima: calculate template digest for each bank" (5.8) every bank
 * was extended with the SHA-1 template digest zero-padded to the bank
 * size (SHA1_PADDED); since then each bank gets its own hash of the
 * template data (BANK_HASH). A violation records an all-zero template
 * hash and extends 0xFF..FF of the bank size (SHA1_PADDED: 20 bytes of
 * 0xFF, zero-padded, as the kernel did before 5.8). boot_aggregate
 * (ima_calc_boot_aggregate) hashes PCRs 0-7 of the bank, plus 8-9 for
 * banks other than SHA-1.
 *
 * Speed: every hash goes through ima_hashv() (SHA-1/SHA-2 without EVP's
 * per-init allocation; one EVP_MD_CTX per call for the others); no
 * allocation per entry. The one-pass replays (ima_replay_binary/_list)
 * compute per entry the template-hash check and, per chain, only the
 * digest its bank and scheme need: the SHA-1 template hash at most once.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/buf.h"
#include "common/evidence/ima.h"
#include "common/evidence/ima_int.h"
#include "common/evidence/tpm2.h"

struct hctx {
	EVP_MD_CTX	*ctx;
	uint16_t	 bank;
	size_t		 bank_size;
};

/*
 * Per entry, the digests its chains extend: the zero-padded SHA-1
 * template hash made at most once for all chains that need it, and room
 * for one bank's own (reused chain by chain).
 */
struct entry_digests {
	int		 have_pad;	/* reset per entry */
	uint8_t		 pad[TPM2_MAX_DIGEST];
	uint8_t		 own[TPM2_MAX_DIGEST];
};

/*
 * *out = the digest (bank_size bytes) entry e extends into bank under
 * scheme (BANK_HASH or SHA1_PADDED), pointing into m or e: no copies.
 */
static int
extend_digest(EVP_MD_CTX *ctx, const struct ima_entry *e, uint16_t thash_alg,
    uint16_t bank, size_t bank_size, int scheme, struct entry_digests *m,
    const uint8_t **out)
{
	size_t dlen;
	int r;

	if (e->violation) {
		/* pre-5.8 kernels: 20 bytes of 0xff, zero-padded */
		memset(m->own, 0, sizeof(m->own));
		memset(m->own, 0xff, scheme == IMA_EXTEND_SHA1_PADDED &&
		    bank_size > 20 ? 20 : bank_size);
		*out = m->own;
		return ASSAY_OK;
	}
	if (scheme == IMA_EXTEND_SHA1_PADDED || bank == TPM2_ALG_SHA1) {
		if (!m->have_pad) {
			memset(m->pad, 0, sizeof(m->pad));
			if (thash_alg == TPM2_ALG_SHA1)
				memcpy(m->pad, e->thash, 20);
			else if ((r = ima_entry_template_hash(e, TPM2_ALG_SHA1,
			    ctx, m->pad, &dlen)) != 0)
				return r;
			m->have_pad = 1;
		}
		*out = m->pad;
		return ASSAY_OK;
	}
	if (thash_alg == bank) {
		*out = e->thash;
		return ASSAY_OK;
	}
	*out = m->own;
	return ima_entry_template_hash(e, bank, ctx, m->own, &dlen);
}

static int
hctx_init(struct hctx *h, uint16_t bank)
{
	const struct tpm2_hash *th;

	memset(h, 0, sizeof(*h));
	if ((th = tpm2_hash_by_alg(bank)) == NULL || !ima_hash_have(bank))
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "PCR bank 0x%04x", bank);
	h->bank = bank;
	h->bank_size = th->size;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		return assay_err_set(ASSAY_ERR_CRYPTO, "EVP_MD_CTX_new");
	return ASSAY_OK;
}

int
ima_entry_extend_digest(const struct ima_entry *e, uint16_t thash_alg,
    uint16_t bank, int scheme, uint8_t *out, size_t *outlen)
{
	struct entry_digests m;
	const uint8_t *d;
	struct hctx h;
	int r;

	if (scheme != IMA_EXTEND_SHA1_PADDED && scheme != IMA_EXTEND_BANK_HASH)
		return assay_err_set(ASSAY_ERR_INVAL, "IMA extend scheme %d", scheme);
	if ((r = hctx_init(&h, bank)) != 0)
		return r;
	m.have_pad = 0;
	if ((r = extend_digest(h.ctx, e, thash_alg, bank, h.bank_size, scheme,
	    &m, &d)) == ASSAY_OK) {
		memcpy(out, d, h.bank_size);
		*outlen = h.bank_size;
	}
	EVP_MD_CTX_free(h.ctx);
	return r;
}

/*
 * pcr = H_bank(pcr || d), both size bytes; hashed as one contiguous run
 * (whole blocks straight from it, no partial-block copies).
 */
static int
extend_pcr(EVP_MD_CTX *ctx, uint16_t bank, uint8_t *pcr, const uint8_t *d,
    size_t size)
{
	uint8_t m[2 * TPM2_MAX_DIGEST];
	struct cur v;
	size_t olen;

	memcpy(m, pcr, size);
	memcpy(m + size, d, size);
	cur_init(&v, m, 2 * size);
	return ima_hashv(ctx, bank, &v, 1, pcr, &olen);
}

static int
pcr_extend(struct hctx *h, uint8_t *pcr, const uint8_t *d)
{
	return extend_pcr(h->ctx, h->bank, pcr, d, h->bank_size);
}

void
ima_replay_init(struct ima_replay *r, uint16_t bank, int scheme)
{
	memset(r, 0, sizeof(*r));
	r->bank = bank;
	r->scheme = scheme;
}

/* Replay state per candidate scheme (slot 0, and slot 1 while AUTO). */
struct replay_track {
	int		 nsch;
	int		 sch[2];
	int		 have[2];
	size_t		 best[2];
	uint8_t		 pcr[2][TPM2_MAX_DIGEST];
	uint8_t		 best_pcr[2][TPM2_MAX_DIGEST];
};

/* Entry e's template hash must be the hash of its template data. */
static int
check_thash(EVP_MD_CTX *ctx, const struct ima_entry *e, uint16_t thash_alg,
    uint64_t index, size_t *bad)
{
	uint8_t th[TPM2_MAX_DIGEST];
	size_t tlen;
	int rc;

	if (e->violation)
		return ASSAY_OK;
	if ((rc = ima_entry_template_hash(e, thash_alg, ctx, th, &tlen)) != 0)
		return rc;
	if (memcmp(th, e->thash, tlen) != 0) {
		if (bad != NULL)
			*bad = (size_t)index;
		return assay_err_set(ASSAY_FAIL, "IMA entry %" PRIu64
		    " (\"%.*s\"): template hash does not match its "
		    "template data", index,
		    (int)(e->name.len > 200 ? 200 : e->name.len),
		    (const char *)e->name.p);
	}
	return ASSAY_OK;
}

/* Entry i of l, numbered first + i in messages (*bad gets i). */
static int
check_entry_thash(struct hctx *h, const struct ima_list *l, size_t i,
    uint64_t first, size_t *bad)
{
	int rc;

	if ((rc = check_thash(h->ctx, &l->e[i], l->thash_alg, first + i,
	    NULL)) != 0 && bad != NULL && rc == ASSAY_FAIL)
		*bad = i;
	return rc;
}

/* Slots from r: 0 the fixed scheme (BANK_HASH if AUTO), 1 SHA1_PADDED. */
static void
track_init(struct replay_track *t, const struct ima_replay *r,
    const uint8_t *quoted, size_t size)
{
	int s;

	memset(t, 0, sizeof(*t));
	if (r->scheme == IMA_EXTEND_AUTO) {
		t->nsch = 2;
		t->sch[0] = IMA_EXTEND_BANK_HASH;
		t->sch[1] = IMA_EXTEND_SHA1_PADDED;
	} else {
		t->nsch = 1;
		t->sch[0] = r->scheme;
		t->sch[1] = r->scheme;
	}
	memcpy(t->pcr[0], r->pcr, size);
	memcpy(t->pcr[1], r->pcr_alt, size);
	for (s = 0; s < t->nsch; s++) {
		t->have[s] = memcmp(t->pcr[s], quoted, size) == 0;
		t->best[s] = 0;
		memcpy(t->best_pcr[s], t->pcr[s], size);
	}
}

/* Extend each slot's PCR 10 by entry e (entries of other PCRs: no-op). */
static int
track_extend(struct replay_track *t, struct hctx *h,
    const struct ima_entry *e, uint16_t thash_alg, uint16_t bank)
{
	struct entry_digests m;
	const uint8_t *d;
	int s, rc;

	m.have_pad = 0;
	for (s = 0; s < t->nsch && e->pcr == IMA_PCR; s++) {
		if (s == 1 && bank == TPM2_ALG_SHA1) {
			/* both schemes coincide in the SHA-1 bank */
			memcpy(t->pcr[1], t->pcr[0], h->bank_size);
		} else if ((rc = extend_digest(h->ctx, e, thash_alg, bank,
		    h->bank_size, t->sch[s], &m, &d)) != 0 ||
		    (rc = pcr_extend(h, t->pcr[s], d)) != 0)
			return rc;
	}
	return ASSAY_OK;
}

/* Remember, per slot, the longest prefix (n entries) matching quoted. */
static void
track_match(struct replay_track *t, const uint8_t *quoted, size_t size,
    size_t n)
{
	int s;

	for (s = 0; s < t->nsch; s++) {
		if (memcmp(t->pcr[s], quoted, size) == 0) {
			t->have[s] = 1;
			t->best[s] = n;
			memcpy(t->best_pcr[s], t->pcr[s], size);
		}
	}
}

/* Pick the slot that reproduced the longest prefix and move r past it. */
static void
track_commit(const struct replay_track *t, struct ima_replay *r,
    size_t size, size_t *accepted)
{
	int pick = 0;

	if (t->nsch == 2 && t->have[1] && (!t->have[0] || t->best[1] > t->best[0]))
		pick = 1;
	*accepted = t->best[pick];
	r->count += t->best[pick];
	if (t->nsch == 2 && t->have[0] && t->have[1] && t->best[0] == t->best[1]) {
		/* both schemes agree here: stay AUTO, keep both values */
		memcpy(r->pcr, t->best_pcr[0], size);
		memcpy(r->pcr_alt, t->best_pcr[1], size);
	} else {
		memcpy(r->pcr, t->best_pcr[pick], size);
		memset(r->pcr_alt, 0, sizeof(r->pcr_alt));
		r->scheme = t->sch[pick];
	}
}

int
ima_replay(struct ima_replay *r, const struct ima_list *l,
    const uint8_t *quoted, size_t quoted_len, size_t *accepted, size_t *bad)
{
	struct hctx h;
	struct replay_track t;
	size_t i;
	int rc;

	*accepted = 0;
	if (bad != NULL)
		*bad = SIZE_MAX;
	if ((rc = hctx_init(&h, r->bank)) != 0)
		return rc;
	if (quoted_len != h.bank_size) {
		rc = assay_err_set(ASSAY_ERR_INVAL, "quoted PCR 10 is %zu bytes, "
		    "bank needs %zu", quoted_len, h.bank_size);
		goto out;
	}
	track_init(&t, r, quoted, h.bank_size);
	for (i = 0; i < l->n; i++) {
		if ((rc = check_entry_thash(&h, l, i, r->count, bad)) != 0 ||
		    (rc = track_extend(&t, &h, &l->e[i], l->thash_alg,
		    r->bank)) != 0)
			goto out;
		/* entries of other PCRs keep PCR 10: they extend a match too */
		track_match(&t, quoted, h.bank_size, i + 1);
	}
	if (!t.have[0] && (t.nsch == 1 || !t.have[1])) {
		rc = assay_err_set(ASSAY_FAIL, "IMA replay of %zu entries from "
		    "entry %" PRIu64 " does not reproduce the quoted PCR 10 in any "
		    "prefix", l->n, r->count);
		goto out;
	}
	track_commit(&t, r, h.bank_size, accepted);
	rc = ASSAY_OK;
 out:
	EVP_MD_CTX_free(h.ctx);
	return rc;
}

int
ima_boot_aggregate(uint16_t alg, const uint8_t *const pcrs[10],
    uint8_t *out, size_t *outlen)
{
	const struct tpm2_hash *th;
	const EVP_MD *md;
	EVP_MD_CTX *ctx;
	unsigned int olen;
	int i, last, rc = ASSAY_ERR_CRYPTO;

	if ((th = tpm2_hash_by_alg(alg)) == NULL || (md = tpm2_hash_md(alg)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED, "bank 0x%04x", alg);
	last = alg == TPM2_ALG_SHA1 ? 7 : 9;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return assay_err_set(rc, "EVP_MD_CTX_new");
	if (!EVP_DigestInit_ex2(ctx, md, NULL))
		goto out;
	for (i = 0; i <= last; i++)
		if (!EVP_DigestUpdate(ctx, pcrs[i], th->size))
			goto out;
	if (!EVP_DigestFinal_ex(ctx, out, &olen))
		goto out;
	*outlen = olen;
	rc = ASSAY_OK;
 out:
	EVP_MD_CTX_free(ctx);
	if (rc != ASSAY_OK)
		assay_err_set(rc, "boot_aggregate");
	return rc;
}

void
ima_chain_init(struct ima_chain *ch, uint16_t bank, int scheme)
{
	const struct tpm2_hash *th = tpm2_hash_by_alg(bank);

	memset(ch, 0, sizeof(*ch));
	ch->bank = bank;
	ch->scheme = scheme;
	if (th != NULL && ima_hash_have(bank))
		ch->len = th->size;
}

/*
 * One replay pass: its own copy of the chains (handed back only when the
 * whole list replayed), their banks' digests fetched once, one context.
 */
struct pass {
	EVP_MD_CTX		*ctx;
	uint16_t		 thash_alg;
	size_t			 nch;
	struct ima_chain	 ch[IMA_CHAINS_MAX];
	struct ima_tally	 t;
};

static int
pass_init(struct pass *ps, uint16_t thash_alg, const struct ima_chain *ch,
    size_t nch)
{
	const struct tpm2_hash *th;
	size_t i;

	memset(ps, 0, sizeof(*ps));
	ps->thash_alg = thash_alg;
	ps->nch = nch;
	if (nch > IMA_CHAINS_MAX)
		return assay_err_set(ASSAY_ERR_INVAL, "%zu IMA chains (at most %d)",
		    nch, IMA_CHAINS_MAX);
	if (!ima_hash_have(thash_alg))
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "IMA template hash algorithm 0x%04x", thash_alg);
	for (i = 0; i < nch; i++) {
		if (ch[i].scheme != IMA_EXTEND_SHA1_PADDED &&
		    ch[i].scheme != IMA_EXTEND_BANK_HASH)
			return assay_err_set(ASSAY_ERR_INVAL,
			    "IMA extend scheme %d", ch[i].scheme);
		if ((th = tpm2_hash_by_alg(ch[i].bank)) == NULL ||
		    !ima_hash_have(ch[i].bank))
			return assay_err_set(ASSAY_ERR_UNSUPPORTED,
			    "PCR bank 0x%04x", ch[i].bank);
		ima_chain_init(&ps->ch[i], ch[i].bank, ch[i].scheme);
		ps->ch[i].len = th->size;
	}
	if ((ps->ctx = EVP_MD_CTX_new()) == NULL)
		return assay_err_set(ASSAY_ERR_CRYPTO, "EVP_MD_CTX_new");
	return ASSAY_OK;
}

/* Check entry e (number index) and extend every chain by it. */
static int
pass_entry(struct pass *ps, const struct ima_entry *e, size_t index,
    size_t *bad)
{
	struct entry_digests m;
	const uint8_t *d;
	struct ima_chain *ch;
	size_t i;
	int rc;

	if ((rc = check_thash(ps->ctx, e, ps->thash_alg, index, bad)) != 0)
		return rc;
	ps->t.entries++;
	ps->t.violations += e->violation != 0;
	if (e->tmpl >= 0 && e->tmpl < IMA_TMPL_MAX)
		ps->t.tmpl[e->tmpl]++;
	if (e->pcr != IMA_PCR)
		return ASSAY_OK;
	m.have_pad = 0;
	for (i = 0; i < ps->nch; i++) {
		ch = &ps->ch[i];
		if ((rc = extend_digest(ps->ctx, e, ps->thash_alg, ch->bank,
		    ch->len, ch->scheme, &m, &d)) != 0 ||
		    (rc = extend_pcr(ps->ctx, ch->bank, ch->pcr, d, ch->len)) != 0)
			return rc;
	}
	return ASSAY_OK;
}

/* The pass replayed everything: hand its chains and tally over. */
static void
pass_done(const struct pass *ps, struct ima_chain *ch, struct ima_tally *t)
{
	memcpy(ch, ps->ch, ps->nch * sizeof(*ch));
	if (t != NULL)
		*t = ps->t;
}

int
ima_replay_binary(const uint8_t *p, size_t n, uint16_t thash_alg,
    struct ima_chain *ch, size_t nch, struct ima_tally *t, size_t *bad)
{
	struct pass ps;
	struct ima_entry e;
	struct cur c;
	const char *why = NULL;
	size_t off;
	int rc;

	if (bad != NULL)
		*bad = SIZE_MAX;
	if ((rc = pass_init(&ps, thash_alg, ch, nch)) != 0)
		goto out;
	cur_init(&c, p, n);
	while (cur_left(&c) > 0) {
		off = n - cur_left(&c);
		if ((rc = ima_binary_next(&c, thash_alg, &e, &why)) != 0) {
			ima_binary_error(rc, ps.t.entries, off, n, why);
			goto out;
		}
		if ((rc = pass_entry(&ps, &e, ps.t.entries, bad)) != 0)
			goto out;
	}
	pass_done(&ps, ch, t);
 out:
	EVP_MD_CTX_free(ps.ctx);
	return rc;
}

int
ima_replay_list(const struct ima_list *l, struct ima_chain *ch, size_t nch,
    struct ima_tally *t, size_t *bad)
{
	struct pass ps;
	size_t i;
	int rc;

	if (bad != NULL)
		*bad = SIZE_MAX;
	if ((rc = pass_init(&ps, l->thash_alg, ch, nch)) != 0)
		goto out;
	for (i = 0; i < l->n; i++)
		if ((rc = pass_entry(&ps, &l->e[i], i, bad)) != 0)
			goto out;
	pass_done(&ps, ch, t);
 out:
	EVP_MD_CTX_free(ps.ctx);
	return rc;
}

int
ima_replay_all(const struct ima_list *l, uint16_t bank, int scheme,
    uint8_t *pcr, size_t *pcr_len, size_t *bad)
{
	struct ima_chain ch;
	int rc;

	ima_chain_init(&ch, bank, scheme);
	if ((rc = ima_replay_list(l, &ch, 1, NULL, bad)) != 0)
		return rc;
	memcpy(pcr, ch.pcr, ch.len);
	*pcr_len = ch.len;
	return ASSAY_OK;
}
