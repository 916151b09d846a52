/*
 * eventlog_cmd.h — `assayctl eventlog show FILE [--json]` (decoded
 * events) and `assayctl eventlog replay FILE [--json]` (PCR values of
 * every bank the log carries) for TCG firmware event logs, offline.
 */
#ifndef ASSAY_EVENTLOG_CMD_H
#define ASSAY_EVENTLOG_CMD_H

struct cmd_args;

/* Rows of cmd.c's table. Exit: 0 ok, 1 log refused, 2 usage/IO. */
int	cmd_eventlog_show(struct cmd_args *a);
int	cmd_eventlog_replay(struct cmd_args *a);

#endif
