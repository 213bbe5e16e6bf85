/* irk.c - RPA resolution with a self-sizing per-address result cache. */
#include "irk.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "addr_cache.h"
#include "irk_ah.h"
#include "irk_bitslice.h"

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

struct irk_resolver {
	/* The keys, bitsliced (key k in lane k % 64 of group k / 64; the
	 * lanes after the last key are zero and masked off), and each key's
	 * snapshot identifier index. */
	struct irk_bs_group *groups;
	uint32_t *ident;
	uint32_t n_keys;
	/* Key indexes, a ring in order of their last match, and the same keys
	 * bitsliced by ring position (position p in lane p % 64 of hot group
	 * p / 64). Written by the owning thread only; searches on worker
	 * threads read them relaxed: a stale or half-written entry only
	 * changes the order or misses, since a candidate is confirmed against
	 * the key its index names, and the full search follows. */
	_Atomic uint32_t *hot;
	_Atomic uint64_t *hot_bits;
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

static size_t groups_for(uint32_t keys)
{
	return keys ? (keys + IRK_BS_LANES - 1) / IRK_BS_LANES : 1;
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
	r->groups = calloc(groups_for(n), sizeof(*r->groups));
	r->ident = calloc(n ? n : 1, sizeof(*r->ident));
	r->hot = calloc(r->hot_size ? r->hot_size : 1, sizeof(*r->hot));
	r->hot_bits = calloc(groups_for(r->hot_size) * IRK_BS_WORDS, sizeof(*r->hot_bits));
	r->cache = addr_cache_new(r->cache_max < CACHE_START ? r->cache_max : CACHE_START);
	if (!r->groups || !r->ident || !r->hot || !r->hot_bits || !r->cache) {
		irk_resolver_free(r);
		return NULL;
	}
	for (uint32_t i = 0; s && i < s->n_identifiers; i++) {
		if (s->identifiers[i].type != SNAP_ID_IRK ||
		    s->identifiers[i].customer >= s->n_customers)
			continue;
		uint8_t buf[SNAP_ID_BYTES_MAX];

		irk_bs_set_key(&r->groups[r->n_keys / IRK_BS_LANES], r->n_keys % IRK_BS_LANES,
			       snap_identifier_bytes(s, &s->identifiers[i], buf));
		r->ident[r->n_keys++] = i;
	}
	r->stats.cache_capacity = addr_cache_capacity(r->cache);
	return r;
}

void irk_resolver_free(struct irk_resolver *r)
{
	if (!r)
		return;
	free(r->groups);
	free(r->ident);
	free(r->hot);
	free(r->hot_bits);
	addr_cache_free(r->cache);
	free(r);
}

/* Does key k give hash for prand? The scalar ah(), for confirming a
 * candidate of the bitsliced search. */
static bool key_matches(const struct irk_resolver *r, uint32_t k, uint32_t prand, uint32_t hash)
{
	uint8_t irk[16];

	if (k >= r->n_keys)
		return false;
	irk_bs_get_key(&r->groups[k / IRK_BS_LANES], k % IRK_BS_LANES, irk);
	return irk_ah_soft(irk, prand) == hash;
}

/*
 * The recent matches, most recent first (ring positions next - 1 down to
 * 0, then, once the ring has wrapped, size - 1 down to next), 64 at a time.
 * Within a group the higher positions are the more recent, so candidates
 * are confirmed from the highest lane down: the first key in the ring's
 * order that matches wins, as when they were tried one by one. *tries
 * counts the keys up to that one, as one by one.
 */
static int64_t search_hot(const struct irk_resolver *r, uint32_t prand, uint32_t hash,
			  uint64_t *tries)
{
	uint32_t n = atomic_load_explicit(&r->hot_n, memory_order_relaxed);
	uint32_t next = atomic_load_explicit(&r->hot_next, memory_order_relaxed);
	uint32_t lo[2], hi[2], n_seg = 0, before = 0;
	struct irk_bs_group g;

	if (n > r->hot_size || next >= r->hot_size) /* never, but stay in bounds */
		n = next = 0;
	if (next > 0) {
		lo[n_seg] = next > n ? next - n : 0;
		hi[n_seg++] = next - 1;
	}
	if (n > next) {
		lo[n_seg] = r->hot_size - (n - next);
		hi[n_seg++] = r->hot_size - 1;
	}
	for (uint32_t sg = 0; sg < n_seg; sg++) {
		for (uint32_t gi = hi[sg] / IRK_BS_LANES;; gi--) {
			uint32_t base = gi * IRK_BS_LANES;
			uint32_t l0 = lo[sg] > base ? lo[sg] - base : 0;
			uint32_t l1 = hi[sg] < base + IRK_BS_LANES - 1 ? hi[sg] - base : IRK_BS_LANES - 1;
			uint64_t m;

			for (int w = 0; w < IRK_BS_WORDS; w++)
				g.w[w] = atomic_load_explicit(&r->hot_bits[(size_t)gi * IRK_BS_WORDS + w],
							      memory_order_relaxed);
			m = irk_bs_match(&g, prand, hash);
			m &= (~(uint64_t)0 >> (IRK_BS_LANES - 1 - l1)) & (~(uint64_t)0 << l0);
			while (m) {
				unsigned lane = 63u - (unsigned)__builtin_clzll(m);
				uint32_t pos = base + lane;
				uint32_t k = atomic_load_explicit(&r->hot[pos], memory_order_relaxed);

				if (key_matches(r, k, prand, hash)) {
					*tries = before + (hi[sg] - pos) + 1;
					return k;
				}
				m &= ~((uint64_t)1 << lane);
			}
			if (base <= lo[sg])
				break;
		}
		before += hi[sg] - lo[sg] + 1;
	}
	*tries = before;
	return -1;
}

int64_t irk_resolver_search(const struct irk_resolver *r, const uint8_t addr[6], uint64_t *blocks)
{
	uint32_t hash = (uint32_t)addr[2] << 16 | (uint32_t)addr[1] << 8 | addr[0];
	uint32_t prand = (uint32_t)addr[5] << 16 | (uint32_t)addr[4] << 8 | addr[3];
	uint64_t tries = 0;
	int64_t found = search_hot(r, prand, hash, &tries);

	if (found < 0) {
		found = irk_bs_search(r->groups, r->n_keys, prand, hash);
		tries += found >= 0 ? (uint64_t)found + 1 : r->n_keys;
	}
	*blocks = tries;
	return found;
}

/* Ring position pos now holds key k: copy the key's lane into the
 * position's lane of the hot groups. */
static void hot_put(struct irk_resolver *r, uint32_t pos, uint32_t k)
{
	const struct irk_bs_group *src = &r->groups[k / IRK_BS_LANES];
	_Atomic uint64_t *dst = &r->hot_bits[(size_t)(pos / IRK_BS_LANES) * IRK_BS_WORDS];
	unsigned from = k % IRK_BS_LANES, to = pos % IRK_BS_LANES;

	for (int w = 0; w < IRK_BS_WORDS; w++) {
		uint64_t v = atomic_load_explicit(&dst[w], memory_order_relaxed);

		v = (v & ~((uint64_t)1 << to)) | ((src->w[w] >> from) & 1) << to;
		atomic_store_explicit(&dst[w], v, memory_order_relaxed);
	}
	atomic_store_explicit(&r->hot[pos], k, memory_order_relaxed);
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

		ident = r->ident[k];
		r->stats.resolved++;
		n = atomic_load_explicit(&r->hot_n, memory_order_relaxed);
		next = atomic_load_explicit(&r->hot_next, memory_order_relaxed);
		for (i = 0; i < n && !hot; i++)
			hot = atomic_load_explicit(&r->hot[i], memory_order_relaxed) == k;
		if (!hot && r->hot_size) {
			hot_put(r, next, k);
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
	return k >= 0 ? (int64_t)r->ident[k] : -1;
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
