/* addr_cache.c - 4-way set-associative address cache with LRU sets. */
#include "addr_cache.h"

#include <stdlib.h>
#include <string.h>

#define WAYS 4
#define MAX_SETS (1u << 24)

struct way {
	uint8_t addr[6];
	uint8_t used;
	uint32_t value;
	uint32_t stamp; /* last use, for LRU within the set */
};

struct addr_cache {
	struct way *ways;
	uint32_t set_mask;
	uint32_t clock;
	uint64_t live_evictions;
};

static uint32_t sets_for(uint32_t min_entries)
{
	uint32_t sets = 1;

	while ((uint64_t)sets * WAYS < min_entries && sets < MAX_SETS)
		sets <<= 1;
	return sets;
}

struct addr_cache *addr_cache_new(uint32_t min_entries)
{
	struct addr_cache *c = calloc(1, sizeof(*c));
	uint32_t sets = sets_for(min_entries);

	if (!c)
		return NULL;
	c->ways = calloc((size_t)sets * WAYS, sizeof(*c->ways));
	if (!c->ways) {
		free(c);
		return NULL;
	}
	c->set_mask = sets - 1;
	return c;
}

void addr_cache_free(struct addr_cache *c)
{
	if (!c)
		return;
	free(c->ways);
	free(c);
}

/* Random and public addresses alike: the low 48 bits, multiplied out. */
static struct way *set_in(struct way *ways, uint32_t set_mask, const uint8_t a[6])
{
	uint64_t v = 0;

	memcpy(&v, a, 6);
	v *= 0x9E3779B97F4A7C15ull;
	return &ways[(size_t)((uint32_t)(v >> 32) & set_mask) * WAYS];
}

static struct way *set_of(const struct addr_cache *c, const uint8_t a[6])
{
	return set_in(c->ways, c->set_mask, a);
}

bool addr_cache_get(struct addr_cache *c, const uint8_t addr[6], uint32_t *value)
{
	struct way *set = set_of(c, addr);

	for (int w = 0; w < WAYS; w++)
		if (set[w].used && !memcmp(set[w].addr, addr, 6)) {
			set[w].stamp = ++c->clock;
			*value = set[w].value;
			return true;
		}
	return false;
}

void addr_cache_put(struct addr_cache *c, const uint8_t addr[6], uint32_t value)
{
	struct way *set = set_of(c, addr), *victim = &set[0];

	for (int w = 0; w < WAYS; w++) {
		if (set[w].used && !memcmp(set[w].addr, addr, 6)) {
			victim = &set[w];
			break;
		}
		if (!set[w].used || (victim->used && set[w].stamp < victim->stamp))
			victim = &set[w];
	}
	if (victim->used && memcmp(victim->addr, addr, 6) &&
	    c->clock - victim->stamp < addr_cache_capacity(c))
		c->live_evictions++;
	memcpy(victim->addr, addr, 6);
	victim->used = 1;
	victim->value = value;
	victim->stamp = ++c->clock;
}

uint32_t addr_cache_capacity(const struct addr_cache *c)
{
	return (c->set_mask + 1) * WAYS;
}

uint64_t addr_cache_live_evictions(const struct addr_cache *c)
{
	return c->live_evictions;
}

bool addr_cache_grow(struct addr_cache *c, uint32_t min_entries)
{
	uint32_t sets = sets_for(min_entries), old_n = addr_cache_capacity(c);
	struct way *ways;

	if ((uint64_t)sets * WAYS <= old_n)
		return false;
	ways = calloc((size_t)sets * WAYS, sizeof(*ways));
	if (!ways)
		return false;
	/* Every entry finds room, stamps and all: the set index is the hash
	 * under a wider mask, so each new set draws from one old set of at
	 * most WAYS entries. */
	for (uint32_t i = 0; i < old_n; i++) {
		const struct way *w = &c->ways[i];
		struct way *set;
		int k;

		if (!w->used)
			continue;
		set = set_in(ways, sets - 1, w->addr);
		for (k = 0; k < WAYS && set[k].used; k++)
			;
		if (k < WAYS)
			set[k] = *w;
	}
	free(c->ways);
	c->ways = ways;
	c->set_mask = sets - 1;
	return true;
}
