/* trigger_json.c - UUIDv7 ids and the trigger JSON document. */
#include "trigger_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "pl_json.h"

const char *trigger_event_name(enum visit_event_kind k)
{
	switch (k) {
	case VISIT_ENTER:
		return "enter";
	case VISIT_DWELL:
		return "dwell";
	case VISIT_EXIT:
		return "exit";
	}
	return "unknown";
}

bool trigger_uuid7(uint64_t ts_us, char out[37])
{
	uint8_t b[16];
	uint64_t ms = ts_us / 1000u;
	ssize_t n;

	do
		n = getrandom(b + 6, 10, 0);
	while (n < 0 && errno == EINTR);
	if (n != 10)
		return false;
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	b[6] = (uint8_t)(0x70 | (b[6] & 0x0F)); /* version 7 */
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3F)); /* RFC 9562 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return true;
}

static double round_to(double v, double step)
{
	return round(v / step) * step;
}

char *trigger_json_build(const struct trigger_fields *f, const char *id)
{
	cJSON *o = cJSON_CreateObject(), *ch;
	char ts[40];
	char *out = NULL;

	if (!o)
		return NULL;
	pl_json_time(ts, sizeof(ts), f->ts_us);
	if (!cJSON_AddNumberToObject(o, "schema", TRIGGER_SCHEMA_VERSION) ||
	    !cJSON_AddStringToObject(o, "id", id) || !cJSON_AddStringToObject(o, "ts", ts) ||
	    !cJSON_AddStringToObject(o, "site", f->site) ||
	    !cJSON_AddStringToObject(o, "gateway", f->gateway) ||
	    !cJSON_AddStringToObject(o, "zone", f->zone) ||
	    !cJSON_AddStringToObject(o, "event", trigger_event_name(f->event)) ||
	    !cJSON_AddStringToObject(o, "customer_ref", f->customer_ref) ||
	    !cJSON_AddStringToObject(o, "campaign", f->campaign) ||
	    !cJSON_AddNumberToObject(o, "campaign_id", (double)f->campaign_id) ||
	    !cJSON_AddNumberToObject(o, "dwell_s", f->dwell_s) ||
	    !(f->rssi_known ? cJSON_AddNumberToObject(o, "rssi", round_to(f->rssi, 0.1))
			    : cJSON_AddNullToObject(o, "rssi")) ||
	    !(f->rssi_known ? cJSON_AddNumberToObject(o, "proximity_m", round_to(f->proximity_m, 0.01))
			    : cJSON_AddNullToObject(o, "proximity_m")) ||
	    !(ch = cJSON_AddArrayToObject(o, "channels")) ||
	    !cJSON_AddStringToObject(o, "policy", f->policy))
		goto out;
	for (uint32_t i = 0; i < f->n_channels; i++) {
		cJSON *s = cJSON_CreateString(f->channels[i]);
		if (!s || !cJSON_AddItemToArray(ch, s)) {
			cJSON_Delete(s);
			goto out;
		}
	}
	out = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return out;
}
