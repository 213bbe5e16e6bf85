/*
 * outbox.c - durable, ordered, bounded trigger queue in SQLite.
 * See outbox.h for the commit strategy.
 */
#include "outbox.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bgw_clock.h"
#include "delivery_config.h"
#include "log.h"

/* The writes touch the tails of a few tables and the upper levels of their
 * indexes: a small page cache holds those, and the kernel's page cache the
 * rest. SQLite's default (2 MiB per connection) would be a tenth of the
 * gateway's memory on a Pi. Negative: KiB. */
#define OUTBOX_CACHE_KIB "-512"

struct pending {
	char *trigger_id;
	char *topic;
	char *payload;
	int64_t customer_id;
	int64_t created_us;
	int64_t campaign_id;         /* > 0: write the trigger_log row too */
	int64_t at_s;
};

struct outbox {
	sqlite3 *db;
	sqlite3_stmt *ins, *del, *next, *count, *trim;
	sqlite3_stmt *log_ins, *visit_ins, *visit_upd;
	uint32_t max_rows;
	uint32_t pending_max;

	struct pending *pend;
	size_t n_pend, cap_pend;

	struct outbox_visit *visits; /* visit changes, in the order they happened */
	size_t n_visits, cap_visits;

	int64_t *acked;              /* rows to delete at the next flush */
	size_t n_acked, cap_acked;

	int64_t cursor;              /* highest id handed out since the last rewind */
	struct pending cur;          /* strings of the row last returned by outbox_next */

	uint64_t expired_unlogged;
	bool busy_logged;
	bool visits_drop_logged;
	bool failing;                /* the last commit attempt failed: why[] says why */
	char why[128];
	struct outbox_stats st;
};

static void pending_free(struct pending *p)
{
	free(p->trigger_id);
	free(p->topic);
	free(p->payload);
	memset(p, 0, sizeof(*p));
}

static int prepare(struct outbox *ob, const char *sql, sqlite3_stmt **st, char *err, size_t n)
{
	if (sqlite3_prepare_v3(ob->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		snprintf(err, n, "outbox: %s (is the database initialised? run beaconctl init)",
			 sqlite3_errmsg(ob->db));
		return -1;
	}
	return 0;
}

static int64_t count_rows(struct outbox *ob)
{
	int64_t n = -1;

	if (sqlite3_step(ob->count) == SQLITE_ROW)
		n = sqlite3_column_int64(ob->count, 0);
	sqlite3_reset(ob->count);
	return n;
}

struct outbox *outbox_open(const char *db_path, const struct delivery_config *cfg, char *err,
			   size_t errlen)
{
	struct outbox *ob = calloc(1, sizeof(*ob));
	int64_t n;

	if (!ob) {
		snprintf(err, errlen, "outbox: out of memory");
		return NULL;
	}
	ob->max_rows = cfg->outbox_max;
	ob->pending_max = cfg->pending_max ? cfg->pending_max : 1;
	if (sqlite3_open_v2(db_path, &ob->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "outbox: cannot open %s: %s", db_path,
			 ob->db ? sqlite3_errmsg(ob->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(ob->db, 1);
	/* busy_timeout 0: never wait for another writer inside the event loop. */
	sqlite3_busy_timeout(ob->db, 0);
	if (sqlite3_exec(ob->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			 "PRAGMA foreign_keys=ON; PRAGMA cache_size=" OUTBOX_CACHE_KIB ";",
			 NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "outbox: %s: %s", db_path, sqlite3_errmsg(ob->db));
		goto fail;
	}
	if (prepare(ob,
		    "INSERT INTO outbox(trigger_id, created_us, topic, payload, customer_id) "
		    "VALUES(?1, ?2, ?3, ?4, ?5)",
		    &ob->ins, err, errlen) ||
	    prepare(ob, "DELETE FROM outbox WHERE id = ?1", &ob->del, err, errlen) ||
	    prepare(ob,
		    "SELECT id, created_us, trigger_id, topic, payload FROM outbox WHERE id > ?1 "
		    "ORDER BY id LIMIT 1",
		    &ob->next, err, errlen) ||
	    prepare(ob, "SELECT count(*) FROM outbox", &ob->count, err, errlen) ||
	    prepare(ob,
		    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?1)",
		    &ob->trim, err, errlen) ||
	    prepare(ob,
		    "INSERT OR IGNORE INTO trigger_log(trigger_id, customer_id, campaign_id, at) "
		    "VALUES (?1, ?2, ?3, ?4)",
		    &ob->log_ins, err, errlen) ||
	    prepare(ob,
		    "INSERT INTO visits(customer_id, zone, entered_at, max_rssi) "
		    "VALUES (?1, ?2, ?3, ?4)",
		    &ob->visit_ins, err, errlen) ||
	    /* Dwell changes bind exited_at NULL: only the exit closes the row.
	     * By customer: left to itself the planner may take the entered_at
	     * index, and the visits of a busy second (every open visit at a
	     * shutdown) would each scan all the others. */
	    prepare(ob,
		    "UPDATE visits INDEXED BY visits_customer SET exited_at = ?1, dwell_s = ?2, "
		    "max_rssi = max(coalesce(max_rssi, -127), ?3) WHERE customer_id = ?4 AND "
		    "zone = ?5 AND entered_at = ?6 AND exited_at IS NULL",
		    &ob->visit_upd, err, errlen))
		goto fail;
	n = count_rows(ob);
	ob->st.depth = n > 0 ? (uint64_t)n : 0;
	if (ob->st.depth)
		log_info( "outbox: %" PRIu64 " trigger(s) waiting from before",
			     ob->st.depth);
	return ob;
fail:
	outbox_close(ob);
	return NULL;
}

void outbox_close(struct outbox *ob)
{
	size_t i;

	if (!ob)
		return;
	sqlite3_finalize(ob->ins);
	sqlite3_finalize(ob->del);
	sqlite3_finalize(ob->next);
	sqlite3_finalize(ob->count);
	sqlite3_finalize(ob->trim);
	sqlite3_finalize(ob->log_ins);
	sqlite3_finalize(ob->visit_ins);
	sqlite3_finalize(ob->visit_upd);
	sqlite3_close(ob->db);
	for (i = 0; i < ob->n_pend; i++)
		pending_free(&ob->pend[i]);
	free(ob->pend);
	free(ob->visits);
	free(ob->acked);
	pending_free(&ob->cur);
	free(ob);
}

static void drop_oldest_pending(struct outbox *ob)
{
	pending_free(&ob->pend[0]);
	memmove(ob->pend, ob->pend + 1, (ob->n_pend - 1) * sizeof(*ob->pend));
	ob->n_pend--;
	ob->st.dropped_full++;
	log_warn(
		     "outbox: %u triggers wait for the database; dropped the oldest (%" PRIu64
		     " dropped in total)",
		     ob->pending_max, ob->st.dropped_full);
}

int outbox_enqueue(struct outbox *ob, const char *trigger_id, const char *topic,
		   const char *payload, int64_t customer_id, int64_t created_us)
{
	return outbox_enqueue_logged(ob, trigger_id, topic, payload, customer_id, created_us, 0,
				     0);
}

int outbox_enqueue_logged(struct outbox *ob, const char *trigger_id, const char *topic,
			  const char *payload, int64_t customer_id, int64_t created_us,
			  int64_t campaign_id, int64_t at_s)
{
	struct pending p = { 0 };

	ob->st.queued++;
	if (ob->n_pend >= ob->pending_max)
		drop_oldest_pending(ob);
	if (ob->n_pend == ob->cap_pend) {
		size_t cap = ob->cap_pend ? ob->cap_pend * 2 : 16;
		struct pending *np = realloc(ob->pend, cap * sizeof(*np));

		if (!np)
			goto nomem;
		ob->pend = np;
		ob->cap_pend = cap;
	}
	p.trigger_id = strdup(trigger_id);
	p.topic = strdup(topic);
	p.payload = strdup(payload);
	if (!p.trigger_id || !p.topic || !p.payload)
		goto nomem;
	p.customer_id = customer_id;
	p.created_us = created_us ? created_us : (int64_t)bgw_wall_us();
	p.campaign_id = campaign_id;
	p.at_s = at_s;
	ob->pend[ob->n_pend++] = p;
	ob->st.pending = ob->n_pend;
	return 0;
nomem:
	pending_free(&p);
	ob->st.dropped_full++;
	log_err( "outbox: out of memory, trigger dropped");
	return -1;
}

int outbox_visit(struct outbox *ob, const struct outbox_visit *v)
{
	if (ob->n_visits >= ob->pending_max) {
		memmove(ob->visits, ob->visits + 1, (ob->n_visits - 1) * sizeof(*ob->visits));
		ob->n_visits--;
		ob->st.visits_dropped++;
		/* Once per outage, not once per visit: the count is in the stats. */
		if (!ob->visits_drop_logged)
			log_warn(
				     "outbox: %u visit changes wait for the database; dropping the "
				     "oldest (%" PRIu64 " dropped in total)",
				     ob->pending_max, ob->st.visits_dropped);
		ob->visits_drop_logged = true;
	}
	if (ob->n_visits == ob->cap_visits) {
		size_t cap = ob->cap_visits ? ob->cap_visits * 2 : 16;
		struct outbox_visit *nv;

		if (cap > ob->pending_max)
			cap = ob->pending_max;
		nv = realloc(ob->visits, cap * sizeof(*nv));
		if (!nv) {
			ob->st.visits_dropped++;
			log_err( "outbox: out of memory, visit change dropped");
			return -1;
		}
		ob->visits = nv;
		ob->cap_visits = cap;
	}
	ob->visits[ob->n_visits] = *v;
	ob->visits[ob->n_visits].zone[OUTBOX_ZONE_MAX - 1] = '\0';
	ob->n_visits++;
	ob->st.visits_pending = ob->n_visits;
	return 0;
}

bool outbox_dirty(const struct outbox *ob)
{
	return ob->n_pend || ob->n_visits || ob->n_acked || ob->expired_unlogged;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* Apply the visit changes in order; -1 on an error that must abort the commit. */
static int write_visits(struct outbox *ob, uint64_t *written)
{
	for (size_t i = 0; i < ob->n_visits; i++) {
		const struct outbox_visit *v = &ob->visits[i];
		sqlite3_stmt *st = v->enter ? ob->visit_ins : ob->visit_upd;
		int rc;

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
		rc = step_done(st);
		if (rc == SQLITE_DONE)
			(*written)++;
		else if (rc != SQLITE_CONSTRAINT_FOREIGNKEY)  /* FK: customer forgotten meanwhile */
			return -1;
	}
	return 0;
}

/* The trigger's trigger_log row, with its outbox row. */
static int log_trigger(struct outbox *ob, const struct pending *p)
{
	int rc;

	sqlite3_bind_text(ob->log_ins, 1, p->trigger_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ob->log_ins, 2, p->customer_id);
	sqlite3_bind_int64(ob->log_ins, 3, p->campaign_id);
	sqlite3_bind_int64(ob->log_ins, 4, p->at_s);
	rc = step_done(ob->log_ins);
	/* FK: the campaign was deleted meanwhile; its caps no longer matter. */
	return rc == SQLITE_DONE || rc == SQLITE_CONSTRAINT_FOREIGNKEY ? 0 : -1;
}

/* Insert the pending triggers; -1 on an error that must abort the commit. */
static int insert_pending(struct outbox *ob, int *inserted, uint64_t *gone)
{
	size_t i;

	for (i = 0; i < ob->n_pend; i++) {
		struct pending *p = &ob->pend[i];
		int rc;

		sqlite3_bind_text(ob->ins, 1, p->trigger_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ob->ins, 2, p->created_us);
		sqlite3_bind_text(ob->ins, 3, p->topic, -1, SQLITE_STATIC);
		sqlite3_bind_text(ob->ins, 4, p->payload, -1, SQLITE_STATIC);
		if (p->customer_id > 0)
			sqlite3_bind_int64(ob->ins, 5, p->customer_id);
		else
			sqlite3_bind_null(ob->ins, 5);
		rc = step_done(ob->ins);
		if (rc == SQLITE_DONE)
			(*inserted)++;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			(*gone)++;  /* customer forgotten meanwhile: the trigger must go too */
		else if (rc == SQLITE_CONSTRAINT_UNIQUE)
			;           /* same trigger id already queued: keep the first */
		else
			return -1;
		if (rc == SQLITE_CONSTRAINT_FOREIGNKEY || p->campaign_id <= 0 || p->customer_id <= 0)
			continue;
		if (log_trigger(ob, p))
			return -1;
	}
	return 0;
}

static int delete_acked(struct outbox *ob)
{
	size_t i;

	for (i = 0; i < ob->n_acked; i++) {
		sqlite3_bind_int64(ob->del, 1, ob->acked[i]);
		if (step_done(ob->del) != SQLITE_DONE)
			return -1;
	}
	return 0;
}

/* Keep at most max_rows: drop the oldest. Returns rows dropped, -1 on error. */
static int64_t trim(struct outbox *ob)
{
	int64_t n = count_rows(ob), excess;

	if (n < 0)
		return -1;
	excess = ob->max_rows && n > (int64_t)ob->max_rows ? n - (int64_t)ob->max_rows : 0;
	if (!excess)
		return 0;
	sqlite3_bind_int64(ob->trim, 1, excess);
	if (step_done(ob->trim) != SQLITE_DONE)
		return -1;
	return sqlite3_changes(ob->db);
}

int outbox_flush(struct outbox *ob)
{
	uint64_t t0, gone = 0, visits = 0;
	int64_t trimmed = 0, n;
	int inserted = 0, rc;
	char why[128];
	size_t i;

	if (ob->expired_unlogged) {
		log_warn(
			     "outbox: dropped %" PRIu64 " trigger(s) older than the message expiry "
			     "(%" PRIu64 " in total)",
			     ob->expired_unlogged, ob->st.dropped_expired);
		ob->expired_unlogged = 0;
	}
	if (!ob->n_pend && !ob->n_visits && !ob->n_acked)
		return 0;
	t0 = bgw_mono_us();
	rc = sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto failed;
	if (write_visits(ob, &visits) || insert_pending(ob, &inserted, &gone) || delete_acked(ob) ||
	    (trimmed = trim(ob)) < 0)
		goto rollback;
	rc = sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto rollback;

	ob->st.commits++;
	ob->st.commit_us_last = bgw_mono_us() - t0;
	ob->st.commit_us_total += ob->st.commit_us_last;
	if (ob->st.commit_us_last > ob->st.commit_us_max)
		ob->st.commit_us_max = ob->st.commit_us_last;
	ob->st.committed += (uint64_t)inserted;
	for (i = 0; i < ob->n_pend; i++)
		pending_free(&ob->pend[i]);
	ob->n_pend = 0;
	ob->st.pending = 0;
	ob->n_visits = 0;
	ob->st.visits_pending = 0;
	ob->st.visits_written += visits;
	ob->n_acked = 0;
	ob->failing = false;
	if (ob->visits_drop_logged)
		log_warn( "outbox: %" PRIu64 " visit change(s) dropped in total "
			     "while the database was not writable", ob->st.visits_dropped);
	ob->visits_drop_logged = false;
	if (gone) {
		ob->st.dropped_gone += gone;
		log_info(
			     "outbox: %" PRIu64 " trigger(s) of forgotten customers dropped", gone);
	}
	if (trimmed > 0) {
		ob->st.dropped_full += (uint64_t)trimmed;
		log_warn(
			     "outbox full (max %u): dropped the %" PRId64
			     " oldest trigger(s), %" PRIu64 " dropped in total",
			     ob->max_rows, trimmed, ob->st.dropped_full);
	}
	n = count_rows(ob);
	ob->st.depth = n > 0 ? (uint64_t)n : 0;
	if (ob->busy_logged) {
		log_info( "outbox: database writable again");
		ob->busy_logged = false;
	}
	return inserted;

rollback:
	rc = sqlite3_extended_errcode(ob->db);
	/* The cause, before ROLLBACK overwrites the connection's error: on
	 * SQLITE_FULL / IOERR SQLite has already rolled back, and the ROLLBACK
	 * itself fails with "no transaction is active". */
	snprintf(why, sizeof(why), "%s", sqlite3_errmsg(ob->db));
	if (!sqlite3_get_autocommit(ob->db))
		sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
	goto report;
failed:
	snprintf(why, sizeof(why), "%s", sqlite3_errmsg(ob->db));
report:
	ob->st.commit_failures++;
	ob->failing = true;
	snprintf(ob->why, sizeof(ob->why), "%s", why);
	if (!ob->busy_logged) {
		log_msg((rc & 0xff) == SQLITE_BUSY ? LOG_PRIO_NOTICE : LOG_PRIO_ERR,
			     "outbox: commit failed (%s), %zu trigger(s) and %zu visit change(s) "
			     "kept in memory for retry",
			     why, ob->n_pend, ob->n_visits);
		ob->busy_logged = true;
	}
	return -1;
}

static bool is_acked(const struct outbox *ob, int64_t id)
{
	size_t i;

	for (i = 0; i < ob->n_acked; i++)
		if (ob->acked[i] == id)
			return true;
	return false;
}

static int push_acked(struct outbox *ob, int64_t id)
{
	if (ob->n_acked == ob->cap_acked) {
		size_t cap = ob->cap_acked ? ob->cap_acked * 2 : 64;
		int64_t *na = realloc(ob->acked, cap * sizeof(*na));

		if (!na)
			return -1;
		ob->acked = na;
		ob->cap_acked = cap;
	}
	ob->acked[ob->n_acked++] = id;
	return 0;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return strdup(t ? (const char *)t : "");
}

int outbox_next(struct outbox *ob, int64_t now_us, uint32_t expiry_s, struct outbox_msg *m)
{
	for (;;) {
		int64_t id, created;
		int rc;

		sqlite3_bind_int64(ob->next, 1, ob->cursor);
		rc = sqlite3_step(ob->next);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(ob->next);
			return rc == SQLITE_DONE ? 0 : -1;
		}
		id = sqlite3_column_int64(ob->next, 0);
		created = sqlite3_column_int64(ob->next, 1);
		ob->cursor = id;
		if (is_acked(ob, id)) {
			sqlite3_reset(ob->next);
			continue;
		}
		if (expiry_s && now_us - created >= (int64_t)expiry_s * 1000000) {
			sqlite3_reset(ob->next);
			if (push_acked(ob, id) == 0) {
				ob->st.dropped_expired++;
				ob->expired_unlogged++;
			}
			continue;
		}
		pending_free(&ob->cur);
		ob->cur.trigger_id = dup_col(ob->next, 2);
		ob->cur.topic = dup_col(ob->next, 3);
		ob->cur.payload = dup_col(ob->next, 4);
		sqlite3_reset(ob->next);
		if (!ob->cur.trigger_id || !ob->cur.topic || !ob->cur.payload) {
			ob->cursor = id - 1;
			return -1;
		}
		m->id = id;
		m->created_us = created;
		m->trigger_id = ob->cur.trigger_id;
		m->topic = ob->cur.topic;
		m->payload = ob->cur.payload;
		m->payload_len = strlen(ob->cur.payload);
		return 1;
	}
}

void outbox_acked(struct outbox *ob, int64_t id)
{
	ob->st.sent++;
	if (push_acked(ob, id))
		log_err( "outbox: out of memory; row %" PRId64 " will be sent again",
			     id);
}

void outbox_discard(struct outbox *ob, int64_t id)
{
	if (push_acked(ob, id))
		log_err( "outbox: out of memory; row %" PRId64 " will be sent again",
			     id);
}

void outbox_rewind(struct outbox *ob)
{
	ob->cursor = 0;
}

const struct outbox_stats *outbox_get_stats(const struct outbox *ob)
{
	return &ob->st;
}

const char *outbox_last_error(const struct outbox *ob)
{
	return ob->failing ? ob->why : NULL;
}
