/*
 * test_clock.c — clock_coalesce (common/clock.c): routine delays land on
 * the quantum's grid, at most half a quantum early or late; short delays
 * and a zero quantum pass through; nothing comes back negative.
 */
#include <math.h>
#include <stdlib.h>

#include <check.h>

#include "common/clock.h"

#define Q	0.02
#define EPS	1e-6

/* now + result is on the grid and within half a quantum of now + delay. */
static void
on_grid(double now, double delay)
{
	double out = clock_coalesce(now, delay, Q), due = now + out;
	double k = due / Q;

	ck_assert_msg(fabs(k - floor(k + 0.5)) < 1e-4, "%.6f + %.6f off the grid",
	    now, out);
	ck_assert_msg(fabs(out - delay) <= Q / 2 + EPS, "%.6f moved by %.6f",
	    delay, out - delay);
}

START_TEST(routine_delays_land_on_the_grid)
{
	double now = 1796616672.040138;

	for (int i = 0; i < 1000; i++)
		on_grid(now + i * 0.000731, 10.0);
	on_grid(12.345, 1.0);
	on_grid(0.0, 3600.0);
}
END_TEST

START_TEST(delays_due_together_fire_together)
{
	/* Two rounds ending 3 ms apart (same quantum): the same due time. */
	double a = 1000.001 + clock_coalesce(1000.001, 10.0, Q);
	double b = 1000.004 + clock_coalesce(1000.004, 10.0, Q);

	ck_assert(fabs(a - b) < EPS);
}
END_TEST

START_TEST(short_delays_and_no_quantum_pass_through)
{
	ck_assert(clock_coalesce(5.123, 0.0, Q) == 0.0);
	ck_assert(clock_coalesce(5.123, 0.25, Q) == 0.25);
	ck_assert(clock_coalesce(5.123, 0.999, Q) == 0.999);
	ck_assert(clock_coalesce(5.123, 10.0, 0) == 10.0);
}
END_TEST

START_TEST(never_negative)
{
	/* A quantum larger than the delay cannot make it negative. */
	for (double now = 0; now < 10; now += 0.37)
		ck_assert(clock_coalesce(now, 1.0, 5.0) >= 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, routine_delays_land_on_the_grid);
	tcase_add_test(tc, delays_due_together_fire_together);
	tcase_add_test(tc, short_delays_and_no_quantum_pass_through);
	tcase_add_test(tc, never_negative);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int nfail;

	srunner_run_all(sr, CK_NORMAL);
	nfail = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
