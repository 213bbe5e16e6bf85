/*
 * fleet_state.c - one customer's or campaign's state as a JSON object, read
 * from a store and made true in one (see fleet_state.h).
 */
#include "fleet_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgw_util.h"
#include "store.h"

enum { ST_REF, ST_IDS, ST_CONS, ST_SEGS, ST_CAMP, ST_N };

static const char *const reader_sql[ST_N] = {
	[ST_REF] = "SELECT customer_ref FROM customers WHERE id = ?",
	/* Sorted by their text below: the stored form sorts otherwise. */
	[ST_IDS] = "SELECT type, value, exponent, clock_offset FROM identifiers "
		   "WHERE customer_id = ?",
	/* The newest row per purpose is the consent in force (store.h). */
	[ST_CONS] = "SELECT c.purpose, c.channels, c.granted_at, c.expires_at, c.withdrawn_at, "
		    "c.source, c.policy_version FROM consents c WHERE c.customer_id = ?1 AND "
		    "c.id = (SELECT max(id) FROM consents WHERE customer_id = ?1 AND "
		    "purpose = c.purpose) ORDER BY c.purpose", /* presence, retargeting */
	[ST_SEGS] = "SELECT s.name FROM customer_segments cs JOIN segments s "
		    "ON s.id = cs.segment_id WHERE cs.customer_id = ? ORDER BY s.name",
	[ST_CAMP] = "SELECT c.name, z.name, c.event, s.name, c.min_dwell_s, c.cooldown_s, "
		    "c.daily_cap, c.channels, c.valid_from, c.valid_until, c.hours_from, "
		    "c.hours_until, c.enabled, t.sites FROM campaigns c "
		    "JOIN zones z ON z.id = c.zone_id "
		    "LEFT JOIN campaign_sites t ON t.campaign_id = c.id "
		    "LEFT JOIN segments s ON s.id = c.segment_id WHERE c.name = ?",
};

struct fleet_reader {
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
};

struct fleet_reader *fleet_reader_new(sqlite3 *db, char *err, size_t errlen)
{
	struct fleet_reader *fr = calloc(1, sizeof(*fr));

	if (!fr) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fr->db = db;
	for (int i = 0; i < ST_N; i++) {
		if (sqlite3_prepare_v3(db, reader_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &fr->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "cannot read the store: %s", sqlite3_errmsg(db));
			fleet_reader_free(fr);
			return NULL;
		}
	}
	return fr;
}

void fleet_reader_free(struct fleet_reader *fr)
{
	if (!fr)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(fr->st[i]);
	free(fr);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static int read_failed(struct fleet_reader *fr, int rc, char *err, size_t errlen)
{
	if (rc == SQLITE_DONE)
		return 0;
	snprintf(err, errlen, "cannot read the store: %s", sqlite3_errmsg(fr->db));
	return -1;
}

/* The order of the signed document: by type name, then canonical value, as
 * text (what the store sorted by when it stored text). */
static int identifier_order(const void *a, const void *b)
{
	const struct store_identifier *x = a, *y = b;
	int c = strcmp(store_id_type_name(x->type), store_id_type_name(y->type));

	return c ? c : strcmp(x->value, y->value);
}

/* Reads an identifier row (type, value, exponent, clock_offset); false for
 * a stored form this program does not know. */
static bool row_identifier(sqlite3_stmt *st, struct store_identifier *id)
{
	if (store_column_identifier(st, 0, id) != STORE_OK)
		return false;
	if (id->type == STORE_ID_EDDYSTONE_EID) {
		id->exponent = (uint8_t)sqlite3_column_int(st, 2);
		id->clock_offset = sqlite3_column_int64(st, 3);
	}
	return true;
}

static int add_identifiers(struct fleet_reader *fr, cJSON *c, int64_t id, char *err,
			   size_t errlen)
{
	sqlite3_stmt *st = fr->st[ST_IDS];
	cJSON *a = cJSON_AddArrayToObject(c, "identifiers");
	struct store_identifier *ids = NULL;
	size_t n = 0, cap = 0;
	char buf[160];
	int rc;

	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct store_identifier *g = realloc(ids, ncap * sizeof(*g));

			if (!g) {
				rc = SQLITE_NOMEM;
				break;
			}
			ids = g;
			cap = ncap;
		}
		if (row_identifier(st, &ids[n]))
			n++;
	}
	sqlite3_reset(st);
	if (n)
		qsort(ids, n, sizeof(*ids), identifier_order);
	for (size_t i = 0; i < n; i++) {
		store_identifier_format(&ids[i], buf, sizeof(buf));
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
	}
	free(ids);
	return read_failed(fr, rc, err, errlen);
}

static int add_consents(struct fleet_reader *fr, cJSON *c, int64_t id, char *err,
			size_t errlen)
{
	sqlite3_stmt *st = fr->st[ST_CONS];
	cJSON *a = cJSON_AddArrayToObject(c, "consents");
	int rc;

	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o;

		/* A withdrawn consent is not sent: its absence is the withdrawal. */
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "purpose", store_column_purpose(st, 0));
		cJSON_AddStringToObject(o, "channels", col_text(st, 1));
		cJSON_AddNumberToObject(o, "granted_at", (double)sqlite3_column_int64(st, 2));
		cJSON_AddNumberToObject(o, "expires_at", (double)sqlite3_column_int64(st, 3));
		cJSON_AddStringToObject(o, "policy", col_text(st, 6));
		cJSON_AddStringToObject(o, "source", store_column_source(st, 5));
		cJSON_AddItemToArray(a, o);
	}
	sqlite3_reset(st);
	return read_failed(fr, rc, err, errlen);
}

static int add_segments(struct fleet_reader *fr, cJSON *c, int64_t id, char *err,
			size_t errlen)
{
	sqlite3_stmt *st = fr->st[ST_SEGS];
	cJSON *a = cJSON_AddArrayToObject(c, "segments");
	int rc;

	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddItemToArray(a, cJSON_CreateString(col_text(st, 0)));
	sqlite3_reset(st);
	return read_failed(fr, rc, err, errlen);
}

cJSON *fleet_reader_customer(struct fleet_reader *fr, int64_t customer_id, bool *gone,
			     char *err, size_t errlen)
{
	sqlite3_stmt *st = fr->st[ST_REF];
	cJSON *item, *c;
	int rc;

	*gone = false;
	sqlite3_bind_int64(st, 1, customer_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		*gone = rc == SQLITE_DONE;
		read_failed(fr, *gone ? SQLITE_ERROR : rc, err, errlen);
		return NULL;
	}
	item = cJSON_CreateObject();
	c = cJSON_AddObjectToObject(item, "customer");
	cJSON_AddStringToObject(c, "ref", col_text(st, 0));
	sqlite3_reset(st);
	if (add_identifiers(fr, c, customer_id, err, errlen) ||
	    add_consents(fr, c, customer_id, err, errlen) ||
	    add_segments(fr, c, customer_id, err, errlen)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

static void add_opt_int(cJSON *o, const char *name, sqlite3_stmt *st, int col, double none)
{
	cJSON_AddNumberToObject(o, name, sqlite3_column_type(st, col) == SQLITE_NULL ?
				none : (double)sqlite3_column_int64(st, col));
}

/* "sites": [] is every site; the store holds them comma separated. */
static void add_sites(cJSON *c, const char *csv)
{
	cJSON *a = cJSON_AddArrayToObject(c, "sites");

	while (*csv) {
		const char *e = strchr(csv, ',');
		size_t n = e ? (size_t)(e - csv) : strlen(csv);
		char name[STORE_REF_MAX + 1];

		snprintf(name, sizeof(name), "%.*s", (int)(n < STORE_REF_MAX ? n : STORE_REF_MAX),
			 csv);
		cJSON_AddItemToArray(a, cJSON_CreateString(name));
		csv += n + (e ? 1 : 0);
	}
}

cJSON *fleet_reader_campaign(struct fleet_reader *fr, const char *name, bool *gone, char *err,
			     size_t errlen)
{
	sqlite3_stmt *st = fr->st[ST_CAMP];
	cJSON *item, *c;
	int rc;

	*gone = false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		*gone = rc == SQLITE_DONE;
		read_failed(fr, *gone ? SQLITE_ERROR : rc, err, errlen);
		return NULL;
	}
	item = cJSON_CreateObject();
	c = cJSON_AddObjectToObject(item, "campaign");
	cJSON_AddStringToObject(c, "name", col_text(st, 0));
	cJSON_AddStringToObject(c, "zone", col_text(st, 1));
	cJSON_AddStringToObject(c, "event", col_text(st, 2));
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		cJSON_AddStringToObject(c, "segment", col_text(st, 3));
	add_opt_int(c, "min_dwell_s", st, 4, 0);
	add_opt_int(c, "cooldown_s", st, 5, 0);
	add_opt_int(c, "daily_cap", st, 6, 0);
	cJSON_AddStringToObject(c, "channels", col_text(st, 7));
	add_opt_int(c, "valid_from", st, 8, 0);
	add_opt_int(c, "valid_until", st, 9, 0);
	add_opt_int(c, "hours_from", st, 10, -1);
	add_opt_int(c, "hours_until", st, 11, -1);
	cJSON_AddBoolToObject(c, "enabled", sqlite3_column_int(st, 12) != 0);
	add_sites(c, col_text(st, 13));
	sqlite3_reset(st);
	return item;
}

cJSON *fleet_state_gone(const char *kind, const char *key_name, const char *key)
{
	cJSON *item = cJSON_CreateObject();
	cJSON *c = cJSON_AddObjectToObject(item, kind);

	cJSON_AddStringToObject(c, key_name, key);
	cJSON_AddBoolToObject(c, "gone", true);
	return item;
}

/* ---- applying ---- */

static int bad(char *err, const char *what)
{
	snprintf(err, STORE_ERRLEN, "state: %.240s", what);
	return STORE_EINVAL;
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static int64_t int_of(const cJSON *o, const char *name, int64_t dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(it) ? (int64_t)it->valuedouble : dflt;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, int rc, char *err)
{
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	snprintf(err, STORE_ERRLEN, "state: %s", sqlite3_errmsg(db));
	return STORE_EIO;
}

/* Is s one of the strings of the JSON array a? */
static bool json_has_string(const cJSON *a, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, a)
		if (cJSON_IsString(it) && !strcmp(it->valuestring, s))
			return true;
	return false;
}

/* Is s one of the n rows (each stride bytes) of rows? */
static bool rows_have(const char *rows, size_t stride, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows + i * stride, s))
			return true;
	return false;
}

/* fresh: the customer was just added, so holds nothing yet. A first sync
 * adds every customer: not asking the store what a new one holds saves
 * four statements per customer, a third of a snapshot's apply. */
static int sync_identifiers(sqlite3 *db, const char *actor, const char *ref, int64_t cid,
			    bool fresh, const cJSON *want, char *err)
{
	struct store_identifier id;
	sqlite3_stmt *st;
	const cJSON *it;
	char have[64][160];
	size_t n_have = 0;
	int rc;

	if (fresh)
		goto add;
	if (sqlite3_prepare_v2(db, "SELECT type, value, exponent, clock_offset FROM identifiers "
			       "WHERE customer_id = ?", -1, &st, NULL) != SQLITE_OK)
		return step_done(db, NULL, SQLITE_ERROR, err);
	sqlite3_bind_int64(st, 1, cid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n_have < BGW_ARRAY_SIZE(have))
		if (row_identifier(st, &id))
			store_identifier_format(&id, have[n_have++], sizeof(have[0]));
	if ((rc = step_done(db, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, err)))
		return rc;
	/* Out with what the authority no longer lists... */
	for (size_t i = 0; i < n_have; i++) {
		if (json_has_string(want, have[i]))
			continue;
		if ((rc = store_identifier_parse_pair(have[i], &id, err)) ||
		    (rc = store_identifier_remove_tx(db, actor, &id, err)))
			return rc;
	}
	/* ... in with what it adds; an identifier that moved from another
	 * customer leaves them first. */
add:
	cJSON_ArrayForEach(it, want) {
		if (!cJSON_IsString(it))
			return bad(err, "identifiers must be strings");
		if (rows_have(have[0], sizeof(have[0]), n_have, it->valuestring))
			continue;
		if ((rc = store_identifier_parse_pair(it->valuestring, &id, err)))
			return rc;
		rc = store_identifier_remove_tx(db, actor, &id, err);
		if (rc && rc != STORE_ENOENT)
			return rc;
		if ((rc = store_identifier_add_tx(db, actor, ref, &id, err)))
			return rc;
	}
	return STORE_OK;
}

static const cJSON *wanted_consent(const cJSON *want, const char *purpose)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, want) {
		const char *p = str_of(it, "purpose");

		if (p && !strcmp(p, purpose))
			return it;
	}
	return NULL;
}

/*
 * The grant for purpose the authority's consent object w describes, for a
 * change and for a snapshot's bulk add alike, so both refuse the same.
 * The strings point into w.
 */
static int grant_from_json(const cJSON *w, enum store_purpose purpose, struct store_grant *g,
			   char *err)
{
	*g = (struct store_grant){ .purpose = purpose };
	g->channels = str_of(w, "channels") ? str_of(w, "channels") : "";
	g->granted_at = int_of(w, "granted_at", 0);
	g->expires_at = int_of(w, "expires_at", 0);
	g->source = str_of(w, "source");
	g->policy = str_of(w, "policy");
	if (g->granted_at <= 0)
		return bad(err, "a consent needs granted_at");
	return STORE_OK;
}

static int sync_consent(sqlite3 *db, const char *actor, const char *ref, int64_t cid,
			bool fresh, enum store_purpose purpose, const cJSON *w, char *err)
{
	sqlite3_stmt *st;
	bool have = false, in_force = false, same = false;
	struct store_grant g;
	int rc;

	if (fresh)
		goto grant;
	if (sqlite3_prepare_v2(db, "SELECT channels, granted_at, expires_at, withdrawn_at, "
			       "policy_version FROM consents WHERE customer_id = ? AND "
			       "purpose = ? ORDER BY id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return step_done(db, NULL, SQLITE_ERROR, err);
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int(st, 2, (int)purpose);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		have = true;
		in_force = sqlite3_column_type(st, 3) == SQLITE_NULL;
		same = w && in_force &&
		       !strcmp((const char *)sqlite3_column_text(st, 0),
			       str_of(w, "channels") ? str_of(w, "channels") : "") &&
		       sqlite3_column_int64(st, 1) == int_of(w, "granted_at", 0) &&
		       sqlite3_column_int64(st, 2) == int_of(w, "expires_at", 0) &&
		       !strcmp((const char *)sqlite3_column_text(st, 4),
			       str_of(w, "policy") ? str_of(w, "policy") : "");
		rc = SQLITE_DONE;
	}
	if ((rc = step_done(db, st, rc, err)))
		return rc;
	if (!w) {
		/* The store's withdrawal also empties the outbox of what it ends. */
		return have && in_force ? store_consent_withdraw_tx(db, actor, ref, purpose, err)
					: STORE_OK;
	}
	if (same)
		return STORE_OK;
grant:
	if (!w)
		return STORE_OK;
	if ((rc = grant_from_json(w, purpose, &g, err)))
		return rc;
	return store_consent_grant_tx(db, actor, ref, &g, err);
}

static int sync_segments(sqlite3 *db, const char *actor, const char *ref, int64_t cid,
			 bool fresh, const cJSON *want, char *err)
{
	sqlite3_stmt *st;
	const cJSON *it;
	char have[64][STORE_REF_MAX + 1];
	size_t n_have = 0;
	int rc;

	if (fresh)
		goto add;
	if (sqlite3_prepare_v2(db, "SELECT s.name FROM customer_segments cs JOIN segments s "
			       "ON s.id = cs.segment_id WHERE cs.customer_id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return step_done(db, NULL, SQLITE_ERROR, err);
	sqlite3_bind_int64(st, 1, cid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n_have < BGW_ARRAY_SIZE(have))
		snprintf(have[n_have++], sizeof(have[0]), "%s",
			 (const char *)sqlite3_column_text(st, 0));
	if ((rc = step_done(db, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, err)))
		return rc;
	for (size_t i = 0; i < n_have; i++)
		if (!json_has_string(want, have[i]) &&
		    (rc = store_segment_remove_tx(db, actor, ref, have[i], err)))
			return rc;
add:
	cJSON_ArrayForEach(it, want) {
		if (!cJSON_IsString(it))
			return bad(err, "segments must be strings");
		if (!rows_have(have[0], sizeof(have[0]), n_have, it->valuestring) &&
		    (rc = store_segment_add_tx(db, actor, ref, it->valuestring, err)))
			return rc;
	}
	return STORE_OK;
}

/*
 * A customer the gateway does not hold yet, added with one compact audit
 * entry under the batch's (a first sync adds every customer: six full
 * entries each were most of a fleet gateway's file). An identifier enrolled
 * to someone else moves to them, as in sync_identifiers().
 */
static int add_customer(sqlite3 *db, const char *actor, struct store_bulk_add *b,
			const char *ref, const cJSON *ids, const cJSON *cons, const cJSON *segs,
			char *err)
{
	static const enum store_purpose purposes[] = { STORE_PRESENCE, STORE_RETARGETING };
	struct store_identifier id;
	const cJSON *it;
	int rc = store_bulk_add_customer_tx(db, b, ref, NULL, err);

	if (rc)
		return rc;
	cJSON_ArrayForEach(it, ids) {
		if (!cJSON_IsString(it))
			return bad(err, "identifiers must be strings");
		if ((rc = store_identifier_parse_pair(it->valuestring, &id, err)))
			return rc;
		rc = store_bulk_add_identifier_tx(db, b, &id, err);
		if (rc == STORE_OK)
			continue;
		if (rc != STORE_EEXIST)
			return rc;
		/* The holder's removal is a full entry: the batch's ids first. */
		if ((rc = store_bulk_add_sync_tx(db, b, err)) ||
		    (rc = store_identifier_remove_tx(db, actor, &id, err)) ||
		    (rc = store_bulk_add_identifier_tx(db, b, &id, err)))
			return rc;
	}
	for (size_t i = 0; i < BGW_ARRAY_SIZE(purposes); i++) {
		const cJSON *w = wanted_consent(cons, store_purpose_name(purposes[i]));
		struct store_grant g;

		if (!w)
			continue;
		if ((rc = grant_from_json(w, purposes[i], &g, err)) ||
		    (rc = store_bulk_add_consent_tx(db, b, &g, err)))
			return rc;
	}
	cJSON_ArrayForEach(it, segs) {
		if (!cJSON_IsString(it))
			return bad(err, "segments must be strings");
		if ((rc = store_bulk_add_segment_tx(db, b, ref, it->valuestring, err)))
			return rc;
	}
	return store_bulk_add_done_tx(db, b, err);
}

static int apply_customer(sqlite3 *db, const char *actor, struct store_bulk_add *b,
			  const cJSON *c, bool *forgot, char *err)
{
	const char *ref = str_of(c, "ref");
	const cJSON *ids, *cons, *segs;
	bool fresh = false;
	int64_t cid;
	int rc;

	if (!ref || !ref[0])
		return bad(err, "customer without ref");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "gone"))) {
		if (b && (rc = store_bulk_add_sync_tx(db, b, err)))
			return rc;
		rc = store_forget_tx(db, actor, ref, err);
		if (rc == STORE_OK)
			*forgot = true;
		return rc == STORE_ENOENT ? STORE_OK : rc;
	}
	ids = cJSON_GetObjectItemCaseSensitive(c, "identifiers");
	cons = cJSON_GetObjectItemCaseSensitive(c, "consents");
	segs = cJSON_GetObjectItemCaseSensitive(c, "segments");
	if (!cJSON_IsArray(ids) || !cJSON_IsArray(cons) || !cJSON_IsArray(segs))
		return bad(err, "customer needs identifiers, consents and segments arrays");
	rc = store_customer_id(db, ref, &cid, err);
	if (rc == STORE_ENOENT && b)
		return add_customer(db, actor, b, ref, ids, cons, segs, err);
	/* What follows appends full entries: the batch's ids first. */
	if (b && (rc == STORE_OK || rc == STORE_ENOENT)) {
		int src = store_bulk_add_sync_tx(db, b, err);

		if (src)
			return src;
	}
	if (rc == STORE_ENOENT) {
		fresh = true;
		rc = store_customer_add_tx(db, actor, ref, &cid, err);
	}
	if (rc)
		return rc;
	if ((rc = sync_identifiers(db, actor, ref, cid, fresh, ids, err)) ||
	    (rc = sync_consent(db, actor, ref, cid, fresh, STORE_PRESENCE,
			       wanted_consent(cons, "presence"), err)) ||
	    (rc = sync_consent(db, actor, ref, cid, fresh, STORE_RETARGETING,
			       wanted_consent(cons, "retargeting"), err)))
		return rc;
	return sync_segments(db, actor, ref, cid, fresh, segs, err);
}

/*
 * "sites" as the store's list into out: "" (every site) when absent or
 * empty. *mine tells whether site is among them (always, with no site
 * given: the caller does not filter).
 */
static int sites_of(const cJSON *c, const char *site, char *out, size_t n, bool *mine,
		    char *err)
{
	const cJSON *sites = cJSON_GetObjectItemCaseSensitive(c, "sites"), *it;
	size_t used = 0;

	out[0] = '\0';
	*mine = true;
	if (!sites)
		return STORE_OK;
	if (!cJSON_IsArray(sites))
		return bad(err, "campaign sites must be an array");
	*mine = !site || !site[0] || cJSON_GetArraySize(sites) == 0;
	cJSON_ArrayForEach(it, sites) {
		size_t len;
		int rc;

		if (!cJSON_IsString(it))
			return bad(err, "campaign sites must be strings");
		if ((rc = store_name_check("site", it->valuestring, err)))
			return rc;
		len = strlen(it->valuestring);
		if (used + len + 2 > n)
			return bad(err, "campaign site list too long");
		if (used)
			out[used++] = ',';
		memcpy(out + used, it->valuestring, len + 1);
		used += len;
		if (site && !strcmp(site, it->valuestring))
			*mine = true;
	}
	return STORE_OK;
}

static int apply_campaign(sqlite3 *db, const char *actor, const char *site, const cJSON *c,
			  char *err)
{
	const char *name = str_of(c, "name");
	struct store_campaign k = { 0 };
	struct fleet_reader *fr;
	cJSON *have, *want;
	bool gone, same, mine;
	char rerr[STORE_ERRLEN], sites[STORE_SITES_MAX];
	int rc;

	if (!name || !name[0])
		return bad(err, "campaign without name");
	/* Checked before anything is read: a bad list is refused on every site. */
	if ((rc = sites_of(c, site, sites, sizeof(sites), &mine, err)))
		return rc;
	fr = fleet_reader_new(db, rerr, sizeof(rerr));
	if (!fr)
		return bad(err, rerr);
	have = fleet_reader_campaign(fr, name, &gone, rerr, sizeof(rerr));
	fleet_reader_free(fr);
	if (!have && !gone)
		return bad(err, rerr);
	/* A campaign for other sites is, here, a campaign that is gone: one
	 * retargeted away from this site leaves it. */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "gone")) || !mine) {
		cJSON_Delete(have);
		return gone ? STORE_OK : store_campaign_remove_tx(db, actor, name, err);
	}
	want = cJSON_CreateObject();
	cJSON_AddItemReferenceToObject(want, "campaign", (cJSON *)c);
	same = have && cJSON_Compare(have, want, true);
	cJSON_Delete(have);
	cJSON_Delete(want);
	if (same)
		return STORE_OK;
	k.name = name;
	k.zone = str_of(c, "zone");
	k.segment = str_of(c, "segment");
	k.event = str_of(c, "event") ? store_event_parse(str_of(c, "event")) : -1;
	k.min_dwell_s = (uint32_t)int_of(c, "min_dwell_s", 0);
	k.cooldown_s = (uint32_t)int_of(c, "cooldown_s", 0);
	k.daily_cap = (uint32_t)int_of(c, "daily_cap", 0);
	k.channels = str_of(c, "channels");
	k.valid_from = int_of(c, "valid_from", 0);
	k.valid_until = int_of(c, "valid_until", 0);
	k.hours_from = (int32_t)int_of(c, "hours_from", -1);
	k.hours_until = (int32_t)int_of(c, "hours_until", -1);
	k.enabled = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "enabled"));
	k.sites = sites;
	if (!k.zone)
		return bad(err, "campaign without zone");
	if (!gone && (rc = store_campaign_remove_tx(db, actor, name, err)))
		return rc;
	return store_campaign_add_tx(db, actor, &k, err);
}

int fleet_state_apply_bulk_tx(sqlite3 *db, const char *actor, struct store_bulk_add *b,
			      const char *site, const cJSON *item, bool *forgot, char *err)
{
	const cJSON *c;
	int rc;

	if (!cJSON_IsObject(item))
		return bad(err, "not an object");
	if ((c = cJSON_GetObjectItemCaseSensitive(item, "customer")) && cJSON_IsObject(c))
		return apply_customer(db, actor, b, c, forgot, err);
	if ((c = cJSON_GetObjectItemCaseSensitive(item, "campaign")) && cJSON_IsObject(c)) {
		if (b && (rc = store_bulk_add_sync_tx(db, b, err)))
			return rc;
		return apply_campaign(db, actor, site, c, err);
	}
	return bad(err, "neither a customer nor a campaign");
}

int fleet_state_apply_tx(sqlite3 *db, const char *actor, const char *site, const cJSON *item,
			 bool *forgot, char *err)
{
	return fleet_state_apply_bulk_tx(db, actor, NULL, site, item, forgot, err);
}
