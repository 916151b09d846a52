/*
 * clock.h — the two clocks the daemons read: wall time in Unix seconds
 * (what records and events carry) and a monotonic clock in seconds (for
 * durations and rates, immune to clock steps).
 */
#ifndef ASSAY_CLOCK_H
#define ASSAY_CLOCK_H

#include <stdint.h>

int64_t	clock_unix(void);
double	clock_mono(void);
/*
 * A delay of at least a second, from now, moved to the nearest multiple
 * of quantum of that clock: delays ending within one quantum end
 * together (timers coalesced). Shorter delays, and a quantum <= 0, are
 * given back as they are. Never negative.
 */
double	clock_coalesce(double now, double delay, double quantum);

#endif
