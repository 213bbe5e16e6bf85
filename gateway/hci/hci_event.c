/*
 * hci_event.c - HCI event parsing and extended report reassembly (see
 * hci_event.h).
 */
#include "hci_event.h"

#include <string.h>

#define LEGACY_REPORT_FIXED 10 /* type, addr type, addr(6), len, rssi */
#define EXT_REPORT_FIXED 24

#define EXT_DATA_STATUS(et) (((et) >> 5) & 0x3)
#define EXT_STATUS_MORE 1
#define EXT_STATUS_TRUNCATED 2

void hci_event_parser_init(struct hci_event_parser *p, const struct hci_event_callbacks *cb)
{
	memset(p, 0, sizeof(*p));
	if (cb)
		p->cb = *cb;
}

static void deliver(struct hci_event_parser *p, const struct adv_report *r)
{
	p->stats.reports++;
	if (r->data_status == ADV_DATA_TRUNCATED)
		p->stats.truncated++;
	if (p->cb.adv)
		p->cb.adv(p->cb.ctx, r);
}

/* ---------------------------------------------------------------- legacy */

/* Returns false when the event is malformed (complete reports before the
 * fault were delivered). */
static bool parse_legacy(struct hci_event_parser *p, const uint8_t *b, size_t len,
			 uint64_t ts_us)
{
	size_t num, off = 1;
	bool ok = true;

	if (len < 1)
		return false;
	num = b[0];
	if (num == 0)
		ok = false;
	for (size_t i = 0; i < num; i++) {
		struct adv_report r;
		size_t dlen;

		if (len - off < LEGACY_REPORT_FIXED)
			return false; /* Num_Reports promised more than the bytes hold */
		dlen = b[off + 8];
		/* More than 31 bytes cannot come from a legacy PDU: the length
		 * byte is corrupt, so nothing after it can be trusted. */
		if (dlen > BF_LEGACY_ADV_MAX || len - off - LEGACY_REPORT_FIXED < dlen)
			return false;
		memset(&r, 0, sizeof(r));
		r.ts_us = ts_us;
		r.addr_type = b[off + 1];
		memcpy(r.addr, b + off + 2, 6);
		r.data_len = (uint16_t)dlen;
		r.data = b + off + 9;
		r.rssi = (int8_t)b[off + 9 + dlen];
		r.sid = 0xFF;
		r.tx_power = ADV_TX_POWER_UNAVAILABLE;
		r.data_status = ADV_DATA_COMPLETE;
		if (b[off] <= ADV_KIND_SCAN_RSP) {
			r.kind = (enum adv_kind)b[off];
			deliver(p, &r);
		} else {
			ok = false; /* unknown Event_Type: skip this report only */
		}
		off += LEGACY_REPORT_FIXED + dlen;
	}
	return ok && off == len;
}

/* ---------------------------------------------------------------- extended */

enum adv_kind hci_ext_event_type_kind(uint16_t et)
{
	if (!(et & 0x10))
		return ADV_KIND_EXT;
	switch (et & 0x1F) {
	case 0x13: return ADV_KIND_IND;
	case 0x15: return ADV_KIND_DIRECT_IND;
	case 0x12: return ADV_KIND_SCAN_IND;
	case 0x10: return ADV_KIND_NONCONN_IND;
	case 0x1B: /* SCAN_RSP to an ADV_IND */
	case 0x1A: /* SCAN_RSP to an ADV_SCAN_IND */
		return ADV_KIND_SCAN_RSP;
	default:
		break;
	}
	/* Not in the table: keep the property a consumer cares most about. */
	if (et & 0x08)
		return ADV_KIND_SCAN_RSP;
	if (et & 0x04)
		return ADV_KIND_DIRECT_IND;
	if (et & 0x01)
		return ADV_KIND_IND;
	if (et & 0x02)
		return ADV_KIND_SCAN_IND;
	return ADV_KIND_NONCONN_IND;
}

static void expire_stale(struct hci_event_parser *p, uint64_t now)
{
	for (size_t i = 0; i < HCI_REASM_SLOTS; i++) {
		struct hci_reasm_slot *s = &p->slots[i];

		/* A clock that went backwards (replay of a spliced capture)
		 * does not expire anything. */
		if (s->used && now > s->last_ts && now - s->last_ts > HCI_REASM_TIMEOUT_US) {
			s->used = false;
			p->stats.partial_stale++;
		}
	}
}

static struct hci_reasm_slot *find_slot(struct hci_event_parser *p, const struct adv_report *r)
{
	for (size_t i = 0; i < HCI_REASM_SLOTS; i++) {
		struct hci_reasm_slot *s = &p->slots[i];

		if (s->used && s->addr_type == r->addr_type && s->sid == r->sid &&
		    memcmp(s->addr, r->addr, 6) == 0)
			return s;
	}
	return NULL;
}

static struct hci_reasm_slot *new_slot(struct hci_event_parser *p, const struct adv_report *r)
{
	struct hci_reasm_slot *s = NULL;

	for (size_t i = 0; i < HCI_REASM_SLOTS && !s; i++)
		if (!p->slots[i].used)
			s = &p->slots[i];
	if (!s) {
		s = &p->slots[0];
		for (size_t i = 1; i < HCI_REASM_SLOTS; i++)
			if (p->slots[i].lru < s->lru)
				s = &p->slots[i];
		p->stats.partial_evicted++;
	}
	s->used = true;
	s->overflow = false;
	s->addr_type = r->addr_type;
	s->sid = r->sid;
	memcpy(s->addr, r->addr, 6);
	s->len = 0;
	return s;
}

static void slot_append(struct hci_event_parser *p, struct hci_reasm_slot *s,
			const struct adv_report *r)
{
	size_t room = BF_EXT_ADV_MAX - s->len;
	size_t n = r->data_len;

	if (n > room) {
		n = room;
		if (!s->overflow)
			p->stats.partial_overflow++;
		s->overflow = true;
	}
	if (n)
		memcpy(s->buf + s->len, r->data, n);
	s->len = (uint16_t)(s->len + n);
	s->last_ts = r->ts_us;
	s->lru = ++p->lru_clock;
}

/* One extended report (a fragment or a whole one). */
static void ext_fragment(struct hci_event_parser *p, struct adv_report *r, unsigned status)
{
	struct hci_reasm_slot *s = find_slot(p, r);

	if (status == EXT_STATUS_MORE) {
		if (!s)
			s = new_slot(p, r);
		slot_append(p, s, r);
		p->stats.fragments++;
		return;
	}
	/* Complete or truncated (reserved status 3 counts as truncated). */
	r->data_status = status == 0 ? ADV_DATA_COMPLETE : ADV_DATA_TRUNCATED;
	if (s) {
		slot_append(p, s, r);
		if (s->overflow)
			r->data_status = ADV_DATA_TRUNCATED;
		r->data = s->buf;
		r->data_len = s->len;
		deliver(p, r);
		s->used = false;
		return;
	}
	deliver(p, r);
}

static bool parse_ext(struct hci_event_parser *p, const uint8_t *b, size_t len, uint64_t ts_us)
{
	size_t num, off = 1;
	bool ok = true;

	if (len < 1)
		return false;
	expire_stale(p, ts_us);
	num = b[0];
	if (num == 0)
		ok = false;
	for (size_t i = 0; i < num; i++) {
		const uint8_t *q = b + off;
		struct adv_report r;
		size_t dlen;
		unsigned status;

		if (len - off < EXT_REPORT_FIXED)
			return false;
		dlen = q[23];
		if (len - off - EXT_REPORT_FIXED < dlen)
			return false;
		memset(&r, 0, sizeof(r));
		r.ts_us = ts_us;
		r.event_type = (uint16_t)(q[0] | q[1] << 8);
		r.kind = hci_ext_event_type_kind(r.event_type);
		r.addr_type = q[2];
		memcpy(r.addr, q + 3, 6);
		r.primary_phy = q[9];
		r.secondary_phy = q[10];
		r.sid = q[11];
		r.tx_power = (int8_t)q[12];
		r.rssi = (int8_t)q[13];
		r.periodic_interval = (uint16_t)(q[14] | q[15] << 8);
		r.direct_addr_type = q[16];
		memcpy(r.direct_addr, q + 17, 6);
		r.data_len = (uint16_t)dlen;
		r.data = q + 24;
		status = EXT_DATA_STATUS(r.event_type);
		if (status == 3)
			ok = false;
		ext_fragment(p, &r, status);
		off += EXT_REPORT_FIXED + dlen;
	}
	return ok && off == len;
}

/* ---------------------------------------------------------------- events */

/* Any event: the general way, which checks every length. */
static __attribute__((noinline)) enum hci_event_result
parse_event(struct hci_event_parser *p, const uint8_t *evt, size_t len, uint64_t ts_us)
{
	struct hci_ctrl_event ctrl;
	const uint8_t *params;
	size_t plen;
	bool ok;

	if (len < 2) {
		p->stats.malformed++;
		return HCI_EVENT_MALFORMED;
	}
	/* Parse what is there, never more: a parameter length that disagrees
	 * with the packet (cut capture, extra bytes) makes the event
	 * malformed, but its whole reports still count. */
	plen = evt[1];
	ok = len - 2 == plen;
	if (len - 2 < plen)
		plen = len - 2;
	params = evt + 2;

	switch (evt[0]) {
	case HCI_EV_LE_META:
		if (plen < 1) {
			ok = false;
			break;
		}
		if (params[0] == HCI_SUBEV_LE_ADV_REPORT)
			ok = parse_legacy(p, params + 1, plen - 1, ts_us) && ok;
		else if (params[0] == HCI_SUBEV_LE_EXT_ADV_REPORT)
			ok = parse_ext(p, params + 1, plen - 1, ts_us) && ok;
		else
			return HCI_EVENT_IGNORED;
		break;
	case HCI_EV_CMD_COMPLETE:
	case HCI_EV_CMD_STATUS:
	case HCI_EV_HW_ERROR: {
		uint8_t tmp[2 + 255];

		/* hci_ctrl_event_parse wants a consistent header. */
		tmp[0] = evt[0];
		tmp[1] = (uint8_t)plen;
		memcpy(tmp + 2, params, plen);
		if (!hci_ctrl_event_parse(tmp, 2 + plen, &ctrl)) {
			ok = false;
			break;
		}
		ctrl.ret = ctrl.ret ? evt + (ctrl.ret - tmp) : NULL;
		if (p->cb.ctrl)
			p->cb.ctrl(p->cb.ctx, &ctrl);
		break;
	}
	default:
		return HCI_EVENT_IGNORED;
	}
	p->stats.events++;
	if (!ok) {
		p->stats.malformed++;
		return HCI_EVENT_MALFORMED;
	}
	return HCI_EVENT_OK;
}

enum hci_event_result hci_event_parse(struct hci_event_parser *p, const uint8_t *evt, size_t len,
				      uint64_t ts_us)
{
	/*
	 * Nearly every event a scanner receives is an LE Advertising Report
	 * with one legacy report whose lengths agree with the packet: take it
	 * straight from the bytes. Anything else goes the general way
	 * (parse_event), which gives such an event the same report and counts.
	 */
	if (len >= 4 + LEGACY_REPORT_FIXED && evt[0] == HCI_EV_LE_META &&
	    evt[2] == HCI_SUBEV_LE_ADV_REPORT && evt[3] == 1 && evt[4] <= ADV_KIND_SCAN_RSP &&
	    evt[12] <= BF_LEGACY_ADV_MAX && len == 4 + LEGACY_REPORT_FIXED + (size_t)evt[12] &&
	    evt[1] == len - 2) {
		struct adv_report r = {
			.ts_us = ts_us,
			.addr_type = evt[5],
			.rssi = (int8_t)evt[13 + evt[12]],
			.kind = (enum adv_kind)evt[4],
			.sid = 0xFF,
			.tx_power = ADV_TX_POWER_UNAVAILABLE,
			.data_status = ADV_DATA_COMPLETE,
			.data_len = evt[12],
			.data = evt + 13,
		};

		memcpy(r.addr, evt + 6, 6);
		deliver(p, &r);
		p->stats.events++;
		return HCI_EVENT_OK;
	}
	return parse_event(p, evt, len, ts_us);
}

enum hci_event_result hci_event_parse_h4(struct hci_event_parser *p, const uint8_t *pkt,
					 size_t len, uint64_t ts_us)
{
	if (len < 1 || pkt[0] != 0x04)
		return HCI_EVENT_IGNORED;
	return hci_event_parse(p, pkt + 1, len - 1, ts_us);
}

void hci_event_parser_discard_partials(struct hci_event_parser *p)
{
	for (size_t i = 0; i < HCI_REASM_SLOTS; i++) {
		if (p->slots[i].used) {
			p->slots[i].used = false;
			p->stats.partial_stale++;
		}
	}
}

size_t hci_event_parser_partials(const struct hci_event_parser *p)
{
	size_t n = 0;

	for (size_t i = 0; i < HCI_REASM_SLOTS; i++)
		n += p->slots[i].used;
	return n;
}
