/* test_campaign.c - consent gate at event time, and campaign rules:
 * zone, event, segment, dwell, validity, opening hours, cooldown, daily cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
	assert_false(consent_gate_presence(s, &s->customers[0], MORNING - 1));
	assert_true(consent_gate_presence(s, &s->customers[0], MORNING));
	assert_true(consent_gate_presence(s, &s->customers[0], MORNING + 99));
	assert_false(consent_gate_presence(s, &s->customers[0], MORNING + 100));
	assert_int_equal(consent_gate_trigger_channels(s, &s->customers[0], &cam, MORNING + 49),
			 0x3);
	assert_int_equal(consent_gate_trigger_channels(s, &s->customers[0], &cam, MORNING + 50), 0);
	/* Channels: the campaign's (any of) intersected with the consent's. */
	cam.channels = 0x6;
	assert_int_equal(consent_gate_trigger_channels(s, &s->customers[0], &cam, MORNING + 1),
			 0x2);
	cam.channels = 0x4;
	assert_int_equal(consent_gate_trigger_channels(s, &s->customers[0], &cam, MORNING + 1), 0);
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

/* The rules under test: base() plus a test's campaigns, built into a
 * snapshot, with the default configuration (dwell marks 60, 300, 900). */
struct rules {
	struct snap_builder *b;
	struct snapshot *s;
	struct campaign_rules *r;
};

static void build(struct rules *t)
{
	struct pipeline_config cfg;

	pipeline_config_defaults(&cfg);
	t->s = sb_build(t->b, 1);
	t->r = campaign_rules_new(&cfg);
}

static void done(struct rules *t)
{
	campaign_rules_free(t->r);
	snapshot_free(t->s);
	sb_free(t->b);
}

/* One visit event at the entrance, matched; returns how many campaigns fired. */
static uint32_t match(struct rules *t, uint32_t cust, enum visit_event_kind k, uint32_t dwell,
		      uint32_t threshold, int64_t now)
{
	struct campaign_event e = { .customer = cust, .zone = "entrance", .kind = k,
				    .dwell_s = dwell, .threshold_s = threshold, .now_s = now };

	return campaign_rules_match(t->r, t->s, &e, on_fire, NULL);
}

static uint32_t enter(struct rules *t, uint32_t cust, int64_t now)
{
	return match(t, cust, VISIT_ENTER, 0, 0, now);
}

/* Campaign "hello" (id 1) on entering, with a cooldown and a daily cap. */
static void add_hello(struct snap_builder *b, uint32_t cooldown_s, uint32_t daily_cap)
{
	struct snap_campaign *c = sb_campaign(b, 1, "hello", "entrance", SNAP_EVENT_ENTER);

	c->cooldown_s = cooldown_s;
	c->daily_cap = daily_cap;
}

static void test_matching(void **state)
{
	struct rules t = { .b = base() };

	(void)state;
	sb_campaign(t.b, 1, "welcome", "entrance", SNAP_EVENT_ENTER);                 /* 0 */
	sb_campaign(t.b, 2, "vip-welcome", "entrance", SNAP_EVENT_ENTER)->segment = 0; /* 1 */
	sb_campaign(t.b, 3, "other-zone", "checkout", SNAP_EVENT_ENTER);              /* 2 */
	sb_campaign(t.b, 4, "lingered", "entrance", SNAP_EVENT_DWELL)->min_dwell_s = 300; /* 3 */
	sb_campaign(t.b, 5, "long-visit", "entrance", SNAP_EVENT_EXIT)->min_dwell_s = 600; /* 4 */
	sb_campaign(t.b, 6, "email-only", "entrance", SNAP_EVENT_ENTER)->channels = 0x2; /* 5 */
	build(&t);

	reset();
	assert_int_equal(enter(&t, 0, MORNING), 3);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 1);
	assert_int_equal(fired[2], 0);
	assert_int_equal(fired[5], 1);
	assert_int_equal(fired_channels[0], 0x3);
	assert_int_equal(fired_channels[5], 0x2);
	reset();
	enter(&t, 1, MORNING);
	assert_int_equal(fired[1], 0); /* bob is not vip */

	/* Dwell campaign: at its own threshold (300 s), not at any other. */
	reset();
	match(&t, 0, VISIT_DWELL, 60, 60, MORNING + 60);
	match(&t, 0, VISIT_DWELL, 301, 300, MORNING + 301);
	match(&t, 0, VISIT_DWELL, 900, 900, MORNING + 900);
	assert_int_equal(fired[3], 1);

	reset();
	match(&t, 1, VISIT_EXIT, 599, 0, MORNING + 700);
	assert_int_equal(fired[4], 0);
	match(&t, 1, VISIT_EXIT, 600, 0, MORNING + 800);
	assert_int_equal(fired[4], 1);
	done(&t);
}

static void test_window_and_hours(void **state)
{
	struct rules t = { .b = base() };
	struct snap_campaign *c;

	(void)state;
	c = sb_campaign(t.b, 1, "shop-hours", "entrance", SNAP_EVENT_ENTER);
	c->hours_from_min = 9 * 60 + 30; /* 09:30-18:00 local */
	c->hours_until_min = 18 * 60;
	c = sb_campaign(t.b, 2, "late", "entrance", SNAP_EVENT_ENTER);
	c->hours_from_min = 22 * 60; /* 22:00-02:00 local, across midnight */
	c->hours_until_min = 2 * 60;
	c = sb_campaign(t.b, 3, "spring", "entrance", SNAP_EVENT_ENTER);
	c->valid_from = MORNING + 3600;
	c->valid_until = MORNING + 7200;
	build(&t);

	/* 10:00 local (09:00Z): the 09:30-18:00 window is open; UTC would say closed. */
	assert_true(campaign_in_hours(&t.s->campaigns[0], MORNING));
	assert_false(campaign_in_hours(&t.s->campaigns[0], MORNING - 3600)); /* 09:00 local */
	assert_false(campaign_in_hours(&t.s->campaigns[0], MORNING + 8 * 3600)); /* 18:00 */
	assert_true(campaign_in_hours(&t.s->campaigns[1], MORNING + 13 * 3600)); /* 23:00 */
	assert_true(campaign_in_hours(&t.s->campaigns[1], MORNING + 15 * 3600)); /* 01:00 */
	assert_false(campaign_in_hours(&t.s->campaigns[1], MORNING + 16 * 3600)); /* 02:00 */

	reset();
	enter(&t, 1, MORNING);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[2], 0); /* before valid_from */
	enter(&t, 1, MORNING + 3600);
	assert_int_equal(fired[2], 1);
	enter(&t, 1, MORNING + 7200);
	assert_int_equal(fired[2], 1); /* valid_until is exclusive */
	done(&t);
}

static void test_cooldown_and_daily_cap(void **state)
{
	struct rules t = { .b = base() };

	(void)state;
	add_hello(t.b, 600, 2);
	build(&t);

	reset();
	for (int64_t dt = 0; dt < 4 * 3600; dt += 60)
		enter(&t, 0, MORNING + dt);
	assert_int_equal(fired[0], 2); /* cap 2 per local day, 10 min apart */
	/* Bob has his own cooldown and cap. */
	enter(&t, 1, MORNING);
	assert_int_equal(fired[0], 3);
	/* Next local day (Berlin midnight = 23:00Z): allowed again. */
	enter(&t, 0, MORNING + 14 * 3600);
	assert_int_equal(fired[0], 4);
	done(&t);
}

static void test_history_seeds_state(void **state)
{
	struct rules t = { .b = base() };

	(void)state;
	add_hello(t.b, 3600, 3);
	/* Before a restart: alice triggered 10 min ago; bob 3 times today already. */
	sb_history(t.b, 0, 0, MORNING - 600, 1);
	sb_history(t.b, 1, 0, MORNING - 7200, 3);
	build(&t);
	campaign_rules_seed(t.r, t.s);

	reset();
	enter(&t, 0, MORNING);
	enter(&t, 1, MORNING);
	assert_int_equal(fired[0], 0);
	enter(&t, 0, MORNING + 3000);
	assert_int_equal(fired[0], 1);
	done(&t);
}

/* Site-wide state: a peer's trigger counts as ours (cap, cooldown). */
static void test_peer_triggers_count(void **state)
{
	struct rules t = { .b = base() };

	(void)state;
	add_hello(t.b, 0, 1);
	sb_campaign(t.b, 2, "second", "entrance", SNAP_EVENT_ENTER)->cooldown_s = 600;
	build(&t);
	reset();
	/* door-2 gave alice "hello" (cap 1) and "second" (cooldown 600 s). */
	campaign_rules_note(t.r, 100, 1, MORNING);
	campaign_rules_note(t.r, 100, 2, MORNING);
	enter(&t, 0, MORNING + 60);
	assert_int_equal(fired[0], 0);
	assert_int_equal(fired[1], 0);
	enter(&t, 0, MORNING + 700);
	assert_int_equal(fired[0], 0);     /* the daily cap holds all day */
	assert_int_equal(fired[1], 1);     /* the cooldown is over */
	enter(&t, 1, MORNING + 60);        /* bob had nothing from the peer */
	assert_int_equal(fired[0], 1);
	assert_int_equal(campaign_rules_get_stats(t.r)->peer_triggers, 2);
	done(&t);
}

/*
 * The partition bound (docs/site.md): two gateways that cannot see each
 * other's triggers. Each side fires a capped campaign at most once per
 * customer while split, however often the customer walks in on either
 * side: `before` triggers counted by both before the split end at
 * before + 2 at most, one more than the cap allows when before = cap - 1.
 */
static int split_total(uint32_t before, uint32_t cap, uint64_t *held)
{
	struct rules a = { .b = base() }, b = { .b = base() };

	add_hello(a.b, 0, cap);
	add_hello(b.b, 0, cap);
	build(&a);
	build(&b);
	for (uint32_t i = 0; i < before; i++) {
		campaign_rules_note(a.r, 100, 1, MORNING + i);
		campaign_rules_note(b.r, 100, 1, MORNING + i);
	}
	campaign_rules_set_split(a.r, true);
	campaign_rules_set_split(b.r, true);
	reset();
	for (int i = 0; i < 10; i++) {
		enter(&a, 0, MORNING + 100 + 10 * i);
		enter(&b, 0, MORNING + 105 + 10 * i);
	}
	*held = campaign_rules_get_stats(a.r)->split_held + campaign_rules_get_stats(b.r)->split_held;
	/* Whole again: each learns the other's trigger and the cap holds. */
	campaign_rules_set_split(a.r, false);
	campaign_rules_note(a.r, 100, 1, MORNING + 105);
	if (before + 2 >= cap) {
		int was = fired[0];

		enter(&a, 0, MORNING + 500);
		assert_int_equal(fired[0], was);
	}
	done(&a);
	done(&b);
	return (int)before + fired[0];
}

static void test_split_site_costs_one_extra(void **state)
{
	uint64_t held;

	(void)state;
	assert_int_equal(split_total(1, 3, &held), 3);   /* within the cap: one per side */
	assert_true(held > 0);
	assert_int_equal(split_total(2, 3, &held), 4);   /* the worst case: one extra */
	assert_int_equal(split_total(0, 1, &held), 2);   /* cap 1: one extra */
}

static void test_contact_pressure_and_quiet_hours(void **state)
{
	struct rules t = { .b = base() };
	struct pipeline_config cfg;

	(void)state;
	for (int i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%d", i);
		sb_campaign(t.b, 10 + i, name, "entrance", SNAP_EVENT_ENTER);
	}
	t.s = sb_build(t.b, 1);
	pipeline_config_defaults(&cfg);
	cfg.contact_max = 2;
	cfg.contact_period_s = 3600;
	snprintf(cfg.quiet_hours, sizeof(cfg.quiet_hours), "21:00-07:00");
	t.r = campaign_rules_new(&cfg);
	reset();
	/* Five campaigns match, two may reach alice within the hour. */
	assert_int_equal(enter(&t, 0, MORNING), 2);
	assert_int_equal(enter(&t, 0, MORNING + 1800), 0);
	/* A peer's trigger counts too: after the hour, one left. */
	campaign_rules_note(t.r, 100, 0, MORNING + 3500);
	assert_int_equal(enter(&t, 0, MORNING + 3700), 1);
	assert_true(campaign_rules_get_stats(t.r)->contact_held > 0);
	/* 22:00 local (21:00Z): quiet hours, nothing at all. */
	assert_true(campaign_quiet(t.r, MORNING + 12 * 3600));
	assert_int_equal(enter(&t, 1, MORNING + 12 * 3600), 0);
	assert_false(campaign_quiet(t.r, MORNING));
	done(&t);
}

/*
 * A campaign without cooldown or daily cap keeps no state: firing for a
 * crowd at once it does not push the state of a capped campaign out of a
 * small table (16 entries here), so alice's cooldown still holds.
 */
static void test_uncapped_keeps_no_state(void **state)
{
	struct rules t = { .b = base() };
	struct pipeline_config cfg;
	struct snap_campaign *c;

	(void)state;
	c = sb_campaign(t.b, 1, "hello-vip", "entrance", SNAP_EVENT_ENTER);
	c->segment = 0; /* alice only */
	c->cooldown_s = 3600;
	sb_campaign(t.b, 2, "welcome", "entrance", SNAP_EVENT_ENTER);
	for (uint32_t i = 0; i < 64; i++) {
		char ref[16];
		uint32_t k;

		snprintf(ref, sizeof(ref), "crowd%u", i);
		k = sb_customer(t.b, 1000 + i, ref);
		sb_consent(t.b, k, SNAP_PRESENCE, 1, 0, 0, 0, "p1");
		sb_consent(t.b, k, SNAP_RETARGETING, 1, 0, 0, 0x3, "r1");
	}
	t.s = sb_build(t.b, 1);
	pipeline_config_defaults(&cfg);
	cfg.max_campaign_state = 16;
	t.r = campaign_rules_new(&cfg);
	reset();
	assert_int_equal(enter(&t, 0, MORNING), 2);
	for (uint32_t i = 0; i < 64; i++)
		enter(&t, 2 + i, MORNING + 1 + i);
	assert_int_equal(fired[1], 65);
	assert_int_equal(enter(&t, 0, MORNING + 600), 1); /* welcome only */
	assert_int_equal(fired[0], 1);
	done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consent_at_event_time),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_window_and_hours),
		cmocka_unit_test(test_cooldown_and_daily_cap),
		cmocka_unit_test(test_history_seeds_state),
		cmocka_unit_test(test_peer_triggers_count),
		cmocka_unit_test(test_split_site_costs_one_extra),
		cmocka_unit_test(test_contact_pressure_and_quiet_hours),
		cmocka_unit_test(test_uncapped_keeps_no_state),
	};

	/* POSIX rule for Europe/Berlin, so the test does not need tzdata. */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
