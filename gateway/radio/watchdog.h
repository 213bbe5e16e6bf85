/*
 * watchdog.h - the scanner watchdog: notices a controller that went quiet
 * or keeps failing, and escalates one step at a time:
 *
 *   1. re-enable the scan            (rescan_tries times)
 *   2. reset and set up the controller again  (reset_tries times)
 *   3. exit with status 69 so systemd restarts the daemon
 *
 * "Quiet" means no advertising report for silence_s seconds while the
 * watchdog is armed (the source is up and we want to scan: during setup as
 * well, so a controller stuck half-way is caught too). A report proves the
 * scanner healthy and puts the ladder back to step 1. Errors count in a
 * row; error_limit of them, or one severe error (a failed setup, a
 * Hardware Error), take one step at once.
 *
 * Pure logic with the time passed in: main.c performs the actions.
 */
#ifndef BGW_WATCHDOG_H
#define BGW_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

enum watchdog_action {
	WD_NONE = 0,
	WD_RESCAN,    /* disable and enable the scan */
	WD_RESET,     /* reset the controller and run the setup again */
	WD_EXIT,      /* give up: exit(69) */
};

struct watchdog_settings {
	uint32_t silence_s;       /* 0 = silence never triggers */
	uint32_t rescan_tries;
	uint32_t reset_tries;
	uint32_t error_limit;     /* >= 1 */
};

struct watchdog_stats {
	uint64_t silences;        /* steps taken because of silence */
	uint64_t error_steps;     /* steps taken because of errors */
	uint64_t errors;          /* errors reported */
	uint64_t rescans, resets, exits;
};

struct watchdog {
	struct watchdog_settings set;
	bool armed;
	uint64_t quiet_since_ms;  /* last report, arming or step */
	uint32_t level;           /* steps taken since the last report */
	uint32_t errors_in_row;
	struct watchdog_stats stats;
};

void watchdog_init(struct watchdog *w, const struct watchdog_settings *s);

/* Arm when the source is up and scanning is wanted; disarm otherwise. */
void watchdog_arm(struct watchdog *w, bool armed, uint64_t now_ms);

/* An advertising report arrived. */
void watchdog_report(struct watchdog *w, uint64_t now_ms);

enum watchdog_severity {
	WD_ERR_MINOR,     /* counts towards error_limit */
	WD_ERR_FAILED,    /* the controller stopped (failed setup): one step at once */
	WD_ERR_HARDWARE,  /* Hardware Error: straight to the reset rung */
};

/* A controller error. */
enum watchdog_action watchdog_error(struct watchdog *w, enum watchdog_severity sev,
				    uint64_t now_ms);

/* Check for silence (call every second or so). */
enum watchdog_action watchdog_tick(struct watchdog *w, uint64_t now_ms);

const char *watchdog_action_name(enum watchdog_action a);

#endif
