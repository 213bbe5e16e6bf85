/*
 * fuzz_pipeline.c - arbitrary advertising reports (address, type, RSSI,
 * payload bytes, time steps) through the whole data path with a snapshot
 * holding every kind of identifier and campaign.
 *
 * Input: a sequence of records  [dt:1][addr_type:1][rssi:1][addr:6][len:1][data:len].
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pipeline.h"
#include "pipeline_config.h"
#include "snap_builder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pipeline *make(void)
{
	static const uint8_t uuid[16] = { 0xf7, 0x82, 0x6d, 0xa6 }, ns[10] = { 1 }, inst[6] = { 2 };
	static const uint8_t key[16] = { 3 }, irk[16] = { 4 };
	struct pipeline_config cfg;
	struct snap_builder *b = sb_new();
	struct pipeline *p;

	pipeline_config_defaults(&cfg);
	cfg.enter_confirmations = 1;
	cfg.max_tracked = 4;
	cfg.irk_cache_size = 8;
	memcpy(cfg.store_namespaces[0], ns, 10);
	cfg.store_namespaces[0][9] = 9;
	cfg.n_store_namespaces = 1;
	sb_channel(b, "push");
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t c = sb_customer(b, i + 1, "fuzz");
		sb_consent(b, c, SNAP_PRESENCE, 1, 0, 0, 0, "p");
		sb_consent(b, c, SNAP_RETARGETING, 1, 0, 0, 1, "p");
	}
	sb_ibeacon(b, 0, uuid, 1, 1);
	sb_uid(b, 1, ns, inst);
	sb_eid(b, 2, key, 0, 0);
	sb_irk(b, 3, irk);
	sb_campaign(b, 1, "e", cfg.zone, SNAP_EVENT_ENTER);
	sb_campaign(b, 2, "d", cfg.zone, SNAP_EVENT_DWELL);
	sb_campaign(b, 3, "x", cfg.zone, SNAP_EVENT_EXIT);
	p = pipeline_new(&cfg, NULL);
	if (p)
		pipeline_set_snapshot(p, sb_build(b, 1));
	sb_free(b);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline *p = make();
	uint64_t t = 1773133200ull * 1000000ull;
	size_t off = 0;

	if (!p)
		return 0;
	while (off + 10 <= size) {
		struct adv_report r = { .sid = 0xff, .tx_power = ADV_TX_POWER_UNAVAILABLE };
		size_t len = data[off + 9];

		t += (uint64_t)data[off] * 250000u;
		r.ts_us = t;
		r.addr_type = data[off + 1] & 3;
		r.rssi = (int8_t)data[off + 2];
		memcpy(r.addr, data + off + 3, 6);
		off += 10;
		if (len > size - off)
			len = size - off;
		r.data = data + off;
		r.data_len = (uint16_t)len;
		off += len;
		pipeline_report(p, &r);
		if (data[off - len - 10] & 1)
			pipeline_tick(p, t);
	}
	pipeline_flush(p, t + 1);
	pipeline_free(p);
	return 0;
}
