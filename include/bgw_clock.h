/*
 * bgw_clock.h - the two clocks of the gateway, in microseconds.
 *
 * Monotonic for intervals and deadlines (immune to NTP steps); the wall
 * clock for times that leave the process: live packets, triggers, visits,
 * captures. Header-only: every part of the gateway needs them, none owns
 * them.
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

#endif
