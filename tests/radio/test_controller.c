/*
 * test_controller.c - the controller driver against scripted controllers:
 * each answer is an HCI event as bytes, parsed by the HCI layer, as on the
 * wire. Checks the command sequence, extended vs legacy scanning, errors,
 * timeouts, the hardware error and the stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "controller.h"
#include "hci_cmd.h"
#include "log.h"

struct fake {
	uint16_t sent[64];
	uint8_t params[64][64];
	size_t n;
	int send_rc;
	enum controller_state states[64];
	size_t n_states;
	int errors[8];
};

static int fake_send(void *ctx, const uint8_t *pkt, size_t len)
{
	struct fake *f = ctx;

	assert_true(len >= 4);
	assert_int_equal(pkt[0], 0x01);
	assert_int_equal(pkt[3], len - 4);
	assert_true(f->n < 64);
	f->sent[f->n] = (uint16_t)(pkt[1] | pkt[2] << 8);
	memcpy(f->params[f->n], pkt + 4, len - 4 < 64 ? len - 4 : 64);
	f->n++;
	return f->send_rc;
}

static void fake_state(void *ctx, enum controller_state st)
{
	struct fake *f = ctx;

	f->states[f->n_states++] = st;
}

static void fake_error(void *ctx, enum controller_error err)
{
	struct fake *f = ctx;

	f->errors[err]++;
}

static struct controller_settings settings(bool reset, enum controller_ext ext)
{
	struct controller_settings s = {
		.reset = reset, .active = false, .interval = 160, .window = 160,
		.extended = ext, .command_timeout_ms = 2000,
	};
	return s;
}

static void setup(struct controller *c, struct fake *f, const struct controller_settings *s)
{
	struct controller_callbacks cb = {
		.ctx = f, .send = fake_send, .state = fake_state, .error = fake_error,
	};
	static FILE *null;

	if (!null)
		null = fopen("/dev/null", "w");
	log_init(false);
	log_set_stream(null);
	memset(f, 0, sizeof(*f));
	controller_init(c, s, &cb);
}

/* A controller with settings(reset, ext) on a fresh fake, started at now. */
static void start(struct controller *c, struct fake *f, bool reset, enum controller_ext ext,
		  uint64_t now)
{
	struct controller_settings s = settings(reset, ext);

	setup(c, f, &s);
	controller_start(c, reset, now);
}

/* Feed raw event bytes (code, length, parameters) as the parser sees them. */
static void feed(struct controller *c, const uint8_t *evt, size_t len, uint64_t now)
{
	struct hci_ctrl_event ev;

	assert_true(hci_ctrl_event_parse(evt, len, &ev));
	controller_on_event(c, &ev, now);
}

/* Command Complete for opcode with return parameters ret. */
static void complete(struct controller *c, uint16_t opcode, const uint8_t *ret, size_t n)
{
	uint8_t evt[64] = { 0x0E, (uint8_t)(3 + n), 0x01, (uint8_t)opcode, (uint8_t)(opcode >> 8) };

	memcpy(evt + 5, ret, n);
	feed(c, evt, 5 + n, 0);
}

static void ok(struct controller *c, uint16_t opcode)
{
	static const uint8_t status_ok[] = { 0x00 };

	complete(c, opcode, status_ok, 1);
}

static const uint8_t version[] = { 0x00, 0x09, 0x34, 0x12, 0x09, 0x59, 0x00, 0x00, 0x00 };
static const uint8_t features[] = { 0x00, 0, 0, 0, 0, 0x60, 0, 0, 0 };
static const uint8_t le_legacy[] = { 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t le_ext[] = { 0x00, 0x01, 0x10, 0, 0, 0, 0, 0, 0 };

/* Answer everything up to the scan parameters. */
static void answer_to_scan(struct controller *c, bool reset, const uint8_t *le)
{
	if (reset)
		ok(c, HCI_OP_RESET);
	complete(c, HCI_OP_READ_LOCAL_VERSION, version, sizeof(version));
	complete(c, HCI_OP_READ_LOCAL_FEATURES, features, sizeof(features));
	complete(c, HCI_OP_LE_READ_LOCAL_FEATURES, le, 9);
	ok(c, HCI_OP_SET_EVENT_MASK);
	ok(c, HCI_OP_LE_SET_EVENT_MASK);
}

static void test_h4_legacy_sequence(void **state)
{
	static const uint16_t want[] = {
		HCI_OP_RESET, HCI_OP_READ_LOCAL_VERSION, HCI_OP_READ_LOCAL_FEATURES,
		HCI_OP_LE_READ_LOCAL_FEATURES, HCI_OP_SET_EVENT_MASK, HCI_OP_LE_SET_EVENT_MASK,
		HCI_OP_LE_SET_SCAN_ENABLE, HCI_OP_LE_SET_SCAN_PARAMS, HCI_OP_LE_SET_SCAN_ENABLE,
	};
	struct controller c;
	struct fake f;

	(void)state;
	start(&c, &f, true, CTRL_EXT_AUTO, 0);
	assert_int_equal(c.state, CTRL_SETUP);
	answer_to_scan(&c, true, le_legacy);
	ok(&c, HCI_OP_LE_SET_SCAN_ENABLE);
	ok(&c, HCI_OP_LE_SET_SCAN_PARAMS);
	assert_int_equal(c.state, CTRL_SETUP);
	ok(&c, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(c.state, CTRL_SCANNING);
	assert_int_equal(f.n, 9);
	for (size_t i = 0; i < 9; i++)
		assert_int_equal(f.sent[i], want[i]);
	/* Passive, 100 ms, duplicates not filtered. */
	assert_int_equal(f.params[7][0], 0x00);
	assert_int_equal(f.params[7][1] | f.params[7][2] << 8, 160);
	assert_int_equal(f.params[8][0], 1);
	assert_int_equal(f.params[8][1], 0);
	assert_int_equal(c.info.hci_version, 9);
	assert_int_equal(c.info.manufacturer, 0x0059);
	assert_false(c.info.extended);
	assert_int_equal(c.stats.setups, 1);
}

static void test_hci_no_reset_extended(void **state)
{
	struct controller c;
	struct fake f;

	(void)state;
	start(&c, &f, false, CTRL_EXT_AUTO, 0);
	assert_int_equal(f.sent[0], HCI_OP_READ_LOCAL_VERSION);
	answer_to_scan(&c, false, le_ext);
	assert_int_equal(f.sent[f.n - 1], HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	ok(&c, HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	assert_int_equal(f.sent[f.n - 1], HCI_OP_LE_SET_EXT_SCAN_PARAMS);
	ok(&c, HCI_OP_LE_SET_EXT_SCAN_PARAMS);
	ok(&c, HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	assert_int_equal(c.state, CTRL_SCANNING);
	assert_true(c.info.extended);
	/* Stop disables the extended scan and waits for the answer. */
	assert_true(controller_stop(&c, 10));
	assert_int_equal(f.sent[f.n - 1], HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	assert_int_equal(f.params[f.n - 1][0], 0);
	assert_int_equal(c.state, CTRL_STOPPING);
	ok(&c, HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	assert_int_equal(c.state, CTRL_STOPPED);
	assert_false(controller_stop(&c, 20));
}

static void test_extended_off_and_fallback(void **state)
{
	static const uint8_t unknown[] = { HCI_ERR_UNKNOWN_COMMAND };
	struct controller c;
	struct fake f;

	(void)state;
	/* extended = off: legacy even on a 5.x controller. */
	start(&c, &f, false, CTRL_EXT_OFF, 0);
	answer_to_scan(&c, false, le_ext);
	assert_int_equal(f.sent[f.n - 1], HCI_OP_LE_SET_SCAN_ENABLE);

	/* auto: a rejected extended command falls back to legacy. */
	start(&c, &f, false, CTRL_EXT_AUTO, 0);
	answer_to_scan(&c, false, le_ext);
	ok(&c, HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	complete(&c, HCI_OP_LE_SET_EXT_SCAN_PARAMS, unknown, 1);
	assert_int_equal(f.sent[f.n - 1], HCI_OP_LE_SET_SCAN_PARAMS);
	ok(&c, HCI_OP_LE_SET_SCAN_PARAMS);
	ok(&c, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(c.state, CTRL_SCANNING);
	assert_false(c.info.extended);

	/* on: a rejection is a failure. */
	start(&c, &f, false, CTRL_EXT_ON, 0);
	answer_to_scan(&c, false, le_ext);
	ok(&c, HCI_OP_LE_SET_EXT_SCAN_ENABLE);
	complete(&c, HCI_OP_LE_SET_EXT_SCAN_PARAMS, unknown, 1);
	assert_int_equal(c.state, CTRL_FAILED);
	assert_int_equal(f.errors[CTRL_ERR_COMMAND], 1);
}

static void test_tolerated_failures(void **state)
{
	static const uint8_t disallowed[] = { HCI_ERR_COMMAND_DISALLOWED };
	struct controller c;
	struct fake f;

	(void)state;
	start(&c, &f, false, CTRL_EXT_AUTO, 0);
	complete(&c, HCI_OP_READ_LOCAL_VERSION, version, sizeof(version));
	complete(&c, HCI_OP_READ_LOCAL_FEATURES, features, sizeof(features));
	/* LE features refused: legacy scanning, with an error counted. */
	complete(&c, HCI_OP_LE_READ_LOCAL_FEATURES, disallowed, 1);
	complete(&c, HCI_OP_SET_EVENT_MASK, disallowed, 1);
	ok(&c, HCI_OP_LE_SET_EVENT_MASK);
	/* "Scan already off" is not an error. */
	complete(&c, HCI_OP_LE_SET_SCAN_ENABLE, disallowed, 1);
	ok(&c, HCI_OP_LE_SET_SCAN_PARAMS);
	ok(&c, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(c.state, CTRL_SCANNING);
	assert_int_equal(c.stats.failed, 2);
	assert_int_equal(f.errors[CTRL_ERR_COMMAND], 2);
}

static void test_command_status_error(void **state)
{
	/* Command Status with "unknown command" for the scan parameters. */
	static const uint8_t status_evt[] = { 0x0F, 4, HCI_ERR_UNKNOWN_COMMAND, 1, 0x0B, 0x20 };
	static const uint8_t status_ok_evt[] = { 0x0F, 4, 0x00, 1, 0x0B, 0x20 };
	struct controller c;
	struct fake f;

	(void)state;
	start(&c, &f, false, CTRL_EXT_OFF, 0);
	answer_to_scan(&c, false, le_legacy);
	ok(&c, HCI_OP_LE_SET_SCAN_ENABLE);
	/* Status 0 means "wait for the Complete": nothing changes. */
	feed(&c, status_ok_evt, sizeof(status_ok_evt), 0);
	assert_int_equal(c.state, CTRL_SETUP);
	feed(&c, status_evt, sizeof(status_evt), 0);
	assert_int_equal(c.state, CTRL_FAILED);
}

static void test_unrelated_events_ignored(void **state)
{
	struct controller c;
	struct fake f;
	static const uint8_t nop[] = { 0x0E, 3, 0x01, 0x00, 0x00 };   /* flow control only */

	(void)state;
	start(&c, &f, true, CTRL_EXT_AUTO, 0);
	feed(&c, nop, sizeof(nop), 0);
	ok(&c, HCI_OP_LE_SET_SCAN_ENABLE);    /* not the pending command */
	assert_int_equal(f.n, 1);
	assert_int_equal(c.pending_opcode, HCI_OP_RESET);
}

static void test_timeout(void **state)
{
	struct controller c;
	struct fake f;

	(void)state;
	start(&c, &f, true, CTRL_EXT_AUTO, 1000);
	controller_tick(&c, 2999);
	assert_int_equal(c.state, CTRL_SETUP);
	controller_tick(&c, 3000);
	assert_int_equal(c.state, CTRL_FAILED);
	assert_int_equal(c.stats.timeouts, 1);
	assert_int_equal(f.errors[CTRL_ERR_TIMEOUT], 1);
	/* A late answer changes nothing. */
	ok(&c, HCI_OP_RESET);
	assert_int_equal(c.state, CTRL_FAILED);
}

static void test_hardware_error_and_rescan(void **state)
{
	static const uint8_t hw[] = { 0x10, 1, 0x42 };
	struct controller c;
	struct fake f;
	size_t before;

	(void)state;
	start(&c, &f, true, CTRL_EXT_AUTO, 0);
	answer_to_scan(&c, true, le_legacy);
	ok(&c, HCI_OP_LE_SET_SCAN_ENABLE);
	ok(&c, HCI_OP_LE_SET_SCAN_PARAMS);
	ok(&c, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(c.state, CTRL_SCANNING);
	feed(&c, hw, sizeof(hw), 0);
	assert_int_equal(c.state, CTRL_FAILED);
	assert_int_equal(c.stats.hw_errors, 1);
	assert_int_equal(f.errors[CTRL_ERR_HARDWARE], 1);
	/* Re-enabling the scan starts at the disable step. */
	before = f.n;
	controller_rescan(&c, 0);
	assert_int_equal(f.sent[before], HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(f.params[before][0], 0);
}

static void test_send_failure_and_detach(void **state)
{
	struct controller c;
	struct fake f;
	struct controller_settings s = settings(true, CTRL_EXT_AUTO);

	(void)state;
	setup(&c, &f, &s);
	f.send_rc = -5;
	controller_start(&c, true, 0);
	assert_int_equal(c.state, CTRL_FAILED);
	assert_int_equal(f.errors[CTRL_ERR_SEND], 1);
	f.send_rc = 0;
	controller_start(&c, true, 0);
	controller_detach(&c);
	assert_int_equal(c.state, CTRL_IDLE);
	assert_int_equal(c.pending_opcode, 0);
	assert_false(controller_stop(&c, 0));
}

static void test_units(void **state)
{
	(void)state;
	assert_int_equal(controller_ms_to_units(100), 160);
	assert_int_equal(controller_ms_to_units(0), 4);
	assert_int_equal(controller_ms_to_units(10240), 0x4000);
	assert_int_equal(controller_ms_to_units(99999), 0x4000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_h4_legacy_sequence),
		cmocka_unit_test(test_hci_no_reset_extended),
		cmocka_unit_test(test_extended_off_and_fallback),
		cmocka_unit_test(test_tolerated_failures),
		cmocka_unit_test(test_command_status_error),
		cmocka_unit_test(test_unrelated_events_ignored),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_hardware_error_and_rescan),
		cmocka_unit_test(test_send_failure_and_detach),
		cmocka_unit_test(test_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
