/*
 * store_compat.c - a read-only look at an older schema. A read-only open
 * (beaconctl queries, beacongw --check) takes a database back to
 * STORE_SCHEMA_READABLE as it is and cannot upgrade it; the next read-write
 * open does. Where a later step changed how a table stores its rows, a
 * temporary view of the same name, private to the connection, shows the
 * old rows in the new form: an unqualified name finds temp objects first,
 * so every reader knows one form only. Nothing is written to the file.
 */
#include "store_internal.h"

/* v9 stores identifiers as (type number, bytes); v1..v8 as text. A key is
 * an Eddystone-EID's or IRK's only, K and offset an Eddystone-EID's (a v8
 * import could leave them on other rows), as the v9 step keeps them. */
static const char identifiers_v8[] =
	"CREATE TEMP VIEW identifiers AS SELECT id, customer_id, CASE type "
	"  WHEN 'ibeacon' THEN 1 WHEN 'eddystone-uid' THEN 2 WHEN 'eddystone-eid' THEN 3 "
	"  WHEN 'irk' THEN 4 WHEN 'altbeacon' THEN 5 END AS type, "
	"  bgw_identifier_stored(type, value) AS value, "
	"  CASE WHEN type = 'eddystone-eid' THEN exponent END AS exponent, "
	"  CASE WHEN type = 'eddystone-eid' THEN clock_offset END AS clock_offset, created_at, "
	"  CASE WHEN type IN ('eddystone-eid', 'irk') THEN key END AS key "
	"  FROM main.identifiers";

/* v9 stores a consent's purpose as its number (enum store_purpose). */
static const char consents_v8[] =
	"CREATE TEMP VIEW consents AS SELECT customer_id, CASE purpose "
	"  WHEN 'presence' THEN 0 WHEN 'retargeting' THEN 1 END AS purpose, id, channels, "
	"  granted_at, expires_at, withdrawn_at, source, policy_version FROM main.consents";

int store_compat_views(sqlite3 *db, int version, char *err)
{
	int rc;

	if (version >= 9)
		return STORE_OK;
	if (store_identifier_sql_register(db) != SQLITE_OK)
		return store_sqlite_err(db, sqlite3_errcode(db), "open", err);
	rc = store_exec(db, identifiers_v8, "open", err);
	return rc ? rc : store_exec(db, consents_v8, "open", err);
}
