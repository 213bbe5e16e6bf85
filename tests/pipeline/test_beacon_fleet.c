/*
 * test_beacon_fleet.c - which store-beacon messages are alerts: a status
 * change (first heard, low battery, missing, back ok) goes to the change
 * callback, which the daemon queues durably; the periodic readings in
 * between go to the plain one, which may be lost while the broker is down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "beacon_fleet.h"
#include "pipeline_config.h"

#define T0 1700000000ull
#define S(x) ((uint64_t)(x) * 1000000ull)

struct sink {
	int n;
	char last[2048];
};

static struct sink readings, changes;

static void on_reading(void *ctx, const char *json)
{
	(void)ctx;
	readings.n++;
	snprintf(readings.last, sizeof(readings.last), "%s", json);
}

static void on_change(void *ctx, const char *json)
{
	(void)ctx;
	changes.n++;
	snprintf(changes.last, sizeof(changes.last), "%s", json);
}

static const uint8_t ADDR[6] = { 1, 0x10, 0, 0xee, 0xff, 0xc0 };

static struct beacon_fleet *till_fleet(beacon_health_emit_fn change)
{
	struct pipeline_config cfg;
	struct store_beacon b = { .name = "till", .type = STORE_BEACON_TLM,
				  .value = "C0:FF:EE:00:10:01", .place = "till 2" };
	struct beacon_fleet *f;

	pipeline_config_defaults(&cfg);
	cfg.beacon_missing_after_s = 60;
	cfg.beacon_health_interval_s = 30;
	cfg.beacon_low_battery_mv = 2500;
	memcpy(b.id, ADDR, 6);
	memset(&readings, 0, sizeof(readings));
	memset(&changes, 0, sizeof(changes));
	f = beacon_fleet_new(&cfg, on_reading, change, NULL);
	assert_non_null(f);
	assert_int_equal(beacon_fleet_set(f, &b, 1), 0);
	return f;
}

static void tlm(struct beacon_fleet *f, uint16_t mv, uint64_t ts_us)
{
	struct bf_eddystone_tlm t = { .battery_mv = mv, .temp_8_8 = 22 * 256 };

	assert_true(beacon_fleet_tlm(f, &t, ADDR, 0, ts_us));
}

static void changes_are_alerts(void **state)
{
	struct beacon_fleet *f = till_fleet(on_change);

	(void)state;
	tlm(f, 3000, S(T0));                          /* first heard: ok */
	assert_int_equal(changes.n, 1);
	assert_non_null(strstr(changes.last, "\"status\":\"ok\""));
	for (int s = 1; s < 30; s++)                  /* same status, within the interval */
		tlm(f, 3000, S(T0 + s));
	assert_int_equal(changes.n, 1);
	assert_int_equal(readings.n, 0);
	tlm(f, 3000, S(T0 + 31));                     /* a reading is due */
	assert_int_equal(readings.n, 1);
	assert_int_equal(changes.n, 1);
	tlm(f, 2300, S(T0 + 32));                     /* battery low: an alert at once */
	assert_int_equal(changes.n, 2);
	assert_non_null(strstr(changes.last, "\"status\":\"low_battery\""));
	beacon_fleet_tick(f, S(T0 + 32 + 61));        /* not heard for 60 s: missing */
	assert_int_equal(changes.n, 3);
	assert_non_null(strstr(changes.last, "\"status\":\"missing\""));
	beacon_fleet_tick(f, S(T0 + 200));            /* still missing: nothing new */
	assert_int_equal(changes.n, 3);
	tlm(f, 3100, S(T0 + 201));                    /* new battery, heard again: ok */
	assert_int_equal(changes.n, 4);
	assert_non_null(strstr(changes.last, "\"status\":\"ok\""));
	assert_int_equal(readings.n, 1);
	beacon_fleet_free(f);
}

/* Without a change callback (a caller that does not tell them apart),
 * every message goes to the one it gave. */
static void one_callback_gets_everything(void **state)
{
	struct beacon_fleet *f = till_fleet(NULL);

	(void)state;
	tlm(f, 3000, S(T0));
	tlm(f, 2300, S(T0 + 1));
	tlm(f, 2300, S(T0 + 40));
	assert_int_equal(changes.n, 0);
	assert_int_equal(readings.n, 3);
	beacon_fleet_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(changes_are_alerts),
		cmocka_unit_test(one_callback_gets_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
