/*
 * ima_int.h — internals shared by the IMA list parsers, ima.c (binary,
 * fields, template hashes) and ima_ascii.c (the ASCII form). Not for
 * other modules: they use ima.h.
 */
#ifndef ASSAY_EVIDENCE_IMA_INT_H
#define ASSAY_EVIDENCE_IMA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/evidence/ima.h"

/* Template fields (ima_template_lib.c), in the order a template lists them. */
enum ima_field {
	F_END = 0, F_D, F_N, F_DNG, F_NNG, F_SIG, F_BUF, F_DNGV2, F_DMODSIG,
	F_MODSIG
};

struct ima_tmpl_desc {
	const char	*name;
	uint8_t		 fields[6];
};
extern const struct ima_tmpl_desc ima_tmpls[IMA_TMPL_MAX];

/* Template index of a template name, -1 if unknown. */
int	ima_tmpl_lookup(const uint8_t *p, size_t n);
/* Decode e->tdata by e->tmpl; 0, or an error with *why set. */
int	ima_decode_fields(struct ima_entry *e, const char **why);
int	ima_all_zero(const uint8_t *p, size_t n);
/* Append e to l (capacity *cap, grown as needed). */
void	ima_list_push(struct ima_list *l, size_t *cap, const struct ima_entry *e);

#endif
