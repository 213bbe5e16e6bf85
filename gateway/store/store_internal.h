/*
 * store_internal.h - helpers shared by the store's source files only.
 */
#ifndef BGW_STORE_INTERNAL_H
#define BGW_STORE_INTERNAL_H

#include <stdarg.h>

#include <cjson/cJSON.h>

#include "store.h"

/* Every statement the store prepares starts with this tag, so that the cache
 * (a scan of the connection's statements) never hands out another module's. */
#define SQL(text) "/*store*/ " text

/*
 * SQL condition: the person C's current grant for PURPOSE (a string literal,
 * "presence" or "retargeting")
 * is in force as committed now: not withdrawn, granted at or before T (the
 * event: a pipeline acting on a snapshot older than a withdrawal and a new
 * grant must not slip the gap's events in under the new grant), not expired
 * at T, and C has an identifier left. The daemon's batch writes (outbox rows, visit changes)
 * carry it, so that a change ending consent committed by another process
 * after the pipeline decided, but before the batch commits, wins: nothing
 * of the person is recorded after it. C and T are SQL expressions.
 */
#define STORE_SQL_IN_FORCE(PURPOSE, C, T) STORE_SQL_IN_FORCE_SPAN(PURPOSE, C, T, T)
/* The same for something that lasted from G to T (a visit): the grant came
 * at or before G, and had not expired at T. */
#define STORE_SQL_IN_FORCE_SPAN(PURPOSE, C, G, T)                                              \
	"EXISTS (SELECT 1 FROM (SELECT withdrawn_at, granted_at, expires_at FROM consents "      \
	"WHERE customer_id = " C " AND purpose = " STORE_SQL_PURPOSE(PURPOSE) " "               \
	"ORDER BY id DESC LIMIT 1) k WHERE k.withdrawn_at IS NULL "                              \
	"AND k.granted_at <= " G " AND (k.expires_at IS NULL OR k.expires_at > " T ")) AND "   \
	"EXISTS (SELECT 1 FROM identifiers WHERE customer_id = " C ")"
/* consents.purpose as stored (enum store_purpose) for a purpose named by a
 * string literal: a constant SQLite folds (the primary key is still used);
 * a name that is no purpose gives NULL, which matches no row. */
#define STORE_SQL_PURPOSE(NAME)                                                                \
	"(CASE '" NAME "' WHEN 'presence' THEN 0 WHEN 'retargeting' THEN 1 END)"
/* ... and back: the name of the purpose stored in column COL. */
#define STORE_SQL_PURPOSE_NAME(COL)                                                            \
	"(CASE " COL " WHEN 0 THEN 'presence' WHEN 1 THEN 'retargeting' END)"

int store_errf(char *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps a SQLite result code to enum store_rc with a readable message. */
int store_sqlite_err(sqlite3 *db, int sqlite_rc, const char *what, char *err);
/* The same mapping, with SQLite's own words in err ("database is locked",
 * "database or disk is full"): for the daemon's status document. */
int store_sqlite_raw_err(sqlite3 *db, int sqlite_rc, char *err);

/* A cached, reset and cleared statement for sql (prepared on first use). */
sqlite3_stmt *store_stmt(sqlite3 *db, const char *sql, char *err);
/* The one value a bound statement yields (column 0 of its first row); the
 * statement is reset after. STORE_OK, or an error with SQLite's words in err. */
int store_step_value(sqlite3 *db, sqlite3_stmt *st, int64_t *out, char *err);
/* Steps a cached statement to completion; returns STORE_OK or an error. */
int store_exec_stmt(sqlite3 *db, sqlite3_stmt *st, const char *what, char *err);
int store_exec(sqlite3 *db, const char *sql, const char *what, char *err);

int64_t store_now(void);

/* Prepares the visit statements with the rest of a batch's (store_outbox.c). */
int store_visits_prepare(sqlite3 *db, char *err);

/* Looks up ref, reporting "no customer 'ref'" as STORE_ENOENT. */
int store_customer_lookup(sqlite3 *db, const char *ref, int64_t *id, char *err);
/* Salted fingerprint for the audit log (salt dies with the customer). */
int store_audit_fingerprint(sqlite3 *db, int64_t customer_id, const struct store_identifier *id,
			    char out[9], char *err);
void store_salted_fingerprint(const uint8_t salt[16], const struct store_identifier *id,
			      char out[9]);
int store_ref_check(const char *ref, char *err);
/* Deletes a customer (cascading to all their rows) with an audit row "action". */
int store_customer_delete_tx(sqlite3 *db, const char *actor, const char *action,
			     const char *ref, char *err);

/* Import --update / --sync (store_import_merge.c), inside the import's
 * transaction. A customer the file lists is looked up first: cid 0 means new
 * (the import inserts it, then calls _added); otherwise _row brings it up to
 * its row through the store's own changes. */
struct import_merge;
int store_import_merge_open(sqlite3 *db, const char *actor, const char *policy,
			    enum store_import_mode mode, int64_t now,
			    struct store_import_stats *st, struct import_merge **out, char *err);
/* *cid = the customer of ref or 0; a ref listed twice is STORE_EEXIST. */
int store_import_merge_lookup(struct import_merge *m, const char *ref, int64_t *cid,
			      char *err);
int store_import_merge_added(struct import_merge *m, int64_t cid, char *err);
int store_import_merge_row(struct import_merge *m, const char *ref, int64_t cid,
			   struct store_csv_row *row, char *err);
/* An identifier a new customer's row names is enrolled to someone else:
 * with --sync it moves (removed from the holder, who is not listed yet),
 * otherwise STORE_EEXIST. STORE_OK means: insert it again. */
int store_import_merge_release(struct import_merge *m, int64_t cid,
			       const struct store_identifier *id, char *err);
/* After the last row: --sync withdraws the consents of everyone the file did
 * not list; the customer counts are filled in. */
int store_import_merge_finish(struct import_merge *m, char *err);
void store_import_merge_close(struct import_merge *m);

/* The compact audit entry of an imported customer (store_audit_import.c).
 * A detail is built per customer (reset, then one call per item in the
 * order they arrive) and written with _row; allocation failures stick in
 * 'failed' and are reported there. */
struct store_audit_detail {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
};
void store_audit_detail_reset(struct store_audit_detail *d);
void store_audit_detail_free(struct store_audit_detail *d);
int store_audit_detail_identifier(struct store_audit_detail *d, enum store_id_type type,
				  const char fingerprint[9]);
int store_audit_detail_consent(struct store_audit_detail *d, enum store_purpose purpose,
			       const char *channels, int64_t expires_at);
int store_audit_detail_segment(struct store_audit_detail *d, const char *name);
/* One import's entries: one audit_bulk row (its time and actor stand for all
 * of them, written with the first entry) and ids counted from the audit's
 * sequence. Anything else that appends to the audit log inside the import
 * must be preceded by store_audit_import_sync(), and so must the commit. */
struct store_audit_import {
	const char *actor;
	int64_t at;
	int64_t bulk;     /* audit_bulk row, 0 before the first entry */
	int64_t next;     /* next audit id to hand out, 0: read it from sqlite_sequence */
};
int store_audit_import_row(sqlite3 *db, struct store_audit_import *ai, int64_t customer_id,
			   const struct store_audit_detail *d, char *err);
int store_audit_import_sync(sqlite3 *db, struct store_audit_import *ai, char *err);
/* The additions of store_change.c; with a capture, what they add is
 * recorded there for a compact entry instead of an audit row of its own. */
int store_customer_add_x(sqlite3 *db, const char *actor, const char *ref, int64_t *id,
			 struct store_audit_detail *capture, char *err);
int store_identifier_add_x(sqlite3 *db, const char *actor, int64_t cid,
			   const struct store_identifier *id, struct store_audit_detail *capture,
			   char *err);
int store_consent_grant_x(sqlite3 *db, const char *actor, int64_t cid,
			  const struct store_grant *g, struct store_audit_detail *capture,
			  char *err);
int store_segment_add_x(sqlite3 *db, const char *actor, int64_t cid, const char *ref,
			const char *segment, struct store_audit_detail *capture, char *err);
/* The 'after' document of the entry (a JSON null if the detail is unreadable). */
cJSON *store_audit_detail_json(const void *detail, size_t n, int64_t created_at);

/* Registers bgw_identifier_stored() (store_ident.c) on a connection that
 * migrates: the v9 step converts the stored text with it. */
int store_identifier_sql_register(sqlite3 *db);
/* On a read-only connection to a database of schema version `version`
 * older than this program's: temporary views that show the tables whose
 * stored form changed since as they are now (store_compat.c). */
int store_compat_views(sqlite3 *db, int version, char *err);
/* consents.source as stored: 'import' and 'cli' as 0 and 1, any other as
 * text (schema v9); store_column_source() (store.h) reads it back. */
void store_bind_source(sqlite3_stmt *st, int col, const char *source);
/* The same in SQL, for copies out of the table (the archive keeps text). */
#define STORE_SQL_SOURCE_TEXT(COL)                                                             \
	"(CASE WHEN typeof(" COL ") = 'integer' THEN CASE " COL " WHEN 0 THEN 'import' "        \
	"WHEN 1 THEN 'cli' END ELSE " COL " END)"
/* The id of a new consent row (schema v9: kv 'consent_next_id', moved on). */
int store_consent_next_id(sqlite3 *db, int64_t *id, char *err);

#endif
