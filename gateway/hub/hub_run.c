/*
 * hub_run.c - beaconhub's runtime (hub_run.h).
 *
 * Order on the wire: signed changes leave fleet_outbox in sequence, at most
 * WINDOW unacknowledged, each row deleted on its PUBACK; after a reconnect
 * publishing restarts at the oldest row (a gateway refuses the repeats as
 * replays). The retained head names the highest sequence the broker has
 * acknowledged in order, so a gateway that sees the head has normally been
 * sent every change up to it. It is published whenever that moves and
 * every head_interval_s, so gateways can tell a quiet hub from a dead one.
 */
#include "hub_run.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgw_clock.h"
#include "bgw_exit.h"
#include "broker_link.h"
#include "fleet_msg.h"
#include "hub.h"
#include "hub_fleet.h"
#include "hub_snapshot.h"
#include "log.h"
#include "loop.h"
#include "store.h"

#define WINDOW 32
#define TOPIC_MAX 600
#define REQUESTS_MAX 256
/* A snapshot is served again to whoever asks within this time after its
 * last chunk went out, if nothing changed since; then it is dropped (its
 * read transaction with it). Counted from the last use, not the build: a
 * transfer of a million customers outlasts it, and a gateway resuming one
 * must find it still there. */
#define SNAPSHOT_KEEP_US (60u * BGW_US_PER_S)
#define SNAPSHOT_EXPIRY_S 600

/* Snapshot chunks handed to the broker and not yet acknowledged, all
 * transfers together: the broker's pace sets the hub's, and the client
 * library never queues more than this many chunks. */
#define SNAP_WINDOW 16

/* A gateway's snapshot request: waiting, or being sent (active). */
struct request {
	char topic[TOPIC_MAX];
	char snap[24];
	uint32_t from;
	bool active;
	size_t next;              /* the next chunk to send */
	size_t sent_bytes;
	uint64_t started_us;
};

struct hub_run {
	struct loop *loop;
	struct hub_config cfg;
	struct hub_auth auth;
	struct broker_link *link;
	int fd;
	unsigned fd_epoch;
	char t_change[TOPIC_MAX], t_head[TOPIC_MAX], t_will[TOPIC_MAX];
	char t_status[TOPIC_MAX], t_request[TOPIC_MAX];

	struct { int64_t id, seq; int mid; } win[WINDOW];
	int n_win;
	int64_t next_id;          /* publish rows with id >= this */
	int64_t acked_seq;        /* every change up to this is acknowledged */
	int64_t last_pub_seq;     /* the newest change handed to the broker */
	bool head_due;
	uint64_t next_head_us;

	/* Refused input, counted (and in the hub's status). */
	uint64_t bad_statuses, bad_requests, requests_served, snapshots_built;
	uint64_t reloads, reloads_failed;

	struct hub_snapshot *snap;
	struct request req[REQUESTS_MAX];
	size_t n_req;
	size_t rr;                /* round robin over active transfers */
	int snap_mids[SNAP_WINDOW];
	int n_snap_mids;
	uint64_t data_version;
};

/* ---- the outbox ---- */

static int64_t outbox_first_seq(struct hub_run *h, bool *empty)
{
	sqlite3_stmt *st;
	int64_t seq = 0;

	*empty = true;
	if (sqlite3_prepare_v2(h->auth.db, "SELECT min(seq) FROM fleet_outbox WHERE key = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, h->auth.fpr, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		seq = sqlite3_column_int64(st, 0);
		*empty = false;
	}
	sqlite3_finalize(st);
	return seq;
}

static void pump(struct hub_run *h)
{
	sqlite3_stmt *st;
	int rc;

	if (!broker_link_up(h->link) || h->n_win >= WINDOW)
		return;
	if (sqlite3_prepare_v2(h->auth.db, "SELECT id, seq, msg FROM fleet_outbox WHERE id >= ? "
			       "AND key = ? ORDER BY id LIMIT ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, h->next_id);
	sqlite3_bind_text(st, 2, h->auth.fpr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, WINDOW - h->n_win);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && broker_link_up(h->link)) {
		const char *msg = (const char *)sqlite3_column_text(st, 2);
		int mid = 0;

		/* No expiry: a gateway's session keeps them while it is away. */
		if (broker_link_publish(h->link, &mid, h->t_change, msg, strlen(msg), false, 0))
			break;
		h->win[h->n_win].id = sqlite3_column_int64(st, 0);
		h->win[h->n_win].seq = sqlite3_column_int64(st, 1);
		h->win[h->n_win].mid = mid;
		h->n_win++;
		h->next_id = sqlite3_column_int64(st, 0) + 1;
		h->last_pub_seq = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
}

/* The hub's own retained status on <prefix>/consent/hub (its last will
 * there says "offline"): for monitoring head office. */
static void publish_status(struct hub_run *h)
{
	cJSON *o = cJSON_CreateObject(), *c;
	char *s;

	cJSON_AddBoolToObject(o, "online", true);
	cJSON_AddStringToObject(o, "fleet", h->auth.fleet);
	cJSON_AddStringToObject(o, "key", h->auth.fpr);
	cJSON_AddNumberToObject(o, "seq", (double)h->auth.signed_seq);
	cJSON_AddNumberToObject(o, "acked_seq", (double)h->acked_seq);
	c = cJSON_AddObjectToObject(o, "counts");
	cJSON_AddNumberToObject(c, "bad_statuses", (double)h->bad_statuses);
	cJSON_AddNumberToObject(c, "bad_requests", (double)h->bad_requests);
	cJSON_AddNumberToObject(c, "snapshots_built", (double)h->snapshots_built);
	cJSON_AddNumberToObject(c, "snapshots_served", (double)h->requests_served);
	cJSON_AddNumberToObject(c, "reloads", (double)h->reloads);
	cJSON_AddNumberToObject(c, "reloads_failed", (double)h->reloads_failed);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s)
		broker_link_publish(h->link, NULL, h->t_will, s, strlen(s), true, 0);
	free(s);
}

static void publish_head(struct hub_run *h)
{
	char err[256], *env;
	cJSON *p;

	if (!broker_link_up(h->link))
		return;
	p = cJSON_CreateObject();
	env = fleet_msg_sign(h->auth.key, h->auth.fpr, h->auth.fleet, FLEET_HEAD, h->acked_seq,
			     hub_now_s(), p, err, sizeof(err));
	cJSON_Delete(p);
	if (!env) {
		log_err("hub: cannot sign the head: %s", err);
		return;
	}
	publish_status(h);
	if (broker_link_publish(h->link, NULL, h->t_head, env, strlen(env), true, 0) == 0) {
		h->head_due = false;
		h->next_head_us = bgw_mono_us() +
				  (uint64_t)h->cfg.head_interval_s * BGW_US_PER_S;
		log_debug("hub: head seq %" PRId64 " published", h->acked_seq);
	}
	free(env);
}

/* ---- snapshots ---- */

static bool all_published(struct hub_run *h)
{
	bool empty;

	outbox_first_seq(h, &empty);
	return empty && h->n_win == 0 && h->acked_seq == h->auth.signed_seq;
}

static size_t n_active(const struct hub_run *h)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_req; i++)
		n += h->req[i].active;
	return n;
}

static void drop_request(struct hub_run *h, size_t i)
{
	memmove(&h->req[i], &h->req[i + 1], (h->n_req - i - 1) * sizeof(h->req[0]));
	h->n_req--;
}

/* A snapshot nobody is being sent that is out of date or past its time is
 * closed at once, whether or not anyone asks: its read transaction keeps
 * the authority database's WAL from being checkpointed, and with it the
 * file clean-up of an erasure (beaconctl forget) at head office. */
static bool snapshot_fresh(const struct hub_run *h)
{
	return h->snap && h->snap->seq == h->acked_seq && !strcmp(h->snap->key, h->auth.fpr) &&
	       bgw_mono_us() - h->snap->used_us <= SNAPSHOT_KEEP_US;
}

static void close_stale_snapshot(struct hub_run *h)
{
	if (h->snap && !snapshot_fresh(h) && !n_active(h)) {
		hub_snapshot_free(h->snap);
		h->snap = NULL;
	}
}

/* Waiting requests become transfers of the current snapshot, built if
 * needed. Requests wait until every signed change is published: a snapshot
 * then holds exactly the state at the sequence the head names. A snapshot
 * still being sent to someone stays, and only requests it is current for
 * start meanwhile. */
static void start_requests(struct hub_run *h)
{
	bool fresh, published = all_published(h);
	char err[256] = "";

	close_stale_snapshot(h);
	fresh = snapshot_fresh(h);
	if (!h->snap && published) {
		uint64_t t0 = bgw_mono_us();

		h->snap = hub_snapshot_build(&h->auth, h->acked_seq, h->cfg.chunk_bytes, err,
					     sizeof(err));
		if (!h->snap) {
			log_err("hub: cannot build a snapshot: %s", err);
			return;
		}
		h->snapshots_built++;
		fresh = true;
		log_info("hub: snapshot %s built: seq %" PRId64 ", %" PRIu64 " item(s), %zu "
			 "chunk(s), %" PRIu64 " bytes of items, %.2f s", h->snap->id, h->snap->seq,
			 h->snap->items, h->snap->n, h->snap->item_bytes,
			 (double)(bgw_mono_us() - t0) / BGW_US_PER_S);
	}
	if (!h->snap || !fresh || !published)
		return;
	for (size_t i = 0; i < h->n_req; i++) {
		struct request *r = &h->req[i];
		bool resume;

		if (r->active)
			continue;
		resume = r->snap[0] && !strcmp(r->snap, h->snap->id);
		r->active = true;
		r->next = resume ? r->from : 0;
		/* A gateway resumes every so often while a long transfer runs:
		 * one transfer, counted and timed once. */
		if (!resume || !r->started_us) {
			r->sent_bytes = 0;
			r->started_us = bgw_mono_us();
			h->requests_served++;
		}
	}
}

/* Chunks of the active transfers, round robin, while the window has room. */
static void send_chunks(struct hub_run *h)
{
	char err[256];

	while (h->n_snap_mids < SNAP_WINDOW && n_active(h) && broker_link_up(h->link)) {
		struct request *r;
		const char *chunk;
		int mid = 0;

		h->rr %= h->n_req;
		r = &h->req[h->rr];
		if (!r->active) {
			h->rr++;
			continue;
		}
		if (r->next < h->snap->n) {
			err[0] = '\0';
			chunk = hub_snapshot_chunk(h->snap, &h->auth, r->next, err, sizeof(err));
			if (!chunk) {
				log_err("hub: snapshot %s chunk %zu: %s (the gateway asks again)",
					h->snap->id, r->next, err);
				drop_request(h, h->rr);
				continue;
			}
			if (broker_link_publish(h->link, &mid, r->topic, chunk, strlen(chunk), false,
						SNAPSHOT_EXPIRY_S))
				return;
			h->snap_mids[h->n_snap_mids++] = mid;
			h->snap->used_us = bgw_mono_us();
			r->sent_bytes += strlen(chunk);
			r->next++;
		}
		if (r->next >= h->snap->n) {
			log_info("hub: snapshot %s (seq %" PRId64 ", %zu chunk(s), %zu bytes) sent to "
				 "%s in %.2f s", h->snap->id, h->snap->seq, h->snap->n,
				 r->sent_bytes, r->topic,
				 (double)(bgw_mono_us() - r->started_us) / BGW_US_PER_S);
			drop_request(h, h->rr);
			continue;
		}
		h->rr++;
	}
}

static void serve_requests(struct hub_run *h)
{
	close_stale_snapshot(h);
	if (!h->n_req || !broker_link_up(h->link))
		return;
	start_requests(h);
	send_chunks(h);
}

static void on_request(struct hub_run *h, const char *topic, const void *payload, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(payload, len);
	const cJSON *snap = cJSON_GetObjectItemCaseSensitive(o, "snap");
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(o, "from");
	size_t tl = strlen(topic), i;
	struct request *r;

	/* <prefix>/<site>/<gw>/consent/request -> .../consent/snapshot */
	if (tl < 8 || tl >= TOPIC_MAX || strcmp(topic + tl - 8, "/request") ||
	    !cJSON_IsObject(o)) {
		h->bad_requests++;
		log_limited(LOG_PRIO_WARNING, "hub bad request",
			    "hub: a snapshot request that is not a JSON object was ignored "
			    "(%" PRIu64 " so far)", h->bad_requests);
		cJSON_Delete(o);
		return;
	}
	/* Asked again (before being served, or resuming what it was sent):
	 * once is enough, from where it now says. */
	for (i = 0; i < h->n_req; i++)
		if (!strncmp(h->req[i].topic, topic, tl - 8) && h->req[i].topic[tl - 8] == '/')
			break;
	if (i == h->n_req) {
		if (h->n_req == REQUESTS_MAX) {
			log_limited(LOG_PRIO_WARNING, "hub requests",
				    "hub: too many snapshot requests at once; one dropped "
				    "(the gateway asks again)");
			cJSON_Delete(o);
			return;
		}
		h->req[h->n_req++] = (struct request){ 0 };
	}
	r = &h->req[i];
	snprintf(r->topic, sizeof(r->topic), "%.*s/snapshot", (int)(tl - 8), topic);
	r->snap[0] = '\0';
	r->from = 0;
	r->active = false;
	if (cJSON_IsString(snap) && strlen(snap->valuestring) < sizeof(r->snap))
		snprintf(r->snap, sizeof(r->snap), "%s", snap->valuestring);
	if (cJSON_IsNumber(from) && from->valuedouble >= 0 && from->valuedouble < 1 << 20)
		r->from = (uint32_t)from->valuedouble;
	cJSON_Delete(o);
	serve_requests(h);
}

/* ---- link callbacks ---- */

static void link_up(void *ctx)
{
	struct hub_run *h = ctx;
	char b[272];

	log_info("hub: connected to %s", broker_link_name(h->link, b, sizeof(b)));
	broker_link_subscribe(h->link, h->t_status);
	broker_link_subscribe(h->link, h->t_request);
	h->head_due = true;
	pump(h);
}

static void link_down(void *ctx)
{
	struct hub_run *h = ctx;

	h->n_win = 0;
	h->next_id = 0;
	/* Chunks in flight may be lost: transfers stop, and each gateway asks
	 * again for what it lacks. */
	h->n_snap_mids = 0;
	for (size_t i = h->n_req; i-- > 0;)
		if (h->req[i].active)
			drop_request(h, i);
}

static void link_published(void *ctx, int mid, int reason)
{
	struct hub_run *h = ctx;
	char del[80];
	int64_t upto;

	for (int i = 0; i < h->n_snap_mids; i++) {
		if (h->snap_mids[i] != mid)
			continue;
		h->snap_mids[i] = h->snap_mids[--h->n_snap_mids];
		return;   /* before_wait() sends the next chunks */
	}
	for (int i = 0; i < h->n_win; i++) {
		if (h->win[i].mid != mid)
			continue;
		if (reason >= 128) {
			/* Refused: start over from this row after a pause. */
			broker_link_abort(h->link, BROKER_FAIL_BUSY, "broker refused a change");
			return;
		}
		snprintf(del, sizeof(del), "DELETE FROM fleet_outbox WHERE id = %" PRId64,
			 h->win[i].id);
		if (sqlite3_exec(h->auth.db, del, NULL, NULL, NULL) != SQLITE_OK)
			log_limited(LOG_PRIO_WARNING, "hub outbox", "hub: outbox: %s (the change "
				    "is sent again later)", sqlite3_errmsg(h->auth.db));
		memmove(&h->win[i], &h->win[i + 1], (size_t)(h->n_win - i - 1) * sizeof(h->win[0]));
		h->n_win--;
		/* In order: up to the oldest change still unacknowledged. */
		upto = h->n_win ? h->win[0].seq - 1 : h->last_pub_seq;
		if (upto > h->acked_seq) {
			h->acked_seq = upto;
			h->head_due = true;
		}
		return;
	}
}

static void link_message(void *ctx, const char *topic, const void *payload, size_t len)
{
	struct hub_run *h = ctx;
	size_t tl = strlen(topic);
	char err[256];

	if (tl > 7 && !strcmp(topic + tl - 7, "/status")) {
		int rc = len ? hub_fleet_record(h->auth.db, payload, len, err, sizeof(err)) : 0;

		if (rc < 0)
			log_limited(LOG_PRIO_WARNING, "hub status", "hub: %s", err);
		if (rc > 0) {
			h->bad_statuses++;
			log_limited(LOG_PRIO_WARNING, "hub bad status",
				    "hub: a status without site, gateway or ts was ignored "
				    "(%" PRIu64 " so far)", h->bad_statuses);
		}
	} else if (tl > 8 && !strcmp(topic + tl - 8, "/request")) {
		on_request(h, topic, payload, len);
	}
}

/* ---- the loop ---- */

static void on_fd(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct hub_run *h = ctx;

	(void)l;
	(void)fd;
	if (events & LOOP_READ)
		broker_link_on_readable(h->link);
	if (events & LOOP_WRITE)
		broker_link_on_writable(h->link);
}

static void on_poll(struct loop *l, int id, void *ctx)
{
	struct hub_run *h = ctx;
	uint64_t dv = store_data_version(h->auth.db);
	char err[256];

	(void)l;
	(void)id;
	/* Another connection committed (beaconctl): sign what it changed; or
	 * the last attempt could not, and the rows still wait. */
	if (dv != h->data_version || h->auth.busy) {
		h->data_version = dv;
		if (hub_log_sign_pending(&h->auth, err, sizeof(err)) < 0)
			log_limited(LOG_PRIO_ERR, "hub sign", "hub: cannot sign changes: %s "
				    "(retrying)", err);
		pump(h);
	}
}

static int before_wait(struct loop *l, void *ctx)
{
	struct hub_run *h = ctx;
	uint64_t now;
	int fd, ms;

	broker_link_tick(h->link);
	close_stale_snapshot(h);
	if (broker_link_up(h->link)) {
		pump(h);
		now = bgw_mono_us();
		if ((h->head_due && h->n_win == 0) || now >= h->next_head_us)
			publish_head(h);
		serve_requests(h);
	}
	fd = broker_link_fd(h->link);
	if (fd != h->fd || broker_link_fd_epoch(h->link) != h->fd_epoch) {
		if (h->fd >= 0)
			loop_del_fd(l, h->fd);
		h->fd = -1;
		h->fd_epoch = broker_link_fd_epoch(h->link);
		if (fd >= 0 && loop_add_fd(l, fd, LOOP_READ, on_fd, h) == 0)
			h->fd = fd;
	}
	if (h->fd >= 0)
		loop_set_interest(l, h->fd,
				  LOOP_READ | (broker_link_wants_write(h->link) ? LOOP_WRITE : 0));
	ms = broker_link_timeout_ms(h->link);
	if (broker_link_up(h->link)) {
		now = bgw_mono_us();
		int head_ms = now >= h->next_head_us ? 0 :
			      (int)((h->next_head_us - now) / 1000 + 1);

		if (head_ms < ms || ms < 0)
			ms = head_ms;
	}
	return ms;
}

/* Rows signed under another key (before a rotation) are not sent: the
 * gateways resynchronise from a snapshot signed with the new key. */
static void drop_other_keys(struct hub_run *h)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(h->auth.db, "DELETE FROM fleet_outbox WHERE key <> ?", -1, &st,
			       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, h->auth.fpr, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (sqlite3_changes(h->auth.db))
		log_notice("hub: %d queued change(s) of an earlier signing key dropped",
			   sqlite3_changes(h->auth.db));
}

struct hub_run *hub_run_new(struct loop *l, const struct hub_config *cfg, char *err,
			    size_t errlen, int *status)
{
	const struct broker_link_callbacks cb = {
		.up = link_up, .down = link_down, .published = link_published,
		.message = link_message,
	};
	struct broker_link_callbacks own = cb;
	struct hub_run *h = calloc(1, sizeof(*h));
	const char *prefix = cfg->mqtt.topic_prefix;
	bool empty;
	int64_t first;

	*status = BGW_EXIT_CONFIG;
	if (!h) {
		snprintf(err, errlen, "out of memory");
		*status = BGW_EXIT_UNAVAILABLE;
		return NULL;
	}
	h->loop = l;
	h->cfg = *cfg;
	h->fd = -1;
	if (hub_auth_open(&h->auth, &h->cfg, err, errlen)) {
		*status = BGW_EXIT_UNAVAILABLE;
		goto fail;
	}
	snprintf(h->t_change, sizeof(h->t_change), "%.500s/consent", prefix);
	snprintf(h->t_head, sizeof(h->t_head), "%.500s/consent/head", prefix);
	snprintf(h->t_will, sizeof(h->t_will), "%.500s/consent/hub", prefix);
	snprintf(h->t_status, sizeof(h->t_status), "%.500s/+/+/status", prefix);
	snprintf(h->t_request, sizeof(h->t_request), "%.500s/+/+/consent/request", prefix);
	drop_other_keys(h);
	/* Sign what was committed while the hub was down, before anything else. */
	if (hub_log_sign_pending(&h->auth, err, errlen) < 0)
		goto fail;
	first = outbox_first_seq(h, &empty);
	h->acked_seq = empty ? h->auth.signed_seq : first - 1;
	h->data_version = store_data_version(h->auth.db);
	own.ctx = h;
	h->link = broker_link_new(&h->cfg.mqtt, h->t_will, &own, err, errlen);
	if (!h->link)
		goto fail;
	h->head_due = true;
	loop_set_before_wait(l, before_wait, h);
	loop_timer_add(l, cfg->poll_ms, cfg->poll_ms, on_poll, h);
	log_info("hub: fleet %s, key %s, seq %" PRId64 " (%" PRId64 " waiting to be sent)",
		 cfg->fleet, h->auth.fpr, h->auth.signed_seq, h->auth.signed_seq - h->acked_seq);
	return h;
fail:
	hub_run_free(h);
	return NULL;
}

/* The new key's state: its outbox rows only, the window and the snapshot
 * (signed with the old key, or being sent under it) start over. */
static void switched_key(struct hub_run *h)
{
	bool empty;
	int64_t first;

	drop_other_keys(h);
	h->n_win = 0;
	h->next_id = 0;
	first = outbox_first_seq(h, &empty);
	h->acked_seq = empty ? h->auth.signed_seq : first - 1;
	h->last_pub_seq = h->acked_seq;
	for (size_t i = h->n_req; i-- > 0;)
		if (h->req[i].active)
			drop_request(h, i);
	hub_snapshot_free(h->snap);
	h->snap = NULL;
	h->head_due = true;
}

int hub_run_reload(struct hub_run *h, const char *path)
{
	struct hub_config *c = calloc(1, sizeof(*c));
	char err[512];
	int rc;

	if (!c || hub_config_load(path, c, err, sizeof(err))) {
		h->reloads_failed++;
		h->head_due = true;   /* with the hub's status and its counts */
		log_err("hub: SIGHUP: %s; the running configuration stays",
			c ? err : "out of memory");
		free(c);
		return -1;
	}
	rc = hub_auth_rekey(&h->auth, c->signing_key, err, sizeof(err));
	if (rc < 0) {
		h->reloads_failed++;
		h->head_due = true;
		log_err("hub: SIGHUP: %s; the running configuration stays", err);
		free(c);
		return -1;
	}
	h->reloads++;
	h->head_due = true;
	if (rc > 0) {
		snprintf(h->cfg.signing_key, sizeof(h->cfg.signing_key), "%s", c->signing_key);
		switched_key(h);
		log_notice("hub: SIGHUP: signing with key %s from now on, seq %" PRId64
			   " (gateways take a snapshot signed with it)", h->auth.fpr,
			   h->auth.signed_seq);
	}
	if (c->head_interval_s != h->cfg.head_interval_s) {
		log_notice("hub: SIGHUP: head_interval_s %" PRIu32 " -> %" PRIu32,
			   h->cfg.head_interval_s, c->head_interval_s);
		h->cfg.head_interval_s = c->head_interval_s;
		h->next_head_us = bgw_mono_us();   /* the next head on the new interval */
	}
	if (c->chunk_bytes != h->cfg.chunk_bytes) {
		log_notice("hub: SIGHUP: snapshot_chunk_bytes %" PRIu32 " -> %" PRIu32
			   " (from the next snapshot)", h->cfg.chunk_bytes, c->chunk_bytes);
		h->cfg.chunk_bytes = c->chunk_bytes;
	}
	if (strcmp(c->db, h->cfg.db) || strcmp(c->fleet, h->cfg.fleet) ||
	    c->poll_ms != h->cfg.poll_ms || memcmp(&c->mqtt, &h->cfg.mqtt, sizeof(c->mqtt)))
		log_notice("hub: SIGHUP: changes to db, fleet, poll_ms or [mqtt] take effect "
			   "after a restart");
	log_info("hub: SIGHUP: configuration %s read again", path);
	free(c);
	return 0;
}

void hub_run_stop(struct hub_run *h, int timeout_ms)
{
	uint64_t deadline = bgw_mono_us() + (uint64_t)timeout_ms * 1000u;

	/* Let the window drain; the rest is sent at the next start. */
	while (broker_link_connected(h->link) && h->n_win && bgw_mono_us() < deadline)
		if (broker_link_poll(h->link, 50) < 0)
			break;
	broker_link_close(h->link);
}

void hub_run_free(struct hub_run *h)
{
	if (!h)
		return;
	if (h->loop)
		loop_set_before_wait(h->loop, NULL, NULL);
	if (h->fd >= 0)
		loop_del_fd(h->loop, h->fd);
	broker_link_free(h->link);
	hub_snapshot_free(h->snap);
	hub_auth_close(&h->auth);
	free(h);
}
