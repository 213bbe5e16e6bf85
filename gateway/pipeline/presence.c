/* presence.c - bounded per-customer visit tracker. */
#include "presence.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY (-1)
#define US_PER_S 1000000u
#define US_PER_DS 100000u

struct presence {
	struct pipeline_config cfg;
	presence_emit_fn emit;
	void *ctx;
	presence_threshold_fn on_threshold;
	presence_gate_fn gate;
	void *gate_ctx;
	const uint32_t *thresholds;   /* ascending dwell seconds (the caller's array) */
	uint32_t n_thresholds;
	struct presence_device *devs;
	bool *used;
	uint32_t bin_ds;       /* width of one RSSI ring bin */
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
	/* The ring spans the longer of the two windows, in PRESENCE_RING bins. */
	t->bin_ds = (uint32_t)(((uint64_t)(cfg->enter_window_s > cfg->exit_below_s ?
						  cfg->enter_window_s : cfg->exit_below_s) *
				10u + PRESENCE_RING - 1) / PRESENCE_RING);
	if (!t->bin_ds)
		t->bin_ds = 1;
	t->devs = calloc(t->cap ? t->cap : 1, sizeof(*t->devs));
	t->used = calloc(t->cap ? t->cap : 1, sizeof(*t->used));
	t->free_stack = malloc(sizeof(*t->free_stack) * (t->cap ? t->cap : 1));
	t->map = malloc(sizeof(*t->map) * m);
	if (!t->devs || !t->used || !t->free_stack || !t->map) {
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
	free(t->used);
	free(t->free_stack);
	free(t->map);
	free(t);
}

void presence_set_thresholds(struct presence *t, const uint32_t *threshold_s, uint32_t n,
			     presence_threshold_fn fn)
{
	t->thresholds = threshold_s;
	t->n_thresholds = threshold_s ? n : 0;
	t->on_threshold = fn;
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
				 (uint32_t)((ended_us - d->visit_started_us) / US_PER_S) : 0;

	d->in_visit = false;
	/* A new visit needs fresh evidence, not the readings that ended this one. */
	d->ring_len = 0;
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

		if (dwell_us < (uint64_t)mark * US_PER_S)
			break;
		d->marks_fired++;
		t->emit(t->ctx, d, VISIT_DWELL, now_us, (uint32_t)(dwell_us / US_PER_S),
			d->marks_fired - 1);
	}
}

/* Each threshold the visit's dwell reached since the last look, once. */
static void fire_thresholds(struct presence *t, struct presence_device *d, uint64_t now_us)
{
	uint32_t dwell;

	if (!d->in_visit || !t->n_thresholds || !t->on_threshold)
		return;
	dwell = now_us > d->visit_started_us ?
			(uint32_t)((now_us - d->visit_started_us) / US_PER_S) : 0;
	if (dwell < d->thr_next_s)
		return;
	for (uint32_t i = 0; i < t->n_thresholds && t->thresholds[i] <= dwell; i++) {
		if (t->thresholds[i] < d->thr_next_s)
			continue;
		t->on_threshold(t->ctx, d, now_us, dwell, t->thresholds[i]);
		if (!d->in_visit)
			return;
	}
	d->thr_next_s = dwell + 1;
}

/* Deciseconds since the device was first seen: ring bins store these. */
static uint32_t rel_ds(const struct presence_device *d, uint64_t ts_us)
{
	return ts_us > d->first_seen_us ? (uint32_t)((ts_us - d->first_seen_us) / US_PER_DS) : 0;
}

/* Add a reading; true when it opened a new bin (the level may have moved). */
static bool ring_add(struct presence *t, struct presence_device *d, int8_t rssi, uint64_t ts_us)
{
	uint32_t now = rel_ds(d, ts_us);
	struct presence_bin *b = &d->ring[d->ring_head];

	d->lvl_valid = false;
	if (d->ring_len && now < b->start_ds + t->bin_ds && b->n < UINT8_MAX) {
		b->sum = (int16_t)(b->sum + rssi);
		b->n++;
		return false;
	}
	if (d->ring_len)
		d->ring_head = (uint8_t)((d->ring_head + 1) % PRESENCE_RING);
	if (d->ring_len < PRESENCE_RING)
		d->ring_len++;
	d->ring[d->ring_head] = (struct presence_bin){ .sum = rssi, .n = 1, .start_ds = now };
	return true;
}

/* What the ring says about the last window_s seconds. */
struct level {
	float median;          /* of the bin means; NAN without readings */
	uint32_t readings;     /* raw sightings in the window */
	uint32_t oldest_ds;    /* start of the oldest bin in the window */
};

static struct level ring_level(const struct presence_device *d, uint32_t window_s,
			       uint32_t from_ds, uint64_t now_us)
{
	uint32_t now = rel_ds(d, now_us), window = window_s * 10u;
	float v[PRESENCE_RING];
	struct level lv = { .median = NAN };
	uint32_t n = 0;

	for (uint32_t k = 0; k < d->ring_len; k++) {
		const struct presence_bin *b =
			&d->ring[(d->ring_head + PRESENCE_RING - k) % PRESENCE_RING];
		float x;
		uint32_t i;

		if (b->start_ds + window < now || b->start_ds < from_ds)
			break; /* older bins only from here */
		x = (float)b->sum / (float)b->n;
		/* Insertion sort: at most PRESENCE_RING values. */
		for (i = n; i > 0 && v[i - 1] > x; i--)
			v[i] = v[i - 1];
		v[i] = x;
		n++;
		lv.readings += b->n;
		lv.oldest_ds = b->start_ds;
	}
	if (n)
		lv.median = n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]);
	return lv;
}

/*
 * Leave when the median of the readings of the last exit_below_s is below
 * the exit level. It needs as many readings as an entry does and readings
 * spread over at least half the window, so one deep fade of a tag that
 * advertises rarely does not end a visit (silence is the absence timeout's).
 * Only the visit's own readings count (the approach was weaker by
 * definition). The visit ends at the start of that window: the tag was
 * last judged in range before it.
 */
static void check_exit(struct presence *t, struct presence_device *d, uint64_t now_us)
{
	struct level lv;
	uint32_t now;

	if (!d->in_visit)
		return;
	now = rel_ds(d, now_us);
	/* Same ring, same visit, later time, oldest bin still in the window:
	 * ring_level() would pick the same bins (later bins stay in, older
	 * ones stay out), so its answer is the one kept. */
	if (d->lvl_valid && now >= d->lvl_now_ds &&
	    d->lvl_oldest_ds + t->cfg.exit_below_s * 10u >= now) {
		lv = (struct level){ .median = d->lvl_median,
				     .readings = d->lvl_readings,
				     .oldest_ds = d->lvl_oldest_ds };
	} else {
		lv = ring_level(d, t->cfg.exit_below_s, rel_ds(d, d->visit_started_us), now_us);
		d->lvl_valid = !isnan(lv.median) && lv.readings <= UINT16_MAX;
		d->lvl_median = lv.median;
		d->lvl_readings = (uint16_t)lv.readings;
		d->lvl_oldest_ds = lv.oldest_ds;
		d->lvl_now_ds = now;
	}
	if (!isnan(lv.median)) {
		d->rssi_filtered = lv.median;
		if (lv.median > d->rssi_peak)
			d->rssi_peak = lv.median;
	}
	if (isnan(lv.median) || lv.readings < t->cfg.enter_confirmations ||
	    (now - lv.oldest_ds) * 2u < t->cfg.exit_below_s * 10u ||
	    lv.median >= (float)t->cfg.exit_rssi)
		return;
	end_visit(t, d, now_us, d->first_seen_us + (uint64_t)lv.oldest_ds * US_PER_DS);
}

/*
 * Could the median of the entry window reach the enter level? It cannot
 * unless there are enough readings and at least half the bins are at the
 * level. One pass, no sort: most readings of a device outside a visit (a
 * tag passing by, far away) stop here.
 */
static bool may_enter(const struct presence *t, const struct presence_device *d, uint64_t ts_us)
{
	uint32_t now = rel_ds(d, ts_us), window = t->cfg.enter_window_s * 10u;
	uint32_t readings = 0, bins = 0, strong = 0;

	for (uint32_t k = 0; k < d->ring_len; k++) {
		const struct presence_bin *b =
			&d->ring[(d->ring_head + PRESENCE_RING - k) % PRESENCE_RING];

		if (b->start_ds + window < now)
			break;
		readings += b->n;
		bins++;
		if (b->sum >= t->cfg.enter_rssi * (int)b->n)
			strong++;
	}
	return readings >= t->cfg.enter_confirmations && strong * 2u >= bins;
}

static void check_enter(struct presence *t, struct presence_device *d, uint64_t ts_us)
{
	struct level lv;
	uint64_t since, not_before = 0;

	/* In a visit the exit check keeps the level (rssi_filtered) current. */
	if (d->in_visit || !may_enter(t, d, ts_us))
		return;
	lv = ring_level(d, t->cfg.enter_window_s, 0, ts_us);

	if (!isnan(lv.median))
		d->rssi_filtered = lv.median;
	if (d->in_visit || lv.readings < t->cfg.enter_confirmations ||
	    lv.median < (float)t->cfg.enter_rssi)
		return;
	if (t->gate && !t->gate(t->gate_ctx, d, lv.median, ts_us, &not_before))
		return;
	since = d->first_seen_us + (uint64_t)lv.oldest_ds * US_PER_DS;
	/* A visit granted by the site after a handover starts when it was
	 * granted: the shopper was in another gateway's zone before. */
	if (not_before > since)
		since = not_before;
	d->in_visit = true;
	d->rssi_peak = lv.median;
	d->visit_started_us = since;
	d->lvl_valid = false; /* the exit window starts at the visit */
	d->marks_fired = 0;
	d->thr_next_s = 0;
	t->emit(t->ctx, d, VISIT_ENTER, ts_us, (uint32_t)((ts_us - since) / US_PER_S), -1);
}

struct presence_device *presence_sighting(struct presence *t, int64_t customer_id,
					  uint32_t customer, int8_t rssi, float power_1m,
					  uint64_t ts_us)
{
	uint32_t pos = map_pos(t, customer_id), slot;
	struct presence_device *d;
	bool new_bin;

	if (!t->cap)
		return NULL;
	if (t->map[pos] != EMPTY) {
		uint64_t absence_us = (uint64_t)t->cfg.absence_timeout_s * US_PER_S;

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
		d = &t->devs[t->map[pos]];
	}
	d->customer = customer;
	if (ts_us > d->last_seen_us)
		d->last_seen_us = ts_us;
	d->power_1m = power_1m;
	/* In a visit the median is taken when a bin opens, not at every
	 * reading: a tag advertising ten times a second would otherwise sort
	 * the ring ten times a second for a level that moves once per bin.
	 * Outside a visit every reading may complete an entry (may_enter()
	 * keeps that cheap). */
	new_bin = ring_add(t, d, rssi, ts_us);
	check_enter(t, d, ts_us);
	fire_marks(t, d, ts_us);
	fire_thresholds(t, d, ts_us);
	if (new_bin)
		check_exit(t, d, ts_us);
	return d;
}

uint32_t presence_next(const struct presence *t, uint32_t i)
{
	const bool *u;

	if (i >= t->cap)
		return t->cap;
	u = memchr(t->used + i, true, t->cap - i);
	return u ? (uint32_t)(u - t->used) : t->cap;
}

void presence_tick(struct presence *t, uint64_t now_us)
{
	uint64_t absence_us = (uint64_t)t->cfg.absence_timeout_s * US_PER_S;

	for (uint32_t i = presence_next(t, 0); i < t->cap; i = presence_next(t, i + 1)) {
		struct presence_device *d = &t->devs[i];

		if (now_us >= d->last_seen_us + absence_us) {
			if (d->in_visit)
				end_visit(t, d, now_us, d->last_seen_us);
			remove_slot(t, i);
			continue;
		}
		fire_marks(t, d, now_us);
		fire_thresholds(t, d, now_us);
		check_exit(t, d, now_us);
	}
}

void presence_flush(struct presence *t, uint64_t now_us)
{
	for (uint32_t i = presence_next(t, 0); i < t->cap; i = presence_next(t, i + 1)) {
		if (t->devs[i].in_visit)
			end_visit(t, &t->devs[i], now_us, t->devs[i].last_seen_us);
		remove_slot(t, i);
	}
}

void presence_set_gate(struct presence *t, presence_gate_fn gate, void *ctx)
{
	t->gate = gate;
	t->gate_ctx = ctx;
}

void presence_end_visit(struct presence *t, struct presence_device *d, uint64_t at_us)
{
	if (d->in_visit)
		end_visit(t, d, at_us, at_us);
}

void presence_open_visit(struct presence *t, struct presence_device *d, uint64_t since_us,
			 uint64_t now_us)
{
	struct level lv;

	if (d->in_visit)
		return;
	if (since_us > now_us)
		since_us = now_us;
	lv = ring_level(d, t->cfg.enter_window_s, 0, now_us);
	if (!isnan(lv.median))
		d->rssi_filtered = lv.median;
	d->in_visit = true;
	d->rssi_peak = d->rssi_filtered;
	d->visit_started_us = since_us;
	d->lvl_valid = false; /* the exit window starts at the visit */
	d->marks_fired = 0;
	d->thr_next_s = 0;
	t->emit(t->ctx, d, VISIT_ENTER, now_us, (uint32_t)((now_us - since_us) / US_PER_S), -1);
}

void presence_move_start(struct presence *t, struct presence_device *d, uint64_t since_us)
{
	(void)t;
	if (d->in_visit && since_us > d->visit_started_us) {
		d->visit_started_us = since_us;
		d->lvl_valid = false; /* the exit window starts at the visit */
	}
}

float presence_level_recent(const struct presence *t, const struct presence_device *d,
			    uint32_t window_s, uint64_t end_us)
{
	uint32_t end = rel_ds(d, end_us), window = window_s * 10u, n = 0;
	int32_t sum = 0;

	(void)t;
	if (end_us < d->first_seen_us)
		return NAN;
	for (uint32_t k = 0; k < d->ring_len; k++) {
		const struct presence_bin *b =
			&d->ring[(d->ring_head + PRESENCE_RING - k) % PRESENCE_RING];

		if (b->start_ds > end)
			continue; /* newer than the window */
		if (b->start_ds + window < end)
			break;
		sum += b->sum;
		n += b->n;
	}
	return n ? (float)sum / (float)n : NAN;
}

float presence_level(const struct presence *t, const struct presence_device *d, uint64_t now_us)
{
	return ring_level(d, t->cfg.enter_window_s, 0, now_us).median;
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
