/*
 * sim_ctrl.c - command handling and report rendering of the virtual
 * controller. Event bytes come from the HCI layer's builders (hci_cmd.h).
 */
#include "sim_ctrl.h"

#include <string.h>

#include "h4.h"
#include "hci_cmd.h"

/* Power-on defaults (Core spec Vol 4 Part E 7.3.1 and 7.8.1). */
#define EVENT_MASK_POWER_ON 0x00001FFFFFFFFFFFULL
#define LE_EVENT_MASK_POWER_ON 0x000000000000001FULL
#define EVENT_MASK_LE_META (1ULL << 61)
#define LE_MASK_ADV_REPORT (1ULL << 1)
#define LE_MASK_EXT_ADV_REPORT (1ULL << 12)

void sim_ctrl_reset(struct sim_ctrl *c)
{
	c->event_mask = EVENT_MASK_POWER_ON;
	c->le_event_mask = LE_EVENT_MASK_POWER_ON;
	c->scan = SIM_SCAN_OFF;
	c->filter_dup = false;
	c->scan_params_set = false;
	c->family = SIM_FAMILY_NONE;
}

void sim_ctrl_init(struct sim_ctrl *c, bool legacy_only, const uint8_t bdaddr[6],
		   sim_emit_fn emit, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->emit = emit;
	c->ctx = ctx;
	c->legacy_only = legacy_only;
	memcpy(c->bdaddr, bdaddr, 6);
	sim_ctrl_reset(c);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void send(struct sim_ctrl *c, const uint8_t *h4, size_t len)
{
	if (len == 0)
		return;
	c->st.events++;
	c->emit(c->ctx, h4, len);
}

static void complete(struct sim_ctrl *c, uint16_t op, const uint8_t *ret, size_t ret_len)
{
	uint8_t buf[HCI_MAX_EVENT_H4];

	send(c, buf, hci_evt_cmd_complete(buf, sizeof(buf), 1, op, ret, ret_len));
}

static void complete_status(struct sim_ctrl *c, uint16_t op, uint8_t status)
{
	complete(c, op, &status, 1);
}

static void command_status(struct sim_ctrl *c, uint16_t op, uint8_t status)
{
	uint8_t buf[HCI_MAX_EVENT_H4];

	send(c, buf, hci_evt_cmd_status(buf, sizeof(buf), status, 1, op));
}

/* Legacy and extended scan commands may not be mixed. */
static bool family_allows(struct sim_ctrl *c, bool extended)
{
	if (c->family == SIM_FAMILY_NONE) {
		c->family = extended ? SIM_FAMILY_EXTENDED : SIM_FAMILY_LEGACY;
		return true;
	}
	return c->family == (extended ? SIM_FAMILY_EXTENDED : SIM_FAMILY_LEGACY);
}

static uint8_t scan_params(struct sim_ctrl *c, const uint8_t *p, uint8_t plen)
{
	if (plen != 7)
		return HCI_ERR_INVALID_PARAMS;
	uint16_t interval = get16(p + 1), window = get16(p + 3);

	if (p[0] > 1 || interval < 4 || interval > 0x4000 || window < 4 || window > interval ||
	    p[5] > 3 || p[6] > 3)
		return HCI_ERR_INVALID_PARAMS;
	if (c->scan != SIM_SCAN_OFF)
		return HCI_ERR_COMMAND_DISALLOWED;
	if (!family_allows(c, false))
		return HCI_ERR_COMMAND_DISALLOWED;
	c->scan_params_set = true;
	return HCI_SUCCESS;
}

static uint8_t ext_scan_params(struct sim_ctrl *c, const uint8_t *p, uint8_t plen)
{
	if (plen < 3)
		return HCI_ERR_INVALID_PARAMS;
	uint8_t phys = p[2];
	unsigned n = (phys & 0x01) + ((phys >> 2) & 0x01);

	if (p[0] > 3 || p[1] > 3 || phys == 0 || (phys & ~0x05) || plen != 3 + 5 * n)
		return HCI_ERR_INVALID_PARAMS;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *q = p + 3 + 5 * i;
		uint16_t interval = get16(q + 1), window = get16(q + 3);

		if (q[0] > 1 || interval < 4 || window < 4 || window > interval)
			return HCI_ERR_INVALID_PARAMS;
	}
	if (c->scan != SIM_SCAN_OFF)
		return HCI_ERR_COMMAND_DISALLOWED;
	if (!family_allows(c, true))
		return HCI_ERR_COMMAND_DISALLOWED;
	c->scan_params_set = true;
	return HCI_SUCCESS;
}

static uint8_t scan_enable(struct sim_ctrl *c, const uint8_t *p, uint8_t plen, bool extended)
{
	if (plen != (extended ? 6 : 2) || p[0] > 1 || p[1] > (extended ? 2 : 1))
		return HCI_ERR_INVALID_PARAMS;
	if (!family_allows(c, extended))
		return HCI_ERR_COMMAND_DISALLOWED;
	if (p[0]) {
		c->scan = extended ? SIM_SCAN_EXTENDED : SIM_SCAN_LEGACY;
		c->filter_dup = p[1] != 0;
	} else {
		c->scan = SIM_SCAN_OFF;
	}
	return HCI_SUCCESS;
}

void sim_ctrl_command(struct sim_ctrl *c, const uint8_t *pkt, size_t len)
{
	struct hci_cmd_view cmd;
	uint8_t ret[16];

	if (!hci_cmd_parse(pkt, len, &cmd))
		return; /* not even a header: nothing to answer */
	c->st.commands++;
	const uint8_t *p = cmd.params;

	memset(ret, 0, sizeof(ret));
	switch (cmd.opcode) {
	case HCI_OP_RESET:
		if (cmd.plen != 0)
			return complete_status(c, cmd.opcode, HCI_ERR_INVALID_PARAMS);
		sim_ctrl_reset(c);
		return complete_status(c, cmd.opcode, HCI_SUCCESS);
	case HCI_OP_SET_EVENT_MASK:
	case HCI_OP_LE_SET_EVENT_MASK:
		if (cmd.plen != 8)
			return complete_status(c, cmd.opcode, HCI_ERR_INVALID_PARAMS);
		if (cmd.opcode == HCI_OP_SET_EVENT_MASK)
			c->event_mask = get64(p);
		else
			c->le_event_mask = get64(p);
		return complete_status(c, cmd.opcode, HCI_SUCCESS);
	case HCI_OP_READ_LOCAL_VERSION:
		ret[1] = SIM_HCI_VERSION;
		put16(ret + 2, SIM_HCI_REVISION);
		ret[4] = SIM_HCI_VERSION; /* LMP/PAL version */
		put16(ret + 5, SIM_MANUFACTURER);
		put16(ret + 7, 0x0001);   /* LMP subversion */
		return complete(c, cmd.opcode, ret, 9);
	case HCI_OP_READ_LOCAL_FEATURES:
		/* LMP features: byte 4 bit 5 "BR/EDR Not Supported", bit 6
		 * "LE Supported (Controller)": an LE-only controller. */
		ret[1 + 4] = 0x60;
		return complete(c, cmd.opcode, ret, 9);
	case HCI_OP_LE_READ_LOCAL_FEATURES:
		ret[1 + 0] = 0x01; /* LE Encryption */
		if (!c->legacy_only)
			ret[1 + 1] = 0x19; /* LE 2M PHY, LE Coded PHY, LE Extended Advertising */
		return complete(c, cmd.opcode, ret, 9);
	case HCI_OP_READ_BD_ADDR:
		memcpy(ret + 1, c->bdaddr, 6);
		return complete(c, cmd.opcode, ret, 7);
	case HCI_OP_LE_SET_SCAN_PARAMS:
		return complete_status(c, cmd.opcode, scan_params(c, p, cmd.plen));
	case HCI_OP_LE_SET_SCAN_ENABLE:
		return complete_status(c, cmd.opcode, scan_enable(c, p, cmd.plen, false));
	case HCI_OP_LE_SET_EXT_SCAN_PARAMS:
		if (c->legacy_only)
			break;
		return complete_status(c, cmd.opcode, ext_scan_params(c, p, cmd.plen));
	case HCI_OP_LE_SET_EXT_SCAN_ENABLE:
		if (c->legacy_only)
			break;
		return complete_status(c, cmd.opcode, scan_enable(c, p, cmd.plen, true));
	default:
		break;
	}
	/* Unsupported: Command Status with Unknown HCI Command (0x01), as
	 * BlueZ's emulator and most controllers answer. */
	c->st.unknown_commands++;
	command_status(c, cmd.opcode, HCI_ERR_UNKNOWN_COMMAND);
}

static void fill_report(const struct sim_adv *a, struct adv_report *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->addr, a->addr, 6);
	r->addr_type = a->addr_type;
	r->rssi = a->rssi;
	r->kind = a->kind;
	r->data = a->data;
	r->data_len = a->len;
	r->tx_power = ADV_TX_POWER_UNAVAILABLE;
	r->data_status = ADV_DATA_COMPLETE;
}

bool sim_ctrl_report_as(struct sim_ctrl *c, const struct sim_adv *a, enum sim_scan_mode mode)
{
	struct adv_report r;
	uint8_t buf[HCI_MAX_EVENT_H4];

	fill_report(a, &r);
	if (mode == SIM_SCAN_LEGACY) {
		if (!a->legacy || a->len > BF_LEGACY_ADV_MAX)
			return false;
		size_t n = hci_evt_le_adv_report(buf, sizeof(buf), &r, 1);

		if (!n)
			return false;
		send(c, buf, n);
	} else if (mode == SIM_SCAN_EXTENDED) {
		if (a->legacy) {
			r.event_type = hci_ext_event_type_of_legacy(a->kind);
			r.primary_phy = 1;
			r.secondary_phy = 0;
			r.sid = 0xFF;
		} else {
			r.event_type = 0x0000; /* non-connectable, non-scannable extended */
			r.primary_phy = 1;
			r.secondary_phy = 2;   /* LE 2M for the auxiliary packets */
			r.sid = a->sid;
		}
		size_t off = 0;

		do {
			size_t n = hci_evt_le_ext_adv_report(buf, sizeof(buf), &r, &off, 0);

			if (!n)
				return false;
			send(c, buf, n);
		} while (off < r.data_len);
	} else {
		return false;
	}
	c->st.reports++;
	return true;
}

bool sim_ctrl_report(struct sim_ctrl *c, const struct sim_adv *a)
{
	if (c->scan == SIM_SCAN_OFF)
		return false;
	/* A real controller only sends what the host unmasked. */
	uint64_t le_bit = c->scan == SIM_SCAN_LEGACY ? LE_MASK_ADV_REPORT : LE_MASK_EXT_ADV_REPORT;

	if (c->scan == SIM_SCAN_LEGACY && !a->legacy)
		return false;
	if (!(c->event_mask & EVENT_MASK_LE_META) || !(c->le_event_mask & le_bit)) {
		c->st.masked++;
		return false;
	}
	return sim_ctrl_report_as(c, a, c->scan);
}

void sim_ctrl_hw_error(struct sim_ctrl *c, uint8_t code)
{
	uint8_t buf[8];

	send(c, buf, hci_evt_hw_error(buf, sizeof(buf), code));
}
