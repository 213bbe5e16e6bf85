/*
 * outbox.c - durable, ordered, bounded trigger queue in SQLite.
 * See outbox.h for the commit strategy.
 */
#include "outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bgw_clock.h"
#include "delivery_config.h"
#include "log.h"
#include "store_outbox.h"

/* The writes touch the tails of a few tables and the upper levels of their
 * indexes: a small page cache holds those, and the kernel's page cache the
 * rest. SQLite's default (2 MiB per connection) would be a tenth of the
 * gateway's memory on a Pi; 128 KiB costs ~15 instructions per report more
 * than 256 in the callgrind replay (pages copied in again), 512 saves none
 * (BENCHMARKS.md). */
#define OUTBOX_CACHE_KIB 256

/* Row ids of aggregates start with this; trigger ids are UUIDs. */
#define AUX_PREFIX "aux:"

struct pending {
	char *trigger_id;
	char *topic;
	char *payload;
	int64_t customer_id;
	int64_t created_us;
	int64_t campaign_id;         /* > 0: write the trigger_log row too */
	int64_t at_s;
	/* topic and payload NULL: a peer's trigger, only its trigger_log row. */
};

struct outbox {
	sqlite3 *db;                 /* a connection of its own; only store_* calls touch it */
	uint32_t max_rows;
	uint32_t pending_max;

	struct pending *pend;
	size_t n_pend, cap_pend;

	struct store_visit *visits;  /* visit changes, in the order they happened */
	size_t n_visits, cap_visits;

	int64_t *acked;              /* rows to delete at the next flush */
	size_t n_acked, cap_acked;

	int64_t cursor;              /* highest id handed out since the last rewind */
	/* Nothing after the cursor: the last read found no row, and since then
	 * this outbox committed none and the cursor did not move back. Only
	 * this process adds rows, so the next read can be skipped: each pump
	 * ends with one, and a read transaction costs ~6,000 instructions. */
	bool drained;
	uint64_t aux_serial;         /* makes aggregate row ids unique within a microsecond */
	struct store_outbox_row cur; /* the row last returned by outbox_next */

	uint64_t expired_unlogged;
	bool busy_logged;
	bool visits_drop_logged;
	bool failing;                /* the last commit attempt failed: why[] says why */
	char why[STORE_ERRLEN];
	struct outbox_stats st;
};

static void pending_free(struct pending *p)
{
	free(p->trigger_id);
	free(p->topic);
	free(p->payload);
	memset(p, 0, sizeof(*p));
}

static int64_t count_rows(struct outbox *ob)
{
	int64_t n = -1;

	if (store_outbox_count(ob->db, &n, NULL) != STORE_OK)
		return -1;
	return n;
}

struct outbox *outbox_open(const char *db_path, const struct delivery_config *cfg,
			   char err[STORE_ERRLEN])
{
	/* busy_ms 0: never wait for another writer inside the event loop. */
	const struct store_open_opts opts = { .busy_ms = 0, .cache_kib = OUTBOX_CACHE_KIB };
	struct outbox *ob = calloc(1, sizeof(*ob));
	char serr[STORE_ERRLEN];
	int64_t n;

	if (!ob) {
		snprintf(err, STORE_ERRLEN, "outbox: out of memory");
		return NULL;
	}
	ob->max_rows = cfg->outbox_max;
	ob->pending_max = cfg->pending_max ? cfg->pending_max : 1;
	if (store_open_with(db_path, &opts, &ob->db, serr) != STORE_OK) {
		snprintf(err, STORE_ERRLEN, "outbox: %.240s", serr);
		goto fail;
	}
	if (store_batch_prepare(ob->db, serr) != STORE_OK) {
		snprintf(err, STORE_ERRLEN,
			 "outbox: %.180s (is the database initialised? run beaconctl init)", serr);
		goto fail;
	}
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
	store_close(ob->db);
	for (i = 0; i < ob->n_pend; i++)
		pending_free(&ob->pend[i]);
	free(ob->pend);
	free(ob->visits);
	free(ob->acked);
	store_outbox_row_clear(&ob->cur);
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

/*
 * A burst - every tracked shopper's enter decided in one tick, a replay's
 * batch of reports - is committed in slices of OUTBOX_SLICE changes (or of
 * pending_max, when that is smaller) as it comes, not held until the loop
 * turn ends: while the database is writable nothing waits beyond a slice
 * (memory stays small) and nothing is dropped. Once a commit has failed
 * (another writer holds the lock), changes wait for the next turn's
 * attempt, bounded by pending_max. 128 changes (a few dozen KiB of
 * trigger documents) per commit: a burst of 10,000 enters takes some 80
 * commits instead of 20, and the peak memory is ~0.4 MiB lower.
 */
#define OUTBOX_SLICE 128

static void commit_slice(struct outbox *ob, size_t waiting)
{
	if ((waiting >= OUTBOX_SLICE || waiting >= ob->pending_max) && !ob->failing)
		outbox_flush(ob);
}

/* Room for one more pending row: the oldest goes past pending_max. */
static int pending_room(struct outbox *ob)
{
	commit_slice(ob, ob->n_pend);
	if (ob->n_pend >= ob->pending_max)
		drop_oldest_pending(ob);
	if (ob->n_pend == ob->cap_pend) {
		size_t cap = ob->cap_pend ? ob->cap_pend * 2 : 16;
		struct pending *np = realloc(ob->pend, cap * sizeof(*np));

		if (!np)
			return -1;
		ob->pend = np;
		ob->cap_pend = cap;
	}
	return 0;
}

int outbox_enqueue_logged(struct outbox *ob, const char *trigger_id, const char *topic,
			  const char *payload, int64_t customer_id, int64_t created_us,
			  int64_t campaign_id, int64_t at_s)
{
	struct pending p = { 0 };

	if (strncmp(trigger_id, AUX_PREFIX, strlen(AUX_PREFIX)))
		ob->st.queued++;
	if (pending_room(ob))
		goto nomem;
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

int outbox_enqueue_aux(struct outbox *ob, const char *leaf, const char *topic,
		       const char *payload)
{
	int64_t now = (int64_t)bgw_wall_us();
	char id[96];

	ob->st.aux_queued++;
	snprintf(id, sizeof(id), AUX_PREFIX "%.32s:%" PRId64 ":%" PRIu64, leaf, now,
		 ++ob->aux_serial);
	return outbox_enqueue_logged(ob, id, topic, payload, 0, now, 0, 0);
}

int outbox_log_trigger(struct outbox *ob, const char *trigger_id, int64_t customer_id,
		       int64_t campaign_id, int64_t at_s)
{
	struct pending p = { 0 };

	if (campaign_id <= 0 || customer_id <= 0)
		return 0;
	if (pending_room(ob))
		return -1;
	p.trigger_id = strdup(trigger_id);
	if (!p.trigger_id)
		return -1;
	p.customer_id = customer_id;
	p.campaign_id = campaign_id;
	p.at_s = at_s;
	ob->pend[ob->n_pend++] = p;
	return 0;
}

int outbox_visit(struct outbox *ob, const struct store_visit *v)
{
	commit_slice(ob, ob->n_visits);
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
		struct store_visit *nv;

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
	ob->visits[ob->n_visits].zone[STORE_VISIT_ZONE_MAX - 1] = '\0';
	ob->n_visits++;
	ob->st.visits_pending = ob->n_visits;
	return 0;
}

bool outbox_dirty(const struct outbox *ob)
{
	return ob->n_pend || ob->n_visits || ob->n_acked || ob->expired_unlogged;
}

/* Apply the visit changes in order; -1 on an error that must abort the commit. */
static int write_visits(struct outbox *ob, uint64_t *written, uint64_t *refused, char *err)
{
	for (size_t i = 0; i < ob->n_visits; i++) {
		int rc = store_visit_write(ob->db, &ob->visits[i], err);

		if (rc == STORE_OK)
			(*written)++;
		else if (rc == STORE_ENDED || rc == STORE_ENOENT)  /* consent ended, or forgotten */
			(*refused)++;
		else
			return -1;
	}
	return 0;
}

/* Insert the pending triggers, each with its trigger_log row; -1 on an
 * error that must abort the commit. Ids are handed out here, under the
 * write lock: above every row and every id handed out before (kv, raised
 * in the same batch), by this process or another, so that they ascend in
 * commit order and are never reused. */
static int insert_pending(struct outbox *ob, int *inserted, uint64_t *gone, uint64_t *ended,
			  char *err)
{
	int64_t first_id = 0, last_id;
	size_t i;

	if (ob->n_pend && store_outbox_last_id(ob->db, &first_id, err) != STORE_OK)
		return -1;
	last_id = first_id;
	for (i = 0; i < ob->n_pend; i++) {
		struct pending *p = &ob->pend[i];
		int rc = !p->topic ? STORE_OK :
			 store_outbox_insert_id(ob->db, last_id + 1, p->trigger_id, p->created_us,
						p->topic, p->payload, p->customer_id, err);

		if (rc == STORE_OK && p->topic)
			last_id++;
		if (rc == STORE_OK)
			*inserted += p->topic != NULL;
		else if (rc == STORE_ENOENT)
			(*gone)++;  /* customer forgotten meanwhile: the trigger must go too */
		else if (rc == STORE_ENDED)
			(*ended)++; /* consent ended meanwhile: not recorded, not published */
		else if (rc == STORE_EEXIST)
			;           /* same trigger id already queued: keep the first */
		else
			return -1;
		if (rc == STORE_ENOENT || rc == STORE_ENDED || p->campaign_id <= 0 ||
		    p->customer_id <= 0)
			continue;
		rc = store_trigger_log_insert(ob->db, p->trigger_id, p->customer_id,
					      p->campaign_id, p->at_s, err);
		/* ENOENT: the campaign was deleted meanwhile; its caps no longer matter. */
		if (rc != STORE_OK && rc != STORE_ENOENT)
			return -1;
	}
	if (last_id > first_id && store_outbox_mark(ob->db, last_id, err) != STORE_OK)
		return -1;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* One statement per run of consecutive ids: every id of a run was handed
 * out and is to go, so no other row can lie inside it. */
static int delete_acked(struct outbox *ob, char *err)
{
	size_t i = 0, j;

	if (!ob->n_acked)
		return 0;   /* acked may still be NULL, which qsort() must not get */
	qsort(ob->acked, ob->n_acked, sizeof(*ob->acked), cmp_id);
	while (i < ob->n_acked) {
		for (j = i; j + 1 < ob->n_acked && ob->acked[j + 1] - ob->acked[j] <= 1; j++)
			;
		if (store_outbox_delete_range(ob->db, ob->acked[i], ob->acked[j], err) != STORE_OK)
			return -1;
		i = j + 1;
	}
	return 0;
}

int outbox_flush(struct outbox *ob)
{
	uint64_t t0, gone = 0, ended = 0, visits = 0, refused = 0;
	int64_t trimmed = 0, n;
	int inserted = 0, rc;
	char why[STORE_ERRLEN];
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
	rc = store_batch_begin(ob->db, why);
	if (rc != STORE_OK)
		goto report;
	/* Each step leaves the cause in why[] before the rollback: on
	 * SQLITE_FULL / IOERR SQLite has already rolled back by itself. */
	if (write_visits(ob, &visits, &refused, why) ||
	    insert_pending(ob, &inserted, &gone, &ended, why) ||
	    delete_acked(ob, why) ||
	    store_outbox_trim(ob->db, ob->max_rows, &trimmed, why) != STORE_OK ||
	    (rc = store_batch_commit(ob->db, why)) != STORE_OK) {
		rc = rc != STORE_OK ? rc : STORE_EIO;
		store_batch_rollback(ob->db);
		goto report;
	}

	ob->st.commits++;
	ob->st.commit_us_last = bgw_mono_us() - t0;
	ob->st.commit_us_total += ob->st.commit_us_last;
	if (ob->st.commit_us_last > ob->st.commit_us_max)
		ob->st.commit_us_max = ob->st.commit_us_last;
	ob->st.committed += (uint64_t)inserted;
	if (inserted)
		ob->drained = false;
	for (i = 0; i < ob->n_pend; i++)
		pending_free(&ob->pend[i]);
	ob->n_pend = 0;
	ob->st.pending = 0;
	ob->n_visits = 0;
	ob->st.visits_pending = 0;
	ob->st.visits_written += visits;
	ob->st.visits_dropped_consent += refused;
	ob->st.dropped_consent += ended;
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

report:
	ob->st.commit_failures++;
	ob->failing = true;
	snprintf(ob->why, sizeof(ob->why), "%s", why);
	if (!ob->busy_logged) {
		log_msg(rc == STORE_EBUSY ? LOG_PRIO_NOTICE : LOG_PRIO_ERR,
			     "outbox: commit failed (%s), %zu trigger(s) and %zu visit change(s) "
			     "kept in memory for retry",
			     ob->why, ob->n_pend, ob->n_visits);
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

int outbox_next(struct outbox *ob, int64_t now_us, uint32_t expiry_s, struct outbox_msg *m)
{
	if (ob->drained)
		return 0;
	for (;;) {
		struct store_outbox_row row;
		int rc = store_outbox_next(ob->db, ob->cursor, &row, NULL);

		if (rc == 0)
			ob->drained = true;
		if (rc <= 0)
			return rc == 0 ? 0 : -1;
		ob->cursor = row.id;
		if (is_acked(ob, row.id)) {
			store_outbox_row_clear(&row);
			continue;
		}
		if (expiry_s && now_us - row.created_us >= (int64_t)expiry_s * 1000000) {
			bool aux = !strncmp(row.trigger_id, AUX_PREFIX, strlen(AUX_PREFIX));

			if (push_acked(ob, row.id) == 0) {
				if (aux) {
					ob->st.aux_expired++;
				} else {
					ob->st.dropped_expired++;
					ob->expired_unlogged++;
				}
			}
			store_outbox_row_clear(&row);
			continue;
		}
		store_outbox_row_clear(&ob->cur);
		ob->cur = row;
		m->id = row.id;
		m->created_us = row.created_us;
		m->customer_id = row.customer_id;
		m->trigger_id = row.trigger_id;
		m->topic = row.topic;
		m->payload = row.payload;
		m->payload_len = strlen(row.payload);
		m->aux = !strncmp(row.trigger_id, AUX_PREFIX, strlen(AUX_PREFIX));
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

void outbox_aux_acked(struct outbox *ob, int64_t id)
{
	ob->st.aux_sent++;
	if (push_acked(ob, id))
		log_err("outbox: out of memory; row %" PRId64 " will be sent again", id);
}

void outbox_discard(struct outbox *ob, int64_t id)
{
	if (push_acked(ob, id))
		log_err( "outbox: out of memory; row %" PRId64 " will be sent again",
			     id);
}

void outbox_drop_consent(struct outbox *ob, int64_t id)
{
	if (push_acked(ob, id) == 0)
		ob->st.dropped_consent++;
	else
		log_err("outbox: out of memory; row %" PRId64 " will be checked again", id);
}

void outbox_putback(struct outbox *ob, const struct outbox_msg *m)
{
	/* Rows come in id order and everything below m->id was handed out
	 * already: resuming after m->id - 1 returns m next. */
	if (ob->cursor >= m->id) {
		ob->cursor = m->id - 1;
		ob->drained = false;
	}
}

void outbox_rewind(struct outbox *ob)
{
	ob->cursor = 0;
	ob->drained = false;
}

const struct outbox_stats *outbox_get_stats(const struct outbox *ob)
{
	return &ob->st;
}

const char *outbox_last_error(const struct outbox *ob)
{
	return ob->failing ? ob->why : NULL;
}
