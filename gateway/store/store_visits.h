/*
 * store_visits.h - the visits table: one row per visit of a consented
 * customer to a zone, opened at the enter, moved on by dwell events and
 * closed at the exit. Written in the daemon's batches (store_outbox.h).
 */
#ifndef BGW_STORE_VISITS_H
#define BGW_STORE_VISITS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define STORE_VISIT_ZONE_MAX (STORE_REF_MAX + 1)

/* One change to the visits table. */
struct store_visit {
	bool enter;               /* true: insert the row; false: update it (dwell, exit) */
	int64_t customer_id;
	char zone[STORE_VISIT_ZONE_MAX];
	int64_t entered_at;       /* unix s; with customer_id and zone, names the row */
	int64_t exited_at;        /* update: unix s of the exit, 0 = still open (dwell) */
	int64_t dwell_s;          /* update only */
	int rssi;                 /* insert: max_rssi; update: raises max_rssi */
};

/*
 * Apply one change, if the person's presence consent is still in force as
 * committed now (current grant not withdrawn, not expired at the event, an
 * identifier left). STORE_ENDED, with nothing written, if it is not or if
 * an update finds no open visit (its enter was refused); STORE_ENOENT if
 * the customer was deleted meanwhile.
 */
int store_visit_write(sqlite3 *db, const struct store_visit *v, char err[STORE_ERRLEN]);

/*
 * Close the visits an earlier run left open (kill -9, power cut) at their
 * last recorded dwell: their presence state is gone with that run. *closed
 * says how many.
 */
int store_visits_close_stale(sqlite3 *db, int64_t *closed, char err[STORE_ERRLEN]);

#endif
