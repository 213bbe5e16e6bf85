/* visit_json.c - the closed-visit document (visit_json.h). */
#include "visit_json.h"

#include <math.h>

#include <cjson/cJSON.h>

#include "pl_json.h"

char *visit_json_build(const struct visit_event *ev, const char *site, const char *gateway,
		       const char *policy, const char *id)
{
	cJSON *o = cJSON_CreateObject();
	char enter[40], exit_ts[40];
	char *out = NULL;

	if (!o)
		return NULL;
	pl_json_time(enter, sizeof(enter), ev->visit_started_us);
	pl_json_time(exit_ts, sizeof(exit_ts), ev->ts_us);
	if (cJSON_AddNumberToObject(o, "schema", VISIT_SCHEMA_VERSION) &&
	    cJSON_AddStringToObject(o, "id", id) && cJSON_AddStringToObject(o, "site", site) &&
	    cJSON_AddStringToObject(o, "gateway", gateway) &&
	    cJSON_AddStringToObject(o, "zone", ev->zone) &&
	    cJSON_AddStringToObject(o, "customer_ref", ev->customer_ref) &&
	    cJSON_AddStringToObject(o, "enter", enter) &&
	    cJSON_AddStringToObject(o, "exit", exit_ts) &&
	    cJSON_AddNumberToObject(o, "dwell_s", ev->dwell_s) &&
	    (ev->rssi_known ? cJSON_AddNumberToObject(o, "peak_rssi",
						      round((double)ev->rssi_peak * 10.0) / 10.0)
			    : cJSON_AddNullToObject(o, "peak_rssi")) &&
	    cJSON_AddStringToObject(o, "policy", policy ? policy : ""))
		out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}
