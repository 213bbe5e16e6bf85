/*
 * store_query.c - read-only queries as cJSON trees: lists for the CLI and the
 * GDPR Art. 15 export. Keys (eddystone-eid, irk) appear only as fingerprints.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "bgw_util.h"
#include "store_internal.h"

static void add_time(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
	char buf[32];

	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	store_time_format(sqlite3_column_int64(st, col), buf, sizeof(buf));
	cJSON_AddStringToObject(o, name, buf);
}

static void add_text(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (t)
		cJSON_AddStringToObject(o, name, (const char *)t);
	else
		cJSON_AddNullToObject(o, name);
}

static void add_int(cJSON *o, const char *name, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddNumberToObject(o, name, (double)sqlite3_column_int64(st, col));
}

static cJSON *channels_array(const char *csv)
{
	cJSON *a = cJSON_CreateArray();
	const char *p = csv ? csv : "";

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char buf[STORE_REF_MAX + 1];

		if (n > STORE_REF_MAX)
			n = STORE_REF_MAX;
		memcpy(buf, p, n);
		buf[n] = '\0';
		cJSON_AddItemToArray(a, cJSON_CreateString(buf));
		p += (e ? (size_t)(e - p) + 1 : strlen(p));
	}
	return a;
}

/* Runs st (already bound) and turns each row into an object via fn. */
typedef cJSON *(*row_fn)(sqlite3_stmt *st);

static int rows(sqlite3 *db, sqlite3_stmt *st, row_fn fn, cJSON *arr, char *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, fn(st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, "query", err);
	return STORE_OK;
}

/* purpose state: "active", "withdrawn", "expired", "none" */
static const char *consent_state(sqlite3_stmt *st, int granted_col, int64_t now)
{
	if (sqlite3_column_type(st, granted_col) == SQLITE_NULL)
		return "none";
	if (sqlite3_column_type(st, granted_col + 2) != SQLITE_NULL)
		return "withdrawn";
	if (sqlite3_column_type(st, granted_col + 1) != SQLITE_NULL &&
	    sqlite3_column_int64(st, granted_col + 1) <= now)
		return "expired";
	return "active";
}

#define CURRENT_CONSENT(p)                                                                         \
	"(SELECT granted_at FROM consents WHERE customer_id = c.id AND purpose = "                \
	STORE_SQL_PURPOSE(p) " ORDER BY id DESC LIMIT 1), "                                       \
	"(SELECT expires_at FROM consents WHERE customer_id = c.id AND purpose = "                \
	STORE_SQL_PURPOSE(p) " ORDER BY id DESC LIMIT 1), "                                       \
	"(SELECT withdrawn_at FROM consents WHERE customer_id = c.id AND purpose = "              \
	STORE_SQL_PURPOSE(p) " ORDER BY id DESC LIMIT 1)"

static cJSON *customer_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	int64_t now = store_now();

	add_text(o, "customer_ref", st, 0);
	add_time(o, "created_at", st, 1);
	add_int(o, "identifiers", st, 2);
	cJSON_AddStringToObject(o, "presence", consent_state(st, 3, now));
	cJSON_AddStringToObject(o, "retargeting", consent_state(st, 6, now));
	add_text(o, "segments", st, 9);
	return o;
}

#define CUSTOMER_SELECT                                                                            \
	"SELECT c.customer_ref, c.created_at, "                                                   \
	"(SELECT count(*) FROM identifiers WHERE customer_id = c.id), " CURRENT_CONSENT(          \
		"presence") ", " CURRENT_CONSENT("retargeting") ", "                              \
	"(SELECT group_concat(s.name, ',') FROM customer_segments cs JOIN segments s "            \
	"ON s.id = cs.segment_id WHERE cs.customer_id = c.id) FROM customers c "

int store_customer_list(sqlite3 *db, cJSON **out, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL(CUSTOMER_SELECT "ORDER BY c.customer_ref"), err);
	int rc;

	*out = NULL;
	if (!st)
		return STORE_EIO;
	*out = cJSON_CreateArray();
	rc = rows(db, st, customer_row, *out, err);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

static cJSON *identifier_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	struct store_identifier id;
	bool known = store_column_identifier(st, 0, &id) == STORE_OK;

	cJSON_AddStringToObject(o, "type", known ? store_id_type_name(id.type) : "?");
	if (sqlite3_column_type(st, 2) == SQLITE_BLOB && sqlite3_column_bytes(st, 2) == 16) {
		char fp[9];

		store_fingerprint(sqlite3_column_blob(st, 2), 16, fp);
		cJSON_AddStringToObject(o, "key_fingerprint", fp);
	} else if (known) {
		cJSON_AddStringToObject(o, "value", id.value);
	}
	if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
		add_int(o, "exponent", st, 3);
		add_int(o, "clock_offset", st, 4);
	}
	add_time(o, "created_at", st, 5);
	return o;
}

static cJSON *consent_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "purpose", store_column_purpose(st, 0));
	cJSON_AddItemToObject(o, "channels", channels_array((const char *)sqlite3_column_text(st, 1)));
	add_time(o, "granted_at", st, 2);
	add_time(o, "expires_at", st, 3);
	add_time(o, "withdrawn_at", st, 4);
	cJSON_AddStringToObject(o, "source", store_column_source(st, 5));
	add_text(o, "policy_version", st, 6);
	if (sqlite3_column_count(st) > 7)
		add_text(o, "customer_ref", st, 7);
	return o;
}

static cJSON *archived_consent_row(sqlite3_stmt *st)
{
	cJSON *o = consent_row(st);

	add_time(o, "archived_at", st, 7);
	return o;
}

static cJSON *segment_row(sqlite3_stmt *st)
{
	return cJSON_CreateString((const char *)sqlite3_column_text(st, 0));
}

static cJSON *visit_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	add_text(o, "zone", st, 0);
	add_time(o, "entered_at", st, 1);
	add_time(o, "exited_at", st, 2);
	add_int(o, "dwell_s", st, 3);
	add_int(o, "max_rssi", st, 4);
	return o;
}

static cJSON *trigger_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	add_text(o, "trigger_id", st, 0);
	add_text(o, "campaign", st, 1);
	add_time(o, "at", st, 2);
	return o;
}

static cJSON *outbox_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *payload = cJSON_Parse((const char *)sqlite3_column_text(st, 3));

	add_text(o, "trigger_id", st, 0);
	cJSON_AddNumberToObject(o, "created_us", (double)sqlite3_column_int64(st, 1));
	add_text(o, "topic", st, 2);
	if (payload)
		cJSON_AddItemToObject(o, "payload", payload);
	else
		add_text(o, "payload", st, 3);
	add_int(o, "attempts", st, 4);
	return o;
}

/*
 * Columns: id, at, actor, action, subject, before, after, detail and, in the
 * listing, customer_ref. detail is the compact entry of an imported customer
 * (store_audit_import.c), rendered as the 'after' document it stands for.
 */
static cJSON *audit_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	const char *b = (const char *)sqlite3_column_text(st, 5);
	const char *a = (const char *)sqlite3_column_text(st, 6);
	cJSON *after = NULL;

	if (sqlite3_column_type(st, 7) == SQLITE_BLOB)
		after = store_audit_detail_json(sqlite3_column_blob(st, 7),
						(size_t)sqlite3_column_bytes(st, 7),
						sqlite3_column_int64(st, 1));
	else if (a)
		after = cJSON_Parse(a);

	add_int(o, "id", st, 0);
	add_time(o, "at", st, 1);
	add_text(o, "actor", st, 2);
	add_text(o, "action", st, 3);
	add_text(o, "subject", st, 4);
	cJSON_AddItemToObject(o, "before", b ? cJSON_Parse(b) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "after", after ? after : cJSON_CreateNull());
	if (sqlite3_column_count(st) > 8)
		add_text(o, "customer_ref", st, 8);
	return o;
}

/* A compact entry's action: customers the fleet handed over (store_bulk_add.c)
 * are told apart from a CSV import's by the batch's actor. */
#define AUDIT_COMPACT_ACTION \
	"CASE WHEN b.actor LIKE 'fleet:%' THEN 'customer.fleet' ELSE 'customer.import' END"

/* The compact entries of imported customers, in the audit's columns. */
#define AUDIT_IMPORT_SELECT                                                                 \
	"SELECT i.id, b.at, b.actor, " AUDIT_COMPACT_ACTION ", 'customer:' || i.customer_id, " \
	"NULL, NULL, i.detail FROM audit_import i JOIN audit_bulk b ON b.id = i.bulk "

struct section {
	const char *name, *sql;
	row_fn fn;
};

/* Everything about one customer id, each section a list. */
static int customer_sections(sqlite3 *db, int64_t cid, const struct section *sec, size_t n,
			     cJSON *doc, char *err)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = store_stmt(db, sec[i].sql, err);
		cJSON *arr;
		int rc;

		if (!st)
			return STORE_EIO;
		sqlite3_bind_int64(st, 1, cid);
		arr = cJSON_AddArrayToObject(doc, sec[i].name);
		if ((rc = rows(db, st, sec[i].fn, arr, err)))
			return rc;
	}
	return STORE_OK;
}

static const struct section show_sections[] = {
	{ "identifiers", SQL("SELECT type, value, key, exponent, clock_offset, created_at "
			     "FROM identifiers WHERE customer_id = ? "
			     "ORDER BY created_at, type, value"), identifier_row },
	{ "consents", SQL("SELECT purpose, channels, granted_at, expires_at, withdrawn_at, source, "
			  "policy_version FROM consents WHERE customer_id = ? ORDER BY id"),
	  consent_row },
	{ "segments", SQL("SELECT s.name FROM customer_segments cs JOIN segments s ON "
			  "s.id = cs.segment_id WHERE cs.customer_id = ? ORDER BY s.name"),
	  segment_row },
};

static const struct section export_sections[] = {
	{ "consents_archived", SQL("SELECT purpose, channels, granted_at, expires_at, withdrawn_at, "
				   "source, policy_version, archived_at FROM consents_archive "
				   "WHERE customer_id = ? ORDER BY id"), archived_consent_row },
	{ "visits", SQL("SELECT zone, entered_at, exited_at, dwell_s, max_rssi FROM visits "
			"WHERE customer_id = ? ORDER BY entered_at"), visit_row },
	{ "trigger_history", SQL("SELECT t.trigger_id, c.name, t.at FROM trigger_log t JOIN "
				 "campaigns c ON c.id = t.campaign_id WHERE t.customer_id = ? "
				 "ORDER BY t.at"), trigger_row },
	{ "pending_triggers", SQL("SELECT trigger_id, created_us, topic, payload, attempts "
				  "FROM outbox WHERE customer_id = ? ORDER BY id"), outbox_row },
};

/* The export's last section. A read-only open leaves an older schema as it
 * is (store_open()): before v7 there are no compact import entries. */
static const struct section audit_section[] = {
	{ "audit", SQL("SELECT id, at, actor, action, subject, before, after, NULL FROM audit "
		       "WHERE customer_id = ?1 UNION ALL " AUDIT_IMPORT_SELECT
		       "WHERE i.customer_id = ?1 ORDER BY 1"), audit_row },
	{ "audit", SQL("SELECT id, at, actor, action, subject, before, after, NULL FROM audit "
		       "WHERE customer_id = ?1 ORDER BY id"), audit_row },
};

static bool compact_audit(sqlite3 *db)
{
	return store_schema_version(db) >= 7;
}

static int customer_doc(sqlite3 *db, const char *ref, bool full, cJSON **out, char *err)
{
	int64_t cid;
	int rc;
	sqlite3_stmt *st;
	cJSON *doc, *c;

	*out = NULL;
	if ((rc = store_customer_lookup(db, ref, &cid, err)))
		return rc;
	st = store_stmt(db, SQL("SELECT customer_ref, created_at, id FROM customers WHERE id = ?"),
			err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cid);
	doc = cJSON_CreateObject();
	c = cJSON_AddObjectToObject(doc, "customer");
	if (sqlite3_step(st) == SQLITE_ROW) {
		add_text(c, "customer_ref", st, 0);
		add_time(c, "created_at", st, 1);
		add_int(c, "id", st, 2);
	}
	sqlite3_reset(st);
	rc = customer_sections(db, cid, show_sections, BGW_ARRAY_SIZE(show_sections),
			       doc, err);
	if (!rc && full)
		rc = customer_sections(db, cid, export_sections,
				       BGW_ARRAY_SIZE(export_sections), doc, err);
	if (!rc && full)
		rc = customer_sections(db, cid, &audit_section[compact_audit(db) ? 0 : 1], 1, doc,
				       err);
	if (rc) {
		cJSON_Delete(doc);
		return rc;
	}
	*out = doc;
	return STORE_OK;
}

int store_customer_show(sqlite3 *db, const char *ref, cJSON **out, char *err)
{
	return customer_doc(db, ref, false, out, err);
}

int store_export(sqlite3 *db, const char *ref, cJSON **out, char *err)
{
	int rc = customer_doc(db, ref, true, out, err);
	char now[32];

	if (rc)
		return rc;
	store_time_format(store_now(), now, sizeof(now));
	cJSON_AddStringToObject(*out, "exported_at", now);
	cJSON_AddNumberToObject(*out, "schema_version", STORE_SCHEMA_VERSION);
	return STORE_OK;
}

int store_consent_list(sqlite3 *db, const char *ref, cJSON **out, char *err)
{
	sqlite3_stmt *st;
	int64_t cid = 0;
	int rc;

	*out = NULL;
	if (ref && (rc = store_customer_lookup(db, ref, &cid, err)))
		return rc;
	st = store_stmt(db, SQL("SELECT k.purpose, k.channels, k.granted_at, k.expires_at, "
				"k.withdrawn_at, k.source, k.policy_version, c.customer_ref "
				"FROM consents k JOIN customers c ON c.id = k.customer_id "
				"WHERE ?1 = 0 OR k.customer_id = ?1 ORDER BY c.customer_ref, k.id"),
			err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cid);
	*out = cJSON_CreateArray();
	if ((rc = rows(db, st, consent_row, *out, err))) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

static cJSON *campaign_row(sqlite3_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	add_text(o, "name", st, 0);
	add_text(o, "zone", st, 1);
	add_text(o, "event", st, 2);
	add_text(o, "segment", st, 3);
	add_int(o, "min_dwell_s", st, 4);
	add_int(o, "cooldown_s", st, 5);
	add_int(o, "daily_cap", st, 6);
	cJSON_AddItemToObject(o, "channels", channels_array((const char *)sqlite3_column_text(st, 7)));
	add_time(o, "valid_from", st, 8);
	add_time(o, "valid_until", st, 9);
	if (sqlite3_column_type(st, 10) == SQLITE_NULL) {
		cJSON_AddNullToObject(o, "hours");
	} else {
		char h[16];
		int a = sqlite3_column_int(st, 10), b = sqlite3_column_int(st, 11);

		snprintf(h, sizeof(h), "%02d:%02d-%02d:%02d", a / 60 % 100, a % 60, b / 60 % 100,
			 b % 60);
		cJSON_AddStringToObject(o, "hours", h);
	}
	cJSON_AddBoolToObject(o, "enabled", sqlite3_column_int(st, 12));
	/* [] is every site. */
	cJSON_AddItemToObject(o, "sites", channels_array((const char *)sqlite3_column_text(st, 13)));
	return o;
}

int store_campaign_list(sqlite3 *db, cJSON **out, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT c.name, z.name, c.event, s.name, c.min_dwell_s, "
					      "c.cooldown_s, c.daily_cap, c.channels, c.valid_from, "
					      "c.valid_until, c.hours_from, c.hours_until, c.enabled, "
					      "t.sites FROM campaigns c JOIN zones z ON z.id = c.zone_id "
					      "LEFT JOIN segments s ON s.id = c.segment_id "
					      "LEFT JOIN campaign_sites t ON t.campaign_id = c.id "
					      "ORDER BY c.name"), err);
	int rc;

	*out = NULL;
	if (!st)
		return STORE_EIO;
	*out = cJSON_CreateArray();
	if ((rc = rows(db, st, campaign_row, *out, err))) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int store_audit_list(sqlite3 *db, int64_t since, const char *ref, cJSON **out, char *err)
{
	sqlite3_stmt *st;
	int64_t cid = 0;
	int rc;

	*out = NULL;
	if (ref && (rc = store_customer_lookup(db, ref, &cid, err)))
		return rc;
	/* The log itself holds no refs; they are joined in while the customer exists. */
	st = compact_audit(db)
		     ? store_stmt(db, SQL("SELECT x.id, x.at, x.actor, x.action, x.subject, "
					  "x.before, x.after, x.detail, c.customer_ref FROM ("
					  "SELECT id, at, actor, action, subject, before, after, "
					  "NULL AS detail, customer_id AS cid FROM audit WHERE "
					  "at >= ?1 AND (?2 = 0 OR customer_id = ?2) UNION ALL "
					  "SELECT i.id, b.at, b.actor, " AUDIT_COMPACT_ACTION ", "
					  "'customer:' || i.customer_id, NULL, NULL, i.detail, "
					  "i.customer_id FROM audit_import i JOIN audit_bulk b "
					  "ON b.id = i.bulk WHERE b.at >= ?1 AND "
					  "(?2 = 0 OR i.customer_id = ?2)) x "
					  "LEFT JOIN customers c ON c.id = x.cid ORDER BY x.id"), err)
		     : store_stmt(db, SQL("SELECT a.id, a.at, a.actor, a.action, a.subject, "
					  "a.before, a.after, NULL, c.customer_ref FROM audit a "
					  "LEFT JOIN customers c ON c.id = a.customer_id "
					  "WHERE a.at >= ?1 AND (?2 = 0 OR a.customer_id = ?2) "
					  "ORDER BY a.id"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, cid);
	*out = cJSON_CreateArray();
	if ((rc = rows(db, st, audit_row, *out, err))) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

int store_eid_key(sqlite3 *db, int64_t customer_id, uint8_t key[16], int *exponent,
		  int64_t *clock_offset, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT key, exponent, clock_offset FROM identifiers "
					      "WHERE customer_id = ?1 AND type = 3 /* eddystone-eid */ "
					      "ORDER BY created_at, value LIMIT 1"), NULL);
	int rc;

	if (!st)
		return store_sqlite_raw_err(db, sqlite3_errcode(db), err);
	sqlite3_bind_int64(st, 1, customer_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 16) {
		memcpy(key, sqlite3_column_blob(st, 0), 16);
		*exponent = sqlite3_column_int(st, 1);
		*clock_offset = sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		return STORE_OK;
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return store_errf(err, STORE_ENOENT, "the customer has no eddystone-eid identifier");
	}
	rc = store_sqlite_raw_err(db, rc, err);
	sqlite3_reset(st);
	return rc;
}
