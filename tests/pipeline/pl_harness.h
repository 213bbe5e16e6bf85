/*
 * pl_harness.h - drives a real pipeline with advertising reports encoded
 * by the shared codec, and records everything that leaves it.
 */
#ifndef BGW_PL_HARNESS_H
#define BGW_PL_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "beacon_frame.h"
#include "pipeline.h"
#include "pipeline_config.h"

#define S(x) ((uint64_t)(x) * 1000000ull)

struct harness {
	struct pipeline *p;
	/* Everything any callback produced, as text, for canary searches. */
	char *out;
	size_t out_len, out_cap;
	int visits[3], triggers, footfalls, health;
	char last_trigger[2048], last_footfall[1024], last_health[1024];
	char trigger_events[64][16];   /* event of each trigger, in order */
	char trigger_campaigns[64][64];
};

void harness_init(struct harness *h, const struct pipeline_config *cfg);
void harness_fini(struct harness *h);

/* One report carrying frame f (NULL: flags only, e.g. a phone). */
void harness_report(struct harness *h, uint64_t ts_us, const uint8_t addr[6], uint8_t addr_type,
		    int8_t rssi, const struct bf_frame *f);

/* Report every second from t0 to t1 (exclusive) with a tick after each. */
void harness_walk(struct harness *h, uint64_t t0_s, uint64_t t1_s, const uint8_t addr[6],
		  int8_t rssi, const struct bf_frame *f);

struct bf_frame frame_ibeacon(const uint8_t uuid[16], uint16_t major, uint16_t minor);

#endif
