/* ops_stats.c - footfall, per-campaign and consent figures for the metrics. */
#include "ops_stats.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "consent_gate.h"
#include "snapshot.h"

void ops_stats_footfall(struct ops_stats *o, const char *json)
{
	cJSON *j = cJSON_Parse(json);
	const cJSON *c = j ? cJSON_GetObjectItemCaseSensitive(j, "count") : NULL;

	if (cJSON_IsNumber(c) && c->valuedouble >= 0) {
		o->footfall_count = (uint64_t)c->valuedouble;
		o->footfall_have = true;
		o->footfall_periods++;
	}
	cJSON_Delete(j);
}

void ops_stats_trigger(struct ops_stats *o, const char *campaign)
{
	for (size_t i = 0; i < o->n_campaigns; i++) {
		if (strcmp(o->campaign[i].name, campaign) == 0) {
			o->campaign[i].triggers++;
			return;
		}
	}
	if (o->n_campaigns == OPS_CAMPAIGNS_MAX) {
		o->triggers_other++;
		return;
	}
	snprintf(o->campaign[o->n_campaigns].name, sizeof(o->campaign[0].name), "%s", campaign);
	o->campaign[o->n_campaigns++].triggers = 1;
}

void ops_stats_snapshot(struct ops_stats *o, const struct snapshot *s, int64_t now_s)
{
	o->have_snapshot = s != NULL;
	o->customers = o->presence = o->retargeting = 0;
	if (!s)
		return;
	o->customers = s->n_customers;
	for (uint32_t i = 0; i < s->n_customers; i++) {
		o->presence += consent_gate_presence(s, &s->customers[i], now_s);
		o->retargeting += consent_gate_trigger_allowed(s, &s->customers[i], now_s);
	}
}
