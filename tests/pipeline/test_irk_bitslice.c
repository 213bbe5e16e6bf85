/* test_irk_bitslice.c - ah() of 64 bitsliced keys at once against the scalar ah(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "irk_ah.h"
#include "irk_bitslice.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void random_key(uint8_t k[16])
{
	uint64_t a = rnd(), b = rnd();

	memcpy(k, &a, 8);
	memcpy(k + 8, &b, 8);
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/* n keys, random, in groups; keys[] keeps them for the scalar ah(). */
static struct irk_bs_group *make_groups(uint8_t (*keys)[16], uint32_t n)
{
	uint32_t n_groups = (n + IRK_BS_LANES - 1) / IRK_BS_LANES;
	struct irk_bs_group *g = calloc(n_groups ? n_groups : 1, sizeof(*g));

	assert_non_null(g);
	for (uint32_t i = 0; i < n; i++) {
		random_key(keys[i]);
		irk_bs_set_key(&g[i / IRK_BS_LANES], i % IRK_BS_LANES, keys[i]);
	}
	return g;
}

/* The first key in key order whose ah() matches: what the scalar search
 * has always returned. */
static int64_t first_match(uint8_t (*keys)[16], uint32_t n, uint32_t prand, uint32_t hash)
{
	for (uint32_t i = 0; i < n; i++)
		if (irk_ah_soft(keys[i], prand) == hash)
			return i;
	return -1;
}

/* Core spec Vol 3 Part H D.7: the sample IRK in any lane, among others. */
static void test_spec_sample_in_every_lane(void **state)
{
	uint8_t irk[16], other[16];
	struct irk_bs_group g;

	(void)state;
	unhex("ec0234a357c8ad05341010a60a397d9b", irk, 16);
	for (unsigned lane = 0; lane < IRK_BS_LANES; lane++) {
		memset(&g, 0, sizeof(g));
		for (unsigned l = 0; l < IRK_BS_LANES; l++) {
			random_key(other);
			irk_bs_set_key(&g, l, l == lane ? irk : other);
		}
		assert_int_equal(irk_bs_match(&g, 0x708194, 0x0dfbaa) >> lane & 1, 1);
		assert_int_equal(irk_bs_search(&g, IRK_BS_LANES, 0x708194, 0x0dfbaa), lane);
	}
}

static void test_set_get_roundtrip(void **state)
{
	uint8_t keys[IRK_BS_LANES][16], back[16];
	struct irk_bs_group g;

	(void)state;
	memset(&g, 0xff, sizeof(g));
	for (unsigned l = 0; l < IRK_BS_LANES; l++) {
		random_key(keys[l]);
		irk_bs_set_key(&g, l, keys[l]);
	}
	for (unsigned l = 0; l < IRK_BS_LANES; l++) {
		irk_bs_get_key(&g, l, back);
		assert_memory_equal(back, keys[l], 16);
	}
}

/* Every lane of random groups against the scalar ah(), with each lane's
 * own hash: the mask holds exactly the lanes whose ah() gives it. */
static void test_every_lane_matches_scalar(void **state)
{
	uint8_t keys[IRK_BS_LANES][16];
	uint32_t h[IRK_BS_LANES];
	struct irk_bs_group g;

	(void)state;
	for (int round = 0; round < 40; round++) {
		uint32_t prand = (uint32_t)rnd() & 0xffffff;

		memset(&g, 0, sizeof(g));
		for (unsigned l = 0; l < IRK_BS_LANES; l++) {
			random_key(keys[l]);
			irk_bs_set_key(&g, l, keys[l]);
			h[l] = irk_ah_soft(keys[l], prand);
		}
		for (unsigned l = 0; l < IRK_BS_LANES; l++) {
			uint64_t want = 0;

			for (unsigned o = 0; o < IRK_BS_LANES; o++)
				want |= (uint64_t)(h[o] == h[l]) << o;
			assert_int_equal(irk_bs_match(&g, prand, h[l]), want);
		}
		/* A hash no lane gives. */
		for (uint32_t miss = (uint32_t)rnd() & 0xffffff;; miss = (miss + 1) & 0xffffff) {
			unsigned l;

			for (l = 0; l < IRK_BS_LANES && h[l] != miss; l++)
				;
			if (l == IRK_BS_LANES) {
				assert_int_equal(irk_bs_match(&g, prand, miss), 0);
				break;
			}
		}
	}
}

/* Keys whose bytes take every value at every position: each S-box of the
 * first round sees all 256 inputs. */
static void test_all_byte_values(void **state)
{
	uint8_t keys[IRK_BS_LANES][16];
	struct irk_bs_group g;

	(void)state;
	for (unsigned base = 0; base < 256; base += IRK_BS_LANES) {
		uint32_t prand = (uint32_t)rnd() & 0xffffff;

		memset(&g, 0, sizeof(g));
		for (unsigned l = 0; l < IRK_BS_LANES; l++) {
			for (unsigned i = 0; i < 16; i++)
				keys[l][i] = (uint8_t)(base + l + 17 * i);
			irk_bs_set_key(&g, l, keys[l]);
		}
		for (unsigned l = 0; l < IRK_BS_LANES; l++)
			assert_int_equal(irk_bs_match(&g, prand, irk_ah_soft(keys[l], prand)) >> l & 1,
					 1);
	}
}

/* Searches over 3 full groups and a partial one: the key is found at any
 * position, unused lanes never match, an address of nobody gives -1. */
static void test_search_positions_and_partial_group(void **state)
{
	enum { N = 3 * IRK_BS_LANES + 17 };
	static uint8_t keys[N][16];
	struct irk_bs_group *g = make_groups(keys, N);
	const uint32_t at[] = { 0, 1, 63, 64, 100, 191, 192, 200, N - 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		uint32_t prand = 0x400000 | ((uint32_t)rnd() & 0x3fffff);
		uint32_t hash = irk_ah_soft(keys[at[i]], prand);

		assert_int_equal(irk_bs_search(g, N, prand, hash), first_match(keys, N, prand, hash));
		assert_true(irk_bs_search(g, N, prand, hash) <= at[i]);
	}
	/* The key sits in an unused lane of the last group: not found. */
	{
		uint8_t ghost[16];
		uint32_t prand = 0x412345, hash;

		random_key(ghost);
		irk_bs_set_key(&g[N / IRK_BS_LANES], N % IRK_BS_LANES + 5, ghost);
		hash = irk_ah_soft(ghost, prand);
		assert_int_equal(irk_bs_search(g, N, prand, hash), first_match(keys, N, prand, hash));
	}
	/* Random addresses, almost all of nobody: the same answer as the scalar
	 * search. */
	for (int i = 0; i < 200; i++) {
		uint32_t prand = 0x400000 | ((uint32_t)rnd() & 0x3fffff);
		uint32_t hash = (uint32_t)rnd() & 0xffffff;

		assert_int_equal(irk_bs_search(g, N, prand, hash), first_match(keys, N, prand, hash));
	}
	assert_int_equal(irk_bs_search(g, 0, 0x400000, 0), -1);
	free(g);
}

/* Two keys that both match (here: the same key enrolled twice, in one
 * group and across groups): the first in key order wins. */
static void test_first_match_in_key_order(void **state)
{
	enum { N = 4 * IRK_BS_LANES };
	static uint8_t keys[N][16];
	struct irk_bs_group *g = make_groups(keys, N);
	const uint32_t pairs[][2] = { { 70, 100 }, { 5, 130 }, { 200, 201 }, { 63, 64 } };

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		uint32_t a = pairs[i][0], b = pairs[i][1], prand = 0x5a5a5a, hash;

		memcpy(keys[a], keys[b], 16);
		irk_bs_set_key(&g[a / IRK_BS_LANES], a % IRK_BS_LANES, keys[a]);
		hash = irk_ah_soft(keys[b], prand);
		assert_int_equal(irk_bs_search(g, N, prand, hash), first_match(keys, N, prand, hash));
		assert_true(irk_bs_search(g, N, prand, hash) <= a);
	}
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_sample_in_every_lane),
		cmocka_unit_test(test_set_get_roundtrip),
		cmocka_unit_test(test_every_lane_matches_scalar),
		cmocka_unit_test(test_all_byte_values),
		cmocka_unit_test(test_search_positions_and_partial_group),
		cmocka_unit_test(test_first_match_in_key_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
