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

int
ima_replay(struct ima_replay *r, const struct ima_list *l,
    const uint8_t *quoted, size_t quoted_len, size_t *accepted, size_t *bad)
{
	struct hctx h;
	uint8_t pcr[2][TPM2_MAX_DIGEST], best_pcr[2][TPM2_MAX_DIGEST];
	uint8_t d[TPM2_MAX_DIGEST], th[TPM2_MAX_DIGEST];
	size_t i, best[2], tlen;
	int have[2], nsch, sch[2], s, rc, pick;
	const struct ima_entry *e;

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
	/* slot 0: the fixed scheme (BANK_HASH while AUTO); slot 1: SHA1_PADDED
	 * while AUTO */
	if (r->scheme == IMA_EXTEND_AUTO) {
		nsch = 2;
		sch[0] = IMA_EXTEND_BANK_HASH;
		sch[1] = IMA_EXTEND_SHA1_PADDED;
	} else {
		nsch = 1;
		sch[0] = r->scheme;
		sch[1] = r->scheme;
	}
	memcpy(pcr[0], r->pcr, h.bank_size);
	memcpy(pcr[1], r->pcr_alt, h.bank_size);
	for (s = 0; s < nsch; s++) {
		have[s] = memcmp(pcr[s], quoted, h.bank_size) == 0;
		best[s] = 0;
		memcpy(best_pcr[s], pcr[s], h.bank_size);
	}
	for (i = 0; i < l->n; i++) {
		e = &l->e[i];
		if (!e->violation) {
			if ((rc = ima_entry_template_hash(e, l->thash_alg, h.ctx,
			    th, &tlen)) != 0)
				goto out;
			if (memcmp(th, e->thash, tlen) != 0) {
				if (bad != NULL)
					*bad = i;
				rc = assay_err_set(ASSAY_FAIL, "IMA entry %" PRIu64
				    " (\"%.*s\"): template hash does not match its "
				    "template data", r->count + i,
				    (int)(e->name.len > 200 ? 200 : e->name.len),
				    (const char *)e->name.p);
				goto out;
			}
		}
		for (s = 0; s < nsch && e->pcr == IMA_PCR; s++) {
			if (s == 1 && r->bank == TPM2_ALG_SHA1) {
				/* both schemes coincide in the SHA-1 bank */
				memcpy(pcr[1], pcr[0], h.bank_size);
			} else if ((rc = extend_digest(&h, e, l->thash_alg,
			    r->bank, sch[s], d)) != 0 ||
			    (rc = pcr_extend(&h, pcr[s], d)) != 0)
				goto out;
		}
		/* entries of other PCRs keep PCR 10: they extend a match too */
		for (s = 0; s < nsch; s++) {
			if (memcmp(pcr[s], quoted, h.bank_size) == 0) {
				have[s] = 1;
				best[s] = i + 1;
				memcpy(best_pcr[s], pcr[s], h.bank_size);
			}
		}
	}
	if (!have[0] && (nsch == 1 || !have[1])) {
		rc = assay_err_set(ASSAY_FAIL, "IMA replay of %zu entries from "
		    "entry %" PRIu64 " does not reproduce the quoted PCR 10 in any "
		    "prefix", l->n, r->count);
		goto out;
	}
	pick = 0;
	if (nsch == 2 && have[1] && (!have[0] || best[1] > best[0]))
		pick = 1;
	*accepted = best[pick];
	r->count += best[pick];
	if (nsch == 2 && have[0] && have[1] && best[0] == best[1]) {
		/* both schemes agree here: stay AUTO, keep both values */
		memcpy(r->pcr, best_pcr[0], h.bank_size);
		memcpy(r->pcr_alt, best_pcr[1], h.bank_size);
	} else {
		memcpy(r->pcr, best_pcr[pick], h.bank_size);
		memset(r->pcr_alt, 0, sizeof(r->pcr_alt));
		r->scheme = sch[pick];
	}
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
	uint8_t d[TPM2_MAX_DIGEST], th[TPM2_MAX_DIGEST];
	const struct ima_entry *e;
	size_t i, tlen;
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
		if (!e->violation) {
			if ((rc = ima_entry_template_hash(e, l->thash_alg, h.ctx,
			    th, &tlen)) != 0)
				goto out;
			if (memcmp(th, e->thash, tlen) != 0) {
				if (bad != NULL)
					*bad = i;
				rc = assay_err_set(ASSAY_FAIL, "IMA entry %zu (\"%.*s\"): "
				    "template hash does not match its template data", i,
				    (int)(e->name.len > 200 ? 200 : e->name.len),
				    (const char *)e->name.p);
				goto out;
			}
		}
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
