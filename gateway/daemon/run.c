/*
 * run.c - the full gateway run: consent store -> snapshot -> pipeline;
 * visits to SQLite; triggers to the durable outbox and the MQTT publisher.
 *
 * Everything here is driven by the loop: a timer polls PRAGMA data_version
 * (a consent withdrawal made with beaconctl reaches the gate within
 * [storage] poll_ms), a one-second timer ticks the pipeline on live sources
 * (replays tick with the capture's clock instead), and the publisher's fd
 * and timers are serviced from the loop's before-wait hook.
 *
 * The consent state itself (loading, reloading, failing closed) is
 * run_consent.c's; struct run is in run_priv.h.
 */
#include "run.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bgw_clock.h"
#include "bgw_exit.h"
#include "bgw_util.h"
#include "config_audit.h"
#include "consent_head.h"
#include "consent_update.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "ops_stats.h"
#include "outbox.h"
#include "pipeline.h"
#include "pipeline_config.h"
#include "publisher.h"
#include "run_priv.h"
#include "scanner.h"
#include "site_link.h"
#include "snapshot.h"
#include "status.h"
#include "store.h"
#include "store_beacons.h"
#include "store_visits.h"
#include "trigger_json.h"
#include "visit_json.h"

#define TICK_MS 1000
#define PURGE_FIRST_MS 60000
#define PURGE_EVERY_MS (24u * 3600u * BGW_MS_PER_S)
#define PURGE_RETRY_MS 60000

/* ---- pipeline callbacks ---- */

/* Visit rows and trigger-log rows are written in the outbox's group commit
 * (its own connection, busy_timeout 0, retried next turn): the loop never
 * waits for another process's lock, nothing is lost while the database is
 * locked or full, and a trigger-log row exists exactly when its outbox row
 * does. */
/* A closed visit for the backend, through the outbox like a trigger: the
 * publisher checks the presence consent again just before it leaves, and a
 * withdrawal deletes the queued row (store_outbox_drop_tx). */
static void queue_visit(struct run *r, const struct visit_event *ev)
{
	const struct snapshot *s = pipeline_get_snapshot(r->pl);
	char id[40], *json;

	if (!trigger_uuid7(ev->ts_us, id))
		return;
	json = visit_json_build(ev, r->cfg.pipeline.site, r->cfg.pipeline.gateway,
			       s ? snap_consent_policy(s, &snap_customer_consent(s, ev->customer)
								 [SNAP_PRESENCE])
				 : "",
			       id);
	if (!json || outbox_enqueue(r->ob, id, r->visit_topic, json, ev->customer_id, 0) < 0)
		log_limited(LOG_PRIO_ERR, "visit queue", "cannot queue a visit (out of memory)");
	else
		r->visits_queued++;
	cJSON_free(json);
}

static void on_visit(void *ctx, const struct visit_event *ev)
{
	struct run *r = ctx;

	if (r->consent_failed)
		return;

	struct store_visit v = {
		.enter = ev->kind == VISIT_ENTER,
		.customer_id = ev->customer_id,
		.entered_at = bgw_us_to_s(ev->visit_started_us),
		/* exited_at stays NULL until the exit; dwell events only move dwell_s. */
		.exited_at = ev->kind == VISIT_EXIT ? bgw_us_to_s(ev->ts_us) : 0,
		.dwell_s = ev->dwell_s,
		.rssi = (int)ev->rssi_filtered,
	};

	snprintf(v.zone, sizeof(v.zone), "%s", ev->zone);
	outbox_visit(r->ob, &v);
	if (ev->kind == VISIT_EXIT && r->cfg.visits.publish)
		queue_visit(r, ev);
	/* Customer references are the CRM's opaque ids of consented customers. */
	log_info("visit %s: customer %s, zone %s, dwell %u s",
		 ev->kind == VISIT_ENTER ? "enter" : ev->kind == VISIT_DWELL ? "dwell" : "exit",
		 ev->customer_ref, ev->zone, ev->dwell_s);
}

static void on_trigger(void *ctx, const struct trigger *t)
{
	struct run *r = ctx;

	if (r->consent_failed)
		return;
	/* The trigger-log row (cooldowns and daily caps across restarts: the
	 * snapshot reads these rows) goes with the outbox row. */
	if (outbox_enqueue_logged(r->ob, t->id, publisher_trigger_topic(r->pub), t->json,
				  t->customer_id, 0, t->campaign->id,
				  bgw_us_to_s(t->ts_us)) < 0)
		log_limited(LOG_PRIO_ERR, "trigger queue",
			    "cannot queue a trigger (out of memory)");
	else {
		r->triggers_queued++;
		ops_stats_trigger(&r->ops, t->campaign->name);
	}
	log_info("trigger %s: campaign %s, customer %s", t->id, t->campaign->name,
		 t->customer_ref);
}

static void on_footfall(void *ctx, const char *json)
{
	struct run *r = ctx;

	publisher_publish_durable(r->pub, "footfall", json);
	ops_stats_footfall(&r->ops, json);
}

static void on_beacon_health(void *ctx, const char *json)
{
	struct run *r = ctx;

	publisher_publish_aux(r->pub, "beacons", json);
}

/* A store beacon went low on battery, missing, or back to ok: an alert that
 * must survive a broker outage, so it goes through the outbox as footfall
 * does. Rare (a change, not a sighting), so the copy it makes is no cost to
 * the hot path. */
static void on_beacon_change(void *ctx, const char *json)
{
	struct run *r = ctx;

	publisher_publish_durable(r->pub, "beacons", json);
}

/* ---- publisher ---- */

/* The daemon's own last error for the status document and the metrics:
 * the consent state that cannot be loaded, else the outbox's database (while it cannot commit,
 * because another process holds the lock or the disk is full, triggers and
 * visits wait in memory). NULL if none. */
static const char *own_error(const struct run *r)
{
	static char buf[STORE_ERRLEN + 32];
	const char *why;

	if (r->consent_failed)
		return r->consent_reason;
	why = outbox_last_error(r->ob);
	if (!why)
		return NULL;
	snprintf(buf, sizeof(buf), "database not writable: %s", why);
	return buf;
}

/*
 * The publisher's last look at a queued trigger: the consent in force now,
 * in the snapshot the pipeline uses (no SQL). A consent state that could
 * not be loaded is not trusted: the trigger waits until a load succeeds.
 */
static enum publish_verdict may_publish(void *ctx, int64_t customer_id, uint64_t now_us,
				       const char *payload, size_t len)
{
	struct run *r = ctx;
	const char *names[SNAP_MAX_CHANNELS];
	char buf[SNAP_MAX_CHANNELS * SNAP_REF_MAX];
	cJSON *doc, *ch, *it;
	size_t n = 0;
	bool ok, bad = false;
	int fast;

	if (r->consent_failed || !pipeline_get_snapshot(r->pl))
		return PUBLISH_HOLD;
	/* After a (re)connect, not before the hub's head was matched again: the
	 * changes the broker kept for us come first. */
	if (r->cf && !consent_follow_synced(r->cf))
		return PUBLISH_HOLD;
	/* The channels the trigger was decided for: read once per trigger
	 * at publication, never per report. Our own payload, read in place;
	 * any other shape goes through cJSON, and one we cannot read is not
	 * published. */
	fast = trigger_json_channels(payload, len, names, BGW_ARRAY_SIZE(names), buf,
				     sizeof(buf));
	if (fast >= 0)
		return pipeline_trigger_channels_allowed(r->pl, customer_id, bgw_us_to_s(now_us),
							 names, (size_t)fast)
			       ? PUBLISH_OK : PUBLISH_DROP;
	doc = cJSON_ParseWithLength(payload, len);
	ch = cJSON_GetObjectItemCaseSensitive(doc, "channels");
	if (!cJSON_IsArray(ch))
		bad = true;
	cJSON_ArrayForEach(it, ch) {
		if (!cJSON_IsString(it) || n == BGW_ARRAY_SIZE(names)) {
			bad = true;
			break;
		}
		names[n++] = it->valuestring;
	}
	ok = !bad && pipeline_trigger_channels_allowed(r->pl, customer_id,
							bgw_us_to_s(now_us), names, n);
	cJSON_Delete(doc);
	return ok ? PUBLISH_OK : PUBLISH_DROP;
}

static enum publish_verdict may_publish_visit(void *ctx, int64_t customer_id, uint64_t now_us)
{
	struct run *r = ctx;

	if (r->consent_failed || !pipeline_get_snapshot(r->pl))
		return PUBLISH_HOLD;
	return pipeline_visit_allowed(r->pl, customer_id, bgw_us_to_s(now_us))
		       ? PUBLISH_OK : PUBLISH_DROP;
}

/* The site's counters: the pipeline's arbitration and the site link's traffic. */
static void site_counters(const struct run *r, struct site_counters *s)
{
	const struct pipeline_site_stats *ps = pipeline_site_get_stats(r->pl);
	const struct site_link_stats *ls = site_link_get_stats(r->site);

	s->peers_alive = ps->peers_alive;
	s->split = ps->split;
	s->summaries_sent = ls->sent;
	s->summaries_received = ps->peer_summaries;
	s->summaries_rejected = ps->peer_summaries_bad + ps->peer_summaries_dropped;
	s->entries_rejected = ps->peer_entries_bad;
	s->entries_ignored = ps->peer_ignored;
	s->claims = ps->claims;
	s->releases = ps->releases;
	s->handovers = ps->handovers;
	s->handed_over = ps->handed_over;
	s->takeovers = ps->takeovers;
	s->conflicts = ps->conflicts;
	s->peer_triggers_applied = ps->peer_triggers;
	s->peer_triggers_duplicate = ps->peer_duplicates;
	s->peer_triggers_rejected = ps->peer_triggers_bad;
}

/* The daemon's part of the counters (the publisher filled its own). */
static void fill_counters(void *ctx, struct gateway_counters *c)
{
	const struct run *r = ctx;
	const struct pipeline_stats *ps = pipeline_get_stats(r->pl);
	const char *own = own_error(r);

	c->source = r->cfg.source.spec;
	c->reports = ps->reports;
	c->decoded = ps->decoded;
	c->consented = ps->consented;
	c->triggers = ps->triggers;
	c->visits_entered = ps->visits_entered;
	c->visits_exited = ps->visits_exited;
	c->dwell_events = ps->dwell_events;
	c->tracked_devices = ps->tracked_devices;
	c->store_namespace_ids = r->audit.store_namespace_ids;
	c->before_consent = ps->before_consent;
	c->irk_lookups = ps->irk_lookups;
	c->irk_cache_hits = ps->irk_cache_hits;
	c->irk_resolved = ps->irk_resolved;
	c->irk_worker_searches = ps->irk_async_searches;
	c->irk_parked = ps->irk_parked;
	c->irk_inline_searches = ps->irk_inline_searches;
	c->irk_cache_capacity = ps->irk_cache_capacity;
	if (own)
		c->last_error = own;
	c->consent_state = r->consent_failed ? "failed" : "ok";
	c->consent_reason = r->consent_failed ? r->consent_reason : NULL;
	if (r->cf) {
		const struct consent_follow_stats *fs = consent_follow_get_stats(r->cf);
		const char *why;

		c->authority = true;
		c->consent_seq = consent_follow_seq(r->cf);
		c->consent_current = consent_follow_current(r->cf, &why) && !r->consent_failed;
		c->consent_age_s = consent_follow_age_s(r->cf);
		c->consent_applied = fs->applied;
		c->consent_rejected = fs->rejected;
	} else if (r->cu) {
		const char *why;

		/* The signed-update channel has no head: no age to tell. */
		c->authority = true;
		c->consent_seq = consent_update_get_stats(r->cu)->last_seq;
		c->consent_current = consent_update_current(r->cu, &why) && !r->consent_failed;
		c->consent_age_s = -1;
	}
	if (r->scanner)
		c->adapter = controller_state_name(scanner_controller_state(r->scanner));
	if (r->site)
		site_counters(r, &c->site_counts);
	c->site = r->site != NULL;
}

void run_set_scanner(struct run *r, const struct scanner *s)
{
	r->scanner = s;
}

static void on_pub_fd(struct loop *l, int fd, uint32_t events, void *ctx)
{
	struct run *r = ctx;

	(void)l;
	(void)fd;
	if (events & LOOP_READ)
		publisher_on_readable(r->pub);
	if (events & LOOP_WRITE)
		publisher_on_writable(r->pub);
}

static int before_wait(struct loop *l, void *ctx)
{
	struct run *r = ctx;
	int fd;

	publisher_tick(r->pub);
	fd = publisher_fd(r->pub);
	/* A reconnect opens a new socket that often gets the old number back:
	 * the epoch tells a new socket from the old one. */
	if (fd != r->pub_fd || publisher_fd_epoch(r->pub) != r->pub_fd_epoch) {
		if (r->pub_fd >= 0)
			loop_del_fd(l, r->pub_fd);
		r->pub_fd = -1;
		r->pub_fd_epoch = publisher_fd_epoch(r->pub);
		if (fd >= 0 && loop_add_fd(l, fd, LOOP_READ, on_pub_fd, r) == 0)
			r->pub_fd = fd;
	}
	if (r->pub_fd >= 0)
		loop_set_interest(l, r->pub_fd,
				  LOOP_READ | (publisher_wants_write(r->pub) ? LOOP_WRITE : 0));
	return publisher_timeout_ms(r->pub);
}

/* ---- the site: peers' summaries and triggers (docs/site.md) ---- */

static void on_site_summary(struct loop *l, int id, void *ctx);

static void on_site_presence(void *ctx, const char *gateway, const void *payload, size_t len)
{
	struct run *r = ctx;

	if (!r->consent_failed &&
	    pipeline_site_peer(r->pl, gateway, payload, len, bgw_wall_us()) < 0)
		log_limited(LOG_PRIO_WARNING, "site presence",
			    "site: a presence summary of gateway %s does not parse; dropped",
			    gateway);
	/* A shopper taken over on this summary: the old holder hears it now. */
	if (pipeline_site_summary_due(r->pl))
		on_site_summary(NULL, -1, r);
}

static void on_site_trigger(void *ctx, const char *gateway, const void *payload, size_t len)
{
	struct run *r = ctx;
	struct pipeline_peer_trigger t;
	int rc = pipeline_site_trigger(r->pl, gateway, payload, len, &t);

	if (rc < 0)
		log_limited(LOG_PRIO_WARNING, "site trigger",
			    "site: a trigger of gateway %s does not parse; not counted", gateway);
	/* In the trigger log too: caps and cooldowns count it after a restart. */
	else if (rc > 0 && outbox_log_trigger(r->ob, t.id, t.customer_id, t.campaign_id,
					      t.at_s) < 0)
		log_limited(LOG_PRIO_ERR, "site trigger log",
			    "site: cannot keep a peer's trigger for after a restart (out of "
			    "memory)");
}

/* A message the publisher does not handle itself: the fleet follower's
 * (head, changes, snapshots), else the site's (peers' summaries, triggers). */
static bool on_pub_message(void *ctx, const char *topic, const void *payload, size_t len)
{
	struct run *r = ctx;

	if (r->cf && consent_follow_message(r->cf, topic, payload, len))
		return true;
	if (r->site)
		site_link_message(r->site, topic, payload, len);
	return r->site != NULL;
}

static void on_pub_link(void *ctx, bool up)
{
	struct run *r = ctx;

	pipeline_site_broker(r->pl, up);
}

/* What this gateway hears, for its peers. While the consent state cannot
 * be trusted nothing person-level leaves, summaries included. */
static void on_site_summary(struct loop *l, int id, void *ctx)
{
	struct run *r = ctx;
	uint32_t expiry = (3u * r->cfg.pipeline.site_summary_ms + 999u) / 1000u;
	uint64_t now = bgw_wall_us();
	char *json;

	(void)l;
	/* The periodic one right after one sent at once (id < 0) says nothing new. */
	if (id >= 0 && now < r->site_sent_us + r->cfg.pipeline.site_summary_ms * 500ull)
		return;
	if (r->consent_failed)
		return;
	r->site_sent_us = now;
	json = pipeline_site_summary(r->pl, now);
	if (json)
		site_link_publish_presence(r->site, json, expiry);
	free(json);
}

/* ---- the fleet follower's way to the broker ---- */

static void fleet_subscribe(void *ctx, const char *topic)
{
	struct run *r = ctx;

	publisher_subscribe_now(r->pub, topic);
}

static int fleet_publish(void *ctx, const char *topic, const char *payload, size_t len)
{
	struct run *r = ctx;

	return publisher_publish_raw(r->pub, topic, payload, len);
}

static void fleet_connected(void *ctx)
{
	struct run *r = ctx;

	if (r->cf)
		consent_follow_connected(r->cf);
}

static void fleet_disconnected(void *ctx)
{
	struct run *r = ctx;

	if (r->cf)
		consent_follow_disconnected(r->cf);
}

/* ---- timers ---- */

static void on_tick(struct loop *l, int id, void *ctx)
{
	struct run *r = ctx;

	(void)l;
	(void)id;
	pipeline_tick(r->pl, bgw_wall_us());
	/* A shopper taken or let go: tell the peers now, not at the next
	 * summary (an old holder's visit runs until it reads the claim). */
	if (r->site && pipeline_site_summary_due(r->pl))
		on_site_summary(l, -1, r);
}

static void on_purge(struct loop *l, int id, void *ctx)
{
	struct run *r = ctx;
	struct store_purge_result res;
	char err[STORE_ERRLEN];

	int rc;

	(void)id;
	/* Inside the loop: never wait for another writer (beaconctl importing,
	 * say). A busy store is tried again a minute later. */
	store_busy_timeout(r->db, 0);
	rc = store_purge(r->db, "beacongw", (int)r->cfg.storage.visit_retention_days,
			 bgw_us_to_s(bgw_wall_us()), &res, err);
	store_busy_timeout(r->db, STORE_DEFAULT_BUSY_MS);
	if (rc == STORE_EBUSY) {
		log_info("retention purge: the store is busy; trying again in a minute");
		loop_timer_add(l, PURGE_RETRY_MS, 0, on_purge, r);
	} else if (rc != STORE_OK) {
		log_warn("retention purge failed: %s", err);
	} else if (res.visits) {
		log_info("retention: %" PRId64 " old visits deleted", res.visits);
	}
}

/* ---- life cycle ---- */

static int open_status(int rc)
{
	/* A read-only file system is a state of the machine, not of the config
	 * (beaconctl says 69 for it too): systemd may retry once it is fixed. */
	return rc == STORE_EBUSY || rc == STORE_EIO || rc == STORE_ENOMEM ||
	       rc == STORE_EREADONLY ? BGW_EXIT_UNAVAILABLE : BGW_EXIT_CONFIG;
}

/*
 * Visits still open in the database were open when an earlier run ended
 * without closing them (kill -9, power cut): their presence state is gone,
 * so they are closed at their last recorded dwell instead of staying "in
 * the store" forever.
 */
static void close_stale_visits(struct run *r)
{
	char err[STORE_ERRLEN];
	int64_t closed;

	if (store_visits_close_stale(r->db, &closed, err) != STORE_OK) {
		log_warn("cannot close the visits of an earlier run: %s", err);
		return;
	}
	if (closed > 0)
		log_notice("closed %" PRId64 " visit(s) left open by an earlier run", closed);
}

struct run *run_new(struct loop *l, const struct config *cfg, bool replay, char *err,
		    size_t errlen, int *status)
{
	/* This connection loads snapshots (every row once) and applies consent
	 * updates and purges: a big page cache of its own buys nothing. */
	const struct store_open_opts opts = { .busy_ms = STORE_DEFAULT_BUSY_MS, .cache_kib = 256 };
	struct run *r = calloc(1, sizeof(*r));
	struct pipeline_callbacks pcb;
	struct publisher_callbacks bcb;
	char serr[STORE_ERRLEN];
	int rc;

	*status = BGW_EXIT_UNAVAILABLE;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->loop = l;
	r->cfg = *cfg;
	r->replay = replay;
	r->pub_fd = -1;

	rc = store_open_with(cfg->storage.db, &opts, &r->db, serr);
	if (rc != STORE_OK) {
		snprintf(err, errlen, "%s", serr);
		*status = open_status(rc);
		goto fail;
	}
	close_stale_visits(r);
	pcb = (struct pipeline_callbacks){ .ctx = r, .visit = on_visit, .trigger = on_trigger,
					   .footfall = on_footfall,
					   .beacon_health = on_beacon_health,
					   .beacon_change = on_beacon_change };
	r->pl = pipeline_new(&cfg->pipeline, &pcb);
	if (!r->pl) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->ob = outbox_open(cfg->storage.db, &cfg->delivery, serr);
	if (!r->ob) {
		snprintf(err, errlen, "%s", serr);
		goto fail;
	}
	if (cfg->delivery.consent_fleet[0]) {
		const struct consent_follow_io io = { .ctx = r, .subscribe = fleet_subscribe,
						      .publish = fleet_publish };

		r->cf = consent_follow_new(&cfg->delivery, r->db, &io, err, errlen);
		if (!r->cf) {
			*status = BGW_EXIT_CONFIG;
			goto fail;
		}
	} else if (cfg->delivery.consent_pubkey[0]) {
		r->cu = consent_update_new(&cfg->delivery, r->db, err, errlen);
		if (!r->cu) {
			*status = BGW_EXIT_CONFIG;
			goto fail;
		}
	}
	bcb = (struct publisher_callbacks){ .ctx = r, .counters = fill_counters,
					    .may_publish = may_publish,
					    .may_publish_visit = may_publish_visit,
					    .consent_refresh = run_consent_refresh,
					    .connected = fleet_connected,
					    .disconnected = fleet_disconnected,
					    .message = on_pub_message, .link = on_pub_link };
	r->pub = publisher_new(&cfg->delivery, r->ob, r->cu, &bcb, err, errlen);
	if (!r->pub) {
		*status = BGW_EXIT_CONFIG;
		goto fail;
	}
	if (cfg->visits.publish &&
	    delivery_topic(&cfg->delivery, "visit", r->visit_topic, sizeof(r->visit_topic))) {
		snprintf(err, errlen, "[mqtt] topic_prefix, site and id make the visit topic too long");
		*status = BGW_EXIT_CONFIG;
		goto fail;
	}
	if (cfg->pipeline.site_enabled) {
		const struct site_link_callbacks scb = { .ctx = r, .presence = on_site_presence,
							 .trigger = on_site_trigger };

		r->site = site_link_new(&cfg->delivery, r->pub, &scb, err, errlen);
		if (!r->site) {
			*status = BGW_EXIT_CONFIG;
			goto fail;
		}
		pipeline_site_broker(r->pl, false);
	}
	/* Last: the outbox's own connection commits while it opens, which moves
	 * data_version; loading before that would load everything twice at start,
	 * with both copies alive at once. A store that opens but cannot be
	 * loaded starts the daemon closed (footfall only), retrying each poll. */
	run_load_snapshot(r);
	loop_set_before_wait(l, before_wait, r);
	loop_timer_add(l, cfg->storage.poll_ms, cfg->storage.poll_ms, run_on_poll, r);
	if (r->site && !replay)
		loop_timer_add(l, cfg->pipeline.site_summary_ms, cfg->pipeline.site_summary_ms,
			       on_site_summary, r);
	if (!replay) {
		loop_timer_add(l, TICK_MS, TICK_MS, on_tick, r);
		loop_timer_add(l, PURGE_FIRST_MS, PURGE_EVERY_MS, on_purge, r);
	}
	return r;
fail:
	run_free(r);
	return NULL;
}

void run_free(struct run *r)
{
	if (!r)
		return;
	if (r->loop)
		loop_set_before_wait(r->loop, NULL, NULL);
	if (r->pub_fd >= 0)
		loop_del_fd(r->loop, r->pub_fd);
	site_link_free(r->site);
	publisher_free(r->pub);
	consent_update_free(r->cu);
	consent_follow_free(r->cf);
	outbox_close(r->ob);
	pipeline_free(r->pl);
	if (r->db)
		store_close(r->db);
	free(r);
}

void run_report(struct run *r, const struct adv_report *rep)
{
	pipeline_report(r->pl, rep);
}

void run_clock(struct run *r, uint64_t ts_us)
{
	if (!ts_us || ts_us < r->last_ts_us)
		return;
	r->last_ts_us = ts_us;
	if (!r->last_tick_us)
		r->last_tick_us = ts_us;
	if (ts_us - r->last_tick_us >= BGW_US_PER_S) {
		r->last_tick_us = ts_us;
		pipeline_tick(r->pl, ts_us);
	}
}

void run_reload(struct run *r, const struct config *cfg)
{
	if (memcmp(&cfg->pipeline, &r->cfg.pipeline, sizeof(cfg->pipeline)) != 0 ||
	    memcmp(&cfg->delivery, &r->cfg.delivery, sizeof(cfg->delivery)) != 0)
		log_warn("reload: [gateway], [presence], [footfall], [identity], [beacons], "
			 "[mqtt], [outbox] and [consent] changes take effect after a restart "
			 "(open visits and the broker session are kept)");
	run_load_snapshot(r);
}

void run_flush(struct run *r, uint64_t now_us)
{
	if (r->flushed)
		return;
	r->flushed = true;
	if (!now_us)
		now_us = r->replay && r->last_ts_us ? r->last_ts_us : bgw_wall_us();
	pipeline_flush(r->pl, now_us);
	/* Every trigger is committed before anything else happens. */
	for (int i = 0; i < 3 && outbox_dirty(r->ob); i++)
		if (outbox_flush(r->ob) < 0)
			log_warn("outbox commit failed; retrying");
}

bool run_drained(const struct run *r)
{
	return !outbox_dirty(r->ob) && outbox_get_stats(r->ob)->depth == 0;
}

/* A capture older than the consents makes no visits, rightly: say why, once. */
static void say_before_consent(struct run *r)
{
	uint64_t n = pipeline_get_stats(r->pl)->before_consent;

	if (!n || r->before_consent_said)
		return;
	r->before_consent_said = true;
	log_notice("%" PRIu64 " sighting(s) of enrolled customers came before their presence "
		   "consent began%s: consent is judged at the time of each event, so they made "
		   "no visit (status counts.events_before_consent)", n,
		   r->replay ? " (the capture is older than the consents)" : "");
}

void run_stop(struct run *r, int timeout_ms)
{
	run_flush(r, 0);
	say_before_consent(r);
	publisher_stop(r->pub, timeout_ms);
	if (r->site) {
		const struct pipeline_site_stats *ss = pipeline_site_get_stats(r->pl);
		const struct site_link_stats *ls = site_link_get_stats(r->site);

		log_info("site: %" PRIu64 " shoppers taken (%" PRIu64 " from a silent peer), %"
			 PRIu64 " let go (%" PRIu64 " simultaneous claims), %" PRIu64
			 " peer summaries, %" PRIu64 " peer triggers counted (%" PRIu64
			 " duplicates), %" PRIu64 " summaries sent (%" PRIu64 " bytes)",
			 ss->claims, ss->takeovers, ss->releases, ss->conflicts, ss->peer_summaries,
			 ss->peer_triggers, ss->peer_duplicates, ls->sent, ls->sent_bytes);
	}
	log_info("run ended: %" PRIu64 " reports, %" PRIu64 " visit rows, %" PRIu64
		 " triggers queued, %" PRIu64 " sightings before consent",
		 pipeline_get_stats(r->pl)->reports, outbox_get_stats(r->ob)->visits_written,
		 r->triggers_queued, pipeline_get_stats(r->pl)->before_consent);
}

void run_status(const struct run *r, char *buf, size_t n)
{
	const struct pipeline_stats *ps = pipeline_get_stats(r->pl);
	const struct outbox_stats *os = outbox_get_stats(r->ob);

	snprintf(buf, n, "identified=%" PRIu64 " visits=%" PRIu64 " triggers=%" PRIu64
		 " before_consent=%" PRIu64 " outbox=%" PRIu64 " mqtt=%s", ps->identified,
		 ps->visits_entered, ps->triggers, ps->before_consent, os->depth,
		 publisher_connected(r->pub) ? "up" : "down");
}

/* The same reading as the status document's: one snapshot, two formats. */
void run_metrics(const struct run *r, struct metrics_sample *m)
{
	const struct gateway_counters *c = &m->counts;

	publisher_counters(r->pub, &m->counts);
	fill_counters((void *)r, &m->counts);
	ops_stats_snapshot((struct ops_stats *)&r->ops, pipeline_get_snapshot(r->pl),
			   (int64_t)time(NULL));
	m->ops = &r->ops;
	m->fleet = pipeline_beacon_fleet(r->pl);
	m->triggers_held = c->consent_sync && strcmp(c->consent_sync, "synced") != 0;
	m->last_error = c->last_error != NULL;
	m->consent_failed = r->consent_failed;
	m->consent_failed_kind = r->consent_failed ? r->consent_reason : NULL;
	m->consent_load_failures = r->consent_load_failures;
}

int run_check_db(const struct config *cfg, const struct audit_sink *sink,
		 struct audit_counts *counts, char *err, size_t errlen)
{
	const char *path = cfg->storage.db;
	sqlite3 *db = NULL;
	struct snapshot *snap = NULL;
	char serr[STORE_ERRLEN];
	int rc = store_open(path, STORE_OPEN_READONLY, &db, serr);

	if (rc != STORE_OK) {
		snprintf(err, errlen, "database %s", serr);
		return -1;
	}
	if (store_snapshot_load(db, &snap, serr, sizeof(serr)) < 0) {
		snprintf(err, errlen, "database %s: %s", path, serr);
		store_close(db);
		return -1;
	}
	config_audit(&cfg->pipeline, snap, (int64_t)time(NULL), sink, counts);
	snapshot_free(snap);
	store_close(db);
	return 0;
}
