/*
 * store_outbox.c - the daemon's batches: outbox rows and trigger history.
 * See store_outbox.h for why a batch is not a store transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "store_outbox.h"

/* A row of a person only under the consent committed now: presence for a
 * visit message, presence and retargeting for a trigger (store_internal.h),
 * expiry judged at the time it was queued. Asked apart from the insert, in
 * the same write transaction (nobody else can commit in between): a plain
 * single-row INSERT needs no statement journal, while INSERT ... SELECT
 * copied every page it touched into one and freed it again, about a fifth
 * of the row's cost. ?1 customer, ?2 created_us, ?3 topic. */
#define SQL_OUTBOX_CONSENT SQL("SELECT " STORE_SQL_IN_FORCE("presence", "?1", "?2 / 1000000") \
			       " AND (?3 LIKE '%/visit' OR " STORE_SQL_IN_FORCE("retargeting", \
			       "?1", "?2 / 1000000") ")")
/* ?6 NULL: one above the highest row (there is no AUTOINCREMENT). */
#define SQL_OUTBOX_INSERT SQL("INSERT INTO outbox(trigger_id, created_us, topic, payload, " \
			      "customer_id, id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
#define SQL_OUTBOX_LAST_ID SQL("SELECT max(coalesce((SELECT max(id) FROM outbox), 0), " \
			       "coalesce((SELECT CAST(value AS INTEGER) FROM kv " \
			       "WHERE key = 'outbox.last_id'), 0))")
#define SQL_OUTBOX_MARK SQL("INSERT INTO kv(key, value) VALUES ('outbox.last_id', ?1) " \
			    "ON CONFLICT(key) DO UPDATE SET value = excluded.value " \
			    "WHERE CAST(kv.value AS INTEGER) < CAST(excluded.value AS INTEGER)")
#define SQL_OUTBOX_DELETE SQL("DELETE FROM outbox WHERE id BETWEEN ?1 AND ?2")
#define SQL_OUTBOX_NEXT SQL("SELECT id, created_us, trigger_id, topic, payload, " \
			    "coalesce(customer_id, 0) FROM outbox " \
			    "WHERE id > ?1 ORDER BY id LIMIT 1")
#define SQL_OUTBOX_COUNT SQL("SELECT count(*) FROM outbox")
#define SQL_OUTBOX_TRIM SQL("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox " \
			    "ORDER BY id LIMIT ?1)")
#define SQL_TRIGGER_LOG SQL("INSERT OR IGNORE INTO trigger_log(trigger_id, customer_id, " \
			    "campaign_id, at) VALUES (?1, ?2, ?3, ?4)")

/* A cached statement, or the error (in SQLite's words) when it cannot be prepared. */
static sqlite3_stmt *stmt(sqlite3 *db, const char *sql, char *err)
{
	sqlite3_stmt *st = store_stmt(db, sql, NULL);

	if (!st)
		store_sqlite_raw_err(db, sqlite3_errcode(db), err);
	return st;
}

/* Steps st once and resets it; returns the extended result code (the
 * caller tells a deleted customer from a duplicate by it). */
static int step_once(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		rc = sqlite3_extended_errcode(db);
	sqlite3_reset(st);
	return rc;
}

int store_batch_prepare(sqlite3 *db, char err[STORE_ERRLEN])
{
	static const char *const all[] = {
		SQL_OUTBOX_CONSENT, SQL_OUTBOX_INSERT, SQL_OUTBOX_LAST_ID, SQL_OUTBOX_MARK,
		SQL_OUTBOX_DELETE, SQL_OUTBOX_NEXT,
		SQL_OUTBOX_COUNT, SQL_OUTBOX_TRIM, SQL_TRIGGER_LOG,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!stmt(db, all[i], err))
			return STORE_ESCHEMA;
	return store_visits_prepare(db, err);
}

int store_batch_begin(sqlite3 *db, char err[STORE_ERRLEN])
{
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	return rc == SQLITE_OK ? STORE_OK : store_sqlite_raw_err(db, rc, err);
}

int store_batch_commit(sqlite3 *db, char err[STORE_ERRLEN])
{
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

	return rc == SQLITE_OK ? STORE_OK : store_sqlite_raw_err(db, rc, err);
}

void store_batch_rollback(sqlite3 *db)
{
	store_rollback(db);
}

void store_outbox_row_clear(struct store_outbox_row *row)
{
	free(row->trigger_id);
	free(row->topic);
	free(row->payload);
	memset(row, 0, sizeof(*row));
}

/* 1 if the person's consents let the row in, 0 if not, or a negative
 * enum store_rc. */
static int outbox_consented(sqlite3 *db, int64_t customer_id, int64_t created_us,
			    const char *topic, char *err)
{
	sqlite3_stmt *st = stmt(db, SQL_OUTBOX_CONSENT, err);
	int64_t in_force = 0;
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_int64(st, 2, created_us);
	sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
	rc = store_step_value(db, st, &in_force, err);
	return rc == STORE_OK ? (int)in_force : rc;
}

int store_outbox_insert(sqlite3 *db, const char *trigger_id, int64_t created_us,
			const char *topic, const char *payload, int64_t customer_id,
			char err[STORE_ERRLEN])
{
	return store_outbox_insert_id(db, 0, trigger_id, created_us, topic, payload, customer_id,
				      err);
}

int store_outbox_insert_id(sqlite3 *db, int64_t id, const char *trigger_id, int64_t created_us,
			   const char *topic, const char *payload, int64_t customer_id,
			   char err[STORE_ERRLEN])
{
	sqlite3_stmt *st;
	int rc;

	if (customer_id > 0) {
		rc = outbox_consented(db, customer_id, created_us, topic, err);
		if (rc < 0)
			return rc;
		if (!rc)
			return store_errf(err, STORE_ENDED, "the consent of customer %lld ended",
					  (long long)customer_id);
	}
	st = stmt(db, SQL_OUTBOX_INSERT, err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, trigger_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, created_us);
	sqlite3_bind_text(st, 3, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
	if (customer_id > 0)
		sqlite3_bind_int64(st, 5, customer_id);
	else
		sqlite3_bind_null(st, 5);
	if (id > 0)
		sqlite3_bind_int64(st, 6, id);
	else
		sqlite3_bind_null(st, 6);
	rc = step_once(db, st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	/* The id is taken (a caller that did not read the highest id under
	 * this transaction's lock): the batch fails and is tried again, unlike
	 * a repeated trigger, which is skipped. */
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return store_errf(err, STORE_EBUSY, "outbox row %lld was taken by another writer",
				  (long long)id);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return store_errf(err, STORE_ENOENT, "customer %lld no longer exists",
				  (long long)customer_id);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return store_errf(err, STORE_EEXIST, "trigger %s is already queued", trigger_id);
	return store_sqlite_raw_err(db, rc, err);
}

int store_outbox_delete(sqlite3 *db, int64_t id, char err[STORE_ERRLEN])
{
	return store_outbox_delete_range(db, id, id, err);
}

int store_outbox_delete_range(sqlite3 *db, int64_t first, int64_t last, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = stmt(db, SQL_OUTBOX_DELETE, err);
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	rc = step_once(db, st);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlite_raw_err(db, rc, err);
}

int store_outbox_delete_customer(sqlite3 *db, int64_t customer_id, int64_t *deleted,
				 char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = stmt(db, SQL("DELETE FROM outbox WHERE customer_id = ?1"), err);
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	rc = step_once(db, st);
	if (rc != SQLITE_DONE)
		return store_sqlite_raw_err(db, rc, err);
	if (deleted)
		*deleted = sqlite3_changes64(db);
	return STORE_OK;
}

int store_outbox_count(sqlite3 *db, int64_t *n, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = stmt(db, SQL_OUTBOX_COUNT, err);

	if (!st)
		return STORE_EIO;
	return store_step_value(db, st, n, err);
}

int store_outbox_trim(sqlite3 *db, uint32_t max_rows, int64_t *dropped, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st;
	int64_t n = 0;
	int rc;

	*dropped = 0;
	if (!max_rows)
		return STORE_OK;
	rc = store_outbox_count(db, &n, err);
	if (rc || n <= (int64_t)max_rows)
		return rc;
	st = stmt(db, SQL_OUTBOX_TRIM, err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, n - (int64_t)max_rows);
	rc = step_once(db, st);
	if (rc != SQLITE_DONE)
		return store_sqlite_raw_err(db, rc, err);
	*dropped = sqlite3_changes64(db);
	return STORE_OK;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return strdup(t ? (const char *)t : "");
}

int store_outbox_next(sqlite3 *db, int64_t after, struct store_outbox_row *row,
		      char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = stmt(db, SQL_OUTBOX_NEXT, err);
	int rc;

	memset(row, 0, sizeof(*row));
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, after);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : store_sqlite_raw_err(db, rc, err);
	}
	row->id = sqlite3_column_int64(st, 0);
	row->created_us = sqlite3_column_int64(st, 1);
	row->trigger_id = dup_col(st, 2);
	row->topic = dup_col(st, 3);
	row->payload = dup_col(st, 4);
	row->customer_id = sqlite3_column_int64(st, 5);
	sqlite3_reset(st);
	if (!row->trigger_id || !row->topic || !row->payload) {
		store_outbox_row_clear(row);
		return store_errf(err, STORE_ENOMEM, "out of memory");
	}
	return 1;
}

int store_trigger_log_insert(sqlite3 *db, const char *trigger_id, int64_t customer_id,
			     int64_t campaign_id, int64_t at_s, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = stmt(db, SQL_TRIGGER_LOG, err);
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, trigger_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, customer_id);
	sqlite3_bind_int64(st, 3, campaign_id);
	sqlite3_bind_int64(st, 4, at_s);
	rc = step_once(db, st);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return store_errf(err, STORE_ENOENT, "campaign %lld no longer exists",
				  (long long)campaign_id);
	return store_sqlite_raw_err(db, rc, err);
}

int store_outbox_last_id(sqlite3 *db, int64_t *last, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = stmt(db, SQL_OUTBOX_LAST_ID, err);

	if (!st)
		return STORE_EIO;
	return store_step_value(db, st, last, err);
}

int store_outbox_mark(sqlite3 *db, int64_t last, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = stmt(db, SQL_OUTBOX_MARK, err);
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, last);
	rc = step_once(db, st);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlite_raw_err(db, rc, err);
}
