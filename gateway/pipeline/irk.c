/* irk.c - RPA resolution with a bounded per-address result cache. */
#include "irk.h"

#include <stdlib.h>
#include <string.h>

#include "addr_cache.h"

#define NEGATIVE UINT32_MAX /* cached: no enrolled IRK matches */

/* Up to this many IRKs get their own pre-scheduled AES context (about
 * 1 KiB each); beyond it the shared context is re-keyed per try. */
#define PREKEYED_MAX 16384

struct irk_key {
	uint8_t irk[16];
	uint32_t ident;
	struct pl_aes_key *sched; /* NULL: re-key the shared context */
};

struct irk_resolver {
	struct irk_key *keys;
	uint32_t n_keys;
	struct addr_cache *cache;
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

static uint32_t key_ah(struct pl_aes *aes, const struct irk_key *k, uint32_t prand)
{
	uint8_t in[16] = { 0 }, out[16];

	if (!k->sched)
		return irk_ah(aes, k->irk, prand);
	in[13] = (uint8_t)(prand >> 16);
	in[14] = (uint8_t)(prand >> 8);
	in[15] = (uint8_t)prand;
	pl_aes_key_block(k->sched, in, out);
	return (uint32_t)out[13] << 16 | (uint32_t)out[14] << 8 | out[15];
}

struct irk_resolver *irk_resolver_new(const struct snapshot *s, uint32_t cache_size)
{
	struct irk_resolver *r = calloc(1, sizeof(*r));
	uint32_t n = 0;

	if (!r)
		return NULL;
	for (uint32_t i = 0; s && i < s->n_identifiers; i++)
		n += s->identifiers[i].type == SNAP_ID_IRK &&
		     s->identifiers[i].customer < s->n_customers;
	r->keys = calloc(n ? n : 1, sizeof(*r->keys));
	r->cache = addr_cache_new(cache_size);
	if (!r->keys || !r->cache) {
		irk_resolver_free(r);
		return NULL;
	}
	for (uint32_t i = 0; s && i < s->n_identifiers; i++) {
		if (s->identifiers[i].type != SNAP_ID_IRK ||
		    s->identifiers[i].customer >= s->n_customers)
			continue;
		memcpy(r->keys[r->n_keys].irk, s->identifiers[i].value, 16);
		if (n <= PREKEYED_MAX)
			r->keys[r->n_keys].sched = pl_aes_key_new(s->identifiers[i].value);
		r->keys[r->n_keys++].ident = i;
	}
	return r;
}

void irk_resolver_free(struct irk_resolver *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; r->keys && i < r->n_keys; i++)
		pl_aes_key_free(r->keys[i].sched);
	free(r->keys);
	addr_cache_free(r->cache);
	free(r);
}

int64_t irk_resolve(struct irk_resolver *r, struct pl_aes *aes, const uint8_t addr[6])
{
	uint32_t hash, prand, ident = NEGATIVE;

	if (!r->n_keys)
		return -1;
	r->stats.lookups++;
	if (addr_cache_get(r->cache, addr, &ident)) {
		r->stats.cache_hits++;
		return ident == NEGATIVE ? -1 : (int64_t)ident;
	}
	hash = (uint32_t)addr[2] << 16 | (uint32_t)addr[1] << 8 | addr[0];
	prand = (uint32_t)addr[5] << 16 | (uint32_t)addr[4] << 8 | addr[3];
	for (uint32_t i = 0; i < r->n_keys; i++) {
		r->stats.aes_blocks++;
		if (key_ah(aes, &r->keys[i], prand) == hash) {
			ident = r->keys[i].ident;
			r->stats.resolved++;
			break;
		}
	}
	addr_cache_put(r->cache, addr, ident);
	return ident == NEGATIVE ? -1 : (int64_t)ident;
}

uint32_t irk_count(const struct irk_resolver *r)
{
	return r->n_keys;
}

const struct irk_stats *irk_get_stats(const struct irk_resolver *r)
{
	return &r->stats;
}
