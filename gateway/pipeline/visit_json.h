/*
 * visit_json.h - the closed-visit payload for the backend
 * (docs/schema/visit.schema.json, topic <prefix>/<site>/<gateway>/visit).
 * One per closed visit of a presence-consented customer: rare next to
 * advertising reports, so cJSON's allocations are fine here.
 */
#ifndef BGW_VISIT_JSON_H
#define BGW_VISIT_JSON_H

#include "pipeline.h"

#define VISIT_SCHEMA_VERSION 1

/* The JSON of the EXIT event ev (cJSON-allocated: free with cJSON_free),
 * with its unique id; NULL on failure. policy: the presence consent's. */
char *visit_json_build(const struct visit_event *ev, const char *site, const char *gateway,
		       const char *policy, const char *id);

#endif
