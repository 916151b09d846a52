/*
 * evidence_cmd.h — `assayctl evidence verify`: the verifier's check
 * pipeline run offline on a captured evidence document.
 */
#ifndef ASSAY_EVIDENCE_CMD_H
#define ASSAY_EVIDENCE_CMD_H

struct cmd_args;

/* A row of cmd.c's table. Exit: 0 ok, 1 failed, 2 usage/IO, 3 inconclusive. */
int	cmd_evidence_verify(struct cmd_args *a);

#endif
