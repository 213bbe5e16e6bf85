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
};

struct addr_cache *addr_cache_new(uint32_t min_entries)
{
	struct addr_cache *c = calloc(1, sizeof(*c));
	uint32_t sets = 1;

	if (!c)
		return NULL;
	while ((uint64_t)sets * WAYS < min_entries && sets < MAX_SETS)
		sets <<= 1;
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
static struct way *set_of(const struct addr_cache *c, const uint8_t a[6])
{
	uint64_t v = 0;

	memcpy(&v, a, 6);
	v *= 0x9E3779B97F4A7C15ull;
	return &c->ways[(size_t)((uint32_t)(v >> 32) & c->set_mask) * WAYS];
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
	memcpy(victim->addr, addr, 6);
	victim->used = 1;
	victim->value = value;
	victim->stamp = ++c->clock;
}

uint32_t addr_cache_capacity(const struct addr_cache *c)
{
	return (c->set_mask + 1) * WAYS;
}
