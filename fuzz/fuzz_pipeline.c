/*
 * fuzz_pipeline.c - arbitrary advertising reports (address, type, RSSI,
 * payload bytes, time steps) through the whole data path with a snapshot
 * holding every kind of identifier and campaign.
 *
 * Input: a sequence of records  [dt:1][addr_type:1][rssi:1][addr:6][len:1][data:len].
 *
 * Every input gets a pipeline of its own (nothing carries over from one
 * input to the next), built from a configuration and a snapshot builder
 * prepared once: the builder's tables are megabytes, and clearing them per
 * input cost far more than the reports themselves.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "pipeline_config.h"
#include "snap_builder.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pipeline_config cfg;
static struct snap_builder *builder;

static void setup_config(void)
{
	static const uint8_t ns[10] = { 1 };
	const char *why;

	pipeline_config_defaults(&cfg);
	cfg.enter_confirmations = 1;
	cfg.max_tracked = 4;
	cfg.irk_cache_size = 8;
	/* The smallest tables the configuration allows: the defaults size them
	 * for a shop (16384 campaign states, 256 store beacons), which only
	 * costs a large clear per input, while small ones are full after a few
	 * records and so also reach the eviction paths. */
	cfg.max_campaign_state = 16;
	cfg.max_store_beacons = 4;
	memcpy(cfg.store_namespaces[0], ns, 10);
	cfg.store_namespaces[0][9] = 9;
	cfg.n_store_namespaces = 1;
	why = pipeline_config_check(&cfg);
	if (why) {
		fprintf(stderr, "fuzz_pipeline: bad configuration: %s\n", why);
		abort();
	}
}

static void setup_snapshot(void)
{
	static const uint8_t uuid[16] = { 0xf7, 0x82, 0x6d, 0xa6 }, ns[10] = { 1 }, inst[6] = { 2 };
	static const uint8_t key[16] = { 3 }, irk[16] = { 4 };
	struct snap_builder *b = sb_new();

	if (!b)
		abort();
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
	builder = b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup_config();
	setup_snapshot();
	return 0;
}

/* The input's clock starts here (2026-03-10 09:00 UTC). */
#define T0_US (1773133200ull * 1000000ull)

/* A fresh pipeline and a fresh snapshot (it takes ownership of its own). */
static struct pipeline *make(void)
{
	struct pipeline *p = pipeline_new(&cfg, NULL);
	struct snapshot *s;

	if (!p)
		return NULL;
	s = sb_build(builder, 1);
	if (!s) {
		pipeline_free(p);
		return NULL;
	}
	/* A pipeline that has seen no time indexes a new snapshot's EIDs at
	 * the wall clock; setting its clock first makes the run the same
	 * whenever it happens (an empty pipeline has nothing else to tick). */
	pipeline_tick(p, T0_US);
	pipeline_set_snapshot(p, s);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline *p = make();
	uint64_t t = T0_US;
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
