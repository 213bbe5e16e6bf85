/*
 * test_hci_cmd.c - command builders against the bytes of the Core spec,
 * Command Complete/Status parsing, and the controller-side event builders.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hci_cmd.h"
#include "hci_event.h"

static void test_simple_commands(void **state)
{
	uint8_t out[HCI_MAX_CMD_H4];
	const uint8_t reset[] = { 0x01, 0x03, 0x0c, 0x00 };
	const uint8_t bdaddr[] = { 0x01, 0x09, 0x10, 0x00 };
	const uint8_t lefeat[] = { 0x01, 0x03, 0x20, 0x00 };
	const uint8_t ver[] = { 0x01, 0x01, 0x10, 0x00 };
	const uint8_t feat[] = { 0x01, 0x03, 0x10, 0x00 };

	(void)state;
	assert_int_equal(hci_cmd_reset(out, sizeof(out)), 4);
	assert_memory_equal(out, reset, 4);
	assert_int_equal(hci_cmd_read_bd_addr(out, sizeof(out)), 4);
	assert_memory_equal(out, bdaddr, 4);
	assert_int_equal(hci_cmd_le_read_local_features(out, sizeof(out)), 4);
	assert_memory_equal(out, lefeat, 4);
	assert_int_equal(hci_cmd_read_local_version(out, sizeof(out)), 4);
	assert_memory_equal(out, ver, 4);
	assert_int_equal(hci_cmd_read_local_features(out, sizeof(out)), 4);
	assert_memory_equal(out, feat, 4);
	assert_int_equal(hci_cmd_reset(out, 3), 0);
	assert_int_equal(HCI_OPCODE(0x08, 0x000c), HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(HCI_OGF(HCI_OP_RESET), 0x03);
	assert_int_equal(HCI_OCF(HCI_OP_RESET), 0x03);
}

static void test_event_masks(void **state)
{
	uint8_t out[HCI_MAX_CMD_H4];
	const uint8_t mask[] = { 0x01, 0x01, 0x0c, 0x08, 0xff, 0xff, 0xff, 0xff,
				 0xff, 0x1f, 0x00, 0x20 };
	const uint8_t lemask[] = { 0x01, 0x01, 0x20, 0x08, 0x1f, 0x10, 0, 0, 0, 0, 0, 0 };

	(void)state;
	assert_int_equal(hci_cmd_set_event_mask(out, sizeof(out), HCI_EVENT_MASK_DEFAULT), 12);
	assert_memory_equal(out, mask, 12);
	assert_int_equal(hci_cmd_le_set_event_mask(out, sizeof(out), HCI_LE_EVENT_MASK_SCAN), 12);
	assert_memory_equal(out, lemask, 12);
}

static void test_scan_commands(void **state)
{
	uint8_t out[HCI_MAX_CMD_H4];
	struct hci_scan_params p = { .active = 0, .interval = 0x0060, .window = 0x0030,
				     .own_addr_type = 0, .filter_policy = 0 };
	const uint8_t params[] = { 0x01, 0x0b, 0x20, 0x07, 0x00, 0x60, 0x00, 0x30, 0x00, 0x00,
				   0x00 };
	const uint8_t enable[] = { 0x01, 0x0c, 0x20, 0x02, 0x01, 0x00 };
	const uint8_t ext[] = { 0x01, 0x41, 0x20, 0x0d, 0x00, 0x00, 0x05, 0x00, 0x60, 0x00,
				0x30, 0x00, 0x00, 0x60, 0x00, 0x30, 0x00 };
	const uint8_t ext_en[] = { 0x01, 0x42, 0x20, 0x06, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00 };

	(void)state;
	assert_int_equal(hci_cmd_le_set_scan_params(out, sizeof(out), &p), sizeof(params));
	assert_memory_equal(out, params, sizeof(params));
	assert_int_equal(hci_cmd_le_set_scan_enable(out, sizeof(out), true, false), 6);
	assert_memory_equal(out, enable, 6);
	assert_int_equal(hci_cmd_le_set_ext_scan_params(out, sizeof(out), &p, 0x05), sizeof(ext));
	assert_memory_equal(out, ext, sizeof(ext));
	assert_int_equal(hci_cmd_le_set_ext_scan_enable(out, sizeof(out), true, true, 0, 0), 10);
	assert_memory_equal(out, ext_en, 10);

	/* Out of range: window > interval, 2M PHY for scanning, interval too long. */
	p.window = 0x61;
	assert_int_equal(hci_cmd_le_set_scan_params(out, sizeof(out), &p), 0);
	p.window = 0x30;
	assert_int_equal(hci_cmd_le_set_ext_scan_params(out, sizeof(out), &p, 0x02), 0);
	p.interval = 0x4001;
	assert_int_equal(hci_cmd_le_set_scan_params(out, sizeof(out), &p), 0);
	assert_int_equal(hci_cmd_le_set_ext_scan_params(out, sizeof(out), &p, 0x01), 12);
}

static void test_parse_command(void **state)
{
	uint8_t out[HCI_MAX_CMD_H4];
	struct hci_cmd_view v;
	size_t n = hci_cmd_le_set_scan_enable(out, sizeof(out), true, false);

	(void)state;
	assert_true(hci_cmd_parse(out + 1, n - 1, &v));
	assert_int_equal(v.opcode, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(v.plen, 2);
	assert_int_equal(v.params[0], 1);
	assert_false(hci_cmd_parse(out + 1, n - 2, &v));
	assert_false(hci_cmd_parse(out + 1, 2, &v));
}

static void test_answers_round_trip(void **state)
{
	uint8_t out[HCI_MAX_EVENT_H4];
	const uint8_t ret[] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	struct hci_ctrl_event ev;
	size_t n;

	(void)state;
	n = hci_evt_cmd_complete(out, sizeof(out), 1, HCI_OP_READ_BD_ADDR, ret, sizeof(ret));
	assert_int_equal(n, 3 + 3 + 7);
	assert_int_equal(out[0], 0x04);
	assert_int_equal(out[1], 0x0e);
	assert_true(hci_ctrl_event_parse(out + 1, n - 1, &ev));
	assert_int_equal(ev.kind, HCI_CTRL_CMD_COMPLETE);
	assert_int_equal(ev.opcode, HCI_OP_READ_BD_ADDR);
	assert_int_equal(ev.ncmd, 1);
	assert_int_equal(ev.status, 0);
	assert_int_equal(ev.ret_len, 7);
	assert_memory_equal(ev.ret, ret, 7);

	n = hci_evt_cmd_status(out, sizeof(out), HCI_ERR_UNKNOWN_COMMAND, 1,
			       HCI_OP_LE_SET_EXT_SCAN_PARAMS);
	assert_true(hci_ctrl_event_parse(out + 1, n - 1, &ev));
	assert_int_equal(ev.kind, HCI_CTRL_CMD_STATUS);
	assert_int_equal(ev.status, HCI_ERR_UNKNOWN_COMMAND);
	assert_int_equal(ev.opcode, HCI_OP_LE_SET_EXT_SCAN_PARAMS);

	n = hci_evt_hw_error(out, sizeof(out), 0x2a);
	assert_true(hci_ctrl_event_parse(out + 1, n - 1, &ev));
	assert_int_equal(ev.kind, HCI_CTRL_HW_ERROR);
	assert_int_equal(ev.hw_code, 0x2a);

	/* Short or other events. */
	assert_false(hci_ctrl_event_parse(out + 1, 2, &ev));
	out[2] = 0x0e;
	out[3] = 0x02;
	assert_false(hci_ctrl_event_parse(out + 2, 4, &ev));
	out[2] = 0x3e;
	assert_false(hci_ctrl_event_parse(out + 2, 4, &ev));
}

static void test_legacy_report_builder(void **state)
{
	uint8_t out[HCI_MAX_EVENT_H4];
	const uint8_t d1[] = { 0x02, 0x01, 0x06 };
	struct adv_report r[2] = {
		{ .kind = ADV_KIND_NONCONN_IND, .addr_type = 1,
		  .addr = { 1, 2, 3, 4, 5, 6 }, .rssi = -60, .data = d1, .data_len = 3 },
		{ .kind = ADV_KIND_SCAN_RSP, .addr_type = 0,
		  .addr = { 6, 5, 4, 3, 2, 1 }, .rssi = 127, .data = NULL, .data_len = 0 },
	};
	const uint8_t want[] = { 0x04, 0x3e, 0x19, 0x02, 0x02,
				 0x03, 0x01, 1, 2, 3, 4, 5, 6, 0x03, 0x02, 0x01, 0x06, 0xc4,
				 0x04, 0x00, 6, 5, 4, 3, 2, 1, 0x00, 0x7f };
	static struct adv_report many[26];

	(void)state;
	assert_int_equal(hci_evt_le_adv_report(out, sizeof(out), r, 2), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	r[0].data_len = 32;
	assert_int_equal(hci_evt_le_adv_report(out, sizeof(out), r, 2), 0);
	assert_int_equal(hci_evt_le_adv_report(out, sizeof(out), r, 0), 0);
	assert_int_equal(hci_evt_le_adv_report(out, sizeof(out), many, 26), 0);
	/* 25 empty reports fit (2 + 25 * 10 = 252). */
	assert_int_equal(hci_evt_le_adv_report(out, sizeof(out), many, 25), 3 + 252);
}

static void test_ext_report_fragments(void **state)
{
	static uint8_t data[500];
	uint8_t out[HCI_MAX_EVENT_H4];
	struct adv_report r = { .event_type = 0x0000, .addr_type = 1, .addr = { 1, 2, 3, 4, 5, 6 },
				.primary_phy = 1, .secondary_phy = 2, .sid = 3, .tx_power = -4,
				.rssi = -50, .data = data, .data_len = sizeof(data) };
	size_t off = 0, n, events = 0, total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	do {
		n = hci_evt_le_ext_adv_report(out, sizeof(out), &r, &off, 0);
		assert_true(n > 0);
		assert_int_equal(out[3], HCI_SUBEV_LE_EXT_ADV_REPORT);
		assert_int_equal(out[28], n - 29);
		total += out[28];
		events++;
		/* data status: more (1) until the last, then complete (0) */
		assert_int_equal((out[5] >> 5) & 3, off < sizeof(data) ? 1 : 0);
	} while (off < sizeof(data));
	assert_int_equal(events, 3); /* 229 + 229 + 42 */
	assert_int_equal(total, sizeof(data));

	r.data_status = ADV_DATA_TRUNCATED;
	r.data_len = 10;
	off = 0;
	n = hci_evt_le_ext_adv_report(out, sizeof(out), &r, &off, 4);
	assert_int_equal((out[5] >> 5) & 3, 1);
	n = hci_evt_le_ext_adv_report(out, sizeof(out), &r, &off, 4);
	n = hci_evt_le_ext_adv_report(out, sizeof(out), &r, &off, 4);
	assert_int_equal(off, 10);
	assert_int_equal((out[5] >> 5) & 3, 2);
	assert_int_equal(n, 3 + 2 + 24 + 2);

	r.data_len = 0;
	off = 0;
	n = hci_evt_le_ext_adv_report(out, sizeof(out), &r, &off, 0);
	assert_int_equal(n, 3 + 2 + 24);
	r.data_len = BF_EXT_ADV_MAX + 1;
	off = 0;
	assert_int_equal(hci_evt_le_ext_adv_report(out, sizeof(out), &r, &off, 0), 0);
}

static void test_legacy_event_type_table(void **state)
{
	(void)state;
	for (int k = ADV_KIND_IND; k <= ADV_KIND_SCAN_RSP; k++)
		assert_int_equal(hci_ext_event_type_kind(hci_ext_event_type_of_legacy(k)), k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_commands),
		cmocka_unit_test(test_event_masks),
		cmocka_unit_test(test_scan_commands),
		cmocka_unit_test(test_parse_command),
		cmocka_unit_test(test_answers_round_trip),
		cmocka_unit_test(test_legacy_report_builder),
		cmocka_unit_test(test_ext_report_fragments),
		cmocka_unit_test(test_legacy_event_type_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
