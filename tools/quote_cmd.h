/*
 * quote_cmd.h — `assayctl quote verify`: verify a tpm2_quote output
 * (message, signature, serialized PCRs) offline with the verifier's own
 * quote checks.
 */
#ifndef ASSAY_QUOTE_CMD_H
#define ASSAY_QUOTE_CMD_H

struct cmd_args;

/* A row of cmd.c's table. Exit: 0 valid, 1 a check failed, 2 usage/IO. */
int	cmd_quote_verify(struct cmd_args *a);

#endif
