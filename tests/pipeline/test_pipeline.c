/* test_pipeline.c - the whole data path from advertising reports to what
 * leaves it: visits and triggers for consented customers only, snapshot
 * swaps, withdrawal, EID tags across rotations, RPA phones, beacon health. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "aes_openssl.h"
#include "eddystone_eid.h"
#include "etlm.h"
#include "irk.h"
#include "pl_harness.h"
#include "snap_builder.h"

#define T0 1773133200ull /* 2026-03-10T09:00:00Z */

static const uint8_t UUID_ALICE[16] = { 0xa1, 0x1c, 0xe0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0,
					0, 0, 0, 1 };
static const uint8_t UUID_BOB[16] = { 0xca, 0x4a, 0x21, 0xe5, 0xb0, 0xb0, 0x40, 0, 0x80, 0, 0, 0,
				      0, 0, 0, 2 };
static const uint8_t ADDR_ALICE[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0xc6 };
static const uint8_t ADDR_BOB[6] = { 0xb0, 0xb0, 0xb0, 0xb0, 0xb0, 0xc7 };
static const uint8_t IK_TAG[16] = { 0x5e, 0xc7, 0x17, 0x1e, 0x4b, 0x02, 0x93, 0xd3,
				    0x38, 0x0f, 0x27, 0x6a, 0x81, 0xfe, 0x40, 0x33 };

static struct pipeline_config config(void)
{
	struct pipeline_config c;

	pipeline_config_defaults(&c);
	strcpy(c.site, "store-7");
	strcpy(c.gateway, "gw-1");
	strcpy(c.zone, "entrance");
	c.enter_rssi = -70;
	c.exit_rssi = -80;
	c.absence_timeout_s = 20;
	c.dwell_marks_s[0] = 60;
	c.dwell_marks_s[1] = 120;
	c.n_dwell_marks = 2;
	return c;
}

/* alice: consented (presence + retargeting on "push"), bob: enrolled, no consent. */
static struct snap_builder *store_db(void)
{
	struct snap_builder *b = sb_new();
	uint32_t a, bob;

	sb_channel(b, "push");
	sb_channel(b, "email");
	a = sb_customer(b, 1, "alice-0001");
	bob = sb_customer(b, 2, "CANARY-BOB-REF");
	sb_consent(b, a, SNAP_PRESENCE, 1, 0, 0, 0, "privacy-2026-01");
	sb_consent(b, a, SNAP_RETARGETING, 1, 0, 0, 0x1, "privacy-2026-01");
	sb_ibeacon(b, a, UUID_ALICE, 7, 1);
	sb_ibeacon(b, bob, UUID_BOB, 7, 2);
	sb_campaign(b, 10, "welcome", "entrance", SNAP_EVENT_ENTER)->cooldown_s = 3600;
	sb_campaign(b, 11, "stay-a-minute", "entrance", SNAP_EVENT_DWELL)->min_dwell_s = 60;
	sb_campaign(b, 12, "goodbye", "entrance", SNAP_EVENT_EXIT)->min_dwell_s = 30;
	sb_campaign(b, 13, "elsewhere", "checkout", SNAP_EVENT_ENTER);
	return b;
}

static void test_visit_and_triggers(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	struct snap_builder *b = store_db();
	struct bf_frame fa = frame_ibeacon(UUID_ALICE, 7, 1), fb = frame_ibeacon(UUID_BOB, 7, 2);
	const struct pipeline_stats *st;
	cJSON *j;

	(void)state;
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	/* Both stand at the door for 90 s, then leave. */
	for (uint64_t t = T0; t < T0 + 90; t++) {
		harness_report(&h, S(t), ADDR_ALICE, ADV_ADDR_RANDOM, -58, &fa);
		harness_report(&h, S(t) + 1000, ADDR_BOB, ADV_ADDR_RANDOM, -57, &fb);
		pipeline_tick(h.p, S(t) + 500000);
	}
	for (uint64_t t = T0 + 90; t < T0 + 120; t++)
		pipeline_tick(h.p, S(t));
	assert_int_equal(h.visits[VISIT_ENTER], 1);
	assert_int_equal(h.visits[VISIT_DWELL], 1);
	assert_int_equal(h.visits[VISIT_EXIT], 1);
	assert_int_equal(h.triggers, 3);
	assert_string_equal(h.trigger_events[0], "enter");
	assert_string_equal(h.trigger_campaigns[0], "welcome");
	assert_string_equal(h.trigger_events[1], "dwell");
	assert_string_equal(h.trigger_events[2], "exit");

	j = cJSON_Parse(h.last_trigger);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "customer_ref")->valuestring, "alice-0001");
	assert_string_equal(cJSON_GetObjectItem(j, "campaign")->valuestring, "goodbye");
	assert_string_equal(cJSON_GetObjectItem(j, "site")->valuestring, "store-7");
	assert_string_equal(cJSON_GetObjectItem(j, "gateway")->valuestring, "gw-1");
	assert_string_equal(cJSON_GetObjectItem(j, "zone")->valuestring, "entrance");
	assert_string_equal(cJSON_GetObjectItem(j, "policy")->valuestring, "privacy-2026-01");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "channels")), 1);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "channels"), 0)->valuestring,
			    "push");
	assert_in_range(cJSON_GetObjectItem(j, "dwell_s")->valueint, 85, 90);
	assert_float_equal(cJSON_GetObjectItem(j, "rssi")->valuedouble, -58.0, 0.5);
	assert_float_equal(cJSON_GetObjectItem(j, "proximity_m")->valuedouble, 1.0, 0.2);
	assert_int_equal(strlen(cJSON_GetObjectItem(j, "id")->valuestring), 36);
	assert_int_equal(cJSON_GetObjectItem(j, "id")->valuestring[14], '7');
	assert_true(strncmp(cJSON_GetObjectItem(j, "ts")->valuestring, "2026-03-10T09:0", 15) == 0);
	cJSON_Delete(j);

	st = pipeline_get_stats(h.p);
	assert_int_equal(st->reports, 180);
	assert_int_equal(st->identified, 180);
	assert_int_equal(st->consented, 90);
	assert_int_equal(st->no_consent, 90);
	assert_int_equal(st->triggers, 3);
	/* Bob never shows up by name. */
	assert_null(strstr(h.out, "CANARY-BOB"));
	harness_fini(&h);
	sb_free(b);
}

/* A controller that reports no RSSI (0x7F) still proves presence: the
 * visit starts, and the trigger says rssi/proximity unknown (null) rather
 * than publishing a made-up figure. */
static void test_no_rssi_controller(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	struct snap_builder *b = store_db();
	struct bf_frame fa = frame_ibeacon(UUID_ALICE, 7, 1);
	cJSON *j;

	(void)state;
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	for (uint64_t t = T0; t < T0 + 10; t++) {
		harness_report(&h, S(t), ADDR_ALICE, ADV_ADDR_RANDOM, ADV_RSSI_UNAVAILABLE, &fa);
		pipeline_tick(h.p, S(t) + 500000);
	}
	assert_int_equal(h.visits[VISIT_ENTER], 1);
	assert_int_equal(h.triggers, 1);
	j = cJSON_Parse(h.last_trigger);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "event")->valuestring, "enter");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "rssi")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "proximity_m")));
	cJSON_Delete(j);
	/* Silence still ends the visit. */
	for (uint64_t t = T0 + 10; t < T0 + 40; t++)
		pipeline_tick(h.p, S(t));
	assert_int_equal(h.visits[VISIT_EXIT], 1);
	harness_fini(&h);
	sb_free(b);
}

static void test_withdrawal_and_expiry_at_event_time(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	struct snap_builder *b = store_db();
	struct bf_frame fa = frame_ibeacon(UUID_ALICE, 7, 1);

	(void)state;
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	harness_walk(&h, T0, T0 + 30, ADDR_ALICE, -58, &fa);
	assert_int_equal(h.visits[VISIT_ENTER], 1);
	assert_int_equal(h.triggers, 1);
	/* beaconctl consent withdraw alice retargeting, at T0+30: the store
	 * re-reads; from then on no trigger, though the visit goes on. */
	sb_consent(b, 0, SNAP_RETARGETING, 1, 0, T0 + 30, 0x1, "privacy-2026-01");
	pipeline_set_snapshot(h.p, sb_build(b, 2));
	harness_walk(&h, T0 + 30, T0 + 70, ADDR_ALICE, -58, &fa);
	assert_int_equal(h.visits[VISIT_ENTER], 1); /* the open visit survived the swap */
	assert_int_equal(h.visits[VISIT_DWELL], 1);
	assert_int_equal(h.triggers, 1);
	/* Presence expires at T0+80 (already in the snapshot): the visit is
	 * dropped at that second, with no exit and nothing more recorded. */
	sb_consent(b, 0, SNAP_PRESENCE, 1, T0 + 80, 0, 0, "privacy-2026-01");
	pipeline_set_snapshot(h.p, sb_build(b, 3));
	harness_walk(&h, T0 + 70, T0 + 150, ADDR_ALICE, -58, &fa);
	assert_int_equal(h.visits[VISIT_DWELL], 1);
	assert_int_equal(h.visits[VISIT_EXIT], 0);
	assert_int_equal(pipeline_get_stats(h.p)->tracked_devices, 0);
	assert_int_equal(h.triggers, 1);
	harness_fini(&h);
	sb_free(b);
}

static void test_swap_drops_removed_customers(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	struct snap_builder *b = store_db(), *b2 = sb_new();
	struct bf_frame fa = frame_ibeacon(UUID_ALICE, 7, 1);

	(void)state;
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	harness_walk(&h, T0, T0 + 10, ADDR_ALICE, -58, &fa);
	assert_int_equal(pipeline_get_stats(h.p)->tracked_devices, 1);
	/* beaconctl forget alice: she is gone from the next snapshot. */
	sb_customer(b2, 2, "someone");
	pipeline_set_snapshot(h.p, sb_build(b2, 2));
	assert_int_equal(pipeline_get_stats(h.p)->tracked_devices, 0);
	harness_walk(&h, T0 + 10, T0 + 60, ADDR_ALICE, -58, &fa);
	pipeline_flush(h.p, S(T0 + 60));
	assert_int_equal(h.visits[VISIT_EXIT], 0);
	assert_null(strstr(h.out, "visit 2 alice"));
	harness_fini(&h);
	sb_free(b);
	sb_free(b2);
}

/* beaconctl identifier remove, then add again: the visit open before the
 * removal ends with it, without an exit; the person seen after the add
 * starts a new one. Nothing is dated inside the gap. */
static void test_swap_drops_customers_without_identifier(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	struct snap_builder *b = store_db(), *bare = sb_new();
	struct bf_frame fa = frame_ibeacon(UUID_ALICE, 7, 1);
	uint32_t a;

	(void)state;
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	harness_walk(&h, T0, T0 + 10, ADDR_ALICE, -58, &fa);
	assert_int_equal(h.visits[VISIT_ENTER], 1);
	/* alice as she is, without her identifier */
	sb_channel(bare, "push");
	a = sb_customer(bare, 1, "alice-0001");
	sb_consent(bare, a, SNAP_PRESENCE, 1, 0, 0, 0, "privacy-2026-01");
	sb_consent(bare, a, SNAP_RETARGETING, 1, 0, 0, 0x1, "privacy-2026-01");
	pipeline_set_snapshot(h.p, sb_build(bare, 2));
	assert_int_equal(pipeline_get_stats(h.p)->tracked_devices, 0);
	harness_walk(&h, T0 + 10, T0 + 40, ADDR_ALICE, -58, &fa);
	assert_int_equal(h.visits[VISIT_EXIT], 0);
	/* the identifier is back: a new visit, the old one never exits */
	pipeline_set_snapshot(h.p, sb_build(b, 3));
	harness_walk(&h, T0 + 40, T0 + 50, ADDR_ALICE, -58, &fa);
	assert_int_equal(h.visits[VISIT_ENTER], 2);
	assert_int_equal(h.visits[VISIT_EXIT], 0);
	harness_fini(&h);
	sb_free(b);
	sb_free(bare);
}

static void test_eid_tag_across_rotations_with_etlm(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	struct snap_builder *b = sb_new();
	struct pl_aes *aes = pl_aes_new();
	const int64_t offset = 1000000; /* tag counter = unix time - offset */
	const uint8_t stranger[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0xd6 };
	uint8_t first_addr[6] = { 0 };
	struct bf_frame last_etlm = { .type = BF_EDDYSTONE_ETLM };
	uint32_t c;
	cJSON *j;

	(void)state;
	c = sb_customer(b, 5, "tag-owner");
	sb_consent(b, c, SNAP_PRESENCE, 1, 0, 0, 0, "p1");
	sb_eid(b, c, IK_TAG, 3, offset); /* a new EID every 8 s */
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	for (uint64_t t = T0; t < T0 + 100; t++) {
		uint32_t counter = (uint32_t)((int64_t)t - offset) + 3; /* tag clock 3 s fast */
		struct bf_frame f = { .type = BF_EDDYSTONE_EID };
		/* An EID tag changes its random address with each EID. */
		uint8_t addr[6] = { (uint8_t)(counter >> 3), 0x42, 0x42, 0x42, 0x42, 0x12 };

		f.u.eid.tx_power = -18;
		eid_compute(aes128_openssl, IK_TAG, 3, counter, f.u.eid.eid);
		harness_report(&h, S(t), addr, ADV_ADDR_RANDOM, -60, &f);
		if (t == T0)
			memcpy(first_addr, addr, 6);
		if (t % 10 == 5) {
			struct bf_eddystone_tlm tlm = { .battery_mv = 2950,
							.temp_8_8 = 22 * 256,
							.adv_count = (uint32_t)t,
							.uptime_ds = 1000 };
			struct bf_frame e = { .type = BF_EDDYSTONE_ETLM };

			assert_true(etlm_encrypt(aes, IK_TAG, eid_period_start(3, counter),
						 (uint16_t)t, &tlm, &e.u.etlm));
			harness_report(&h, S(t) + 100000, addr, ADV_ADDR_RANDOM, -60, &e);
			last_etlm = e;
		}
		pipeline_tick(h.p, S(t) + 500000);
	}
	assert_int_equal(h.visits[VISIT_ENTER], 1); /* one visit through 12 rotations */
	assert_int_equal(h.visits[VISIT_DWELL], 1);
	assert_int_equal(pipeline_get_stats(h.p)->identified, 100);
	assert_int_equal(pipeline_get_stats(h.p)->etlm_decrypted, 10);
	assert_int_equal(h.health, 1); /* rate-limited to one per 5 min */
	j = cJSON_Parse(h.last_health);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "kind")->valuestring, "tag");
	assert_string_equal(cJSON_GetObjectItem(j, "customer_ref")->valuestring, "tag-owner");
	assert_int_equal(cJSON_GetObjectItem(j, "battery_mv")->valueint, 2950);
	assert_float_equal(cJSON_GetObjectItem(j, "temperature_c")->valuedouble, 22.0, 0.01);
	cJSON_Delete(j);
	/* eTLM frames are the tag's, not anonymous footfall. */
	assert_int_equal(pipeline_get_stats(h.p)->footfall_counted, 0);
	/* The same frame replayed from an address the tag never used, or from
	 * one it left rotations ago (still remembered for the tag, but no longer
	 * its address), pairs with nobody: not decrypted, counted as anonymous. */
	harness_report(&h, S(T0 + 100), stranger, ADV_ADDR_RANDOM, -60, &last_etlm);
	harness_report(&h, S(T0 + 100), first_addr, ADV_ADDR_RANDOM, -60, &last_etlm);
	assert_int_equal(pipeline_get_stats(h.p)->etlm_decrypted, 10);
	assert_int_equal(pipeline_get_stats(h.p)->etlm_failed, 0);
	assert_int_equal(pipeline_get_stats(h.p)->footfall_counted, 2);
	harness_fini(&h);
	sb_free(b);
	pl_aes_free(aes);
}

static void make_rpa(struct pl_aes *a, const uint8_t irk[16], uint32_t prand, uint8_t addr[6])
{
	uint32_t hash;

	prand = (prand & 0x3fffff) | 0x400000;
	hash = irk_ah(a, irk, prand);
	addr[0] = (uint8_t)hash, addr[1] = (uint8_t)(hash >> 8), addr[2] = (uint8_t)(hash >> 16);
	addr[3] = (uint8_t)prand, addr[4] = (uint8_t)(prand >> 8), addr[5] = (uint8_t)(prand >> 16);
}

static void test_rpa_phone(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	struct snap_builder *b = sb_new();
	struct pl_aes *aes = pl_aes_new();
	uint8_t irk[16] = { 0xec, 0x02, 0x34, 0xa3, 0x57, 0xc8, 0xad, 0x05,
			    0x34, 0x10, 0x10, 0xa6, 0x0a, 0x39, 0x7d, 0x9b };
	uint32_t c;

	(void)state;
	c = sb_customer(b, 9, "app-user");
	sb_consent(b, c, SNAP_PRESENCE, 1, 0, 0, 0, "p1");
	sb_consent(b, c, SNAP_RETARGETING, 1, 0, 0, 0x1, "r1");
	sb_channel(b, "push");
	sb_irk(b, c, irk);
	sb_campaign(b, 1, "hi-app", "entrance", SNAP_EVENT_ENTER);
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	for (uint64_t t = T0; t < T0 + 300; t++) {
		uint8_t addr[6];

		make_rpa(aes, irk, (uint32_t)(t / 60) * 7919u, addr); /* new RPA every minute */
		harness_report(&h, S(t), addr, ADV_ADDR_RANDOM, -62, NULL);
		pipeline_tick(h.p, S(t) + 500000);
	}
	assert_int_equal(h.visits[VISIT_ENTER], 1);
	assert_int_equal(h.triggers, 1);
	assert_int_equal(pipeline_get_stats(h.p)->irk_resolved, 300);
	/* One AES pass per new address, cache hits for the rest. */
	assert_int_equal(pipeline_get_stats(h.p)->irk_cache_hits, 295);
	harness_fini(&h);
	sb_free(b);
	pl_aes_free(aes);
}

static void test_fixed_beacon_health(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	static const uint8_t store_ns[10] = { 0x57, 0x0e, 0x57, 0x0e, 0, 0, 0, 0, 0, 7 };
	static const uint8_t shelf[6] = { 0x01, 0x00, 0x00, 0x5e, 0x1f, 0xc0 };	 /* static random */
	static const uint8_t person[6] = { 0xc4, 0x4a, 0x27, 0x00, 0x00, 0xd0 }; /* static random */
	static const uint8_t rpa[6] = { 0xc4, 0x4a, 0x27, 0x00, 0x00, 0x50 };
	struct bf_frame uid = { .type = BF_EDDYSTONE_UID }, tlm = { .type = BF_EDDYSTONE_TLM };
	cJSON *j;

	(void)state;
	memcpy(cfg.store_namespaces[0], store_ns, 10);
	cfg.n_store_namespaces = 1;
	harness_init(&h, &cfg);
	memcpy(uid.u.uid.namespace_id, store_ns, 10);
	memset(uid.u.uid.instance, 0x0a, 6);
	uid.u.uid.tx_power = -20;
	tlm.u.tlm = (struct bf_eddystone_tlm){ .battery_mv = 3010,
					       .temp_8_8 = BF_TLM_TEMP_UNSUPPORTED,
					       .adv_count = 99,
					       .uptime_ds = 36000 };
	/* 20 minutes: the shelf beacon interleaves UID and TLM; a shopper's
	 * tag sends TLM from a static and from a private address. */
	for (uint64_t t = T0; t < T0 + 1200; t += 2) {
		harness_report(&h, S(t), shelf, ADV_ADDR_RANDOM, -70, &uid);
		harness_report(&h, S(t + 1), shelf, ADV_ADDR_RANDOM, -70, &tlm);
		harness_report(&h, S(t + 1), person, ADV_ADDR_RANDOM, -60, &tlm);
		harness_report(&h, S(t + 1), rpa, ADV_ADDR_RANDOM, -60, &tlm);
	}
	assert_int_equal(h.health, 4); /* at 0, 5, 10, 15 minutes */
	j = cJSON_Parse(h.last_health);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "kind")->valuestring, "fixed");
	assert_string_equal(cJSON_GetObjectItem(j, "address")->valuestring, "C0:1F:5E:00:00:01");
	assert_string_equal(cJSON_GetObjectItem(j, "namespace")->valuestring,
			    "570e570e000000000007");
	assert_int_equal(cJSON_GetObjectItem(j, "battery_mv")->valueint, 3010);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "temperature_c")));
	cJSON_Delete(j);
	/* The shelf beacon is not a visitor; the shopper's tags are (2 devices),
	 * below the minimum count of 5: no footfall published. */
	assert_int_equal(pipeline_get_stats(h.p)->footfall_counted, 2 * 600);
	assert_null(strstr(h.out, "D0:00:00:27:4A:C4"));
	assert_null(strstr(h.out, "50:00:00:27:4A:C4"));
	harness_fini(&h);
}

/* Dwell campaigns fire when the visit reaches their own min_dwell, whatever
 * the reporting marks: marks 10, 20 and a 50 s campaign on a 119 s visit;
 * default marks (60, 300, 900) and 120 s and 1000 s campaigns. */
static void dwell_run(const uint32_t *marks, uint8_t n_marks, const uint32_t *min_dwell,
		      int n_campaigns, uint64_t stay_s, struct harness *h)
{
	struct pipeline_config cfg = config();
	struct snap_builder *b = sb_new();
	struct bf_frame fa = frame_ibeacon(UUID_ALICE, 7, 1);
	uint32_t a;

	memcpy(cfg.dwell_marks_s, marks, n_marks * sizeof(*marks));
	cfg.n_dwell_marks = n_marks;
	sb_channel(b, "push");
	a = sb_customer(b, 1, "alice-0001");
	sb_consent(b, a, SNAP_PRESENCE, 1, 0, 0, 0, "p");
	sb_consent(b, a, SNAP_RETARGETING, 1, 0, 0, 0x1, "p");
	sb_ibeacon(b, a, UUID_ALICE, 7, 1);
	for (int i = 0; i < n_campaigns; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dwell-%u", min_dwell[i]);
		sb_campaign(b, 20 + i, name, "entrance", SNAP_EVENT_DWELL)->min_dwell_s =
			min_dwell[i];
	}
	harness_init(h, &cfg);
	pipeline_set_snapshot(h->p, sb_build(b, 1));
	harness_walk(h, T0, T0 + stay_s, ADDR_ALICE, -58, &fa);
	pipeline_flush(h->p, S(T0 + stay_s));
	sb_free(b);
}

static void test_dwell_campaign_own_threshold(void **state)
{
	static const uint32_t marks_short[] = { 10, 20 }, marks_default[] = { 60, 300, 900 };
	static const uint32_t fifty[] = { 50, 120 }, long_ones[] = { 120, 1000 };
	struct harness h;
	cJSON *j;

	(void)state;
	dwell_run(marks_short, 2, fifty, 2, 119, &h);
	assert_int_equal(h.visits[VISIT_DWELL], 2);  /* the marks are still reported */
	assert_int_equal(h.triggers, 1);
	assert_string_equal(h.trigger_campaigns[0], "dwell-50");
	j = cJSON_Parse(h.last_trigger);
	assert_in_range(cJSON_GetObjectItem(j, "dwell_s")->valueint, 50, 51);
	cJSON_Delete(j);
	harness_fini(&h);

	dwell_run(marks_default, 3, long_ones, 2, 1100, &h);
	assert_int_equal(h.triggers, 2);
	assert_string_equal(h.trigger_campaigns[0], "dwell-120");
	assert_string_equal(h.trigger_campaigns[1], "dwell-1000");
	j = cJSON_Parse(h.last_trigger);
	assert_in_range(cJSON_GetObjectItem(j, "dwell_s")->valueint, 1000, 1001);
	cJSON_Delete(j);
	harness_fini(&h);
}

/* A peer's summary of alice at time t_s (the peer names the holder). */
static void peer_says(struct harness *h, uint64_t t_s, float rssi, const char *extra)
{
	char ts[32], json[512];
	time_t t = (time_t)t_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	snprintf(json, sizeof(json),
		 "{\"schema\":1,\"site\":\"store-7\",\"gateway\":\"gw-2\",\"zone\":\"sofas\","
		 "\"ts\":\"%s\",\"customers\":[{\"ref\":\"alice-0001\",\"rssi\":%.1f,"
		 "\"holds\":true%s}]}", ts, (double)rssi, extra);
	assert_int_equal(pipeline_site_peer(h->p, "gw-2", json, strlen(json), S(t_s)), 0);
}

/*
 * Two gateways of a site, gw-2 played by its summaries: while gw-2 holds
 * alice and hears her better, gw-1 opens no visit; when she walks to gw-1
 * it takes her over (its summary names gw-2 and when the move happened),
 * the visit opening from that decision. Bad since/from are counted and
 * the entry is dropped.
 */
static void test_site_handover(void **state)
{
	struct pipeline_config cfg = config();
	struct harness h;
	struct snap_builder *b = store_db();
	struct bf_frame fa = frame_ibeacon(UUID_ALICE, 7, 1);
	uint64_t t;
	char *sum;

	(void)state;
	cfg.site_enabled = true;
	cfg.site_margin_db = 6;
	cfg.site_hold_s = 2;
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	for (t = T0; t < T0 + 8; t++) {
		harness_report(&h, S(t), ADDR_ALICE, ADV_ADDR_RANDOM, -68, &fa);
		harness_report(&h, S(t) + 500000, ADDR_ALICE, ADV_ADDR_RANDOM, -68, &fa);
		peer_says(&h, t, -60, ",\"since\":\"2026-03-10T09:00:00.000Z\"");
		pipeline_tick(h.p, S(t) + 600000);
	}
	assert_int_equal(h.visits[VISIT_ENTER], 0);
	assert_false(pipeline_site_holds(h.p, 1));
	for (; t < T0 + 16 && !pipeline_site_holds(h.p, 1); t++) {
		harness_report(&h, S(t), ADDR_ALICE, ADV_ADDR_RANDOM, -58, &fa);
		harness_report(&h, S(t) + 500000, ADDR_ALICE, ADV_ADDR_RANDOM, -58, &fa);
		peer_says(&h, t, -75, "");
		pipeline_tick(h.p, S(t) + 600000);
	}
	assert_true(pipeline_site_holds(h.p, 1));
	assert_int_equal(h.visits[VISIT_ENTER], 1);
	assert_int_equal(pipeline_site_get_stats(h.p)->handovers, 1);
	sum = pipeline_site_summary(h.p, S(t));
	assert_non_null(sum);
	assert_non_null(strstr(sum, "\"holds\":true"));
	assert_non_null(strstr(sum, "\"from\":\"gw-2\""));
	assert_non_null(strstr(sum, "\"since\":\"2026-03-10T09:00:"));
	free(sum);

	/* Malformed since / from: the entry is dropped and counted. */
	peer_says(&h, t, -50, ",\"since\":\"yesterday\"");
	peer_says(&h, t, -50, ",\"from\":5");
	assert_int_equal(pipeline_site_get_stats(h.p)->peer_entries_bad, 2);
	assert_true(pipeline_site_holds(h.p, 1));
	harness_fini(&h);
	sb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dwell_campaign_own_threshold),
		cmocka_unit_test(test_visit_and_triggers),
		cmocka_unit_test(test_no_rssi_controller),
		cmocka_unit_test(test_withdrawal_and_expiry_at_event_time),
		cmocka_unit_test(test_swap_drops_removed_customers),
		cmocka_unit_test(test_swap_drops_customers_without_identifier),
		cmocka_unit_test(test_eid_tag_across_rotations_with_etlm),
		cmocka_unit_test(test_rpa_phone),
		cmocka_unit_test(test_fixed_beacon_health),
		cmocka_unit_test(test_site_handover),
	};

	setenv("TZ", "UTC0", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
