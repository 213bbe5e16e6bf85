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
/* The arbitration level is the mean of the readings of the last
 * SITE_LEVEL_WINDOW_S: for a shopper whose level changes steadily (walking)
 * it is the level of the middle of that window, half a window ago. The
 * moments a mean crosses something (the holder's level, the enter level)
 * are dated that much earlier. */
#define LEVEL_LAG_US ((uint64_t)SITE_LEVEL_WINDOW_S * US_PER_S / 2u)
/* Two levels farther apart than this are not interpolated between. */
#define INTERP_MAX_US (3u * US_PER_S)
/* How long our summaries say when our last hold ended: a gateway that took
 * the shopper from us reads it in the next one or two. */
#define RELEASED_TELL_US (5u * US_PER_S)
/* A handover is decided on the holder's summary within this long of its
 * arrival (the same call, in practice). */
#define HANDOVER_FRESH_US 100000u
/* A peer silent for this long is forgotten: the site is no longer split,
 * that gateway is gone (removed, or dead for good). */
#define PEER_FORGET_US (3600ull * US_PER_S)

struct peer_view {
	float level;
	uint32_t seq;            /* the peer's summary number it came with */
	uint64_t heard_us;
	uint64_t since_us;       /* its claim starts */
	uint64_t at_us;          /* its summary's time */
	uint64_t released_us;    /* not holding: its last hold ended, 0 = unknown */
	float local_at;          /* our level over the same window, NAN = unknown */
	bool claim;
	bool from_me;            /* its claim is a handover from this gateway */
};

struct entry {
	int64_t customer_id;
	uint64_t local_us;       /* when local_level was last set, 0 = never */
	uint64_t prev_local_us;  /* the local level before that, and when */
	float prev_local_level;
	uint64_t best_since_us;  /* free: this gateway the strongest since, 0 = not */
	uint64_t best_from_us;   /* ... dated where the levels crossed (crossing()) */
	uint64_t lead_since_us;  /* held by a peer: our lead over it began, 0 = none */
	uint64_t lead_last_us;   /* ... last seen margin_db above it */
	uint64_t above_since_us; /* ... above it (any margin) since (dated where the
	                          * levels crossed, see crossing()), 0 = not */
	uint64_t cmp_at_us;      /* the holder's summary last compared with ours */
	float cmp_diff;          /* ... our level minus the holder's then */
	int8_t cmp_peer;         /* ... that holder, -1 = none */
	uint64_t free_since_us;  /* no peer claims them since, 0 = one does */
	float local_level;
	float pub_level;         /* the level in our last summary */
	uint64_t since_us;       /* our claim starts (the visit no earlier) */
	uint64_t claim_pub_us;   /* ... first in one of our summaries, 0 = not yet */
	uint64_t released_us;    /* our last claim ended (our visit with it), 0 = none */
	bool contested;          /* ... taken with a peer of the site alive */
	bool claim;
	bool peer_claimed;       /* a peer held them at our last decision */
	int8_t from;             /* handover: the peer we took them from, -1 = none */
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
		z->e[s].from = -1;
		z->e[s].cmp_peer = -1;
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
	for (uint32_t i = 0; i < z->cap; i++) {
		z->e[i].peers &= (uint8_t)~(1u << free_slot);
		if (z->e[i].from == free_slot)
			z->e[i].from = -1;
		if (z->e[i].cmp_peer == free_slot)
			z->e[i].cmp_peer = -1;
	}
	snprintf(z->peers[free_slot].name, sizeof(z->peers[free_slot].name), "%s", gateway);
	z->peers[free_slot].heard_us = now_us;
	z->peers[free_slot].seq = 1;
	z->peers[free_slot].was_alive = true;
	return free_slot;
}

void site_zone_peer_level(struct site_zone *z, int peer, int64_t customer_id,
			  const struct site_zone_view *v, uint64_t now_us)
{
	struct entry *en;

	if (peer < 0 || peer >= SITE_PEERS_MAX || !z->peers[peer].heard_us || isnan(v->level))
		return;
	en = get(z, customer_id);
	if (!en)
		return;
	en->peers |= (uint8_t)(1u << peer);
	/* A claim without its start (an older peer): it starts when heard. */
	en->peer[peer] = (struct peer_view){ .level = v->level, .seq = z->peers[peer].seq,
					     .heard_us = now_us, .claim = v->claim,
					     .since_us = v->since_us ? v->since_us : now_us,
					     .at_us = v->at_us && v->at_us <= now_us ? v->at_us : now_us,
					     .local_at = v->local_at,
					     .released_us = v->claim ? 0 : v->released_us,
					     .from_me = v->claim && v->from_me };
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
	if (now_us > en->local_us) {
		en->prev_local_level = en->local_level;
		en->prev_local_us = en->local_us;
	}
	en->local_level = level;
	en->local_us = now_us;
}

/* Both of us claim: does peer k's claim stand and ours not? A handover
 * stands against the claim it replaced (the old holder has not read it
 * yet); other claims compare the same two published levels on both sides. */
static bool peer_wins(const struct site_zone *z, const struct entry *en, int k)
{
	const struct peer_view *v = &en->peer[k];
	float mine = isnan(en->pub_level) ? en->local_level : en->pub_level;

	if (v->from_me && v->since_us >= en->since_us)
		return true;
	if (en->from == k && en->since_us >= v->since_us)
		return false;
	/* Levels travel with one decimal: closer than that is a tie. */
	if (fabsf(v->level - mine) >= 0.05f)
		return v->level > mine;
	return strcmp(z->peers[k].name, z->cfg.gateway) < 0;
}

/* Our level to compare with peer k's: over the same window when we know
 * ours then (a walking shopper's levels change between a peer's summary
 * and our decision), else our level now. */
static float mine_at(const struct entry *en, int k)
{
	const struct peer_view *v = &en->peer[k];

	return isnan(v->local_at) ? en->local_level : v->local_at;
}

/* Our level against peer k's by margin_db. Ties to the smaller name. */
static bool above(const struct site_zone *z, const struct entry *en, int k, float margin)
{
	const struct peer_view *v = &en->peer[k];
	float mine = mine_at(en, k);

	if (mine != v->level + margin)
		return mine > v->level + margin;
	return strcmp(z->cfg.gateway, z->peers[k].name) < 0;
}

/*
 * When a difference of levels that went from a (at ta) to b (at tb) crossed
 * zero: between the two, assuming it changed steadily (tb when a is
 * unknown, not below zero, or too old), and then LEVEL_LAG_US earlier,
 * because each level is the mean of a window and describes its middle.
 * At 6 dB of noise the two points are noisy, but a walking shopper's
 * levels cross within the interval they span; dating the crossing at its
 * end alone would put every move about a second and a half late.
 */
static uint64_t crossing(uint64_t ta, float a, uint64_t tb, float b)
{
	uint64_t t = tb;

	if (ta && ta < tb && tb - ta <= INTERP_MAX_US && !isnan(a) && !isnan(b) && a <= 0.0f &&
	    b > a)
		t = tb - (uint64_t)((double)(tb - ta) * (double)(b > 0.0f ? b : 0.0f) /
				    (double)(b - a));
	return t > LEVEL_LAG_US ? t - LEVEL_LAG_US : 0;
}

/* When a confirmed lead's shopper changed zone: where our level rose above
 * the holder's (the nearest gateway changed there), at most hold_s before
 * the lead itself began (a long stretch as the slightly stronger one is
 * not the move), and never before the holder's own claim began (its visit
 * ends where ours starts). */
static uint64_t crossed(const struct entry *en, uint64_t hold, uint64_t not_before)
{
	uint64_t lead = en->lead_since_us > LEVEL_LAG_US ? en->lead_since_us - LEVEL_LAG_US : 0;
	uint64_t earliest = lead > hold ? lead - hold : 0;
	uint64_t t = en->above_since_us && en->above_since_us <= lead ? en->above_since_us : lead;

	if (t < earliest)
		t = earliest;
	return t > not_before ? t : not_before;
}

static void take(struct site_zone *z, struct entry *en, uint64_t since_us, int from,
		 bool contested, const struct site_zone_actions *act)
{
	en->claim = true;
	en->since_us = since_us;
	en->claim_pub_us = 0;
	en->from = (int8_t)from;
	en->contested = contested;
	en->best_since_us = 0;
	en->lead_since_us = 0;
	en->above_since_us = 0;
	z->stats.claims++;
	if (from >= 0)
		z->stats.handovers++;
	else if (en->peer_claimed)
		z->stats.takeovers++;
	if (contested && act && act->take)
		act->take(act->ctx, en->customer_id, since_us);
}

static void let_go(struct site_zone *z, struct entry *en, uint64_t at_us,
		   const struct site_zone_actions *act)
{
	z->stats.releases++;
	en->claim = false;
	en->released_us = at_us;
	en->from = -1;
	en->best_since_us = 0;
	en->lead_since_us = 0;
	en->above_since_us = 0;
	if (act && act->release)
		act->release(act->ctx, en->customer_id, at_us);
}

void site_zone_let_go(struct site_zone *z, int64_t customer_id, uint64_t at_us)
{
	struct entry *en = find(z, customer_id);

	if (en && en->claim) {
		en->peer_claimed = false;
		let_go(z, en, at_us, NULL);
	}
}

/* The decision for one customer (act: what to do about a change, may be NULL). */
static void decide(struct site_zone *z, struct entry *en, uint64_t now_us,
		   const struct site_zone_actions *act)
{
	uint64_t hold = (uint64_t)z->cfg.site_hold_s * US_PER_S;
	bool self_ok = en->local_us && now_us < en->local_us + LOCAL_FRESH_US &&
		       !isnan(en->local_level);
	/* Just started, a gateway cannot know it is alone: its peers' first
	 * summaries may be on their way. */
	bool alone = now_us >= z->started_us + timeout_us(z);
	bool strongest = true;
	int holder = -1, winner = -1;

	for (int k = 0; k < SITE_PEERS_MAX; k++) {
		const struct peer_view *v = &en->peer[k];

		if (peer_alive(z, k, now_us))
			alone = false;
		if (!view_fresh(z, en, k, now_us))
			continue;
		if (v->claim) {
			if (holder < 0 || v->level > en->peer[holder].level)
				holder = k;
			if (en->claim && winner < 0 && peer_wins(z, en, k))
				winner = k;
		} else if (self_ok && !above(z, en, k, 0.0f)) {
			strongest = false;
		}
	}

	if (en->claim && en->from >= 0 && view_fresh(z, en, en->from, now_us)) {
		const struct peer_view *v = &en->peer[en->from];

		/* The holder we took them from let go by itself (its visit
		 * ended by the presence rules) after the crossing we dated our
		 * visit from, before it read our claim: ours starts where its
		 * ended, or the two would overlap. A peer that does not say
		 * when it let go: its summary's time, if that comes before it
		 * could have read our claim. */
		uint64_t ended = v->released_us;

		if (!ended && (!en->claim_pub_us || v->at_us < en->claim_pub_us))
			ended = v->at_us;
		if (!v->claim && ended > en->since_us && act && act->move) {
			en->since_us = ended;
			act->move(act->ctx, en->customer_id, ended);
		}
	}
	if (en->claim) {
		uint64_t at = now_us;

		if (winner >= 0) {
			const struct peer_view *v = &en->peer[winner];

			if (v->from_me) {
				/* Our visit ends where theirs starts. */
				z->stats.handed_over++;
				at = v->since_us < now_us ? v->since_us : now_us;
				if (at < en->since_us)
					at = en->since_us;
			} else {
				z->stats.conflicts++;
			}
		} else if (self_ok) {
			return;
		}
		en->peer_claimed = holder >= 0;
		let_go(z, en, at, act);
		return;
	}

	if (holder >= 0) {
		en->free_since_us = 0;
		en->best_since_us = 0;
		/* Challenge the holder: a lead begins with its summary that
		 * shows us margin_db above it and lasts while we stay the
		 * strongest and margin_db above again within hold_s (one noisy
		 * summary does not end it, nor does it stretch it back). Once it
		 * is hold_s old and margin_db again, we take the shopper over. */
		uint64_t at = en->peer[holder].at_us;
		float diff = self_ok ? mine_at(en, holder) - en->peer[holder].level : NAN;
		uint64_t prev_at = en->cmp_peer == holder && en->cmp_at_us < at ? en->cmp_at_us : 0;
		float prev_diff = en->cmp_diff;

		/* Each of the holder's summaries once: the one before is where
		 * a crossing is interpolated from. */
		if (en->cmp_peer != holder || en->cmp_at_us != at) {
			en->cmp_peer = (int8_t)holder;
			en->cmp_at_us = at;
			en->cmp_diff = diff;
		}
		if (self_ok && strongest && above(z, en, holder, 0.0f)) {
			bool margin = above(z, en, holder, z->cfg.site_margin_db);

			if (!en->above_since_us)
				en->above_since_us = crossing(prev_at, prev_diff, at, diff);
			if (en->lead_since_us && at > en->lead_last_us + hold)
				en->lead_since_us = 0;
			if (margin) {
				if (!en->lead_since_us)
					en->lead_since_us = at;
				en->lead_last_us = at;
				/* Only on the holder's summary as it arrives: a holder
				 * that let go since (its visit ended by the presence
				 * rules) says so in its next summary, and the shopper
				 * is then taken free, after that end. And only at a
				 * level a visit could open at: a shopper walking out
				 * past us is not taken over on the way. */
				if (at - en->lead_since_us >= hold &&
				    now_us < en->peer[holder].heard_us + HANDOVER_FRESH_US &&
				    en->local_level >= (float)z->cfg.enter_rssi)
					take(z, en, crossed(en, hold, en->peer[holder].since_us),
					     holder, true, act);
			}
		} else {
			en->lead_since_us = 0;
			en->above_since_us = 0;
		}
		en->peer_claimed = true;
		return;
	}

	en->lead_since_us = 0;
	en->above_since_us = 0;
	if (!en->free_since_us)
		en->free_since_us = now_us;
	if (!self_ok) {
		en->best_since_us = 0;
	} else if (alone) {
		take(z, en, now_us, -1, false, act);
	} else if (strongest && en->local_level >= (float)z->cfg.enter_rssi) {
		/* The hold counts from this decision; the visit starts where
		 * the level rose to the enter level (crossing()). */
		if (!en->best_since_us) {
			float enter = (float)z->cfg.enter_rssi;

			en->best_since_us = now_us;
			en->best_from_us = crossing(en->prev_local_us, en->prev_local_level - enter,
						    en->local_us, en->local_level - enter);
		}
		/* Free since a peer let go: our visit starts no earlier. */
		if (now_us - en->best_since_us >= hold)
			take(z, en,
			     en->best_from_us > en->free_since_us ? en->best_from_us
								   : en->free_since_us,
			     -1, true, act);
	} else {
		en->best_since_us = 0;
	}
	en->peer_claimed = false;
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
	/* No actions: the presence tracker opens the visit itself. */
	decide(z, en, now_us, NULL);
	if (en->claim && en->contested && since_us)
		*since_us = en->since_us;
	return en->claim;
}

void site_zone_decide_one(struct site_zone *z, int64_t customer_id, uint64_t now_us,
			  const struct site_zone_actions *act)
{
	struct entry *en = find(z, customer_id);

	if (en)
		decide(z, en, now_us, act);
}

bool site_zone_holds(const struct site_zone *z, int64_t customer_id)
{
	const struct entry *en = find(z, customer_id);

	return en && en->claim;
}

void site_zone_decide(struct site_zone *z, uint64_t now_us, const struct site_zone_actions *act)
{
	clock_seen(z, now_us);
	for (uint32_t i = 0; i < z->cap; i++) {
		struct entry *en = &z->e[i];
		bool heard = false;

		if (en->customer_id < 0)
			continue;
		decide(z, en, now_us, act);
		if (en->customer_id < 0)
			continue; /* an action forgot it */
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
			     struct site_zone_summary *out)
{
	struct entry *en = i < z->cap ? &z->e[i] : NULL;

	if (!en || en->customer_id < 0 || !en->local_us || isnan(en->local_level) ||
	    now_us >= en->local_us + LOCAL_FRESH_US)
		return false;
	/* One decimal is all the summary carries: compare what peers see. */
	en->pub_level = roundf(en->local_level * 10.0f) / 10.0f;
	out->customer_id = en->customer_id;
	out->level = en->pub_level;
	out->claim = en->claim;
	if (en->claim && !en->claim_pub_us)
		en->claim_pub_us = now_us;
	out->since_us = en->claim ? en->since_us : 0;
	out->from = en->claim && en->from >= 0 ? z->peers[en->from].name : NULL;
	out->released_us = !en->claim && now_us < en->released_us + RELEASED_TELL_US ?
				   en->released_us : 0;
	return true;
}

const struct site_zone_stats *site_zone_get_stats(struct site_zone *z, uint64_t now_us)
{
	z->stats.peers_alive = site_zone_peers_alive(z, now_us);
	z->stats.tracked = z->count;
	return &z->stats;
}
