/* test_addr_cache.c - the bounded address cache: hits, replacement, LRU
 * within a set, fixed capacity under churn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr_cache.h"

static void addr_of(uint32_t n, uint8_t a[6])
{
	a[0] = (uint8_t)n;
	a[1] = (uint8_t)(n >> 8);
	a[2] = (uint8_t)(n >> 16);
	a[3] = (uint8_t)(n >> 24);
	a[4] = 0x5a;
	a[5] = 0xc3;
}

static void test_put_get_replace(void **state)
{
	struct addr_cache *c = addr_cache_new(64);
	uint8_t a[6], b[6];
	uint32_t v = 0;

	(void)state;
	assert_non_null(c);
	assert_int_equal(addr_cache_capacity(c), 64);
	addr_of(1, a);
	addr_of(2, b);
	assert_false(addr_cache_get(c, a, &v));
	addr_cache_put(c, a, 7);
	addr_cache_put(c, b, 8);
	assert_true(addr_cache_get(c, a, &v));
	assert_int_equal(v, 7);
	addr_cache_put(c, a, 9); /* the same address again: replaced, not duplicated */
	assert_true(addr_cache_get(c, a, &v));
	assert_int_equal(v, 9);
	assert_true(addr_cache_get(c, b, &v));
	assert_int_equal(v, 8);
	addr_cache_free(c);
}

static void test_capacity_rounds_up(void **state)
{
	struct addr_cache *c;

	(void)state;
	c = addr_cache_new(0);
	assert_int_equal(addr_cache_capacity(c), 4);
	addr_cache_free(c);
	c = addr_cache_new(1000);
	assert_int_equal(addr_cache_capacity(c), 1024);
	addr_cache_free(c);
}

/* One set of four: the least recently used address is the one replaced. */
static void test_lru_within_a_set(void **state)
{
	struct addr_cache *c = addr_cache_new(4);
	uint8_t a[5][6];
	uint32_t v;

	(void)state;
	for (uint32_t i = 0; i < 5; i++)
		addr_of(100 + i, a[i]);
	for (uint32_t i = 0; i < 4; i++)
		addr_cache_put(c, a[i], i);
	assert_true(addr_cache_get(c, a[0], &v)); /* a[1] is now the oldest */
	addr_cache_put(c, a[4], 4);
	assert_false(addr_cache_get(c, a[1], &v));
	for (uint32_t i = 0; i < 5; i++)
		if (i != 1) {
			assert_true(addr_cache_get(c, a[i], &v));
			assert_int_equal(v, i);
		}
	addr_cache_free(c);
}

/* A million addresses through a 1,024-entry cache: memory stays fixed, the
 * most recent ones are still there. */
static void test_churn(void **state)
{
	struct addr_cache *c = addr_cache_new(1024);
	uint8_t a[6];
	uint32_t v, hits = 0;

	(void)state;
	for (uint32_t i = 0; i < 1000000; i++) {
		addr_of(i * 2654435761u, a);
		addr_cache_put(c, a, i);
	}
	for (uint32_t i = 1000000 - 100; i < 1000000; i++) {
		addr_of(i * 2654435761u, a);
		hits += addr_cache_get(c, a, &v) && v == i;
	}
	assert_true(hits >= 95);
	assert_int_equal(addr_cache_capacity(c), 1024);
	addr_cache_free(c);
}

/* A working set larger than the cache pushes out entries still in use;
 * growing re-homes every entry, value and all, and the evictions stop. */
static void test_live_evictions_and_grow(void **state)
{
	struct addr_cache *c = addr_cache_new(64);
	uint8_t a[6];
	uint32_t v, hits = 0;

	(void)state;
	for (int round = 0; round < 3; round++)
		for (uint32_t i = 0; i < 200; i++) {
			addr_of(i * 2654435761u, a);
			if (!addr_cache_get(c, a, &v))
				addr_cache_put(c, a, i);
		}
	assert_true(addr_cache_live_evictions(c) > 0);
	assert_false(addr_cache_grow(c, 64)); /* not larger: nothing to do */
	assert_true(addr_cache_grow(c, 4096));
	assert_int_equal(addr_cache_capacity(c), 4096);
	for (uint32_t i = 0; i < 200; i++) {
		addr_of(i * 2654435761u, a);
		hits += addr_cache_get(c, a, &v) && v == i;
	}
	assert_true(hits >= 48); /* what the small cache still held survived */
	uint64_t before = addr_cache_live_evictions(c);
	for (int round = 0; round < 3; round++)
		for (uint32_t i = 0; i < 200; i++) {
			addr_of(i * 2654435761u, a);
			if (!addr_cache_get(c, a, &v))
				addr_cache_put(c, a, i);
		}
	assert_int_equal(addr_cache_live_evictions(c), before);
	for (uint32_t i = 0; i < 200; i++) {
		addr_of(i * 2654435761u, a);
		assert_true(addr_cache_get(c, a, &v));
		assert_int_equal(v, i);
	}
	addr_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_capacity_rounds_up),
		cmocka_unit_test(test_lru_within_a_set),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_live_evictions_and_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
