/*
 * irk.h - resolution of resolvable private addresses (RPAs) with the
 * enrolled identity resolving keys.
 *
 * Core spec Vol 3 Part H 2.2.2: ah(k, r) = e(k, r') mod 2^24 with
 * r' = 0^104 || r. An RPA is hash(24) || prand(24) with prand's two top
 * bits 01; on the HCI wire the address is little-endian, so addr[0..2] is
 * the hash and addr[3..5] prand, least significant byte first.
 *
 * Key byte order: e() takes the key most significant byte first, as the
 * spec's sample data writes it (0xec0234a3...); that is also how the
 * snapshot stores IRKs. BlueZ's storage and HCI carry the same key
 * least significant byte first, so a key copied from BlueZ must be
 * reversed before enrolment.
 *
 * Cost: a new address is tried against the enrolled IRKs, one ah() each.
 * The keys are kept bitsliced, 64 to a group (irk_bitslice.h: 16 bytes per
 * IRK, the same cost per try at any number of keys), and ah() runs on the
 * 64 keys of a group at once; a candidate is confirmed with the scalar
 * ah() (irk_ah.h). The keys that matched lately (at most an eighth of the
 * keys, kept bitsliced too) are tried first, so a known phone that rotates
 * its address is found among the customers present rather than among all
 * of them; an address that matches nobody is tried against every key.
 * Where two keys match, the first in that order wins: the most recent
 * match, then the key list in snapshot order.
 *
 * Results, positive and negative, are kept in a 4-way set-associative
 * cache keyed by address (LRU per set). It starts at 4,096 entries and, at
 * each irk_resolver_tick(), doubles (quadruples when a quarter of it went)
 * while it had to push out addresses that are still being heard, up to cache_max entries (16 bytes each): sized by
 * what the store hears, bounded whatever the churn, and no allocation on
 * the per-report path. Below cache_max a phone's result stays until the
 * phone changes its address.
 */
#ifndef BGW_IRK_H
#define BGW_IRK_H

#include <stdbool.h>
#include <stdint.h>

#include "pl_aes.h"
#include "snapshot.h"

struct irk_resolver;

struct irk_stats {
	uint64_t lookups, cache_hits, resolved, aes_blocks;
	uint64_t live_evictions, cache_grows; /* see addr_cache_live_evictions() */
	uint32_t cache_capacity;
};

/* cache_max: the most addresses the result cache may grow to. */
struct irk_resolver *irk_resolver_new(const struct snapshot *s, uint32_t cache_max);
void irk_resolver_free(struct irk_resolver *r);

static inline bool irk_is_rpa(const uint8_t addr[6], uint8_t addr_type)
{
	return addr_type == 0x01 /* random */ && (addr[5] & 0xC0) == 0x40;
}

/* The snapshot identifier index of the IRK that generated addr, or -1. */
int64_t irk_resolve(struct irk_resolver *r, struct pl_aes *aes, const uint8_t addr[6]);

/* The parts of irk_resolve() for searching on another thread.
 * irk_resolver_known(): the address is in the result cache (or there are
 * no keys), so irk_resolve() will answer without a search.
 * irk_resolver_search(): the index of the matching key, or -1, and the
 * number of tries; thread-safe while the resolver lives (reads the keys,
 * and the recent matches without a lock: a stale one only changes the
 * order). irk_resolver_store(): put a search's result into the cache and
 * the recent matches; the owning thread only. */
bool irk_resolver_known(struct irk_resolver *r, const uint8_t addr[6]);
int64_t irk_resolver_search(const struct irk_resolver *r, const uint8_t addr[6], uint64_t *blocks);
void irk_resolver_store(struct irk_resolver *r, const uint8_t addr[6], int64_t key, uint64_t blocks);

/* Periodic (not per report): grow the result cache if live addresses
 * were pushed out since the last call. May allocate. */
void irk_resolver_tick(struct irk_resolver *r);

uint32_t irk_count(const struct irk_resolver *r);
const struct irk_stats *irk_get_stats(const struct irk_resolver *r);

/* ah() itself: irk MSB-first, prand and the result as 24-bit integers. */
uint32_t irk_ah(struct pl_aes *aes, const uint8_t irk[16], uint32_t prand);

#endif
