/*
 * metrics.h - health metrics for Prometheus, as a file for node_exporter's
 * textfile collector ([metrics] textfile = DIR/beacongw.prom).
 *
 * Why a file and not an HTTP endpoint: a store gateway on a Raspberry Pi
 * usually has node_exporter already (it watches the SD card, temperature
 * and Wi-Fi), so the textfile collector adds our counters to a scrape that
 * exists anyway. The daemon opens no listening socket -- nothing more to
 * firewall, authenticate or parse, and the unit's IPAddressDeny= and
 * RestrictAddressFamilies= hardening stays as tight as it is -- and a
 * stuck loop shows as a stale file (node_textfile_mtime_seconds) rather
 * than a scrape error.
 *
 * The counters are the ones of the MQTT status document (same sources,
 * same meanings), with Prometheus names: beacongw_*_total counters and
 * gauges, each with HELP and TYPE lines; those both publish are declared
 * once, in gateway/delivery/gateway_counts.c. Nothing in them identifies a
 * customer or a device: counts, the version and the gateway's own names.
 */
#ifndef BGW_METRICS_H
#define BGW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct loop;
struct ops_stats;
struct beacon_fleet;

/* One reading of every metric; filled by the daemon (main.c, run.c). */
struct metrics_sample {
	/* identity of this gateway (config names, never a customer's) */
	const char *version, *site, *gateway, *zone;
	bool running;              /* false in the file written at a graceful stop */
	uint64_t uptime_s;
	uint64_t start_time_s;     /* Unix time */
	/* source: HCI events and the scanner watchdog */
	uint64_t hci_events, hci_malformed;
	uint64_t h4_garbage_bytes;  /* H4 stream bytes skipped to resynchronise */
	uint64_t controller_errors; /* failed commands, timeouts, hardware errors */
	uint64_t watchdog_rescans, watchdog_resets;
	/* The status document's reading of the counters: the ones both publish
	 * come from the table of gateway_counts.h; the visits, dwell marks and
	 * tracked devices, the broker connection and [site] (the
	 * beacongw_site_* families, as the status's counts.site) from here too. */
	struct gateway_counters counts;
	bool triggers_held;        /* connected, but the consent sync is not done */
	bool last_error;           /* the status document's last_error is set */
	/* consent state: failed while it cannot be loaded (nobody processed) */
	bool consent_failed;
	const char *consent_failed_kind; /* "limit: ...": the word before ':' is the label */
	uint64_t consent_load_failures;
	/* the operator's view (NULL: not written): footfall of the zone,
	 * triggers per campaign, enrolment and consent, the store's beacons */
	const struct ops_stats *ops;
	const struct beacon_fleet *fleet;
};

/*
 * The sample in the Prometheus text exposition format (version 0.0.4).
 * Returns the length the whole text needs (like snprintf): the text is
 * complete only if that is < n.
 */
size_t metrics_format(const struct metrics_sample *s, char *buf, size_t n);

/*
 * Replace the file at path with text atomically: a temporary file in the
 * same directory, renamed over path, so the collector never reads half a
 * file. Mode 0644 (node_exporter runs as another user). 0, or -1 with a
 * one-line reason in err.
 */
int metrics_write_file(const char *path, const char *text, size_t len, char *err,
		       size_t errlen);

/* The periodic writer on the event loop. */
typedef void (*metrics_fill_cb)(void *ctx, struct metrics_sample *s);
struct metrics;

/* NULL when path is empty (metrics off) or on allocation failure. Writes
 * the first file at once, then every interval_s seconds. */
struct metrics *metrics_new(struct loop *l, const char *path, uint32_t interval_s,
			    metrics_fill_cb fill, void *ctx);
/* Write the final file (running = 0) and stop; NULL is fine. */
void metrics_final(struct metrics *m);
void metrics_free(struct metrics *m);

#endif
