/*
 * clock.c — wall and monotonic time (clock.h).
 */
#include <math.h>
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

double
clock_coalesce(double now, double delay, double quantum)
{
	double due;

	if (delay < 1.0 || quantum <= 0)
		return delay;
	due = floor((now + delay) / quantum + 0.5) * quantum;
	return due > now ? due - now : 0;
}
