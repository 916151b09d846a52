/*
 * ima_cmd.h — `assayctl ima replay`: parse an IMA measurement list
 * (binary or ASCII) offline, check its template hashes and print the
 * PCR 10 value it replays to in each bank, as JSON.
 */
#ifndef ASSAY_IMA_CMD_H
#define ASSAY_IMA_CMD_H

/* argv[0] is "replay". Exit status: 0 ok, 1 list refused, 2 usage/IO. */
int	cmd_ima(int argc, char **argv);

#endif
