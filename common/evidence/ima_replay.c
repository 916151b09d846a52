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
 * Speed: one EVP_MD_CTX per replay call, re-initialised per hash with
 * EVP_DigestInit_ex2; no allocation per entry.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/evidence/ima.h"
#include "common/evidence/tpm2.h"

struct hctx {
	EVP_MD_CTX	*ctx;
	const EVP_MD	*bank_md;
	size_t		 bank_size;
};

/* digest for scheme (BANK_HASH or SHA1_PADDED) of a non-violation entry */
static int
extend_digest(struct hctx *h, const struct ima_entry *e, uint16_t thash_alg,
    uint16_t bank, int scheme, uint8_t *out)
{
	uint8_t d[TPM2_MAX_DIGEST];
	size_t dlen;
	int r;

	if (e->violation) {
		/* pre-5.8 kernels: 20 bytes of 0xff, zero-padded */
		memset(out, 0, h->bank_size);
		memset(out, 0xff, scheme == IMA_EXTEND_SHA1_PADDED &&
		    h->bank_size > 20 ? 20 : h->bank_size);
		return ASSAY_OK;
	}
	if (scheme == IMA_EXTEND_SHA1_PADDED || bank == TPM2_ALG_SHA1) {
		if (thash_alg == TPM2_ALG_SHA1)
			memcpy(d, e->thash, 20);
		else if ((r = ima_entry_template_hash(e, TPM2_ALG_SHA1, h->ctx,
		    d, &dlen)) != 0)
			return r;
		memset(out, 0, h->bank_size);
		memcpy(out, d, h->bank_size < 20 ? h->bank_size : 20);
		return ASSAY_OK;
	}
	if (thash_alg == bank) {
		memcpy(out, e->thash, h->bank_size);
		return ASSAY_OK;
	}
	return ima_entry_template_hash(e, bank, h->ctx, out, &dlen);
}

static int
hctx_init(struct hctx *h, uint16_t bank)
{
	const struct tpm2_hash *th;

	memset(h, 0, sizeof(*h));
	if ((th = tpm2_hash_by_alg(bank)) == NULL ||
	    (h->bank_md = tpm2_hash_md(bank)) == NULL)
		return assay_err_set(ASSAY_ERR_UNSUPPORTED,
		    "PCR bank 0x%04x", bank);
	h->bank_size = th->size;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		return assay_err_set(ASSAY_ERR_CRYPTO, "EVP_MD_CTX_new");
	return ASSAY_OK;
}

int
ima_entry_extend_digest(const struct ima_entry *e, uint16_t thash_alg,
    uint16_t bank, int scheme, uint8_t *out, size_t *outlen)
{
	struct hctx h;
	int r;

	if (scheme != IMA_EXTEND_SHA1_PADDED && scheme != IMA_EXTEND_BANK_HASH)
		return assay_err_set(ASSAY_ERR_INVAL, "IMA extend scheme %d", scheme);
	if ((r = hctx_init(&h, bank)) != 0)
		return r;
	r = extend_digest(&h, e, thash_alg, bank, scheme, out);
	if (r == ASSAY_OK)
		*outlen = h.bank_size;
	EVP_MD_CTX_free(h.ctx);
	return r;
}

static int
pcr_extend(struct hctx *h, uint8_t *pcr, const uint8_t *d)
{
	unsigned int olen;

	if (!EVP_DigestInit_ex2(h->ctx, h->bank_md, NULL) ||
	    !EVP_DigestUpdate(h->ctx, pcr, h->bank_size) ||
	    !EVP_DigestUpdate(h->ctx, d, h->bank_size) ||
	    !EVP_DigestFinal_ex(h->ctx, pcr, &olen))
		return assay_err_set(ASSAY_ERR_CRYPTO, "PCR extend");
	return ASSAY_OK;
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

/* Entry i's template hash must be the hash of its template data. */
static int
check_entry_thash(struct hctx *h, const struct ima_list *l, size_t i,
    uint64_t first, size_t *bad)
{
	const struct ima_entry *e = &l->e[i];
	uint8_t th[TPM2_MAX_DIGEST];
	size_t tlen;
	int rc;

	if (e->violation)
		return ASSAY_OK;
	if ((rc = ima_entry_template_hash(e, l->thash_alg, h->ctx,
	    th, &tlen)) != 0)
		return rc;
	if (memcmp(th, e->thash, tlen) != 0) {
		if (bad != NULL)
			*bad = i;
		return assay_err_set(ASSAY_FAIL, "IMA entry %" PRIu64
		    " (\"%.*s\"): template hash does not match its "
		    "template data", first + i,
		    (int)(e->name.len > 200 ? 200 : e->name.len),
		    (const char *)e->name.p);
	}
	return ASSAY_OK;
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
	uint8_t d[TPM2_MAX_DIGEST];
	int s, rc;

	for (s = 0; s < t->nsch && e->pcr == IMA_PCR; s++) {
		if (s == 1 && bank == TPM2_ALG_SHA1) {
			/* both schemes coincide in the SHA-1 bank */
			memcpy(t->pcr[1], t->pcr[0], h->bank_size);
		} else if ((rc = extend_digest(h, e, thash_alg, bank,
		    t->sch[s], d)) != 0 ||
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

int
ima_replay_all(const struct ima_list *l, uint16_t bank, int scheme,
    uint8_t *pcr, size_t *pcr_len, size_t *bad)
{
	struct hctx h;
	uint8_t d[TPM2_MAX_DIGEST];
	const struct ima_entry *e;
	size_t i;
	int rc;

	if (bad != NULL)
		*bad = SIZE_MAX;
	if (scheme != IMA_EXTEND_SHA1_PADDED && scheme != IMA_EXTEND_BANK_HASH)
		return assay_err_set(ASSAY_ERR_INVAL, "IMA extend scheme %d", scheme);
	if ((rc = hctx_init(&h, bank)) != 0)
		return rc;
	memset(pcr, 0, h.bank_size);
	for (i = 0; i < l->n; i++) {
		e = &l->e[i];
		if ((rc = check_entry_thash(&h, l, i, 0, bad)) != 0)
			goto out;
		if (e->pcr != IMA_PCR)
			continue;
		if ((rc = extend_digest(&h, e, l->thash_alg, bank, scheme, d)) != 0 ||
		    (rc = pcr_extend(&h, pcr, d)) != 0)
			goto out;
	}
	*pcr_len = h.bank_size;
	rc = ASSAY_OK;
 out:
	EVP_MD_CTX_free(h.ctx);
	return rc;
}
