/*
 * sim_run.h - what one beaconsim invocation was asked to do, and the two
 * ways of doing it: live (an H4 controller on a socket, in real time
 * scaled by --speed) and offline (the whole scenario into a btsnoop file
 * with simulated timestamps, as fast as possible).
 */
#ifndef BGW_SIM_RUN_H
#define BGW_SIM_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bgw_clock.h"
#include "bgw_exit.h"
#include "scenario.h"

struct sim_run {
	const char *listen;        /* unix:PATH or tcp:HOST:PORT; NULL = offline */
	const char *scenario_path;
	const char *btsnoop_path;  /* NULL = none */
	uint64_t seed;             /* resolved: --seed, else the scenario's, else 1 */
	double speed;              /* simulated seconds per real second */
	bool once;                 /* live: exit when the scenario ends */
	uint64_t duration_us;      /* resolved: --duration, else the scenario's */
	int64_t start_time;        /* Unix time of scenario time 0 */
	bool start_time_given;     /* --start-time or the scenario's (else: wall clock) */
	bool extended;             /* offline: extended reports */
	const struct scenario *scn;
};

/* Both return a process exit code. */
int sim_run_live(const struct sim_run *run);
int sim_run_offline(const struct sim_run *run);

/* Unix time in µs of scenario time t (for btsnoop records). */
static inline uint64_t sim_run_wall_us(const struct sim_run *run, uint64_t t_us)
{
	return (uint64_t)run->start_time * BGW_US_PER_S + t_us;
}

#endif
