/*
 * watchdog.c - escalation ladder of the scanner watchdog.
 */
#include "watchdog.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

const char *watchdog_action_name(enum watchdog_action a)
{
	switch (a) {
	case WD_NONE: return "none";
	case WD_RESCAN: return "re-enable the scan";
	case WD_RESET: return "reset the controller";
	case WD_EXIT: return "exit for a restart";
	}
	return "?";
}

void watchdog_init(struct watchdog *w, const struct watchdog_settings *s)
{
	memset(w, 0, sizeof(*w));
	w->set = *s;
	if (w->set.error_limit == 0)
		w->set.error_limit = 1;
}

void watchdog_arm(struct watchdog *w, bool armed, uint64_t now_ms)
{
	if (armed && !w->armed)
		w->quiet_since_ms = now_ms;
	w->armed = armed;
}

void watchdog_report(struct watchdog *w, uint64_t now_ms)
{
	w->quiet_since_ms = now_ms;
	if (w->level || w->errors_in_row)
		log_debug("watchdog: reports flow again");
	w->level = 0;
	w->errors_in_row = 0;
}

/* The next rung of the ladder; counts it and restarts the quiet period. */
static enum watchdog_action step(struct watchdog *w, const char *why, uint64_t now_ms)
{
	enum watchdog_action a;
	uint32_t n;

	w->level++;
	w->quiet_since_ms = now_ms;
	w->errors_in_row = 0;
	if (w->level <= w->set.rescan_tries) {
		a = WD_RESCAN;
		n = w->level;
		w->stats.rescans++;
		log_warn("watchdog: %s: re-enabling the scan (%u of %u)", why, n,
			 w->set.rescan_tries);
	} else if (w->level <= w->set.rescan_tries + w->set.reset_tries) {
		a = WD_RESET;
		n = w->level - w->set.rescan_tries;
		w->stats.resets++;
		log_warn("watchdog: %s: resetting the controller (%u of %u)", why, n,
			 w->set.reset_tries);
	} else {
		a = WD_EXIT;
		w->stats.exits++;
		log_err("watchdog: %s: giving up, exiting for a restart", why);
	}
	return a;
}

enum watchdog_action watchdog_error(struct watchdog *w, enum watchdog_severity sev,
				    uint64_t now_ms)
{
	w->stats.errors++;
	if (sev == WD_ERR_MINOR && ++w->errors_in_row < w->set.error_limit)
		return WD_NONE;
	w->stats.error_steps++;
	/* The spec's answer to a Hardware Error is a reset: re-enabling the scan won't do. */
	if (sev == WD_ERR_HARDWARE && w->level < w->set.rescan_tries)
		w->level = w->set.rescan_tries;
	return step(w,
		    sev == WD_ERR_HARDWARE ? "hardware error"
		    : sev == WD_ERR_FAILED ? "controller failed"
					   : "repeated controller errors",
		    now_ms);
}

enum watchdog_action watchdog_tick(struct watchdog *w, uint64_t now_ms)
{
	char why[64];

	if (!w->armed || !w->set.silence_s || now_ms < w->quiet_since_ms ||
	    now_ms - w->quiet_since_ms < (uint64_t)w->set.silence_s * 1000u)
		return WD_NONE;
	w->stats.silences++;
	snprintf(why, sizeof(why), "no advertising report for %u s", w->set.silence_s);
	return step(w, why, now_ms);
}
