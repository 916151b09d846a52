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

#endif
