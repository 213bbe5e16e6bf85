/*
 * gateway_counts.c - the table of counters published both in the status
 * document and as metrics (why it has groups: gateway_counts.h).
 *
 * Counters published by only one of the two stay with that output: the
 * status's identifiers_in_store_namespaces and events_before_consent; the
 * metrics' visits, dwell marks, tracked devices, source and watchdog
 * counters, consent load failures. So do the ones that need more than a
 * number: labels, booleans, strings, the site object.
 */
#include "gateway_counts.h"

#include "bgw_util.h"

/* The offset of a uint64_t field; any other type does not compile. */
#define FIELD(f) _Generic(((struct gateway_counters *)0)->f, \
			  uint64_t: offsetof(struct gateway_counters, f))

#define COUNTER(key, name, field, group, help) \
	{ key, "beacongw_" name "_total", GATEWAY_COUNT_COUNTER, help, FIELD(field), \
	  GATEWAY_COUNTS_##group }
#define GAUGE(key, name, field, group, help) \
	{ key, "beacongw_" name, GATEWAY_COUNT_GAUGE, help, FIELD(field), GATEWAY_COUNTS_##group }

const struct gateway_count gateway_counts[] = {
	COUNTER("reports", "reports", reports, REPORTS, "Advertising reports seen."),
	COUNTER("decoded", "reports_decoded", decoded, REPORTS,
		"Advertising reports carrying a beacon frame."),
	COUNTER("consented", "reports_consented", consented, REPORTS,
		"Reports of customers with presence consent."),
	COUNTER("triggers", "triggers", triggers, TRIGGERS,
		"Triggers produced by the campaign rules."),
	COUNTER("triggers_queued", "triggers_queued", triggers_queued, DELIVERY,
		"Triggers accepted by the outbox."),
	COUNTER("triggers_sent", "triggers_sent", triggers_sent, DELIVERY,
		"Triggers acknowledged by the broker."),
	COUNTER("triggers_dropped", "triggers_dropped", triggers_dropped, DELIVERY,
		"Triggers dropped: outbox full, expired, customer forgotten, consent ended, "
		"refused by the broker."),
	COUNTER("triggers_dropped_consent", "triggers_dropped_consent", triggers_dropped_consent,
		DELIVERY,
		"Queued triggers deleted unpublished because the person's consent ended."),
	GAUGE("outbox_depth", "outbox_depth", outbox_depth, OUTBOX,
	      "Triggers waiting for delivery."),
	COUNTER("visits_dropped_consent", "visits_dropped_consent", visits_dropped_consent,
		VISITS_DROPPED,
		"Visit changes not recorded because the person's presence consent ended first."),
	COUNTER("consent_updates_applied", "consent_updates_applied", consent_applied, BROKER,
		"Signed consent updates applied."),
	COUNTER("consent_updates_rejected", "consent_updates_rejected", consent_rejected, BROKER,
		"Consent updates rejected."),
	COUNTER("reconnects", "mqtt_reconnects", reconnects, BROKER,
		"Broker connections made after the first."),
	COUNTER("consent_sync_timeouts", "consent_sync_timeouts", consent_sync_timeouts, SYNC,
		"Consent sync markers that did not come back in time (another was sent)."),
	COUNTER("irk_lookups", "irk_lookups", irk_lookups, IRK,
		"Reports from resolvable private addresses looked up."),
	COUNTER("irk_cache_hits", "irk_cache_hits", irk_cache_hits, IRK,
		"RPA look-ups answered by the result cache (no search)."),
	COUNTER("irk_resolved", "irk_resolved", irk_resolved, IRK,
		"RPA look-ups that found an enrolled IRK."),
	COUNTER("irk_worker_searches", "irk_worker_searches", irk_worker_searches, IRK,
		"IRK searches run by the worker threads (irk_threads)."),
	COUNTER("irk_parked", "irk_parked", irk_parked, IRK,
		"Reports that waited for a worker's IRK search."),
	COUNTER("irk_inline_searches", "irk_inline_searches", irk_inline_searches, IRK,
		"IRK searches run on the event loop because every worker slot was busy."),
	GAUGE("irk_cache_capacity", "irk_cache_entries", irk_cache_capacity, IRK,
	      "Entries the RPA result cache has grown to (bounded by [identity] irk_cache_size)."),
};

const size_t gateway_counts_n = BGW_ARRAY_SIZE(gateway_counts);
