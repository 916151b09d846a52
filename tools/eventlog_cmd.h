/*
 * eventlog_cmd.h — `assayctl eventlog show FILE [--json]` (decoded
 * events) and `assayctl eventlog replay FILE [--json]` (PCR values of
 * every bank the log carries) for TCG firmware event logs, offline.
 */
#ifndef ASSAY_EVENTLOG_CMD_H
#define ASSAY_EVENTLOG_CMD_H

/* argv[0] is "show" or "replay". Exit: 0 ok, 1 log refused, 2 usage/IO. */
int	cmd_eventlog(int argc, char **argv);

#endif
