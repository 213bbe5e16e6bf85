/*
 * hci_cmd.c - HCI command builders and parsers, and the controller-side
 * event builders (see hci_cmd.h).
 */
#include "hci_cmd.h"

#include <string.h>

#include "beacon_frame.h"
#include "h4.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

size_t hci_cmd_build(uint8_t *out, size_t cap, uint16_t opcode, const uint8_t *params,
		     size_t plen)
{
	if (plen > 255 || cap < 4 + plen)
		return 0;
	out[0] = H4_CMD;
	put16(out + 1, opcode);
	out[3] = (uint8_t)plen;
	if (plen)
		memcpy(out + 4, params, plen);
	return 4 + plen;
}

size_t hci_cmd_reset(uint8_t *out, size_t cap)
{
	return hci_cmd_build(out, cap, HCI_OP_RESET, NULL, 0);
}

size_t hci_cmd_set_event_mask(uint8_t *out, size_t cap, uint64_t mask)
{
	uint8_t p[8];

	put64(p, mask);
	return hci_cmd_build(out, cap, HCI_OP_SET_EVENT_MASK, p, sizeof(p));
}

size_t hci_cmd_le_set_event_mask(uint8_t *out, size_t cap, uint64_t mask)
{
	uint8_t p[8];

	put64(p, mask);
	return hci_cmd_build(out, cap, HCI_OP_LE_SET_EVENT_MASK, p, sizeof(p));
}

size_t hci_cmd_read_local_version(uint8_t *out, size_t cap)
{
	return hci_cmd_build(out, cap, HCI_OP_READ_LOCAL_VERSION, NULL, 0);
}

size_t hci_cmd_read_local_features(uint8_t *out, size_t cap)
{
	return hci_cmd_build(out, cap, HCI_OP_READ_LOCAL_FEATURES, NULL, 0);
}

size_t hci_cmd_le_read_local_features(uint8_t *out, size_t cap)
{
	return hci_cmd_build(out, cap, HCI_OP_LE_READ_LOCAL_FEATURES, NULL, 0);
}

size_t hci_cmd_read_bd_addr(uint8_t *out, size_t cap)
{
	return hci_cmd_build(out, cap, HCI_OP_READ_BD_ADDR, NULL, 0);
}

static bool scan_params_valid(const struct hci_scan_params *p, bool ext)
{
	if (p->active > 1 || p->interval < 4 || p->window < 4 || p->window > p->interval)
		return false;
	return ext || p->interval <= 0x4000;
}

size_t hci_cmd_le_set_scan_params(uint8_t *out, size_t cap, const struct hci_scan_params *p)
{
	uint8_t b[7];

	if (!scan_params_valid(p, false))
		return 0;
	b[0] = p->active;
	put16(b + 1, p->interval);
	put16(b + 3, p->window);
	b[5] = p->own_addr_type;
	b[6] = p->filter_policy;
	return hci_cmd_build(out, cap, HCI_OP_LE_SET_SCAN_PARAMS, b, sizeof(b));
}

size_t hci_cmd_le_set_scan_enable(uint8_t *out, size_t cap, bool enable, bool filter_dup)
{
	uint8_t b[2] = { enable, filter_dup };

	return hci_cmd_build(out, cap, HCI_OP_LE_SET_SCAN_ENABLE, b, sizeof(b));
}

size_t hci_cmd_le_set_ext_scan_params(uint8_t *out, size_t cap, const struct hci_scan_params *p,
				      uint8_t phys)
{
	uint8_t b[3 + 2 * 5];
	size_t n = 3;

	/* Only LE 1M (bit 0) and LE Coded (bit 2) can be scanned on. */
	if (!scan_params_valid(p, true) || phys == 0 || (phys & ~0x05))
		return 0;
	b[0] = p->own_addr_type;
	b[1] = p->filter_policy;
	b[2] = phys;
	for (int bit = 0; bit < 3; bit++) {
		if (!(phys & (1u << bit)))
			continue;
		b[n] = p->active;
		put16(b + n + 1, p->interval);
		put16(b + n + 3, p->window);
		n += 5;
	}
	return hci_cmd_build(out, cap, HCI_OP_LE_SET_EXT_SCAN_PARAMS, b, n);
}

size_t hci_cmd_le_set_ext_scan_enable(uint8_t *out, size_t cap, bool enable, bool filter_dup,
				      uint16_t duration, uint16_t period)
{
	uint8_t b[6];

	b[0] = enable;
	b[1] = filter_dup;
	put16(b + 2, duration);
	put16(b + 4, period);
	return hci_cmd_build(out, cap, HCI_OP_LE_SET_EXT_SCAN_ENABLE, b, sizeof(b));
}

bool hci_cmd_parse(const uint8_t *pkt, size_t len, struct hci_cmd_view *cmd)
{
	if (len < 3 || len - 3 < pkt[2])
		return false;
	cmd->opcode = (uint16_t)(pkt[0] | pkt[1] << 8);
	cmd->plen = pkt[2];
	cmd->params = pkt + 3;
	return true;
}

bool hci_ctrl_event_parse(const uint8_t *evt, size_t len, struct hci_ctrl_event *ev)
{
	const uint8_t *p = evt + 2;
	size_t plen;

	if (len < 2 || len - 2 < evt[1])
		return false;
	plen = evt[1];
	memset(ev, 0, sizeof(*ev));
	switch (evt[0]) {
	case HCI_EV_CMD_COMPLETE:
		if (plen < 3)
			return false;
		ev->kind = HCI_CTRL_CMD_COMPLETE;
		ev->ncmd = p[0];
		ev->opcode = (uint16_t)(p[1] | p[2] << 8);
		ev->ret = p + 3;
		ev->ret_len = (uint8_t)(plen - 3);
		ev->status = plen > 3 ? p[3] : 0;
		return true;
	case HCI_EV_CMD_STATUS:
		if (plen < 4)
			return false;
		ev->kind = HCI_CTRL_CMD_STATUS;
		ev->status = p[0];
		ev->ncmd = p[1];
		ev->opcode = (uint16_t)(p[2] | p[3] << 8);
		return true;
	case HCI_EV_HW_ERROR:
		if (plen < 1)
			return false;
		ev->kind = HCI_CTRL_HW_ERROR;
		ev->hw_code = p[0];
		return true;
	default:
		return false;
	}
}

/* Start an H4 event packet; returns the parameter area or NULL when plen
 * parameter bytes do not fit. */
static uint8_t *evt_start(uint8_t *out, size_t cap, uint8_t code, size_t plen)
{
	if (plen > 255 || cap < 3 + plen)
		return NULL;
	out[0] = H4_EVENT;
	out[1] = code;
	out[2] = (uint8_t)plen;
	return out + 3;
}

size_t hci_evt_cmd_complete(uint8_t *out, size_t cap, uint8_t ncmd, uint16_t opcode,
			    const uint8_t *ret, size_t ret_len)
{
	uint8_t *p = evt_start(out, cap, HCI_EV_CMD_COMPLETE, 3 + ret_len);

	if (!p)
		return 0;
	p[0] = ncmd;
	put16(p + 1, opcode);
	if (ret_len)
		memcpy(p + 3, ret, ret_len);
	return 3 + 3 + ret_len;
}

size_t hci_evt_cmd_status(uint8_t *out, size_t cap, uint8_t status, uint8_t ncmd,
			  uint16_t opcode)
{
	uint8_t *p = evt_start(out, cap, HCI_EV_CMD_STATUS, 4);

	if (!p)
		return 0;
	p[0] = status;
	p[1] = ncmd;
	put16(p + 2, opcode);
	return 3 + 4;
}

size_t hci_evt_hw_error(uint8_t *out, size_t cap, uint8_t code)
{
	uint8_t *p = evt_start(out, cap, HCI_EV_HW_ERROR, 1);

	if (!p)
		return 0;
	p[0] = code;
	return 3 + 1;
}

size_t hci_evt_le_adv_report(uint8_t *out, size_t cap, const struct adv_report *r, size_t n)
{
	size_t plen = 2;
	uint8_t *p;

	if (n == 0 || n > 25)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].kind > ADV_KIND_SCAN_RSP || r[i].data_len > BF_LEGACY_ADV_MAX)
			return 0;
		plen += 10 + r[i].data_len;
	}
	p = evt_start(out, cap, HCI_EV_LE_META, plen);
	if (!p)
		return 0;
	*p++ = HCI_SUBEV_LE_ADV_REPORT;
	*p++ = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		*p++ = (uint8_t)r[i].kind; /* legacy Event_Type 0..4 = enum order */
		*p++ = r[i].addr_type;
		memcpy(p, r[i].addr, 6);
		p += 6;
		*p++ = (uint8_t)r[i].data_len;
		if (r[i].data_len)
			memcpy(p, r[i].data, r[i].data_len);
		p += r[i].data_len;
		*p++ = (uint8_t)r[i].rssi;
	}
	return 3 + plen;
}

uint16_t hci_ext_event_type_of_legacy(enum adv_kind kind)
{
	switch (kind) {
	case ADV_KIND_IND:         return 0x13;
	case ADV_KIND_DIRECT_IND:  return 0x15;
	case ADV_KIND_SCAN_IND:    return 0x12;
	case ADV_KIND_NONCONN_IND: return 0x10;
	case ADV_KIND_SCAN_RSP:    return 0x1B; /* to an ADV_IND */
	default:                   return 0x00;
	}
}

size_t hci_evt_le_ext_adv_report(uint8_t *out, size_t cap, const struct adv_report *r,
				 size_t *off, size_t max_frag)
{
	size_t left, n, plen;
	uint16_t status, et;
	uint8_t *p;

	if (r->data_len > BF_EXT_ADV_MAX || *off > r->data_len)
		return 0;
	if (max_frag == 0 || max_frag > HCI_EXT_ADV_FRAG_MAX)
		max_frag = HCI_EXT_ADV_FRAG_MAX;
	left = r->data_len - *off;
	n = left < max_frag ? left : max_frag;
	if (n < left)
		status = 1; /* more data to come */
	else if (r->data_status == ADV_DATA_TRUNCATED)
		status = 2;
	else
		status = 0;
	plen = 2 + 24 + n;
	p = evt_start(out, cap, HCI_EV_LE_META, plen);
	if (!p)
		return 0;
	et = (uint16_t)((r->event_type & ~0x0060) | status << 5);
	*p++ = HCI_SUBEV_LE_EXT_ADV_REPORT;
	*p++ = 1;
	put16(p, et);
	p += 2;
	*p++ = r->addr_type;
	memcpy(p, r->addr, 6);
	p += 6;
	*p++ = r->primary_phy;
	*p++ = r->secondary_phy;
	*p++ = r->sid;
	*p++ = (uint8_t)r->tx_power;
	*p++ = (uint8_t)r->rssi;
	put16(p, r->periodic_interval);
	p += 2;
	*p++ = r->direct_addr_type;
	memcpy(p, r->direct_addr, 6);
	p += 6;
	*p++ = (uint8_t)n;
	if (n)
		memcpy(p, r->data + *off, n);
	*off += n;
	return 3 + plen;
}
