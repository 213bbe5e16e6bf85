/*
 * status.h - the retained status document on <prefix>/<site>/<gateway>/status
 * (schema: docs/schema/status.schema.json), and the one reading of the
 * gateway's counters it is made from.
 *
 * The same struct gateway_counters also fills the health metrics (the
 * daemon's metrics.c), so the two can never disagree: the delivery part
 * (publisher_counters(): outbox, MQTT, consent updates) and the daemon's
 * part (source, pipeline, its own last error) are each filled in one place.
 * A plain counter both publish is declared once, in gateway_counts.c: its
 * status key, metric name and HELP text.
 */
#ifndef BGW_STATUS_H
#define BGW_STATUS_H

#include <stdbool.h>
#include <stdint.h>

struct delivery_config;

/* The "schema" field of the document, as triggers and beacons carry it. */
#define STATUS_SCHEMA_VERSION 1

struct gateway_counters {
	/* the daemon's part; strings may be NULL (left out / null) */
	const char *source;        /* e.g. "hci:hci0" */
	const char *adapter;       /* e.g. "scanning", "resetting", "down" */
	uint64_t reports;          /* advertising reports seen */
	uint64_t decoded;          /* ... with a beacon frame */
	uint64_t consented;        /* ... of a customer with presence consent */
	uint64_t triggers;         /* triggers the campaign rules produced */
	uint64_t visits_entered, visits_exited, dwell_events;
	uint64_t tracked_devices;
	uint64_t store_namespace_ids; /* customer identifiers inside a store beacon namespace */
	uint64_t before_consent;   /* sightings of enrolled customers before their consent began */
	/* Resolvable private addresses (issue 20, docs/capacity.md): reports
	 * of RPAs looked up, answered by the result cache, resolved to an
	 * enrolled IRK; with irk_threads, searches done by the workers,
	 * reports that waited for one, searches done inline (all slots busy);
	 * and the size the result cache has grown to. */
	uint64_t irk_lookups, irk_cache_hits, irk_resolved;
	uint64_t irk_worker_searches, irk_parked, irk_inline_searches;
	uint64_t irk_cache_capacity;
	/* the delivery part */
	uint64_t triggers_queued, triggers_sent;
	uint64_t triggers_dropped;  /* outbox bound, expiry, forgotten customer, consent ended,
	                             * broker refusal */
	uint64_t triggers_dropped_consent; /* ... of those: consent ended before publication */
	uint64_t outbox_depth;      /* committed and still waiting in memory */
	uint64_t visits_dropped_consent; /* visit changes not recorded: presence consent ended
	                                  * between the sighting and the commit */
	/* "ok", or "failed" while the consent state cannot be loaded: then
	 * nobody's visits or triggers are processed, and consent_reason says
	 * why. NULL = not reported. */
	const char *consent_state;
	const char *consent_reason;
	uint64_t consent_applied, consent_rejected;
	/* Following a consent authority, a fleet's hub (consent_head.h) or a
	 * backend's signed updates (consent_update.h): the sequence held,
	 * whether it is current (no gap, a fresh head), seconds since the
	 * matched head was issued (-1: none, or no head on that channel). */
	bool authority;
	int64_t consent_seq;
	bool consent_current;
	int64_t consent_age_s;
	uint64_t reconnects;
	/* Consent sync after a connect: "syncing", "applying", "synced"; NULL
	 * = not connected or no consent updates. */
	const char *consent_sync;
	uint64_t consent_sync_timeouts;
	/* [site] enabled (docs/site.md): the status document's counts.site. */
	bool site;
	struct site_counters {
		uint32_t peers_alive;       /* peers heard within peer_timeout_s */
		bool split;                 /* a peer went silent or the broker is away */
		uint64_t summaries_sent, summaries_received;
		uint64_t summaries_rejected; /* did not parse, or a peer beyond the bound */
		uint64_t entries_rejected;  /* customer entries of summaries that did not parse */
		uint64_t entries_ignored;   /* ... of customers unknown or without presence consent here */
		uint64_t claims, releases;  /* shoppers taken / let go by this gateway */
		uint64_t handovers;         /* taken from a holder this gateway beat */
		uint64_t handed_over;       /* let go to a peer that beat this gateway */
		uint64_t takeovers;         /* taken from a peer that went silent or let go */
		uint64_t conflicts;         /* let go: a peer claimed at the same time */
		uint64_t peer_triggers_applied, peer_triggers_duplicate, peer_triggers_rejected;
	} site_counts;
	int protocol;               /* 5 or 4 (3.1.1), 0 = not connected */
	bool connected;
	/* The daemon's last error, else the database's, else the broker's; NULL = none. */
	const char *last_error;
};

/*
 * Build the status JSON (caller frees with free()). online=false is the
 * graceful-stop document; reason says why ("shutdown", "connection lost").
 * c NULL: the last will, without counts; its "ts" is null and "connected_at"
 * says when the connection began (the broker sends it later). NULL on allocation
 * failure.
 */
char *status_json(const struct delivery_config *cfg, bool online, const char *reason,
		  uint64_t uptime_s, const struct gateway_counters *c);

#endif
