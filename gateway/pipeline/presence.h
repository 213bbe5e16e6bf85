/*
 * presence.h - per consented customer visit state machine.
 *
 * Keyed by customer id (never by address: an EID tag or an RPA phone
 * changes address, the customer does not). Each device carries a short
 * ring of its recent RSSI readings and its visit (start, dwell marks fired).
 *
 * The level estimate is the median of the ring's readings inside a time
 * window. Fading makes single readings drop, noise makes them jump either
 * way; a median ignores both without leaning up or down, so a tag held
 * below the exit level is judged below it (an asymmetric average that
 * trusts rises would keep it in), and a few lucky spikes far away do not
 * make an entry. The only asymmetry left is in the evidence: entering
 * needs enter_confirmations readings in enter_window_s, leaving only a
 * low median over exit_below_s or silence (absence_timeout_s).
 *
 *   idle --N sightings within enter_window_s whose median >= enter_rssi--> in visit (ENTER)
 *   in visit --dwell reaches mark i--> DWELL
 *   in visit --dwell reaches a campaign threshold--> threshold callback
 *   in visit --no sighting for absence_timeout_s, or the median of the
 *             readings of the last exit_below_s below exit_rssi--> idle (EXIT)
 *   idle --no sighting for absence_timeout_s--> forgotten
 *
 * The ring holds PRESENCE_RING bins, each max(enter_window_s, exit_below_s)
 * / PRESENCE_RING seconds wide: readings inside one bin are averaged (in
 * dB, an unbiased mean of the shadowing), so a tag advertising ten times a
 * second costs no more than one advertising once a second. One device
 * record is 216 bytes (sizeof(struct presence_device) on LP64, the ring
 * included).
 *
 * Dwell marks are what is reported (visit rows, the visit topic); campaign
 * thresholds (the min_dwell of dwell campaigns, set per snapshot) are
 * separate, so a campaign fires when the visit reaches its own threshold
 * whatever the marks are.
 *
 * The table is fixed-size (max_tracked): a new device when it is full
 * evicts the one seen longest ago (its open visit is closed with EXIT).
 * No allocation after presence_new().
 */
#ifndef BGW_PRESENCE_H
#define BGW_PRESENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"
#include "pipeline_config.h"

#define PRESENCE_RING 16

/* One bin of the RSSI ring: the sum and count of the readings that fell in
 * it, and when it began (deciseconds since the device was first seen). */
struct presence_bin {
	int16_t sum;
	uint8_t n;
	uint32_t start_ds;
} __attribute__((packed));

/* Widest fields first (no padding): the table holds max_tracked of these. */
struct presence_device {
	int64_t customer_id;
	uint64_t first_seen_us, last_seen_us, visit_started_us;
	uint64_t last_health_us;   /* rate limit of this tag's decrypted TLM */
	/* Snapshot identifier of the EID key, -1 if none (identifier indexes
	 * fit: the loader takes at most UINT32_MAX / 22 identifiers). */
	int32_t eid_ident;
	uint32_t customer;         /* index into the current snapshot's customers */
	uint32_t eid_time_base;
	float rssi_filtered;       /* median of the readings of the last enter_window_s */
	float power_1m;            /* calibrated RSSI at 1 m of the last frame */
	float rssi_peak;           /* highest rssi_filtered of the visit */
	uint32_t thr_next_s;       /* smallest dwell not yet checked against thresholds */
	/* The exit check's last level (median, readings, oldest bin), reused
	 * while the ring is unchanged and its oldest bin is still in the
	 * window: the ticks between two readings then cost no sort. */
	float lvl_median;
	uint32_t lvl_oldest_ds, lvl_now_ds;
	uint16_t lvl_readings;
	bool lvl_valid;
	bool in_visit;
	bool rssi_known;           /* at least one sighting carried a real RSSI */
	uint8_t marks_fired;       /* dwell marks already emitted in this visit */
	uint8_t ring_head, ring_len; /* newest bin, bins in use */
	struct presence_bin ring[PRESENCE_RING];
	/* For pairing an eTLM frame with the EID seen from the same address. */
	uint8_t last_addr[6];
};

struct presence;

/* kind, the device, the event time, the dwell and (DWELL only) the index of the mark. */
typedef void (*presence_emit_fn)(void *ctx, const struct presence_device *d,
				 enum visit_event_kind kind, uint64_t ts_us, uint32_t dwell_s,
				 int mark);

/* The visit reached threshold_s, one of presence_set_thresholds()'s. */
typedef void (*presence_threshold_fn)(void *ctx, const struct presence_device *d,
				      uint64_t ts_us, uint32_t dwell_s, uint32_t threshold_s);

/* May a visit of d open now (level: the median that qualified it)? Asked
 * just before ENTER; NULL = always. A refusal is asked again at the next
 * sighting. *not_before_us (0 = no bound) is the earliest start the visit
 * may be given: when the shopper was in another gateway's zone before. */
typedef bool (*presence_gate_fn)(void *ctx, const struct presence_device *d, float level,
				 uint64_t ts_us, uint64_t *not_before_us);

struct presence *presence_new(const struct pipeline_config *cfg, presence_emit_fn emit, void *ctx);
void presence_free(struct presence *t);

/* Dwell thresholds (ascending, distinct; the array stays the caller's and
 * must outlive its use) at which fn is called once per visit. A threshold
 * a visit has already passed when the set changes is not called for it. */
void presence_set_thresholds(struct presence *t, const uint32_t *threshold_s, uint32_t n,
			     presence_threshold_fn fn);

/* Gate the opening of visits (several gateways of one site: site_zone.h). */
void presence_set_gate(struct presence *t, presence_gate_fn gate, void *ctx);

/* End d's open visit with EXIT at at_us (another gateway took the shopper:
 * at_us is when its visit starts, at most now). */
void presence_end_visit(struct presence *t, struct presence_device *d, uint64_t at_us);

/* Open a visit of d now (ENTER), starting at since_us: the site gave this
 * gateway the shopper (site_zone.h), its own enter window is not asked. */
void presence_open_visit(struct presence *t, struct presence_device *d, uint64_t since_us,
			 uint64_t now_us);

/* d's open visit starts at since_us instead, if that is later (since_us
 * not in the future): a site handover found the previous gateway's visit
 * ended later than the crossing it was dated from. */
void presence_move_start(struct presence *t, struct presence_device *d, uint64_t since_us);

/* The median level of d's readings of the last enter_window_s, NAN if none:
 * what this gateway hears of the device now. */
float presence_level(const struct presence *t, const struct presence_device *d, uint64_t now_us);

/* The mean of d's readings of the window_s seconds up to end_us (in dB),
 * NAN if none: quicker to follow a walking shopper than the median, for the
 * site's arbitration (whose margin and hold time absorb the noise). end_us
 * in the past compares with what a peer heard then. */
float presence_level_recent(const struct presence *t, const struct presence_device *d,
			    uint32_t window_s, uint64_t end_us);

/* A sighting of a consented customer. Returns the device (NULL only when
 * max_tracked is 0); it may emit ENTER / DWELL. */
struct presence_device *presence_sighting(struct presence *t, int64_t customer_id,
					  uint32_t customer, int8_t rssi, float power_1m,
					  uint64_t ts_us);

/* Time passes: dwell marks, exits, forgetting idle devices. */
void presence_tick(struct presence *t, uint64_t now_us);

/* Close every open visit (EXIT) and forget everything. */
void presence_flush(struct presence *t, uint64_t now_us);

/* Forget a customer at once, without events (consent withdrawn, erased). */
void presence_forget(struct presence *t, int64_t customer_id);

struct presence_device *presence_find(struct presence *t, int64_t customer_id);

/* Iterate: devices live in slots 0..capacity-1; NULL for a free slot. */
uint32_t presence_capacity(const struct presence *t);
struct presence_device *presence_slot(struct presence *t, uint32_t i);
/* The first used slot at or after i, or the capacity: skips a sparsely used
 * table's free slots many at a time (a tick visits every device). */
uint32_t presence_next(const struct presence *t, uint32_t i);

uint32_t presence_count(const struct presence *t);
uint64_t presence_evicted(const struct presence *t);

/* Log-distance proximity from filtered RSSI and calibrated power at 1 m. */
float presence_distance_m(float rssi, float power_1m, float n);

#endif
