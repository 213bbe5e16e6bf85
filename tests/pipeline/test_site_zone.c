/* test_site_zone.c - zone arbitration between two gateways of a site:
 * strongest with margin and hold, a handover whose visits meet (never
 * overlap), takeover when the holder goes silent, simultaneous claims
 * settled, a gateway alone as before. The two gateways exchange summaries
 * as the broker would. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "site_zone.h"

#define S 1000000ull
#define ID 42

struct gw {
	struct site_zone *z;
	const char *name;
	struct gw *other;
	int releases, takes, moves;
	bool open;               /* a visit opened by the actions is open */
	uint64_t since, ended;   /* its start; when the last one ended */
};

/* A visit ends: never after the other gateway's visit began. */
static void on_release(void *ctx, int64_t id, uint64_t at_us)
{
	struct gw *g = ctx;

	(void)id;
	g->releases++;
	if (g->open && g->other && g->other->open)
		assert_true(at_us <= g->other->since);
	g->open = false;
	g->ended = at_us;
}

/* A visit opens: never before the other gateway's visit ended. */
static void on_take(void *ctx, int64_t id, uint64_t since_us)
{
	struct gw *g = ctx;

	(void)id;
	g->takes++;
	if (g->other && !g->other->open)
		assert_true(since_us >= g->other->ended);
	g->open = true;
	g->since = since_us;
}

/* The visit opened by on_take() starts later: never before the other
 * gateway's visit ended. */
static void on_move(void *ctx, int64_t id, uint64_t since_us)
{
	struct gw *g = ctx;

	(void)id;
	assert_true(g->open);
	assert_true(since_us > g->since);
	g->moves++;
	g->since = since_us;
}

static void decide(struct gw *g, uint64_t t)
{
	const struct site_zone_actions act = { .release = on_release, .take = on_take,
					       .move = on_move, .ctx = g };

	site_zone_decide(g->z, t, &act);
}

static void gw_init(struct gw *g, const char *name)
{
	struct pipeline_config cfg;

	pipeline_config_defaults(&cfg);
	snprintf(cfg.gateway, sizeof(cfg.gateway), "%s", name);
	cfg.site_enabled = true;
	cfg.site_margin_db = 6;
	cfg.site_hold_s = 3;
	cfg.site_peer_timeout_s = 5;
	cfg.max_tracked = 16;
	g->z = site_zone_new(&cfg);
	g->name = name;
	g->other = NULL;
	g->releases = g->takes = g->moves = 0;
	g->open = false;
	g->since = g->ended = 0;
	assert_non_null(g->z);
}

/* from's summary reaches to. */
static void deliver(struct gw *from, struct gw *to, uint64_t t)
{
	const struct site_zone_actions act = { .release = on_release, .take = on_take,
					       .move = on_move, .ctx = to };
	int peer = site_zone_peer_begin(to->z, from->name, t);

	for (uint32_t i = 0; i < site_zone_capacity(from->z); i++) {
		struct site_zone_summary e;
		struct site_zone_view v;

		if (!site_zone_summary_entry(from->z, i, t, &e))
			continue;
		v = (struct site_zone_view){ .level = e.level, .claim = e.claim, .local_at = NAN,
					     .since_us = e.since_us,
					     .from_me = e.from && !strcmp(e.from, to->name),
					     .released_us = e.released_us };
		site_zone_peer_level(to->z, peer, e.customer_id, &v, t);
		/* As the pipeline does: handovers are decided on arrival. */
		site_zone_decide_one(to->z, e.customer_id, t, &act);
	}
}

/* One second of the site: each hears the shopper (NAN: not at all),
 * decides, and (if alive) tells the other. A handover's new holder claims
 * before the old one has read it (one summary): the visits still meet. */
static void second(struct gw *a, float la, bool a_alive, struct gw *b, float lb, uint64_t t)
{
	a->other = b;
	b->other = a;
	if (a_alive)
		site_zone_local(a->z, ID, la, t);
	site_zone_local(b->z, ID, lb, t);
	if (a_alive)
		decide(a, t);
	decide(b, t);
	if (a_alive)
		deliver(a, b, t);
	deliver(b, a, t);
}

static void test_alone_as_before(void **state)
{
	struct gw a;

	(void)state;
	gw_init(&a, "g1");
	/* Just started: it cannot know yet that it is alone. */
	assert_false(site_zone_gate(a.z, ID, -60.0f, 1 * S, NULL));
	/* No peer heard for a peer timeout: the first qualifying sighting
	 * opens the visit. */
	{
		uint64_t since = 1;

		assert_true(site_zone_gate(a.z, ID, -60.0f, 10 * S, &since));
		assert_int_equal(since, 0);  /* alone: the visit starts as it always did */
	}
	assert_true(site_zone_holds(a.z, ID));
	/* Not heard any more: let go. */
	decide(&a, 20 * S);
	assert_false(site_zone_holds(a.z, ID));
	assert_int_equal(a.releases, 1);
	site_zone_free(a.z);
}

static void test_strongest_with_hysteresis(void **state)
{
	struct gw a, b;
	uint64_t t = 100 * S;
	int i;

	(void)state;
	gw_init(&a, "g1");
	gw_init(&b, "g2");
	/* Both alive (heartbeats), shopper at g1. */
	for (i = 0; i < 6; i++, t += S)
		second(&a, -60, true, &b, -72, t);
	assert_true(site_zone_holds(a.z, ID));
	assert_false(site_zone_holds(b.z, ID));
	/* g2 a little stronger, within the margin: nothing moves. */
	for (i = 0; i < 10; i++, t += S)
		second(&a, -64, true, &b, -61, t);
	assert_true(site_zone_holds(a.z, ID));
	/* A short burst beyond the margin, shorter than the hold: nothing. */
	second(&a, -75, true, &b, -60, t);
	t += S;
	for (i = 0; i < 3; i++, t += S)
		second(&a, -61, true, &b, -64, t);
	assert_true(site_zone_holds(a.z, ID));
	assert_int_equal(a.releases, 0);
	/* The shopper walks to g2 for good: g2 becomes the stronger, then
	 * margin_db stronger, and takes them over after the hold. The move is
	 * dated where g2 became the stronger: between g1's summary before (g2
	 * 3 dB below) and the one that first shows it (1 dB above), a quarter
	 * of a second before the latter, and half the level window earlier
	 * still (a mean over the window describes its middle). g1's visit
	 * ends right then. */
	{
		uint64_t crossed = t - S / 4 - (uint64_t)SITE_LEVEL_WINDOW_S * S / 2, since = 0;

		second(&a, -63, true, &b, -62, t);
		t += S;
		for (i = 0; i < 8; i++, t += S)
			second(&a, -78, true, &b, -60, t);
		assert_false(site_zone_holds(a.z, ID));
		assert_true(site_zone_holds(b.z, ID));
		assert_int_equal(a.releases, 1);
		assert_int_equal(b.takes, 1);
		assert_int_equal(b.since, crossed);
		assert_int_equal(a.ended, crossed);
		assert_true(site_zone_gate(b.z, ID, -60.0f, t, &since));
		assert_int_equal(since, crossed);
		assert_int_equal(site_zone_get_stats(b.z, t)->handovers, 1);
		assert_int_equal(site_zone_get_stats(a.z, t)->handed_over, 1);
	}
	/* And stays there: g1 would need the margin for the hold to get them back. */
	for (i = 0; i < 10; i++, t += S)
		second(&a, -64, true, &b, -61, t);
	assert_true(site_zone_holds(b.z, ID));
	assert_int_equal(b.releases, 0);
	assert_int_equal(b.moves, 0);   /* g1 let go on reading the claim */
	site_zone_free(a.z);
	site_zone_free(b.z);
}

/* A shopper nobody holds walks up to g2: g2 takes them once it has been
 * the strongest at the enter level (-75 dBm by default) for the hold, and
 * the visit starts where its level rose through the enter level: half way
 * from -80 to -70 dBm, and half the level window earlier (a mean over the
 * window describes its middle). */
static void test_free_shopper_dated_at_entry(void **state)
{
	struct gw a, b;
	uint64_t t = 100 * S, rose;
	int i;

	(void)state;
	gw_init(&a, "g1");
	gw_init(&b, "g2");
	for (i = 0; i < 4; i++, t += S)
		second(&a, -92, true, &b, -90, t);
	second(&a, -92, true, &b, -80, t);
	t += S;
	rose = t - S / 2 - (uint64_t)SITE_LEVEL_WINDOW_S * S / 2;
	for (i = 0; i < 5; i++, t += S)
		second(&a, -92, true, &b, -70, t);
	assert_true(site_zone_holds(b.z, ID));
	assert_false(site_zone_holds(a.z, ID));
	assert_int_equal(b.takes, 1);
	assert_int_equal(b.since, rose);
	site_zone_free(a.z);
	site_zone_free(b.z);
}

/* The holder's visit ends by the presence rules just after the summary the
 * challenger takes the shopper over on, before it reads the claim: the new
 * visit, dated back to the crossing, would overlap the old one; it starts
 * where the old holder's summary says its visit ended instead. */
static void test_holder_let_go_before_reading_the_claim(void **state)
{
	struct gw a, b;
	uint64_t t = 100 * S, left;
	int i;

	(void)state;
	gw_init(&a, "g1");
	gw_init(&b, "g2");
	a.other = &b;
	b.other = &a;
	for (i = 0; i < 6; i++, t += S)
		second(&a, -60, true, &b, -72, t);
	assert_true(site_zone_holds(a.z, ID));
	/* The shopper walks to g2; g2's claim does not reach g1 yet. */
	for (i = 0; i < 10 && !site_zone_holds(b.z, ID); i++, t += S) {
		site_zone_local(a.z, ID, -78, t);
		site_zone_local(b.z, ID, -60, t);
		decide(&a, t);
		decide(&b, t);
		deliver(&a, &b, t);
		if (!site_zone_holds(b.z, ID))
			deliver(&b, &a, t);
	}
	assert_true(site_zone_holds(b.z, ID));
	assert_true(b.since < t);
	/* g1's visit ended by itself (its exit rule) right then; it says so. */
	left = t + 500;
	site_zone_let_go(a.z, ID, left);
	deliver(&a, &b, t + 1000);
	assert_int_equal(b.moves, 1);
	assert_int_equal(b.since, left);
	{
		uint64_t since = 0;

		assert_true(site_zone_gate(b.z, ID, -60.0f, t + 1000, &since));
		assert_int_equal(since, left);
	}
	/* g2's claim reaches g1, then g1's next summaries: nothing moves again. */
	deliver(&b, &a, left + 1000);
	t += S;
	second(&a, -80, true, &b, -60, t);
	assert_int_equal(b.moves, 1);
	assert_true(site_zone_holds(b.z, ID));
	assert_false(site_zone_holds(a.z, ID));
	site_zone_free(a.z);
	site_zone_free(b.z);
}

static void test_takeover_when_holder_dies(void **state)
{
	struct gw a, b;
	uint64_t t = 100 * S, died;
	int i;

	(void)state;
	gw_init(&a, "g1");
	gw_init(&b, "g2");
	for (i = 0; i < 6; i++, t += S)
		second(&a, -60, true, &b, -70, t);
	assert_true(site_zone_holds(a.z, ID));
	died = t;
	for (i = 0; i < 4; i++, t += S)
		second(&a, NAN, false, &b, -70, t);
	assert_false(site_zone_holds(b.z, ID));   /* g1 not yet timed out (5 s) */
	for (i = 0; i < 6 && !site_zone_holds(b.z, ID); i++, t += S)
		second(&a, NAN, false, &b, -70, t);
	assert_true(site_zone_holds(b.z, ID));
	assert_true(t - died <= 10 * S);
	assert_true(site_zone_peer_lost(b.z, t));
	site_zone_free(a.z);
	site_zone_free(b.z);
}

static void test_simultaneous_claims_settle(void **state)
{
	struct gw a, b;
	uint64_t t = 100 * S;

	(void)state;
	gw_init(&a, "g1");
	gw_init(&b, "g2");
	/* Neither has heard the other (a network split at start): each takes
	 * the shopper alone. */
	decide(&a, 1);
	decide(&b, 1);
	assert_true(site_zone_gate(a.z, ID, -65.0f, t, NULL));
	assert_true(site_zone_gate(b.z, ID, -62.0f, t, NULL));
	/* Their summaries cross: both compare the same published levels. */
	deliver(&a, &b, t);
	deliver(&b, &a, t);
	t += S / 2;
	site_zone_local(a.z, ID, -65.0f, t);
	site_zone_local(b.z, ID, -62.0f, t);
	decide(&a, t);
	decide(&b, t);
	assert_false(site_zone_holds(a.z, ID));
	assert_true(site_zone_holds(b.z, ID));
	assert_int_equal(site_zone_get_stats(a.z, t)->conflicts, 1);
	site_zone_free(a.z);
	site_zone_free(b.z);
}

static void test_own_name_and_forget(void **state)
{
	struct gw a;

	(void)state;
	gw_init(&a, "g1");
	assert_int_equal(site_zone_peer_begin(a.z, "g1", S), -1);
	assert_true(site_zone_gate(a.z, ID, -60.0f, 10 * S, NULL));
	site_zone_forget(a.z, ID);
	assert_false(site_zone_holds(a.z, ID));
	assert_int_equal(site_zone_get_stats(a.z, 10 * S)->tracked, 0);
	site_zone_free(a.z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alone_as_before),
		cmocka_unit_test(test_strongest_with_hysteresis),
		cmocka_unit_test(test_free_shopper_dated_at_entry),
		cmocka_unit_test(test_holder_let_go_before_reading_the_claim),
		cmocka_unit_test(test_takeover_when_holder_dies),
		cmocka_unit_test(test_simultaneous_claims_settle),
		cmocka_unit_test(test_own_name_and_forget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
