/* test_presence.c - enter confirmation, dwell marks, exits, bounded table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "presence.h"

#define S(x) ((uint64_t)(x) * 1000000ull)
#define T0 1700000000ull

struct ev {
	enum visit_event_kind kind;
	int64_t customer;
	uint64_t ts;
	uint32_t dwell;
	int mark;
};

struct log {
	struct ev e[256];
	int n;
};

static void record(void *ctx, const struct presence_device *d, enum visit_event_kind kind,
		   uint64_t ts_us, uint32_t dwell_s, int mark)
{
	struct log *l = ctx;

	if (l->n < 256)
		l->e[l->n++] = (struct ev){ kind, d->customer_id, ts_us, dwell_s, mark };
}

static int count(const struct log *l, enum visit_event_kind k)
{
	int c = 0;

	for (int i = 0; i < l->n; i++)
		c += l->e[i].kind == k;
	return c;
}

/* Deterministic noise: a small LCG, ±range dB, with occasional deep fades. */
static uint32_t rng = 12345;
static int noise(int range)
{
	rng = rng * 1103515245u + 12345u;
	int v = (int)((rng >> 16) % (uint32_t)(2 * range + 1)) - range;
	if (((rng >> 8) & 15) == 0)
		v -= 15; /* fade */
	return v;
}

static struct pipeline_config cfg(void)
{
	struct pipeline_config c;

	pipeline_config_defaults(&c);
	c.enter_rssi = -70;
	c.enter_confirmations = 3;
	c.enter_window_s = 10;
	c.exit_rssi = -80;
	c.exit_below_s = 10;
	c.absence_timeout_s = 30;
	return c;
}

static void test_noise_does_not_enter(void **state)
{
	struct pipeline_config c = cfg();
	struct log l = { 0 };
	struct presence *t = presence_new(&c, record, &l);

	(void)state;
	/* Passers-by at -85 dBm with noise: an odd spike above -70 is not N in 10 s. */
	for (int s = 0; s < 120; s++)
		presence_sighting(t, 7, 0, (int8_t)(-85 + noise(4)), -59.0f, S(T0 + s));
	/* Two strong sightings far apart never confirm either. */
	presence_sighting(t, 7, 0, -60, -59.0f, S(T0 + 200));
	presence_sighting(t, 7, 0, -60, -59.0f, S(T0 + 215));
	presence_sighting(t, 7, 0, -60, -59.0f, S(T0 + 230));
	assert_int_equal(count(&l, VISIT_ENTER), 0);
	presence_free(t);
}

static void test_enter_dwell_exit_by_absence(void **state)
{
	struct pipeline_config c = cfg();
	struct log l = { 0 };
	struct presence *t = presence_new(&c, record, &l);
	uint64_t s;

	(void)state;
	/* Walks up to the shelf: -60 ± 5 dB with fades, one report a second, 16 min. */
	for (s = 0; s < 960; s++) {
		presence_sighting(t, 42, 3, (int8_t)(-60 + noise(5)), -59.0f, S(T0 + s));
		presence_tick(t, S(T0 + s) + 500000);
	}
	assert_int_equal(count(&l, VISIT_ENTER), 1);
	assert_int_equal(l.e[0].kind, VISIT_ENTER);
	assert_int_equal(l.e[0].customer, 42);
	assert_true(l.e[0].ts <= S(T0 + 10));
	/* Marks 60, 300 and 900 s, once each and in order. */
	assert_int_equal(count(&l, VISIT_DWELL), 3);
	assert_int_equal(l.e[1].mark, 0);
	assert_int_equal(l.e[1].dwell, 60);
	assert_int_equal(l.e[2].mark, 1);
	assert_int_equal(l.e[3].mark, 2);
	assert_int_equal(count(&l, VISIT_EXIT), 0);
	/* Leaves: silence. Exit once the absence timeout passes. */
	for (s = 960; s < 960 + 29; s++)
		presence_tick(t, S(T0 + s));
	assert_int_equal(count(&l, VISIT_EXIT), 0);
	presence_tick(t, S(T0 + 959 + 30));
	assert_int_equal(count(&l, VISIT_EXIT), 1);
	assert_in_range(l.e[l.n - 1].dwell, 955, 960);
	assert_int_equal(presence_count(t), 0);
	presence_free(t);
}

static void test_exit_by_hysteresis(void **state)
{
	struct pipeline_config c = cfg();
	struct log l = { 0 };
	struct presence *t = presence_new(&c, record, &l);
	uint64_t s;

	(void)state;
	for (s = 0; s < 20; s++)
		presence_sighting(t, 1, 0, -62, -59.0f, S(T0 + s));
	assert_int_equal(count(&l, VISIT_ENTER), 1);
	/* Between the thresholds (-75): stays in. */
	for (; s < 80; s++)
		presence_sighting(t, 1, 0, (int8_t)(-75 + noise(2)), -59.0f, S(T0 + s));
	assert_int_equal(count(&l, VISIT_EXIT), 0);
	/* Far away but still heard (-90): the filter falls below -80, 10 s later: exit. */
	for (; s < 140; s++)
		presence_sighting(t, 1, 0, -90, -59.0f, S(T0 + s));
	assert_int_equal(count(&l, VISIT_EXIT), 1);
	assert_int_equal(presence_count(t), 1); /* still heard: kept, but out of the visit */
	/* Coming back needs a new confirmation: the median of the enter window
	 * must rise, so one strong reading is not enough, but the window
	 * (10 s) is enough. */
	presence_sighting(t, 1, 0, -60, -59.0f, S(T0 + s++));
	assert_int_equal(count(&l, VISIT_ENTER), 1);
	for (uint64_t back = s; s < back + 10 && count(&l, VISIT_ENTER) < 2; s++)
		presence_sighting(t, 1, 0, -60, -59.0f, S(T0 + s));
	assert_int_equal(count(&l, VISIT_ENTER), 2);
	presence_flush(t, S(T0 + s));
	assert_int_equal(count(&l, VISIT_EXIT), 2);
	assert_int_equal(presence_count(t), 0);
	presence_free(t);
}

static void test_bounded_with_eviction(void **state)
{
	struct pipeline_config c = cfg();
	struct log l = { 0 };
	struct presence *t;

	(void)state;
	c.max_tracked = 8;
	t = presence_new(&c, record, &l);
	/* Customer 1 enters, then 20 others appear; 1 is the stalest and goes first. */
	for (int i = 0; i < 3; i++)
		presence_sighting(t, 1, 0, -60, -59.0f, S(T0 + i));
	for (int id = 2; id < 22; id++)
		presence_sighting(t, id, 0, -90, -59.0f, S(T0 + 10 + (uint64_t)id));
	assert_int_equal(presence_count(t), 8);
	assert_int_equal(presence_evicted(t), 13);
	assert_null(presence_find(t, 1));
	assert_non_null(presence_find(t, 21));
	/* The evicted visit was closed, not leaked. */
	assert_int_equal(count(&l, VISIT_EXIT), 1);
	/* Forget frees the slot; lookups of the rest still work (deletion keeps probes intact). */
	presence_forget(t, 17);
	assert_null(presence_find(t, 17));
	for (int id = 14; id < 22; id++)
		if (id != 17)
			assert_non_null(presence_find(t, id));
	presence_free(t);
}

static void test_distance_model(void **state)
{
	(void)state;
	assert_float_equal(presence_distance_m(-59.0f, -59.0f, 2.0f), 1.0f, 1e-4);
	assert_float_equal(presence_distance_m(-79.0f, -59.0f, 2.0f), 10.0f, 1e-3);
	assert_float_equal(presence_distance_m(-69.0f, -59.0f, 2.0f), 3.1623f, 1e-3);
}

/* Shadowing as the simulator draws it: Gaussian in dB (Box-Muller over the LCG). */
static int gauss_db(double mean, double sigma)
{
	double u1, u2, r;

	rng = rng * 1103515245u + 12345u;
	u1 = ((rng >> 8) + 1.0) / 16777217.0;
	rng = rng * 1103515245u + 12345u;
	u2 = (rng >> 8) / 16777216.0;
	r = mean + sigma * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
	return (int)lround(r < -127 ? -127 : r > 20 ? 20 : r);
}

/* A tag held still at 25 m (mean -87 dBm, below the -85 dBm exit level)
 * after a visit: it leaves, with or without fading (0, 6 and 10 dB). */
static void test_held_below_exit_level_exits(void **state)
{
	static const double sigmas[] = { 0, 6, 10 };

	(void)state;
	for (unsigned k = 0; k < 3; k++) {
		struct pipeline_config c;
		struct log l = { 0 };
		struct presence *t;
		uint64_t s, left;

		pipeline_config_defaults(&c);
		t = presence_new(&c, record, &l);
		for (s = 0; s < 60; s++)
			presence_sighting(t, 9, 0, (int8_t)gauss_db(-62, sigmas[k]), -59.0f,
					  S(T0 + s));
		assert_int_equal(count(&l, VISIT_ENTER), 1);
		left = s;
		for (; s < left + 600 && !count(&l, VISIT_EXIT); s++) {
			presence_sighting(t, 9, 0, (int8_t)gauss_db(-87, sigmas[k]), -59.0f,
					  S(T0 + s));
			presence_tick(t, S(T0 + s) + 500000);
		}
		assert_int_equal(count(&l, VISIT_EXIT), 1);
		/* Within a minute of leaving (exit_below_s is 15 s). */
		assert_true(s - left <= 60);
		presence_free(t);
	}
}

/* A tag at 50 m (mean -93 dBm) with 10 dB of fading, heard once a second
 * for 20 minutes: noise alone never makes a visit. */
static void test_far_noisy_tag_never_enters(void **state)
{
	struct pipeline_config c;
	struct log l = { 0 };
	struct presence *t;

	(void)state;
	pipeline_config_defaults(&c);
	t = presence_new(&c, record, &l);
	for (uint64_t s = 0; s < 1200; s++) {
		presence_sighting(t, 5, 0, (int8_t)gauss_db(-93, 10), -59.0f, S(T0 + s));
		presence_tick(t, S(T0 + s) + 500000);
	}
	assert_int_equal(count(&l, VISIT_ENTER), 0);
	presence_free(t);
}

/* The ring keeps a tag advertising 10 times a second in as much memory as
 * one advertising once a second, and the record stays small. */
static void test_device_record_is_small(void **state)
{
	(void)state;
	assert_true(sizeof(struct presence_device) <= 216);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_noise_does_not_enter),
		cmocka_unit_test(test_enter_dwell_exit_by_absence),
		cmocka_unit_test(test_exit_by_hysteresis),
		cmocka_unit_test(test_bounded_with_eviction),
		cmocka_unit_test(test_distance_model),
		cmocka_unit_test(test_held_below_exit_level_exits),
		cmocka_unit_test(test_far_noisy_tag_never_enters),
		cmocka_unit_test(test_device_record_is_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
