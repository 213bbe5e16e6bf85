/*
 * publisher.h - MQTT publisher of the gateway (libmosquitto 2.0, MQTT v5 with
 * a clean fallback to 3.1.1, QoS 1, TLS).
 *
 * Loop-agnostic: the daemon's event loop asks for publisher_fd() and
 * publisher_wants_write(), calls publisher_on_readable/on_writable when the
 * fd is ready and publisher_tick() after every loop turn (and at least every
 * publisher_timeout_ms()). Nothing here blocks on the network: the TCP
 * connection is first probed with a non-blocking connect() of our own (see
 * broker_link.c for why), TLS handshakes and packets go through
 * mosquitto_loop_read/write. The fd changes across reconnects: compare it
 * after every call and re-register.
 *
 * Delivery: triggers come only from the outbox (the source of truth), in id
 * order, at most max_inflight unacknowledged at a time; a row is deleted when
 * its PUBACK arrives. On any disconnect the window is forgotten and
 * publishing restarts from the oldest unacknowledged row, so order is kept
 * and nothing is lost (a trigger may arrive twice: subscribers use `id`).
 *
 * Session: clean start off + session expiry (v5) so that the broker keeps
 * our subscription to <prefix>/consent and queues consent updates published
 * while the gateway is offline. Our own in-flight triggers need no broker
 * state: the outbox resends them.
 *
 * Consent first: with consent updates configured, no trigger is published
 * after a connect until a marker published to <prefix>/<site>/<gateway>/sync
 * came back (every consent update the broker queued for us came before it),
 * nor while verified updates wait for the database; and each trigger is
 * checked against the current consent (callbacks.may_publish) just before
 * it is handed to libmosquitto.
 */
#ifndef BGW_PUBLISHER_H
#define BGW_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

struct publisher;
struct outbox;
struct delivery_config;
struct consent_update;

/* What may happen to a queued trigger now (publisher_callbacks.may_publish). */
enum publish_verdict {
	PUBLISH_OK = 0,     /* hand it to the broker */
	PUBLISH_DROP,       /* the person's consent ended: delete it, never publish */
	PUBLISH_HOLD,       /* the consent state cannot be trusted now: keep it, ask later */
};

struct publisher_callbacks {
	void *ctx;
	/*
	 * Asked for every trigger of a person (customer_id > 0) just before it
	 * is handed to libmosquitto, with the wall clock (µs): the gateway's
	 * current consent, not the one it was queued under, including the
	 * channels the payload names (a channel withdrawn since counts). Must
	 * run no SQL. NULL: everything may be published.
	 */
	enum publish_verdict (*may_publish)(void *ctx, int64_t customer_id, uint64_t now_us,
					    const char *payload, size_t len);
	/* The same for a queued visit (a row on a .../visit topic), which
	 * needs presence consent only. NULL: may_publish decides. */
	enum publish_verdict (*may_publish_visit)(void *ctx, int64_t customer_id,
						  uint64_t now_us);
	/* Called once per batch of triggers about to be published, before the
	 * first may_publish(): bring the consent state up to date with what
	 * was committed (a withdrawal made a moment ago). May be NULL. */
	void (*consent_refresh)(void *ctx);
	/* Add the daemon's part (source, pipeline, its last error) to the
	 * counters of a status message; the delivery part is already there. */
	void (*counters)(void *ctx, struct gateway_counters *c);
	/* The session came up / went down (the site counts as split while
	 * it is down; the fleet follower resubscribes). Each may be NULL. */
	void (*link)(void *ctx, bool up);
	void (*connected)(void *ctx);
	void (*disconnected)(void *ctx);
	/* A message on a topic the publisher does not handle itself (one
	 * subscribed with publisher_subscribe() or _now()): true if the callee
	 * took it. May be NULL. */
	bool (*message)(void *ctx, const char *topic, const void *payload, size_t len);
};

struct publisher_stats {
	uint64_t connects;           /* successful CONNACKs */
	uint64_t connect_failures;   /* unreachable, TLS, refused, timeouts */
	uint64_t disconnects;        /* established connections lost */
	uint64_t published;          /* trigger PUBLISH packets handed to libmosquitto */
	uint64_t rejected;           /* triggers the broker refused (PUBACK reason >= 128) */
	uint64_t aux_dropped;        /* footfall/beacons messages dropped (offline or queue full) */
	int protocol;                /* 5, 4 (3.1.1) or 0 while disconnected */
};

/*
 * cfg is copied; ob (required) and cu (optional: consent updates) stay owned
 * by the caller and must outlive the publisher. Reads the password file.
 * Does not connect yet: the first publisher_tick() starts that.
 * NULL + err (one line) on a configuration error.
 */
struct publisher *publisher_new(const struct delivery_config *cfg, struct outbox *ob,
				struct consent_update *cu, const struct publisher_callbacks *cb,
				char *err, size_t errlen);
void publisher_free(struct publisher *p);

int publisher_fd(const struct publisher *p);            /* -1 while waiting to reconnect */
/*
 * Changes whenever the socket behind publisher_fd() is closed or replaced.
 * A new socket often gets the same fd number as the old one (and epoll
 * forgets a closed fd by itself), so compare (fd, epoch), not the fd alone,
 * and register again when either changed.
 */
unsigned publisher_fd_epoch(const struct publisher *p);
bool publisher_wants_write(const struct publisher *p);
void publisher_on_readable(struct publisher *p);
void publisher_on_writable(struct publisher *p);
/* Timers, keepalive, reconnect, outbox group commit and pumping, periodic status. */
void publisher_tick(struct publisher *p);
/* How long the loop may sleep before the next publisher_tick() (ms). */
int publisher_timeout_ms(const struct publisher *p);

bool publisher_connected(const struct publisher *p);
/* Last connection problem in words, "" if none since the last success. */
const char *publisher_last_error(const struct publisher *p);
/* The delivery part of the counters (outbox, MQTT, consent updates); the
 * rest of *c is cleared. The status document and the metrics use this. */
void publisher_counters(const struct publisher *p, struct gateway_counters *c);
void publisher_get_stats(const struct publisher *p, struct publisher_stats *out);

/*
 * Not durable, not queued offline: periodic beacon readings (leaf "beacons"),
 * a state that the next report replaces. QoS 1, not retained, with message expiry.
 * Returns 0, or -1 if not connected (counted in aux_dropped).
 */
int publisher_publish_aux(struct publisher *p, const char *leaf, const char *json);

/* For the connected() callback's owner: subscribe (QoS 1) for this session
 * only, and publish one QoS 1 message, not retained, not queued offline
 * (0, or -1). */
void publisher_subscribe_now(struct publisher *p, const char *topic);
int publisher_publish_raw(struct publisher *p, const char *topic, const char *payload,
			  size_t len);

/*
 * Durable, like the triggers: footfall aggregates (leaf "footfall") and store
 * beacons' status changes (leaf "beacons") go through the outbox, so a broker outage delays them instead of losing them
 * (bounded by outbox_max and the message expiry, as triggers are). QoS 1,
 * not retained. Returns 0, or -1 if it could not be queued (aux_dropped).
 */
int publisher_publish_durable(struct publisher *p, const char *leaf, const char *json);

/*
 * Subscribe (QoS 1) to topic filter now and after every reconnect; its
 * messages go to callbacks.message. At most PUBLISHER_EXTRA_SUBS. 0 or -1.
 */
#define PUBLISHER_EXTRA_SUBS 4
int publisher_subscribe(struct publisher *p, const char *topic);

/* Like publisher_publish_aux() on any topic: not durable, dropped (and
 * counted) while offline. */
int publisher_publish_topic(struct publisher *p, const char *topic, const char *json,
			    uint32_t expiry_s);

/* Publish the status now (also done on connect and every status_interval). */
int publisher_publish_status(struct publisher *p);

/*
 * Graceful stop: commit the outbox, hand over and wait for what it holds,
 * then publish the retained offline status (so it arrives after the last
 * trigger) and wait for its acknowledgement, all within timeout_ms;
 * disconnect. Blocks (only meant for shutdown). Unsent triggers stay in the
 * outbox for the next start.
 */
void publisher_stop(struct publisher *p, int timeout_ms);

/*
 * Where the consent sync after a connect stands: NULL (not connected, or no
 * consent updates configured), "syncing" (the marker has not come back: no
 * trigger is published), "applying" (verified updates wait for the
 * database: no trigger is published), "lost" (a verified update could not
 * be kept: no trigger until a restart) or "synced".
 */
const char *publisher_sync_state(const struct publisher *p);

/* The trigger topic, for the daemon to pass to outbox_enqueue(). */
const char *publisher_trigger_topic(const struct publisher *p);

/* Monotonic clock in µs (the publisher's own timers). */
uint64_t publisher_now_us(void);

#endif
