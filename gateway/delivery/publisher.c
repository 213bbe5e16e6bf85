/*
 * publisher.c - the outbox pump: committed triggers from the outbox to the
 * broker in id order, at most max_inflight unacknowledged, each deleted when
 * its PUBACK arrives; plus the retained status document, the aux messages
 * (footfall, beacon health) and consent updates received from the broker.
 *
 * The connection itself (probe, connect, TLS, authentication, v5/3.1.1,
 * back-off) is broker_link.c's job: it tells us when the session is up and
 * when it went down, and hands PUBACKs and messages over.
 */
#include "publisher.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgw_clock.h"
#include "bgw_util.h"
#include "broker_link.h"
#include "consent_update.h"
#include "delivery_config.h"
#include "log.h"
#include "outbox.h"

#define TOPIC_MAX 600

struct inflight {
	int64_t id;
	int mid;
	bool aux;                    /* a footfall row, counted apart from triggers */
};

struct publisher {
	struct delivery_config cfg;
	struct outbox *ob;
	struct consent_update *cu;
	struct publisher_callbacks cb;
	struct broker_link *link;

	uint64_t started_us;
	uint64_t next_status_us;
	int stop_mid;                /* the offline status sent by publisher_stop */
	bool stop_acked;

	struct inflight *win;
	int n_win;
	bool held;                   /* the last pump stopped at a trigger on hold */

	char t_trigger[TOPIC_MAX], t_status[TOPIC_MAX], t_consent[TOPIC_MAX], t_sync[TOPIC_MAX];
	uint64_t published, rejected, aux_dropped;
	char extra[PUBLISHER_EXTRA_SUBS][TOPIC_MAX];  /* publisher_subscribe() */
	int n_extra;

	/* Consent sync after a connect (see link_up). */
	bool synced;
	bool paused;                 /* too many consent updates wait: not connected */
	char nonce[40];
	uint64_t sync_deadline_us;
	uint64_t sync_timeouts;
};

uint64_t publisher_now_us(void)
{
	return bgw_mono_us();
}

static uint64_t uptime_s(const struct publisher *p)
{
	return (publisher_now_us() - p->started_us) / 1000000u;
}

void publisher_counters(const struct publisher *p, struct gateway_counters *c)
{
	const struct outbox_stats *os = outbox_get_stats(p->ob);
	const struct broker_link_stats *ls = broker_link_get_stats(p->link);
	const char *err = broker_link_last_error(p->link);

	memset(c, 0, sizeof(*c));
	c->triggers_queued = os->queued;
	c->triggers_sent = os->sent;
	c->triggers_dropped = os->dropped_full + os->dropped_expired + os->dropped_gone +
			      os->dropped_consent + p->rejected;
	c->triggers_dropped_consent = os->dropped_consent;
	c->outbox_depth = os->depth + os->pending;
	c->visits_dropped_consent = os->visits_dropped_consent;
	if (p->cu) {
		const struct consent_update_stats *cs = consent_update_get_stats(p->cu);

		c->consent_applied = cs->applied;
		c->consent_rejected = cs->rejected;
	}
	c->consent_sync = publisher_sync_state(p);
	c->consent_sync_timeouts = p->sync_timeouts;
	c->protocol = ls->protocol;
	c->connected = broker_link_connected(p->link);
	c->reconnects = ls->connects ? ls->connects - 1 : 0;
	c->last_error = err[0] ? err : NULL;
}

static char *build_status(struct publisher *p, bool online, const char *reason)
{
	struct gateway_counters c;

	publisher_counters(p, &c);
	if (p->cb.counters)
		p->cb.counters(p->cb.ctx, &c);
	return status_json(&p->cfg, online, reason, uptime_s(p), &c);
}

/* ---- consent sync ---- */

/*
 * After CONNACK the broker first delivers what it queued for our session
 * (consent updates published while we were offline), then anything newer,
 * in order. A marker we publish to a topic of our own after subscribing
 * therefore comes back only after every consent update queued before it:
 * when it does, those have been handled and triggers may go out.
 */
static void sync_start(struct publisher *p)
{
	char payload[64];
	uint8_t r[8];

	p->synced = false;
	arc4random_buf(r, sizeof(r));
	bgw_hex_encode(r, sizeof(r), p->nonce);
	snprintf(payload, sizeof(payload), "{\"nonce\":\"%s\"}", p->nonce);
	p->sync_deadline_us = publisher_now_us() + (uint64_t)p->cfg.sync_timeout_ms * 1000u;
	/* A failure here ends the session; the next connect starts over. */
	broker_link_check(p->link, broker_link_publish(p->link, NULL, p->t_sync, payload,
						       strlen(payload), false, 0));
}

static void sync_message(struct publisher *p, const void *payload, size_t len)
{
	char want[64];
	int n = snprintf(want, sizeof(want), "{\"nonce\":\"%s\"}", p->nonce);

	/* A marker of an earlier connection (queued in the session) is not ours. */
	if (p->synced || !p->nonce[0] || (size_t)n != len || memcmp(want, payload, len))
		return;
	p->synced = true;
	log_info("mqtt: consent updates queued by the broker handled (%zu waiting for the "
		 "database); triggers may go out", p->cu ? consent_update_waiting(p->cu) : 0);
	publisher_publish_status(p);
}

static void sync_tick(struct publisher *p)
{
	if (!p->cu || p->synced || !broker_link_up(p->link) ||
	    publisher_now_us() < p->sync_deadline_us)
		return;
	p->sync_timeouts++;
	log_limited(LOG_PRIO_WARNING, "consent sync timeout",
		    "mqtt: the consent sync marker did not come back within %.1f s; sending "
		    "another (triggers wait; may the gateway publish and subscribe to %s?)",
		    (double)p->cfg.sync_timeout_ms / 1000.0, p->t_sync);
	sync_start(p);
}

/* May triggers leave now? Not before the consent sync after a connect, and
 * not while verified consent updates wait for the database. */
static bool consent_settled(const struct publisher *p)
{
	const char *why;

	return !p->cu || (p->synced && consent_update_waiting(p->cu) == 0 &&
			  consent_update_current(p->cu, &why));
}

/*
 * Verified consent updates that wait for the database are kept in memory up
 * to [consent] queue_max. Each message is acknowledged by libmosquitto as
 * it is read, so past that bound the only way not to lose any is to stop
 * reading: end the session and stay away until they are applied; the
 * broker keeps the rest in our session, in order.
 */
static void consent_backpressure(struct publisher *p)
{
	size_t waiting;

	if (!p->cu)
		return;
	waiting = consent_update_waiting(p->cu);
	if (consent_update_full(p->cu) && !p->paused) {
		p->paused = true;
		broker_link_pause(p->link, true);
		if (broker_link_up(p->link))
			broker_link_abort(p->link, BROKER_FAIL_BUSY,
					  "%zu consent updates wait for the database; taking no more "
					  "until they are applied (the broker keeps them)", waiting);
	} else if (p->paused && !waiting) {
		p->paused = false;
		broker_link_pause(p->link, false);
		log_info("mqtt: consent updates applied; connecting again");
	}
}

const char *publisher_sync_state(const struct publisher *p)
{
	const char *why;

	if (!p->cu || !broker_link_connected(p->link))
		return NULL;
	if (consent_update_lost(p->cu))
		return "lost";
	if (!consent_update_current(p->cu, &why))
		return "behind";
	if (!p->synced)
		return "syncing";
	return consent_update_waiting(p->cu) ? "applying" : "synced";
}

/* ---- what the link reports ---- */

static void link_up(void *ctx)
{
	struct publisher *p = ctx;
	char b[272];

	log_info("mqtt: connected to %s (MQTT %s%s), %" PRIu64 " trigger(s) queued",
		 broker_link_name(p->link, b, sizeof(b)),
		 broker_link_get_stats(p->link)->protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1",
		 delivery_config_tls_enabled(&p->cfg) ? ", TLS" : "",
		 outbox_get_stats(p->ob)->depth);
	if (p->cu) {
		broker_link_subscribe(p->link, p->t_consent);
		broker_link_subscribe(p->link, p->t_sync);
		sync_start(p);
	}
	for (int i = 0; i < p->n_extra; i++)
		broker_link_subscribe(p->link, p->extra[i]);
	if (p->cb.connected)
		p->cb.connected(p->cb.ctx);
	publisher_publish_status(p);
	if (p->cb.link)
		p->cb.link(p->cb.ctx, true);
}

/* The window is forgotten; publishing restarts from the oldest
 * unacknowledged row, so order is kept across reconnects. */
static void link_down(void *ctx)
{
	struct publisher *p = ctx;

	p->n_win = 0;
	p->synced = false;
	p->nonce[0] = '\0';
	outbox_rewind(p->ob);
	if (p->cb.link)
		p->cb.link(p->cb.ctx, false);
	if (p->cb.disconnected)
		p->cb.disconnected(p->cb.ctx);
}

static void link_published(void *ctx, int mid, int reason)
{
	struct publisher *p = ctx;
	int i;

	if (mid == p->stop_mid)
		p->stop_acked = true;
	for (i = 0; i < p->n_win; i++) {
		if (p->win[i].mid != mid)
			continue;
		if (reason >= 128 && reason != MQTT_RC_QUOTA_EXCEEDED &&
		    reason != MQTT_RC_SERVER_BUSY) {
			/* A permanent refusal (ACL, payload format...) would block the queue
			 * forever; drop that one trigger, loudly. */
			p->rejected++;
			log_err("mqtt: broker refused trigger (outbox row %" PRId64 "): %s; dropped",
				p->win[i].id, mosquitto_reason_string(reason));
			outbox_discard(p->ob, p->win[i].id);
		} else if (reason >= 128) {
			/* Transient: leave it in the outbox and start over after a pause. */
			broker_link_abort(p->link, BROKER_FAIL_BUSY, "broker busy: %s",
					  mosquitto_reason_string(reason));
			return;
		} else if (p->win[i].aux) {
			outbox_aux_acked(p->ob, p->win[i].id);
		} else {
			outbox_acked(p->ob, p->win[i].id);
		}
		memmove(&p->win[i], &p->win[i + 1], (size_t)(p->n_win - i - 1) * sizeof(*p->win));
		p->n_win--;
		return;
	}
}

static void link_message(void *ctx, const char *topic, const void *payload, size_t len)
{
	struct publisher *p = ctx;

	if (p->cu && !strcmp(topic, p->t_consent)) {
		/* A gap stops the daemon acting on people now, not at its next
		 * poll (consent_refresh runs its fail-closed check). */
		if (consent_update_handle(p->cu, payload, len) == CONSENT_GAP) {
			if (p->cb.consent_refresh)
				p->cb.consent_refresh(p->cb.ctx);
			publisher_publish_status(p);
		}
		consent_backpressure(p);
	}
	else if (p->cu && !strcmp(topic, p->t_sync))
		sync_message(p, payload, len);
	else if (p->cb.message)
		p->cb.message(p->cb.ctx, topic, payload, len);
}

void publisher_subscribe_now(struct publisher *p, const char *topic)
{
	broker_link_subscribe(p->link, topic);
}

int publisher_publish_raw(struct publisher *p, const char *topic, const char *payload,
			  size_t len)
{
	if (!broker_link_up(p->link))
		return -1;
	return broker_link_publish(p->link, NULL, topic, payload, len, false, 0) ? -1 : 0;
}

/* ---- publishing ---- */

/* The stored payload, plus "delivered_late"/"queued_s" when it waited long. */
static char *late_payload(const struct outbox_msg *m, uint64_t queued_s)
{
	cJSON *o = cJSON_ParseWithLength(m->payload, m->payload_len);
	char *s = NULL;

	if (cJSON_IsObject(o)) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "delivered_late");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "queued_s");
		cJSON_AddBoolToObject(o, "delivered_late", true);
		cJSON_AddNumberToObject(o, "queued_s", (double)queued_s);
		s = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	return s;
}

/* Rows on a .../visit topic carry visits (the store drops them the same way). */
static bool is_visit_topic(const char *topic)
{
	size_t n = strlen(topic);

	return n >= 6 && !strcmp(topic + n - 6, "/visit");
}

/* The last look at a trigger before it leaves: the consent in force now. */
static enum publish_verdict consent_verdict(struct publisher *p, const struct outbox_msg *m,
					    int64_t now, bool *refreshed)
{
	enum publish_verdict v;

	if (m->customer_id <= 0 || !p->cb.may_publish)
		return PUBLISH_OK;
	if (!*refreshed && p->cb.consent_refresh)
		p->cb.consent_refresh(p->cb.ctx);
	*refreshed = true;
	if (p->cb.may_publish_visit && is_visit_topic(m->topic))
		v = p->cb.may_publish_visit(p->cb.ctx, m->customer_id, (uint64_t)now);
	else
		v = p->cb.may_publish(p->cb.ctx, m->customer_id, (uint64_t)now, m->payload,
				      m->payload_len);
	if (v == PUBLISH_DROP) {
		outbox_drop_consent(p->ob, m->id);
		/* No identifier in the log: whose consent ended is the store's audit. */
		log_limited(LOG_PRIO_NOTICE, "trigger consent drop",
			    "mqtt: a queued trigger was not published: its consent ended "
			    "(%" PRIu64 " dropped so far)",
			    outbox_get_stats(p->ob)->dropped_consent);
	} else if (v == PUBLISH_HOLD) {
		outbox_putback(p->ob, m);
		p->held = true;
	}
	return v;
}

static void pump(struct publisher *p)
{
	int64_t now = (int64_t)bgw_wall_us();
	bool refreshed = false;

	p->held = false;
	if (!consent_settled(p))
		return;
	while (broker_link_up(p->link) && p->n_win < p->cfg.max_inflight) {
		struct outbox_msg m;
		uint64_t queued_s;
		uint32_t expiry = 0;
		char *late = NULL;
		int rc, mid = 0;

		rc = outbox_next(p->ob, now, p->cfg.message_expiry_s, &m);
		if (rc <= 0)
			break;
		switch (consent_verdict(p, &m, now, &refreshed)) {
		case PUBLISH_OK:
			break;
		case PUBLISH_DROP:
			continue;
		case PUBLISH_HOLD:
			return;
		}
		queued_s = now > m.created_us ? (uint64_t)(now - m.created_us) / 1000000u : 0;
		if (p->cfg.message_expiry_s)
			/* > 0: outbox_next drops what waited the whole expiry */
			expiry = p->cfg.message_expiry_s - (uint32_t)queued_s;
		if (p->cfg.late_after_s && queued_s >= p->cfg.late_after_s)
			late = late_payload(&m, queued_s);
		rc = broker_link_publish(p->link, &mid, m.topic, late ? late : m.payload,
					 late ? strlen(late) : m.payload_len, false, expiry);
		free(late);
		if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_INVAL ||
		    rc == MOSQ_ERR_MALFORMED_UTF8) {
			p->rejected++;
			log_err( "mqtt: trigger (outbox row %" PRId64 ") cannot be "
					      "published: %s; dropped",
				     m.id, mosquitto_strerror(rc));
			outbox_discard(p->ob, m.id);
			continue;
		}
		if (rc) {
			broker_link_check(p->link, rc);
			return;
		}
		if (!m.aux)
			p->published++;
		p->win[p->n_win].id = m.id;
		p->win[p->n_win].mid = mid;
		p->win[p->n_win].aux = m.aux;
		p->n_win++;
	}
}

int publisher_publish_aux(struct publisher *p, const char *leaf, const char *json)
{
	char topic[TOPIC_MAX];

	if (!broker_link_connected(p->link) ||
	    delivery_topic(&p->cfg, leaf, topic, sizeof(topic)) ||
	    broker_link_publish(p->link, NULL, topic, json, strlen(json), false,
				p->cfg.message_expiry_s)) {
		p->aux_dropped++;
		return -1;
	}
	return 0;
}

int publisher_publish_durable(struct publisher *p, const char *leaf, const char *json)
{
	char topic[TOPIC_MAX];

	if (delivery_topic(&p->cfg, leaf, topic, sizeof(topic)) ||
	    outbox_enqueue_aux(p->ob, leaf, topic, json)) {
		p->aux_dropped++;
		return -1;
	}
	return 0;
}

int publisher_subscribe(struct publisher *p, const char *topic)
{
	if (p->n_extra >= PUBLISHER_EXTRA_SUBS || strlen(topic) >= TOPIC_MAX)
		return -1;
	snprintf(p->extra[p->n_extra++], TOPIC_MAX, "%s", topic);
	if (broker_link_connected(p->link))
		broker_link_subscribe(p->link, topic);
	return 0;
}

int publisher_publish_topic(struct publisher *p, const char *topic, const char *json,
			    uint32_t expiry_s)
{
	if (!broker_link_up(p->link) ||
	    broker_link_publish(p->link, NULL, topic, json, strlen(json), false, expiry_s)) {
		p->aux_dropped++;
		return -1;
	}
	return 0;
}

int publisher_publish_status(struct publisher *p)
{
	char *s;
	int rc;

	p->next_status_us = publisher_now_us() + (uint64_t)p->cfg.status_interval_s * 1000000u;
	if (!broker_link_connected(p->link))
		return -1;
	s = build_status(p, true, NULL);
	if (!s)
		return -1;
	/* No expiry: the retained status must stay readable while we are up. */
	rc = broker_link_publish(p->link, NULL, p->t_status, s, strlen(s), true, 0);
	free(s);
	return rc ? -1 : 0;
}

/* ---- public API ---- */

struct publisher *publisher_new(const struct delivery_config *cfg, struct outbox *ob,
				struct consent_update *cu, const struct publisher_callbacks *cb,
				char *err, size_t errlen)
{
	const struct broker_link_callbacks lcb = {
		.up = link_up, .down = link_down, .published = link_published,
		.message = link_message,
	};
	struct broker_link_callbacks own;
	struct publisher *p;

	if (delivery_config_check(cfg, err, errlen))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->cfg = *cfg;
	p->ob = ob;
	p->cu = cu;
	if (cb)
		p->cb = *cb;
	p->stop_mid = -1;
	p->started_us = publisher_now_us();
	p->win = calloc((size_t)cfg->max_inflight, sizeof(*p->win));
	snprintf(p->t_consent, sizeof(p->t_consent), "%.*s/consent", TOPIC_MAX - 16,
		 cfg->topic_prefix);
	if (!p->win || delivery_topic(cfg, "trigger", p->t_trigger, sizeof(p->t_trigger)) ||
	    delivery_topic(cfg, "sync", p->t_sync, sizeof(p->t_sync)) ||
	    delivery_topic(cfg, "status", p->t_status, sizeof(p->t_status))) {
		snprintf(err, errlen, "out of memory or topic too long");
		publisher_free(p);
		return NULL;
	}
	own = lcb;
	own.ctx = p;
	p->link = broker_link_new(cfg, p->t_status, &own, err, errlen);
	if (!p->link) {
		publisher_free(p);
		return NULL;
	}
	return p;
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	broker_link_free(p->link);
	free(p->win);
	free(p);
}

int publisher_fd(const struct publisher *p)
{
	return broker_link_fd(p->link);
}

unsigned publisher_fd_epoch(const struct publisher *p)
{
	return broker_link_fd_epoch(p->link);
}

bool publisher_wants_write(const struct publisher *p)
{
	return broker_link_wants_write(p->link);
}

void publisher_on_readable(struct publisher *p)
{
	broker_link_on_readable(p->link);
	/* PUBACKs free room in the window. */
	pump(p);
}

void publisher_on_writable(struct publisher *p)
{
	broker_link_on_writable(p->link);
}

void publisher_tick(struct publisher *p)
{
	outbox_flush(p->ob);
	if (p->cu) {
		consent_update_retry(p->cu);
		consent_backpressure(p);
	}
	broker_link_tick(p->link);
	if (broker_link_connected(p->link)) {
		if (publisher_now_us() >= p->next_status_us)
			publisher_publish_status(p);
		sync_tick(p);
		pump(p);
	}
	/* Acknowledgements that just arrived are deleted with the next group commit. */
}

int publisher_timeout_ms(const struct publisher *p)
{
	uint64_t now = publisher_now_us();
	int ms;

	if (outbox_dirty(p->ob))
		return 0;
	ms = broker_link_timeout_ms(p->link);
	if (broker_link_connected(p->link)) {
		int status_ms = p->next_status_us <= now ? 0 :
				(int)((p->next_status_us - now + 999) / 1000);

		if (status_ms < ms)
			ms = status_ms;
		if (p->cu && !p->synced) {
			int sync_ms = p->sync_deadline_us <= now ? 0 :
				      (int)((p->sync_deadline_us - now + 999) / 1000);

			if (sync_ms < ms)
				ms = sync_ms;
		}
	}
	return ms;
}

bool publisher_connected(const struct publisher *p)
{
	return broker_link_connected(p->link);
}

const char *publisher_last_error(const struct publisher *p)
{
	return broker_link_last_error(p->link);
}

void publisher_get_stats(const struct publisher *p, struct publisher_stats *out)
{
	const struct broker_link_stats *ls = broker_link_get_stats(p->link);

	out->connects = ls->connects;
	out->connect_failures = ls->connect_failures;
	out->disconnects = ls->disconnects;
	out->protocol = ls->protocol;
	out->published = p->published;
	out->rejected = p->rejected;
	out->aux_dropped = p->aux_dropped;
}

const char *publisher_trigger_topic(const struct publisher *p)
{
	return p->t_trigger;
}

/* Nothing of ours left to hand over: every committed row published and
 * acknowledged (or the session is gone, or consent does not let them go). */
static bool outbox_drained(struct publisher *p)
{
	struct outbox_msg m;
	int rc;

	if (!broker_link_connected(p->link))
		return true;
	if (p->n_win || broker_link_wants_write(p->link))
		return false;
	if (p->held || !consent_settled(p))
		return true;
	rc = outbox_next(p->ob, (int64_t)bgw_wall_us(), p->cfg.message_expiry_s, &m);
	if (rc > 0)
		outbox_putback(p->ob, &m);
	return rc <= 0;
}

static bool stop_drained(struct publisher *p)
{
	return !broker_link_connected(p->link) ||
	       (p->n_win == 0 && p->stop_acked && !broker_link_wants_write(p->link));
}

/* Shutdown only: run our own small poll loop until done or out of time. */
static void run_until(struct publisher *p, bool (*done)(struct publisher *), uint64_t deadline)
{
	pump(p);
	while (!done(p) && publisher_now_us() < deadline) {
		int rc = broker_link_poll(p->link, 50);

		if (rc < 0)
			break;
		outbox_flush(p->ob);
		pump(p);
	}
}

/*
 * The offline status goes out last: a subscriber that sees "offline" has
 * already received every trigger and footfall message the gateway had
 * committed (or, out of time, knows the rest waits in the outbox for the
 * next start).
 */
void publisher_stop(struct publisher *p, int timeout_ms)
{
	uint64_t deadline = publisher_now_us() +
			    (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000u;
	char *s;

	outbox_flush(p->ob);
	if (broker_link_connected(p->link)) {
		run_until(p, outbox_drained, deadline);
		p->stop_acked = true;
		s = build_status(p, false, "shutdown");
		if (s) {
			if (broker_link_publish(p->link, &p->stop_mid, p->t_status, s, strlen(s),
						true, 0) == 0)
				p->stop_acked = false;
			free(s);
		}
		run_until(p, stop_drained, deadline);
	}
	outbox_flush(p->ob);
	broker_link_close(p->link);
}
