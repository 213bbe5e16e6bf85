/*
 * hub_fleet.c - record gateways' retained statuses (hub_fleet.h).
 */
#include "hub_fleet.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store.h"

/* The status's own "ts" (ISO 8601 UTC): a retained status read again after
 * the hub reconnects must not look newer than it is. */
static int64_t status_time(const cJSON *o)
{
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
	struct tm tm = { 0 };
	char *end;

	if (!cJSON_IsString(ts))
		return 0;
	end = strptime(ts->valuestring, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return 0;
	return (int64_t)timegm(&tm);
}

int hub_fleet_record(sqlite3 *db, const void *payload, size_t len, char *err, size_t errlen)
{
	cJSON *o = cJSON_ParseWithLength(payload, len);
	const cJSON *site, *gw, *seq, *cur, *online, *reason, *creason;
	char name[2 * STORE_REF_MAX + 2];
	const char *why = NULL;
	sqlite3_stmt *st;
	int64_t seen;
	int rc;

	site = cJSON_GetObjectItemCaseSensitive(o, "site");
	gw = cJSON_GetObjectItemCaseSensitive(o, "gateway");
	if (!cJSON_IsObject(o) || !cJSON_IsString(site) || !cJSON_IsString(gw) ||
	    strlen(site->valuestring) > STORE_REF_MAX || strlen(gw->valuestring) > STORE_REF_MAX ||
	    !(seen = status_time(o))) {
		cJSON_Delete(o);
		return 1;
	}
	snprintf(name, sizeof(name), "%s/%s", site->valuestring, gw->valuestring);
	seq = cJSON_GetObjectItemCaseSensitive(o, "consent_seq");
	cur = cJSON_GetObjectItemCaseSensitive(o, "consent_current");
	online = cJSON_GetObjectItemCaseSensitive(o, "online");
	reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
	creason = cJSON_GetObjectItemCaseSensitive(o, "consent_reason");
	if (!cJSON_IsTrue(online))
		why = cJSON_IsString(reason) ? reason->valuestring : "offline";
	else if (cJSON_IsString(creason))
		why = creason->valuestring;
	else if (!cJSON_IsNumber(seq))
		why = "not following the hub";
	/* The newest status wins; an offline will keeps the last known sequence. */
	if (sqlite3_prepare_v2(db, "INSERT INTO fleet_gateways (gateway, consent_seq, current, "
			       "online, last_seen, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
			       "ON CONFLICT (gateway) DO UPDATE SET "
			       "consent_seq = coalesce(?2, consent_seq), current = ?3, online = ?4, "
			       "last_seen = ?5, reason = ?6 WHERE ?5 >= last_seen", -1, &st,
			       NULL) != SQLITE_OK) {
		snprintf(err, errlen, "fleet status: %s", sqlite3_errmsg(db));
		cJSON_Delete(o);
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	if (cJSON_IsNumber(seq))
		sqlite3_bind_int64(st, 2, (int64_t)seq->valuedouble);
	sqlite3_bind_int(st, 3, cJSON_IsTrue(online) && cJSON_IsTrue(cur));
	sqlite3_bind_int(st, 4, cJSON_IsTrue(online));
	sqlite3_bind_int64(st, 5, seen);
	if (why)
		sqlite3_bind_text(st, 6, why, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	cJSON_Delete(o);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "fleet status: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}
