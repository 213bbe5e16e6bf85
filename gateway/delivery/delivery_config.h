/*
 * delivery_config.h - settings of the outbox, the MQTT publisher and the
 * consent-update listener.
 *
 * The daemon's INI reader forwards every key of the [mqtt], [outbox] and
 * [consent] sections to delivery_config_set(); site and gateway id come from
 * [gateway] and are copied in by the daemon. Fixed-size strings keep the
 * struct copyable and free of ownership rules.
 */
#ifndef BGW_DELIVERY_CONFIG_H
#define BGW_DELIVERY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DELIVERY_STR_MAX 256
#define DELIVERY_PATH_MAX 512

enum delivery_tls_required { DELIVERY_TLS_AUTO = 0, DELIVERY_TLS_YES, DELIVERY_TLS_NO };

struct delivery_config {
	/* [gateway] (filled by the daemon) */
	char site[DELIVERY_STR_MAX];
	char gateway[DELIVERY_STR_MAX];

	/* [mqtt] */
	char host[DELIVERY_STR_MAX];          /* host = 127.0.0.1 */
	int port;                             /* port = 0 -> 1883, or 8883 with TLS */
	char client_id[DELIVERY_STR_MAX];     /* client_id = "" -> "<site>-<gateway>" */
	char topic_prefix[DELIVERY_STR_MAX];  /* topic_prefix = beacongw/v1 */
	int keepalive_s;                      /* keepalive = 30 */
	char username[DELIVERY_STR_MAX];      /* username = (none) */
	char password_file[DELIVERY_PATH_MAX];/* password_file: first line is the password */
	char cafile[DELIVERY_PATH_MAX];       /* cafile / capath: enable TLS with verification */
	char capath[DELIVERY_PATH_MAX];
	char certfile[DELIVERY_PATH_MAX];     /* certfile + keyfile: optional client certificate */
	char keyfile[DELIVERY_PATH_MAX];
	enum delivery_tls_required tls_required; /* tls_required = auto | yes | no */
	uint32_t message_expiry_s;            /* message_expiry = 900 (0 = none) */
	uint32_t session_expiry_s;            /* session_expiry = 86400 */
	int max_inflight;                     /* max_inflight = 20 */
	uint32_t reconnect_min_ms;            /* reconnect_min = 1 (seconds, fractional ok) */
	uint32_t reconnect_max_ms;            /* reconnect_max = 60 */
	uint32_t connect_timeout_ms;          /* connect_timeout = 10 */
	uint32_t sync_timeout_ms;             /* sync_timeout = 10: consent sync marker */
	uint32_t status_interval_s;           /* status_interval = 60 */
	int protocol;                         /* protocol = 5 | 311 (5 falls back to 311) */

	/* [outbox] */
	uint32_t outbox_max;                  /* max = 10000 rows; oldest dropped beyond */
	uint32_t late_after_s;                /* late_after = 60: publish with delivered_late */
	uint32_t pending_max;                 /* pending_max = 4096 (memory, DB busy) */

	/* [consent] */
	char consent_pubkey[DELIVERY_PATH_MAX];/* public_key = PEM file; empty: updates ignored */
	uint32_t consent_max_bytes;           /* max_bytes = 8192 */
	uint32_t consent_queue_max;           /* queue_max = 256 updates waiting for the DB */
	/* A fleet (docs/fleet.md): follow beaconhub's signed log instead of
	 * single updates. public_key is then the hub's key. */
	char consent_fleet[DELIVERY_STR_MAX];  /* fleet = (none) */
	char consent_pubkey_next[DELIVERY_PATH_MAX]; /* public_key_next: second key (rotation) */
	uint32_t consent_max_staleness_s;     /* max_staleness_s = 900 */
};

void delivery_config_defaults(struct delivery_config *c);

/*
 * One INI key. Returns 1 if used, 0 if the section/key is not ours, -1 on a
 * bad value (err says why, one line).
 */
int delivery_config_set(struct delivery_config *c, const char *section, const char *key,
			const char *value, char *err, size_t errlen);

/* Final checks after every key is read (TLS policy, ranges). 0 or -1 + err. */
int delivery_config_check(const struct delivery_config *c, char *err, size_t errlen);

/* Does this host name a loopback address (127.0.0.0/8, ::1, localhost)? */
bool delivery_host_is_loopback(const char *host);

bool delivery_config_tls_enabled(const struct delivery_config *c);
int delivery_config_port(const struct delivery_config *c);

/* "<prefix>/<site>/<gateway>/<leaf>" into buf; -1 if it does not fit. */
int delivery_topic(const struct delivery_config *c, const char *leaf, char *buf, size_t len);

#endif
