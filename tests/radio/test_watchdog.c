/*
 * test_watchdog.c - the scanner watchdog's escalation ladder with a fake
 * clock: silence, errors in a row, a failed setup, a hardware error, and
 * reports putting the ladder back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "log.h"
#include "watchdog.h"

static const struct watchdog_settings defaults = {
	.silence_s = 60, .rescan_tries = 2, .reset_tries = 1, .error_limit = 3,
};

static void quiet_log(void)
{
	static FILE *null;

	log_init(false);
	if (!null)
		null = fopen("/dev/null", "w");
	log_set_stream(null);
}

static void test_silence_ladder(void **state)
{
	struct watchdog w;
	uint64_t t = 1000000;

	(void)state;
	quiet_log();
	watchdog_init(&w, &defaults);
	/* Not armed: silence is not a fault (the source is down or stopping). */
	assert_int_equal(watchdog_tick(&w, t + 3600000), WD_NONE);
	watchdog_arm(&w, true, t);
	assert_int_equal(watchdog_tick(&w, t + 59999), WD_NONE);
	assert_int_equal(watchdog_tick(&w, t + 60000), WD_RESCAN);
	/* The quiet period restarts after each step. */
	assert_int_equal(watchdog_tick(&w, t + 60001), WD_NONE);
	assert_int_equal(watchdog_tick(&w, t + 120000), WD_RESCAN);
	assert_int_equal(watchdog_tick(&w, t + 180000), WD_RESET);
	assert_int_equal(watchdog_tick(&w, t + 240000), WD_EXIT);
	assert_int_equal(w.stats.silences, 4);
	assert_int_equal(w.stats.rescans, 2);
	assert_int_equal(w.stats.resets, 1);
	assert_int_equal(w.stats.exits, 1);
}

static void test_report_resets_ladder(void **state)
{
	struct watchdog w;
	uint64_t t = 0;

	(void)state;
	quiet_log();
	watchdog_init(&w, &defaults);
	watchdog_arm(&w, true, t);
	assert_int_equal(watchdog_tick(&w, t += 60000), WD_RESCAN);
	assert_int_equal(watchdog_tick(&w, t += 60000), WD_RESCAN);
	watchdog_report(&w, t += 1000);
	/* Healthy again: the next silence starts at step 1. */
	assert_int_equal(watchdog_tick(&w, t + 59000), WD_NONE);
	assert_int_equal(watchdog_tick(&w, t += 60000), WD_RESCAN);
}

static void test_errors(void **state)
{
	struct watchdog w;
	uint64_t t = 5;

	(void)state;
	quiet_log();
	watchdog_init(&w, &defaults);
	watchdog_arm(&w, true, t);
	assert_int_equal(watchdog_error(&w, WD_ERR_MINOR, t), WD_NONE);
	assert_int_equal(watchdog_error(&w, WD_ERR_MINOR, t), WD_NONE);
	assert_int_equal(watchdog_error(&w, WD_ERR_MINOR, t), WD_RESCAN);
	/* A report clears the count of errors in a row. */
	watchdog_report(&w, t);
	assert_int_equal(watchdog_error(&w, WD_ERR_MINOR, t), WD_NONE);
	assert_int_equal(watchdog_error(&w, WD_ERR_MINOR, t), WD_NONE);
	watchdog_report(&w, t);
	assert_int_equal(watchdog_error(&w, WD_ERR_MINOR, t), WD_NONE);
	/* A failed setup takes a step at once. */
	assert_int_equal(watchdog_error(&w, WD_ERR_FAILED, t), WD_RESCAN);
	assert_int_equal(w.stats.errors, 7);
	assert_int_equal(w.stats.error_steps, 2);
}

static void test_hardware_error_goes_to_reset(void **state)
{
	struct watchdog w;

	(void)state;
	quiet_log();
	watchdog_init(&w, &defaults);
	watchdog_arm(&w, true, 0);
	assert_int_equal(watchdog_error(&w, WD_ERR_HARDWARE, 10), WD_RESET);
	assert_int_equal(watchdog_error(&w, WD_ERR_HARDWARE, 20), WD_EXIT);
}

static void test_silence_disabled(void **state)
{
	struct watchdog_settings s = defaults;
	struct watchdog w;

	(void)state;
	quiet_log();
	s.silence_s = 0;
	s.rescan_tries = 0;
	s.reset_tries = 0;
	watchdog_init(&w, &s);
	watchdog_arm(&w, true, 0);
	assert_int_equal(watchdog_tick(&w, UINT64_C(1) << 40), WD_NONE);
	/* No rescans or resets allowed: the first step is the exit. */
	assert_int_equal(watchdog_error(&w, WD_ERR_FAILED, 1), WD_EXIT);
}

static void test_rearm_restarts_quiet_period(void **state)
{
	struct watchdog w;

	(void)state;
	quiet_log();
	watchdog_init(&w, &defaults);
	watchdog_arm(&w, true, 0);
	watchdog_arm(&w, false, 30000);
	watchdog_arm(&w, true, 100000);   /* link came back */
	assert_int_equal(watchdog_tick(&w, 150000), WD_NONE);
	assert_int_equal(watchdog_tick(&w, 160000), WD_RESCAN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silence_ladder),
		cmocka_unit_test(test_report_resets_ladder),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_hardware_error_goes_to_reset),
		cmocka_unit_test(test_silence_disabled),
		cmocka_unit_test(test_rearm_restarts_quiet_period),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
