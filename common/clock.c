/*
 * clock.c — wall and monotonic time (clock.h).
 */
#include <time.h>

#include "common/clock.h"

int64_t
clock_unix(void)
{
	return (int64_t)time(NULL);
}

double
clock_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
