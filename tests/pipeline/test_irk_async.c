/*
 * test_irk_async.c - IRK searches on worker threads change nothing a user
 * sees: a crowd of RPA phones walking in and out, replayed once with the
 * searches inline and once with three workers (and a snapshot swap while
 * searches are in flight), gives every customer the same visits, in the
 * same order, at the same times; no report is lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgw_util.h"
#include "irk.h"
#include "pipeline.h"
#include "pipeline_config.h"
#include "pl_aes.h"
#include "snap_builder.h"

#define T0 1773133200ull
#define US 1000000ull
#define PHONES 100
#define OTHERS 3900  /* enrolled IRKs nobody here carries: searches take a while */
#define SECONDS 150
#define EVENTS_MAX 4096

struct event {
	char ref[24];
	int kind;
	uint64_t ts_us, started_us;
	uint32_t dwell_s;
	float rssi;
	uint32_t seq; /* arrival order, to keep each customer's order in the sort */
};

struct run {
	struct event ev[EVENTS_MAX];
	uint32_t n;
};

static void on_visit(void *ctx, const struct visit_event *e)
{
	struct run *run = ctx;
	struct event *x;

	if (run->n >= EVENTS_MAX)
		fail_msg("too many events");
	x = &run->ev[run->n];
	snprintf(x->ref, sizeof(x->ref), "%s", e->customer_ref);
	x->kind = e->kind;
	x->ts_us = e->ts_us;
	x->started_us = e->visit_started_us;
	x->dwell_s = e->dwell_s;
	x->rssi = e->rssi_filtered;
	x->seq = run->n++;
}

static int by_customer_then_order(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	int c = strcmp(x->ref, y->ref);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void key_of(uint32_t i, uint8_t k[16])
{
	memset(k, 0x3c, 16);
	bgw_put_be32(k, i);
}

static struct snapshot *crowd_snapshot(void)
{
	struct snap_builder *b = sb_new();
	struct snapshot *s;
	uint8_t k[16];

	for (uint32_t i = 0; i < PHONES + OTHERS; i++) {
		char ref[24];
		uint32_t c;

		snprintf(ref, sizeof(ref), "phone-%04u", i);
		c = sb_customer(b, i + 1, ref);
		sb_consent(b, c, SNAP_PRESENCE, 1, 0, 0, 0, "p");
		key_of(i, k);
		sb_irk(b, c, k);
	}
	s = sb_build(b, 1);
	sb_free(b);
	return s;
}

static void make_rpa(struct pl_aes *a, uint32_t phone, uint32_t epoch, uint8_t addr[6])
{
	uint8_t k[16];
	uint32_t prand = ((phone * 7919u + epoch * 104729u) & 0x3fffff) | 0x400000, hash;

	key_of(phone, k);
	hash = irk_ah(a, k, prand);
	addr[0] = (uint8_t)hash, addr[1] = (uint8_t)(hash >> 8), addr[2] = (uint8_t)(hash >> 16);
	addr[3] = (uint8_t)prand, addr[4] = (uint8_t)(prand >> 8), addr[5] = (uint8_t)(prand >> 16);
}

/* Phone i is near from second 10 + i % 40 for a minute, far otherwise; it
 * changes its address every 20 s (all at once: more new addresses than
 * search slots) and advertises four times a second. */
static struct pipeline_stats play(struct run *run, uint32_t threads)
{
	struct pipeline_config cfg;
	struct pipeline_callbacks cb = { .ctx = run, .visit = on_visit };
	struct pl_aes *aes = pl_aes_new();
	struct pipeline *p;
	struct pipeline_stats st;
	uint8_t data[3] = { 2, 0x01, 0x06 };

	pipeline_config_defaults(&cfg);
	cfg.enter_confirmations = 1;
	cfg.irk_threads = threads;
	p = pipeline_new(&cfg, &cb);
	assert_non_null(p);
	assert_non_null(aes);
	pipeline_set_snapshot(p, crowd_snapshot());
	for (uint32_t t = 0; t < SECONDS; t++) {
		for (uint32_t q = 0; q < 4; q++)
			for (uint32_t i = 0; i < PHONES; i++) {
				struct adv_report r = { .addr_type = ADV_ADDR_RANDOM,
							.kind = ADV_KIND_IND,
							.tx_power = ADV_TX_POWER_UNAVAILABLE,
							.sid = 0xff,
							.data = data,
							.data_len = sizeof(data) };
				uint32_t in = 10 + i % 40;

				r.ts_us = (T0 + t) * US + q * 250000u + i * 100u;
				r.rssi = (int8_t)(t >= in && t < in + 60 ? -60 - (int)(q + i) % 5 : -97);
				make_rpa(aes, i, t / 20, r.addr);
				pipeline_report(p, &r);
			}
		if (t == 75) /* a consent change arrives with searches in flight */
			pipeline_set_snapshot(p, crowd_snapshot());
		pipeline_tick(p, (T0 + t + 1) * US);
	}
	pipeline_flush(p, (T0 + SECONDS) * US);
	st = *pipeline_get_stats(p);
	pipeline_free(p);
	pl_aes_free(aes);
	qsort(run->ev, run->n, sizeof(run->ev[0]), by_customer_then_order);
	return st;
}

static void test_threads_change_nothing(void **state)
{
	static struct run inline_run, async_run;
	struct pipeline_stats a, b;

	(void)state;
	a = play(&inline_run, 0);
	b = play(&async_run, 3);
	assert_int_equal(a.reports, (uint64_t)SECONDS * 4 * PHONES);
	assert_int_equal(b.reports, a.reports); /* nothing lost */
	assert_int_equal(b.consented, a.consented);
	assert_int_equal(b.visits_entered, a.visits_entered);
	assert_int_equal(b.visits_exited, a.visits_exited);
	assert_true(a.visits_entered >= PHONES);
	assert_int_equal(a.irk_parked, 0);
	assert_true(b.irk_async_searches > 0);
	assert_true(b.irk_parked > b.irk_async_searches); /* later reports waited too */
	assert_int_equal(async_run.n, inline_run.n);
	for (uint32_t i = 0; i < inline_run.n; i++) {
		const struct event *x = &inline_run.ev[i], *y = &async_run.ev[i];

		assert_string_equal(y->ref, x->ref);
		assert_int_equal(y->kind, x->kind);
		assert_int_equal(y->ts_us, x->ts_us);
		assert_int_equal(y->started_us, x->started_us);
		assert_int_equal(y->dwell_s, x->dwell_s);
		assert_true(y->rssi == x->rssi);
	}
}

/* Bad thread counts are refused by the configuration check. */
static void test_thread_count_bounds(void **state)
{
	struct pipeline_config cfg;

	(void)state;
	pipeline_config_defaults(&cfg);
	assert_null(pipeline_config_check(&cfg));
	cfg.irk_threads = 16;
	assert_null(pipeline_config_check(&cfg));
	cfg.irk_threads = 17;
	assert_non_null(pipeline_config_check(&cfg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_change_nothing),
		cmocka_unit_test(test_thread_count_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
