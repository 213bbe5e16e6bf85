/* presence.c - bounded per-customer visit tracker. */
#include "presence.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY (-1)

struct presence {
	struct pipeline_config cfg;
	presence_emit_fn emit;
	void *ctx;
	struct presence_device *devs;
	uint64_t *confirm_us;  /* per slot: enter_confirmations sighting times (a ring) */
	bool *used;
	uint32_t cap, count;
	uint32_t *free_stack;
	uint32_t n_free;
	int32_t *map;          /* linear probing: customer id -> slot, EMPTY */
	uint32_t map_mask;
	uint64_t evicted;
};

static uint32_t id_hash(int64_t id)
{
	uint64_t v = (uint64_t)id * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(v >> 32);
}

struct presence *presence_new(const struct pipeline_config *cfg, presence_emit_fn emit, void *ctx)
{
	struct presence *t = calloc(1, sizeof(*t));
	uint32_t m = 16;

	if (!t)
		return NULL;
	t->cfg = *cfg;
	t->emit = emit;
	t->ctx = ctx;
	t->cap = cfg->max_tracked;
	while (m < 2u * t->cap)
		m <<= 1;
	t->map_mask = m - 1;
	t->devs = calloc(t->cap ? t->cap : 1, sizeof(*t->devs));
	t->confirm_us = calloc((size_t)(t->cap ? t->cap : 1) *
				       (cfg->enter_confirmations ? cfg->enter_confirmations : 1),
			       sizeof(*t->confirm_us));
	t->used = calloc(t->cap ? t->cap : 1, sizeof(*t->used));
	t->free_stack = malloc(sizeof(*t->free_stack) * (t->cap ? t->cap : 1));
	t->map = malloc(sizeof(*t->map) * m);
	if (!t->devs || !t->confirm_us || !t->used || !t->free_stack || !t->map) {
		presence_free(t);
		return NULL;
	}
	for (uint32_t i = 0; i < m; i++)
		t->map[i] = EMPTY;
	for (uint32_t i = 0; i < t->cap; i++)
		t->free_stack[i] = t->cap - 1 - i;
	t->n_free = t->cap;
	return t;
}

void presence_free(struct presence *t)
{
	if (!t)
		return;
	free(t->devs);
	free(t->confirm_us);
	free(t->used);
	free(t->free_stack);
	free(t->map);
	free(t);
}

static uint32_t map_pos(const struct presence *t, int64_t id)
{
	uint32_t i = id_hash(id) & t->map_mask;

	while (t->map[i] != EMPTY && t->devs[t->map[i]].customer_id != id)
		i = (i + 1) & t->map_mask;
	return i;
}

struct presence_device *presence_find(struct presence *t, int64_t customer_id)
{
	uint32_t i = map_pos(t, customer_id);

	return t->map[i] == EMPTY ? NULL : &t->devs[t->map[i]];
}

/* Drop the slot and its map entry (backward-shift deletion: no tombstones). */
static void remove_slot(struct presence *t, uint32_t slot)
{
	uint32_t i = map_pos(t, t->devs[slot].customer_id);

	if (t->map[i] == EMPTY)
		return;
	for (uint32_t j = (i + 1) & t->map_mask; t->map[j] != EMPTY; j = (j + 1) & t->map_mask) {
		uint32_t home = id_hash(t->devs[t->map[j]].customer_id) & t->map_mask;
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (!stays) {
			t->map[i] = t->map[j];
			i = j;
		}
	}
	t->map[i] = EMPTY;
	memset(&t->devs[slot], 0, sizeof(t->devs[slot]));
	t->used[slot] = false;
	t->free_stack[t->n_free++] = slot;
	t->count--;
}

void presence_forget(struct presence *t, int64_t customer_id)
{
	struct presence_device *d = presence_find(t, customer_id);

	if (d)
		remove_slot(t, (uint32_t)(d - t->devs));
}

static void end_visit(struct presence *t, struct presence_device *d, uint64_t ts_us,
		      uint64_t ended_us)
{
	uint32_t dwell = ended_us > d->visit_started_us ?
				 (uint32_t)((ended_us - d->visit_started_us) / 1000000u) : 0;

	d->in_visit = false;
	d->n_confirm = 0;
	d->below_since_us = 0;
	t->emit(t->ctx, d, VISIT_EXIT, ts_us, dwell, -1);
}

static void evict_stalest(struct presence *t, uint64_t now_us)
{
	uint32_t victim = UINT32_MAX;

	for (uint32_t i = 0; i < t->cap; i++)
		if (t->used[i] && (victim == UINT32_MAX ||
				   t->devs[i].last_seen_us < t->devs[victim].last_seen_us))
			victim = i;
	if (victim == UINT32_MAX)
		return;
	if (t->devs[victim].in_visit)
		end_visit(t, &t->devs[victim], now_us, t->devs[victim].last_seen_us);
	remove_slot(t, victim);
	t->evicted++;
}

static void fire_marks(struct presence *t, struct presence_device *d, uint64_t now_us)
{
	while (d->in_visit && d->marks_fired < t->cfg.n_dwell_marks) {
		uint64_t dwell_us = now_us > d->visit_started_us ? now_us - d->visit_started_us : 0;
		uint32_t mark = t->cfg.dwell_marks_s[d->marks_fired];

		if (dwell_us < (uint64_t)mark * 1000000u)
			break;
		d->marks_fired++;
		t->emit(t->ctx, d, VISIT_DWELL, now_us, (uint32_t)(dwell_us / 1000000u),
			d->marks_fired - 1);
	}
}

/* The filtered RSSI stayed under the exit threshold long enough? */
static void check_below(struct presence *t, struct presence_device *d, uint64_t now_us)
{
	if (!d->in_visit)
		return;
	if (d->rssi_filtered >= (float)t->cfg.exit_rssi) {
		d->below_since_us = 0;
		return;
	}
	if (!d->below_since_us)
		d->below_since_us = now_us;
	else if (now_us - d->below_since_us >= (uint64_t)t->cfg.exit_below_s * 1000000u)
		end_visit(t, d, now_us, d->below_since_us);
}

struct presence_device *presence_sighting(struct presence *t, int64_t customer_id,
					  uint32_t customer, int8_t rssi, float power_1m,
					  uint64_t ts_us)
{
	uint32_t pos = map_pos(t, customer_id), slot;
	struct presence_device *d;
	uint64_t window_us = (uint64_t)t->cfg.enter_window_s * 1000000u;

	if (!t->cap)
		return NULL;
	if (t->map[pos] != EMPTY) {
		uint64_t absence_us = (uint64_t)t->cfg.absence_timeout_s * 1000000u;

		d = &t->devs[t->map[pos]];
		/* Away for longer than the absence timeout and back before a
		 * presence_tick() noticed (ticks are a second apart): end that
		 * visit now, as the tick would have, and start afresh. */
		if (ts_us >= d->last_seen_us + absence_us) {
			if (d->in_visit)
				end_visit(t, d, d->last_seen_us + absence_us, d->last_seen_us);
			remove_slot(t, (uint32_t)t->map[pos]);
			pos = map_pos(t, customer_id);
		}
	}
	if (t->map[pos] == EMPTY) {
		if (!t->n_free) {
			evict_stalest(t, ts_us);
			pos = map_pos(t, customer_id);
		}
		slot = t->free_stack[--t->n_free];
		t->map[pos] = (int32_t)slot;
		t->used[slot] = true;
		t->count++;
		d = &t->devs[slot];
		memset(d, 0, sizeof(*d));
		d->customer_id = customer_id;
		d->eid_ident = -1;
		d->first_seen_us = ts_us;
		d->rssi_filtered = rssi;
	} else {
		float alpha;

		d = &t->devs[t->map[pos]];
		alpha = (float)rssi > d->rssi_filtered ? t->cfg.rssi_alpha_up
						       : t->cfg.rssi_alpha_down;
		d->rssi_filtered += alpha * ((float)rssi - d->rssi_filtered);
	}
	d->customer = customer;
	if (ts_us > d->last_seen_us)
		d->last_seen_us = ts_us;
	d->power_1m = power_1m;

	if (!d->in_visit && rssi >= t->cfg.enter_rssi) {
		uint8_t n = t->cfg.enter_confirmations, in_window = 0;
		uint64_t oldest = ts_us, *ring = &t->confirm_us[(size_t)(d - t->devs) * n];

		ring[d->confirm_head] = ts_us;
		d->confirm_head = (uint8_t)((d->confirm_head + 1) % n);
		if (d->n_confirm < n)
			d->n_confirm++;
		for (uint8_t i = 0; i < d->n_confirm; i++) {
			if (ts_us - ring[i] <= window_us) {
				in_window++;
				if (ring[i] < oldest)
					oldest = ring[i];
			}
		}
		if (in_window >= n) {
			d->in_visit = true;
			d->visit_started_us = oldest;
			d->marks_fired = 0;
			d->below_since_us = 0;
			d->n_confirm = 0;
			d->confirm_head = 0;
			t->emit(t->ctx, d, VISIT_ENTER, ts_us,
				(uint32_t)((ts_us - oldest) / 1000000u), -1);
		}
	}
	fire_marks(t, d, ts_us);
	check_below(t, d, ts_us);
	return d;
}

void presence_tick(struct presence *t, uint64_t now_us)
{
	uint64_t absence_us = (uint64_t)t->cfg.absence_timeout_s * 1000000u;

	for (uint32_t i = 0; i < t->cap; i++) {
		struct presence_device *d = &t->devs[i];

		if (!t->used[i])
			continue;
		if (now_us >= d->last_seen_us + absence_us) {
			if (d->in_visit)
				end_visit(t, d, now_us, d->last_seen_us);
			remove_slot(t, i);
			continue;
		}
		fire_marks(t, d, now_us);
		check_below(t, d, now_us);
	}
}

void presence_flush(struct presence *t, uint64_t now_us)
{
	for (uint32_t i = 0; i < t->cap; i++) {
		if (!t->used[i])
			continue;
		if (t->devs[i].in_visit)
			end_visit(t, &t->devs[i], now_us, t->devs[i].last_seen_us);
		remove_slot(t, i);
	}
}

uint32_t presence_capacity(const struct presence *t)
{
	return t->cap;
}

struct presence_device *presence_slot(struct presence *t, uint32_t i)
{
	return i < t->cap && t->used[i] ? &t->devs[i] : NULL;
}

uint32_t presence_count(const struct presence *t)
{
	return t->count;
}

uint64_t presence_evicted(const struct presence *t)
{
	return t->evicted;
}

float presence_distance_m(float rssi, float power_1m, float n)
{
	/* Log-distance path loss: rssi = P(1 m) - 10 n log10(d). */
	return powf(10.0f, (power_1m - rssi) / (10.0f * n));
}
