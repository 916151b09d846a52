/*
 * pcr.h — PCR selections (TPML_PCR_SELECTION), sets of PCR values per bank,
 * the "sha256:0,1,2+sha1:7" text form, and the quote's PCR digest.
 * Pure, no I/O.
 */
#ifndef ASSAY_PCR_H
#define ASSAY_PCR_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/evidence/tpm2.h"

struct pcr_bank_sel {
	uint16_t	hash;		/* TPM2_ALG_* */
	uint32_t	mask;		/* bit i = PCR i (0..23) */
};

struct pcr_selection {
	size_t			n;
	struct pcr_bank_sel	bank[TPM2_MAX_BANKS];
};

struct pcr_values {
	size_t	nbanks;
	struct {
		uint16_t	hash;
		uint32_t	present;	/* bit i: value[i] is set */
		uint8_t		value[TPM2_PCR_COUNT][TPM2_MAX_DIGEST];
	} bank[TPM2_MAX_BANKS];
};

/* "sha256:0,1,2,3+sha1:10" (also "sha256:0-7,10"); banks must be known. */
int	pcr_selection_parse(const char *s, struct pcr_selection *out);
/* The same text form, caller frees. Banks in selection order. */
char	*pcr_selection_format(const struct pcr_selection *sel);
/* Wire TPML_PCR_SELECTION (count, then hash/sizeofSelect/pcrSelect). */
int	pcr_selection_unmarshal(struct cur *c, struct pcr_selection *out);
void	pcr_selection_marshal(const struct pcr_selection *sel, struct buf *b);
/* Same banks in the same order with the same masks. */
int	pcr_selection_equal(const struct pcr_selection *a, const struct pcr_selection *b);

void	pcr_values_init(struct pcr_values *v);
/* Set one value; adds the bank if new. ASSAY_ERR_RANGE if len wrong, pcr > 23. */
int	pcr_values_set(struct pcr_values *v, uint16_t hash, unsigned pcr,
	    const uint8_t *d, size_t len);
/* Pointer to the value or NULL when not present. */
const uint8_t *pcr_values_get(const struct pcr_values *v, uint16_t hash, unsigned pcr);
/*
 * The quote's pcrDigest: hash (with alg) of the concatenation of the
 * selected values in selection order (banks in order, PCRs ascending).
 * ASSAY_ERR_NOT_FOUND (detail names bank and PCR) if a value is missing.
 */
int	pcr_values_digest(const struct pcr_values *v, const struct pcr_selection *sel,
	    uint16_t alg, uint8_t *out, size_t *outlen);
/*
 * tpm2-tools' "serialized" PCR dump (tpm2_quote -o, tpm2_pcrread -F
 * serialized on a little-endian host): the selection it covers and the
 * values. Every selected PCR must have a value; trailing bytes are an error.
 */
int	pcr_tpm2tools_parse(const uint8_t *p, size_t n, struct pcr_selection *sel,
	    struct pcr_values *vals);

#endif
