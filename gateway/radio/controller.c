/*
 * controller.c - the HCI command sequence as a table-driven state machine.
 */
#include "controller.h"

#include <string.h>

#include "log.h"

enum step {
	STEP_RESET,
	STEP_READ_VERSION,
	STEP_READ_FEATURES,
	STEP_LE_READ_FEATURES,
	STEP_SET_EVENT_MASK,
	STEP_LE_SET_EVENT_MASK,
	STEP_SCAN_DISABLE,
	STEP_SCAN_PARAMS,
	STEP_SCAN_ENABLE,
	STEP_DONE,
};

static const char *const step_names[] = {
	[STEP_RESET] = "Reset",
	[STEP_READ_VERSION] = "Read Local Version",
	[STEP_READ_FEATURES] = "Read Local Supported Features",
	[STEP_LE_READ_FEATURES] = "LE Read Local Supported Features",
	[STEP_SET_EVENT_MASK] = "Set Event Mask",
	[STEP_LE_SET_EVENT_MASK] = "LE Set Event Mask",
	[STEP_SCAN_DISABLE] = "LE Set Scan Enable (off)",
	[STEP_SCAN_PARAMS] = "LE Set Scan Parameters",
	[STEP_SCAN_ENABLE] = "LE Set Scan Enable",
	[STEP_DONE] = "done",
};

const char *controller_state_name(enum controller_state st)
{
	switch (st) {
	case CTRL_IDLE: return "idle";
	case CTRL_SETUP: return "setting up";
	case CTRL_SCANNING: return "scanning";
	case CTRL_STOPPING: return "stopping";
	case CTRL_STOPPED: return "stopped";
	case CTRL_FAILED: return "failed";
	}
	return "?";
}

uint16_t controller_ms_to_units(uint32_t ms)
{
	uint64_t units = (uint64_t)ms * 8 / 5;

	if (units < 0x0004)
		return 0x0004;
	if (units > 0x4000)
		return 0x4000;
	return (uint16_t)units;
}

static void set_state(struct controller *c, enum controller_state st)
{
	if (c->state == st)
		return;
	log_debug("controller: %s -> %s", controller_state_name(c->state),
		  controller_state_name(st));
	c->state = st;
	if (c->cb.state)
		c->cb.state(c->cb.ctx, st);
}

static void report_error(struct controller *c, enum controller_error err)
{
	if (c->cb.error)
		c->cb.error(c->cb.ctx, err);
}

static void give_up(struct controller *c, enum controller_error err)
{
	c->pending_opcode = 0;
	set_state(c, CTRL_FAILED);
	report_error(c, err);
}

void controller_init(struct controller *c, const struct controller_settings *s,
		     const struct controller_callbacks *cb)
{
	memset(c, 0, sizeof(*c));
	c->set = *s;
	c->cb = *cb;
	c->state = CTRL_IDLE;
	c->step = STEP_DONE;
}

/* Build the command of a step into buf; 0 if it cannot be built. */
static size_t build(struct controller *c, int step, uint8_t *buf, size_t cap)
{
	struct hci_scan_params p = {
		.active = c->set.active ? 1 : 0,
		.interval = c->set.interval,
		.window = c->set.window,
		.own_addr_type = 0,
		.filter_policy = 0,
	};

	switch (step) {
	case STEP_RESET:
		return hci_cmd_reset(buf, cap);
	case STEP_READ_VERSION:
		return hci_cmd_read_local_version(buf, cap);
	case STEP_READ_FEATURES:
		return hci_cmd_read_local_features(buf, cap);
	case STEP_LE_READ_FEATURES:
		return hci_cmd_le_read_local_features(buf, cap);
	case STEP_SET_EVENT_MASK:
		return hci_cmd_set_event_mask(buf, cap, HCI_EVENT_MASK_DEFAULT);
	case STEP_LE_SET_EVENT_MASK:
		return hci_cmd_le_set_event_mask(buf, cap, HCI_LE_EVENT_MASK_SCAN);
	case STEP_SCAN_DISABLE:
		return c->use_ext ? hci_cmd_le_set_ext_scan_enable(buf, cap, false, false, 0, 0)
				  : hci_cmd_le_set_scan_enable(buf, cap, false, false);
	case STEP_SCAN_PARAMS:
		/* LE 1M only: Coded-PHY beacons are rare and would halve the 1M window. */
		return c->use_ext ? hci_cmd_le_set_ext_scan_params(buf, cap, &p, 0x01)
				  : hci_cmd_le_set_scan_params(buf, cap, &p);
	case STEP_SCAN_ENABLE:
		return c->use_ext ? hci_cmd_le_set_ext_scan_enable(buf, cap, true, false, 0, 0)
				  : hci_cmd_le_set_scan_enable(buf, cap, true, false);
	}
	return 0;
}

static void send_step(struct controller *c, uint64_t now_ms)
{
	uint8_t buf[HCI_MAX_CMD_H4];
	size_t n;
	int rc;

	if (c->step == STEP_DONE) {
		c->pending_opcode = 0;
		c->stats.setups++;
		c->scan_enabled_by_us = true;
		c->info.extended = c->use_ext;
		log_info("controller: scanning (%s, %s)", c->use_ext ? "extended" : "legacy",
			 c->set.active ? "active" : "passive");
		set_state(c, CTRL_SCANNING);
		return;
	}
	n = build(c, c->step, buf, sizeof(buf));
	if (n < 4) {
		log_err("controller: cannot build %s", step_names[c->step]);
		give_up(c, CTRL_ERR_SEND);
		return;
	}
	c->pending_opcode = (uint16_t)(buf[1] | buf[2] << 8);
	c->deadline_ms = now_ms + c->set.command_timeout_ms;
	c->stats.commands++;
	log_debug("controller: sending %s (opcode 0x%04x)", step_names[c->step],
		  c->pending_opcode);
	rc = c->cb.send(c->cb.ctx, buf, n);
	if (rc < 0) {
		log_limited(LOG_PRIO_WARNING, "controller send",
			    "controller: cannot send %s: error %d", step_names[c->step], -rc);
		give_up(c, CTRL_ERR_SEND);
	}
}

void controller_start(struct controller *c, bool with_reset, uint64_t now_ms)
{
	c->use_ext = false;
	c->scan_enabled_by_us = false;
	memset(&c->info, 0, sizeof(c->info));
	c->step = with_reset ? STEP_RESET : STEP_READ_VERSION;
	set_state(c, CTRL_SETUP);
	send_step(c, now_ms);
}

void controller_rescan(struct controller *c, uint64_t now_ms)
{
	/* Needs the features read earlier; without them start from scratch. */
	if (!c->info.valid) {
		controller_start(c, c->set.reset, now_ms);
		return;
	}
	c->step = STEP_SCAN_DISABLE;
	set_state(c, CTRL_SETUP);
	send_step(c, now_ms);
}

bool controller_stop(struct controller *c, uint64_t now_ms)
{
	uint8_t buf[HCI_MAX_CMD_H4];
	size_t n;

	if (!c->scan_enabled_by_us) {
		set_state(c, CTRL_STOPPED);
		return false;
	}
	n = c->use_ext ? hci_cmd_le_set_ext_scan_enable(buf, sizeof(buf), false, false, 0, 0)
		       : hci_cmd_le_set_scan_enable(buf, sizeof(buf), false, false);
	c->step = STEP_DONE;
	c->pending_opcode = (uint16_t)(buf[1] | buf[2] << 8);
	c->deadline_ms = now_ms + c->set.command_timeout_ms;
	c->stats.commands++;
	set_state(c, CTRL_STOPPING);
	if (n < 4 || c->cb.send(c->cb.ctx, buf, n) < 0) {
		c->pending_opcode = 0;
		set_state(c, CTRL_STOPPED);
		return false;
	}
	return true;
}

void controller_detach(struct controller *c)
{
	c->pending_opcode = 0;
	c->scan_enabled_by_us = false;
	c->step = STEP_DONE;
	set_state(c, CTRL_IDLE);
}

static void copy_ret(uint8_t *dst, size_t n, const struct hci_ctrl_event *ev, size_t off)
{
	memset(dst, 0, n);
	if (ev->ret_len >= off + n)
		memcpy(dst, ev->ret + off, n);
}

/* Use what a successful command returned. */
static void take_result(struct controller *c, const struct hci_ctrl_event *ev)
{
	switch (c->step) {
	case STEP_READ_VERSION:
		/* status, HCI_Version, HCI_Revision[2], LMP_Version, Manufacturer[2], LMP_Sub[2] */
		if (ev->ret_len >= 9) {
			c->info.hci_version = ev->ret[1];
			c->info.hci_revision = (uint16_t)(ev->ret[2] | ev->ret[3] << 8);
			c->info.manufacturer = (uint16_t)(ev->ret[5] | ev->ret[6] << 8);
		}
		break;
	case STEP_READ_FEATURES:
		copy_ret(c->info.features, 8, ev, 1);
		break;
	case STEP_LE_READ_FEATURES:
		copy_ret(c->info.le_features, 8, ev, 1);
		c->info.valid = true;
		c->use_ext = c->set.extended != CTRL_EXT_OFF &&
			     HCI_LE_FEATURE_EXT_ADV(c->info.le_features);
		log_info("controller: HCI version %u, manufacturer 0x%04x, LE extended "
			 "advertising %s", c->info.hci_version, c->info.manufacturer,
			 HCI_LE_FEATURE_EXT_ADV(c->info.le_features) ? "supported"
								       : "not supported");
		break;
	default:
		break;
	}
}

/* A step was answered with status; decide what comes next. */
static void step_answered(struct controller *c, uint8_t status, uint64_t now_ms)
{
	int step = c->step;

	c->pending_opcode = 0;
	if (status == HCI_SUCCESS) {
		c->step++;
		send_step(c, now_ms);
		return;
	}
	switch (step) {
	case STEP_SCAN_DISABLE:
		/* "Already disabled" comes back as Command Disallowed on some controllers. */
		c->step++;
		send_step(c, now_ms);
		return;
	case STEP_SET_EVENT_MASK:
	case STEP_LE_SET_EVENT_MASK:
	case STEP_READ_FEATURES:
		/* The defaults still deliver advertising reports: go on, but say so. */
		c->stats.failed++;
		log_warn("controller: %s failed (status 0x%02x), continuing", step_names[step],
			 status);
		report_error(c, CTRL_ERR_COMMAND);
		c->step++;
		send_step(c, now_ms);
		return;
	case STEP_LE_READ_FEATURES:
		c->stats.failed++;
		log_warn("controller: %s failed (status 0x%02x): assuming legacy scanning only",
			 step_names[step], status);
		report_error(c, CTRL_ERR_COMMAND);
		c->info.valid = true;
		c->use_ext = false;
		c->step++;
		send_step(c, now_ms);
		return;
	case STEP_SCAN_PARAMS:
	case STEP_SCAN_ENABLE:
		if (c->use_ext && c->set.extended == CTRL_EXT_AUTO) {
			c->stats.failed++;
			log_warn("controller: extended %s failed (status 0x%02x), using legacy "
				 "scanning", step_names[step], status);
			c->use_ext = false;
			c->step = STEP_SCAN_PARAMS;
			send_step(c, now_ms);
			return;
		}
		break;
	default:
		break;
	}
	c->stats.failed++;
	log_limited(LOG_PRIO_ERR, "controller command failed",
		    "controller: %s failed (status 0x%02x)", step_names[step], status);
	give_up(c, CTRL_ERR_COMMAND);
}

void controller_on_event(struct controller *c, const struct hci_ctrl_event *ev, uint64_t now_ms)
{
	if (ev->kind == HCI_CTRL_HW_ERROR) {
		c->stats.hw_errors++;
		log_limited(LOG_PRIO_ERR, "controller hardware error",
			    "controller: Hardware Error event (code 0x%02x)", ev->hw_code);
		c->scan_enabled_by_us = false;
		give_up(c, CTRL_ERR_HARDWARE);
		return;
	}
	/* Not ours (the kernel's own commands on hci:, or flow control only). */
	if (!c->pending_opcode || ev->opcode != c->pending_opcode)
		return;
	if (c->state == CTRL_STOPPING) {
		c->pending_opcode = 0;
		if (ev->kind == HCI_CTRL_CMD_STATUS && ev->status == HCI_SUCCESS)
			return;
		c->scan_enabled_by_us = false;
		set_state(c, CTRL_STOPPED);
		return;
	}
	if (ev->kind == HCI_CTRL_CMD_STATUS) {
		/* Success here means "Command Complete follows"; an error ends the step. */
		if (ev->status != HCI_SUCCESS)
			step_answered(c, ev->status, now_ms);
		return;
	}
	if (ev->status == HCI_SUCCESS)
		take_result(c, ev);
	step_answered(c, ev->status, now_ms);
}

void controller_tick(struct controller *c, uint64_t now_ms)
{
	if (!c->pending_opcode || now_ms < c->deadline_ms)
		return;
	c->stats.timeouts++;
	if (c->state == CTRL_STOPPING) {
		c->pending_opcode = 0;
		c->scan_enabled_by_us = false;
		set_state(c, CTRL_STOPPED);
		return;
	}
	log_limited(LOG_PRIO_ERR, "controller timeout",
		    "controller: no answer to %s within %u ms",
		    c->step < STEP_DONE ? step_names[c->step] : "command",
		    c->set.command_timeout_ms);
	give_up(c, CTRL_ERR_TIMEOUT);
}
