/* test_privacy.c - 100,000 random addresses churn through the pipeline:
 * no allocation on the hot path, the tracked table stays at the consented
 * devices, and no identifier of a non-consented device (canaries) appears
 * in anything the pipeline hands out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/crypto.h>

#include "pl_harness.h"
#include "snap_builder.h"

/* ---- allocation counting: our static libraries through ld --wrap, OpenSSL
 * and cJSON through their allocator hooks. */
static unsigned long allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
	allocs++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	allocs++;
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	allocs++;
	return __real_realloc(p, n);
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
	(void)file, (void)line;
	allocs++;
	return __real_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file, (void)line;
	allocs++;
	return __real_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
	(void)file, (void)line;
	free(p);
}

static void *cjson_malloc(size_t n)
{
	allocs++;
	return __real_malloc(n);
}

#define T0 1773133200ull

static const uint8_t UUID_ALICE[16] = { 0xa1, 0x1c, 0xe0, 0, 0, 0, 0x40, 0,
					0x80, 0,    0,	  0, 0, 0, 0,	 1 };
/* Canaries: identifiers that must never come out. */
static const uint8_t UUID_BOB[16] = { 0xca, 0x4a, 0x21, 0xe5, 0xb0, 0xb0, 0x40, 0x11,
				      0x80, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
static const uint8_t UUID_STRANGER[16] = { 0xde, 0xad, 0xbe, 0xef, 0xca, 0x4a, 0x40, 0x99,
					   0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
static const uint8_t NS_STRANGER[10] = {
	0xfe, 0xed, 0xfa, 0xce, 0xca, 0x4a, 0x12, 0x34, 0x56, 0x78
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void hexs(char *out, const uint8_t *p, size_t n, bool upper)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, upper ? "%02X" : "%02x", p[i]);
}

static void assert_absent(const struct harness *h, const uint8_t *id, size_t n)
{
	char hex[64];

	assert_null(memmem(h->out, h->out_len, id, n));
	hexs(hex, id, n, false);
	assert_null(strstr(h->out, hex));
	hexs(hex, id, n, true);
	assert_null(strstr(h->out, hex));
}

static void test_churn_and_canaries(void **state)
{
	struct pipeline_config cfg;
	struct harness h;
	struct snap_builder *b = sb_new();
	struct bf_frame fa = frame_ibeacon(UUID_ALICE, 7, 1), fb = frame_ibeacon(UUID_BOB, 3, 4);
	uint8_t alice_addr[6] = { 1, 2, 3, 4, 5, 0xc1 };
	unsigned long before;
	const struct pipeline_stats *st;
	uint8_t canary_addr[6] = { 0x0c, 0xa4, 0x42, 0x1e, 0x5a, 0x3f }; /* NRPA, top bits 00 */
	char addr_text[32];

	(void)state;
	pipeline_config_defaults(&cfg);
	strcpy(cfg.zone, "entrance");
	cfg.max_tracked = 64;
	cfg.irk_cache_size = 256;
	sb_channel(b, "push");
	uint32_t a = sb_customer(b, 1, "alice-0001");
	uint32_t bob = sb_customer(b, 2, "CANARY-BOB-REF");
	sb_consent(b, a, SNAP_PRESENCE, 1, 0, 0, 0, "p1");
	sb_consent(b, a, SNAP_RETARGETING, 1, 0, 0, 1, "p1");
	sb_ibeacon(b, a, UUID_ALICE, 7, 1);
	sb_ibeacon(b, bob, UUID_BOB, 3, 4);
	for (int i = 0; i < 50; i++) { /* IRK holders without consent: RPAs are tried */
		char ref[32];
		uint8_t k[16];

		snprintf(ref, sizeof(ref), "CANARY-IRK-%d", i);
		memset(k, 0x30 + i, sizeof(k));
		sb_irk(b, sb_customer(b, 100 + i, ref), k);
	}
	sb_campaign(b, 1, "welcome", "entrance", SNAP_EVENT_ENTER)->cooldown_s = 86400;
	before = allocs;
	harness_init(&h, &cfg);
	pipeline_set_snapshot(h.p, sb_build(b, 1));
	assert_true(allocs > before); /* the counters do see the pipeline's allocations */

	/* Warm-up: alice enters (the one trigger), every path runs once. */
	for (uint64_t t = T0; t < T0 + 10; t++) {
		harness_report(&h, S(t), alice_addr, ADV_ADDR_RANDOM, -60, &fa);
		harness_report(&h, S(t), canary_addr, ADV_ADDR_RANDOM, -60, NULL);
		pipeline_tick(h.p, S(t) + 1);
	}
	assert_int_equal(h.triggers, 1);

	before = allocs;
	/* 100,000 devices, 100 a second over ~17 minutes (crossing a footfall period). */
	for (uint32_t i = 0; i < 100000; i++) {
		uint64_t ts = S(T0 + 10) + (uint64_t)i * 10000;
		uint64_t r = rnd();
		uint8_t addr[6];
		struct bf_frame f;

		memcpy(addr, &r, 6);
		switch (i % 10) {
		case 0: case 1: case 2: /* resolvable-looking private addresses, no IRK matches */
			addr[5] = (uint8_t)((addr[5] & 0x3f) | 0x40);
			harness_report(&h, ts, addr, ADV_ADDR_RANDOM, -70, NULL);
			break;
		case 3: /* a stranger's iBeacon, not enrolled */
			f = frame_ibeacon(UUID_STRANGER, (uint16_t)r, (uint16_t)(r >> 16));
			harness_report(&h, ts, addr, ADV_ADDR_RANDOM, -65, &f);
			break;
		case 4: /* a stranger's Eddystone-UID */
			f = (struct bf_frame){ .type = BF_EDDYSTONE_UID };
			memcpy(f.u.uid.namespace_id, NS_STRANGER, 10);
			memcpy(f.u.uid.instance, &r, 6);
			harness_report(&h, ts, addr, ADV_ADDR_RANDOM, -65, &f);
			break;
		case 5: /* bob: enrolled, no consent */
			harness_report(&h, ts, addr, ADV_ADDR_RANDOM, -55, &fb);
			break;
		case 6: /* the canary address itself, no frames */
			harness_report(&h, ts, canary_addr, ADV_ADDR_RANDOM, -60, NULL);
			break;
		case 7: /* alice keeps being there */
			harness_report(&h, ts, alice_addr, ADV_ADDR_RANDOM, -60, &fa);
			break;
		default: /* non-resolvable private / public junk */
			addr[5] &= 0x3f;
			harness_report(&h, ts, addr, (uint8_t)(i & 1), -80, NULL);
			break;
		}
		if (i % 100 == 99)
			pipeline_tick(h.p, ts);
	}
	pipeline_tick(h.p, S(T0 + 10 + 1000));
	st = pipeline_get_stats(h.p);
	/* No allocation at all for 100,000 reports and 1,000 ticks. */
	assert_int_equal(allocs - before, 0);
	assert_true(st->tracked_devices <= 1);
	assert_int_equal(st->evicted, 0);
	assert_true(st->irk_lookups >= 30000);
	assert_true(st->footfall_published >= 1);
	assert_int_equal(h.triggers, 1);

	pipeline_flush(h.p, S(T0 + 2000));
	/* Only aggregates and alice left the pipeline. */
	assert_non_null(strstr(h.out, "alice-0001"));
	assert_null(strstr(h.out, "CANARY"));
	assert_absent(&h, UUID_BOB, 16);
	assert_absent(&h, UUID_STRANGER, 16);
	assert_absent(&h, NS_STRANGER, 10);
	assert_absent(&h, canary_addr, 6);
	snprintf(addr_text, sizeof(addr_text), "%02X:%02X:%02X:%02X:%02X:%02X", canary_addr[5],
		 canary_addr[4], canary_addr[3], canary_addr[2], canary_addr[1], canary_addr[0]);
	assert_null(strcasestr(h.out, addr_text));
	harness_fini(&h);
	sb_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_churn_and_canaries),
	};
	cJSON_Hooks hooks = { .malloc_fn = cjson_malloc, .free_fn = free };

	if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free))
		return 1;
	cJSON_InitHooks(&hooks);
	setenv("TZ", "UTC0", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
