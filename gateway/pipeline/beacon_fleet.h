/*
 * beacon_fleet.h - the store's own beacons as a fleet: every beacon
 * registered with "beaconctl beacon add", whatever it sends (iBeacon,
 * Eddystone-UID or a whole UID namespace, Eddystone-URL, or TLM only from a
 * known address), with its battery and temperature (from the Eddystone-TLM
 * frames its address sends), when it was last heard, and a status:
 *
 *   ok           heard within [beacons] missing_after_s, battery fine or unknown
 *   low_battery  its last TLM said less than [beacons] low_battery_mv
 *   missing      not heard for missing_after_s (or never, that long after start)
 *
 * A registered beacon is the store's, not a visitor: its reports stay out of
 * presence and footfall. Matching is a scan of a small table of decoded
 * values (no allocation, no SQL); the table is replaced when the store
 * changes, keeping each beacon's readings by name.
 *
 * Messages (kind "store" on the beacons topic): at once when a status
 * changes, through `change` (the alert the backend must not miss: the daemon
 * queues it durably), else at most one per beacon per health_interval_s,
 * through `emit` (a reading the next one replaces).
 */
#ifndef BGW_BEACON_FLEET_H
#define BGW_BEACON_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beacon_frame.h"
#include "beacon_health.h"
#include "pipeline_config.h"
#include "store_beacons.h"

struct beacon_fleet;

enum beacon_fleet_status {
	BEACON_UNSEEN,       /* not heard yet, still within missing_after_s of start */
	BEACON_OK,
	BEACON_LOW_BATTERY,
	BEACON_MISSING,
};

const char *beacon_fleet_status_name(enum beacon_fleet_status s);

/* change NULL: status changes go to emit too. */
struct beacon_fleet *beacon_fleet_new(const struct pipeline_config *cfg,
				      beacon_health_emit_fn emit, beacon_health_emit_fn change,
				      void *ctx);
void beacon_fleet_free(struct beacon_fleet *f);

/* Replace the registered beacons (readings kept for names that stay). -1 on
 * allocation failure: the old table stays. */
int beacon_fleet_set(struct beacon_fleet *f, const struct store_beacon *v, size_t n);

/* The hot path: true when the frame (heard from addr) is a registered beacon's. */
bool beacon_fleet_ibeacon(struct beacon_fleet *f, const struct bf_ibeacon *b,
			  const uint8_t addr[6], uint8_t addr_type, uint64_t ts_us);
bool beacon_fleet_uid(struct beacon_fleet *f, const struct bf_eddystone_uid *u,
		      const uint8_t addr[6], uint8_t addr_type, uint64_t ts_us);
bool beacon_fleet_url(struct beacon_fleet *f, const struct bf_eddystone_url *u,
		      const uint8_t addr[6], uint8_t addr_type, uint64_t ts_us);
/* A TLM from addr: a registered TLM-only beacon, or the address a registered
 * beacon was heard from. */
bool beacon_fleet_tlm(struct beacon_fleet *f, const struct bf_eddystone_tlm *t,
		      const uint8_t addr[6], uint8_t addr_type, uint64_t ts_us);

/* Time passes: beacons not heard become missing. */
void beacon_fleet_tick(struct beacon_fleet *f, uint64_t now_us);

/* A read-only view of one beacon, for the metrics. */
struct beacon_fleet_entry {
	const char *name, *place, *type;
	enum beacon_fleet_status status;
	uint64_t last_seen_us;       /* 0 = never */
	int battery_mv;              /* -1 = not reported */
	double temperature_c;        /* NAN = not reported */
};
size_t beacon_fleet_count(const struct beacon_fleet *f);
void beacon_fleet_get(const struct beacon_fleet *f, size_t i, struct beacon_fleet_entry *e);

#endif
