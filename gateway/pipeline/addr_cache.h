/*
 * addr_cache.h - a bounded map from a device address to a 32-bit value.
 *
 * Answers "what do we already know about this address" in constant time
 * whatever the address churn: 4-way set-associative, least recently used
 * entry of the set replaced. Memory is fixed at creation; no allocation
 * afterwards. It is a cache: an entry may be gone when asked for, so what
 * it returns must be either recomputable (IRK results) or checked by the
 * caller (the EID tag an eTLM frame came from).
 */
#ifndef BGW_ADDR_CACHE_H
#define BGW_ADDR_CACHE_H

#include <stdbool.h>
#include <stdint.h>

struct addr_cache;

/* Room for at least min_entries addresses (rounded up to a power of two,
 * at most 2^26). NULL when out of memory. */
struct addr_cache *addr_cache_new(uint32_t min_entries);
void addr_cache_free(struct addr_cache *c);

/* The value stored for addr; a hit counts as a use. */
bool addr_cache_get(struct addr_cache *c, const uint8_t addr[6], uint32_t *value);

/* Store or replace the value for addr. */
void addr_cache_put(struct addr_cache *c, const uint8_t addr[6], uint32_t value);

uint32_t addr_cache_capacity(const struct addr_cache *c);

/* Puts that had to push out an entry used within the last capacity
 * operations: an address still being heard, so the cache is too small for
 * the traffic (or a set is crowded). The signal to grow. */
uint64_t addr_cache_live_evictions(const struct addr_cache *c);

/* Re-home every entry into a table of at least min_entries (same rounding
 * as addr_cache_new). Allocates: call it from a periodic tick, never per
 * report. False (and the cache unchanged) when out of memory or when
 * min_entries is not larger than today's capacity. */
bool addr_cache_grow(struct addr_cache *c, uint32_t min_entries);

#endif
