/*
 * store_visits.c - the visits table, written in the daemon's batches.
 */
#include "store_internal.h"
#include "store_visits.h"

/* Recorded only under the presence consent committed now (store_internal.h):
 * a withdrawal committed after the pipeline queued the change wins. Asked
 * apart from the write, in the same write transaction (nobody else can
 * commit in between), so that the write is a plain single-row statement:
 * INSERT ... SELECT and an UPDATE with subqueries each took a statement
 * journal (every page touched copied, then freed). ?1 customer, ?2 the
 * visit's start, ?3 its last moment. */
#define SQL_VISIT_CONSENT SQL("SELECT " STORE_SQL_IN_FORCE_SPAN("presence", "?1", "?2", "?3"))

#define SQL_VISIT_INSERT SQL("INSERT INTO visits(customer_id, zone, entered_at, max_rssi) " \
			     "VALUES (?1, ?2, ?3, ?4)")
/* Dwell changes bind exited_at NULL: only the exit closes the row. By
 * customer: schemas before v9 have an entered_at index, which the planner
 * left to itself may take, and the visits of a busy second (every open
 * visit at a shutdown) would each scan all the others. */
#define SQL_VISIT_UPDATE SQL("UPDATE visits INDEXED BY visits_customer SET exited_at = ?1, " \
			     "dwell_s = ?2, max_rssi = max(coalesce(max_rssi, -127), ?3) " \
			     "WHERE customer_id = ?4 AND zone = ?5 AND entered_at = ?6 AND " \
			     "exited_at IS NULL")

int store_visits_prepare(sqlite3 *db, char *err)
{
	if (!store_stmt(db, SQL_VISIT_CONSENT, NULL) || !store_stmt(db, SQL_VISIT_INSERT, NULL) ||
	    !store_stmt(db, SQL_VISIT_UPDATE, NULL))
		return store_sqlite_raw_err(db, sqlite3_errcode(db), err);
	return STORE_OK;
}

/* 1 if the presence consent covers the visit up to its last moment, 0 if
 * not, or a negative enum store_rc. */
static int visit_consented(sqlite3 *db, const struct store_visit *v, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL_VISIT_CONSENT, NULL);
	int64_t in_force = 0;
	int rc;

	if (!st)
		return store_sqlite_raw_err(db, sqlite3_errcode(db), err);
	sqlite3_bind_int64(st, 1, v->customer_id);
	sqlite3_bind_int64(st, 2, v->entered_at);
	sqlite3_bind_int64(st, 3, v->enter ? v->entered_at : v->entered_at + v->dwell_s);
	rc = store_step_value(db, st, &in_force, err);
	return rc == STORE_OK ? (int)in_force : rc;
}

int store_visit_write(sqlite3 *db, const struct store_visit *v, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st;
	int rc = visit_consented(db, v, err);

	if (rc < 0)
		return rc;
	if (!rc)
		return store_errf(err, STORE_ENDED, "presence consent of customer %lld no longer "
				  "in force", (long long)v->customer_id);
	st = store_stmt(db, v->enter ? SQL_VISIT_INSERT : SQL_VISIT_UPDATE, NULL);
	if (!st)
		return store_sqlite_raw_err(db, sqlite3_errcode(db), err);
	if (v->enter) {
		sqlite3_bind_int64(st, 1, v->customer_id);
		sqlite3_bind_text(st, 2, v->zone, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, v->entered_at);
		sqlite3_bind_int(st, 4, v->rssi);
	} else {
		if (v->exited_at)
			sqlite3_bind_int64(st, 1, v->exited_at);
		else
			sqlite3_bind_null(st, 1);
		sqlite3_bind_int64(st, 2, v->dwell_s);
		sqlite3_bind_int(st, 3, v->rssi);
		sqlite3_bind_int64(st, 4, v->customer_id);
		sqlite3_bind_text(st, 5, v->zone, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, v->entered_at);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		rc = sqlite3_extended_errcode(db);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE && sqlite3_changes(db) == 0)
		return store_errf(err, STORE_ENDED, "customer %lld has no open visit in %s "
				  "(its enter was not recorded)", (long long)v->customer_id, v->zone);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return store_errf(err, STORE_ENOENT, "customer %lld no longer exists",
				  (long long)v->customer_id);
	return store_sqlite_raw_err(db, rc, err);
}

int store_visits_close_stale(sqlite3 *db, int64_t *closed, char err[STORE_ERRLEN])
{
	sqlite3_stmt *st = store_stmt(db, SQL("UPDATE visits SET exited_at = entered_at + "
					      "coalesce(dwell_s, 0) WHERE exited_at IS NULL"), NULL);
	int rc;

	*closed = 0;
	if (!st)
		return store_sqlite_raw_err(db, sqlite3_errcode(db), err);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_raw_err(db, rc, err);
	*closed = sqlite3_changes64(db);
	return STORE_OK;
}
