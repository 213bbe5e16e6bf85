/*
 * store_campaign.c - campaigns (and the zones they name).
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "store_internal.h"

static int64_t zone_id(sqlite3 *db, const char *zone, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("INSERT INTO zones (name) VALUES (?) "
					      "ON CONFLICT (name) DO NOTHING"), err);
	int64_t id = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	if (store_exec_stmt(db, st, "zone", err))
		return -1;
	st = store_stmt(db, SQL("SELECT id FROM zones WHERE name = ?"), err);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

int store_campaign_add_tx(sqlite3 *db, const char *actor, const struct store_campaign *c,
			   char *err)
{
	char channels[512], subject[80];
	int64_t zid, seg = 0;
	sqlite3_stmt *st;
	int rc;
	cJSON *after;
	char *a;

	if ((rc = store_name_check("campaign", c->name, err)) ||
	    (rc = store_name_check("zone", c->zone, err)) ||
	    (c->segment && (rc = store_name_check("segment", c->segment, err))) ||
	    (rc = store_channels_normalise(c->channels ? c->channels : "", channels,
					   sizeof(channels), err)))
		return rc;
	if (c->event < 0 || c->event > 2)
		return store_errf(err, STORE_EINVAL, "campaign event must be enter, dwell or exit");
	if (c->valid_from && c->valid_until && c->valid_until <= c->valid_from)
		return store_errf(err, STORE_EINVAL, "campaign validity ends before it starts");
	if ((c->hours_from < 0) != (c->hours_until < 0) || c->hours_from > 1440 ||
	    c->hours_until > 1440)
		return store_errf(err, STORE_EINVAL, "campaign opening hours are invalid");
	if (c->enabled && (rc = store_limits_check_tx(db, channels, NULL, err)))
		return rc;
	if (c->segment) {
		/* Segments are created on first use, so a campaign can precede its members. */
		st = store_stmt(db, SQL("INSERT INTO segments (name) VALUES (?) "
					"ON CONFLICT (name) DO NOTHING"), err);
		if (!st)
			return STORE_EIO;
		sqlite3_bind_text(st, 1, c->segment, -1, SQLITE_STATIC);
		if ((rc = store_exec_stmt(db, st, "campaign add", err)))
			return rc;
		st = store_stmt(db, SQL("SELECT id FROM segments WHERE name = ?"), err);
		if (!st)
			return STORE_EIO;
		sqlite3_bind_text(st, 1, c->segment, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			seg = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	zid = zone_id(db, c->zone, err);
	if (zid < 0)
		return STORE_EIO;
	st = store_stmt(db, SQL("INSERT INTO campaigns (name, zone_id, event, segment_id, "
				"min_dwell_s, cooldown_s, daily_cap, channels, valid_from, "
				"valid_until, hours_from, hours_until, enabled, created_at) "
				"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, zid);
	sqlite3_bind_text(st, 3, store_event_name(c->event), -1, SQLITE_STATIC);
	if (seg)
		sqlite3_bind_int64(st, 4, seg);
	sqlite3_bind_int64(st, 5, c->min_dwell_s);
	sqlite3_bind_int64(st, 6, c->cooldown_s);
	sqlite3_bind_int64(st, 7, c->daily_cap);
	sqlite3_bind_text(st, 8, channels, -1, SQLITE_STATIC);
	if (c->valid_from)
		sqlite3_bind_int64(st, 9, c->valid_from);
	if (c->valid_until)
		sqlite3_bind_int64(st, 10, c->valid_until);
	if (c->hours_from >= 0) {
		sqlite3_bind_int(st, 11, c->hours_from);
		sqlite3_bind_int(st, 12, c->hours_until);
	}
	sqlite3_bind_int(st, 13, c->enabled);
	sqlite3_bind_int64(st, 14, store_now());
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return store_errf(err, STORE_EEXIST, "campaign '%s' already exists", c->name);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, "campaign add", err);
	after = cJSON_CreateObject();
	cJSON_AddStringToObject(after, "zone", c->zone);
	cJSON_AddStringToObject(after, "event", store_event_name(c->event));
	if (c->segment)
		cJSON_AddStringToObject(after, "segment", c->segment);
	cJSON_AddNumberToObject(after, "min_dwell_s", c->min_dwell_s);
	cJSON_AddNumberToObject(after, "cooldown_s", c->cooldown_s);
	cJSON_AddNumberToObject(after, "daily_cap", c->daily_cap);
	cJSON_AddStringToObject(after, "channels", channels);
	a = cJSON_PrintUnformatted(after);
	cJSON_Delete(after);
	snprintf(subject, sizeof(subject), "campaign:%s", c->name);
	rc = store_audit_append(db, actor, "campaign.add", subject, 0, NULL, a, err);
	cJSON_free(a);
	return rc;
}

int store_campaign_add(sqlite3 *db, const char *actor, const struct store_campaign *c, char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_campaign_add_tx(db, actor, c, err), err);
}

int store_campaign_remove_tx(sqlite3 *db, const char *actor, const char *name, char *err)
{
	sqlite3_stmt *st;
	char subject[80];
	int rc = store_name_check("campaign", name, err);

	if (rc)
		return rc;
	st = store_stmt(db, SQL("DELETE FROM campaigns WHERE name = ?"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((rc = store_exec_stmt(db, st, "campaign remove", err)))
		return rc;
	if (sqlite3_changes(db) == 0)
		return store_errf(err, STORE_ENOENT, "no campaign '%s'", name);
	snprintf(subject, sizeof(subject), "campaign:%s", name);
	return store_audit_append(db, actor, "campaign.remove", subject, 0, NULL, NULL, err);
}

int store_campaign_remove(sqlite3 *db, const char *actor, const char *name, char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_campaign_remove_tx(db, actor, name, err), err);
}
