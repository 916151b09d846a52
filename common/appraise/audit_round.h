/*
 * audit_round.h — a judged round as an audit record and back: the record
 * of a verify_job (its inputs, the evidence bytes as received, the verdict,
 * the carried state before and after), and, offline, the job rebuilt from
 * such a record so that verify_run judges it again and the outcome can be
 * compared with what was recorded. Chain fields (agent, seq, prev, hash)
 * are common/proto/audit_rec.h's.
 */
#ifndef ASSAY_AUDIT_ROUND_H
#define ASSAY_AUDIT_ROUND_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/appraise/verify.h"

/* A round's outcome as the verifier applies it (scheduler.c's order). */
const char *audit_round_outcome(const struct verify_job *j);

/*
 * The "round" record of j after verify_run (kept body in j->kept):
 * kind, verdict {state, failure_ids, detail}, policy {name, sha256},
 * inputs {nonce, ak_pub, ak_name, pcrs, prev_clock, ima_max, ima_bytes,
 * verify_state_in}, evidence (base64), verify_state_out, applied.
 * ak_pub: the AK's TPM2B_PUBLIC the round was checked with.
 */
json_t	*audit_round_record(const struct verify_job *j, const uint8_t *ak_pub,
	    size_t ak_pub_len);

/*
 * The job a round record describes, to run again with pol (compiled
 * from the exported text; its SHA-256 must be the record's). ASSAY_ERR_FORMAT
 * naming the field that does not parse.
 */
int	audit_round_job(const json_t *rec, struct policy *pol,
	    struct verify_job **out);

/*
 * j ran again: its outcome, failure ids and verify_state_out must be the
 * record's. ASSAY_ERR_STATE with what differs in the detail otherwise.
 */
int	audit_round_compare(const json_t *rec, const struct verify_job *j);

#endif
