#include "status.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <time.h>

#include "delivery_config.h"

#ifndef BGW_VERSION
#define BGW_VERSION "unknown"
#endif

static void add_time(cJSON *o, const char *name)
{
	char buf[32];
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, name, buf);
}

static void add_str_or_null(cJSON *o, const char *name, const char *s)
{
	if (s && s[0])
		cJSON_AddStringToObject(o, name, s);
	else
		cJSON_AddNullToObject(o, name);
}

/* counts.site: the top-level "site" is the site's name. */
static void add_site(cJSON *counts, const struct site_counters *s)
{
	cJSON *o = cJSON_AddObjectToObject(counts, "site");

	if (!o)
		return;
	cJSON_AddNumberToObject(o, "peers_alive", s->peers_alive);
	cJSON_AddBoolToObject(o, "split", s->split);
	cJSON_AddNumberToObject(o, "summaries_sent", (double)s->summaries_sent);
	cJSON_AddNumberToObject(o, "summaries_received", (double)s->summaries_received);
	cJSON_AddNumberToObject(o, "summaries_rejected", (double)s->summaries_rejected);
	cJSON_AddNumberToObject(o, "entries_rejected", (double)s->entries_rejected);
	cJSON_AddNumberToObject(o, "entries_ignored", (double)s->entries_ignored);
	cJSON_AddNumberToObject(o, "claims", (double)s->claims);
	cJSON_AddNumberToObject(o, "releases", (double)s->releases);
	cJSON_AddNumberToObject(o, "handovers", (double)s->handovers);
	cJSON_AddNumberToObject(o, "handed_over", (double)s->handed_over);
	cJSON_AddNumberToObject(o, "takeovers", (double)s->takeovers);
	cJSON_AddNumberToObject(o, "conflicts", (double)s->conflicts);
	cJSON_AddNumberToObject(o, "peer_triggers_applied", (double)s->peer_triggers_applied);
	cJSON_AddNumberToObject(o, "peer_triggers_duplicate",
				(double)s->peer_triggers_duplicate);
	cJSON_AddNumberToObject(o, "peer_triggers_rejected", (double)s->peer_triggers_rejected);
}

char *status_json(const struct delivery_config *cfg, bool online, const char *reason,
		  uint64_t uptime_s, const struct gateway_counters *c)
{
	cJSON *o = cJSON_CreateObject(), *counts;
	char *s = NULL;
	int protocol = c && online ? c->protocol : 0;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "schema", STATUS_SCHEMA_VERSION);
	cJSON_AddBoolToObject(o, "online", online);
	cJSON_AddStringToObject(o, "site", cfg->site);
	cJSON_AddStringToObject(o, "gateway", cfg->gateway);
	cJSON_AddStringToObject(o, "version", BGW_VERSION);
	if (c) {
		add_time(o, "ts");
	} else {
		/* The last will: set at connect, published by the broker whenever
		 * the connection dies. Its build time is not the time of the loss,
		 * so it says when the lost connection began instead; the loss is
		 * when the will arrives. */
		cJSON_AddNullToObject(o, "ts");
		add_time(o, "connected_at");
	}
	if (reason)
		cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddNumberToObject(o, "uptime_s", (double)uptime_s);
	if (c) {
		add_str_or_null(o, "source", c->source);
		add_str_or_null(o, "adapter", c->adapter);
		if (c->consent_state) {
			cJSON_AddStringToObject(o, "consent_state", c->consent_state);
			add_str_or_null(o, "consent_reason", c->consent_reason);
		}
		if (c->authority) {
			cJSON_AddNumberToObject(o, "consent_seq", (double)c->consent_seq);
			cJSON_AddBoolToObject(o, "consent_current", online && c->consent_current);
			if (c->consent_age_s >= 0)
				cJSON_AddNumberToObject(o, "consent_age_s", (double)c->consent_age_s);
			else
				cJSON_AddNullToObject(o, "consent_age_s");
		}
		add_str_or_null(o, "mqtt_protocol",
				protocol == 5 ? "5" : protocol == 4 ? "3.1.1" : NULL);
		add_str_or_null(o, "consent_sync", online ? c->consent_sync : NULL);
	}
	counts = cJSON_AddObjectToObject(o, "counts");
	if (counts && c) {
		cJSON_AddNumberToObject(counts, "reports", (double)c->reports);
		cJSON_AddNumberToObject(counts, "decoded", (double)c->decoded);
		cJSON_AddNumberToObject(counts, "consented", (double)c->consented);
		cJSON_AddNumberToObject(counts, "triggers", (double)c->triggers);
		cJSON_AddNumberToObject(counts, "identifiers_in_store_namespaces",
					(double)c->store_namespace_ids);
		cJSON_AddNumberToObject(counts, "events_before_consent", (double)c->before_consent);
		cJSON_AddNumberToObject(counts, "triggers_queued", (double)c->triggers_queued);
		cJSON_AddNumberToObject(counts, "triggers_sent", (double)c->triggers_sent);
		cJSON_AddNumberToObject(counts, "triggers_dropped", (double)c->triggers_dropped);
		cJSON_AddNumberToObject(counts, "triggers_dropped_consent",
					(double)c->triggers_dropped_consent);
		cJSON_AddNumberToObject(counts, "outbox_depth", (double)c->outbox_depth);
		cJSON_AddNumberToObject(counts, "visits_dropped_consent",
					(double)c->visits_dropped_consent);
		cJSON_AddNumberToObject(counts, "consent_updates_applied",
					(double)c->consent_applied);
		cJSON_AddNumberToObject(counts, "consent_updates_rejected",
					(double)c->consent_rejected);
		cJSON_AddNumberToObject(counts, "reconnects", (double)c->reconnects);
		cJSON_AddNumberToObject(counts, "consent_sync_timeouts",
					(double)c->consent_sync_timeouts);
		cJSON_AddNumberToObject(counts, "irk_lookups", (double)c->irk_lookups);
		cJSON_AddNumberToObject(counts, "irk_cache_hits", (double)c->irk_cache_hits);
		cJSON_AddNumberToObject(counts, "irk_resolved", (double)c->irk_resolved);
		cJSON_AddNumberToObject(counts, "irk_worker_searches",
					(double)c->irk_worker_searches);
		cJSON_AddNumberToObject(counts, "irk_parked", (double)c->irk_parked);
		cJSON_AddNumberToObject(counts, "irk_inline_searches",
					(double)c->irk_inline_searches);
		cJSON_AddNumberToObject(counts, "irk_cache_capacity", (double)c->irk_cache_capacity);
		if (c->site)
			add_site(counts, &c->site_counts);
	}
	add_str_or_null(o, "last_error", c ? c->last_error : NULL);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
