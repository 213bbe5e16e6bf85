/*
 * pipeline.h - the gateway's data path after the HCI parser:
 *
 *   advertising report -> frame decode -> identity -> consent gate
 *       -> (no consent) anonymous footfall sketch
 *       -> (presence)   presence tracker -> visit events
 *       -> (retargeting) campaign rules -> triggers
 *
 * Pure in-memory and single-threaded: no SQL, no I/O and no allocation per
 * advertising report. The daemon supplies a snapshot of the consent store
 * (replaced whenever the database changes) and callbacks that persist
 * visits and hand triggers to the durable outbox.
 *
 * Time: every call carries the time it stands for (µs since the Unix
 * epoch). Live sources pass the wall clock, replays the capture's clock,
 * so a replay behaves as the recording did.
 */
#ifndef BGW_PIPELINE_H
#define BGW_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "adv_report.h"
#include "snapshot.h"

struct pipeline;
struct pipeline_config;   /* defined in pipeline_config.h */

enum visit_event_kind { VISIT_ENTER = 0, VISIT_DWELL = 1, VISIT_EXIT = 2 };

/* A consented customer's presence changed (needs `presence` consent). */
struct visit_event {
	enum visit_event_kind kind;
	uint64_t ts_us;
	uint64_t visit_started_us;
	uint32_t dwell_s;          /* time in zone so far (at exit: the whole visit) */
	const struct snap_customer *customer;
	int64_t customer_id;       /* customers.id */
	const char *customer_ref;  /* the CRM's opaque id, from the snapshot's strings */
	const char *zone;
	float rssi_filtered;       /* dBm */
	float rssi_peak;           /* dBm, the highest level of the visit so far */
	float proximity_m;         /* estimate from the frame's calibrated power */
	bool rssi_known;           /* false: the controller never reported an RSSI for
	                            * this visit, so rssi and proximity say nothing */
};

/* A campaign matched: the trigger as the documented JSON payload. */
struct trigger {
	char id[40];               /* unique: a UUIDv7 (time-ordered), as text */
	uint64_t ts_us;
	const struct snap_customer *customer;
	int64_t customer_id;       /* customers.id */
	const char *customer_ref;
	const struct snap_campaign *campaign;
	const char *json;          /* NUL-terminated payload, valid during the callback */
};

struct pipeline_callbacks {
	void *ctx;
	void (*visit)(void *ctx, const struct visit_event *ev);
	void (*trigger)(void *ctx, const struct trigger *t);
	/* Anonymous aggregate: distinct non-consented devices in a zone and period. */
	void (*footfall)(void *ctx, const char *json);
	/* Health of a fixed store beacon (Eddystone-TLM), rate-limited per beacon. */
	void (*beacon_health)(void *ctx, const char *json);
	/* A registered store beacon's status changed (ok, low battery, missing):
	 * an alert, unlike the periodic readings above. NULL: beacon_health. */
	void (*beacon_change)(void *ctx, const char *json);
};

struct pipeline_stats {
	uint64_t reports;          /* advertising reports seen */
	uint64_t decoded;          /* reports with at least one beacon frame */
	uint64_t identified;       /* reports that resolved to an enrolled customer */
	uint64_t consented;        /* ... with presence consent in force */
	uint64_t visits_entered, visits_exited, dwell_events;
	uint64_t triggers;
	uint64_t tracked_devices;  /* current */
	uint64_t evicted;          /* tracked devices dropped to stay within bounds */
	uint64_t no_consent;       /* identified reports dropped for lack of presence consent */
	uint64_t footfall_counted; /* reports that went into the anonymous sketch */
	uint64_t footfall_published, footfall_suppressed; /* periods above / below the minimum */
	/* Sightings of an enrolled customer before their presence consent began
	 * (a replayed capture older than the consents): consent is judged at
	 * the time of each event, so these make no visit. */
	uint64_t before_consent;
	uint64_t beacon_health;    /* health messages emitted */
	uint64_t etlm_decrypted, etlm_failed;
	uint64_t irk_lookups, irk_cache_hits, irk_resolved;
	uint32_t irk_cache_capacity;  /* entries the result cache has grown to */
	/* With irk_threads: searches handed to workers, reports that waited
	 * for one, and searches done inline because every slot was busy. */
	uint64_t irk_async_searches, irk_parked, irk_inline_searches;
	uint64_t eid_computed;     /* EIDs computed as rotation periods passed */
	uint64_t snapshots;        /* snapshots taken */
};

/* cfg is copied; callbacks are kept. NULL on allocation failure. */
struct pipeline *pipeline_new(const struct pipeline_config *cfg, const struct pipeline_callbacks *cb);
void pipeline_free(struct pipeline *p);

/* Take ownership of a new consent snapshot and free the old one at once:
 * tracked devices refer to customers by id, never by pointer, so open
 * visits of customers who are still enrolled survive the swap. */
void pipeline_set_snapshot(struct pipeline *p, struct snapshot *s);

/* Free the snapshot and its indexes before the next one is read (the pipeline
 * is then as before its first snapshot: it recognises nobody), so that a
 * reload holds one snapshot and one set of indexes at its peak instead of
 * two. Tracked devices and their open visits stay: pipeline_set_snapshot()
 * finds their customers in the new snapshot as it would have. Only for a
 * caller that processes no report until it sets a snapshot again (a failed
 * load sets the empty one). */
void pipeline_release_snapshot(struct pipeline *p);

/* One advertising report: the hot path. */
void pipeline_report(struct pipeline *p, const struct adv_report *r);

/* Advance time with no report: absences become exits, dwell marks fire,
 * footfall periods close, the EID table rolls over. Call at least once a
 * second (live) or with each replayed timestamp. */
void pipeline_tick(struct pipeline *p, uint64_t now_us);

/* End of a finite source or a graceful stop: close every open visit. */
void pipeline_flush(struct pipeline *p, uint64_t now_us);

const struct pipeline_stats *pipeline_get_stats(const struct pipeline *p);

/*
 * May a trigger already queued for customer_id (customers.id) be published
 * at now_s, according to the snapshot in use? The customer is still
 * enrolled, still has an identifier, and presence and retargeting are in
 * force at now_s (withdrawals and expiries honoured to the second). No SQL,
 * no allocation: one probe of the id-ordered customer array (ids are
 * SQLite rowids, so mostly dense), a binary search when the probe misses,
 * and one bit of a per-snapshot table. false without a snapshot.
 */
bool pipeline_trigger_allowed(const struct pipeline *p, int64_t customer_id, int64_t now_s);

/*
 * The same, and every channel in names[0..n) is still among the channels
 * the person's retargeting consent grants (a trigger decided for "sms" must
 * not leave after the person narrowed the grant to "email").
 */
bool pipeline_trigger_channels_allowed(const struct pipeline *p, int64_t customer_id,
				       int64_t now_s, const char *const *names, size_t n);

/* The store's registered beacons (from the store_beacons table), replaced
 * as a whole; each keeps its readings by name. -1 on allocation failure. */
struct store_beacon;
struct beacon_fleet;
int pipeline_set_store_beacons(struct pipeline *p, const struct store_beacon *v, size_t n);
const struct beacon_fleet *pipeline_beacon_fleet(const struct pipeline *p);

/* The same for a queued visit: enrolled, with presence consent at now_s. */
bool pipeline_visit_allowed(const struct pipeline *p, int64_t customer_id, int64_t now_s);

/* ---- several gateways of one site ([site] enabled; docs/site.md) ---- */

struct pipeline_site_stats {
	uint64_t summaries;        /* summaries built for the peers */
	uint64_t peer_summaries;   /* peers' summaries taken */
	uint64_t peer_customers;   /* customer entries in them taken */
	uint64_t peer_ignored;     /* ... ignored: not enrolled here, or no presence consent here */
	uint64_t peer_bad;         /* peers' messages that did not parse (dropped, counted) */
	uint64_t peer_summaries_bad;   /* ... of those: summaries (no customers array) */
	uint64_t peer_entries_bad;     /* summary entries that did not parse (skipped) */
	uint64_t peer_summaries_dropped; /* summaries of a peer beyond SITE_PEERS_MAX */
	uint64_t peer_triggers;    /* peers' triggers counted toward caps */
	uint64_t peer_duplicates;  /* ... seen before (at-least-once delivery) */
	uint64_t peer_triggers_bad;    /* peers' triggers that did not parse (not counted) */
	uint64_t claims, releases, takeovers, conflicts;
	uint64_t handovers;        /* taken from a holder this gateway beat */
	uint64_t handed_over;      /* let go to a peer that beat this gateway */
	uint32_t peers_alive;
	bool split;                /* a peer went silent or the broker is away */
};

/* What this gateway hears of presence-consented shoppers now, as the JSON
 * summary for its peers (docs/schema/site-presence.schema.json); free with
 * free(). NULL when the site is off or out of memory. */
char *pipeline_site_summary(struct pipeline *p, uint64_t now_us);

/* A peer's summary / a peer's trigger (its own topic, gateway from the
 * topic). 0, or -1 for a message that does not parse (counted). Peers'
 * entries for customers this gateway does not know, or who have no
 * presence consent in its snapshot, are ignored. */
int pipeline_site_peer(struct pipeline *p, const char *gateway, const void *json, size_t len,
		       uint64_t now_us);
/* A peer's trigger counted toward caps (pipeline_site_trigger() returned 1). */
struct pipeline_peer_trigger {
	char id[64];
	int64_t customer_id;
	int64_t campaign_id;       /* 0: a campaign this gateway does not have */
	int64_t at_s;
};
/* 1 when counted (*out filled, for the trigger log), 0 when not (own,
 * duplicate, unknown customer), -1 when it does not parse. */
int pipeline_site_trigger(struct pipeline *p, const char *gateway, const void *json, size_t len,
			  struct pipeline_peer_trigger *out);

/* Did this gateway take or let go a shopper since the last call? Then its
 * next summary is due at once: the old holder's visit runs until it reads
 * the claim, and a peer about to take a shopper over must know it is free. */
bool pipeline_site_summary_due(struct pipeline *p);

/* The broker connection came or went: without it the site counts as split. */
void pipeline_site_broker(struct pipeline *p, bool connected);

/* Does this gateway hold the customer (always true with the site off)? */
bool pipeline_site_holds(const struct pipeline *p, int64_t customer_id);

const struct pipeline_site_stats *pipeline_site_get_stats(struct pipeline *p);

/* The snapshot in use (NULL before the first one). */
const struct snapshot *pipeline_get_snapshot(const struct pipeline *p);

#endif
