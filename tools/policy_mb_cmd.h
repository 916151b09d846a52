/*
 * policy_mb_cmd.h — `assayctl policy from-eventlog FILE [--name N]
 * [--bank ALG] [-o OUT]`: a measured_boot: policy from a known-good UEFI
 * event log (binary_bios_measurements).
 */
#ifndef ASSAY_POLICY_MB_CMD_H
#define ASSAY_POLICY_MB_CMD_H

#include <stddef.h>
#include <stdint.h>

struct cmd_args;

/*
 * A row of cmd.c's table. Exit status: 0 written, 2 usage, I/O error or
 * a log that does not parse, replay or carry the bank.
 */
int	cmd_policy_from_eventlog(struct cmd_args *a);

/*
 * The policy text (YAML, with review comments) for the log in [p, p+n):
 * name:, bank: and a measured_boot: section allowing exactly what the log
 * measured (secure_boot required if it was on and verified; the PK, KEK
 * and db entries; dbx_contains = every dbx entry; boot_apps and drivers;
 * the verified kernel command lines as exact lines; require_events:
 * EV_SEPARATOR; forbid_actions: "UEFI Debug Mode" unless the log has it).
 * source names the log in a comment (may be NULL). *out is malloc'ed.
 */
int	policy_from_eventlog(const uint8_t *p, size_t n, const char *name,
	    uint16_t bank, const char *source, char **out);

#endif
