/* test_campaign.c - consent gate at event time, and campaign rules:
 * zone, event, segment, dwell, validity, opening hours, cooldown, daily cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "campaign.h"
#include "consent_gate.h"
#include "snap_builder.h"

/* 2026-03-10 10:00:00 in Europe/Berlin (CET, UTC+1) = 09:00:00Z */
#define MORNING 1773133200LL

static int fired[64];
static uint32_t fired_channels[64];

static void on_fire(void *ctx, uint32_t campaign, uint32_t channels)
{
	(void)ctx;
	fired[campaign]++;
	fired_channels[campaign] = channels;
}

static void reset(void)
{
	memset(fired, 0, sizeof(fired));
	memset(fired_channels, 0, sizeof(fired_channels));
}

static void test_consent_at_event_time(void **state)
{
	struct snap_builder *b = sb_new();
	struct snapshot *s;
	uint32_t c;
	struct snap_campaign cam = { .channels = 0 };

	(void)state;
	c = sb_customer(b, 1, "r1");
	/* Presence granted at T, expires at T+100; retargeting withdrawn at T+50. */
	sb_consent(b, c, SNAP_PRESENCE, MORNING, MORNING + 100, 0, 0, "v1");
	sb_consent(b, c, SNAP_RETARGETING, MORNING, 0, MORNING + 50, 0x3, "v2");
	s = sb_build(b, 1);
	assert_false(consent_gate_presence(&s->customers[0], MORNING - 1));
	assert_true(consent_gate_presence(&s->customers[0], MORNING));
	assert_true(consent_gate_presence(&s->customers[0], MORNING + 99));
	assert_false(consent_gate_presence(&s->customers[0], MORNING + 100));
	assert_int_equal(consent_gate_trigger_channels(&s->customers[0], &cam, MORNING + 49), 0x3);
	assert_int_equal(consent_gate_trigger_channels(&s->customers[0], &cam, MORNING + 50), 0);
	/* Channels: the campaign's (any of) intersected with the consent's. */
	cam.channels = 0x6;
	assert_int_equal(consent_gate_trigger_channels(&s->customers[0], &cam, MORNING + 1), 0x2);
	cam.channels = 0x4;
	assert_int_equal(consent_gate_trigger_channels(&s->customers[0], &cam, MORNING + 1), 0);
	snapshot_free(s);
	sb_free(b);
}

/* Customer 0 (segment "vip", both consents, channels push+email), customer 1 (no segment). */
static struct snap_builder *base(void)
{
	struct snap_builder *b = sb_new();
	uint32_t vip, c0, c1;

	sb_channel(b, "push");
	sb_channel(b, "email");
	vip = sb_segment(b, "vip");
	c0 = sb_customer(b, 100, "alice");
	c1 = sb_customer(b, 200, "bob");
	sb_customer_segment(b, c0, vip);
	for (uint32_t c = c0; c <= c1; c++) {
		sb_consent(b, c, SNAP_PRESENCE, 1, 0, 0, 0, "p1");
		sb_consent(b, c, SNAP_RETARGETING, 1, 0, 0, 0x3, "r1");
	}
	return b;
}

static struct campaign_event ev(uint32_t cust, enum visit_event_kind k, uint32_t dwell, int mark,
				int64_t now)
{
	return (struct campaign_event){ .customer = cust, .zone = "entrance", .kind = k,
					.dwell_s = dwell, .mark = mark, .now_s = now };
}

static void test_matching(void **state)
{
	struct snap_builder *b = base();
	struct pipeline_config cfg;
	struct campaign_rules *r;
	struct snapshot *s;
	struct campaign_event e;

	(void)state;
	pipeline_config_defaults(&cfg); /* dwell marks 60, 300, 900 */
	sb_campaign(b, 1, "welcome", "entrance", SNAP_EVENT_ENTER);                 /* 0 */
	sb_campaign(b, 2, "vip-welcome", "entrance", SNAP_EVENT_ENTER)->segment = 0; /* 1 */
	sb_campaign(b, 3, "other-zone", "checkout", SNAP_EVENT_ENTER);              /* 2 */
	sb_campaign(b, 4, "lingered", "entrance", SNAP_EVENT_DWELL)->min_dwell_s = 300; /* 3 */
	sb_campaign(b, 5, "long-visit", "entrance", SNAP_EVENT_EXIT)->min_dwell_s = 600; /* 4 */
	sb_campaign(b, 6, "email-only", "entrance", SNAP_EVENT_ENTER)->channels = 0x2; /* 5 */
	s = sb_build(b, 1);
	r = campaign_rules_new(&cfg);

	reset();
	e = ev(0, VISIT_ENTER, 0, -1, MORNING);
	assert_int_equal(campaign_rules_match(r, s, &e, on_fire, NULL), 3);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 1);
	assert_int_equal(fired[2], 0);
	assert_int_equal(fired[5], 1);
	assert_int_equal(fired_channels[0], 0x3);
	assert_int_equal(fired_channels[5], 0x2);
	reset();
	e = ev(1, VISIT_ENTER, 0, -1, MORNING);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[1], 0); /* bob is not vip */

	/* Dwell campaign: once per visit, at the first mark reaching 300 s. */
	reset();
	e = ev(0, VISIT_DWELL, 60, 0, MORNING + 60);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	e = ev(0, VISIT_DWELL, 300, 1, MORNING + 300);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	e = ev(0, VISIT_DWELL, 900, 2, MORNING + 900);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[3], 1);

	reset();
	e = ev(1, VISIT_EXIT, 599, -1, MORNING + 700);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[4], 0);
	e = ev(1, VISIT_EXIT, 600, -1, MORNING + 800);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[4], 1);
	campaign_rules_free(r);
	snapshot_free(s);
	sb_free(b);
}

static void test_window_and_hours(void **state)
{
	struct snap_builder *b = base();
	struct pipeline_config cfg;
	struct campaign_rules *r;
	struct snapshot *s;
	struct snap_campaign *c;
	struct campaign_event e;

	(void)state;
	pipeline_config_defaults(&cfg);
	c = sb_campaign(b, 1, "shop-hours", "entrance", SNAP_EVENT_ENTER);
	c->hours_from_min = 9 * 60 + 30; /* 09:30-18:00 local */
	c->hours_until_min = 18 * 60;
	c = sb_campaign(b, 2, "late", "entrance", SNAP_EVENT_ENTER);
	c->hours_from_min = 22 * 60; /* 22:00-02:00 local, across midnight */
	c->hours_until_min = 2 * 60;
	c = sb_campaign(b, 3, "spring", "entrance", SNAP_EVENT_ENTER);
	c->valid_from = MORNING + 3600;
	c->valid_until = MORNING + 7200;
	s = sb_build(b, 1);
	r = campaign_rules_new(&cfg);

	/* 10:00 local (09:00Z): the 09:30-18:00 window is open; UTC would say closed. */
	assert_true(campaign_in_hours(&s->campaigns[0], MORNING));
	assert_false(campaign_in_hours(&s->campaigns[0], MORNING - 3600)); /* 09:00 local */
	assert_false(campaign_in_hours(&s->campaigns[0], MORNING + 8 * 3600)); /* 18:00 */
	assert_true(campaign_in_hours(&s->campaigns[1], MORNING + 13 * 3600)); /* 23:00 */
	assert_true(campaign_in_hours(&s->campaigns[1], MORNING + 15 * 3600)); /* 01:00 */
	assert_false(campaign_in_hours(&s->campaigns[1], MORNING + 16 * 3600)); /* 02:00 */

	reset();
	e = ev(1, VISIT_ENTER, 0, -1, MORNING);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[2], 0); /* before valid_from */
	e = ev(1, VISIT_ENTER, 0, -1, MORNING + 3600);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[2], 1);
	e = ev(1, VISIT_ENTER, 0, -1, MORNING + 7200);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[2], 1); /* valid_until is exclusive */
	campaign_rules_free(r);
	snapshot_free(s);
	sb_free(b);
}

static void test_cooldown_and_daily_cap(void **state)
{
	struct snap_builder *b = base();
	struct pipeline_config cfg;
	struct campaign_rules *r;
	struct snapshot *s;
	struct snap_campaign *c;
	struct campaign_event e;

	(void)state;
	pipeline_config_defaults(&cfg);
	c = sb_campaign(b, 1, "hello", "entrance", SNAP_EVENT_ENTER);
	c->cooldown_s = 600;
	c->daily_cap = 2;
	s = sb_build(b, 1);
	r = campaign_rules_new(&cfg);

	reset();
	for (int64_t t = 0; t < 4 * 3600; t += 60) {
		e = ev(0, VISIT_ENTER, 0, -1, MORNING + t);
		campaign_rules_match(r, s, &e, on_fire, NULL);
	}
	assert_int_equal(fired[0], 2); /* cap 2 per local day, 10 min apart */
	/* Bob has his own cooldown and cap. */
	e = ev(1, VISIT_ENTER, 0, -1, MORNING);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[0], 3);
	/* Next local day (Berlin midnight = 23:00Z): allowed again. */
	e = ev(0, VISIT_ENTER, 0, -1, MORNING + 14 * 3600);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[0], 4);
	campaign_rules_free(r);
	snapshot_free(s);
	sb_free(b);
}

static void test_history_seeds_state(void **state)
{
	struct snap_builder *b = base();
	struct pipeline_config cfg;
	struct campaign_rules *r;
	struct snapshot *s;
	struct snap_campaign *c;
	struct campaign_event e;

	(void)state;
	pipeline_config_defaults(&cfg);
	c = sb_campaign(b, 1, "hello", "entrance", SNAP_EVENT_ENTER);
	c->cooldown_s = 3600;
	c->daily_cap = 3;
	/* Before a restart: alice triggered 10 min ago; bob 3 times today already. */
	sb_history(b, 0, 0, MORNING - 600, 1);
	sb_history(b, 1, 0, MORNING - 7200, 3);
	s = sb_build(b, 1);
	r = campaign_rules_new(&cfg);
	campaign_rules_seed(r, s);

	reset();
	e = ev(0, VISIT_ENTER, 0, -1, MORNING);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	e = ev(1, VISIT_ENTER, 0, -1, MORNING);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[0], 0);
	e = ev(0, VISIT_ENTER, 0, -1, MORNING + 3000);
	campaign_rules_match(r, s, &e, on_fire, NULL);
	assert_int_equal(fired[0], 1);
	campaign_rules_free(r);
	snapshot_free(s);
	sb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consent_at_event_time),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_window_and_hours),
		cmocka_unit_test(test_cooldown_and_daily_cap),
		cmocka_unit_test(test_history_seeds_state),
	};

	/* POSIX rule for Europe/Berlin, so the test does not need tzdata. */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
