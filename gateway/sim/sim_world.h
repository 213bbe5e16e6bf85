/*
 * sim_world.h - the scenario engine: plays a scenario as a time-ordered
 * stream of events (advertisements that reach the gateway's antenna, and
 * scheduled faults), independent of how they are delivered (live H4
 * socket or btsnoop file).
 *
 * Deterministic: the same scenario, seed and start time give the same
 * events, byte for byte. Each device draws from its own random stream.
 */
#ifndef BGW_SIM_WORLD_H
#define BGW_SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "adv_report.h"
#include "beacon_frame.h"
#include "eddystone_eid.h"
#include "scenario.h"

/* One advertisement as received by the gateway's controller. */
struct sim_adv {
	uint8_t addr[6];         /* wire order */
	uint8_t addr_type;       /* ADV_ADDR_PUBLIC or ADV_ADDR_RANDOM */
	int8_t rssi;
	bool legacy;             /* legacy PDU (else extended, reported only by extended scans) */
	enum adv_kind kind;      /* legacy PDU type; ADV_KIND_EXT for extended */
	uint8_t sid;             /* extended: advertising set id */
	uint16_t len;
	uint8_t data[BF_EXT_ADV_MAX];
	const char *device;      /* tag or crowd name (never sent; for logs and tests) */
};

enum sim_event_kind {
	SIM_EV_NONE,             /* nothing up to the time asked for */
	SIM_EV_ADV,
	SIM_EV_FAULT,
	SIM_EV_END,              /* the scenario's duration has passed */
};

struct sim_event {
	enum sim_event_kind kind;
	uint64_t t_us;           /* scenario time */
	struct sim_adv adv;      /* SIM_EV_ADV */
	const struct scn_fault *fault; /* SIM_EV_FAULT */
};

struct sim_world_stats {
	uint64_t advertisements; /* sent by devices in the store */
	uint64_t delivered;      /* returned as SIM_EV_ADV */
	uint64_t below_sensitivity;
	uint64_t silenced;
};

struct sim_world;

/*
 * The scenario must outlive the world. duration_us 0 means the scenario's.
 * start_time is the Unix time of scenario time 0 (Eddystone-EID counters).
 * NULL on allocation failure.
 */
struct sim_world *sim_world_new(const struct scenario *s, uint64_t seed, int64_t start_time,
				uint64_t duration_us, eid_aes128_fn aes);
void sim_world_free(struct sim_world *w);

/* Scenario time of the next event; UINT64_MAX after SIM_EV_END was returned. */
uint64_t sim_world_peek(const struct sim_world *w);

/*
 * The next event at or before scenario time until_us, in time order (ties:
 * faults first, then by device); SIM_EV_NONE when there is none so far
 * (advertisements that nobody receives are consumed on the way). After
 * SIM_EV_END it keeps returning SIM_EV_END. Pass UINT64_MAX to run ahead.
 */
void sim_world_next(struct sim_world *w, uint64_t until_us, struct sim_event *ev);

void sim_world_stats(const struct sim_world *w, struct sim_world_stats *st);

/* Distance in metres of a tag from the gateway at time t along its path
 * (linear between waypoints), or a negative value when the tag is not in
 * the store at t (before its first or after its last waypoint). */
double sim_world_path_distance(const struct scn_tag *tag, uint64_t t_us);

#endif
