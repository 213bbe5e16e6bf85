/* test_identity.c - static ids, rolling EID table, IRK/ah and eTLM (AES-EAX). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aes_openssl.h"
#include "eddystone_eid.h"
#include "etlm.h"
#include "id_index.h"
#include "irk.h"
#include "irk_ah.h"
#include "snap_builder.h"
#include "bgw_util.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static const uint8_t UUID_A[16] = { 0xf7, 0x82, 0x6d, 0xa6, 0x4f, 0xa2, 0x4e, 0x98,
				    0x80, 0x24, 0xbc, 0x5b, 0x71, 0xe0, 0x89, 0x3e };
static const uint8_t NS_A[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const uint8_t INST_A[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
static const uint8_t IK_A[16] = { 0xe2, 0x0a, 0x39, 0xf4, 0x73, 0xb8, 0x4d, 0x10,
				  0x9c, 0x11, 0x28, 0xa7, 0x6f, 0x3b, 0xc9, 0x05 };
static const uint8_t IK_B[16] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
				  0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x00 };

static void test_static_ids(void **state)
{
	struct snap_builder *b = sb_new();
	uint32_t c0, c1;
	struct snapshot *s;
	struct id_index *x;
	uint8_t other_inst[6] = { 0 };

	(void)state;
	c0 = sb_customer(b, 10, "ref-a");
	c1 = sb_customer(b, 20, "ref-b");
	sb_ibeacon(b, c0, UUID_A, 1, 2);
	sb_uid(b, c1, NS_A, INST_A);
	s = sb_build(b, 1);
	x = id_index_new(s, 1, 1000000, aes128_openssl);
	assert_non_null(x);
	assert_int_equal(id_index_ibeacon(x, UUID_A, 1, 2), 0);
	assert_int_equal(id_index_ibeacon(x, UUID_A, 1, 3), -1);
	assert_int_equal(id_index_ibeacon(x, UUID_A, 0x0100, 2), -1);
	assert_int_equal(id_index_uid(x, NS_A, INST_A), 1);
	assert_int_equal(id_index_uid(x, NS_A, other_inst), -1);
	id_index_free(x);
	snapshot_free(s);
	sb_free(b);
}

/* What the tag broadcasts at unix time now (its counter is now - offset). */
static void tag_eid(const uint8_t ik[16], uint8_t k, int64_t offset, int64_t now, uint8_t eid[8])
{
	eid_compute(aes128_openssl, ik, k, (uint32_t)(now - offset), eid);
}

static struct snapshot *eid_snapshot(uint8_t ka, int64_t off_a, uint8_t kb, int64_t off_b)
{
	struct snap_builder *b = sb_new();
	uint32_t c0 = sb_customer(b, 1, "tag-a"), c1 = sb_customer(b, 2, "tag-b");
	struct snapshot *s;

	sb_eid(b, c0, IK_A, ka, off_a);
	sb_eid(b, c1, IK_B, kb, off_b);
	s = sb_build(b, 1);
	sb_free(b);
	return s;
}

static void test_eid_window(void **state)
{
	const int64_t now = 1700000000, off = 12345;
	struct snapshot *s = eid_snapshot(4, off, 4, 0);
	struct id_index *x = id_index_new(s, 1, now, aes128_openssl);
	uint8_t eid[8];
	uint32_t tb = 0;

	(void)state;
	assert_int_equal(id_index_eid_keys(x), 2);
	tag_eid(IK_A, 4, off, now, eid);
	assert_int_equal(id_index_eid(x, eid, &tb), 0);
	assert_int_equal(tb, eid_period_start(4, (uint32_t)(now - off)));
	/* One period either side: a tag clock 16 s early or late still resolves. */
	tag_eid(IK_A, 4, off, now - 16, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), 0);
	tag_eid(IK_A, 4, off, now + 16, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), 0);
	/* Two periods off is outside the tolerance. */
	tag_eid(IK_A, 4, off, now + 40, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), -1);
	tag_eid(IK_B, 4, 0, now, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), 1);
	id_index_free(x);
	snapshot_free(s);
}

static void test_eid_rotation_incremental(void **state)
{
	const int64_t start = 1700000000;
	/* Key A rotates every 4 s (k=2), key B every 1024 s (k=10). */
	struct snapshot *s = eid_snapshot(2, 0, 10, 0);
	struct id_index *x = id_index_new(s, 1, start, aes128_openssl);
	uint8_t eid[8];
	uint32_t total = 0;

	(void)state;
	for (int64_t now = start; now < start + 600; now++) {
		uint32_t computed = id_index_roll(x, now);

		/* Never a full rebuild: at most one new EID per key and second. */
		assert_true(computed <= 2);
		total += computed;
		tag_eid(IK_A, 2, 0, now, eid);
		assert_int_equal(id_index_eid(x, eid, NULL), 0);
		tag_eid(IK_B, 10, 0, now, eid);
		assert_int_equal(id_index_eid(x, eid, NULL), 1);
	}
	/* 600 s = 150 periods of A; B rolls at most once. */
	assert_in_range(total, 149, 152);
	/* Yesterday's EIDs are gone from the table. */
	tag_eid(IK_A, 2, 0, start, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), -1);
	id_index_free(x);
	snapshot_free(s);
}

static void test_eid_drift_and_jump(void **state)
{
	const int64_t now = 1800000000;
	struct snapshot *s = eid_snapshot(5, 100, 5, 100);
	struct id_index *x = id_index_new(s, 2, now, aes128_openssl);
	uint8_t eid[8];

	(void)state;
	/* Tolerance 2 periods of 32 s: a tag 60 s fast resolves, 100 s does not. */
	tag_eid(IK_A, 5, 100, now + 60, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), 0);
	tag_eid(IK_A, 5, 100, now - 60, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), 0);
	tag_eid(IK_A, 5, 100, now + 100, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), -1);
	/* A jump of a day (replay of another capture) rebuilds the window. */
	assert_int_equal(id_index_roll(x, now + 86400), 10);
	tag_eid(IK_A, 5, 100, now + 86400, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), 0);
	/* And a clock stepping back is noticed too. */
	assert_true(id_index_roll(x, now) > 0);
	tag_eid(IK_B, 5, 100, now, eid);
	assert_int_equal(id_index_eid(x, eid, NULL), 1);
	id_index_free(x);
	snapshot_free(s);
}

/* Core spec Vol 3 Part H, Appendix D.7 / Vol 6 Part C: ah sample data. */
static void test_ah_vector(void **state)
{
	struct pl_aes *a = pl_aes_new();
	uint8_t irk[16];

	(void)state;
	unhex("ec0234a357c8ad05341010a60a397d9b", irk, 16);
	assert_int_equal(irk_ah(a, irk, 0x708194), 0x0dfbaa);
	pl_aes_free(a);
}

/* The gateway's own ah() against the spec's sample and against OpenSSL's
 * AES for many keys and prands. */
static void test_ah_soft_matches_openssl(void **state)
{
	struct pl_aes *a = pl_aes_new();
	uint8_t irk[16];
	uint32_t x = 12345;

	(void)state;
	unhex("ec0234a357c8ad05341010a60a397d9b", irk, 16);
	assert_int_equal(irk_ah_soft(irk, 0x708194), 0x0dfbaa);
	for (int i = 0; i < 20000; i++) {
		uint32_t prand;

		for (int j = 0; j < 16; j++) {
			x = x * 1103515245u + 12345u;
			irk[j] = (uint8_t)(x >> 16);
		}
		prand = x & 0xffffff;
		assert_int_equal(irk_ah_soft(irk, prand), irk_ah(a, irk, prand));
	}
	pl_aes_free(a);
}

static void make_rpa(struct pl_aes *a, const uint8_t irk[16], uint32_t prand, uint8_t addr[6])
{
	uint32_t hash;

	prand = (prand & 0x3fffff) | 0x400000; /* top two bits 01 */
	hash = irk_ah(a, irk, prand);
	addr[0] = (uint8_t)hash;
	addr[1] = (uint8_t)(hash >> 8);
	addr[2] = (uint8_t)(hash >> 16);
	addr[3] = (uint8_t)prand;
	addr[4] = (uint8_t)(prand >> 8);
	addr[5] = (uint8_t)(prand >> 16);
}

static void test_irk_resolution_and_cache(void **state)
{
	struct snap_builder *b = sb_new();
	struct pl_aes *a = pl_aes_new();
	uint8_t irk[16], addr[6], other[6];
	struct snapshot *s;
	struct irk_resolver *r;
	const struct irk_stats *st;

	(void)state;
	for (int i = 0; i < 100; i++) {
		uint8_t k[16];
		uint32_t c = sb_customer(b, i + 1, "phone");
		memset(k, i + 1, sizeof(k));
		sb_irk(b, c, k);
	}
	unhex("ec0234a357c8ad05341010a60a397d9b", irk, 16);
	sb_irk(b, sb_customer(b, 1000, "sample"), irk);
	s = sb_build(b, 1);
	r = irk_resolver_new(s, 64);
	assert_int_equal(irk_count(r), 101);

	/* The spec's own sample address: hash 0x0dfbaa, prand 0x708194. */
	addr[0] = 0xaa, addr[1] = 0xfb, addr[2] = 0x0d, addr[3] = 0x94, addr[4] = 0x81,
	addr[5] = 0x70;
	assert_true(irk_is_rpa(addr, 0x01));
	assert_int_equal(irk_resolve(r, a, addr), 100);
	assert_int_equal(irk_resolve(r, a, addr), 100);
	st = irk_get_stats(r);
	assert_int_equal(st->cache_hits, 1);

	/* A fresh RPA of the same phone resolves; someone else's does not. */
	make_rpa(a, irk, 0x123456, other);
	assert_int_equal(irk_resolve(r, a, other), 100);
	memcpy(other, addr, 6);
	other[0] ^= 1;
	assert_int_equal(irk_resolve(r, a, other), -1);
	uint64_t blocks = st->aes_blocks;
	assert_int_equal(irk_resolve(r, a, other), -1); /* negative result cached */
	assert_int_equal(st->aes_blocks, blocks);

	/* Churn: the cache stays at its size, the phone still resolves. */
	for (uint32_t i = 0; i < 5000; i++) {
		uint8_t x[6] = { (uint8_t)i, (uint8_t)(i >> 8), 0x55, 0x01, 0x02, 0x40 };
		assert_int_equal(irk_resolve(r, a, x), -1);
	}
	assert_int_equal(irk_resolve(r, a, addr), 100);
	irk_resolver_free(r);
	snapshot_free(s);
	sb_free(b);
	pl_aes_free(a);
}

struct eax_vector {
	const char *key, *nonce, *hdr, *msg, *ct_tag;
};

/* Bellare, Rogaway, Wagner: "The EAX Mode of Operation", test vectors. */
static const struct eax_vector EAX[] = {
	{ "233952DEE4D5ED5F9B9C6D6FF80FF478", "62EC67F9C3A4A407FCB2A8C49031A8B3",
	  "6BFB914FD07EAE6B", "", "E037830E8389F27B025A2D6527E79D01" },
	{ "91945D3F4DCBEE0BF45EF52255F095A4", "BECAF043B0A23D843194BA972C66DEBD",
	  "FA3BFD4806EB53FA", "F7FB", "19DD5C4C9331049D0BDAB0277408F67967E5" },
	{ "01F74AD64077F2E704C0F60ADA3DD523", "70C3DB4F0D26368400A10ED05D2BFF5E",
	  "234A3463C1264AC6", "1A47CB4933", "D851D5BAE03A59F238A23E39199DC9266626C40F80" },
};

static void test_eax_vectors(void **state)
{
	struct pl_aes *a = pl_aes_new();

	(void)state;
	for (size_t v = 0; v < BGW_ARRAY_SIZE(EAX); v++) {
		uint8_t key[16], nonce[16], hdr[8], msg[16], expect[32], ct[16], tag[16], back[16];
		size_t mlen = strlen(EAX[v].msg) / 2;

		unhex(EAX[v].key, key, 16);
		unhex(EAX[v].nonce, nonce, 16);
		unhex(EAX[v].hdr, hdr, 8);
		unhex(EAX[v].msg, msg, mlen);
		unhex(EAX[v].ct_tag, expect, mlen + 16);
		assert_true(eax_encrypt(a, key, nonce, 16, hdr, 8, msg, mlen, ct, tag, 16));
		assert_memory_equal(ct, expect, mlen);
		assert_memory_equal(tag, expect + mlen, 16);
		assert_true(eax_decrypt(a, key, nonce, 16, hdr, 8, ct, mlen, tag, 16, back));
		assert_memory_equal(back, msg, mlen);
		tag[3] ^= 0x40;
		assert_false(eax_decrypt(a, key, nonce, 16, hdr, 8, ct, mlen, tag, 16, back));
	}
	pl_aes_free(a);
}

static void test_etlm_roundtrip(void **state)
{
	struct pl_aes *a = pl_aes_new();
	struct bf_eddystone_tlm tlm = { .battery_mv = 2987, .temp_8_8 = (int16_t)(21.5 * 256),
					.adv_count = 123456, .uptime_ds = 987654 },
				out;
	struct bf_eddystone_etlm e;
	uint32_t tb = eid_period_start(8, 0x12345678);

	(void)state;
	assert_true(etlm_encrypt(a, IK_A, tb, 0xbeef, &tlm, &e));
	assert_int_equal(e.salt, 0xbeef);
	assert_true(etlm_decrypt(a, IK_A, tb, &e, &out));
	assert_int_equal(out.battery_mv, 2987);
	assert_int_equal(out.temp_8_8, (int16_t)(21.5 * 256));
	assert_int_equal(out.adv_count, 123456);
	assert_int_equal(out.uptime_ds, 987654);
	/* Another period's nonce, another key, a flipped bit: all refused by the MIC. */
	assert_false(etlm_decrypt(a, IK_A, tb + 256, &e, &out));
	assert_false(etlm_decrypt(a, IK_B, tb, &e, &out));
	e.etlm[5] ^= 1;
	assert_false(etlm_decrypt(a, IK_A, tb, &e, &out));
	pl_aes_free(a);
}

/* Which key wins, and how many are tried: the recent matches most recent
 * first (a ring of N/8 = 125 here, so two groups of 64, and wrapped), then
 * the whole list in key order; with one IRK enrolled three times the first
 * in key order wins. aes_blocks counts the keys tried one by one. */
static void test_irk_search_order(void **state)
{
	enum { N = 1000, RING = N / 8, SEQ = 200, DUP_A = 7, DUP_B = 151, DUP_C = 999 };
	struct snap_builder *b = sb_new();
	struct pl_aes *a = pl_aes_new();
	struct snapshot *s;
	struct irk_resolver *r;
	const struct irk_stats *st;
	uint8_t addr[6], k[16];
	uint32_t prand = 1;

	(void)state;
	for (uint32_t i = 0; i < N; i++) {
		memset(k, 0x3c, sizeof(k));
		bgw_put_be32(k, i == DUP_B || i == DUP_C ? DUP_A : i);
		sb_irk(b, sb_customer(b, i + 1, "phone"), k);
	}
	s = sb_build(b, 1);
	r = irk_resolver_new(s, 65536);
	st = irk_get_stats(r);

	memset(k, 0x3c, sizeof(k));
	bgw_put_be32(k, DUP_A);
	make_rpa(a, k, prand++, addr);
	assert_int_equal(irk_resolve(r, a, addr), DUP_A);
	/* Keys 10, 14, ... 806 match one after the other: the ring wraps. */
	for (uint32_t i = 0; i < SEQ; i++) {
		bgw_put_be32(k, 10 + 4 * i);
		make_rpa(a, k, prand++, addr);
		assert_int_equal(irk_resolve(r, a, addr), 10 + 4 * i);
	}
	/* New addresses of the last RING keys: found in the ring, rank + 1 tries. */
	const uint32_t ranks[] = { 0, 1, 2, 63, 64, 65, 100, RING - 1 };
	for (size_t j = 0; j < sizeof(ranks) / sizeof(ranks[0]); j++) {
		uint32_t key = 10 + 4 * (SEQ - 1 - ranks[j]);
		uint64_t before = st->aes_blocks;

		bgw_put_be32(k, key);
		make_rpa(a, k, prand++, addr);
		assert_int_equal(irk_resolve(r, a, addr), key);
		assert_int_equal(st->aes_blocks - before, ranks[j] + 1);
	}
	/* One that dropped out of the ring: the ring, then the list up to it. */
	{
		uint32_t key = 10 + 4 * (SEQ - 1 - RING);
		uint64_t before = st->aes_blocks;

		bgw_put_be32(k, key);
		make_rpa(a, k, prand++, addr);
		assert_int_equal(irk_resolve(r, a, addr), key);
		assert_int_equal(st->aes_blocks - before, RING + key + 1);
	}
	/* The key enrolled three times, no longer in the ring: the first. */
	bgw_put_be32(k, DUP_A);
	make_rpa(a, k, prand++, addr);
	assert_int_equal(irk_resolve(r, a, addr), DUP_A);
	/* An address of nobody: every key, and the ring. */
	{
		uint64_t before = st->aes_blocks;

		bgw_put_be32(k, N + 5);
		make_rpa(a, k, prand++, addr);
		assert_int_equal(irk_resolve(r, a, addr), -1);
		assert_int_equal(st->aes_blocks - before, RING + N);
	}
	irk_resolver_free(r);
	snapshot_free(s);
	sb_free(b);
	pl_aes_free(a);
}

/* A crowd of 3,000 RPA phones, each heard over and over, half of them
 * enrolled: once the cache has grown (at the ticks) every address is
 * resolved once, hit or miss, and no more; the cache never passes its
 * maximum. Then a crowd larger than the maximum: bounded, still right. */
static void test_irk_cache_grows_with_the_crowd(void **state)
{
	enum { PHONES = 3000, ENROLLED = 1500 };
	struct snap_builder *b = sb_new();
	struct pl_aes *a = pl_aes_new();
	static uint8_t addrs[PHONES][6];
	struct snapshot *s;
	struct irk_resolver *r;
	const struct irk_stats *st;
	uint64_t blocks;

	(void)state;
	for (int i = 0; i < PHONES; i++) {
		uint8_t k[16];

		memset(k, 0, sizeof(k));
		bgw_put_be32(k, (uint32_t)i + 1);
		if (i < ENROLLED)
			sb_irk(b, sb_customer(b, (uint32_t)i + 1, "phone"), k);
		make_rpa(a, k, (uint32_t)i * 7919u, addrs[i]);
	}
	s = sb_build(b, 1);
	r = irk_resolver_new(s, 65536);
	st = irk_get_stats(r);
	assert_int_equal(st->cache_capacity, 4096);
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < PHONES; i++)
			assert_int_equal(irk_resolve(r, a, addrs[i]) >= 0, i < ENROLLED);
		irk_resolver_tick(r);
	}
	assert_true(st->cache_grows > 0);
	assert_true(st->cache_capacity <= 65536);
	blocks = st->aes_blocks;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < PHONES; i++)
			assert_int_equal(irk_resolve(r, a, addrs[i]) >= 0, i < ENROLLED);
		irk_resolver_tick(r);
	}
	assert_int_equal(st->aes_blocks, blocks); /* positives and negatives all cached */
	irk_resolver_free(r);

	/* The maximum holds: 256 entries for 3,000 phones. */
	r = irk_resolver_new(s, 256);
	st = irk_get_stats(r);
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < PHONES; i++)
			assert_int_equal(irk_resolve(r, a, addrs[i]) >= 0, i < ENROLLED);
		irk_resolver_tick(r);
	}
	assert_int_equal(st->cache_capacity, 256);
	irk_resolver_free(r);
	snapshot_free(s);
	sb_free(b);
	pl_aes_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_ids),
		cmocka_unit_test(test_eid_window),
		cmocka_unit_test(test_eid_rotation_incremental),
		cmocka_unit_test(test_eid_drift_and_jump),
		cmocka_unit_test(test_ah_vector),
		cmocka_unit_test(test_ah_soft_matches_openssl),
		cmocka_unit_test(test_irk_resolution_and_cache),
		cmocka_unit_test(test_irk_search_order),
		cmocka_unit_test(test_irk_cache_grows_with_the_crowd),
		cmocka_unit_test(test_eax_vectors),
		cmocka_unit_test(test_etlm_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
