/*
 * status.c - the status document (see status.h); its plain counters come
 * from the table of gateway_counts.c, shared with the metrics.
 */
#include "status.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <time.h>

#include "delivery_config.h"
#include "gateway_counts.h"

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

/* The counters of one group of the table (gateway_counts.h), in its order. */
static void add_group(cJSON *counts, const struct gateway_counters *c,
		      enum gateway_count_group group)
{
	for (size_t i = 0; i < gateway_counts_n; i++) {
		const struct gateway_count *g = &gateway_counts[i];

		if (g->group == group)
			cJSON_AddNumberToObject(counts, g->status_key,
						(double)gateway_count_value(g, c));
	}
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
		add_group(counts, c, GATEWAY_COUNTS_REPORTS);
		add_group(counts, c, GATEWAY_COUNTS_TRIGGERS);
		cJSON_AddNumberToObject(counts, "identifiers_in_store_namespaces",
					(double)c->store_namespace_ids);
		cJSON_AddNumberToObject(counts, "events_before_consent", (double)c->before_consent);
		add_group(counts, c, GATEWAY_COUNTS_DELIVERY);
		add_group(counts, c, GATEWAY_COUNTS_OUTBOX);
		add_group(counts, c, GATEWAY_COUNTS_VISITS_DROPPED);
		add_group(counts, c, GATEWAY_COUNTS_BROKER);
		add_group(counts, c, GATEWAY_COUNTS_SYNC);
		add_group(counts, c, GATEWAY_COUNTS_IRK);
		if (c->site)
			add_site(counts, &c->site_counts);
	}
	add_str_or_null(o, "last_error", c ? c->last_error : NULL);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}
