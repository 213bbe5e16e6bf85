/*
 * status.h - the retained status document on <prefix>/<site>/<gateway>/status
 * (schema: docs/schema/status.schema.json).
 *
 * The daemon fills struct status_counters from its own parts (source,
 * pipeline); the delivery part adds its own counts (outbox, MQTT, consent).
 */
#ifndef BGW_STATUS_H
#define BGW_STATUS_H

#include <stdbool.h>
#include <stdint.h>

struct delivery_config;

/* Filled by the daemon. Strings may be NULL (left out / null). */
struct status_counters {
	const char *source;        /* e.g. "hci:hci0" */
	const char *adapter;       /* e.g. "scanning", "resetting", "down" */
	uint64_t reports;          /* advertising reports seen */
	uint64_t decoded;          /* ... with a beacon frame */
	uint64_t consented;        /* ... of a customer with presence consent */
	uint64_t triggers;         /* triggers the campaign rules produced */
	const char *last_error;    /* the daemon's last error, NULL = none */
	/* "ok", or "failed" while the consent state cannot be loaded: then
	 * nobody's visits or triggers are processed, and consent_reason says
	 * why. NULL = not reported. */
	const char *consent_state;
	const char *consent_reason;
};

/* Filled by the delivery part. */
struct status_delivery {
	uint64_t queued, sent, dropped, depth;
	uint64_t consent_applied, consent_rejected;
	int protocol;              /* 5 or 4 (3.1.1), 0 = not connected */
	uint64_t reconnects;
	const char *last_error;    /* delivery's last error, NULL = none */
};

/*
 * Build the status JSON (caller frees with free()). online=false is the
 * graceful-stop document; reason says why ("shutdown", "connection lost").
 * NULL on allocation failure.
 */
char *status_json(const struct delivery_config *cfg, bool online, const char *reason,
		  uint64_t uptime_s, const struct status_counters *c,
		  const struct status_delivery *d);

#endif
