/*
 * doc.h — the evidence document an agent returns for one attestation
 * round, and its JSON form (the same for pull and a later push mode):
 *
 *   {"version":1,
 *    "quote":{"message":"<b64 TPMS_ATTEST>","signature":"<b64 TPMT_SIGNATURE>"},
 *    "pcrs":{"sha256":{"0":"<hex>",...},...},
 *    "ima":{"from":N,"count":K,"template_hash":"sha1",
 *           "list":"<b64 binary measurement entries>","more":true},
 *    "eventlog":"<b64 TCG event log>",
 *    "identity":{"public":"<b64 TPM2B_PUBLIC>","message":"<b64 TPMS_ATTEST>",
 *                "signature":"<b64 TPMT_SIGNATURE>"}}
 *
 * Three forms carry it; the verifier asks the newest it reads (format=
 * and format_max= in the request, quote_req.h) and tells them apart by
 * their first bytes, so an agent that knows fewer forms answers an older
 * one and is understood:
 *
 *   1 (JSON): the document above.
 *   2 "ASSAYEV2" | u32be J | J bytes of JSON | u32be I | I bytes of IMA list
 *              | u32be E | E bytes of event log        (nothing after it)
 *     The JSON is the document above without "ima.list" and "eventlog";
 *     I > 0 needs an "ima" member, E == 0 means no event log.
 *   3 "ASSAYEV3" | sections, each  u16be tag | u32be len | len bytes,
 *     tags strictly increasing (each at most once), no unknown tag,
 *     nothing after the last; no JSON, no base64, no hex:
 *       1 quote message   TPMS_ATTEST             required, 1..ATTEST_MAX_SIZE
 *       2 quote signature TPMT_SIGNATURE          required, 1..SIGNATURE_MAX_SIZE
 *       3 PCR values      per bank: u16be hash alg | u32be mask (bits 0..23,
 *                         not 0) | the selected values in index order, each
 *                         the bank's digest size   required (0 bytes: none)
 *       4 IMA meta        u64be from | u64be count | u16be template-hash
 *                         alg | u8 more (0/1)     optional (19 bytes)
 *       5 IMA list        as read, 1..DOC_IMA_MAX; needs IMA meta
 *       6 event log       as read, 1..DOC_EVENTLOG_MAX
 *       7 identity public TPM2B_PUBLIC; 8 its TPMS_ATTEST; 9 its
 *         TPMT_SIGNATURE: all three or none
 *     Counts at most INT64_MAX, banks known, at most TPM2_MAX_BANKS, each
 *     once: what the JSON form can say, no more (doc_bin3.c).
 * The binary forms' IMA list and event log are used where they lie in the
 * received buffer (evidence_doc_parse_take), never copied.
 *
 * ima, eventlog and identity are optional. identity: the host identity
 * key's public area and TPM2_Certify of it by the AK over the round's
 * nonce (certify.h), sent when the request asks identity=1. Parsing is strict: unknown keys, wrong
 * types, bad encodings and oversize fields are errors. Pure, no I/O.
 *
 * IMA paging: the verifier asks `ima_max=M` (entries) and `ima_bytes=B`
 * (list bytes; absent: DOC_IMA_MAX; clamped to [DOC_IMA_PAGE_MIN,
 * DOC_IMA_MAX] by both sides, doc_ima_page_cap); the agent sends a page of
 * whole entries [from, from+K) with K <= M and at most that many bytes of
 * list, and "more":true (present only then) when its list holds entries
 * after the page. A page claiming more is full: K == M, or the next entry
 * might not have fitted (len + DOC_IMA_ENTRY_MAX > the byte cap).
 *
 * One chain of limits (the defaults):
 *   HTTP_CLIENT_MAX_BODY (common/http_int.h, verifier's response cap) 64 MiB
 *   >= DOC_MAX_SIZE = b64(DOC_IMA_MAX) + b64(DOC_EVENTLOG_MAX) + slack
 *                   = 53.3 MiB + 5.3 MiB + 256 KiB = 58.9 MiB
 *   DOC_IMA_MAX = 40 MiB: a page's list bytes (agent cap = parser cap)
 *   page entries: verifier config ima_page_entries (default 65536, about
 *   10 MiB of ima-ng or 27 MiB of ima-sig entries); the byte cap wins for
 *   entries larger than DOC_IMA_MAX / M.
 *   page bytes: what the verifier can afford at the moment (its budget of
 *   list bytes in flight, ima_inflight_mb), never below DOC_IMA_PAGE_MIN
 *   (room for the largest entry, DOC_IMA_ENTRY_MAX, three times over).
 * (common/http_client.c asserts DOC_MAX_SIZE <= HTTP_CLIENT_MAX_BODY.)
 */
#ifndef ASSAY_DOC_H
#define ASSAY_DOC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/evidence/ima.h"
#include "common/evidence/pcr.h"

#define DOC_VERSION		1
#define DOC_IMA_MAX		(40u * 1024 * 1024)	/* list bytes per page */
#define DOC_EVENTLOG_MAX	(4u * 1024 * 1024)
#define DOC_IMA_PAGE_MIN	(256u * 1024)		/* smallest byte cap */
#define DOC_JSON_SLACK		(256u * 1024)	/* quote, signature, PCRs, keys */
#define DOC_B64_LEN(n)		((((size_t)(n) + 2) / 3) * 4)
#define DOC_MAX_SIZE		(DOC_B64_LEN(DOC_IMA_MAX) + \
				 DOC_B64_LEN(DOC_EVENTLOG_MAX) + DOC_JSON_SLACK)
/* Largest binary list entry the framer (ima_frame_next) admits. */
#define DOC_IMA_ENTRY_MAX	IMA_ENTRY_MAX

struct evidence_doc {
	uint8_t			*attest;
	size_t			 attest_len;
	uint8_t			*sig;
	size_t			 sig_len;
	int			 has_ima;
	uint64_t		 ima_from;	/* index of the first entry in ima */
	uint64_t		 ima_count;	/* entries in ima */
	int			 ima_more;	/* the agent's list goes on after them */
	uint16_t		 ima_thash_alg;	/* template-hash alg of the list */
	uint8_t			*ima;		/* binary list fragment */
	size_t			 ima_len;
	uint8_t			*eventlog;
	size_t			 eventlog_len;
	uint8_t			*id_pub;	/* identity key TPM2B_PUBLIC, or NULL */
	size_t			 id_pub_len;
	uint8_t			*id_attest;	/* its certification */
	size_t			 id_attest_len;
	uint8_t			*id_sig;
	size_t			 id_sig_len;
	uint8_t			*backing;	/* binary form: ima and eventlog point
						 * into it (freed with the doc) */
	/* Last: evidence_doc_init clears what is above, not its 12 KiB. */
	struct pcr_values	 pcrs;
};

void	evidence_doc_init(struct evidence_doc *d);
void	evidence_doc_free(struct evidence_doc *d);
json_t	*evidence_doc_to_json(const struct evidence_doc *d);
/* ASSAY_ERR_FORMAT with detail naming the field on any malformation. */
int	evidence_doc_from_json(const json_t *j, struct evidence_doc *out);
int	evidence_doc_parse(const uint8_t *text, size_t len, struct evidence_doc *out);

/* The forms (format= in the request): JSON, binary 2, binary 3. */
#define DOC_FORM_JSON		1
#define DOC_FORM_V2		2
#define DOC_FORM_V3		3
#define DOC_FORM_NEWEST		DOC_FORM_V3
#define DOC_BIN_MAGIC		"ASSAYEV2"
#define DOC_BIN3_MAGIC		"ASSAYEV3"
#define DOC_BIN_MAGIC_LEN	8
/* Both binary forms' content type (the magic tells them apart). */
#define DOC_BIN_CTYPE		"application/vnd.assay.evidence"
/* d in binary form 2 (3) into a new buffer; ASSAY_ERR_INVAL if unencodable. */
int	evidence_doc_encode_bin(const struct evidence_doc *d, uint8_t **out,
	    size_t *len);
int	evidence_doc_encode_bin3(const struct evidence_doc *d, uint8_t **out,
	    size_t *len);
/*
 * d in the form asked (DOC_FORM_V2, DOC_FORM_V3, anything else JSON
 * text), with its content type.
 */
int	evidence_doc_encode(const struct evidence_doc *d, int form,
	    uint8_t **out, size_t *len, const char **ctype);
/* The form of a received body: DOC_FORM_V2, DOC_FORM_V3 or DOC_FORM_JSON. */
int	evidence_doc_form(const uint8_t *body, size_t len);
/*
 * Parse any form, taking body (always: freed, or kept as out->backing
 * so that the IMA list and event log are not copied). Errors as
 * evidence_doc_parse.
 */
int	evidence_doc_parse_take(uint8_t *body, size_t len, struct evidence_doc *out);
/*
 * Whether a page with more entries after it is full under the paging
 * rule for a request of max entries (0: no count asked).
 */
int	evidence_doc_page_full(const struct evidence_doc *d, uint64_t max,
	    size_t cap);
/* The byte cap of a page asked with ima_bytes=asked (0: not asked). */
size_t	doc_ima_page_cap(uint64_t asked);
/*
 * The largest document answering a request for an IMA page of ima_bytes
 * (0: no IMA asked) and, if eventlog, the event log: what the verifier
 * reads of a poll's answer at most.
 */
size_t	doc_max_size(uint64_t ima_bytes, int eventlog);

/* PCR values as {"sha256":{"0":"hex"}} and back (used by the doc and the API). */
json_t	*pcr_values_to_json(const struct pcr_values *v);
int	pcr_values_from_json(const json_t *j, struct pcr_values *out);

#endif
