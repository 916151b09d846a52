/*
 * doc.h — the evidence document an agent returns for one attestation
 * round, and its JSON form (the same for pull and a later push mode):
 *
 *   {"version":1,
 *    "quote":{"message":"<b64 TPMS_ATTEST>","signature":"<b64 TPMT_SIGNATURE>"},
 *    "pcrs":{"sha256":{"0":"<hex>",...},...},
 *    "ima":{"from":N,"count":K,"template_hash":"sha1",
 *           "list":"<b64 binary measurement entries>"},
 *    "eventlog":"<b64 TCG event log>"}
 *
 * ima and eventlog are optional. Parsing is strict: unknown keys, wrong
 * types, bad encodings and oversize fields are errors. Pure, no I/O.
 */
#ifndef ASSAY_DOC_H
#define ASSAY_DOC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/evidence/pcr.h"

#define DOC_VERSION		1
#define DOC_IMA_MAX		(64u * 1024 * 1024)
#define DOC_EVENTLOG_MAX	(4u * 1024 * 1024)

struct evidence_doc {
	uint8_t			*attest;
	size_t			 attest_len;
	uint8_t			*sig;
	size_t			 sig_len;
	struct pcr_values	 pcrs;
	int			 has_ima;
	uint64_t		 ima_from;	/* index of the first entry in ima */
	uint64_t		 ima_count;	/* entries in ima */
	uint16_t		 ima_thash_alg;	/* template-hash alg of the list */
	uint8_t			*ima;		/* binary list fragment */
	size_t			 ima_len;
	uint8_t			*eventlog;
	size_t			 eventlog_len;
};

void	evidence_doc_init(struct evidence_doc *d);
void	evidence_doc_free(struct evidence_doc *d);
json_t	*evidence_doc_to_json(const struct evidence_doc *d);
/* ASSAY_ERR_FORMAT with detail naming the field on any malformation. */
int	evidence_doc_from_json(const json_t *j, struct evidence_doc *out);
int	evidence_doc_parse(const uint8_t *text, size_t len, struct evidence_doc *out);

/* PCR values as {"sha256":{"0":"hex"}} and back (used by the doc and the API). */
json_t	*pcr_values_to_json(const struct pcr_values *v);
int	pcr_values_from_json(const json_t *j, struct pcr_values *out);

#endif
