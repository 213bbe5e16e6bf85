/*
 * test_sim_world.c - the scenario engine (what devices send, when, and
 * how faults shape it) and the virtual controller's HCI answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aes_openssl.h"
#include "beacon_frame.h"
#include "eddystone_eid.h"
#include "h4.h"
#include "hci_cmd.h"
#include "sim_addr.h"
#include "sim_ctrl.h"
#include "sim_world.h"

#define START 1767225600 /* 2026-01-01T00:00:00Z */

static void load(const char *text, struct scenario *s)
{
	struct scn_error e;

	if (scenario_parse(text, strlen(text), s, &e))
		fail_msg("scenario: line %u: %s", e.line, e.msg);
}

static struct sim_world *world(const struct scenario *s, uint64_t seed)
{
	struct sim_world *w = sim_world_new(s, seed, START, 0, aes128_openssl);

	assert_non_null(w);
	return w;
}

static const char mixed[] =
	"duration 5m\n"
	"tag a\n ibeacon 11111111-2222-3333-4444-555555555555:1:2\n path 10s:3 2m:1 3m:20\n"
	"tag b\n eddystone-eid 000102030405060708090a0b0c0d0e0f:4\n distance 2\n"
	"tag c\n irk ec0234a357c8ad05341010a60a397d9b\n rotate 1m\n interval 500ms\n distance 2\n"
	"crowd p\n count 20\n dwell 30s..2m\n rotate 1m\n"
	"fault silence at 1m for 20s\n";

static void test_deterministic(void **state)
{
	struct scenario s;
	struct sim_event e1, e2;
	int differ = 0;

	(void)state;
	load(mixed, &s);
	struct sim_world *w1 = world(&s, 9), *w2 = world(&s, 9), *w3 = world(&s, 10);

	for (;;) {
		sim_world_next(w1, UINT64_MAX, &e1);
		sim_world_next(w2, UINT64_MAX, &e2);
		assert_int_equal(e1.kind, e2.kind);
		assert_int_equal(e1.t_us, e2.t_us);
		if (e1.kind == SIM_EV_END)
			break;
		if (e1.kind == SIM_EV_ADV) {
			assert_memory_equal(e1.adv.addr, e2.adv.addr, 6);
			assert_int_equal(e1.adv.rssi, e2.adv.rssi);
			assert_int_equal(e1.adv.len, e2.adv.len);
			assert_memory_equal(e1.adv.data, e2.adv.data, e1.adv.len);
		}
		sim_world_next(w3, UINT64_MAX, &e2);
		differ += e2.kind != e1.kind || e2.t_us != e1.t_us;
	}
	assert_true(differ > 100); /* another seed is another run */
	sim_world_free(w1);
	sim_world_free(w2);
	sim_world_free(w3);
	scenario_free(&s);
}

static void test_path_window_and_frame(void **state)
{
	struct scenario s;
	struct sim_event ev;
	unsigned n = 0;
	struct bf_frame f;

	(void)state;
	load("noise 0\ntag a\n ibeacon 11111111-2222-3333-4444-555555555555:7:8\n"
	     " txpower -60\n path 10s:10 20s:10\n", &s);
	struct sim_world *w = world(&s, 1);

	for (sim_world_next(w, UINT64_MAX, &ev); ev.kind != SIM_EV_END;
	     sim_world_next(w, UINT64_MAX, &ev)) {
		assert_int_equal(ev.kind, SIM_EV_ADV);
		assert_true(ev.t_us >= 10000000 && ev.t_us <= 20000000);
		assert_int_equal(ev.adv.rssi, -80); /* -60 - 20 log10(10), no noise */
		assert_true(ev.adv.legacy);
		assert_int_equal(ev.adv.kind, ADV_KIND_NONCONN_IND);
		assert_int_equal(ev.adv.addr[5] & 0xC0, 0xC0); /* static random */
		assert_int_equal(bf_decode(ev.adv.data, ev.adv.len, &f, 1), 1);
		assert_int_equal(f.type, BF_IBEACON);
		assert_int_equal(f.u.ibeacon.major, 7);
		assert_int_equal(f.u.ibeacon.minor, 8);
		assert_int_equal(f.u.ibeacon.measured_power, -60);
		assert_string_equal(ev.adv.device, "a");
		n++;
	}
	/* 10 s at 100 ms + 0..10 ms advDelay. */
	assert_true(n >= 90 && n <= 101);
	sim_world_free(w);
	scenario_free(&s);
}

static void test_eid_rotation(void **state)
{
	struct scenario s;
	struct sim_event ev;
	struct bf_frame f;
	static const uint8_t key[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	uint8_t last_eid[8] = { 0 }, last_addr[6] = { 0 };
	unsigned changes = 0, addr_changes = 0;

	(void)state;
	/* k = 4: a new EID every 16 s. Offset -5: the tag's counter read 0 five
	 * seconds before the Unix epoch, so it is Unix time + 5. */
	load("duration 100s\ntag b\n eddystone-eid 000102030405060708090a0b0c0d0e0f:4:-5\n"
	     " txpower -62\n distance 2\n", &s);
	struct sim_world *w = world(&s, 1);

	for (sim_world_next(w, UINT64_MAX, &ev); ev.kind != SIM_EV_END;
	     sim_world_next(w, UINT64_MAX, &ev)) {
		assert_int_equal(bf_decode(ev.adv.data, ev.adv.len, &f, 1), 1);
		assert_int_equal(f.type, BF_EDDYSTONE_EID);
		assert_int_equal(f.u.eid.tx_power, -62 + 41);
		uint32_t counter = (uint32_t)(START + ev.t_us / 1000000 + 5);
		uint8_t want[8];

		eid_compute(aes128_openssl, key, 4, counter, want);
		assert_memory_equal(f.u.eid.eid, want, 8);
		if (memcmp(last_eid, want, 8)) {
			changes++;
			memcpy(last_eid, want, 8);
		}
		if (memcmp(last_addr, ev.adv.addr, 6)) {
			addr_changes++;
			memcpy(last_addr, ev.adv.addr, 6);
			assert_int_equal(ev.adv.addr[5] & 0xC0, 0x00); /* non-resolvable */
		}
	}
	assert_true(changes >= 6 && changes <= 8);
	assert_int_equal(addr_changes, changes); /* the address rotates with the EID */
	sim_world_free(w);
	scenario_free(&s);
}

static const uint8_t spec_irk[16] = { 0xec, 0x02, 0x34, 0xa3, 0x57, 0xc8, 0xad, 0x05,
				      0x34, 0x10, 0x10, 0xa6, 0x0a, 0x39, 0x7d, 0x9b };

static void test_irk_phone_and_crowd(void **state)
{
	struct scenario s;
	struct sim_event ev;
	uint8_t rpas[64][6], nrpas[512][6];
	size_t n_rpa = 0, n_nrpa = 0;

	(void)state;
	load("duration 10m\ntag c\n irk ec0234a357c8ad05341010a60a397d9b\n rotate 1m\n"
	     " interval 1s\n distance 2\n"
	     "crowd p\n count 10\n interval 1s\n dwell 10m\n distance 2..3\n rotate 1m\n", &s);
	struct sim_world *w = world(&s, 5);

	for (sim_world_next(w, UINT64_MAX, &ev); ev.kind != SIM_EV_END;
	     sim_world_next(w, UINT64_MAX, &ev)) {
		struct bf_frame f;

		assert_int_equal(ev.adv.kind, ADV_KIND_IND);
		assert_int_equal(ev.adv.addr_type, ADV_ADDR_RANDOM);
		/* Apple data that is not an iBeacon: no beacon frame. */
		assert_int_equal(bf_decode(ev.adv.data, ev.adv.len, &f, 1), 0);
		assert_true(ev.adv.len <= BF_LEGACY_ADV_MAX);
		if (!strcmp(ev.adv.device, "c")) {
			assert_true(sim_rpa_resolves(aes128_openssl, spec_irk, ev.adv.addr));
			if (!n_rpa || memcmp(rpas[n_rpa - 1], ev.adv.addr, 6))
				memcpy(rpas[n_rpa++], ev.adv.addr, 6);
			assert_true(n_rpa < 64);
		} else {
			assert_int_equal(ev.adv.addr[5] & 0xC0, 0x00);
			assert_false(sim_rpa_resolves(aes128_openssl, spec_irk, ev.adv.addr));
			bool seen = false;

			for (size_t i = 0; i < n_nrpa && !seen; i++)
				seen = !memcmp(nrpas[i], ev.adv.addr, 6);
			if (!seen) {
				assert_true(n_nrpa < 512);
				memcpy(nrpas[n_nrpa++], ev.adv.addr, 6);
			}
		}
	}
	/* 10 minutes, rotating every 48..72 s. */
	assert_true(n_rpa >= 8 && n_rpa <= 13);
	assert_true(n_nrpa > 10 * 3);
	sim_world_free(w);
	scenario_free(&s);
}

/* A crowd with an irk-key: every phone sends resolvable private addresses
 * of its own IRK (the derivation a bench enrols), rotating. */
static void test_rpa_crowd(void **state)
{
	static const uint8_t key[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	uint8_t irks[5][16], block[16] = { 0 }, expect[16];
	struct scenario s;
	struct sim_event ev;
	unsigned per_phone[5] = { 0 };

	(void)state;
	load("duration 5m\ncrowd p\n count 5\n interval 1s\n dwell 5m\n distance 2..3\n"
	     " rotate 1m\n irk-key 00112233445566778899aabbccddeeff\n", &s);
	assert_true(s.crowds[0].has_irk_key);
	for (uint32_t m = 0; m < 5; m++)
		sim_crowd_irk(aes128_openssl, key, m, irks[m]);
	block[15] = 3; /* member 3: AES-128(key, 0^96 || 3) */
	aes128_openssl(key, block, expect);
	assert_memory_equal(irks[3], expect, 16);
	struct sim_world *w = world(&s, 9);

	for (sim_world_next(w, UINT64_MAX, &ev); ev.kind != SIM_EV_END;
	     sim_world_next(w, UINT64_MAX, &ev)) {
		int owner = -1;

		assert_int_equal(ev.adv.addr[5] & 0xC0, 0x40);
		for (int m = 0; m < 5; m++)
			if (sim_rpa_resolves(aes128_openssl, irks[m], ev.adv.addr)) {
				assert_int_equal(owner, -1);
				owner = m;
			}
		assert_true(owner >= 0);
		per_phone[owner]++;
	}
	for (int m = 0; m < 5; m++)
		assert_true(per_phone[m] > 0); /* every phone heard, by its own key */
	sim_world_free(w);
	scenario_free(&s);
}

static void test_tlm_silence_sensitivity(void **state)
{
	struct scenario s;
	struct sim_event ev;
	unsigned uid = 0, tlm = 0, faults = 0, far = 0;
	uint32_t last_count = 0;

	(void)state;
	load("duration 60s\nsensitivity -90\n"
	     "tag fixed\n eddystone-uid 00112233445566778899:aabbccddeeff\n tlm 2900 21.5\n"
	     " tlm-every 3\n interval 1s\n distance 2\n"
	     "tag faraway\n ibeacon 11111111-2222-3333-4444-555555555555:1:1\n distance 5000\n"
	     "fault silence at 20s for 10s\n", &s);
	struct sim_world *w = world(&s, 2);

	for (sim_world_next(w, UINT64_MAX, &ev); ev.kind != SIM_EV_END;
	     sim_world_next(w, UINT64_MAX, &ev)) {
		struct bf_frame f;

		if (ev.kind == SIM_EV_FAULT) {
			faults++;
			assert_int_equal(ev.fault->kind, SCN_FAULT_SILENCE);
			assert_int_equal(ev.t_us, 20000000);
			continue;
		}
		assert_false(ev.t_us >= 20000000 && ev.t_us < 30000000);
		if (!strcmp(ev.adv.device, "faraway")) {
			far++;
			continue;
		}
		assert_int_equal(bf_decode(ev.adv.data, ev.adv.len, &f, 1), 1);
		if (f.type == BF_EDDYSTONE_TLM) {
			tlm++;
			assert_int_equal(f.u.tlm.battery_mv, 2900);
			assert_int_equal(f.u.tlm.temp_8_8, (int16_t)(21.5 * 256));
			assert_true(f.u.tlm.adv_count > last_count);
			last_count = f.u.tlm.adv_count;
		} else {
			assert_int_equal(f.type, BF_EDDYSTONE_UID);
			uid++;
		}
	}
	assert_int_equal(far, 0); /* -59 - 20 log10(5000) = -133 dBm: never heard */
	assert_int_equal(faults, 1);
	assert_true(uid >= 2 * tlm - 2 && uid <= 2 * tlm + 2);
	assert_true(uid + tlm >= 45 && uid + tlm <= 51);
	struct sim_world_stats st;

	sim_world_stats(w, &st);
	assert_true(st.silenced >= 9);
	assert_true(st.below_sensitivity > 400);
	sim_world_free(w);
	scenario_free(&s);
}

static void test_extended_payload(void **state)
{
	struct scenario s;
	struct sim_event ev;
	struct bf_frame f;

	(void)state;
	load("duration 2s\ntag x\n eddystone-uid 00112233445566778899:aabbccddeeff\n"
	     " extended 600\n distance 2\n", &s);
	struct sim_world *w = world(&s, 2);

	sim_world_next(w, UINT64_MAX, &ev);
	assert_int_equal(ev.kind, SIM_EV_ADV);
	assert_false(ev.adv.legacy);
	assert_int_equal(ev.adv.kind, ADV_KIND_EXT);
	assert_int_equal(ev.adv.len, 600);
	assert_int_equal(bf_decode(ev.adv.data, ev.adv.len, &f, 1), 1);
	assert_int_equal(f.type, BF_EDDYSTONE_UID);
	sim_world_free(w);
	scenario_free(&s);
}

static void test_until_limit(void **state)
{
	struct scenario s;
	struct sim_event ev;

	(void)state;
	load("duration 10s\ntag a\n ibeacon 11111111-2222-3333-4444-555555555555:1:1\n"
	     " path 5s:1 8s:1\n", &s);
	struct sim_world *w = world(&s, 1);

	sim_world_next(w, 4000000, &ev);
	assert_int_equal(ev.kind, SIM_EV_NONE);
	assert_true(sim_world_peek(w) >= 5000000);
	sim_world_next(w, 6000000, &ev);
	assert_int_equal(ev.kind, SIM_EV_ADV);
	while (ev.kind == SIM_EV_ADV)
		sim_world_next(w, 9000000, &ev);
	assert_int_equal(ev.kind, SIM_EV_NONE);
	sim_world_next(w, 10000000, &ev);
	assert_int_equal(ev.kind, SIM_EV_END);
	assert_int_equal(sim_world_peek(w), UINT64_MAX);
	sim_world_next(w, UINT64_MAX, &ev);
	assert_int_equal(ev.kind, SIM_EV_END);
	sim_world_free(w);
	scenario_free(&s);
}

/* ------------------------------------------------------------ controller */

struct capture {
	uint8_t pkts[32][HCI_MAX_EVENT_H4];
	size_t lens[32];
	size_t n;
};

static void capture(void *ctx, const uint8_t *h4, size_t len)
{
	struct capture *c = ctx;

	assert_true(c->n < 32);
	assert_true(len <= HCI_MAX_EVENT_H4);
	memcpy(c->pkts[c->n], h4, len);
	c->lens[c->n++] = len;
}

static const uint8_t bdaddr[6] = { 1, 2, 3, 4, 5, 6 };
static const struct hci_scan_params sp = { .interval = 0x60, .window = 0x30 };

/* A virtual controller (legacy_only: Bluetooth 4.x, no extended
 * advertising) answering into a new capture, which the caller frees. */
static struct capture *ctrl_new(struct sim_ctrl *ctrl, bool legacy_only)
{
	struct capture *cap = calloc(1, sizeof(*cap));

	sim_ctrl_init(ctrl, legacy_only, bdaddr, capture, cap);
	return cap;
}

/* Send a command; expect one answer; return it parsed. */
static struct hci_ctrl_event ask(struct sim_ctrl *ctrl, struct capture *cap, const uint8_t *cmd,
				 size_t len)
{
	struct hci_ctrl_event ev;

	assert_true(len > 0);
	cap->n = 0;
	sim_ctrl_command(ctrl, cmd + 1, len - 1);
	assert_int_equal(cap->n, 1);
	assert_int_equal(cap->pkts[0][0], H4_EVENT);
	assert_true(hci_ctrl_event_parse(cap->pkts[0] + 1, cap->lens[0] - 1, &ev));
	return ev;
}

/* Power-on masks leave LE Meta events off: turn the scan reports on. */
static void unmask_reports(struct sim_ctrl *ctrl, struct capture *cap, uint8_t *cmd)
{
	ask(ctrl, cap, cmd, hci_cmd_set_event_mask(cmd, HCI_MAX_CMD_H4, HCI_EVENT_MASK_DEFAULT));
	ask(ctrl, cap, cmd, hci_cmd_le_set_event_mask(cmd, HCI_MAX_CMD_H4, HCI_LE_EVENT_MASK_SCAN));
}

static void test_ctrl_commands(void **state)
{
	struct sim_ctrl ctrl;
	struct capture *cap = ctrl_new(&ctrl, false);
	uint8_t cmd[HCI_MAX_CMD_H4];
	struct hci_ctrl_event ev;

	(void)state;
	ev = ask(&ctrl, cap, cmd, hci_cmd_reset(cmd, sizeof(cmd)));
	assert_int_equal(ev.kind, HCI_CTRL_CMD_COMPLETE);
	assert_int_equal(ev.opcode, HCI_OP_RESET);
	assert_int_equal(ev.status, 0);

	ev = ask(&ctrl, cap, cmd, hci_cmd_read_local_version(cmd, sizeof(cmd)));
	assert_int_equal(ev.status, 0);
	assert_int_equal(ev.ret_len, 9);
	assert_int_equal(ev.ret[1], 0x09); /* Bluetooth 5.0 */

	ev = ask(&ctrl, cap, cmd, hci_cmd_read_bd_addr(cmd, sizeof(cmd)));
	assert_int_equal(ev.ret_len, 7);
	assert_memory_equal(ev.ret + 1, bdaddr, 6);

	ev = ask(&ctrl, cap, cmd, hci_cmd_read_local_features(cmd, sizeof(cmd)));
	assert_int_equal(ev.ret_len, 9);
	assert_int_equal(ev.ret[1 + 4] & 0x40, 0x40); /* LE supported */

	ev = ask(&ctrl, cap, cmd, hci_cmd_le_read_local_features(cmd, sizeof(cmd)));
	assert_true(HCI_LE_FEATURE_EXT_ADV(ev.ret + 1));

	/* Unknown opcode: Command Status "Unknown HCI Command". */
	ev = ask(&ctrl, cap, cmd, hci_cmd_build(cmd, sizeof(cmd), 0x2099, NULL, 0));
	assert_int_equal(ev.kind, HCI_CTRL_CMD_STATUS);
	assert_int_equal(ev.opcode, 0x2099);
	assert_int_equal(ev.status, HCI_ERR_UNKNOWN_COMMAND);

	/* Bad parameters. */
	ev = ask(&ctrl, cap, cmd, hci_cmd_build(cmd, sizeof(cmd), HCI_OP_LE_SET_SCAN_ENABLE,
						(const uint8_t[]){ 1 }, 1));
	assert_int_equal(ev.status, HCI_ERR_INVALID_PARAMS);

	/* Legacy scan, then an extended command: disallowed until reset. */
	ev = ask(&ctrl, cap, cmd, hci_cmd_le_set_scan_params(cmd, sizeof(cmd), &sp));
	assert_int_equal(ev.status, 0);
	ev = ask(&ctrl, cap, cmd, hci_cmd_le_set_ext_scan_params(cmd, sizeof(cmd), &sp, 1));
	assert_int_equal(ev.status, HCI_ERR_COMMAND_DISALLOWED);
	ev = ask(&ctrl, cap, cmd, hci_cmd_le_set_scan_enable(cmd, sizeof(cmd), true, false));
	assert_int_equal(ev.status, 0);
	assert_int_equal(ctrl.scan, SIM_SCAN_LEGACY);
	/* Scan parameters cannot change while scanning. */
	ev = ask(&ctrl, cap, cmd, hci_cmd_le_set_scan_params(cmd, sizeof(cmd), &sp));
	assert_int_equal(ev.status, HCI_ERR_COMMAND_DISALLOWED);
	ask(&ctrl, cap, cmd, hci_cmd_reset(cmd, sizeof(cmd)));
	assert_int_equal(ctrl.scan, SIM_SCAN_OFF);
	ev = ask(&ctrl, cap, cmd, hci_cmd_le_set_ext_scan_params(cmd, sizeof(cmd), &sp, 0x05));
	assert_int_equal(ev.status, 0);
	ev = ask(&ctrl, cap, cmd, hci_cmd_le_set_ext_scan_enable(cmd, sizeof(cmd), true, false, 0,
								 0));
	assert_int_equal(ev.status, 0);
	assert_int_equal(ctrl.scan, SIM_SCAN_EXTENDED);

	/* A header-less packet gets no answer at all. */
	cap->n = 0;
	sim_ctrl_command(&ctrl, cmd, 2);
	assert_int_equal(cap->n, 0);
	free(cap);
}

static void test_ctrl_legacy_only(void **state)
{
	struct sim_ctrl ctrl;
	struct capture *cap = ctrl_new(&ctrl, true);
	uint8_t cmd[HCI_MAX_CMD_H4];
	struct hci_ctrl_event ev;

	(void)state;
	ev = ask(&ctrl, cap, cmd, hci_cmd_le_read_local_features(cmd, sizeof(cmd)));
	assert_false(HCI_LE_FEATURE_EXT_ADV(ev.ret + 1));
	ev = ask(&ctrl, cap, cmd, hci_cmd_le_set_ext_scan_params(cmd, sizeof(cmd), &sp, 1));
	assert_int_equal(ev.kind, HCI_CTRL_CMD_STATUS);
	assert_int_equal(ev.status, HCI_ERR_UNKNOWN_COMMAND);
	free(cap);
}

static struct sim_adv *make_adv(uint16_t len, bool legacy)
{
	struct sim_adv *a = calloc(1, sizeof(*a));

	for (int i = 0; i < 6; i++)
		a->addr[i] = (uint8_t)(0x10 + i);
	a->addr_type = ADV_ADDR_RANDOM;
	a->rssi = -70;
	a->legacy = legacy;
	a->kind = legacy ? ADV_KIND_NONCONN_IND : ADV_KIND_EXT;
	a->sid = 3;
	a->len = len;
	for (uint16_t i = 0; i < len; i++)
		a->data[i] = (uint8_t)i;
	return a;
}

static void test_ctrl_reports(void **state)
{
	struct sim_ctrl ctrl;
	struct capture *cap = ctrl_new(&ctrl, false);
	uint8_t cmd[HCI_MAX_CMD_H4];
	struct sim_adv *small = make_adv(20, true), *big = make_adv(600, false);

	(void)state;
	assert_false(sim_ctrl_report(&ctrl, small)); /* not scanning */
	ask(&ctrl, cap, cmd, hci_cmd_le_set_scan_enable(cmd, sizeof(cmd), true, false));
	/* Power-on masks leave LE Meta events off: nothing reaches the host. */
	cap->n = 0;
	assert_false(sim_ctrl_report(&ctrl, small));
	assert_int_equal(ctrl.st.masked, 1);
	unmask_reports(&ctrl, cap, cmd);
	cap->n = 0;
	assert_true(sim_ctrl_report(&ctrl, small));
	assert_int_equal(cap->n, 1);
	const uint8_t *p = cap->pkts[0];

	assert_int_equal(p[0], H4_EVENT);
	assert_int_equal(p[1], HCI_EV_LE_META);
	assert_int_equal(p[3], HCI_SUBEV_LE_ADV_REPORT);
	assert_int_equal(p[4], 1);               /* one report */
	assert_int_equal(p[5], ADV_KIND_NONCONN_IND);
	assert_memory_equal(p + 7, small->addr, 6);
	assert_int_equal(p[13], 20);
	assert_int_equal((int8_t)p[14 + 20], -70);
	/* A legacy scan does not see extended advertising. */
	assert_false(sim_ctrl_report(&ctrl, big));

	/* Extended scan: fragments "more data to come" ... then complete. */
	ask(&ctrl, cap, cmd, hci_cmd_reset(cmd, sizeof(cmd)));
	unmask_reports(&ctrl, cap, cmd);
	ask(&ctrl, cap, cmd, hci_cmd_le_set_ext_scan_enable(cmd, sizeof(cmd), true, false, 0, 0));
	cap->n = 0;
	assert_true(sim_ctrl_report(&ctrl, big));
	assert_true(cap->n >= 3);
	uint8_t joined[700];
	size_t got = 0;

	for (size_t i = 0; i < cap->n; i++) {
		const uint8_t *e = cap->pkts[i];
		uint16_t et = (uint16_t)(e[5] | e[6] << 8);
		unsigned status = (et >> 5) & 3;

		assert_int_equal(e[3], HCI_SUBEV_LE_EXT_ADV_REPORT);
		assert_int_equal(status, i + 1 < cap->n ? 1 : 0);
		assert_int_equal(et & 0x10, 0); /* not legacy */
		assert_int_equal(e[16], 3);     /* SID */
		size_t dl = e[28];

		memcpy(joined + got, e + 29, dl);
		got += dl;
	}
	assert_int_equal(got, 600);
	assert_memory_equal(joined, big->data, 600);
	/* Legacy PDUs in an extended scan carry the legacy bit. */
	cap->n = 0;
	assert_true(sim_ctrl_report(&ctrl, small));
	assert_int_equal(cap->n, 1);
	assert_int_equal(cap->pkts[0][5], 0x10);

	/* Hardware error event. */
	cap->n = 0;
	sim_ctrl_hw_error(&ctrl, 0x42);
	struct hci_ctrl_event ev;

	assert_true(hci_ctrl_event_parse(cap->pkts[0] + 1, cap->lens[0] - 1, &ev));
	assert_int_equal(ev.kind, HCI_CTRL_HW_ERROR);
	assert_int_equal(ev.hw_code, 0x42);
	free(small);
	free(big);
	free(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_path_window_and_frame),
		cmocka_unit_test(test_eid_rotation),
		cmocka_unit_test(test_irk_phone_and_crowd),
		cmocka_unit_test(test_rpa_crowd),
		cmocka_unit_test(test_tlm_silence_sensitivity),
		cmocka_unit_test(test_extended_payload),
		cmocka_unit_test(test_until_limit),
		cmocka_unit_test(test_ctrl_commands),
		cmocka_unit_test(test_ctrl_legacy_only),
		cmocka_unit_test(test_ctrl_reports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
