/*
 * ima_cmd.h — `assayctl ima replay`: parse an IMA measurement list
 * (binary or ASCII) offline, check its template hashes and print the
 * PCR 10 value it replays to in each bank, as JSON.
 */
#ifndef ASSAY_IMA_CMD_H
#define ASSAY_IMA_CMD_H

struct cmd_args;

/* A row of cmd.c's table. Exit: 0 ok, 1 list refused, 2 usage/IO. */
int	cmd_ima_replay(struct cmd_args *a);

#endif
