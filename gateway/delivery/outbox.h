/*
 * outbox.h - the durable queue between the trigger builder and the broker.
 *
 * A trigger is "committed" once its row is in the SQLite outbox table; only
 * committed rows are handed to the broker, and a row is deleted only when the
 * broker acknowledged it (PUBACK). So a power cut at any moment loses nothing
 * that was committed; at worst a trigger is delivered twice (same `id`).
 *
 * Group commit: outbox_enqueue() only copies the trigger into memory, and
 * outbox_flush() - called once per event-loop turn - writes everything that
 * accumulated (new rows, deletions of acknowledged rows, trimming to the size
 * bound) in ONE transaction with synchronous=FULL. Rationale: FULL makes the
 * commit itself survive a power cut (NORMAL in WAL mode may lose the last
 * commits), and grouping keeps it to one fsync per turn however many triggers
 * arrived, so the loop pays roughly one fsync (a few ms on an SD card) per
 * turn that had work, never per trigger. Triggers are rare next to advertising
 * reports, so this is far from the hot path.
 *
 * The outbox uses its own SQLite connection with busy_timeout 0: if another
 * writer (beaconctl) holds the lock, the flush is retried on the next turn
 * instead of blocking the loop; meanwhile triggers wait in memory (bounded by
 * pending_max, oldest dropped and counted beyond that).
 *
 * The daemon's other writes ride in the same group commit, for the same
 * reasons: the trigger-log row of a trigger (cooldowns, daily caps) is
 * written in the transaction that inserts its outbox row, so one exists
 * exactly when the other does; visit rows (enter inserts, dwell and exit
 * update) are applied in the order they were queued, so an exit whose enter
 * is still waiting works. Visits wait in memory like triggers, bounded by
 * pending_max on their own, oldest dropped and counted beyond that.
 */
#ifndef BGW_OUTBOX_H
#define BGW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_visits.h"

struct outbox;
struct delivery_config;

struct outbox_stats {
	uint64_t queued;          /* accepted by outbox_enqueue */
	uint64_t committed;       /* written to SQLite */
	uint64_t sent;            /* acknowledged by the broker and deleted */
	uint64_t dropped_full;    /* oldest rows (or pending triggers) dropped to stay bounded */
	uint64_t dropped_expired; /* older than the message expiry when their turn came */
	uint64_t dropped_gone;    /* their customer was deleted before the commit */
	uint64_t dropped_consent; /* consent ended before their turn to be published */
	uint64_t depth;           /* rows in the outbox table after the last flush */
	uint64_t pending;         /* in memory, waiting for the next commit */
	uint64_t commits;         /* transactions committed */
	uint64_t commit_failures; /* busy / I/O errors (retried next turn) */
	uint64_t commit_us_last;  /* duration of the last commit (µs) */
	uint64_t commit_us_max;
	uint64_t commit_us_total;  /* sum over all commits (for the average) */
	uint64_t visits_written;  /* visit rows inserted / updated */
	uint64_t visits_pending;  /* visit changes in memory, waiting for the next commit */
	uint64_t visits_dropped;  /* oldest visit changes dropped to stay bounded */
	uint64_t visits_dropped_consent; /* not recorded: the person's presence consent ended
	                                  * (or they were forgotten) before the commit */
	uint64_t aux_queued;      /* footfall, beacon alerts accepted by outbox_enqueue_aux */
	uint64_t aux_sent;        /* ... acknowledged by the broker */
	uint64_t aux_expired;     /* ... older than the message expiry when their turn came */
};

/* One committed row, handed to the publisher. Strings stay valid until the
 * next outbox_next() call or outbox_close(). */
struct outbox_msg {
	int64_t id;               /* outbox.id: ascending = order of commit */
	int64_t created_us;       /* wall clock when it was queued */
	int64_t customer_id;      /* customers.id of the person, 0 = none */
	const char *trigger_id;
	const char *topic;
	const char *payload;
	size_t payload_len;
	bool aux;                 /* footfall or a beacon alert, not a trigger */
};

/*
 * Open the outbox in db_path (the store's database; the outbox table must
 * exist) on a connection of its own (store_open_with(): never waits for a
 * lock). cfg supplies outbox_max and pending_max. NULL + err on failure.
 */
struct outbox *outbox_open(const char *db_path, const struct delivery_config *cfg,
			   char err[STORE_ERRLEN]);
void outbox_close(struct outbox *ob);

/*
 * Queue one trigger (copied). customer_id <= 0 means none. created_us is the
 * wall-clock time of queueing (0 = now); the payload keeps its own event time.
 * Returns 0, or -1 on allocation failure (counted as dropped).
 */
int outbox_enqueue(struct outbox *ob, const char *trigger_id, const char *topic,
		   const char *payload, int64_t customer_id, int64_t created_us);

/*
 * The same, plus the trigger_log row (trigger_id, customer_id, campaign_id,
 * at_s) committed in the same transaction as the outbox row. campaign_id <= 0
 * means no log row (as outbox_enqueue).
 */
int outbox_enqueue_logged(struct outbox *ob, const char *trigger_id, const char *topic,
			  const char *payload, int64_t customer_id, int64_t created_us,
			  int64_t campaign_id, int64_t at_s);

/*
 * Queue a message without a customer (a footfall aggregate, a store beacon's
 * status change) for the broker, durably and in order with the triggers.
 * leaf names it in its row id ("aux:LEAF:..."); it has no customer, so no
 * consent check applies, and it is counted apart from the triggers (aux_queued, aux_sent, aux_expired). Returns as outbox_enqueue.
 */
int outbox_enqueue_aux(struct outbox *ob, const char *leaf, const char *topic,
		       const char *payload);

/*
 * A trigger another gateway of the site sent (its own outbox has the
 * message): only its trigger_log row, in the next group commit, so that
 * cooldowns and daily caps still count it after a restart. A duplicate
 * trigger_id is ignored. Returns 0, or -1 on allocation failure.
 */
int outbox_log_trigger(struct outbox *ob, const char *trigger_id, int64_t customer_id,
		       int64_t campaign_id, int64_t at_s);

/* Queue one visit change (copied) for the next commit. Returns 0 (the oldest
 * waiting change may have been dropped to make room). */
int outbox_visit(struct outbox *ob, const struct store_visit *v);

/*
 * Commit what accumulated (group commit). Returns the number of rows
 * inserted, 0 if nothing to do, -1 if the commit failed (kept for retry).
 */
int outbox_flush(struct outbox *ob);

/* Is there anything for outbox_flush() to do? */
bool outbox_dirty(const struct outbox *ob);

/*
 * Next committed row after the cursor, in id order, skipping rows already
 * acknowledged. Rows queued longer than expiry_s (0 = never) are dropped as
 * expired instead. Returns 1 with *m filled, 0 if none, -1 on a DB error.
 * Only this outbox adds rows: after a read that found none, the next ones
 * return 0 without reading until it commits rows or the cursor moves back.
 */
int outbox_next(struct outbox *ob, int64_t now_us, uint32_t expiry_s, struct outbox_msg *m);

/* The broker acknowledged row id: delete it at the next flush. */
void outbox_acked(struct outbox *ob, int64_t id);

/* The same for an aggregate row (outbox_msg.aux). */
void outbox_aux_acked(struct outbox *ob, int64_t id);

/* Delete row id at the next flush without counting it as sent (the broker
 * refused it for good; the caller logged why). */
void outbox_discard(struct outbox *ob, int64_t id);

/* The consent of row id's customer ended before it could be published:
 * delete it at the next flush, counted in dropped_consent. */
void outbox_drop_consent(struct outbox *ob, int64_t id);

/* Row m (the last outbox_next() result) was not handed to the broker after
 * all (held back): the next outbox_next() returns it again. */
void outbox_putback(struct outbox *ob, const struct outbox_msg *m);

/* The connection dropped: the next outbox_next() starts again from the
 * oldest unacknowledged row, so order is kept across reconnects. */
void outbox_rewind(struct outbox *ob);

const struct outbox_stats *outbox_get_stats(const struct outbox *ob);

/* NULL while the last commit attempt succeeded (or none was needed); else why
 * it failed ("database is locked", "database or disk is full" ...): work waits
 * in memory until a commit succeeds again. */
const char *outbox_last_error(const struct outbox *ob);

#endif
