/*
 * scanner.h - the HCI side of the daemon, wired into the event loop:
 * source -> HCI event parser -> advertising reports, with the controller
 * driver and the scanner watchdog on live sources.
 *
 * It registers the source's fd (or a timer for replays and reconnection
 * attempts) and a housekeeping timer with the loop; the owner receives
 * reports, the capture clock, and the end of a finite source.
 */
#ifndef BGW_SCANNER_H
#define BGW_SCANNER_H

#include <stdbool.h>
#include <stdint.h>

#include "adv_report.h"
#include "controller.h"
#include "source.h"
#include "watchdog.h"

struct loop;
struct scanner;

/* Whether the scanner resets the controller before it configures it. */
enum scanner_reset { SCANNER_RESET_AUTO = 0, SCANNER_RESET_ON, SCANNER_RESET_OFF };

/* What the radio driver needs to know of the configuration, and no more. */
struct scanner_settings {
	bool active;                     /* active scanning (scan requests) */
	uint32_t interval_ms, window_ms;
	enum controller_ext extended;    /* extended advertising commands */
	enum scanner_reset reset;        /* auto: reset the controllers we own (h4) */
	uint32_t command_timeout_ms;
	struct watchdog_settings watchdog;
};

struct scanner_callbacks {
	void *ctx;
	/* One advertising report (the hot path: no allocation, no logging of it). */
	void (*report)(void *ctx, const struct adv_report *r);
	/* The source's time moved on (every packet; µs since the epoch). May be NULL. */
	void (*clock)(void *ctx, uint64_t ts_us);
	/* The scanner is finished: end of a finite source (status 0), a damaged
	 * capture (65), or the watchdog gave up / the source failed (69). */
	void (*finished)(void *ctx, int status);
	/* Stop completed (scan disabled, or nothing to disable). May be NULL. */
	void (*stopped)(void *ctx);
};

struct scanner_stats {
	uint64_t packets;
	uint64_t reports;
	uint64_t link_drops;
};

struct scanner *scanner_new(struct loop *l, const struct scanner_settings *set,
			    const struct source_spec *spec, bool realtime,
			    const struct scanner_callbacks *cb);
void scanner_free(struct scanner *s);

/* Open the source and start (controller setup on live sources). 0, or the
 * exit status to use (65 bad capture, 69 unavailable) with err filled. */
int scanner_start(struct scanner *s, char *err, size_t errlen);

/* Disable the scan if we enabled it; cb.stopped runs when done (at once, or
 * after the controller answered, or after the command timeout). */
void scanner_stop(struct scanner *s);

bool scanner_is_finite(const struct scanner *s);
const char *scanner_source_name(const struct scanner *s);
const struct scanner_stats *scanner_get_stats(const struct scanner *s);
const struct controller_stats *scanner_controller_stats(const struct scanner *s);
const struct watchdog_stats *scanner_watchdog_stats(const struct scanner *s);
const struct hci_event_stats *scanner_parser_stats(const struct scanner *s);
uint64_t scanner_garbage_bytes(const struct scanner *s);
enum controller_state scanner_controller_state(const struct scanner *s);

#endif
