/*
 * ima_int.h — internals shared by the IMA list parsers, ima.c (binary,
 * fields, template hashes) and ima_ascii.c (the ASCII form), the replay
 * (ima_replay.c) and its hash function (ima_hash.c). Not for other
 * modules: they use ima.h.
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
	/* an array, not a pointer: a lookup compares n <= 16 bytes and the
	 * NUL after them without strlen() */
	char		 name[IMA_TEMPLATE_NAME_MAX + 1];
	uint8_t		 fields[6];
};
extern const struct ima_tmpl_desc ima_tmpls[IMA_TMPL_MAX];

/* Template index of a template name, -1 if unknown. */
int	ima_tmpl_lookup(const uint8_t *p, size_t n);
/* Decode e->tdata by e->tmpl; 0, or an error with *why set. */
int	ima_decode_fields(struct ima_entry *e, const char **why);
int	ima_all_zero(const uint8_t *p, size_t n);
/*
 * The detail for binary entry index at offset off of an n-byte list that
 * failed with r (*why from the framer/decoder); returns r.
 */
int	ima_binary_error(int r, size_t index, size_t off, size_t n,
	    const char *why);
/*
 * Whether ima_hashv() can hash with alg: without loading OpenSSL's
 * providers for the SHA family (a millisecond of a command's start).
 */
int	ima_hash_have(uint16_t alg);
/*
 * out = H_alg(v[0] || ... || v[nv-1]), *outlen its size: OpenSSL's SHA-1
 * and SHA-2 functions directly, EVP on ctx (NULL: a context of its own)
 * for other algorithms. ima_hash.c says why.
 */
int	ima_hashv(EVP_MD_CTX *ctx, uint16_t alg, const struct cur *v, size_t nv,
	    uint8_t *out, size_t *outlen);
/* Append e to l (capacity *cap, grown as needed). */
void	ima_list_push(struct ima_list *l, size_t *cap, const struct ima_entry *e);

#endif
