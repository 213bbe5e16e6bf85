/*
 * broker_link.h - the gateway's connection to the MQTT broker: resolve,
 * probe, connect (MQTT v5 with a fallback to 3.1.1, TLS, authentication),
 * keep alive, and back off with jitter after any failure.
 *
 * Loop-agnostic and non-blocking like the publisher above it (see
 * broker_link.c for the probe). The link knows nothing of the outbox: it
 * tells its owner when the session is up and when it went down, hands over
 * PUBACKs and incoming messages, and publishes what it is given.
 *
 * Every failure has a kind (enum broker_failure) and one line of text for
 * users (publisher_last_error(), the status document's last_error).
 */
#ifndef BGW_BROKER_LINK_H
#define BGW_BROKER_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker_link;
struct delivery_config;

enum broker_failure {
	BROKER_OK = 0,
	BROKER_FAIL_RESOLVE,      /* the host name did not resolve */
	BROKER_FAIL_UNREACHABLE,  /* TCP connect refused, unreachable or unanswered */
	BROKER_FAIL_TIMEOUT,      /* TCP up, but no CONNACK in time */
	BROKER_FAIL_SETUP,        /* the client could not be set up (memory, TLS files) */
	BROKER_FAIL_TLS,          /* the TLS handshake failed */
	BROKER_FAIL_AUTH,         /* CONNACK: bad user name or password, not authorised */
	BROKER_FAIL_REFUSED,      /* CONNACK: any other refusal */
	BROKER_FAIL_BUSY,         /* PUBACK: quota exceeded / server busy */
	BROKER_FAIL_LOST,         /* an established connection ended */
	BROKER_FAIL_IO,           /* any other error libmosquitto reported */
};

/* Bytes allowed around a payload in an incoming packet (header, topic,
 * properties). */
#define BROKER_PACKET_OVERHEAD 4096u

/* The MQTT v5 Maximum Packet Size announced on CONNECT: [consent]
 * max_bytes plus BROKER_PACKET_OVERHEAD. The broker does not send us
 * anything larger (it drops it), so it is never allocated here. */
uint32_t broker_link_max_packet(const struct delivery_config *cfg);

/* "tls", "auth", ... (for logs and tests). */
const char *broker_failure_name(enum broker_failure f);

struct broker_link_callbacks {
	void *ctx;
	void (*up)(void *ctx);    /* CONNACK accepted */
	void (*down)(void *ctx);  /* the session (or attempt) is gone: forget what was in flight */
	void (*published)(void *ctx, int mid, int reason);      /* PUBACK */
	void (*message)(void *ctx, const char *topic, const void *payload, size_t len);
};

struct broker_link_stats {
	uint64_t connects;         /* successful CONNACKs */
	uint64_t connect_failures; /* unreachable, TLS, refused, timeouts */
	uint64_t disconnects;      /* established connections lost */
	int protocol;              /* 5, 4 (3.1.1) or 0 while disconnected */
};

/*
 * cfg is copied. will_topic gets the retained "offline, connection lost"
 * status as the last will. Reads the password file and checks that the TLS
 * files are readable. Does not connect yet: broker_link_tick() starts that.
 * NULL + err (one line) on a configuration error.
 */
struct broker_link *broker_link_new(const struct delivery_config *cfg, const char *will_topic,
				    const struct broker_link_callbacks *cb, char *err,
				    size_t errlen);
void broker_link_free(struct broker_link *l);

int broker_link_fd(const struct broker_link *l);   /* -1 while waiting to reconnect */
unsigned broker_link_fd_epoch(const struct broker_link *l);
bool broker_link_wants_write(const struct broker_link *l);
void broker_link_on_readable(struct broker_link *l);
void broker_link_on_writable(struct broker_link *l);
/* Reconnect timer, probe and CONNACK deadlines, keepalive. */
void broker_link_tick(struct broker_link *l);
/* How long until the link needs broker_link_tick() again (ms). */
int broker_link_timeout_ms(const struct broker_link *l);

/* CONNACK accepted and the session not lost since. */
bool broker_link_connected(const struct broker_link *l);
/* ... and not being torn down after the current call: safe to publish. */
bool broker_link_up(const struct broker_link *l);
/* QoS 1 publish with the gateway's message properties (v5: content type,
 * schema, expiry_s if not 0). mid may be NULL. Returns libmosquitto's result;
 * a failure other than a refusal of this one message ends the session. */
int broker_link_publish(struct broker_link *l, int *mid, const char *topic, const void *payload,
			size_t len, bool retain, uint32_t expiry_s);
void broker_link_subscribe(struct broker_link *l, const char *topic);
/* While paused, no new connection is attempted (the owner cannot take
 * messages now); an existing one is left alone (abort it first). */
void broker_link_pause(struct broker_link *l, bool paused);
/* End the session after the current call: kind and text say why. */
void broker_link_abort(struct broker_link *l, enum broker_failure kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The result of a libmosquitto call made for the link: act on it. */
void broker_link_check(struct broker_link *l, int mosq_rc);
/* Shutdown only: one round of I/O without the loop, waiting up to
 * timeout_ms. -1 if there is no client to poll, 1 if it read, else 0. */
int broker_link_poll(struct broker_link *l, int timeout_ms);
/* Graceful DISCONNECT, then close. */
void broker_link_close(struct broker_link *l);

/* "host:port (MQTT 5, TLS)" parts for the owner's log lines. */
const char *broker_link_name(const struct broker_link *l, char *buf, size_t n);
/* Last failure in words, "" if none since the last success, and its kind. */
const char *broker_link_last_error(const struct broker_link *l);
enum broker_failure broker_link_failure(const struct broker_link *l);
const struct broker_link_stats *broker_link_get_stats(const struct broker_link *l);

#endif
