/*
 * store_outbox.h - the daemon's own rows: the trigger outbox, the trigger
 * history (trigger_log) and, in store_visits.h, the visits.
 *
 * These are written by the daemon's group commit (delivery/outbox.c) on a
 * connection of its own that never waits for a lock (store_open_with(),
 * busy_ms 0): a batch is begun, filled and committed once per loop turn, and
 * a batch that fails is rolled back and tried again on the next turn.
 *
 * Unlike the consent changes in store.h, a batch writes no audit row and
 * does not move kv 'consent_generation': nothing in it is consent data, and
 * the daemon must not reload its snapshot after every trigger.
 *
 * Errors: STORE_OK or a negative enum store_rc, with SQLite's own words
 * ("database is locked", "database or disk is full") in err[STORE_ERRLEN]
 * when err is not NULL: the daemon shows them in its status document.
 */
#ifndef BGW_STORE_OUTBOX_H
#define BGW_STORE_OUTBOX_H

#include <stdint.h>

#include "store.h"

/* Prepare every statement of the daemon's batches on db, so that a database
 * without the tables fails at start rather than at the first trigger. */
int store_batch_prepare(sqlite3 *db, char err[STORE_ERRLEN]);
/* BEGIN IMMEDIATE: STORE_EBUSY at once if another process holds the lock. */
int store_batch_begin(sqlite3 *db, char err[STORE_ERRLEN]);
int store_batch_commit(sqlite3 *db, char err[STORE_ERRLEN]);
/* Rolls back if a transaction is still open (after SQLITE_FULL or an I/O
 * error SQLite has already rolled back by itself). */
void store_batch_rollback(sqlite3 *db);

/* One outbox row; the strings are owned (store_outbox_row_clear frees them). */
struct store_outbox_row {
	int64_t id;            /* ascending = order of commit */
	int64_t created_us;    /* wall clock when it was queued */
	int64_t customer_id;   /* customers.id of the person, 0 = none */
	char *trigger_id;
	char *topic;
	char *payload;
};
void store_outbox_row_clear(struct store_outbox_row *row);

/* Insert one trigger. customer_id <= 0: none. STORE_ENOENT if the customer
 * was deleted meanwhile, STORE_EEXIST if a row with trigger_id is queued.
 * The row's id is one above the highest row. */
int store_outbox_insert(sqlite3 *db, const char *trigger_id, int64_t created_us,
			const char *topic, const char *payload, int64_t customer_id,
			char err[STORE_ERRLEN]);
/* The same with the id given (0: as above). The table has no AUTOINCREMENT
 * (it read and rewrote sqlite_sequence for every row): the daemon's outbox
 * reads store_outbox_last_id() once per batch, hands out the ids above it
 * and raises kv 'outbox.last_id' to the last with store_outbox_mark() in the
 * same batch, so that ids ascend in commit order and are never handed out
 * twice, also once the outbox was emptied and across restarts. STORE_EBUSY
 * if another writer's row has the id. */
int store_outbox_insert_id(sqlite3 *db, int64_t id, const char *trigger_id, int64_t created_us,
			   const char *topic, const char *payload, int64_t customer_id,
			   char err[STORE_ERRLEN]);
/* The highest id ever handed out: the highest row or kv 'outbox.last_id'. */
int store_outbox_last_id(sqlite3 *db, int64_t *last, char err[STORE_ERRLEN]);
/* Raise kv 'outbox.last_id' to last (never lowers it). */
int store_outbox_mark(sqlite3 *db, int64_t last, char err[STORE_ERRLEN]);
int store_outbox_delete(sqlite3 *db, int64_t id, char err[STORE_ERRLEN]);
/* The rows first..last in one statement (acknowledged rows mostly come in
 * runs of consecutive ids). */
int store_outbox_delete_range(sqlite3 *db, int64_t first, int64_t last, char err[STORE_ERRLEN]);
/* Delete every row queued for a customer (a withdrawn consent); *deleted
 * (may be NULL) says how many. */
int store_outbox_delete_customer(sqlite3 *db, int64_t customer_id, int64_t *deleted,
				 char err[STORE_ERRLEN]);
int store_outbox_count(sqlite3 *db, int64_t *n, char err[STORE_ERRLEN]);
/* Keep at most max_rows (0 = no bound) by deleting the oldest; *dropped says
 * how many went. */
int store_outbox_trim(sqlite3 *db, uint32_t max_rows, int64_t *dropped, char err[STORE_ERRLEN]);
/* The first row with id > after: 1 with *row filled (clear it), 0 if none,
 * or a negative enum store_rc. */
int store_outbox_next(sqlite3 *db, int64_t after, struct store_outbox_row *row,
		      char err[STORE_ERRLEN]);

/* The trigger_log row of a trigger (cooldowns and daily caps across
 * restarts). A repeated trigger_id is ignored; STORE_ENOENT if the campaign
 * or the customer was deleted meanwhile. */
int store_trigger_log_insert(sqlite3 *db, const char *trigger_id, int64_t customer_id,
			     int64_t campaign_id, int64_t at_s, char err[STORE_ERRLEN]);

#endif
