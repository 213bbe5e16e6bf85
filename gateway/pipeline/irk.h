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
 * Cost: a new address is tried against every IRK, one AES block each.
 * Each IRK's key schedule is kept in its own OpenSSL context (up to 16k
 * IRKs, ~1 KiB each), so a try is one EVP_EncryptUpdate: tens of µs per
 * new address at 1,000 IRKs (see bench/pipeline_bench.c). At 100,000 IRKs
 * the contexts would be shared and re-keyed (~0.3 µs a try, ~30 ms per new
 * address): such a fleet needs a device-side hint to narrow the search.
 * Results, positive and negative, are kept in a bounded 4-way
 * set-associative cache keyed by address (LRU per set): no allocation
 * after creation, memory fixed whatever the address churn.
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
};

struct irk_resolver *irk_resolver_new(const struct snapshot *s, uint32_t cache_size);
void irk_resolver_free(struct irk_resolver *r);

static inline bool irk_is_rpa(const uint8_t addr[6], uint8_t addr_type)
{
	return addr_type == 0x01 /* random */ && (addr[5] & 0xC0) == 0x40;
}

/* The snapshot identifier index of the IRK that generated addr, or -1. */
int64_t irk_resolve(struct irk_resolver *r, struct pl_aes *aes, const uint8_t addr[6]);

uint32_t irk_count(const struct irk_resolver *r);
const struct irk_stats *irk_get_stats(const struct irk_resolver *r);

/* ah() itself: irk MSB-first, prand and the result as 24-bit integers. */
uint32_t irk_ah(struct pl_aes *aes, const uint8_t irk[16], uint32_t prand);

#endif
