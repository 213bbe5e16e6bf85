/*
 * store.h - the consent store: one SQLite database shared by beacongw and
 * beaconctl (customers, identifiers, consents, segments, campaigns, visits,
 * trigger history, outbox, append-only audit log).
 *
 * Every change has two forms:
 *   store_x(db, actor, ...)     runs in its own transaction (BEGIN IMMEDIATE ..
 *                               COMMIT; rolled back on any error);
 *   store_x_tx(db, actor, ...)  assumes the caller issued store_begin() and
 *                               will store_commit() or store_rollback() --
 *                               for callers that group several changes (signed
 *                               consent updates, CSV import).
 * Each change appends one audit row. Audit rows never hold a customer_ref or an
 * identifier value: subjects are internal ids ("customer:42") and identifiers
 * appear only as fingerprints salted per customer, so forgetting a customer
 * (which deletes the salt) leaves nothing in the log that points back to them.
 *
 * Errors: functions return STORE_OK or a negative enum store_rc and write one
 * line (no trailing newline) into err[STORE_ERRLEN] when err is not NULL.
 */
#ifndef BGW_STORE_H
#define BGW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#define STORE_ERRLEN 256
#define STORE_SCHEMA_VERSION 11
/* Oldest schema a read-only open accepts as is: v2 only added the
 * consent_generation triggers and kv row, v3 the audit redaction of forget,
 * which readers do not need; where a later step changed how rows are
 * stored (v9: identifiers), temporary views show them in the new form
 * (store_compat.c). */
#define STORE_SCHEMA_READABLE 1
#define STORE_DEFAULT_BUSY_MS 2000
#define STORE_REF_MAX 63        /* longest customer_ref / segment / zone / campaign / channel */
/* What the daemon's snapshot can hold (snapshot.h); the store's changes
 * refuse to go past them, so that a store beaconctl accepted always loads. */
#define STORE_CHANNELS_MAX 32   /* distinct channel names, consents and campaigns together */
#define STORE_POLICIES_MAX 65535 /* distinct consent policy versions */
#define STORE_POLICY_LEN_MAX 31

enum store_rc {
	STORE_OK = 0,
	STORE_EINVAL = -1,      /* bad data: syntax, range, unknown purpose ... */
	STORE_ENOENT = -2,      /* no such customer / identifier / segment / campaign */
	STORE_EEXIST = -3,      /* duplicate: customer_ref, identifier, campaign name */
	STORE_EBUSY = -4,       /* database locked by another process */
	STORE_EREADONLY = -5,   /* database (or its directory) not writable */
	STORE_ECORRUPT = -6,    /* not a database, or damaged */
	STORE_ESCHEMA = -7,     /* schema newer than this binary, or not initialised */
	STORE_EIO = -8,         /* cannot open, disk full, other I/O failure */
	STORE_ENOMEM = -9,
	STORE_ENDED = -10,      /* the person's consent for the purpose ended: nothing written */
};

/* store_open flags */
#define STORE_OPEN_CREATE   0x1  /* create the file and the schema if missing (beaconctl init) */
#define STORE_OPEN_READONLY 0x2  /* open read-only: queries only, no migration */

/* path may be a SQLite URI ("file:x.db?mode=ro"). Applies pending migrations
 * (each in its own transaction). On error *out is NULL. Waits up to
 * STORE_DEFAULT_BUSY_MS for another writer's lock. */
int store_open(const char *path, unsigned flags, sqlite3 **out, char err[STORE_ERRLEN]);

/*
 * Every connection, in every program, is opened here and gets the same
 * recipe (foreign keys, secure_delete, synchronous=FULL, WAL). What a user
 * of a connection may choose is only what the options below say.
 */
struct store_open_opts {
	unsigned flags;         /* STORE_OPEN_* */
	int busy_ms;            /* how long to wait for another writer's lock; 0 = never
				 * (inside the daemon's event loop) */
	int cache_kib;          /* bound of the connection's page cache, 0 = SQLite's default */
};
int store_open_with(const char *path, const struct store_open_opts *o, sqlite3 **out,
		    char err[STORE_ERRLEN]);
/* Change how long db waits for another writer's lock (0 = never). */
void store_busy_timeout(sqlite3 *db, int ms);
/* Finalizes every statement the store cached on db and closes it. */
void store_close(sqlite3 *db);
int store_schema_version(sqlite3 *db);

/* Transactions for the *_tx variants. store_begin takes the write lock at once
 * (BEGIN IMMEDIATE), so a locked database is reported before any change. */
int store_begin(sqlite3 *db, char *err);
int store_commit(sqlite3 *db, char *err);
void store_rollback(sqlite3 *db);
/* Ends a store_begin() transaction: commits when rc is STORE_OK, otherwise
 * rolls back; returns the final status. */
int store_tx_end(sqlite3 *db, int rc, char *err);

/* PRAGMA data_version: changes whenever another connection commits. */
uint64_t store_data_version(sqlite3 *db);
/* kv 'consent_generation': moves with every committed change to a table the
 * snapshot is built from (schema triggers), and with nothing else. Read it
 * BEFORE store_snapshot_load(): a change in between then only costs one more
 * load, never a missed one. STORE_OK or an error (*gen untouched). */
int store_consent_generation(sqlite3 *db, uint64_t *gen, char *err);

/* Builds the data path's snapshot (snapshot.h) in one read transaction;
 * 0, or a negative enum store_rc with a message in err[n]: STORE_EINVAL when
 * the store holds more than the snapshot can (the limits below),
 * STORE_ENOMEM, STORE_ESCHEMA for a schema this program does not know, other
 * codes for I/O. Free with snapshot_free(). */
struct snapshot;
int store_snapshot_load(sqlite3 *db, struct snapshot **out, char *err, size_t n);

/* ---- identifiers (text syntax shared with the CLI and CSV import) ---- */
/* The numbers are identifiers.type in the database (schema v9): never renumber. */
enum store_id_type {
	STORE_ID_IBEACON = 1,
	STORE_ID_EDDYSTONE_UID = 2,
	STORE_ID_EDDYSTONE_EID = 3,
	STORE_ID_IRK = 4,
	STORE_ID_ALTBEACON = 5,
};

struct store_identifier {
	enum store_id_type type;
	char value[80];        /* canonical text: uuid:major:minor | ns:inst | key hex
	                        * | 0xcompany:beacon id */
	uint8_t bytes[22];     /* binary form (ibeacon 20, uid 16, altbeacon 22: company
	                        * id big-endian then the 20-byte beacon id) or the key */
	size_t n_bytes;
	uint8_t exponent;      /* eddystone-eid only */
	int64_t clock_offset;  /* eddystone-eid only: tag counter = unix time - offset */
};

/* "ibeacon" | "eddystone-uid" | "eddystone-eid" | "irk" | "altbeacon" -> type; 0 if unknown. */
enum store_id_type store_id_type_parse(const char *s);
const char *store_id_type_name(enum store_id_type t);
/* Parse VALUE for type (case-insensitive hex); canonicalises into id->value. */
int store_identifier_parse(enum store_id_type type, const char *text,
			   struct store_identifier *id, char *err);
/* "TYPE VALUE" in one string (CSV cells). */
int store_identifier_parse_pair(const char *text, struct store_identifier *id, char *err);
/*
 * The stored form (identifiers.type, identifiers.value since schema v9): the
 * type's number (enum store_id_type) and the binary bytes (iBeacon 20,
 * Eddystone-UID 16, AltBeacon 22, the key of an Eddystone-EID or IRK 16).
 * The canonical text is made from the bytes, so every reader shows what the
 * parser would. from_stored: STORE_EINVAL for a type or length that is not
 * one of these. column_identifier reads columns col (type) and col + 1
 * (value) of a row; bind_identifier binds the same two parameters.
 */
int store_identifier_from_stored(int type, const void *bytes, int n, struct store_identifier *id);
int store_column_identifier(sqlite3_stmt *st, int col, struct store_identifier *id);
void store_bind_identifier(sqlite3_stmt *st, int col, const struct store_identifier *id);
/* Full user-facing text incl. exponent/offset for EID; keys included. */
void store_identifier_format(const struct store_identifier *id, char *buf, size_t n);
/* First 8 hex digits of SHA-256 over data (shown instead of keys). */
void store_fingerprint(const void *data, size_t n, char out[9]);

/* ---- consents ---- */
/* The numbers are consents.purpose in the database (schema v9): never renumber. */
enum store_purpose { STORE_PRESENCE = 0, STORE_RETARGETING = 1 };
int store_purpose_parse(const char *s, enum store_purpose *p);
const char *store_purpose_name(enum store_purpose p);
/* A consent's source in column col of a row: consents store 'import' and
 * 'cli' as numbers (schema v9), any other as text ("" if none). */
const char *store_column_source(sqlite3_stmt *st, int col);
/* The name of the purpose in column col of a row: consents store the
 * number, consents_archive the name ("?" if neither). */
const char *store_column_purpose(sqlite3_stmt *st, int col);

struct store_grant {
	enum store_purpose purpose;
	const char *channels;  /* comma separated, "" = none named */
	int64_t granted_at;    /* 0 = now */
	int64_t expires_at;    /* 0 = never */
	const char *source;    /* NULL = "cli" */
	const char *policy;    /* NULL = "" */
};

/* Validates one channel / segment / zone / campaign name: [A-Za-z0-9._-]{1,63}. */
int store_name_check(const char *what, const char *name, char *err);
/* Validates and normalises "a,b,a" -> "a,b" (for channels lists). */
int store_channels_normalise(const char *in, char *out, size_t n, char *err);

/* ---- changes (own transaction) ---- */
int store_customer_add(sqlite3 *db, const char *actor, const char *ref, char *err);
int store_customer_remove(sqlite3 *db, const char *actor, const char *ref, char *err);
int store_identifier_add(sqlite3 *db, const char *actor, const char *ref,
			 const struct store_identifier *id, char *err);
int store_identifier_remove(sqlite3 *db, const char *actor, const struct store_identifier *id,
			    char *err);
int store_consent_grant(sqlite3 *db, const char *actor, const char *ref,
			const struct store_grant *g, char *err);
int store_consent_withdraw(sqlite3 *db, const char *actor, const char *ref,
			   enum store_purpose p, char *err);
int store_segment_add(sqlite3 *db, const char *actor, const char *ref, const char *segment,
		      char *err);
int store_segment_remove(sqlite3 *db, const char *actor, const char *ref, const char *segment,
			 char *err);

struct store_campaign {
	const char *name, *zone, *segment;   /* segment NULL = any customer */
	int event;                           /* 0 enter, 1 dwell, 2 exit (enum snap_event) */
	uint32_t min_dwell_s, cooldown_s, daily_cap;
	const char *channels;                /* comma separated, "" = any */
	int64_t valid_from, valid_until;     /* 0 = open */
	int32_t hours_from, hours_until;     /* minutes of the local day, -1 = always */
	bool enabled;
	const char *sites;                   /* comma separated [gateway] sites, NULL/"" = all */
};
int store_event_parse(const char *s);   /* enter|dwell|exit -> 0..2, -1 otherwise */
const char *store_event_name(int event);
int store_campaign_add(sqlite3 *db, const char *actor, const struct store_campaign *c, char *err);
int store_campaign_remove(sqlite3 *db, const char *actor, const char *name, char *err);
int store_campaign_add_tx(sqlite3 *db, const char *actor, const struct store_campaign *c,
			  char *err);
int store_campaign_remove_tx(sqlite3 *db, const char *actor, const char *name, char *err);
#define STORE_SITES_MAX 4096    /* longest normalised site list, in bytes with its NUL */
/* Validates and normalises a site list ("s2,s1,s2" -> "s2,s1"; "" = all sites). */
int store_sites_normalise(const char *in, char *out, size_t n, char *err);
/* Retargets a campaign to sites ("" = all): in an authority database the
 * fleet then adds it on the gateways of those sites and removes it elsewhere. */
int store_campaign_target(sqlite3 *db, const char *actor, const char *name, const char *sites,
			  char *err);
int store_campaign_target_tx(sqlite3 *db, const char *actor, const char *name, const char *sites,
			     char *err);

/* Erasure: deletes the customer and everything about them, empties the
 * before / after text of their earlier audit rows (action and time stay),
 * appends a tombstone (counts only), then VACUUMs and truncates the WAL so the deleted bytes leave the files.
 * If only the final clean-up could not run (another process kept reading), the
 * erasure itself is committed, STORE_OK is returned and *cleanup_ok is false. */
int store_forget(sqlite3 *db, const char *actor, const char *ref, bool *cleanup_ok, char *err);

struct store_purge_result {
	int64_t visits, consents_archived, trigger_log;
	int64_t queued_dropped;   /* outbox rows whose consent is no longer in force */
};
/* Retention: visits and trigger history older than days, consents whose
 * expiry has passed are moved to consents_archive, and queued outbox rows of
 * customers whose consent for their purpose is no longer in force are
 * deleted. */
int store_purge(sqlite3 *db, const char *actor, int days, int64_t now,
		struct store_purge_result *r, char *err);

/* ---- the same, inside a caller-held transaction ---- */
int store_customer_add_tx(sqlite3 *db, const char *actor, const char *ref, int64_t *id,
			  char *err);
int store_customer_remove_tx(sqlite3 *db, const char *actor, const char *ref, char *err);
int store_identifier_add_tx(sqlite3 *db, const char *actor, const char *ref,
			    const struct store_identifier *id, char *err);
int store_identifier_remove_tx(sqlite3 *db, const char *actor,
			       const struct store_identifier *id, char *err);
int store_consent_grant_tx(sqlite3 *db, const char *actor, const char *ref,
			   const struct store_grant *g, char *err);
int store_consent_withdraw_tx(sqlite3 *db, const char *actor, const char *ref,
			      enum store_purpose p, char *err);
int store_segment_add_tx(sqlite3 *db, const char *actor, const char *ref, const char *segment,
			 char *err);
int store_segment_remove_tx(sqlite3 *db, const char *actor, const char *ref,
			    const char *segment, char *err);

/*
 * New customers handed over whole (the fleet's snapshot and changes),
 * audited like a CSV import's (schema v7): one audit_bulk row for the batch,
 * whose actor says where they came from, and one compact entry per customer
 * that beaconctl audit and the export show as 'customer.fleet' (actor
 * "fleet:...") or 'customer.import'. Per customer: _customer_tx, then its
 * identifiers, consents and segments, then _done_tx. The ids of the entries
 * are counted, not written back: store_bulk_add_sync_tx() must run before
 * anything else appends to the audit log in the same transaction, and
 * before the commit. Each change is checked as its _tx form above checks it.
 */
struct store_bulk_add;
struct store_bulk_add *store_bulk_add_new(const char *actor);
void store_bulk_add_free(struct store_bulk_add *b);
int store_bulk_add_customer_tx(sqlite3 *db, struct store_bulk_add *b, const char *ref,
			       int64_t *id, char *err);
int store_bulk_add_identifier_tx(sqlite3 *db, struct store_bulk_add *b,
				 const struct store_identifier *id, char *err);
int store_bulk_add_consent_tx(sqlite3 *db, struct store_bulk_add *b, const struct store_grant *g,
			      char *err);
int store_bulk_add_segment_tx(sqlite3 *db, struct store_bulk_add *b, const char *ref,
			      const char *segment, char *err);
int store_bulk_add_done_tx(sqlite3 *db, struct store_bulk_add *b, char *err);
int store_bulk_add_sync_tx(sqlite3 *db, struct store_bulk_add *b, char *err);

/* Deletes everything about ref and appends the tombstone; the caller commits
 * and should then call store_forget_cleanup() outside the transaction. */
int store_forget_tx(sqlite3 *db, const char *actor, const char *ref, char *err);
/* VACUUM + wal_checkpoint(TRUNCATE). STORE_EBUSY if readers kept the WAL. */
int store_forget_cleanup(sqlite3 *db, char *err);

/* Whether the store holds any customer (true when that cannot be read). */
bool store_has_customers(sqlite3 *db);
/* Rewrites the file with full pages (VACUUM + wal_checkpoint(TRUNCATE)),
 * outside a transaction: after an erasure (store_forget_cleanup()) and a
 * first bulk load into an empty store (store_compact.c). STORE_EBUSY if
 * readers kept the WAL. */
int store_compact(sqlite3 *db, char *err);

/* What a change that ends consent takes out of the outbox (bit mask). */
#define STORE_QUEUED_TRIGGERS 0x1u   /* retargeting ended */
#define STORE_QUEUED_VISITS   0x2u   /* presence ended (rows on a .../visit topic) */
#define STORE_QUEUED_ALL      0x3u
/* Deletes customer_id's outbox rows of that kind; every store change that
 * ends consent (withdraw, identifier remove, expiry in the purge; customer
 * remove and forget by cascade) calls it in its own transaction, so a queued
 * message never outlives the consent it was made under. */
int store_outbox_drop_tx(sqlite3 *db, int64_t customer_id, unsigned what, int64_t *dropped,
			 char *err);

/* Appends an audit row. subject like "customer:42"; before/after JSON or NULL. */
int store_audit_append(sqlite3 *db, const char *actor, const char *action, const char *subject,
		       int64_t customer_id, const char *before, const char *after, char *err);

/* The snapshot's limits, checked inside the caller's transaction before it
 * commits: channels_csv / policy are what the change adds (NULL = nothing;
 * both NULL = check the whole store, as after an import). STORE_EINVAL with
 * a message when the store would hold more than the daemon can load. */
int store_limits_check_tx(sqlite3 *db, const char *channels_csv, const char *policy, char *err);

/* ---- kv (e.g. the last applied consent-update sequence) ---- */
/* Returns STORE_ENOENT when absent; value is NUL-terminated, truncated to n. */
int store_kv_get(sqlite3 *db, const char *key, char *value, size_t n, char *err);
int store_kv_set(sqlite3 *db, const char *key, const char *value, char *err);

/* The signed-update sequence (store_consent_seq.c): the last update applied
 * and the highest verified one received; seen > last means updates were
 * missed and the daemon acts on nobody until they are re-sent. */
#define STORE_KV_CONSENT_LAST_SEQ "consent.last_seq"
#define STORE_KV_CONSENT_SEEN_SEQ "consent.seen_seq"
int store_consent_seq_get(sqlite3 *db, int64_t *last, int64_t *seen, char *err);
/* Declares the full state in this database to be that of update seq (after
 * a full re-import): last = seq, audited. Refuses to go backwards. */
int store_consent_seq_set(sqlite3 *db, const char *actor, int64_t seq, char *err);

/* ---- queries ---- */
/* customers.id of ref, STORE_ENOENT if none. */
int store_customer_id(sqlite3 *db, const char *ref, int64_t *id, char *err);
/* The key, exponent and clock offset of the customer's first eddystone-eid
 * identifier; STORE_ENOENT if they have none. Errors in SQLite's words. */
int store_eid_key(sqlite3 *db, int64_t customer_id, uint8_t key[16], int *exponent,
		  int64_t *clock_offset, char err[STORE_ERRLEN]);
/* Query results as cJSON trees (caller cJSON_Delete()s); the CLI prints them
 * as JSON or renders them as tables. Times are ISO 8601 UTC strings. */
struct cJSON;
int store_customer_list(sqlite3 *db, struct cJSON **out, char *err);
int store_customer_show(sqlite3 *db, const char *ref, struct cJSON **out, char *err);
int store_consent_list(sqlite3 *db, const char *ref /* NULL = all */, struct cJSON **out,
		       char *err);
int store_campaign_list(sqlite3 *db, struct cJSON **out, char *err);
/* since: unix seconds (0 = all); ref NULL = all customers. */
int store_audit_list(sqlite3 *db, int64_t since, const char *ref, struct cJSON **out, char *err);
/* The whole GDPR Art. 15 document about ref. */
int store_export(sqlite3 *db, const char *ref, struct cJSON **out, char *err);

/* ---- CSV import (streaming, caller holds the transaction) ---- */
enum store_import_mode {
	/* Every row is a new customer; a ref already in the store is an error. */
	STORE_IMPORT_CREATE = 0,
	/* New refs are added; a listed customer gets what its row adds or
	 * changes (identifiers, consents, segments); nothing is removed and
	 * customers the file does not list are left alone. */
	STORE_IMPORT_UPDATE,
	/* The store is made equal to the file: as UPDATE, and a listed
	 * customer also loses the consents, identifiers and segments its row no
	 * longer names (an identifier the file gives to another customer moves);
	 * a customer the file does not list has every consent withdrawn but is
	 * kept, with identifiers, segments and audit history (forget erases). */
	STORE_IMPORT_SYNC,
};
struct store_import_stats {
	uint64_t rows;         /* data rows read */
	uint64_t identifiers, consents, segments;  /* added / granted / joined */
	uint64_t added;        /* customers created */
	uint64_t changed;      /* customers already there that the import changed */
	uint64_t unchanged;    /* customers listed whose data already matched */
	uint64_t withdrawn;    /* consents withdrawn (a customer may have two) */
	uint64_t identifiers_removed, segments_removed;
	uint64_t line;         /* the line being read (for errors) */
};
/* Progress callback: called every few thousand rows with bytes read so far. */
typedef void (*store_import_progress_fn)(void *ctx, uint64_t rows, uint64_t bytes);
/* Every change that ends a consent (withdrawal, identifier removal) goes
 * through store_consent_withdraw_tx() / store_identifier_remove_tx(): the
 * same audit rows and the same outbox purge as beaconctl. */
int store_import_csv_tx(sqlite3 *db, const char *actor, FILE *in, const char *policy,
			enum store_import_mode mode, store_import_progress_fn progress,
			void *progress_ctx, struct store_import_stats *st, char *err);
const char *store_import_mode_name(enum store_import_mode mode);

/* One parsed CSV row (fields point into the line buffer, which is modified). */
#define STORE_CSV_FIELDS 4
struct store_csv_row {
	char *field[STORE_CSV_FIELDS];  /* customer_ref, identifiers, consents, segments */
};
/* Splits one line (no newline) into 4 fields, RFC 4180 quoting, in place. */
int store_csv_split(char *line, struct store_csv_row *row, char *err);

/* Consent cell item: PURPOSE[@CH[+CH]...][/EXPIRES] -> grant (channels in chbuf). */
int store_csv_consent_parse(char *item, struct store_grant *g, char *chbuf, size_t n,
			    char *err);

/* Time helpers shared with the CLI: "@UNIX" or digits, "YYYY-MM-DD[THH:MM[:SS]][Z]"
 * (local time unless Z), "+N[smhd]" or "-N[smhd]" relative to now
 * (after or before it). */
int store_time_parse(const char *s, int64_t now, int64_t *out, char *err);
/* ISO 8601 UTC "2026-01-31T12:00:00Z". */
void store_time_format(int64_t t, char *buf, size_t n);

#endif
