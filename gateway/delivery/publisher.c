/*
 * publisher.c - connection state machine around one libmosquitto client.
 *
 *   IDLE --(backoff timer)--> PROBING --(TCP ok)--> CONNECTING --(CONNACK 0)--> CONNECTED
 *     ^                          |                       |                          |
 *     +------ failure: log, backoff with jitter ---------+--------------------------+
 *
 * Why a probe: libmosquitto 2.0 can only send CONNECT properties (the v5
 * session expiry interval we need) through mosquitto_connect_bind_v5(), whose
 * TCP connect() blocks - up to minutes for an unreachable host. So we first
 * connect a non-blocking socket of our own; only once the broker accepted it
 * do we call mosquitto_connect_bind_v5(), whose connect() then completes in
 * one round trip. The TLS handshake and everything after is non-blocking.
 * (Name resolution still uses getaddrinfo(): configure an address, or a
 * name in /etc/hosts, for a broker that must never stall the loop.)
 *
 * Every connection attempt gets a fresh mosquitto object, destroyed on
 * failure: libmosquitto's own queue of unacknowledged messages then never
 * competes with the outbox, which alone decides what is (re)sent and in
 * which order.
 */
#include "publisher.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bgw_clock.h"
#include "consent_update.h"
#include "delivery_config.h"
#include "log.h"
#include "outbox.h"

#define TOPIC_MAX 600
#define SCHEMA_VERSION "1"

enum pub_state { PUB_IDLE, PUB_PROBING, PUB_CONNECTING, PUB_CONNECTED };

struct inflight {
	int64_t id;
	int mid;
};

struct publisher {
	struct delivery_config cfg;
	struct outbox *ob;
	struct consent_update *cu;
	struct publisher_callbacks cb;

	enum pub_state state;
	struct mosquitto *mosq;
	int probe_fd;
	int protocol;                /* MQTT_PROTOCOL_V5 or MQTT_PROTOCOL_V311 */
	uint64_t deadline_us;        /* probe / CONNACK timeout */
	uint64_t next_attempt_us;
	uint32_t backoff_ms;
	uint64_t started_us;
	uint64_t next_status_us;

	/* Set inside libmosquitto callbacks, acted upon once they return. */
	bool teardown;
	bool retry_now;
	bool was_connected;
	unsigned fd_epoch;
	int stop_mid;                /* the offline status sent by publisher_stop */
	bool stop_acked;

	struct inflight *win;
	int n_win;

	char client_id[DELIVERY_STR_MAX];
	char password[DELIVERY_STR_MAX];
	char t_trigger[TOPIC_MAX], t_status[TOPIC_MAX], t_consent[TOPIC_MAX];
	char last_error[1024];
	char tls_error[768];
	struct publisher_stats st;
};

static void drop_session(struct publisher *p);

uint64_t publisher_now_us(void)
{
	return bgw_mono_us();
}

static const char *broker(const struct publisher *p, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%d", p->cfg.host, delivery_config_port(&p->cfg));
	return buf;
}

/* A connection attempt failed or a connection ended: say why once, back off. */
static void fail(struct publisher *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct publisher *p, const char *fmt, ...)
{
	va_list ap;
	uint32_t d, jitter;

	va_start(ap, fmt);
	vsnprintf(p->last_error, sizeof(p->last_error), fmt, ap);
	va_end(ap);
	/* libmosquitto's messages end with a full stop; ours continue after it. */
	if (p->last_error[0] && p->last_error[strlen(p->last_error) - 1] == '.')
		p->last_error[strlen(p->last_error) - 1] = '\0';
	drop_session(p);
	if (p->retry_now) {
		p->retry_now = false;
		p->next_attempt_us = publisher_now_us();
		return;
	}
	p->st.connect_failures++;
	/* Exponential backoff, "equal jitter": wait between d/2 and d so that a
	 * fleet of gateways does not reconnect in lockstep after a broker restart. */
	d = p->backoff_ms;
	jitter = d / 2 ? arc4random_uniform(d / 2 + 1) : 0;
	p->next_attempt_us = publisher_now_us() + (uint64_t)(d - d / 2 + jitter) * 1000u;
	p->backoff_ms = d >= p->cfg.reconnect_max_ms / 2 ? p->cfg.reconnect_max_ms : d * 2;
	log_warn( "mqtt: %s; retrying in %.1f s (triggers stay in the outbox)",
		     p->last_error, (double)(d - d / 2 + jitter) / 1000.0);
}

static void drop_session(struct publisher *p)
{
	p->fd_epoch++;
	if (p->probe_fd >= 0) {
		close(p->probe_fd);
		p->probe_fd = -1;
	}
	if (p->mosq) {
		mosquitto_destroy(p->mosq);
		p->mosq = NULL;
	}
	if (p->state == PUB_CONNECTED)
		p->st.disconnects++;
	p->state = PUB_IDLE;
	p->st.protocol = 0;
	p->n_win = 0;
	p->teardown = false;
	outbox_rewind(p->ob);
}

/* ---- libmosquitto callbacks (only record what happened) ---- */

static void on_log(struct mosquitto *m, void *obj, int level, const char *msg)
{
	struct publisher *p = obj;

	(void)m;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) {
		/* TLS failures are reported here ("OpenSSL Error[0]: ... certificate verify
		 * failed"); keep the first line of an attempt for the error message. */
		if (!p->tls_error[0])
			snprintf(p->tls_error, sizeof(p->tls_error), "%s", msg);
	}
	log_debug( "mqtt: libmosquitto: %s", msg);
}

static bool auth_refusal(int protocol, int rc)
{
	if (protocol == MQTT_PROTOCOL_V5)
		return rc == MQTT_RC_BAD_USERNAME_OR_PASSWORD || rc == MQTT_RC_NOT_AUTHORIZED;
	return rc == 4 || rc == 5;
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
		       const mosquitto_property *props)
{
	struct publisher *p = obj;
	char b[272];

	(void)m;
	(void)props;
	if (rc == 0) {
		p->state = PUB_CONNECTED;
		return;
	}
	if (p->protocol == MQTT_PROTOCOL_V5 && rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION) {
		log_notice( "mqtt: broker %s does not speak MQTT v5; using 3.1.1",
			     broker(p, b, sizeof(b)));
		p->protocol = MQTT_PROTOCOL_V311;
		p->retry_now = true;
	} else if (auth_refusal(p->protocol, rc)) {
		snprintf(p->tls_error, sizeof(p->tls_error),
			 "broker %s refused the connection: %s (check [mqtt] username and "
			 "password_file%s)",
			 broker(p, b, sizeof(b)),
			 p->protocol == MQTT_PROTOCOL_V5 ? mosquitto_reason_string(rc)
							 : mosquitto_connack_string(rc),
			 p->cfg.certfile[0] ? ", certfile" : "");
	} else {
		snprintf(p->tls_error, sizeof(p->tls_error), "broker %s refused the connection: %s",
			 broker(p, b, sizeof(b)),
			 p->protocol == MQTT_PROTOCOL_V5 ? mosquitto_reason_string(rc)
							 : mosquitto_connack_string(rc));
	}
	(void)flags;
	p->teardown = true;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
	struct publisher *p = obj;

	(void)m;
	(void)props;
	if (!p->tls_error[0] && rc)
		snprintf(p->tls_error, sizeof(p->tls_error), "connection lost: %s",
			 p->protocol == MQTT_PROTOCOL_V5 && rc > 127 ? mosquitto_reason_string(rc)
								      : mosquitto_strerror(rc));
	p->teardown = true;
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
		       const mosquitto_property *props)
{
	struct publisher *p = obj;
	int i;

	(void)m;
	(void)props;
	if (mid == p->stop_mid)
		p->stop_acked = true;
	for (i = 0; i < p->n_win; i++) {
		if (p->win[i].mid != mid)
			continue;
		if (reason >= 128 && reason != MQTT_RC_QUOTA_EXCEEDED &&
		    reason != MQTT_RC_SERVER_BUSY) {
			/* A permanent refusal (ACL, payload format...) would block the queue
			 * forever; drop that one trigger, loudly. */
			p->st.rejected++;
			log_err( "mqtt: broker refused trigger (outbox row %" PRId64
					      "): %s; dropped",
				     p->win[i].id, mosquitto_reason_string(reason));
			outbox_discard(p->ob, p->win[i].id);
		} else if (reason >= 128) {
			/* Transient: leave it in the outbox and start over after a pause. */
			snprintf(p->tls_error, sizeof(p->tls_error), "broker busy: %s",
				 mosquitto_reason_string(reason));
			p->teardown = true;
			return;
		} else {
			outbox_acked(p->ob, p->win[i].id);
		}
		memmove(&p->win[i], &p->win[i + 1], (size_t)(p->n_win - i - 1) * sizeof(*p->win));
		p->n_win--;
		return;
	}
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct publisher *p = obj;

	(void)m;
	(void)props;
	if (p->cu && msg->topic && !strcmp(msg->topic, p->t_consent))
		consent_update_handle(p->cu, msg->payload,
				      msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
}

/* ---- connection ---- */

static int read_password(const struct delivery_config *cfg, char *out, size_t n, char *err,
			 size_t errlen)
{
	FILE *f;
	struct stat sb;
	size_t len;

	if (!cfg->password_file[0])
		return 0;
	f = fopen(cfg->password_file, "re");
	if (!f) {
		snprintf(err, errlen, "[mqtt] password_file %s: %s", cfg->password_file,
			 strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 0004))
		log_warn( "mqtt: password_file %s is readable by everyone",
			     cfg->password_file);
	if (!fgets(out, (int)n, f))
		out[0] = '\0';
	fclose(f);
	len = strcspn(out, "\r\n");
	if (out[len] == '\0' && len == n - 1) {
		snprintf(err, errlen, "[mqtt] password_file %s: password too long",
			 cfg->password_file);
		return -1;
	}
	out[len] = '\0';
	if (!len) {
		snprintf(err, errlen, "[mqtt] password_file %s is empty", cfg->password_file);
		return -1;
	}
	return 0;
}

static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (path[0] && access(path, R_OK) != 0) {
		snprintf(err, errlen, "[mqtt] %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

static mosquitto_property *message_props(const struct publisher *p, uint32_t expiry_s)
{
	mosquitto_property *props = NULL;

	if (p->protocol != MQTT_PROTOCOL_V5)
		return NULL;
	if (expiry_s)
		mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, expiry_s);
	mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, "application/json");
	mosquitto_property_add_byte(&props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, 1);
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "schema",
					   SCHEMA_VERSION);
	return props;
}

static uint64_t uptime_s(const struct publisher *p)
{
	return (publisher_now_us() - p->started_us) / 1000000u;
}

static char *build_status(struct publisher *p, bool online, const char *reason)
{
	struct status_counters c = { 0 };
	struct status_delivery d = { 0 };
	const struct outbox_stats *os = outbox_get_stats(p->ob);

	if (p->cb.status)
		p->cb.status(p->cb.ctx, &c);
	d.queued = os->queued;
	d.sent = os->sent;
	d.dropped = os->dropped_full + os->dropped_expired + os->dropped_gone + p->st.rejected;
	d.depth = os->depth + os->pending;
	if (p->cu) {
		const struct consent_update_stats *cs = consent_update_get_stats(p->cu);

		d.consent_applied = cs->applied;
		d.consent_rejected = cs->rejected;
	}
	d.protocol = online ? p->st.protocol : 0;
	d.reconnects = p->st.connects ? p->st.connects - 1 : 0;
	d.last_error = p->last_error;
	return status_json(&p->cfg, online, reason, uptime_s(p), &c, &d);
}

static int setup_client(struct publisher *p)
{
	char *will;
	mosquitto_property *wprops;
	int rc;

	p->mosq = mosquitto_new(p->client_id, false, p);
	if (!p->mosq)
		return MOSQ_ERR_NOMEM;
	mosquitto_int_option(p->mosq, MOSQ_OPT_PROTOCOL_VERSION, p->protocol);
	mosquitto_int_option(p->mosq, MOSQ_OPT_SEND_MAXIMUM, p->cfg.max_inflight);
	mosquitto_int_option(p->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_log_callback_set(p->mosq, on_log);
	mosquitto_connect_v5_callback_set(p->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(p->mosq, on_disconnect);
	mosquitto_publish_v5_callback_set(p->mosq, on_publish);
	mosquitto_message_v5_callback_set(p->mosq, on_message);
	if (p->cfg.username[0]) {
		rc = mosquitto_username_pw_set(p->mosq, p->cfg.username,
					       p->password[0] ? p->password : NULL);
		if (rc)
			return rc;
	}
	if (delivery_config_tls_enabled(&p->cfg)) {
		rc = mosquitto_tls_set(p->mosq, p->cfg.cafile[0] ? p->cfg.cafile : NULL,
				       p->cfg.capath[0] ? p->cfg.capath : NULL,
				       p->cfg.certfile[0] ? p->cfg.certfile : NULL,
				       p->cfg.keyfile[0] ? p->cfg.keyfile : NULL, NULL);
		if (rc)
			return rc;
		/* Verify the broker's certificate chain and host name. */
		rc = mosquitto_tls_opts_set(p->mosq, 1, NULL, NULL);
		if (rc)
			return rc;
		mosquitto_tls_insecure_set(p->mosq, false);
	}
	/* Last will: the broker marks us offline if the connection dies. */
	will = status_json(&p->cfg, false, "connection lost", 0, NULL, NULL);
	if (!will)
		return MOSQ_ERR_NOMEM;
	wprops = message_props(p, 0);
	rc = mosquitto_will_set_v5(p->mosq, p->t_status, (int)strlen(will), will, 1, true, wprops);
	free(will);
	if (rc)
		mosquitto_property_free_all(&wprops);
	return rc;
}

static void start_probe(struct publisher *p)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *ai = NULL, *a;
	char port[8], b[272];
	int rc, e = 0;

	p->tls_error[0] = '\0';
	snprintf(port, sizeof(port), "%d", delivery_config_port(&p->cfg));
	rc = getaddrinfo(p->cfg.host, port, &hints, &ai);
	if (rc) {
		fail(p, "broker %s: cannot resolve: %s", broker(p, b, sizeof(b)), gai_strerror(rc));
		return;
	}
	/* Addresses that fail at once (e.g. ::1 with the broker on 127.0.0.1 only)
	 * are skipped; the first pending or connected one is probed. */
	for (a = ai; a; a = a->ai_next) {
		p->probe_fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (p->probe_fd >= 0 &&
		    (connect(p->probe_fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS))
			break;
		e = errno;
		if (p->probe_fd >= 0)
			close(p->probe_fd);
		p->probe_fd = -1;
	}
	freeaddrinfo(ai);
	if (p->probe_fd < 0) {
		fail(p, "broker %s unreachable: %s", broker(p, b, sizeof(b)), strerror(e));
		return;
	}
	p->fd_epoch++;
	p->state = PUB_PROBING;
	p->deadline_us = publisher_now_us() + (uint64_t)p->cfg.connect_timeout_ms * 1000u;
}

/* The link failed with libmosquitto result rc: one clear message, saying what
 * to check when it was the TLS handshake. */
static void link_failed(struct publisher *p, int rc)
{
	char b[272];

	if (p->was_connected && !p->tls_error[0])
		fail(p, "connection to %s lost: %s", broker(p, b, sizeof(b)),
		     rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	else if (p->tls_error[0] && rc == MOSQ_ERR_TLS)
		fail(p, "broker %s: TLS handshake failed: %s (check [mqtt] cafile, certfile, "
			"keyfile and the broker's certificate)",
		     broker(p, b, sizeof(b)), p->tls_error);
	else if (p->tls_error[0])
		fail(p, "%s", p->tls_error);
	else
		fail(p, "broker %s: %s", broker(p, b, sizeof(b)),
		     rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	p->was_connected = false;
}

static void start_mqtt(struct publisher *p)
{
	mosquitto_property *cprops = NULL;
	char b[272];
	int rc;

	close(p->probe_fd);
	p->probe_fd = -1;
	p->fd_epoch++;
	rc = setup_client(p);
	if (rc) {
		fail(p, "broker %s: cannot set up the client: %s", broker(p, b, sizeof(b)),
		     mosquitto_strerror(rc));
		return;
	}
	if (p->protocol == MQTT_PROTOCOL_V5)
		mosquitto_property_add_int32(&cprops, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					     p->cfg.session_expiry_s);
	rc = mosquitto_connect_bind_v5(p->mosq, p->cfg.host, delivery_config_port(&p->cfg),
				       p->cfg.keepalive_s, NULL, cprops);
	mosquitto_property_free_all(&cprops);
	if (rc) {
		/* On loopback the TLS handshake can already fail inside the connect
		 * call: reported exactly as a failure later in the loop is. */
		link_failed(p, rc);
		return;
	}
	p->state = PUB_CONNECTING;
	p->deadline_us = publisher_now_us() + (uint64_t)p->cfg.connect_timeout_ms * 1000u;
}

static void probe_result(struct publisher *p)
{
	int e = 0;
	socklen_t len = sizeof(e);
	struct pollfd pfd = { .fd = p->probe_fd, .events = POLLOUT };
	char b[272];

	if (poll(&pfd, 1, 0) <= 0)
		return;  /* still connecting */
	if (getsockopt(p->probe_fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e) {
		fail(p, "broker %s unreachable: %s", broker(p, b, sizeof(b)), strerror(e));
		return;
	}
	start_mqtt(p);
}

static void connected(struct publisher *p)
{
	char b[272];

	p->st.connects++;
	p->st.protocol = p->protocol;
	p->backoff_ms = p->cfg.reconnect_min_ms;
	p->last_error[0] = '\0';
	p->tls_error[0] = '\0';
	log_info( "mqtt: connected to %s (MQTT %s%s), %" PRIu64 " trigger(s) queued",
		     broker(p, b, sizeof(b)), p->protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1",
		     delivery_config_tls_enabled(&p->cfg) ? ", TLS" : "",
		     outbox_get_stats(p->ob)->depth);
	if (p->cu)
		mosquitto_subscribe_v5(p->mosq, NULL, p->t_consent, 1, 0, NULL);
	publisher_publish_status(p);
}

/* After any libmosquitto call: act on what its callbacks recorded. */
static void after_io(struct publisher *p, int rc)
{
	if (p->state == PUB_CONNECTED && !p->was_connected && !p->teardown) {
		p->was_connected = true;
		connected(p);
	}
	if (!p->teardown && rc == MOSQ_ERR_SUCCESS)
		return;
	link_failed(p, rc);
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

static void pump(struct publisher *p)
{
	int64_t now = (int64_t)bgw_wall_us();

	while (p->state == PUB_CONNECTED && !p->teardown && p->n_win < p->cfg.max_inflight) {
		struct outbox_msg m;
		mosquitto_property *props;
		uint64_t queued_s;
		uint32_t expiry = 0;
		char *late = NULL;
		int rc, mid = 0;

		rc = outbox_next(p->ob, now, p->cfg.message_expiry_s, &m);
		if (rc <= 0)
			break;
		queued_s = now > m.created_us ? (uint64_t)(now - m.created_us) / 1000000u : 0;
		if (p->cfg.message_expiry_s)
			/* > 0: outbox_next drops what waited the whole expiry */
			expiry = p->cfg.message_expiry_s - (uint32_t)queued_s;
		if (p->cfg.late_after_s && queued_s >= p->cfg.late_after_s)
			late = late_payload(&m, queued_s);
		props = message_props(p, expiry);
		rc = mosquitto_publish_v5(p->mosq, &mid, m.topic,
					  late ? (int)strlen(late) : (int)m.payload_len,
					  late ? late : m.payload, 1, false, props);
		mosquitto_property_free_all(&props);
		free(late);
		if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_INVAL ||
		    rc == MOSQ_ERR_MALFORMED_UTF8) {
			p->st.rejected++;
			log_err( "mqtt: trigger (outbox row %" PRId64 ") cannot be "
					      "published: %s; dropped",
				     m.id, mosquitto_strerror(rc));
			outbox_discard(p->ob, m.id);
			continue;
		}
		if (rc) {
			after_io(p, rc);
			return;
		}
		p->st.published++;
		p->win[p->n_win].id = m.id;
		p->win[p->n_win].mid = mid;
		p->n_win++;
	}
}

int publisher_publish_aux(struct publisher *p, const char *leaf, const char *json)
{
	char topic[TOPIC_MAX];
	mosquitto_property *props;
	int rc;

	if (p->state != PUB_CONNECTED || delivery_topic(&p->cfg, leaf, topic, sizeof(topic))) {
		p->st.aux_dropped++;
		return -1;
	}
	props = message_props(p, p->cfg.message_expiry_s);
	rc = mosquitto_publish_v5(p->mosq, NULL, topic, (int)strlen(json), json, 1, false, props);
	mosquitto_property_free_all(&props);
	if (rc) {
		p->st.aux_dropped++;
		return -1;
	}
	return 0;
}

int publisher_publish_status(struct publisher *p)
{
	mosquitto_property *props;
	char *s;
	int rc;

	p->next_status_us = publisher_now_us() + (uint64_t)p->cfg.status_interval_s * 1000000u;
	if (p->state != PUB_CONNECTED)
		return -1;
	s = build_status(p, true, NULL);
	if (!s)
		return -1;
	/* No expiry: the retained status must stay readable while we are up. */
	props = message_props(p, 0);
	rc = mosquitto_publish_v5(p->mosq, NULL, p->t_status, (int)strlen(s), s, 1, true, props);
	mosquitto_property_free_all(&props);
	free(s);
	return rc ? -1 : 0;
}

/* ---- public API ---- */

struct publisher *publisher_new(const struct delivery_config *cfg, struct outbox *ob,
				struct consent_update *cu, const struct publisher_callbacks *cb,
				char *err, size_t errlen)
{
	struct publisher *p;
	char prefix_consent[TOPIC_MAX];

	if (delivery_config_check(cfg, err, errlen))
		return NULL;
	if (check_readable("cafile", cfg->cafile, err, errlen) ||
	    check_readable("certfile", cfg->certfile, err, errlen) ||
	    check_readable("keyfile", cfg->keyfile, err, errlen))
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
	p->probe_fd = -1;
	p->stop_mid = -1;
	p->protocol = cfg->protocol == 4 ? MQTT_PROTOCOL_V311 : MQTT_PROTOCOL_V5;
	p->backoff_ms = cfg->reconnect_min_ms;
	p->started_us = publisher_now_us();
	p->next_attempt_us = p->started_us;
	p->win = calloc((size_t)cfg->max_inflight, sizeof(*p->win));
	if (cfg->client_id[0])
		snprintf(p->client_id, sizeof(p->client_id), "%s", cfg->client_id);
	else
		snprintf(p->client_id, sizeof(p->client_id), "%.120s-%.120s", cfg->site,
			 cfg->gateway);
	snprintf(prefix_consent, sizeof(prefix_consent), "%s/consent", cfg->topic_prefix);
	memcpy(p->t_consent, prefix_consent, sizeof(p->t_consent));
	if (!p->win || delivery_topic(cfg, "trigger", p->t_trigger, sizeof(p->t_trigger)) ||
	    delivery_topic(cfg, "status", p->t_status, sizeof(p->t_status))) {
		snprintf(err, errlen, "out of memory or topic too long");
		publisher_free(p);
		return NULL;
	}
	if (read_password(cfg, p->password, sizeof(p->password), err, errlen)) {
		publisher_free(p);
		return NULL;
	}
	return p;
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	if (p->probe_fd >= 0)
		close(p->probe_fd);
	if (p->mosq)
		mosquitto_destroy(p->mosq);
	explicit_bzero(p->password, sizeof(p->password));
	free(p->win);
	free(p);
}

int publisher_fd(const struct publisher *p)
{
	if (p->state == PUB_PROBING)
		return p->probe_fd;
	if (p->mosq)
		return mosquitto_socket(p->mosq);
	return -1;
}

unsigned publisher_fd_epoch(const struct publisher *p)
{
	return p->fd_epoch;
}

bool publisher_wants_write(const struct publisher *p)
{
	if (p->state == PUB_PROBING)
		return true;
	return p->mosq && mosquitto_want_write(p->mosq);
}

void publisher_on_readable(struct publisher *p)
{
	int rc;

	if (p->state == PUB_PROBING) {
		probe_result(p);
		return;
	}
	if (!p->mosq)
		return;
	rc = mosquitto_loop_read(p->mosq, 64);
	after_io(p, rc);
	pump(p);
}

void publisher_on_writable(struct publisher *p)
{
	int rc;

	if (p->state == PUB_PROBING) {
		probe_result(p);
		return;
	}
	if (!p->mosq)
		return;
	rc = mosquitto_loop_write(p->mosq, 64);
	after_io(p, rc);
}

void publisher_tick(struct publisher *p)
{
	uint64_t now = publisher_now_us();
	char b[272];

	outbox_flush(p->ob);
	if (p->cu)
		consent_update_retry(p->cu);
	switch (p->state) {
	case PUB_IDLE:
		if (now >= p->next_attempt_us)
			start_probe(p);
		break;
	case PUB_PROBING:
		probe_result(p);
		if (p->state == PUB_PROBING && now >= p->deadline_us)
			fail(p, "broker %s unreachable: no answer within %.1f s",
			     broker(p, b, sizeof(b)), p->cfg.connect_timeout_ms / 1000.0);
		break;
	case PUB_CONNECTING:
		after_io(p, mosquitto_loop_misc(p->mosq));
		if (p->state == PUB_CONNECTING && now >= p->deadline_us)
			fail(p, "broker %s: no CONNACK within %.1f s%s%s", broker(p, b, sizeof(b)),
			     p->cfg.connect_timeout_ms / 1000.0, p->tls_error[0] ? ": " : "",
			     p->tls_error);
		break;
	case PUB_CONNECTED:
		after_io(p, mosquitto_loop_misc(p->mosq));
		if (p->state == PUB_CONNECTED && now >= p->next_status_us)
			publisher_publish_status(p);
		pump(p);
		break;
	}
	/* Acknowledgements that just arrived are deleted with the next group commit. */
}

int publisher_timeout_ms(const struct publisher *p)
{
	uint64_t now = publisher_now_us(), until;

	if (outbox_dirty(p->ob))
		return 0;
	switch (p->state) {
	case PUB_IDLE:
		until = p->next_attempt_us;
		break;
	case PUB_CONNECTED:
		until = p->next_status_us;
		if (until > now + 1000000u)
			until = now + 1000000u;  /* keepalive bookkeeping */
		break;
	default:
		until = now + 100000u;
		break;
	}
	return until <= now ? 0 : (int)((until - now + 999) / 1000);
}

bool publisher_connected(const struct publisher *p)
{
	return p->state == PUB_CONNECTED;
}

const char *publisher_last_error(const struct publisher *p)
{
	return p->last_error;
}

const struct publisher_stats *publisher_get_stats(const struct publisher *p)
{
	return &p->st;
}

const char *publisher_trigger_topic(const struct publisher *p)
{
	return p->t_trigger;
}

/* Shutdown only: run our own small poll loop until done or out of time. */
static void run_until(struct publisher *p, uint64_t deadline, bool (*done)(struct publisher *))
{
	while (p->mosq && !done(p) && publisher_now_us() < deadline) {
		struct pollfd pfd = { .fd = publisher_fd(p), .events = POLLIN };

		if (pfd.fd < 0)
			break;
		if (publisher_wants_write(p))
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 50) > 0) {
			if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
				publisher_on_readable(p);
			if (p->mosq && (pfd.revents & POLLOUT))
				publisher_on_writable(p);
		}
		if (p->mosq)
			after_io(p, mosquitto_loop_misc(p->mosq));
		outbox_flush(p->ob);
	}
}

static bool drained(struct publisher *p)
{
	return p->state != PUB_CONNECTED ||
	       (p->n_win == 0 && p->stop_acked && !mosquitto_want_write(p->mosq));
}

void publisher_stop(struct publisher *p, int timeout_ms)
{
	uint64_t deadline = publisher_now_us() +
			    (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000u;
	mosquitto_property *props;
	char *s;

	outbox_flush(p->ob);
	if (p->state == PUB_CONNECTED) {
		p->stop_acked = true;
		s = build_status(p, false, "shutdown");
		if (s) {
			props = message_props(p, 0);
			if (mosquitto_publish_v5(p->mosq, &p->stop_mid, p->t_status,
						 (int)strlen(s), s, 1, true, props) == 0)
				p->stop_acked = false;
			mosquitto_property_free_all(&props);
			free(s);
		}
		run_until(p, deadline, drained);
		if (p->mosq) {
			mosquitto_disconnect_v5(p->mosq, 0, NULL);
			mosquitto_loop_write(p->mosq, 1);
		}
	}
	outbox_flush(p->ob);
	drop_session(p);
}
