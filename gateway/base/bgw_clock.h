/*
 * bgw_clock.h - the two clocks of the gateway, and the unit conversions.
 *
 * Monotonic for intervals and deadlines (immune to NTP steps); the wall
 * clock for times that leave the process: live packets, triggers, visits,
 * captures. Everything in the gateway reads time through these (the event
 * loop and the logger included), so a test or a replay has one place to
 * look. Header-only: every part of the gateway needs them, none owns them.
 */
#ifndef BGW_CLOCK_H
#define BGW_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t bgw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t bgw_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#define BGW_US_PER_MS 1000u
#define BGW_US_PER_S 1000000u
#define BGW_MS_PER_S 1000u

static inline uint64_t bgw_mono_ms(void) { return bgw_mono_us() / BGW_US_PER_MS; }

/* Whole seconds of a microsecond time (UNIX seconds for a wall time). */
static inline int64_t bgw_us_to_s(uint64_t us) { return (int64_t)(us / BGW_US_PER_S); }

static inline uint64_t bgw_s_to_us(uint64_t s) { return s * BGW_US_PER_S; }

#endif
