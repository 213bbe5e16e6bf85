/* site_zone.c - zone arbitration between the gateways of a site (site_zone.h). */
#include "site_zone.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define EMPTY (-1)
#define US_PER_S 1000000u
/* A local level older than this (two ticks) is no longer "heard now". */
#define LOCAL_FRESH_US (2u * US_PER_S)
/* A peer silent for this long is forgotten: the site is no longer split,
 * that gateway is gone (removed, or dead for good). */
#define PEER_FORGET_US (3600ull * US_PER_S)

struct peer_view {
	float level;
	uint32_t seq;            /* the peer's summary number it came with */
	uint64_t heard_us;
	bool claim;
};

struct entry {
	int64_t customer_id;
	uint64_t local_us;       /* when local_level was last set, 0 = never */
	uint64_t best_since_us;  /* this gateway the strongest since, 0 = not */
	uint64_t beaten_since_us; /* a peer margin_db stronger since, 0 = not */
	float local_level;
	float pub_level;         /* the level in our last summary */
	uint64_t claimed_us;     /* when this gateway took the shopper */
	bool contested;          /* ... with a peer of the site alive */
	bool claim;
	bool peer_claimed;       /* a peer held them at our last decision */
	uint8_t peers;           /* bit k: peer[k] holds a view */
	struct peer_view peer[SITE_PEERS_MAX];
};

struct peer {
	char name[PIPELINE_NAME_MAX];
	uint64_t heard_us;       /* 0 = free slot */
	uint32_t seq;            /* summaries received */
	bool was_alive;
};

struct site_zone {
	struct pipeline_config cfg;
	struct entry *e;
	int32_t *map;
	uint32_t cap, count, map_mask;
	uint32_t hint;           /* where the search for a free slot starts */
	uint64_t started_us;     /* first time seen: alone only after a peer timeout */
	struct peer peers[SITE_PEERS_MAX];
	struct site_zone_stats stats;
};

static uint32_t id_hash(int64_t id)
{
	return (uint32_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 32);
}

struct site_zone *site_zone_new(const struct pipeline_config *cfg)
{
	struct site_zone *z = calloc(1, sizeof(*z));
	uint32_t m = 16;

	if (!z)
		return NULL;
	z->cfg = *cfg;
	z->cap = cfg->max_tracked ? cfg->max_tracked : 1;
	while (m < 2u * z->cap)
		m <<= 1;
	z->map_mask = m - 1;
	z->e = calloc(z->cap, sizeof(*z->e));
	z->map = malloc(sizeof(*z->map) * m);
	if (!z->e || !z->map) {
		site_zone_free(z);
		return NULL;
	}
	for (uint32_t i = 0; i < m; i++)
		z->map[i] = EMPTY;
	for (uint32_t i = 0; i < z->cap; i++)
		z->e[i].customer_id = -1;
	return z;
}

void site_zone_free(struct site_zone *z)
{
	if (!z)
		return;
	free(z->e);
	free(z->map);
	free(z);
}

static uint32_t map_pos(const struct site_zone *z, int64_t id)
{
	uint32_t i = id_hash(id) & z->map_mask;

	while (z->map[i] != EMPTY && z->e[z->map[i]].customer_id != id)
		i = (i + 1) & z->map_mask;
	return i;
}

static struct entry *find(const struct site_zone *z, int64_t id)
{
	uint32_t i = map_pos(z, id);

	return z->map[i] == EMPTY ? NULL : &z->e[z->map[i]];
}

/* Free slots are found by a scan from a rotating hint: entries come and go
 * at the pace of shoppers, not of advertising reports. */
static struct entry *get(struct site_zone *z, int64_t id)
{
	uint32_t pos = map_pos(z, id);

	if (z->map[pos] != EMPTY)
		return &z->e[z->map[pos]];
	if (z->count >= z->cap) {
		z->stats.full++;
		return NULL;
	}
	for (uint32_t k = 0; k < z->cap; k++) {
		uint32_t s = (z->hint + k) % z->cap;

		if (z->e[s].customer_id >= 0)
			continue;
		z->hint = s + 1;
		memset(&z->e[s], 0, sizeof(z->e[s]));
		z->e[s].customer_id = id;
		z->e[s].local_level = NAN;
		z->e[s].pub_level = NAN;
		z->map[pos] = (int32_t)s;
		z->count++;
		return &z->e[s];
	}
	z->stats.full++;
	return NULL;
}

/* Backward-shift deletion, as in presence.c: no tombstones. */
static void remove_entry(struct site_zone *z, struct entry *en)
{
	uint32_t i = map_pos(z, en->customer_id);

	if (z->map[i] == EMPTY)
		return;
	for (uint32_t j = (i + 1) & z->map_mask; z->map[j] != EMPTY; j = (j + 1) & z->map_mask) {
		uint32_t home = id_hash(z->e[z->map[j]].customer_id) & z->map_mask;
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);

		if (!stays) {
			z->map[i] = z->map[j];
			i = j;
		}
	}
	z->map[i] = EMPTY;
	en->customer_id = -1;
	z->count--;
}

void site_zone_forget(struct site_zone *z, int64_t customer_id)
{
	struct entry *en = find(z, customer_id);

	if (en)
		remove_entry(z, en);
}

/* Time starts with the first call that carries one. */
static void clock_seen(struct site_zone *z, uint64_t now_us)
{
	if (!z->started_us)
		z->started_us = now_us;
}

static uint64_t timeout_us(const struct site_zone *z)
{
	return (uint64_t)z->cfg.site_peer_timeout_s * US_PER_S;
}

static bool peer_alive(const struct site_zone *z, int k, uint64_t now_us)
{
	const struct peer *p = &z->peers[k];

	return p->heard_us && now_us < p->heard_us + timeout_us(z);
}

/* A view counts while its peer is alive and it came with one of the peer's
 * last two summaries (a customer the peer stopped listing drops out). */
static bool view_fresh(const struct site_zone *z, const struct entry *en, int k, uint64_t now_us)
{
	const struct peer_view *v = &en->peer[k];

	return (en->peers & (1u << k)) && peer_alive(z, k, now_us) &&
	       z->peers[k].seq - v->seq <= 1 && now_us < v->heard_us + timeout_us(z);
}

int site_zone_peer_begin(struct site_zone *z, const char *gateway, uint64_t now_us)
{
	int free_slot = -1;

	clock_seen(z, now_us);
	if (!strcmp(gateway, z->cfg.gateway))
		return -1;
	z->stats.peer_msgs++;
	for (int k = 0; k < SITE_PEERS_MAX; k++) {
		struct peer *p = &z->peers[k];

		if (p->heard_us && now_us >= p->heard_us + PEER_FORGET_US)
			p->heard_us = 0; /* gone for good: its slot may be reused */
		if (p->heard_us && !strcmp(p->name, gateway)) {
			p->heard_us = now_us;
			p->seq++;
			p->was_alive = true;
			return k;
		}
		if (!p->heard_us && free_slot < 0)
			free_slot = k;
	}
	if (free_slot < 0) {
		z->stats.peers_dropped++;
		return -1;
	}
	/* A slot once used may still hold views in entries: they belong to
	 * the old peer, so drop them. */
	for (uint32_t i = 0; i < z->cap; i++)
		z->e[i].peers &= (uint8_t)~(1u << free_slot);
	snprintf(z->peers[free_slot].name, sizeof(z->peers[free_slot].name), "%s", gateway);
	z->peers[free_slot].heard_us = now_us;
	z->peers[free_slot].seq = 1;
	z->peers[free_slot].was_alive = true;
	return free_slot;
}

void site_zone_peer_level(struct site_zone *z, int peer, int64_t customer_id, float level,
			  bool claim, uint64_t now_us)
{
	struct entry *en;

	if (peer < 0 || peer >= SITE_PEERS_MAX || !z->peers[peer].heard_us || isnan(level))
		return;
	en = get(z, customer_id);
	if (!en)
		return;
	en->peers |= (uint8_t)(1u << peer);
	en->peer[peer] = (struct peer_view){ .level = level, .seq = z->peers[peer].seq,
					     .heard_us = now_us, .claim = claim };
}

void site_zone_local(struct site_zone *z, int64_t customer_id, float level, uint64_t now_us)
{
	struct entry *en;

	clock_seen(z, now_us);
	if (isnan(level))
		return;
	en = get(z, customer_id);
	if (!en)
		return;
	en->local_level = level;
	en->local_us = now_us;
}

/* Does peer k's claim win against ours? Both sides compare the same two
 * published levels. */
static bool peer_wins(const struct site_zone *z, const struct entry *en, int k)
{
	float mine = isnan(en->pub_level) ? en->local_level : en->pub_level;

	/* Levels travel with one decimal: closer than that is a tie. */
	if (fabsf(en->peer[k].level - mine) >= 0.05f)
		return en->peer[k].level > mine;
	return strcmp(z->peers[k].name, z->cfg.gateway) < 0;
}

/* The decision for one customer; true when this gateway let them go. */
static bool decide(struct site_zone *z, struct entry *en, uint64_t now_us)
{
	uint64_t hold = (uint64_t)z->cfg.site_hold_s * US_PER_S;
	bool self_ok = en->local_us && now_us < en->local_us + LOCAL_FRESH_US &&
		       !isnan(en->local_level);
	/* Just started, a gateway cannot know it is alone: its peers' first
	 * summaries may be on their way. */
	bool alone = now_us >= z->started_us + timeout_us(z);
	bool any_peer = false, peer_claim = false, conflict = false;
	float best_other = -INFINITY;
	int best_k = -1;

	for (int k = 0; k < SITE_PEERS_MAX; k++) {
		if (peer_alive(z, k, now_us))
			alone = false;
		if (!view_fresh(z, en, k, now_us))
			continue;
		any_peer = true;
		if (en->peer[k].claim) {
			peer_claim = true;
			if (en->claim && peer_wins(z, en, k))
				conflict = true;
		}
		if (en->peer[k].level > best_other ||
		    (en->peer[k].level == best_other && best_k >= 0 &&
		     strcmp(z->peers[k].name, z->peers[best_k].name) < 0)) {
			best_other = en->peer[k].level;
			best_k = k;
		}
	}

	if (en->claim) {
		bool release = !self_ok || conflict;

		if (self_ok && any_peer && best_other >= en->local_level + z->cfg.site_margin_db) {
			if (!en->beaten_since_us)
				en->beaten_since_us = now_us;
			if (now_us - en->beaten_since_us >= hold)
				release = true;
		} else {
			en->beaten_since_us = 0;
		}
		if (!release)
			return false;
		if (conflict)
			z->stats.conflicts++;
		z->stats.releases++;
		en->claim = false;
		en->beaten_since_us = 0;
		en->best_since_us = 0;
		return true;
	}

	if (!self_ok) {
		en->best_since_us = 0;
		en->peer_claimed = peer_claim;
		return false;
	}
	if (any_peer && (best_other > en->local_level ||
			 (best_other == en->local_level &&
			  strcmp(z->peers[best_k].name, z->cfg.gateway) < 0))) {
		en->best_since_us = 0;
		en->peer_claimed = peer_claim;
		return false;
	}
	if (!en->best_since_us)
		en->best_since_us = now_us;
	if (!peer_claim && (alone || now_us - en->best_since_us >= hold)) {
		en->claim = true;
		en->claimed_us = now_us;
		en->contested = !alone;
		en->beaten_since_us = 0;
		z->stats.claims++;
		if (en->peer_claimed)
			z->stats.takeovers++;
	}
	en->peer_claimed = peer_claim;
	return false;
}

bool site_zone_gate(struct site_zone *z, int64_t customer_id, float level, uint64_t now_us,
		    uint64_t *since_us)
{
	struct entry *en;

	if (since_us)
		*since_us = 0;
	site_zone_local(z, customer_id, level, now_us);
	en = find(z, customer_id);
	if (!en)
		return false;
	decide(z, en, now_us);
	if (en->claim && en->contested && since_us)
		*since_us = en->claimed_us;
	return en->claim;
}

bool site_zone_holds(const struct site_zone *z, int64_t customer_id)
{
	const struct entry *en = find(z, customer_id);

	return en && en->claim;
}

void site_zone_decide(struct site_zone *z, uint64_t now_us,
		      void (*release)(void *ctx, int64_t customer_id), void *ctx)
{
	clock_seen(z, now_us);
	for (uint32_t i = 0; i < z->cap; i++) {
		struct entry *en = &z->e[i];
		bool heard = false;

		if (en->customer_id < 0)
			continue;
		if (decide(z, en, now_us) && release)
			release(ctx, en->customer_id);
		if (en->customer_id < 0)
			continue; /* the release callback forgot it */
		heard = en->claim || (en->local_us && now_us < en->local_us + timeout_us(z));
		for (int k = 0; !heard && k < SITE_PEERS_MAX; k++)
			heard = view_fresh(z, en, k, now_us);
		if (!heard)
			remove_entry(z, en);
	}
}

uint32_t site_zone_peers_alive(const struct site_zone *z, uint64_t now_us)
{
	uint32_t n = 0;

	for (int k = 0; k < SITE_PEERS_MAX; k++)
		n += peer_alive(z, k, now_us);
	return n;
}

bool site_zone_peer_lost(const struct site_zone *z, uint64_t now_us)
{
	for (int k = 0; k < SITE_PEERS_MAX; k++) {
		const struct peer *p = &z->peers[k];

		if (p->heard_us && !peer_alive(z, k, now_us) && now_us < p->heard_us + PEER_FORGET_US)
			return true;
	}
	return false;
}

uint32_t site_zone_capacity(const struct site_zone *z)
{
	return z->cap;
}

bool site_zone_summary_entry(struct site_zone *z, uint32_t i, uint64_t now_us,
			     int64_t *customer_id, float *level, bool *claim)
{
	struct entry *en = i < z->cap ? &z->e[i] : NULL;

	if (!en || en->customer_id < 0 || !en->local_us || isnan(en->local_level) ||
	    now_us >= en->local_us + LOCAL_FRESH_US)
		return false;
	/* One decimal is all the summary carries: compare what peers see. */
	en->pub_level = roundf(en->local_level * 10.0f) / 10.0f;
	*customer_id = en->customer_id;
	*level = en->pub_level;
	*claim = en->claim;
	return true;
}

const struct site_zone_stats *site_zone_get_stats(struct site_zone *z, uint64_t now_us)
{
	z->stats.peers_alive = site_zone_peers_alive(z, now_us);
	z->stats.tracked = z->count;
	return &z->stats;
}
