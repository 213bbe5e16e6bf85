/*
 * store_schema.c - the schema as a list of migrations. Migration i brings the
 * database from user_version i to i + 1; each runs in its own transaction, so
 * an interrupted upgrade leaves the previous version intact. Never edit a
 * released step: append a new one and bump STORE_SCHEMA_VERSION.
 */
#include "store_schema.h"

static const char schema_v1[] =
	/* Customers are known only by the CRM's opaque reference. audit_salt keys
	 * the identifier fingerprints in the audit log; forgetting the customer
	 * deletes it, which makes those fingerprints unlinkable. AUTOINCREMENT so
	 * that the id of a forgotten customer is never reused. */
	"CREATE TABLE customers ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  customer_ref TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  audit_salt BLOB NOT NULL);"

	/* value: canonical text (ibeacon uuid:major:minor, uid ns:instance, or the key
	 * in hex for eddystone-eid / irk); key: the 16 key bytes for eid / irk. */
	"CREATE TABLE identifiers ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  type TEXT NOT NULL CHECK (type IN ('ibeacon','eddystone-uid','eddystone-eid','irk')),"
	"  value TEXT NOT NULL,"
	"  key BLOB CHECK (key IS NULL OR length(key) = 16),"
	"  exponent INTEGER CHECK (exponent IS NULL OR exponent BETWEEN 0 AND 15),"
	"  clock_offset INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (type, value));"
	"CREATE INDEX identifiers_customer ON identifiers(customer_id);"

	/* History is kept: a grant is a new row, a withdrawal stamps withdrawn_at on
	 * the current row; the current consent is the newest row per purpose. */
	"CREATE TABLE consents ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  purpose TEXT NOT NULL CHECK (purpose IN ('presence','retargeting')),"
	"  channels TEXT NOT NULL DEFAULT '',"
	"  granted_at INTEGER NOT NULL,"
	"  expires_at INTEGER,"
	"  withdrawn_at INTEGER,"
	"  source TEXT NOT NULL,"
	"  policy_version TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX consents_customer ON consents(customer_id, purpose, id);"
	/* Purge moves expired consents here: out of the data path, kept as proof. */
	"CREATE TABLE consents_archive ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  purpose TEXT NOT NULL,"
	"  channels TEXT NOT NULL,"
	"  granted_at INTEGER NOT NULL,"
	"  expires_at INTEGER,"
	"  withdrawn_at INTEGER,"
	"  source TEXT NOT NULL,"
	"  policy_version TEXT NOT NULL,"
	"  archived_at INTEGER NOT NULL);"
	"CREATE INDEX consents_archive_customer ON consents_archive(customer_id);"

	"CREATE TABLE segments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE customer_segments ("
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,"
	"  PRIMARY KEY (customer_id, segment_id)) WITHOUT ROWID;"

	"CREATE TABLE zones (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
	"CREATE TABLE campaigns ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  zone_id INTEGER NOT NULL REFERENCES zones(id),"
	"  event TEXT NOT NULL CHECK (event IN ('enter','dwell','exit')),"
	"  segment_id INTEGER REFERENCES segments(id),"
	"  min_dwell_s INTEGER NOT NULL DEFAULT 0 CHECK (min_dwell_s >= 0),"
	"  cooldown_s INTEGER NOT NULL DEFAULT 0 CHECK (cooldown_s >= 0),"
	"  daily_cap INTEGER NOT NULL DEFAULT 0 CHECK (daily_cap >= 0),"
	"  channels TEXT NOT NULL DEFAULT '',"
	"  valid_from INTEGER,"
	"  valid_until INTEGER,"
	"  hours_from INTEGER CHECK (hours_from IS NULL OR hours_from BETWEEN 0 AND 1440),"
	"  hours_until INTEGER CHECK (hours_until IS NULL OR hours_until BETWEEN 0 AND 1440),"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL);"

	/* Written by the daemon; zone by name as configured on the gateway. */
	"CREATE TABLE visits ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  zone TEXT NOT NULL,"
	"  entered_at INTEGER NOT NULL,"
	"  exited_at INTEGER,"
	"  dwell_s INTEGER,"
	"  max_rssi INTEGER);"
	"CREATE INDEX visits_customer ON visits(customer_id);"
	"CREATE INDEX visits_entered ON visits(entered_at);"

	/* Every trigger sent, for cooldown and daily cap across restarts. */
	"CREATE TABLE trigger_log ("
	"  id INTEGER PRIMARY KEY,"
	"  trigger_id TEXT NOT NULL UNIQUE,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,"
	"  at INTEGER NOT NULL);"
	"CREATE INDEX trigger_log_recent ON trigger_log(at, customer_id, campaign_id);"
	"CREATE INDEX trigger_log_customer ON trigger_log(customer_id);"
	"CREATE INDEX trigger_log_campaign ON trigger_log(campaign_id);"

	/* Durable outbox of the publisher: a row lives until the broker's PUBACK. */
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  trigger_id TEXT NOT NULL UNIQUE,"
	"  created_us INTEGER NOT NULL,"
	"  topic TEXT NOT NULL,"
	"  payload TEXT NOT NULL,"
	"  customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,"
	"  attempts INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX outbox_customer ON outbox(customer_id);"

	"CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"

	/* Append-only. Never holds a customer_ref or identifier value (see
	 * store.h); customer_id is a plain number, not a foreign key, so that the
	 * log outlives the customer. */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  customer_id INTEGER,"
	"  before TEXT,"
	"  after TEXT);"
	"CREATE INDEX audit_customer ON audit(customer_id);"
	"CREATE INDEX audit_at ON audit(at);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;";

/*
 * v2: kv 'consent_generation' moves with every commit that changes what the
 * data path's snapshot is built from (snapshot.c reads customers,
 * identifiers, consents, segments, customer_segments, campaigns and zones);
 * the daemon reloads its snapshot only when it moves, not for its own writes
 * (visits, trigger_log, outbox) nor for the audit log. store_commit() moves
 * it once per store transaction; these triggers move it for any writer (a
 * manual sqlite3 session included) on every UPDATE and DELETE and on INSERTs
 * into the small tables. Not on INSERTs into customers, identifiers, consents
 * and customer_segments: a CSV import makes millions, and a row trigger (SQLite
 * has no statement triggers) there took a 1 M-row import from 22 s to 65 s;
 * those inserts are the store API's (they need their audit rows) and are
 * covered by store_commit().
 */
#define GEN_TRIGGER(table, op, tag)                                                          \
	"CREATE TRIGGER IF NOT EXISTS consent_gen_" table "_" tag " AFTER " op " ON " table   \
	" BEGIN UPDATE kv SET value = CAST(value AS INTEGER) + 1 "                            \
	"WHERE key = 'consent_generation'; END;"

static const char schema_v2[] =
	"INSERT OR IGNORE INTO kv (key, value) VALUES ('consent_generation', '0');"
	GEN_TRIGGER("customers", "UPDATE", "upd")
	GEN_TRIGGER("customers", "DELETE", "del")
	GEN_TRIGGER("identifiers", "UPDATE", "upd")
	GEN_TRIGGER("identifiers", "DELETE", "del")
	GEN_TRIGGER("consents", "UPDATE", "upd")
	GEN_TRIGGER("consents", "DELETE", "del")
	GEN_TRIGGER("segments", "INSERT", "ins")
	GEN_TRIGGER("segments", "UPDATE", "upd")
	GEN_TRIGGER("segments", "DELETE", "del")
	GEN_TRIGGER("customer_segments", "UPDATE", "upd")
	GEN_TRIGGER("customer_segments", "DELETE", "del")
	GEN_TRIGGER("zones", "INSERT", "ins")
	GEN_TRIGGER("zones", "UPDATE", "upd")
	GEN_TRIGGER("zones", "DELETE", "del")
	GEN_TRIGGER("campaigns", "INSERT", "ins")
	GEN_TRIGGER("campaigns", "UPDATE", "upd")
	GEN_TRIGGER("campaigns", "DELETE", "del")
;

/*
 * v3: AltBeacon identifiers ('altbeacon', value "0xCOMPANY:BEACONID"). A
 * CHECK cannot be altered in SQLite: the table is rebuilt with the same rows
 * (ids kept) and its index and generation triggers are made again.
 */
static const char schema_v3[] =
	"CREATE TABLE identifiers_v3 ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  type TEXT NOT NULL CHECK (type IN ('ibeacon','eddystone-uid','eddystone-eid','irk',"
	"                                     'altbeacon')),"
	"  value TEXT NOT NULL,"
	"  key BLOB CHECK (key IS NULL OR length(key) = 16),"
	"  exponent INTEGER CHECK (exponent IS NULL OR exponent BETWEEN 0 AND 15),"
	"  clock_offset INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (type, value));"
	"INSERT INTO identifiers_v3 SELECT id, customer_id, type, value, key, exponent, "
	"  clock_offset, created_at FROM identifiers;"
	"DROP TABLE identifiers;"
	"ALTER TABLE identifiers_v3 RENAME TO identifiers;"
	"CREATE INDEX identifiers_customer ON identifiers(customer_id);"
	GEN_TRIGGER("identifiers", "UPDATE", "upd")
	GEN_TRIGGER("identifiers", "DELETE", "del")
;

/*
 * v4: erasure reaches the audit log. The log stays append-only, with one
 * exception: once a customer row is gone (forget), their earlier audit rows
 * may lose their before / after text -- which holds free-text consent
 * sources ("mqtt seq 42" points back to a signed payload that names them)
 * and salted fingerprints -- and nothing else: id, time, actor, action and
 * subject stay, so the log still shows what happened, to an id nobody can
 * link to a person any more.
 */
static const char schema_v4[] =
	"DROP TRIGGER audit_no_update;"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN NOT ("
	"  OLD.customer_id IS NOT NULL AND NEW.customer_id IS OLD.customer_id AND"
	"  NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.actor = OLD.actor AND"
	"  NEW.action = OLD.action AND NEW.subject = OLD.subject AND"
	"  NEW.before IS NULL AND NEW.after IS NULL AND"
	"  NOT EXISTS (SELECT 1 FROM customers WHERE id = OLD.customer_id)) "
	"BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;";

/*
 * v5: the store's own beacons, registered by name (beaconctl beacon add):
 * how to recognise each (type and normalised value: an iBeacon, an
 * Eddystone UID, a UID namespace, a URL, or the address of a TLM-only
 * beacon) and where it hangs. No person is in this table.
 */
static const char schema_v5[] =
	"CREATE TABLE IF NOT EXISTS store_beacons ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  type TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  place TEXT NOT NULL DEFAULT '',"
	"  added_at INTEGER NOT NULL,"
	"  UNIQUE (type, value));";

/*
 * v6: the fleet's change log. In an authority database (kv 'fleet.authority'
 * set by beaconhub), every committed change to what a gateway's snapshot is
 * built from leaves a row naming the customer or campaign it touched, in the
 * same transaction as the change: a hub killed at any moment finds every
 * committed change still to be signed. customers rows carry the reference,
 * so an erasure can still be passed on after the customer row is gone; the
 * hub deletes the rows once it signed their change. fleet_outbox holds the
 * signed messages until the broker acknowledged them, fleet_gateways what
 * each gateway last said in its retained status (beaconctl fleet).
 * On a gateway's database the WHEN clause keeps the triggers idle. IF NOT
 * EXISTS: v3 rebuilds identifiers (and drops its triggers), so running the
 * steps again from an older user_version must be possible.
 */
#define FLEET_GATE " WHEN EXISTS (SELECT 1 FROM kv WHERE key = 'fleet.authority') "
#define FLEET_TRIGGER(table, op, tag, kind, cid, name)                                       \
	"CREATE TRIGGER IF NOT EXISTS fleet_" table "_" tag " AFTER " op " ON " table        \
	FLEET_GATE                                                                            \
	"BEGIN INSERT INTO fleet_changes (kind, customer_id, name) VALUES ('" kind "', "     \
	cid ", " name "); END;"

static const char schema_v6[] =
	"CREATE TABLE IF NOT EXISTS fleet_changes ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind TEXT NOT NULL CHECK (kind IN ('customer','campaign')),"
	"  customer_id INTEGER,"
	"  name TEXT);"
	"CREATE TABLE IF NOT EXISTS fleet_outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  key TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  msg TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS fleet_gateways ("
	"  gateway TEXT PRIMARY KEY,"
	"  consent_seq INTEGER,"
	"  current INTEGER NOT NULL DEFAULT 0,"
	"  online INTEGER NOT NULL DEFAULT 0,"
	"  last_seen INTEGER NOT NULL,"
	"  reason TEXT,"
	"  key TEXT) WITHOUT ROWID;"
	FLEET_TRIGGER("customers", "INSERT", "ins", "customer", "NEW.id", "NEW.customer_ref")
	FLEET_TRIGGER("customers", "UPDATE", "upd", "customer", "NEW.id", "NEW.customer_ref")
	FLEET_TRIGGER("customers", "DELETE", "del", "customer", "OLD.id", "OLD.customer_ref")
	FLEET_TRIGGER("identifiers", "INSERT", "ins", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("identifiers", "UPDATE", "upd", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("identifiers", "DELETE", "del", "customer", "OLD.customer_id", "NULL")
	FLEET_TRIGGER("consents", "INSERT", "ins", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("consents", "UPDATE", "upd", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("consents", "DELETE", "del", "customer", "OLD.customer_id", "NULL")
	FLEET_TRIGGER("customer_segments", "INSERT", "ins", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("customer_segments", "DELETE", "del", "customer", "OLD.customer_id", "NULL")
	FLEET_TRIGGER("campaigns", "INSERT", "ins", "campaign", "NULL", "NEW.name")
	FLEET_TRIGGER("campaigns", "UPDATE", "upd", "campaign", "NULL", "NEW.name")
	FLEET_TRIGGER("campaigns", "DELETE", "del", "campaign", "NULL", "OLD.name")
;

/*
 * v7: a compact audit for bulk imports. A CSV import used to leave one audit
 * row per customer with its actor, action, subject and a JSON document
 * repeating every key name: ~290 of the ~740 bytes a customer took. Now an
 * import leaves one audit_bulk row (time, actor) and per new customer one
 * audit_import row keyed by the customer id (ids are never reused, a
 * customer is created once) holding its place in the audit's id sequence and
 * what arrived in a few bytes (store_audit_import.c); beaconctl audit and
 * the export render it as the same 'customer.import' entry as before.
 * Earlier rows stay as they are (append-only). The same rule as v4: once
 * the customer is gone, detail may become NULL, nothing else changes.
 * audit_at goes: the listing reads the whole log in id order anyway.
 * sqlite_sequence gets its 'audit' row now, so that the import can draw ids
 * from it before the audit table ever had a row. IF NOT EXISTS: the steps
 * may run again from an older user_version (see v6).
 */
static const char schema_v7[] =
	"CREATE TABLE IF NOT EXISTS audit_bulk ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS audit_import ("
	"  customer_id INTEGER PRIMARY KEY,"
	"  id INTEGER NOT NULL,"
	"  bulk INTEGER NOT NULL REFERENCES audit_bulk(id),"
	"  detail BLOB);"
	"CREATE TRIGGER IF NOT EXISTS audit_bulk_no_update BEFORE UPDATE ON audit_bulk "
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_bulk_no_delete BEFORE DELETE ON audit_bulk "
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_import_no_update BEFORE UPDATE ON audit_import WHEN NOT ("
	"  NEW.customer_id = OLD.customer_id AND NEW.id = OLD.id AND NEW.bulk = OLD.bulk AND"
	"  NEW.detail IS NULL AND"
	"  NOT EXISTS (SELECT 1 FROM customers WHERE id = OLD.customer_id)) "
	"BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"CREATE TRIGGER IF NOT EXISTS audit_import_no_delete BEFORE DELETE ON audit_import "
	"  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
	"INSERT INTO sqlite_sequence (name, seq) SELECT 'audit', "
	"  coalesce((SELECT max(id) FROM audit), 0) "
	"  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'audit');"
	"DROP INDEX IF EXISTS audit_at;";

/*
 * v8: the sites a campaign is for, as the authority's campaigns carry them
 * to the fleet: a comma-separated list of [gateway] site names; no row is
 * every site. A gateway keeps only the campaigns for its own site (the row
 * is kept there too, so what it holds compares equal to what the hub
 * signs). A table of its own rather than a column: CREATE ... IF NOT
 * EXISTS keeps the steps re-runnable, which ALTER TABLE ADD COLUMN is not.
 * Retargeting leaves the campaign's fleet change like any campaign change
 * (a row whose campaign is already gone names nothing and is skipped).
 */
static const char schema_v8[] =
	"CREATE TABLE IF NOT EXISTS campaign_sites ("
	"  campaign_id INTEGER PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,"
	"  sites TEXT NOT NULL CHECK (sites <> ''));"
	FLEET_TRIGGER("campaign_sites", "INSERT", "ins", "campaign", "NULL",
		      "(SELECT name FROM campaigns WHERE id = NEW.campaign_id)")
	FLEET_TRIGGER("campaign_sites", "UPDATE", "upd", "campaign", "NULL",
		      "(SELECT name FROM campaigns WHERE id = NEW.campaign_id)")
	FLEET_TRIGGER("campaign_sites", "DELETE", "del", "campaign", "NULL",
		      "(SELECT name FROM campaigns WHERE id = OLD.campaign_id)")
;

/*
 * v9: identifiers in their binary form, consents clustered by customer:
 * what a gateway needs per customer, in fewer bytes (460 -> 278 a customer
 * after a CSV import of 100,000).
 * Identifiers: the canonical text was stored twice (table and the UNIQUE
 * (type, value) index), ~55 bytes each for an iBeacon, and an
 * Eddystone-EID's or IRK's key twice again (hex and blob). Now type is enum
 * store_id_type's number and value the bytes the gateway matches
 * (store_identifier_from_stored() makes the text back); key stays as a
 * virtual column, so readers of the key and a manual sqlite3 session see it
 * as before, at no cost. The text is converted by bgw_identifier_stored()
 * (store_ident.c), which the migration registers on its connection (SQLite
 * 3.40 has no unhex()). K and offset are kept for Eddystone-EID rows only:
 * an import used to leave the last EID's on the rows after it.
 * Both tables keep their rows and ids. Rebuilding a table drops its
 * indexes and triggers: they are made again (v2, v6).
 */
static const char schema_v9[] =
	"CREATE TABLE identifiers_v9 ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 5),"
	"  value BLOB NOT NULL CHECK (length(value) BETWEEN 16 AND 22),"
	"  exponent INTEGER CHECK (exponent IS NULL OR exponent BETWEEN 0 AND 15),"
	"  clock_offset INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  key BLOB GENERATED ALWAYS AS (CASE WHEN type IN (3, 4) THEN value END) VIRTUAL,"
	"  UNIQUE (type, value));"
	"INSERT INTO identifiers_v9 (id, customer_id, type, value, exponent, clock_offset, "
	"  created_at) SELECT id, customer_id, CASE type WHEN 'ibeacon' THEN 1 "
	"  WHEN 'eddystone-uid' THEN 2 WHEN 'eddystone-eid' THEN 3 WHEN 'irk' THEN 4 "
	"  WHEN 'altbeacon' THEN 5 END, bgw_identifier_stored(type, value), "
	"  CASE WHEN type = 'eddystone-eid' THEN exponent END, "
	"  CASE WHEN type = 'eddystone-eid' THEN clock_offset END, created_at "
	"  FROM identifiers ORDER BY id;"
	"DROP TABLE identifiers;"
	"ALTER TABLE identifiers_v9 RENAME TO identifiers;"
	"CREATE INDEX identifiers_customer ON identifiers(customer_id);"
	GEN_TRIGGER("identifiers", "UPDATE", "upd")
	GEN_TRIGGER("identifiers", "DELETE", "del")
	FLEET_TRIGGER("identifiers", "INSERT", "ins", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("identifiers", "UPDATE", "upd", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("identifiers", "DELETE", "del", "customer", "OLD.customer_id", "NULL")

	/* Consents are read per customer and purpose, newest id last (the
	 * consent in force, the snapshot, the batch writes' STORE_SQL_IN_FORCE):
	 * clustered in that order, the table is its own index. purpose is enum
	 * store_purpose's number (0 presence, 1 retargeting: SQLite stores both
	 * in no bytes). A table without rowid numbers nothing: ids come from kv
	 * 'consent_next_id' (store_consent_next_id()), one sequence for all
	 * customers as before, never reused, so an archived row's id stays its
	 * own. source: the two a gateway writes most, 'import' and 'cli', as
	 * 0 and 1 (no bytes), any other as text; the column has no type so that
	 * SQLite keeps either as it is (store_bind_source()). */
	"CREATE TABLE consents_v9 ("
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  purpose INTEGER NOT NULL CHECK (purpose IN (0, 1)),"
	"  id INTEGER NOT NULL,"
	"  channels TEXT NOT NULL DEFAULT '',"
	"  granted_at INTEGER NOT NULL,"
	"  expires_at INTEGER,"
	"  withdrawn_at INTEGER,"
	"  source NOT NULL CHECK (source IN (0, 1) OR typeof(source) = 'text'),"
	"  policy_version TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (customer_id, purpose, id)) WITHOUT ROWID;"
	"INSERT INTO consents_v9 (customer_id, purpose, id, channels, granted_at, expires_at, "
	"  withdrawn_at, source, policy_version) SELECT customer_id, "
	"  CASE purpose WHEN 'presence' THEN 0 WHEN 'retargeting' THEN 1 END, id, channels, "
	"  granted_at, expires_at, withdrawn_at, "
	"  CASE source WHEN 'import' THEN 0 WHEN 'cli' THEN 1 ELSE source END, policy_version "
	"  FROM consents "
	"  ORDER BY customer_id, purpose, id;"
	"INSERT OR REPLACE INTO kv (key, value) VALUES ('consent_next_id', "
	"  1 + max(coalesce((SELECT max(id) FROM consents), 0), "
	"          coalesce((SELECT max(id) FROM consents_archive), 0)));"
	"DROP TABLE consents;"
	"ALTER TABLE consents_v9 RENAME TO consents;"
	GEN_TRIGGER("consents", "UPDATE", "upd")
	GEN_TRIGGER("consents", "DELETE", "del")
	FLEET_TRIGGER("consents", "INSERT", "ins", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("consents", "UPDATE", "upd", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("consents", "DELETE", "del", "customer", "OLD.customer_id", "NULL")
;

/*
 * v10: cheaper trigger history, visits and outbox rows for the daemon's group
 * commits (each index is one more b-tree insert per row and one more page in
 * the WAL per commit).
 * trigger_log kept four indexes; one on (customer_id, campaign_id, at)
 * serves every reader: the snapshot's history (the recent rows grouped by
 * customer and campaign, read from the index alone), the export and
 * holdings of one customer, and the deletion of a customer. The deletion of
 * a campaign and the purge by age (rare, by the operator) scan the table.
 * visits_entered goes: no query used it (the purge's condition is on
 * coalesce(exited_at, entered_at), the export reads one customer's visits
 * through visits_customer), yet every visit paid for it.
 * The outbox loses AUTOINCREMENT, which read and rewrote sqlite_sequence
 * for every row: the daemon hands out ids above the highest row and kv
 * 'outbox.last_id', which it keeps at or above every id it handed out
 * (store_outbox.h), so ids still only grow, across an emptied outbox and
 * restarts alike; the sequence's value moves to kv.
 * IF NOT EXISTS: the steps may run again from an older user_version (v6).
 */
static const char schema_v10[] =
	"DROP INDEX IF EXISTS trigger_log_recent;"
	"DROP INDEX IF EXISTS trigger_log_customer;"
	"DROP INDEX IF EXISTS trigger_log_campaign;"
	"CREATE INDEX IF NOT EXISTS trigger_log_person ON trigger_log(customer_id, campaign_id, at);"
	"DROP INDEX IF EXISTS visits_entered;"
	"INSERT OR REPLACE INTO kv (key, value) SELECT 'outbox.last_id', "
	"  max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0), "
	"      coalesce((SELECT max(id) FROM outbox), 0), "
	"      coalesce((SELECT CAST(value AS INTEGER) FROM kv WHERE key = 'outbox.last_id'), 0));"
	"DROP TABLE IF EXISTS outbox_v10;"
	"CREATE TABLE outbox_v10 ("
	"  id INTEGER PRIMARY KEY,"
	"  trigger_id TEXT NOT NULL UNIQUE,"
	"  created_us INTEGER NOT NULL,"
	"  topic TEXT NOT NULL,"
	"  payload TEXT NOT NULL,"
	"  customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,"
	"  attempts INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO outbox_v10 SELECT id, trigger_id, created_us, topic, payload, customer_id, "
	"  attempts FROM outbox;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_v10 RENAME TO outbox;"
	"CREATE INDEX outbox_customer ON outbox(customer_id);";

/*
 * v11: identifiers clustered by what identifies them. A rowid table kept
 * every identifier twice, in the table and in its UNIQUE (type, value)
 * index (~42 bytes a customer after an import); now (type, value) is the
 * primary key of a table without rowid, which is its own index: the
 * enrolment check and every lookup by value (removal, import, fleet) is
 * one seek, and identifiers_customer (a customer's identifiers, and the
 * "an identifier left" part of STORE_SQL_IN_FORCE: one seek on an index
 * that holds the whole key) stays. The rowid was nobody's reference: the
 * snapshot numbers identifiers in its own arrays, the audit names them by
 * salted fingerprint, the fleet and the export by value; a customer's
 * identifiers are listed by created_at, then type and value. The index is
 * made after the rows are copied, so its pages are full. id stays as a
 * virtual column that is always NULL and costs no byte: steps v3 and v9
 * name it, and the steps must run again from an older user_version (v6).
 * Rebuilding the table drops its triggers: they are made again (v2, v6).
 */
static const char schema_v11[] =
	"CREATE TABLE identifiers_v11 ("
	"  type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 5),"
	"  value BLOB NOT NULL CHECK (length(value) BETWEEN 16 AND 22),"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,"
	"  exponent INTEGER CHECK (exponent IS NULL OR exponent BETWEEN 0 AND 15),"
	"  clock_offset INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  key BLOB GENERATED ALWAYS AS (CASE WHEN type IN (3, 4) THEN value END) VIRTUAL,"
	"  id INTEGER GENERATED ALWAYS AS (NULL) VIRTUAL,"
	"  PRIMARY KEY (type, value)) WITHOUT ROWID;"
	"INSERT INTO identifiers_v11 (type, value, customer_id, exponent, clock_offset, "
	"  created_at) SELECT type, value, customer_id, exponent, clock_offset, created_at "
	"  FROM identifiers ORDER BY type, value;"
	"DROP TABLE identifiers;"
	"ALTER TABLE identifiers_v11 RENAME TO identifiers;"
	"CREATE INDEX identifiers_customer ON identifiers(customer_id);"
	GEN_TRIGGER("identifiers", "UPDATE", "upd")
	GEN_TRIGGER("identifiers", "DELETE", "del")
	FLEET_TRIGGER("identifiers", "INSERT", "ins", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("identifiers", "UPDATE", "upd", "customer", "NEW.customer_id", "NULL")
	FLEET_TRIGGER("identifiers", "DELETE", "del", "customer", "OLD.customer_id", "NULL")
;

const char *const store_migrations[STORE_SCHEMA_VERSION] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
	schema_v7,
	schema_v8,
	schema_v9,
	schema_v10,
	schema_v11,
};
