/*
 * ima.h — Linux IMA measurement lists: binary (binary_runtime_measurements
 * and the per-bank *_runtime_measurements_<alg> lists) and ASCII formats,
 * every kernel template (ima, ima-ng, ima-sig, ima-buf, ima-modsig,
 * ima-ngv2, ima-sigv2), template-hash checks, violations, and the replay
 * into PCR 10 of a quoted bank under both kernel extend schemes.
 * Pure: bytes in, entries and digests out; no I/O, no globals. Entries
 * point into the caller's buffer (binary) or into the list (ASCII).
 */
#ifndef ASSAY_IMA_H
#define ASSAY_IMA_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/evidence/tpm2.h"
#include "common/evidence/verdict.h"

#define IMA_PCR			10
#define IMA_NAME_MAX		4096	/* path length bound (kernel PATH_MAX) */
#define IMA_TEMPLATE_NAME_MAX	16	/* kernel IMA_TEMPLATE_NAME_LEN_MAX */
#define IMA_TEMPLATE_DATA_MAX	(64u * 1024)	/* ima-buf / sig bound */
#define IMA_LIST_MAX_ENTRIES	(16u * 1024 * 1024)
#define IMA_OLD_NAME_MAX	255	/* "ima" template: IMA_EVENT_NAME_LEN_MAX */
/* The largest binary list entry the framer takes (a non-"ima" template). */
#define IMA_ENTRY_MAX		(4 + TPM2_MAX_DIGEST + 4 + IMA_TEMPLATE_NAME_MAX + \
				 4 + IMA_TEMPLATE_DATA_MAX)

enum ima_template {
	IMA_TMPL_IMA = 0,	/* d|n (legacy, SHA-1 digest, fixed 256-byte name in hash) */
	IMA_TMPL_IMA_NG,	/* d-ng|n-ng */
	IMA_TMPL_IMA_SIG,	/* d-ng|n-ng|sig */
	IMA_TMPL_IMA_BUF,	/* d-ng|n-ng|buf */
	IMA_TMPL_IMA_MODSIG,	/* d-ng|n-ng|sig|d-modsig|modsig */
	IMA_TMPL_IMA_NGV2,	/* d-ngv2|n-ng */
	IMA_TMPL_IMA_SIGV2,	/* d-ngv2|n-ng|sig */
	IMA_TMPL_MAX
};

const char *ima_template_name(int tmpl);

/*
 * One binary list entry's frame, the only framing code: the agent reads
 * the kernel's list with it, the parser below takes its entries from it.
 * Per kernel ima_fs.c: u32 pcr, the template hash (hlen bytes), u32
 * template name length and the name, then for the legacy "ima" template
 * a 20-byte digest and a u32-length-prefixed name (<= IMA_OLD_NAME_MAX),
 * for every other template a u32 data length and the data (<=
 * IMA_TEMPLATE_DATA_MAX). Host (little-endian) byte order.
 */
struct ima_frame {
	uint32_t	 pcr;
	struct cur	 thash;		/* hlen bytes */
	struct cur	 tname;		/* template name, 1..IMA_TEMPLATE_NAME_MAX */
	struct cur	 tdata;		/* "ima": digest[20] || u32 len || name */
	size_t		 len;		/* the whole entry */
};
/*
 * Frame the entry at c and move c past it: 0; ASSAY_ERR_TRUNCATED when
 * the bytes end inside it (c unmoved: a list being appended to); another
 * error, *why saying which bound, for bytes that no entry can be.
 */
int	ima_frame_next(struct cur *c, size_t hlen, struct ima_frame *f,
	    const char **why);

struct ima_entry {
	uint32_t	 pcr;
	int		 tmpl;		/* enum ima_template */
	uint16_t	 thash_alg;	/* TPM alg of the recorded template hash */
	uint8_t		 thash[TPM2_MAX_DIGEST];	/* as recorded in the list */
	int		 violation;	/* recorded template hash is all zeros */
	struct cur	 tdata;		/* template data exactly as hashed */
	/* decoded fields (empty cursors when the template has none) */
	uint16_t	 dalg;		/* file digest algorithm (TPM alg id) */
	struct cur	 digest;	/* file digest */
	int		 verity;	/* d-ngv2 type "verity" (else "ima") */
	struct cur	 name;		/* path or buffer name, no NUL */
	struct cur	 sig;		/* ima-sig / modsig signature (may be empty) */
	struct cur	 buf;		/* ima-buf contents */
	uint16_t	 modsig_dalg;
	struct cur	 modsig_digest;
	struct cur	 modsig;
	/* added: the algorithm names as listed ("sha256", "md5", ...);
	 * dalg/modsig_dalg are TPM2_ALG_NULL for names without a TPM id */
	struct cur	 dalg_name;
	struct cur	 modsig_dalg_name;
};

/*
 * Decode the binary list entry at c (framed by ima_frame_next(), fields
 * decoded as ima_parse_binary() does; e points into c's bytes) and move
 * c past it: the streaming form of the parser, no entry array. 0; or
 * an error, *why saying which bound, c unmoved (ASSAY_ERR_TRUNCATED:
 * the bytes end inside the entry).
 */
int	ima_binary_next(struct cur *c, uint16_t thash_alg, struct ima_entry *e,
	    const char **why);

struct ima_list {
	struct ima_entry	*e;
	size_t			 n;
	uint16_t		 thash_alg;	/* alg of template hashes in the list */
	uint8_t			*owned;		/* storage for ASCII-decoded bytes */
};

/*
 * Parse a binary list. thash_alg is the template-hash algorithm of the
 * file: TPM2_ALG_SHA1 for binary_runtime_measurements, the bank's for
 * binary_runtime_measurements_<alg>. Host (little-endian) byte order.
 * A malformed or truncated entry is ASSAY_ERR_FORMAT/TRUNCATED with the
 * entry index and offset in the detail; nothing is returned then.
 * *consumed (may be NULL) gets the bytes of complete entries parsed.
 */
int	ima_parse_binary(const uint8_t *p, size_t n, uint16_t thash_alg,
	    struct ima_list *out, size_t *consumed);
/* ASCII list ("10 <thash> <template> <fields...>" lines). */
int	ima_parse_ascii(const char *p, size_t n, struct ima_list *out);
/*
 * ASCII list with a known template-hash algorithm (ascii_runtime_
 * measurements_<alg>); thash_alg 0 = guess from the first line's hash
 * length (20 sha1, 32 sha256, 48 sha384, 64 sha512), which is what
 * ima_parse_ascii() does. Entries' tdata point into out->owned.
 */
int	ima_parse_ascii_alg(const char *p, size_t n, uint16_t thash_alg,
	    struct ima_list *out);
/* Kernel/keylime digest algorithm name -> TPM alg, TPM2_ALG_NULL if none. */
uint16_t ima_digest_alg_by_name(const uint8_t *p, size_t n);
/*
 * The template hash of e in alg as the kernel computes it
 * (ima_calc_field_array_hash). ctx may be NULL; pass one to reuse it.
 */
int	ima_entry_template_hash(const struct ima_entry *e, uint16_t alg,
	    EVP_MD_CTX *ctx, uint8_t *out, size_t *outlen);
void	ima_list_free(struct ima_list *l);

/*
 * Check an entry's recorded template hash against its template data
 * (with the list's thash_alg). Violations (all-zero) pass. ASSAY_OK or
 * ASSAY_FAIL with detail.
 */
int	ima_entry_check_thash(const struct ima_entry *e, uint16_t thash_alg);

enum ima_extend_scheme {
	IMA_EXTEND_AUTO = 0,	/* try both, keep the one that reproduces the PCR */
	IMA_EXTEND_SHA1_PADDED,	/* kernels < 5.11-ish: SHA-1 hash zero-padded */
	IMA_EXTEND_BANK_HASH,	/* each bank hashes the template data itself */
};

/*
 * The digest an entry extends into a bank: a violation extends all 0xFF;
 * otherwise the SHA-1 template hash zero-padded (SHA1_PADDED) or the
 * bank's own hash of the template data (BANK_HASH). For the SHA-1 bank,
 * both schemes are the SHA-1 template hash.
 */
int	ima_entry_extend_digest(const struct ima_entry *e, uint16_t thash_alg,
	    uint16_t bank, int scheme, uint8_t *out, size_t *outlen);

/* Running replay state of PCR 10 in one bank (kept between rounds). */
struct ima_replay {
	uint16_t	bank;
	int		scheme;		/* AUTO until a round fixes it */
	uint64_t	count;		/* entries replayed and accepted */
	uint8_t		pcr[TPM2_MAX_DIGEST];
	uint8_t		pcr_alt[TPM2_MAX_DIGEST];	/* other scheme while AUTO */
};

void	ima_replay_init(struct ima_replay *r, uint16_t bank, int scheme);

/*
 * Replay the list's entries (all belong after r->count entries already
 * accepted) into r and find the longest prefix whose PCR equals quoted.
 * On success *accepted is that prefix length (0..n), r advanced by it
 * (and its scheme fixed if it was AUTO). When no prefix reproduces the
 * quoted value, ASSAY_FAIL with detail, r unchanged. Template hashes are
 * checked on the way: a mismatch is ASSAY_FAIL with *bad the entry index.
 */
int	ima_replay(struct ima_replay *r, const struct ima_list *l,
	    const uint8_t *quoted, size_t quoted_len, size_t *accepted, size_t *bad);

/*
 * Added: replay the whole list from PCR 10 = 0 into bank under scheme
 * (not AUTO), checking template hashes (mismatch: ASSAY_FAIL, *bad the
 * index). *pcr gets the final value (bank size in *pcr_len).
 */
int	ima_replay_all(const struct ima_list *l, uint16_t bank, int scheme,
	    uint8_t *pcr, size_t *pcr_len, size_t *bad);

/*
 * PCR 10 of one bank under one extend scheme (BANK_HASH or SHA1_PADDED),
 * replayed from zero. ima_chain_init() sets bank, scheme and len (the
 * bank's digest size; 0 when the bank is unknown or not in OpenSSL).
 */
struct ima_chain {
	uint16_t	 bank;
	int		 scheme;
	size_t		 len;
	uint8_t		 pcr[TPM2_MAX_DIGEST];
};
#define IMA_CHAINS_MAX	16

void	ima_chain_init(struct ima_chain *ch, uint16_t bank, int scheme);

/* What one replay pass saw. */
struct ima_tally {
	size_t	 entries;
	size_t	 violations;
	size_t	 tmpl[IMA_TMPL_MAX];	/* entries per template */
};

/*
 * One pass over a binary list (thash_alg as for ima_parse_binary()):
 * each entry decoded on the fly into a stack entry (no entry array), its
 * template hash checked in thash_alg only (the one hash per entry that
 * cannot be avoided), then each of the nch (<= IMA_CHAINS_MAX) chains
 * extended with the digest its bank and scheme need and no other: none
 * for the SHA-1 bank or SHA1_PADDED of a SHA-1-templated list (the
 * recorded template hash is the value), nor for BANK_HASH of the bank the
 * list is templated in. A malformed entry is an error as in
 * ima_parse_binary() (entry index and offset in the detail); a template
 * hash mismatch is ASSAY_FAIL, *bad (may be NULL) its index. t may be NULL.
 */
int	ima_replay_binary(const uint8_t *p, size_t n, uint16_t thash_alg,
	    struct ima_chain *ch, size_t nch, struct ima_tally *t, size_t *bad);
/* The same over a parsed list (e.g. an ASCII one). */
int	ima_replay_list(const struct ima_list *l, struct ima_chain *ch,
	    size_t nch, struct ima_tally *t, size_t *bad);

/*
 * boot_aggregate as the kernel computes it: H_alg(PCR0 || ... || PCRk)
 * over the TPM's PCRs of bank alg, k = 7 for SHA-1, 9 for other banks.
 * pcrs[i] points to PCR i's value.
 */
int	ima_boot_aggregate(uint16_t alg, const uint8_t *const pcrs[10],
	    uint8_t *out, size_t *outlen);

#endif
