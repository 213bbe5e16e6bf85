/*
 * test_scenario.c - the scenario parser: a complete good file, and bad
 * files whose errors must name the right line.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"
#include "bgw_util.h"
#include "sim_world.h"

static int parse(const char *text, struct scenario *s, struct scn_error *e)
{
	return scenario_parse(text, strlen(text), s, e);
}

static const char good[] =
	"# a comment line\n"
	"seed 42\n"
	"duration 10m\n"
	"start-time 2026-01-01T09:00:00Z\n"
	"path-loss 2.5   # trailing comment\n"
	"noise 3.5\n"
	"sensitivity -95\n"
	"gateway-height 2.5\n"
	"controller legacy-only\n"
	"controller-address 00:11:22:33:44:55\n"
	"\n"
	"tag alice\n"
	"\tibeacon f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:65535\n"
	"\tinterval 250ms\n"
	"\ttxpower -61\n"
	"\tpath 0s:20 30s:3 5m:2.5 5m30s:3,4\n"
	"tag bob\n"
	"  eddystone-eid 000102030405060708090a0b0c0d0e0f:10:-3600\n"
	"  distance 4\n"
	"tag carol\n"
	"  irk ec0234a357c8ad05341010a60a397d9b\n"
	"  rotate 2m\n"
	"  address C0:01:02:03:04:05\n"
	"  path 1m:10 2m:1\n"
	"tag store\n"
	"  tlm 2950 -5.5\n"
	"  tlm-every 3\n"
	"  distance 6\n"
	"tag url\n"
	"  eddystone-url https://www.example.com/\n"
	"  extended 400\n"
	"  distance 1\n"
	"tag alt\n"
	"  altbeacon 0102030405060708090a0b0c0d0e0f1011121314:0x004c\n"
	"  distance 1\n"
	"tag uid\n"
	"  eddystone-uid 8b0ca750e7a74e14bd99:000000000042\n"
	"  distance 1\n"
	"fault silence at 1m for 30s\n"
	"crowd shoppers\n"
	"  count 40\n"
	"  distance 2..30\n"
	"  dwell 1m..10m\n"
	"  rotate 15m\n"
	"  interval 1s\n"
	"  txpower -50\n"
	"fault hardware-error at 2m code 0x42\n"
	"fault garbage at 30s bytes 7\n"
	"fault disconnect at 9m\n";

static void test_good_file(void **state)
{
	struct scenario s;
	struct scn_error e;

	(void)state;
	assert_int_equal(parse(good, &s, &e), 0);
	assert_true(s.seed_set);
	assert_int_equal(s.seed, 42);
	assert_int_equal(s.duration_us, 600000000ull);
	assert_int_equal(s.start_time, 1767258000);
	assert_true(s.path_loss_n == 2.5);
	assert_true(s.noise_sigma_db == 3.5);
	assert_int_equal(s.sensitivity_dbm, -95);
	assert_true(s.legacy_only);
	assert_true(s.has_controller_addr);
	assert_int_equal(s.controller_addr[0], 0x55);
	assert_int_equal(s.controller_addr[5], 0x00);

	assert_int_equal(s.n_tags, 7);
	const struct scn_tag *a = &s.tags[0];

	assert_string_equal(a->name, "alice");
	assert_int_equal(a->line, 12);
	assert_int_equal(a->id_type, SCN_ID_IBEACON);
	assert_int_equal(a->id.ibeacon.uuid[0], 0xf7);
	assert_int_equal(a->id.ibeacon.uuid[15], 0x3e);
	assert_int_equal(a->id.ibeacon.major, 100);
	assert_int_equal(a->id.ibeacon.minor, 65535);
	assert_int_equal(a->interval_us, 250000);
	assert_int_equal(a->txpower, -61);
	assert_int_equal(a->n_path, 4);
	assert_int_equal(a->path[2].t_us, 300000000ull);
	assert_true(a->path[3].dist_m == 5.0); /* 3,4 -> 5 m */
	assert_int_equal(a->path[3].t_us, 330000000ull);

	const struct scn_tag *b = &s.tags[1];

	assert_int_equal(b->id_type, SCN_ID_EDDYSTONE_EID);
	assert_int_equal(b->id.eid.exponent, 10);
	assert_int_equal(b->id.eid.offset, -3600);
	assert_int_equal(b->id.eid.key[15], 0x0f);
	assert_true(sim_world_path_distance(b, 0) == 4.0);
	assert_true(sim_world_path_distance(b, 599000000ull) == 4.0);

	const struct scn_tag *c = &s.tags[2];

	assert_int_equal(c->id_type, SCN_ID_IRK);
	assert_int_equal(c->rotate_us, 120000000ull);
	assert_true(c->has_addr);
	assert_int_equal(c->addr[5], 0xC0);
	assert_int_equal(c->addr_type, 1);
	assert_true(sim_world_path_distance(c, 59000000ull) < 0);
	assert_true(sim_world_path_distance(c, 90000000ull) == 5.5);
	assert_true(sim_world_path_distance(c, 121000000ull) < 0);

	assert_int_equal(s.tags[3].id_type, SCN_ID_NONE);
	assert_true(s.tags[3].tlm);
	assert_int_equal(s.tags[3].tlm_battery_mv, 2950);
	assert_int_equal(s.tags[3].tlm_every, 3);
	assert_int_equal(s.tags[4].id_type, SCN_ID_EDDYSTONE_URL);
	assert_string_equal(s.tags[4].id.url, "https://www.example.com/");
	assert_int_equal(s.tags[4].ext_len, 400);
	assert_int_equal(s.tags[5].id.alt.company_id, 0x004c);
	assert_int_equal(s.tags[5].id.alt.beacon_id[19], 0x14);
	assert_int_equal(s.tags[6].id.uid.instance[5], 0x42);

	assert_int_equal(s.n_crowds, 1);
	assert_int_equal(s.crowds[0].count, 40);
	assert_true(s.crowds[0].dist_min == 2 && s.crowds[0].dist_max == 30);
	assert_int_equal(s.crowds[0].dwell_min_us, 60000000ull);
	assert_int_equal(s.crowds[0].dwell_max_us, 600000000ull);
	assert_int_equal(s.crowds[0].txpower, -50);

	/* Faults sorted by time, whatever their order in the file. */
	assert_int_equal(s.n_faults, 4);
	assert_int_equal(s.faults[0].kind, SCN_FAULT_GARBAGE);
	assert_int_equal(s.faults[0].bytes, 7);
	assert_int_equal(s.faults[1].kind, SCN_FAULT_SILENCE);
	assert_int_equal(s.faults[1].for_us, 30000000ull);
	assert_int_equal(s.faults[2].kind, SCN_FAULT_HW_ERROR);
	assert_int_equal(s.faults[2].code, 0x42);
	assert_int_equal(s.faults[3].kind, SCN_FAULT_DISCONNECT);
	scenario_free(&s);
}

static void test_defaults(void **state)
{
	struct scenario s;
	struct scn_error e;

	(void)state;
	assert_int_equal(parse("tag t\nibeacon 00000000-0000-0000-0000-000000000001:1:2\n"
			       "path 10s:5 95s:5\n", &s, &e), 0);
	assert_false(s.seed_set);
	assert_false(s.start_time_set);
	assert_int_equal(s.duration_us, 95000000ull); /* until the last waypoint */
	assert_true(s.path_loss_n == 2.0);
	assert_int_equal(s.sensitivity_dbm, -100);
	assert_int_equal(s.tags[0].interval_us, 100000);
	assert_int_equal(s.tags[0].txpower, -59);
	assert_false(s.legacy_only);
	scenario_free(&s);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *needle; /* part of the message */
};

#define TAG_OK "tag t\nibeacon 00000000-0000-0000-0000-000000000001:1:2\ndistance 3\n"

static const struct bad_case bad[] = {
	{ "seed -1\n" TAG_OK, 1, "seed" },
	{ "seed 1\nduration 0\n" TAG_OK, 2, "duration" },
	{ "\n\nduration 5x\n" TAG_OK, 3, "duration" },
	{ "start-time yesterday\n" TAG_OK, 1, "start-time" },
	{ "path-loss 9\n" TAG_OK, 1, "path-loss" },
	{ "noise -1\n" TAG_OK, 1, "noise" },
	{ "sensitivity 5\n" TAG_OK, 1, "sensitivity" },
	{ "controller fancy\n" TAG_OK, 1, "controller" },
	{ "frobnicate 1\n" TAG_OK, 1, "unknown setting" },
	{ "interval 1s\n" TAG_OK, 1, "belongs in a tag" },
	{ TAG_OK "seed 4\n", 4, "before the first tag" },
	{ "tag bad/name\n", 1, "bad name" },
	{ TAG_OK "tag t\n", 4, "used twice" },
	{ "tag t\nibeacon nothex:1:2\ndistance 3\n", 2, "ibeacon" },
	{ "tag t\nibeacon 00000000-0000-0000-0000-000000000001:1:70000\ndistance 3\n", 2,
	  "minor" },
	{ "tag t\nibeacon 00000000-0000-0000-0000-000000000001:1:2\n"
	  "eddystone-uid 00112233445566778899:aabbccddeeff\ndistance 3\n", 3, "already" },
	{ "tag t\neddystone-uid 0011:aabbccddeeff\ndistance 3\n", 2, "eddystone-uid" },
	{ "tag t\neddystone-eid 000102030405060708090a0b0c0d0e0f:16\ndistance 3\n", 2,
	  "exponent" },
	{ "tag t\neddystone-eid 0001:4\ndistance 3\n", 2, "eddystone-eid" },
	{ "tag t\neddystone-url ftp://example.com\ndistance 3\n", 2, "Eddystone-URL" },
	{ "tag t\naltbeacon 01\ndistance 3\n", 2, "altbeacon" },
	{ "tag t\naltbeacon 0102030405060708090a0b0c0d0e0f1011121314:65536\ndistance 3\n", 2,
	  "company id" },
	{ "tag t\naltbeacon 0102030405060708090a0b0c0d0e0f1011121314:0x\ndistance 3\n", 2,
	  "company id" },
	{ "tag t\naltbeacon 0102030405060708090a0b0c0d0e0f1011121314:0o17\ndistance 3\n", 2,
	  "company id" },
	{ "tag t\nirk 00\ndistance 3\n", 2, "irk" },
	{ "tag t\nirk ec0234a357c8ad05341010a60a397d9b\nrotate 0s\ndistance 3\n", 3, "rotate" },
	{ TAG_OK "interval 5ms\n", 4, "interval" },
	{ TAG_OK "txpower -300\n", 4, "txpower" },
	{ TAG_OK "address 11:22:33\n", 4, "address" },
	{ TAG_OK "tlm 3000\n", 4, "tlm" },
	{ TAG_OK "extended 5000\n", 4, "extended" },
	{ TAG_OK "colour blue\n", 4, "unknown tag attribute" },
	{ "tag t\nibeacon 00000000-0000-0000-0000-000000000001:1:2\npath 10s:3 5s:4\n", 3,
	  "increase" },
	{ "tag t\nibeacon 00000000-0000-0000-0000-000000000001:1:2\npath 10s\n", 3,
	  "waypoint" },
	{ "tag t\nibeacon 00000000-0000-0000-0000-000000000001:1:2\npath 1s:-4\n", 3,
	  "distance" },
	/* Block-level errors name the block's first line. */
	{ "seed 1\ntag t\ndistance 3\n", 2, "no identifier" },
	{ "seed 1\n\ntag t\nibeacon 00000000-0000-0000-0000-000000000001:1:2\n", 3, "path" },
	{ "tag t\nibeacon 00000000-0000-0000-0000-000000000001:1:2\npath 1s:3\n", 1, "path" },
	{ "crowd c\ndistance 1..2\n", 1, "count" },
	{ "crowd c\ncount 2\ndistance 5..2\n", 3, "distance" },
	{ "crowd c\ncount 2\ndwell 0s\n", 3, "dwell" },
	{ "crowd c\ncount 2\nirk-key 0011\n", 3, "irk-key" },
	{ "crowd c\ncount 2\nirk-key 00112233445566778899aabbccddeeXX\n", 3, "irk-key" },
	{ "crowd c\ncount 2000000\n", 2, "count" },
	{ "crowd c\ncount 2\nmood happy\n", 3, "unknown crowd attribute" },
	{ "duration 1m\n" TAG_OK "fault earthquake at 1s\n", 5, "unknown fault" },
	{ "duration 1m\n" TAG_OK "fault garbage 1s\n", 5, "fault" },
	{ "duration 1m\n" TAG_OK "fault silence at 1s\n", 5, "silence" },
	{ "duration 1m\n" TAG_OK "fault garbage at 1s bytes 0\n", 5, "garbage" },
	{ "duration 1m\n" TAG_OK "fault disconnect at 1s now\n", 5, "unexpected" },
	{ "duration 1m\n" TAG_OK "\nfault disconnect at 2m\n", 6, "after the end" },
	{ "# nothing\n", 0, "no tag" },
	{ "", 0, "no tag" },
};

static void test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < BGW_ARRAY_SIZE(bad); i++) {
		struct scenario s;
		struct scn_error e;
		int rc = parse(bad[i].text, &s, &e);

		if (rc != -1 || e.line != bad[i].line || !strstr(e.msg, bad[i].needle))
			fail_msg("case %zu: rc %d line %u (want %u) msg '%s' (want '%s')", i, rc,
				 e.line, bad[i].line, e.msg, bad[i].needle);
		/* Nothing left to free after a failure. */
		assert_null(s.tags);
		assert_null(s.crowds);
		assert_null(s.faults);
	}
}

static void test_long_and_nul_lines(void **state)
{
	struct scenario s;
	struct scn_error e;
	char text[4000];

	(void)state;
	memset(text, 'a', sizeof(text));
	text[0] = '#';
	assert_int_equal(scenario_parse(text, sizeof(text), &s, &e), -1);
	assert_int_equal(e.line, 1);
	assert_non_null(strstr(e.msg, "longer"));

	static const char nul[] = "seed 1\nseed\0 2\n";

	assert_int_equal(scenario_parse(nul, sizeof(nul) - 1, &s, &e), -1);
	assert_int_equal(e.line, 2);
	assert_non_null(strstr(e.msg, "NUL"));
}

/*
 * Numbers are decimal or 0x hex, never octal: an AltBeacon company id
 * written with a leading zero is the decimal number the user wrote.
 */
static void test_leading_zero_is_decimal(void **state)
{
	static const char *const company[][2] = {
		{ "0118", "118" }, { "0110", "110" }, { "00076", "76" }, { "0x0118", "280" },
		{ "0X004C", "76" }, { "65535", "65535" }, { "0", "0" },
	};
	struct scenario s;
	struct scn_error e;
	char text[256];

	(void)state;
	for (size_t i = 0; i < BGW_ARRAY_SIZE(company); i++) {
		snprintf(text, sizeof(text),
			 "tag a\naltbeacon 0102030405060708090a0b0c0d0e0f1011121314:%s\n"
			 "distance 1\n", company[i][0]);
		if (parse(text, &s, &e))
			fail_msg("company '%s': %s", company[i][0], e.msg);
		assert_int_equal(s.tags[0].id.alt.company_id, atoi(company[i][1]));
		scenario_free(&s);
	}
	/* Default: Radius Networks, the format's author. */
	assert_int_equal(parse("tag a\naltbeacon 0102030405060708090a0b0c0d0e0f1011121314\n"
			       "distance 1\n", &s, &e), 0);
	assert_int_equal(s.tags[0].id.alt.company_id, 0x0118);
	scenario_free(&s);

	/* The same reader serves every number of the file. */
	assert_int_equal(parse("seed 010\nsensitivity -090\ntag t\n"
			       "ibeacon 00000000-0000-0000-0000-000000000001:010:0x10\n"
			       "distance 3\n", &s, &e), 0);
	assert_int_equal(s.seed, 10);
	assert_int_equal(s.sensitivity_dbm, -90);
	assert_int_equal(s.tags[0].id.ibeacon.major, 10);
	assert_int_equal(s.tags[0].id.ibeacon.minor, 16);
	scenario_free(&s);
}

/* A store with several gateways: positions, zones, distances from the
 * gateway being played, and the mistakes a user can make. */
static void test_gateways(void **state)
{
	struct scenario s;
	struct scn_error e;
	double x, y;

	(void)state;
	assert_int_equal(parse("gateway door 0,0 entrance\ngateway till 10,0\n"
			       "tag a\n  customer crm-a\n  ibeacon "
			       "e2e0a11c-0000-4000-8000-000000000001:1:1\n"
			       "  path 0s:0,0 10s:10,0\n", &s, &e), 0);
	assert_int_equal(s.n_gateways, 2);
	assert_string_equal(s.gateways[0].zone, "entrance");
	assert_string_equal(s.gateways[1].zone, "till");
	assert_string_equal(s.tags[0].customer, "crm-a");
	assert_int_equal(scenario_gateway(&s, "till"), 1);
	assert_int_equal(scenario_gateway(&s, "nope"), -1);
	assert_true(scenario_tag_position(&s.tags[0], 2500000, &x, &y));
	assert_true(fabs(x - 2.5) < 1e-9 && fabs(y) < 1e-9);
	s.active_gateway = 1;
	assert_true(fabs(scenario_tag_distance(&s, &s.tags[0], 2500000) - 7.5) < 1e-9);
	s.active_gateway = 0;
	assert_true(fabs(scenario_tag_distance(&s, &s.tags[0], 2500000) - 2.5) < 1e-9);
	assert_true(scenario_tag_distance(&s, &s.tags[0], 11000000) < 0);
	scenario_free(&s);

	assert_int_equal(parse("gateway door 0\n", &s, &e), -1);
	assert_non_null(strstr(e.msg, "X,Y"));
	assert_int_equal(parse("gateway door 0,0\ngateway door 1,1\n", &s, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(parse("gateway door x,0\n", &s, &e), -1);
	assert_int_equal(e.line, 1);
}

static void test_load_missing_file(void **state)
{
	struct scenario s;
	struct scn_error e;

	(void)state;
	assert_int_equal(scenario_load("/nonexistent/dir/x.scn", &s, &e), -1);
	assert_int_equal(e.line, 0);
	assert_non_null(strstr(e.msg, "cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_long_and_nul_lines),
		cmocka_unit_test(test_leading_zero_is_decimal),
		cmocka_unit_test(test_gateways),
		cmocka_unit_test(test_load_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
