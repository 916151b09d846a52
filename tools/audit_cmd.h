/*
 * audit_cmd.h — assayctl's audit trail commands: "audit export" fetches
 * an agent's records from the verifier as JSON lines (audit_cmd.c);
 * "audit verify" checks such a file offline: the hash chain, the head,
 * and every round judged again from its recorded evidence
 * (audit_verify.c).
 */
#ifndef ASSAY_AUDIT_CMD_H
#define ASSAY_AUDIT_CMD_H

#include <stdint.h>

#include "tools/cmd.h"

int	cmd_audit_export(struct cmd_args *a);
int	cmd_audit_verify(struct cmd_args *a);
/*
 * T as unix seconds, ISO 8601 UTC (2026-12-07T10:00:00Z, or a date), or
 * a duration ago (90s, 30m, 2h, 7d); now: the current unix time.
 */
int	audit_parse_since(const char *s, int64_t now, int64_t *out);

#endif
