/*
 * cmd_fleet.c - beaconctl fleet: every gateway the hub has heard of, the
 * sequence of the authority's log it applied, whether it is current, when it
 * last spoke and why not (docs/fleet.md). Read from the authority database
 * (fleet_gateways, written by beaconhub).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

const char cmd_fleet_help[] =
	"Show the gateways of a fleet and whether each is current\n"
	"Usage: beaconctl --db HQ.db fleet\n"
	"For the authority database of beaconhub: one row per gateway that published a\n"
	"status (GATEWAY is SITE/ID), the last sequence of the hub's signed log it applied,\n"
	"how many it is behind the hub, whether it said it is current (it acts on nobody\n"
	"otherwise), when its status was issued (UTC) and the reason it gave.\n";

/* The hub's own sequence under its current key (kv hub.key, hub.seq.<key>). */
static int64_t hub_seq(sqlite3 *db, bool *known)
{
	char key[40], name[64], v[32], err[STORE_ERRLEN];

	*known = false;
	if (store_kv_get(db, "hub.key", key, sizeof(key), err) != STORE_OK)
		return 0;
	snprintf(name, sizeof(name), "hub.seq.%s", key);
	if (store_kv_get(db, name, v, sizeof(v), err) != STORE_OK)
		return 0;
	*known = true;
	return strtoll(v, NULL, 10);
}

int cmd_fleet(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_column cols[] = {
		{ "gateway", "GATEWAY" }, { "consent_seq", "SEQ" },   { "behind", "BEHIND" },
		{ "current", "CURRENT" }, { "last_seen", "LAST SEEN" }, { "reason", "REASON" },
	};
	struct ctl_args a = { .db = CTL_DB_READ };
	sqlite3_stmt *st;
	cJSON *rows;
	bool known;
	int64_t head;
	int rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	if (sqlite3_prepare_v2(ctl->db, "SELECT gateway, consent_seq, current, last_seen, reason "
			       "FROM fleet_gateways ORDER BY gateway", -1, &st, NULL) != SQLITE_OK)
		return ctl_fail(BGW_EXIT_UNAVAILABLE, "%s: %s", ctl->db_path,
				sqlite3_errmsg(ctl->db));
	head = hub_seq(ctl->db, &known);
	rows = cJSON_CreateArray();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		char seen[32];
		const unsigned char *why = sqlite3_column_text(st, 4);
		bool has_seq = sqlite3_column_type(st, 1) != SQLITE_NULL;
		int64_t seq = sqlite3_column_int64(st, 1);

		store_time_format(sqlite3_column_int64(st, 3), seen, sizeof(seen));
		cJSON_AddStringToObject(o, "gateway", (const char *)sqlite3_column_text(st, 0));
		if (has_seq)
			cJSON_AddNumberToObject(o, "consent_seq", (double)seq);
		else
			cJSON_AddNullToObject(o, "consent_seq");
		if (has_seq && known)
			cJSON_AddNumberToObject(o, "behind", (double)(head > seq ? head - seq : 0));
		else
			cJSON_AddNullToObject(o, "behind");
		cJSON_AddBoolToObject(o, "current", sqlite3_column_int(st, 2) != 0);
		cJSON_AddStringToObject(o, "last_seen", seen);
		if (why)
			cJSON_AddStringToObject(o, "reason", (const char *)why);
		else
			cJSON_AddNullToObject(o, "reason");
		cJSON_AddItemToArray(rows, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(rows);
		return ctl_fail(BGW_EXIT_UNAVAILABLE, "%s: %s", ctl->db_path,
				sqlite3_errmsg(ctl->db));
	}
	return ctl_print_rows(ctl, STORE_OK, rows, NULL, cols, BGW_ARRAY_SIZE(cols));
}
