/* irk.c - RPA resolution with a self-sizing per-address result cache. */
#include "irk.h"

#include <stdlib.h>
#include <string.h>

#include "addr_cache.h"
#include "irk_ah.h"

#define NEGATIVE UINT32_MAX /* cached: no enrolled IRK matches */

/* The cache starts at this many entries (or the maximum, if smaller) and
 * doubles from there while live addresses are being pushed out. */
#define CACHE_START 1024

/* Keys that matched lately are tried first: a known phone that rotates
 * its address is found among them instead of in the whole key list. */
#define HOT_MAX 8192

struct irk_key {
	uint8_t irk[16];
	uint32_t ident;
};

struct irk_resolver {
	struct irk_key *keys;
	uint32_t n_keys;
	uint32_t *hot; /* key indexes, a ring in order of their last match */
	uint32_t hot_n, hot_size, hot_next;
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
	r->hot_size = n < HOT_MAX ? n : HOT_MAX;
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
		memcpy(r->keys[r->n_keys].irk, s->identifiers[i].value, 16);
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

/* The index into keys of the IRK that generated (hash, prand), or -1:
 * the lately matched keys first, then all. */
static int64_t search(struct irk_resolver *r, uint32_t hash, uint32_t prand)
{
	for (uint32_t i = 0; i < r->hot_n; i++) {
		uint32_t k = r->hot[(r->hot_next + r->hot_size - 1 - i) % r->hot_size];

		r->stats.aes_blocks++;
		if (irk_ah_soft(r->keys[k].irk, prand) == hash)
			return k;
	}
	for (uint32_t k = 0; k < r->n_keys; k++) {
		r->stats.aes_blocks++;
		if (irk_ah_soft(r->keys[k].irk, prand) == hash) {
			r->hot[r->hot_next] = k;
			r->hot_next = (r->hot_next + 1) % r->hot_size;
			if (r->hot_n < r->hot_size)
				r->hot_n++;
			return k;
		}
	}
	return -1;
}

int64_t irk_resolve(struct irk_resolver *r, struct pl_aes *aes, const uint8_t addr[6])
{
	uint32_t hash, prand, ident = NEGATIVE;
	int64_t k;

	(void)aes; /* ah() no longer goes through OpenSSL; kept for callers */
	if (!r->n_keys)
		return -1;
	r->stats.lookups++;
	if (addr_cache_get(r->cache, addr, &ident)) {
		r->stats.cache_hits++;
		return ident == NEGATIVE ? -1 : (int64_t)ident;
	}
	hash = (uint32_t)addr[2] << 16 | (uint32_t)addr[1] << 8 | addr[0];
	prand = (uint32_t)addr[5] << 16 | (uint32_t)addr[4] << 8 | addr[3];
	k = search(r, hash, prand);
	if (k >= 0) {
		ident = r->keys[k].ident;
		r->stats.resolved++;
	}
	addr_cache_put(r->cache, addr, ident);
	return ident == NEGATIVE ? -1 : (int64_t)ident;
}

void irk_resolver_tick(struct irk_resolver *r)
{
	uint64_t ev = addr_cache_live_evictions(r->cache);
	uint32_t cap = addr_cache_capacity(r->cache);

	r->stats.live_evictions = ev;
	if (ev == r->evictions_seen || cap >= r->cache_max)
		return;
	r->evictions_seen = ev;
	if (addr_cache_grow(r->cache, cap * 2 < r->cache_max ? cap * 2 : r->cache_max)) {
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
