/* irk.c - RPA resolution with a self-sizing per-address result cache. */
#include "irk.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "addr_cache.h"
#include "irk_ah.h"

#define NEGATIVE UINT32_MAX /* cached: no enrolled IRK matches */

/* The cache starts at this many entries (64 KiB, or the maximum if
 * smaller) and grows from there while live addresses are pushed out. */
#define CACHE_START 4096

/* Keys that matched lately are tried first: a known phone that rotates
 * its address is found among them instead of in the whole key list. An
 * address that matches nobody pays for that list on top of all keys, so
 * it is kept to an eighth of the keys. */
#define HOT_MAX 8192
#define HOT_SHARE 8

struct irk_key {
	uint8_t irk[16];
	uint32_t ident;
};

struct irk_resolver {
	struct irk_key *keys;
	uint32_t n_keys;
	/* Key indexes, a ring in order of their last match. Written by the
	 * owning thread only; searches on worker threads read it relaxed: a
	 * stale entry is still a valid index and only changes the order. */
	_Atomic uint32_t *hot;
	_Atomic uint32_t hot_n, hot_next;
	uint32_t hot_size;
	struct addr_cache *cache;
	uint32_t cache_max;
	uint64_t evictions_seen; /* live evictions at the last tick */
	struct irk_stats stats;
};

uint32_t irk_ah(struct pl_aes *aes, const uint8_t irk[16], uint32_t prand)
{
	uint8_t in[16] = { 0 }, out[16];

	in[13] = (uint8_t)(prand >> 16);
	in[14] = (uint8_t)(prand >> 8);
	in[15] = (uint8_t)prand;
	pl_aes_block(aes, irk, in, out);
	return (uint32_t)out[13] << 16 | (uint32_t)out[14] << 8 | out[15];
}

struct irk_resolver *irk_resolver_new(const struct snapshot *s, uint32_t cache_max)
{
	struct irk_resolver *r = calloc(1, sizeof(*r));
	uint32_t n = 0;

	if (!r)
		return NULL;
	for (uint32_t i = 0; s && i < s->n_identifiers; i++)
		n += s->identifiers[i].type == SNAP_ID_IRK &&
		     s->identifiers[i].customer < s->n_customers;
	r->cache_max = cache_max ? cache_max : 1;
	r->hot_size = n / HOT_SHARE < HOT_MAX ? n / HOT_SHARE : HOT_MAX;
	r->keys = calloc(n ? n : 1, sizeof(*r->keys));
	r->hot = calloc(r->hot_size ? r->hot_size : 1, sizeof(*r->hot));
	r->cache = addr_cache_new(r->cache_max < CACHE_START ? r->cache_max : CACHE_START);
	if (!r->keys || !r->hot || !r->cache) {
		irk_resolver_free(r);
		return NULL;
	}
	for (uint32_t i = 0; s && i < s->n_identifiers; i++) {
		if (s->identifiers[i].type != SNAP_ID_IRK ||
		    s->identifiers[i].customer >= s->n_customers)
			continue;
		uint8_t buf[SNAP_ID_BYTES_MAX];

		memcpy(r->keys[r->n_keys].irk, snap_identifier_bytes(s, &s->identifiers[i], buf), 16);
		r->keys[r->n_keys++].ident = i;
	}
	r->stats.cache_capacity = addr_cache_capacity(r->cache);
	return r;
}

void irk_resolver_free(struct irk_resolver *r)
{
	if (!r)
		return;
	free(r->keys);
	free(r->hot);
	addr_cache_free(r->cache);
	free(r);
}

int64_t irk_resolver_search(const struct irk_resolver *r, const uint8_t addr[6], uint64_t *blocks)
{
	uint32_t hash = (uint32_t)addr[2] << 16 | (uint32_t)addr[1] << 8 | addr[0];
	uint32_t prand = (uint32_t)addr[5] << 16 | (uint32_t)addr[4] << 8 | addr[3];
	uint32_t hot_n = atomic_load_explicit(&r->hot_n, memory_order_relaxed);
	uint32_t next = atomic_load_explicit(&r->hot_next, memory_order_relaxed);
	uint64_t tries = 0;
	int64_t found = -1;

	for (uint32_t i = 0; i < hot_n && found < 0; i++) {
		uint32_t k = atomic_load_explicit(
			&r->hot[(next + r->hot_size - 1 - i) % r->hot_size], memory_order_relaxed);

		tries++;
		if (k < r->n_keys && irk_ah_soft(r->keys[k].irk, prand) == hash)
			found = k;
	}
	for (uint32_t k = 0; k < r->n_keys && found < 0; k++) {
		tries++;
		if (irk_ah_soft(r->keys[k].irk, prand) == hash)
			found = k;
	}
	*blocks = tries;
	return found;
}

bool irk_resolver_known(struct irk_resolver *r, const uint8_t addr[6])
{
	uint32_t v;

	return !r->n_keys || addr_cache_get(r->cache, addr, &v);
}

void irk_resolver_store(struct irk_resolver *r, const uint8_t addr[6], int64_t key, uint64_t blocks)
{
	uint32_t ident = NEGATIVE;

	r->stats.aes_blocks += blocks;
	if (key >= 0 && (uint64_t)key < r->n_keys) {
		uint32_t k = (uint32_t)key, next, n, i;
		bool hot = false;

		ident = r->keys[k].ident;
		r->stats.resolved++;
		n = atomic_load_explicit(&r->hot_n, memory_order_relaxed);
		next = atomic_load_explicit(&r->hot_next, memory_order_relaxed);
		for (i = 0; i < n && !hot; i++)
			hot = atomic_load_explicit(&r->hot[i], memory_order_relaxed) == k;
		if (!hot && r->hot_size) {
			atomic_store_explicit(&r->hot[next], k, memory_order_relaxed);
			atomic_store_explicit(&r->hot_next, (next + 1) % r->hot_size,
					      memory_order_relaxed);
			if (n < r->hot_size)
				atomic_store_explicit(&r->hot_n, n + 1, memory_order_relaxed);
		}
	}
	addr_cache_put(r->cache, addr, ident);
}

int64_t irk_resolve(struct irk_resolver *r, struct pl_aes *aes, const uint8_t addr[6])
{
	uint32_t ident = NEGATIVE;
	uint64_t blocks = 0;
	int64_t k;

	(void)aes; /* ah() no longer goes through OpenSSL; kept for callers */
	if (!r->n_keys)
		return -1;
	r->stats.lookups++;
	if (addr_cache_get(r->cache, addr, &ident)) {
		r->stats.cache_hits++;
		return ident == NEGATIVE ? -1 : (int64_t)ident;
	}
	k = irk_resolver_search(r, addr, &blocks);
	irk_resolver_store(r, addr, k, blocks);
	return k >= 0 ? (int64_t)r->keys[k].ident : -1;
}

void irk_resolver_tick(struct irk_resolver *r)
{
	uint64_t ev = addr_cache_live_evictions(r->cache);
	uint32_t cap = addr_cache_capacity(r->cache), want;

	r->stats.live_evictions = ev;
	if (ev == r->evictions_seen || cap >= r->cache_max)
		return;
	/* Double; quadruple when a quarter of the cache was pushed out since
	 * the last tick (a crowd arriving), so a store reaches its size in a
	 * tick or two, not in seconds of repeated searches. */
	want = ev - r->evictions_seen >= cap / 4 ? cap * 4 : cap * 2;
	r->evictions_seen = ev;
	if (addr_cache_grow(r->cache, want < r->cache_max ? want : r->cache_max)) {
		r->stats.cache_capacity = addr_cache_capacity(r->cache);
		r->stats.cache_grows++;
	}
}

uint32_t irk_count(const struct irk_resolver *r)
{
	return r->n_keys;
}

const struct irk_stats *irk_get_stats(const struct irk_resolver *r)
{
	return &r->stats;
}
