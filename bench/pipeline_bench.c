/*
 * pipeline_bench.c - nanoseconds per advertising report through the data
 * path, by kind of traffic. Prints figures; asserts nothing.
 *
 *   build/pipeline_bench [reports-per-case]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aes_openssl.h"
#include "beacon_frame.h"
#include "eddystone_eid.h"
#include "irk.h"
#include "pipeline.h"
#include "pipeline_config.h"
#include "pl_aes.h"
#include "snap_builder.h"

#define T0 1773133200ull
#define N_IRK 1000
#define N_TAGS 1000

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct bench_case {
	const char *name;
	uint8_t data[BF_LEGACY_ADV_MAX];
	size_t len;
	int addr_mode; /* 0 fixed, 1 fresh random each report, 2 fresh RPA, 3 EID tag */
};

static uint8_t tag_keys[N_TAGS][16];

static void run(struct pipeline *p, struct bench_case *c, unsigned n, uint64_t *t_us)
{
	struct adv_report r = { .addr_type = ADV_ADDR_RANDOM,
				.rssi = -65,
				.kind = ADV_KIND_NONCONN_IND,
				.tx_power = ADV_TX_POWER_UNAVAILABLE,
				.sid = 0xff };
	struct bf_frame f = { .type = BF_EDDYSTONE_EID };
	static uint8_t eid_data[N_TAGS][BF_LEGACY_ADV_MAX];
	static size_t eid_len[N_TAGS];
	double t0, t1;

	if (c->addr_mode == 3)
		for (unsigned k = 0; k < N_TAGS; k++) {
			eid_compute(aes128_openssl, tag_keys[k], 8, (uint32_t)(*t_us / 1000000u),
				    f.u.eid.eid);
			eid_len[k] = bf_encode(&f, eid_data[k], sizeof(eid_data[k]));
		}
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		uint64_t x = rnd();

		*t_us += 1000; /* 1,000 reports a second */
		r.ts_us = *t_us;
		r.data = c->data;
		r.data_len = (uint16_t)c->len;
		memset(r.addr, 0x21, 6);
		if (c->addr_mode == 1 || c->addr_mode == 2) {
			memcpy(r.addr, &x, 6);
			r.addr[5] =
				(uint8_t)((r.addr[5] & 0x3f) | (c->addr_mode == 2 ? 0x40 : 0xc0));
		} else if (c->addr_mode == 3) {
			unsigned k = (unsigned)(x % N_TAGS);
			r.data = eid_data[k];
			r.data_len = (uint16_t)eid_len[k];
			r.addr[0] = (uint8_t)k;
		}
		pipeline_report(p, &r);
		if (i % 1000 == 999)
			pipeline_tick(p, *t_us);
	}
	t1 = now_ns();
	printf("  %-44s %8.0f ns/report\n", c->name, (t1 - t0) / n);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200000;
	struct pipeline_config cfg;
	struct snap_builder *b = sb_new();
	struct pipeline_callbacks cb = { 0 };
	struct pipeline *p;
	uint64_t t_us = T0 * 1000000ull;
	uint8_t uuid[16] = { 0xbe, 0x4c, 0x00 };
	struct bf_frame f;
	struct bench_case cases[6];
	struct pl_aes *aes = pl_aes_new();
	const char *only = getenv("BENCH_CASE"); /* run one case only (profiling) */

	pipeline_config_defaults(&cfg);
	setenv("TZ", "UTC0", 1);
	/* 1,000 consented iBeacon customers, 1,000 IRKs, 1,000 EID tags. */
	for (uint32_t i = 0; i < 3 * N_IRK; i++) {
		uint32_t c = sb_customer(b, i + 1, "c");
		uint8_t k[16];

		sb_consent(b, c, SNAP_PRESENCE, 1, 0, 0, 0, "p");
		memset(k, 0, sizeof(k));
		memcpy(k, &i, sizeof(i));
		k[15] = 0x5a;
		if (i < N_IRK) {
			uuid[15] = (uint8_t)i;
			sb_ibeacon(b, c, uuid, (uint16_t)i, 1);
		} else if (i < 2 * N_IRK) {
			sb_irk(b, c, k);
		} else {
			memcpy(tag_keys[i - 2 * N_IRK], k, 16);
			sb_eid(b, c, k, 8, 0);
		}
	}
	p = pipeline_new(&cfg, &cb);
	pipeline_set_snapshot(p, sb_build(b, 1));

	memset(cases, 0, sizeof(cases));
	cases[0] =
		(struct bench_case){ .name = "phone, no beacon frame (footfall)", .addr_mode = 1 };
	cases[0].len = 3, memcpy(cases[0].data, "\x02\x01\x06", 3);
	f = (struct bf_frame){ .type = BF_IBEACON };
	memcpy(f.u.ibeacon.uuid, "unknown-beacon!!", 16);
	cases[1] = (struct bench_case){ .name = "unknown iBeacon (decode + lookup + footfall)",
					.addr_mode = 1 };
	cases[1].len = bf_encode(&f, cases[1].data, sizeof(cases[1].data));
	uuid[15] = 7;
	memcpy(f.u.ibeacon.uuid, uuid, 16);
	f.u.ibeacon.major = 7;
	f.u.ibeacon.minor = 1;
	cases[2] = (struct bench_case){ .name = "consented iBeacon (presence tracker)",
					.addr_mode = 0 };
	cases[2].len = bf_encode(&f, cases[2].data, sizeof(cases[2].data));
	cases[3] = (struct bench_case){ .name = "consented EID tags, 1000 keys", .addr_mode = 3 };
	cases[4] = (struct bench_case){ .name = "fresh RPA each report, 1000 IRKs (miss)",
					.addr_mode = 2 };
	cases[4].len = 3, memcpy(cases[4].data, "\x02\x01\x06", 3);

	/* An encrypted TLM frame: paired with the EID tag heard from the same
	 * address, here from addresses that are nobody's. */
	f = (struct bf_frame){ .type = BF_EDDYSTONE_ETLM };
	cases[5] = (struct bench_case){ .name = "eTLM from an unknown address (pairing)",
					.addr_mode = 1 };
	cases[5].len = bf_encode(&f, cases[5].data, sizeof(cases[5].data));

	printf("pipeline_bench: %u reports per case\n", n);
	for (int i = 0; i < 6; i++)
		if (!only || atoi(only) == i)
			run(p, &cases[i], i == 4 ? (n / 100 ? n / 100 : 1) : n, &t_us);
	{
		/* The primitives underneath. */
		uint8_t key[16] = { 1 }, in[16] = { 2 }, out[16];
		double t0 = now_ns();
		for (unsigned i = 0; i < n; i++)
			pl_aes_block(aes, key, in, out);
		printf("  %-44s %8.0f ns\n", "one AES block (reused EVP context)",
		       (now_ns() - t0) / n);
		t0 = now_ns();
		for (unsigned i = 0; i < n / 10; i++)
			aes128_openssl(key, in, out);
		printf("  %-44s %8.0f ns\n", "one AES block (aes128_openssl, new context)",
		       (now_ns() - t0) / (n / 10));
	}
	printf("  tracked devices %llu, footfall periods published %llu\n",
	       (unsigned long long)pipeline_get_stats(p)->tracked_devices,
	       (unsigned long long)pipeline_get_stats(p)->footfall_published);
	pipeline_free(p);
	sb_free(b);
	pl_aes_free(aes);
	return 0;
}
