/*
 * audit_rec.h — the audit trail's record format, shared by the verifier
 * (which writes records) and assayctl (which checks an export offline).
 * A record is a JSON object; its "hash" is the lowercase hex SHA-256 of
 * the record's canonical text without "hash" (jansson's json_dumps with
 * JSON_COMPACT | JSON_SORT_KEYS), and its "prev" the hash of the agent's
 * previous record (64 zeros for the first): one chain per agent, seq
 * 1, 2, 3... without gaps. What a record holds besides is the writer's
 * business (verifier/audit.c, common/appraise/audit_round.c).
 */
#ifndef ASSAY_AUDIT_REC_H
#define ASSAY_AUDIT_REC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define AUDIT_HASH_HEX	65	/* 64 hex digits and the NUL */
#define AUDIT_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* A record's text at most (an evidence document of DOC_MAX_SIZE, base64). */
#define AUDIT_REC_MAX	(96u * 1024 * 1024)

/* hex SHA-256 of rec's canonical text without its "hash" member. */
int	audit_rec_hash(const json_t *rec, char out[AUDIT_HASH_HEX]);
/*
 * Set agent, seq and prev in rec, then its hash; *text: the sealed
 * record's text, "hash" first then the canonical text's members (caller
 * frees), hash its hash. One serialization of the record.
 */
int	audit_rec_seal(json_t *rec, const char *agent, int64_t seq,
	    const char *prev, char **text, char hash[AUDIT_HASH_HEX]);
/*
 * rec has agent, seq >= 1, kind, prev and hash (64 hex digits):
 * ASSAY_ERR_FORMAT otherwise; ASSAY_ERR_CRYPTO when its hash is not its
 * content's (altered).
 */
int	audit_rec_check(const json_t *rec);
/*
 * Parse one record line: a JSON object with agent, seq >= 1, kind, prev
 * and hash (64 hex digits) whose hash is right (audit_rec_check's
 * errors otherwise; the detail says what). *out: the object (caller decrefs).
 */
int	audit_rec_parse(const char *text, size_t len, json_t **out);

/*
 * One agent's chain as records come, in order. The first record may
 * start anywhere (older ones pruned or not exported): first_seq says
 * where; every later one must follow it (seq + 1, prev = its hash).
 */
struct audit_chain {
	int64_t	 first_seq;	/* 0: no record yet */
	int64_t	 seq;		/* last record's */
	char	 hash[AUDIT_HASH_HEX];
	char	 agent[128];
};
void	audit_chain_init(struct audit_chain *c);
/* ASSAY_ERR_FORMAT naming the seq and what breaks the chain. */
int	audit_chain_add(struct audit_chain *c, const json_t *rec);
/* The head the verifier holds (seq, hash) is the chain's last record. */
int	audit_chain_head(const struct audit_chain *c, int64_t seq,
	    const char *hash);

#endif
