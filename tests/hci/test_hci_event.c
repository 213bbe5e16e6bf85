/*
 * test_hci_event.c - LE (Extended) Advertising Report parsing: several
 * reports per event, Num_Reports that disagrees with the bytes, RSSI and
 * TX power "not available", event-type mapping, reassembly of chained
 * fragments (complete, truncated, interleaved, stale, evicted, capped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hci_cmd.h"
#include "hci_event.h"

#define MAXR 32

struct got {
	size_t n;
	struct adv_report r[MAXR];
	uint8_t data[MAXR][BF_EXT_ADV_MAX];
	size_t nctrl;
	struct hci_ctrl_event ctrl[8];
};

static void on_adv(void *ctx, const struct adv_report *r)
{
	struct got *g = ctx;

	assert_true(g->n < MAXR);
	g->r[g->n] = *r;
	memcpy(g->data[g->n], r->data, r->data_len);
	g->r[g->n].data = g->data[g->n];
	g->n++;
}

static void on_ctrl(void *ctx, const struct hci_ctrl_event *ev)
{
	struct got *g = ctx;

	assert_true(g->nctrl < 8);
	g->ctrl[g->nctrl++] = *ev;
}

static struct hci_event_parser parser;
static struct got got;

static int setup(void **state)
{
	struct hci_event_callbacks cb = { .ctx = &got, .adv = on_adv, .ctrl = on_ctrl };

	(void)state;
	memset(&got, 0, sizeof(got));
	hci_event_parser_init(&parser, &cb);
	return 0;
}

/* Parse an H4 event built by hci_cmd (type byte first). */
static enum hci_event_result feed(const uint8_t *h4, size_t n, uint64_t ts)
{
	assert_true(n > 0);
	return hci_event_parse_h4(&parser, h4, n, ts);
}

static const uint8_t ibeacon[] = {
	0x02, 0x01, 0x06, 0x1a, 0xff, 0x4c, 0x00, 0x02, 0x15, 0xb9, 0x40, 0x7f, 0x30, 0xf5,
	0xf8, 0x46, 0x6e, 0xaf, 0xf9, 0x25, 0x55, 0x6b, 0x57, 0xfe, 0x6d, 0x30, 0x39, 0xd4,
	0x31, 0xc5,
};

static void test_legacy_multi_report(void **state)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	struct adv_report in[3] = {
		{ .kind = ADV_KIND_NONCONN_IND, .addr_type = 1,
		  .addr = { 0x0f, 0xe0, 0x22, 0x1a, 0x7b, 0xc4 },
		  .rssi = -71, .data = ibeacon, .data_len = sizeof(ibeacon) },
		{ .kind = ADV_KIND_IND, .addr_type = 0, .addr = { 1, 2, 3, 4, 5, 6 },
		  .rssi = ADV_RSSI_UNAVAILABLE, .data = ibeacon, .data_len = 3 },
		{ .kind = ADV_KIND_SCAN_RSP, .addr_type = 1, .addr = { 1, 2, 3, 4, 5, 6 },
		  .rssi = -20, .data = NULL, .data_len = 0 },
	};
	size_t n = hci_evt_le_adv_report(ev, sizeof(ev), in, 3);

	(void)state;
	assert_int_equal(feed(ev, n, 1234), HCI_EVENT_OK);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.r[0].kind, ADV_KIND_NONCONN_IND);
	assert_int_equal(got.r[0].ts_us, 1234);
	assert_int_equal(got.r[0].rssi, -71);
	assert_memory_equal(got.r[0].addr, in[0].addr, 6);
	assert_int_equal(got.r[0].data_len, sizeof(ibeacon));
	assert_memory_equal(got.r[0].data, ibeacon, sizeof(ibeacon));
	assert_int_equal(got.r[0].tx_power, ADV_TX_POWER_UNAVAILABLE);
	assert_int_equal(got.r[0].data_status, ADV_DATA_COMPLETE);
	assert_int_equal(got.r[1].kind, ADV_KIND_IND);
	assert_false(adv_rssi_valid(&got.r[1]));
	assert_int_equal(got.r[1].addr_type, ADV_ADDR_PUBLIC);
	assert_int_equal(got.r[2].kind, ADV_KIND_SCAN_RSP);
	assert_int_equal(got.r[2].data_len, 0);
	assert_int_equal(parser.stats.reports, 3);
	assert_int_equal(parser.stats.malformed, 0);
}

/* Compare two delivered reports field by field (data by content). */
static void assert_same_report(const struct adv_report *a, const struct adv_report *b)
{
	assert_int_equal(a->ts_us, b->ts_us);
	assert_memory_equal(a->addr, b->addr, 6);
	assert_int_equal(a->addr_type, b->addr_type);
	assert_int_equal(a->rssi, b->rssi);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->event_type, b->event_type);
	assert_int_equal(a->primary_phy, b->primary_phy);
	assert_int_equal(a->secondary_phy, b->secondary_phy);
	assert_int_equal(a->sid, b->sid);
	assert_int_equal(a->tx_power, b->tx_power);
	assert_int_equal(a->periodic_interval, b->periodic_interval);
	assert_int_equal(a->data_status, b->data_status);
	assert_int_equal(a->data_len, b->data_len);
	assert_memory_equal(a->data, b->data, a->data_len);
	assert_int_equal(a->direct_addr_type, b->direct_addr_type);
	assert_memory_equal(a->direct_addr, b->direct_addr, 6);
}

/* An event with a single legacy report (the common case, parsed on a short
 * path) yields what the same report yields inside a longer event. */
static void test_legacy_single_report_as_in_many(void **state)
{
	static const uint8_t lens[] = { 0, 3, 30, BF_LEGACY_ADV_MAX };
	uint8_t full[BF_LEGACY_ADV_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(full); i++)
		full[i] = (uint8_t)(0xA0 + i);
	for (size_t k = 0; k <= ADV_KIND_SCAN_RSP; k++) {
		for (size_t l = 0; l < sizeof(lens); l++) {
			uint8_t one[HCI_MAX_EVENT_H4], two[HCI_MAX_EVENT_H4];
			struct adv_report in[2] = {
				{ .kind = (enum adv_kind)k, .addr_type = (uint8_t)(k & 3),
				  .addr = { 0x0f, 0xe0, 0x22, 0x1a, 0x7b, (uint8_t)k },
				  .rssi = (int8_t)(l ? -90 + (int)l : ADV_RSSI_UNAVAILABLE),
				  .data = full, .data_len = lens[l] },
				{ .kind = ADV_KIND_IND, .rssi = -1, .data = full, .data_len = 1 },
			};
			size_t n1 = hci_evt_le_adv_report(one, sizeof(one), in, 1);
			size_t n2 = hci_evt_le_adv_report(two, sizeof(two), in, 2);
			uint64_t events = parser.stats.events;

			got.n = 0;
			assert_int_equal(feed(one, n1, 77 + k), HCI_EVENT_OK);
			assert_int_equal(feed(two, n2, 77 + k), HCI_EVENT_OK);
			assert_int_equal(got.n, 3);
			assert_same_report(&got.r[0], &got.r[1]);
			assert_int_equal(got.r[0].sid, 0xFF);
			assert_int_equal(got.r[0].data_len, lens[l]);
			assert_int_equal(parser.stats.events, events + 2);
		}
	}
	assert_int_equal(parser.stats.malformed, 0);
}

/* A single-report event whose bytes disagree still goes the careful way. */
static void test_legacy_single_report_faults(void **state)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	struct adv_report in = { .kind = ADV_KIND_NONCONN_IND, .addr_type = 1, .rssi = -40,
				 .data = ibeacon, .data_len = 3 };
	size_t n = hci_evt_le_adv_report(ev, sizeof(ev), &in, 1);

	(void)state;
	/* One byte more than the report: delivered, but malformed. */
	ev[n] = 0;
	ev[2]++;
	assert_int_equal(feed(ev, n + 1, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 1);
	ev[2]--;
	/* Parameter length larger than the packet: delivered, malformed. */
	ev[2]++;
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 2);
	ev[2]--;
	/* Unknown event type: skipped, malformed. */
	ev[5] = ADV_KIND_SCAN_RSP + 1;
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 2);
	assert_int_equal(parser.stats.malformed, 3);
	assert_int_equal(parser.stats.reports, 2);
}

static void test_num_reports_more_than_bytes(void **state)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	struct adv_report in[2] = {
		{ .kind = ADV_KIND_NONCONN_IND, .addr_type = 1, .rssi = -1,
		  .data = ibeacon, .data_len = 3 },
		{ .kind = ADV_KIND_NONCONN_IND, .addr_type = 1, .rssi = -2,
		  .data = ibeacon, .data_len = 30 },
	};
	size_t n = hci_evt_le_adv_report(ev, sizeof(ev), in, 2);

	(void)state;
	/* Claim 3 reports, and cut the second one short (fix the lengths). */
	ev[4] = 3;
	n -= 5;
	ev[2] = (uint8_t)(n - 3);
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.r[0].rssi, -1);
	assert_int_equal(parser.stats.malformed, 1);
}

static void test_num_reports_fewer_than_bytes(void **state)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	struct adv_report in[2] = {
		{ .kind = ADV_KIND_NONCONN_IND, .addr_type = 1, .rssi = -1,
		  .data = ibeacon, .data_len = 3 },
		{ .kind = ADV_KIND_NONCONN_IND, .addr_type = 1, .rssi = -2,
		  .data = ibeacon, .data_len = 3 },
	};
	size_t n = hci_evt_le_adv_report(ev, sizeof(ev), in, 2);

	(void)state;
	ev[4] = 1;
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 1);
	ev[4] = 0;
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 1);
}

static void test_legacy_bad_fields(void **state)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	struct adv_report in[2] = {
		{ .kind = ADV_KIND_NONCONN_IND, .rssi = -1, .data = ibeacon, .data_len = 3 },
		{ .kind = ADV_KIND_IND, .rssi = -2, .data = ibeacon, .data_len = 3 },
	};
	size_t n = hci_evt_le_adv_report(ev, sizeof(ev), in, 2);

	(void)state;
	ev[5] = 7; /* unknown legacy event type: that report is skipped */
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.r[0].rssi, -2);

	/* A length byte of 200 inside a long enough event: not legacy. */
	memset(ev, 0, sizeof(ev));
	ev[0] = 0x04;
	ev[1] = 0x3e;
	ev[2] = 2 + 10 + 200;
	ev[3] = 0x02;
	ev[4] = 1;
	ev[5 + 8] = 200;
	assert_int_equal(feed(ev, 3 + ev[2], 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 1);
}

static void test_short_and_cut_events(void **state)
{
	const uint8_t empty_meta[] = { 0x3e, 0x00 };
	const uint8_t cut[] = { 0x3e, 0x20, 0x02, 0x01, 0x03, 0x01 };
	const uint8_t other[] = { 0x05, 0x04, 0x00, 0x01, 0x00, 0x13 };
	const uint8_t other_meta[] = { 0x3e, 0x02, 0x01, 0x00 };
	const uint8_t h4_acl[] = { 0x02, 0x00, 0x00, 0x00, 0x00 };

	(void)state;
	assert_int_equal(hci_event_parse(&parser, empty_meta, 1, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(hci_event_parse(&parser, empty_meta, 2, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(hci_event_parse(&parser, cut, sizeof(cut), 0), HCI_EVENT_MALFORMED);
	assert_int_equal(hci_event_parse(&parser, other, sizeof(other), 0), HCI_EVENT_IGNORED);
	assert_int_equal(hci_event_parse(&parser, other_meta, sizeof(other_meta), 0),
			 HCI_EVENT_IGNORED);
	assert_int_equal(hci_event_parse_h4(&parser, h4_acl, sizeof(h4_acl), 0), HCI_EVENT_IGNORED);
	assert_int_equal(hci_event_parse_h4(&parser, h4_acl, 0, 0), HCI_EVENT_IGNORED);
	assert_int_equal(got.n, 0);
}

static void test_ctrl_events(void **state)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	const uint8_t ret[] = { 0x00, 0x0b, 0x00, 0x0b };
	size_t n;

	(void)state;
	n = hci_evt_cmd_complete(ev, sizeof(ev), 1, HCI_OP_READ_LOCAL_VERSION, ret, sizeof(ret));
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_OK);
	n = hci_evt_cmd_status(ev, sizeof(ev), 0x0c, 1, HCI_OP_LE_SET_SCAN_ENABLE);
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_OK);
	n = hci_evt_hw_error(ev, sizeof(ev), 0x01);
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_OK);
	assert_int_equal(got.nctrl, 3);
	assert_int_equal(got.ctrl[0].kind, HCI_CTRL_CMD_COMPLETE);
	assert_int_equal(got.ctrl[0].opcode, HCI_OP_READ_LOCAL_VERSION);
	assert_int_equal(got.ctrl[0].ret_len, 4);
	assert_int_equal(got.ctrl[1].kind, HCI_CTRL_CMD_STATUS);
	assert_int_equal(got.ctrl[1].status, 0x0c);
	assert_int_equal(got.ctrl[2].kind, HCI_CTRL_HW_ERROR);
	assert_int_equal(got.ctrl[2].hw_code, 0x01);
	/* A Command Complete too short for its opcode. */
	ev[1] = 0x0e;
	ev[2] = 0x02;
	assert_int_equal(feed(ev, 5, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.nctrl, 3);
}

static struct adv_report ext_report(uint8_t last_addr_byte, uint8_t sid, const uint8_t *data,
				    uint16_t len)
{
	struct adv_report r = { .event_type = 0x0000, .addr_type = 1,
				.addr = { last_addr_byte, 2, 3, 4, 5, 0xc6 }, .primary_phy = 3,
				.secondary_phy = 2, .sid = sid, .tx_power = -8, .rssi = -60,
				.periodic_interval = 0x0120, .data = data, .data_len = len };
	return r;
}

static void test_ext_single(void **state)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	struct adv_report r = ext_report(1, 4, ibeacon, sizeof(ibeacon));
	size_t off = 0, n;

	(void)state;
	r.event_type = 0x0005; /* connectable directed */
	r.direct_addr_type = 1;
	r.direct_addr[0] = 0xaa;
	r.tx_power = ADV_TX_POWER_UNAVAILABLE;
	n = hci_evt_le_ext_adv_report(ev, sizeof(ev), &r, &off, 0);
	assert_int_equal(feed(ev, n, 99), HCI_EVENT_OK);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.r[0].kind, ADV_KIND_EXT);
	assert_int_equal(got.r[0].event_type, 0x0005);
	assert_int_equal(got.r[0].primary_phy, 3);
	assert_int_equal(got.r[0].secondary_phy, 2);
	assert_int_equal(got.r[0].sid, 4);
	assert_int_equal(got.r[0].tx_power, ADV_TX_POWER_UNAVAILABLE);
	assert_int_equal(got.r[0].rssi, -60);
	assert_int_equal(got.r[0].periodic_interval, 0x0120);
	assert_int_equal(got.r[0].direct_addr_type, 1);
	assert_int_equal(got.r[0].direct_addr[0], 0xaa);
	assert_int_equal(got.r[0].data_len, sizeof(ibeacon));
	assert_int_equal(got.r[0].data_status, ADV_DATA_COMPLETE);
	assert_memory_equal(got.r[0].data, ibeacon, sizeof(ibeacon));
}

static void test_ext_event_type_mapping(void **state)
{
	(void)state;
	/* The spec's legacy table. */
	assert_int_equal(hci_ext_event_type_kind(0x13), ADV_KIND_IND);
	assert_int_equal(hci_ext_event_type_kind(0x15), ADV_KIND_DIRECT_IND);
	assert_int_equal(hci_ext_event_type_kind(0x12), ADV_KIND_SCAN_IND);
	assert_int_equal(hci_ext_event_type_kind(0x10), ADV_KIND_NONCONN_IND);
	assert_int_equal(hci_ext_event_type_kind(0x1b), ADV_KIND_SCAN_RSP);
	assert_int_equal(hci_ext_event_type_kind(0x1a), ADV_KIND_SCAN_RSP);
	/* Data status bits do not change the kind. */
	assert_int_equal(hci_ext_event_type_kind(0x13 | 0x40), ADV_KIND_IND);
	/* Non-legacy, whatever the other bits. */
	assert_int_equal(hci_ext_event_type_kind(0x0000), ADV_KIND_EXT);
	assert_int_equal(hci_ext_event_type_kind(0x000f), ADV_KIND_EXT);
	/* Legacy combinations outside the table. */
	assert_int_equal(hci_ext_event_type_kind(0x18), ADV_KIND_SCAN_RSP);
	assert_int_equal(hci_ext_event_type_kind(0x14), ADV_KIND_DIRECT_IND);
	assert_int_equal(hci_ext_event_type_kind(0x11), ADV_KIND_IND);
}

/* Send every fragment of r (at most frag bytes each). */
static void send_all(const struct adv_report *r, size_t frag, uint64_t ts)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	size_t off = 0;

	do {
		size_t n = hci_evt_le_ext_adv_report(ev, sizeof(ev), r, &off, frag);

		assert_int_equal(feed(ev, n, ts), HCI_EVENT_OK);
	} while (off < r->data_len);
}

static void send_one(const struct adv_report *r, size_t from, size_t len, unsigned status,
		     uint64_t ts)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	struct adv_report part = *r;
	size_t off = 0, n;

	part.data = r->data + from;
	part.data_len = (uint16_t)len;
	n = hci_evt_le_ext_adv_report(ev, sizeof(ev), &part, &off, 0);
	ev[5] = (uint8_t)((ev[5] & ~0x60) | status << 5);
	assert_int_equal(feed(ev, n, ts), status == 3 ? HCI_EVENT_MALFORMED : HCI_EVENT_OK);
}

static uint8_t big[BF_EXT_ADV_MAX + 100];

static void fill_big(void)
{
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
}

static void test_ext_reassembly(void **state)
{
	struct adv_report r;

	(void)state;
	fill_big();
	r = ext_report(1, 2, big, 1000);
	send_all(&r, 0, 10);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.r[0].data_len, 1000);
	assert_memory_equal(got.r[0].data, big, 1000);
	assert_int_equal(got.r[0].data_status, ADV_DATA_COMPLETE);
	assert_int_equal(parser.stats.fragments, 4); /* 5 events of <= 229 */
	assert_int_equal(hci_event_parser_partials(&parser), 0);

	/* Full length: 1650 bytes in 10-byte fragments. */
	r = ext_report(1, 2, big, BF_EXT_ADV_MAX);
	send_all(&r, 10, 20);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.r[1].data_len, BF_EXT_ADV_MAX);
	assert_memory_equal(got.r[1].data, big, BF_EXT_ADV_MAX);
	assert_int_equal(got.r[1].data_status, ADV_DATA_COMPLETE);
}

static void test_ext_truncated(void **state)
{
	struct adv_report r;

	(void)state;
	fill_big();
	r = ext_report(1, 2, big, 300);
	r.data_status = ADV_DATA_TRUNCATED;
	send_all(&r, 100, 10);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.r[0].data_len, 300);
	assert_int_equal(got.r[0].data_status, ADV_DATA_TRUNCATED);
	assert_memory_equal(got.r[0].data, big, 300);
	assert_int_equal(parser.stats.truncated, 1);

	/* Truncated without any earlier fragment: what arrived. */
	send_one(&r, 0, 20, 2, 11);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.r[1].data_len, 20);
	assert_int_equal(got.r[1].data_status, ADV_DATA_TRUNCATED);
	/* The reserved status 3 counts as truncated and flags the event. */
	send_one(&r, 0, 5, 1, 12);
	send_one(&r, 5, 5, 3, 12);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.r[2].data_len, 10);
	assert_int_equal(got.r[2].data_status, ADV_DATA_TRUNCATED);
}

static void test_ext_interleaved(void **state)
{
	struct adv_report a, b, c;

	(void)state;
	fill_big();
	a = ext_report(0xa, 1, big, 40);
	b = ext_report(0xb, 1, big + 100, 40);
	c = ext_report(0xa, 2, big + 200, 40); /* same address, other SID */
	send_one(&a, 0, 20, 1, 1);
	send_one(&b, 0, 20, 1, 2);
	send_one(&c, 0, 20, 1, 3);
	assert_int_equal(hci_event_parser_partials(&parser), 3);
	send_one(&b, 20, 20, 0, 4);
	send_one(&a, 20, 20, 0, 5);
	send_one(&c, 20, 20, 0, 6);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.r[0].addr[0], 0xb);
	assert_memory_equal(got.r[0].data, big + 100, 40);
	assert_int_equal(got.r[1].addr[0], 0xa);
	assert_memory_equal(got.r[1].data, big, 40);
	assert_int_equal(got.r[2].sid, 2);
	assert_memory_equal(got.r[2].data, big + 200, 40);
	assert_int_equal(hci_event_parser_partials(&parser), 0);
}

static void test_ext_stale_and_evicted(void **state)
{
	struct adv_report r[HCI_REASM_SLOTS + 1];

	(void)state;
	fill_big();
	/* A partial that never completes goes stale after the timeout. */
	r[0] = ext_report(1, 1, big, 40);
	send_one(&r[0], 0, 20, 1, 1000);
	send_one(&r[0], 20, 20, 0, 1000 + HCI_REASM_TIMEOUT_US + 1);
	assert_int_equal(parser.stats.partial_stale, 1);
	/* Its last fragment then stands alone. */
	assert_int_equal(got.n, 1);
	assert_int_equal(got.r[0].data_len, 20);
	assert_memory_equal(got.r[0].data, big + 20, 20);

	/* One more advertiser than slots: the least recently used is evicted. */
	for (int i = 0; i <= HCI_REASM_SLOTS; i++) {
		r[i] = ext_report((uint8_t)(0x10 + i), 1, big + i, 40);
		send_one(&r[i], 0, 20, 1, 5000000 + (uint64_t)i);
	}
	assert_int_equal(parser.stats.partial_evicted, 1);
	assert_int_equal(hci_event_parser_partials(&parser), HCI_REASM_SLOTS);
	for (int i = 1; i <= HCI_REASM_SLOTS; i++)
		send_one(&r[i], 20, 20, 0, 5000010);
	assert_int_equal(got.n, 1 + HCI_REASM_SLOTS);
	for (int i = 1; i <= HCI_REASM_SLOTS; i++) {
		assert_int_equal(got.r[i].data_len, 40);
		assert_memory_equal(got.r[i].data, big + i, 40);
	}
	/* A clock going backwards expires nothing; discard counts as stale. */
	send_one(&r[0], 0, 20, 1, 10);
	hci_event_parser_discard_partials(&parser);
	assert_int_equal(parser.stats.partial_stale, 2);
	assert_int_equal(hci_event_parser_partials(&parser), 0);
}

static void test_ext_cap(void **state)
{
	struct adv_report r;
	size_t sent = 0;

	(void)state;
	fill_big();
	r = ext_report(1, 1, big, 200);
	/* 9 * 200 = 1800 bytes of "more data", then a complete one. */
	for (int i = 0; i < 9; i++, sent += 200)
		send_one(&r, 0, 200, 1, 10);
	send_one(&r, 0, 10, 0, 10);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.r[0].data_len, BF_EXT_ADV_MAX);
	assert_int_equal(got.r[0].data_status, ADV_DATA_TRUNCATED);
	assert_int_equal(parser.stats.partial_overflow, 1);
	assert_true(sent > BF_EXT_ADV_MAX);
}

static void test_ext_num_reports_disagree(void **state)
{
	uint8_t ev[HCI_MAX_EVENT_H4];
	struct adv_report r = ext_report(1, 1, ibeacon, 10);
	size_t off = 0, n = hci_evt_le_ext_adv_report(ev, sizeof(ev), &r, &off, 0);

	(void)state;
	ev[4] = 2; /* claims two reports */
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 1);
	ev[4] = 1;
	ev[28] = 11; /* data length one past the event */
	assert_int_equal(feed(ev, n, 0), HCI_EVENT_MALFORMED);
	assert_int_equal(got.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_legacy_multi_report, setup),
		cmocka_unit_test_setup(test_legacy_single_report_as_in_many, setup),
		cmocka_unit_test_setup(test_legacy_single_report_faults, setup),
		cmocka_unit_test_setup(test_num_reports_more_than_bytes, setup),
		cmocka_unit_test_setup(test_num_reports_fewer_than_bytes, setup),
		cmocka_unit_test_setup(test_legacy_bad_fields, setup),
		cmocka_unit_test_setup(test_short_and_cut_events, setup),
		cmocka_unit_test_setup(test_ctrl_events, setup),
		cmocka_unit_test_setup(test_ext_single, setup),
		cmocka_unit_test_setup(test_ext_event_type_mapping, setup),
		cmocka_unit_test_setup(test_ext_reassembly, setup),
		cmocka_unit_test_setup(test_ext_truncated, setup),
		cmocka_unit_test_setup(test_ext_interleaved, setup),
		cmocka_unit_test_setup(test_ext_stale_and_evicted, setup),
		cmocka_unit_test_setup(test_ext_cap, setup),
		cmocka_unit_test_setup(test_ext_num_reports_disagree, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
