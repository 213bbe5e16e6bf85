/*
 * store_campaign.c - campaigns (and the zones they name, and the sites they
 * are for).
 */
#include <stdio.h>
#include <stdlib.h>
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

static bool listed(const char *list, const char *name, size_t len)
{
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == len && !strncmp(p, name, len))
			return true;
		p += l + (e ? 1 : 0);
	}
	return false;
}

int store_sites_normalise(const char *in, char *out, size_t n, char *err)
{
	char *buf, *save = NULL, *tok;
	size_t used = 0;
	int rc = STORE_OK;

	out[0] = '\0';
	if (!in)
		return STORE_OK;
	if (strlen(in) >= STORE_SITES_MAX)
		return store_errf(err, STORE_EINVAL, "site list too long");
	if (!(buf = strdup(in)))
		return store_errf(err, STORE_ENOMEM, "out of memory");
	/* An empty entry ("s1,,s2") is a typo, not "every site". */
	if (in[0] == ',' || (in[0] && in[strlen(in) - 1] == ',') || strstr(in, ",,"))
		rc = store_errf(err, STORE_EINVAL, "site list has an empty entry");
	for (tok = strtok_r(buf, ",", &save); !rc && tok; tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok);

		if ((rc = store_name_check("site", tok, err)))
			break;
		if (listed(out, tok, len))
			continue;
		if (used + len + 2 > n) {
			rc = store_errf(err, STORE_EINVAL, "site list too long");
			break;
		}
		if (used)
			out[used++] = ',';
		memcpy(out + used, tok, len + 1);
		used += len;
	}
	free(buf);
	return rc;
}

/* sites "" is every site: no row. */
static int set_sites(sqlite3 *db, int64_t campaign_id, const char *sites, char *err)
{
	sqlite3_stmt *st;

	if (!sites[0]) {
		st = store_stmt(db, SQL("DELETE FROM campaign_sites WHERE campaign_id = ?"), err);
		if (!st)
			return STORE_EIO;
		sqlite3_bind_int64(st, 1, campaign_id);
		return store_exec_stmt(db, st, "campaign sites", err);
	}
	st = store_stmt(db, SQL("INSERT INTO campaign_sites (campaign_id, sites) VALUES (?, ?) "
				"ON CONFLICT (campaign_id) DO UPDATE SET sites = excluded.sites"),
			err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, campaign_id);
	sqlite3_bind_text(st, 2, sites, -1, SQLITE_STATIC);
	return store_exec_stmt(db, st, "campaign sites", err);
}

int store_campaign_add_tx(sqlite3 *db, const char *actor, const struct store_campaign *c,
			   char *err)
{
	char channels[512], subject[80], sites[STORE_SITES_MAX];
	int64_t zid, seg = 0;
	sqlite3_stmt *st;
	int rc;
	cJSON *after;
	char *a;

	if ((rc = store_name_check("campaign", c->name, err)) ||
	    (rc = store_name_check("zone", c->zone, err)) ||
	    (c->segment && (rc = store_name_check("segment", c->segment, err))) ||
	    (rc = store_channels_normalise(c->channels ? c->channels : "", channels,
					   sizeof(channels), err)) ||
	    (rc = store_sites_normalise(c->sites, sites, sizeof(sites), err)))
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
	if (sites[0] && (rc = set_sites(db, sqlite3_last_insert_rowid(db), sites, err)))
		return rc;
	after = cJSON_CreateObject();
	cJSON_AddStringToObject(after, "zone", c->zone);
	cJSON_AddStringToObject(after, "event", store_event_name(c->event));
	if (c->segment)
		cJSON_AddStringToObject(after, "segment", c->segment);
	cJSON_AddNumberToObject(after, "min_dwell_s", c->min_dwell_s);
	cJSON_AddNumberToObject(after, "cooldown_s", c->cooldown_s);
	cJSON_AddNumberToObject(after, "daily_cap", c->daily_cap);
	cJSON_AddStringToObject(after, "channels", channels);
	if (sites[0])
		cJSON_AddStringToObject(after, "sites", sites);
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

int store_campaign_target_tx(sqlite3 *db, const char *actor, const char *name, const char *sites,
			     char *err)
{
	char norm[STORE_SITES_MAX], subject[80], *before = NULL;
	int64_t id = 0;
	sqlite3_stmt *st;
	cJSON *b, *a;
	char *bt, *at;
	int rc;

	if ((rc = store_name_check("campaign", name, err)) ||
	    (rc = store_sites_normalise(sites, norm, sizeof(norm), err)))
		return rc;
	st = store_stmt(db, SQL("SELECT c.id, coalesce(s.sites, '') FROM campaigns c "
				"LEFT JOIN campaign_sites s ON s.campaign_id = c.id WHERE c.name = ?"),
			err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		before = strdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return store_errf(err, STORE_ENOENT, "no campaign '%s'", name);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(db, rc, "campaign target", err);
	if (!before)
		return store_errf(err, STORE_ENOMEM, "out of memory");
	/* Unchanged: no row touched, so no fleet change and no audit row. */
	if (!strcmp(before, norm)) {
		free(before);
		return STORE_OK;
	}
	if ((rc = set_sites(db, id, norm, err))) {
		free(before);
		return rc;
	}
	b = cJSON_CreateObject();
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "sites", before[0] ? before : "*");
	cJSON_AddStringToObject(a, "sites", norm[0] ? norm : "*");
	free(before);
	bt = cJSON_PrintUnformatted(b);
	at = cJSON_PrintUnformatted(a);
	cJSON_Delete(b);
	cJSON_Delete(a);
	snprintf(subject, sizeof(subject), "campaign:%s", name);
	rc = bt && at ? store_audit_append(db, actor, "campaign.target", subject, 0, bt, at, err) :
			store_errf(err, STORE_ENOMEM, "out of memory");
	cJSON_free(bt);
	cJSON_free(at);
	return rc;
}

int store_campaign_target(sqlite3 *db, const char *actor, const char *name, const char *sites,
			  char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_campaign_target_tx(db, actor, name, sites, err),
				      err);
}
