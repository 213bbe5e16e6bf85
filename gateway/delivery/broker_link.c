/*
 * broker_link.c - connection state machine around one libmosquitto client.
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
 * The probe itself is broker_probe.c; how a client is set up from [mqtt]
 * (credentials, TLS, the will) is broker_client.c.
 *
 * Every connection attempt gets a fresh mosquitto object, destroyed on
 * failure: libmosquitto's own queue of unacknowledged messages then never
 * competes with the outbox, which alone decides what is (re)sent and in
 * which order.
 */
#include "broker_link.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgw_clock.h"
#include "broker_client.h"
#include "broker_probe.h"
#include "bgw_util.h"
#include "delivery_config.h"
#include "log.h"

#define WILL_TOPIC_MAX 600

enum link_state { LINK_IDLE, LINK_PROBING, LINK_CONNECTING, LINK_CONNECTED };

struct broker_link {
	struct delivery_config cfg;
	struct broker_link_callbacks cb;

	enum link_state state;
	struct mosquitto *mosq;
	int probe_fd;
	int protocol;                /* MQTT_PROTOCOL_V5 or MQTT_PROTOCOL_V311 */
	uint64_t deadline_us;        /* probe / CONNACK timeout */
	uint64_t next_attempt_us;
	bool paused;                 /* the owner takes no messages now: do not connect */
	uint32_t backoff_ms;

	/* Set inside libmosquitto callbacks, acted upon once they return. */
	bool teardown;
	bool retry_now;
	bool was_connected;
	unsigned fd_epoch;

	/* What went wrong during the current attempt or session, as reported
	 * by libmosquitto's log or recorded from a CONNACK, a disconnect or a
	 * PUBACK; failed() turns it into last_error. */
	enum broker_failure cause;
	char cause_text[768];

	enum broker_failure failure;
	char last_error[1024];
	char client_id[DELIVERY_STR_MAX];
	char password[DELIVERY_STR_MAX];
	char will_topic[WILL_TOPIC_MAX];
	struct broker_link_stats st;
};

static const char *const failure_names[] = {
	[BROKER_OK] = "ok",
	[BROKER_FAIL_RESOLVE] = "resolve",
	[BROKER_FAIL_UNREACHABLE] = "unreachable",
	[BROKER_FAIL_TIMEOUT] = "timeout",
	[BROKER_FAIL_SETUP] = "setup",
	[BROKER_FAIL_TLS] = "tls",
	[BROKER_FAIL_AUTH] = "auth",
	[BROKER_FAIL_REFUSED] = "refused",
	[BROKER_FAIL_BUSY] = "busy",
	[BROKER_FAIL_LOST] = "lost",
	[BROKER_FAIL_IO] = "io",
};

const char *broker_failure_name(enum broker_failure f)
{
	return (unsigned)f < BGW_ARRAY_SIZE(failure_names) ? failure_names[f] : "?";
}

static void drop_session(struct broker_link *l);

static const char *broker(const struct broker_link *l, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%d", l->cfg.host, delivery_config_port(&l->cfg));
	return buf;
}

const char *broker_link_name(const struct broker_link *l, char *buf, size_t n)
{
	return broker(l, buf, n);
}

/* Remember why the attempt or session is failing; the first report of an
 * attempt wins unless overwrite (a CONNACK or PUBACK reason is more exact
 * than what libmosquitto logged before it). */
static void note_cause(struct broker_link *l, enum broker_failure kind, bool overwrite,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void note_cause(struct broker_link *l, enum broker_failure kind, bool overwrite,
		       const char *fmt, ...)
{
	va_list ap;

	if (l->cause_text[0] && !overwrite)
		return;
	l->cause = kind;
	va_start(ap, fmt);
	vsnprintf(l->cause_text, sizeof(l->cause_text), fmt, ap);
	va_end(ap);
}

static void clear_cause(struct broker_link *l)
{
	l->cause = BROKER_OK;
	l->cause_text[0] = '\0';
}

/* A connection attempt failed or a connection ended: say why once, back off. */
static void failed(struct broker_link *l, enum broker_failure kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void failed(struct broker_link *l, enum broker_failure kind, const char *fmt, ...)
{
	va_list ap;
	uint32_t d, jitter;

	l->failure = kind;
	va_start(ap, fmt);
	vsnprintf(l->last_error, sizeof(l->last_error), fmt, ap);
	va_end(ap);
	/* libmosquitto's messages end with a full stop; ours continue after it. */
	if (l->last_error[0] && l->last_error[strlen(l->last_error) - 1] == '.')
		l->last_error[strlen(l->last_error) - 1] = '\0';
	drop_session(l);
	if (l->retry_now) {
		l->retry_now = false;
		l->next_attempt_us = bgw_mono_us();
		return;
	}
	l->st.connect_failures++;
	/* Exponential backoff, "equal jitter": wait between d/2 and d so that a
	 * fleet of gateways does not reconnect in lockstep after a broker restart. */
	d = l->backoff_ms;
	jitter = d / 2 ? arc4random_uniform(d / 2 + 1) : 0;
	l->next_attempt_us = bgw_mono_us() + (uint64_t)(d - d / 2 + jitter) * 1000u;
	l->backoff_ms = d >= l->cfg.reconnect_max_ms / 2 ? l->cfg.reconnect_max_ms : d * 2;
	log_warn("mqtt: %s; retrying in %.1f s (triggers stay in the outbox)", l->last_error,
		 (double)(d - d / 2 + jitter) / 1000.0);
}

static void drop_session(struct broker_link *l)
{
	l->fd_epoch++;
	if (l->probe_fd >= 0) {
		close(l->probe_fd);
		l->probe_fd = -1;
	}
	if (l->mosq) {
		mosquitto_destroy(l->mosq);
		l->mosq = NULL;
	}
	if (l->state == LINK_CONNECTED)
		l->st.disconnects++;
	l->state = LINK_IDLE;
	l->st.protocol = 0;
	l->teardown = false;
	if (l->cb.down)
		l->cb.down(l->cb.ctx);
}

/* ---- libmosquitto callbacks (only record what happened) ---- */

static void on_log(struct mosquitto *m, void *obj, int level, const char *msg)
{
	struct broker_link *l = obj;

	(void)m;
	/* TLS failures are reported here ("OpenSSL Error[0]: ... certificate verify
	 * failed"); keep the first line of an attempt for the error message. */
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		note_cause(l, BROKER_FAIL_IO, false, "%s", msg);
	log_debug("mqtt: libmosquitto: %s", msg);
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
	struct broker_link *l = obj;
	const char *why;
	char b[272];

	(void)m;
	(void)props;
	(void)flags;
	if (rc == 0) {
		l->state = LINK_CONNECTED;
		return;
	}
	why = l->protocol == MQTT_PROTOCOL_V5 ? mosquitto_reason_string(rc)
					      : mosquitto_connack_string(rc);
	if (l->protocol == MQTT_PROTOCOL_V5 && rc == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION) {
		log_notice("mqtt: broker %s does not speak MQTT v5; using 3.1.1",
			   broker(l, b, sizeof(b)));
		l->protocol = MQTT_PROTOCOL_V311;
		l->retry_now = true;
	} else if (auth_refusal(l->protocol, rc)) {
		note_cause(l, BROKER_FAIL_AUTH, true,
			   "broker %s refused the connection: %s (check [mqtt] username and "
			   "password_file%s)", broker(l, b, sizeof(b)), why,
			   l->cfg.certfile[0] ? ", certfile" : "");
	} else {
		note_cause(l, BROKER_FAIL_REFUSED, true, "broker %s refused the connection: %s",
			   broker(l, b, sizeof(b)), why);
	}
	l->teardown = true;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
	struct broker_link *l = obj;

	(void)m;
	(void)props;
	if (rc)
		note_cause(l, BROKER_FAIL_LOST, false, "connection lost: %s",
			   l->protocol == MQTT_PROTOCOL_V5 && rc > 127 ? mosquitto_reason_string(rc)
								      : mosquitto_strerror(rc));
	l->teardown = true;
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
		       const mosquitto_property *props)
{
	struct broker_link *l = obj;

	(void)m;
	(void)props;
	if (l->cb.published)
		l->cb.published(l->cb.ctx, mid, reason);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct broker_link *l = obj;

	(void)m;
	(void)props;
	if (l->cb.message && msg->topic)
		l->cb.message(l->cb.ctx, msg->topic, msg->payload,
			      msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0);
}

/* ---- set-up ---- */

static int setup_client(struct broker_link *l)
{
	int rc;

	l->mosq = broker_client_new(&l->cfg, l->client_id, l->protocol, l->password, l->will_topic,
				    l, &rc);
	if (!l->mosq)
		return rc;
	mosquitto_log_callback_set(l->mosq, on_log);
	mosquitto_connect_v5_callback_set(l->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(l->mosq, on_disconnect);
	mosquitto_publish_v5_callback_set(l->mosq, on_publish);
	mosquitto_message_v5_callback_set(l->mosq, on_message);
	return 0;
}

/* ---- connecting ---- */

static void start_probe(struct broker_link *l)
{
	enum broker_failure kind;
	char why[160], b[272];

	clear_cause(l);
	kind = broker_probe_start(l->cfg.host, delivery_config_port(&l->cfg), &l->probe_fd, why,
				  sizeof(why));
	if (kind == BROKER_FAIL_RESOLVE) {
		failed(l, kind, "broker %s: cannot resolve: %s", broker(l, b, sizeof(b)), why);
		return;
	}
	if (kind != BROKER_OK) {
		failed(l, kind, "broker %s unreachable: %s", broker(l, b, sizeof(b)), why);
		return;
	}
	l->fd_epoch++;
	l->state = LINK_PROBING;
	l->deadline_us = bgw_mono_us() + (uint64_t)l->cfg.connect_timeout_ms * 1000u;
}

static const char *mosq_error(int rc)
{
	return rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc);
}

/* The link failed with libmosquitto result rc: one clear message, saying what
 * to check when it was the TLS handshake. */
static void link_failed(struct broker_link *l, int rc)
{
	char b[272];

	if (l->was_connected && !l->cause_text[0])
		failed(l, BROKER_FAIL_LOST, "connection to %s lost: %s", broker(l, b, sizeof(b)),
		       mosq_error(rc));
	else if (l->cause_text[0] && rc == MOSQ_ERR_TLS)
		failed(l, BROKER_FAIL_TLS, "broker %s: TLS handshake failed: %s (check [mqtt] "
		       "cafile, certfile, keyfile and the broker's certificate)",
		       broker(l, b, sizeof(b)), l->cause_text);
	else if (l->cause_text[0])
		failed(l, l->cause, "%s", l->cause_text);
	else
		failed(l, BROKER_FAIL_IO, "broker %s: %s", broker(l, b, sizeof(b)), mosq_error(rc));
	l->was_connected = false;
}

uint32_t broker_link_max_packet(const struct delivery_config *cfg)
{
	/* The largest message we take is a consent update (the sync marker
	 * and the acknowledgements are far smaller); the rest covers the fixed
	 * header, the topic and the properties a broker or backend may add. */
	return cfg->consent_max_bytes + BROKER_PACKET_OVERHEAD;
}

static void start_mqtt(struct broker_link *l)
{
	mosquitto_property *cprops = NULL;
	char b[272];
	int rc;

	close(l->probe_fd);
	l->probe_fd = -1;
	l->fd_epoch++;
	rc = setup_client(l);
	if (rc) {
		failed(l, BROKER_FAIL_SETUP, "broker %s: cannot set up the client: %s",
		       broker(l, b, sizeof(b)), mosquitto_strerror(rc));
		return;
	}
	if (l->protocol == MQTT_PROTOCOL_V5) {
		mosquitto_property_add_int32(&cprops, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					     l->cfg.session_expiry_s);
		/* The broker drops what we would reject anyway before it is sent:
		 * an oversized message never reaches our memory. */
		mosquitto_property_add_int32(&cprops, MQTT_PROP_MAXIMUM_PACKET_SIZE,
					     broker_link_max_packet(&l->cfg));
	}
	rc = mosquitto_connect_bind_v5(l->mosq, l->cfg.host, delivery_config_port(&l->cfg),
				       l->cfg.keepalive_s, NULL, cprops);
	mosquitto_property_free_all(&cprops);
	if (rc) {
		/* On loopback the TLS handshake can already fail inside the connect
		 * call: reported exactly as a failure later in the loop is. */
		link_failed(l, rc);
		return;
	}
	l->state = LINK_CONNECTING;
	l->deadline_us = bgw_mono_us() + (uint64_t)l->cfg.connect_timeout_ms * 1000u;
}

static void probe_result(struct broker_link *l)
{
	int r = broker_probe_result(l->probe_fd);
	char b[272];

	if (r == 0)
		return;  /* still connecting */
	if (r < 0) {
		failed(l, BROKER_FAIL_UNREACHABLE, "broker %s unreachable: %s",
		       broker(l, b, sizeof(b)), strerror(-r));
		return;
	}
	start_mqtt(l);
}

static void came_up(struct broker_link *l)
{
	l->st.connects++;
	l->st.protocol = l->protocol;
	l->backoff_ms = l->cfg.reconnect_min_ms;
	l->failure = BROKER_OK;
	l->last_error[0] = '\0';
	clear_cause(l);
	if (l->cb.up)
		l->cb.up(l->cb.ctx);
}

void broker_link_check(struct broker_link *l, int rc)
{
	if (l->state == LINK_CONNECTED && !l->was_connected && !l->teardown) {
		l->was_connected = true;
		came_up(l);
	}
	if (!l->teardown && rc == MOSQ_ERR_SUCCESS)
		return;
	link_failed(l, rc);
}

/* ---- public API ---- */

struct broker_link *broker_link_new(const struct delivery_config *cfg, const char *will_topic,
				    const struct broker_link_callbacks *cb, char *err,
				    size_t errlen)
{
	struct broker_link *l;

	if (broker_client_check_files(cfg, err, errlen))
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->cfg = *cfg;
	if (cb)
		l->cb = *cb;
	l->probe_fd = -1;
	l->protocol = cfg->protocol == 4 ? MQTT_PROTOCOL_V311 : MQTT_PROTOCOL_V5;
	l->backoff_ms = cfg->reconnect_min_ms;
	l->next_attempt_us = bgw_mono_us();
	if (cfg->client_id[0])
		snprintf(l->client_id, sizeof(l->client_id), "%s", cfg->client_id);
	else
		snprintf(l->client_id, sizeof(l->client_id), "%.120s-%.120s", cfg->site,
			 cfg->gateway);
	if (strlen(will_topic) >= sizeof(l->will_topic)) {
		snprintf(err, errlen, "out of memory or topic too long");
		broker_link_free(l);
		return NULL;
	}
	snprintf(l->will_topic, sizeof(l->will_topic), "%s", will_topic);
	if (broker_client_read_password(cfg, l->password, sizeof(l->password), err, errlen)) {
		broker_link_free(l);
		return NULL;
	}
	return l;
}

void broker_link_free(struct broker_link *l)
{
	if (!l)
		return;
	if (l->probe_fd >= 0)
		close(l->probe_fd);
	if (l->mosq)
		mosquitto_destroy(l->mosq);
	explicit_bzero(l->password, sizeof(l->password));
	free(l);
}

int broker_link_fd(const struct broker_link *l)
{
	if (l->state == LINK_PROBING)
		return l->probe_fd;
	if (l->mosq)
		return mosquitto_socket(l->mosq);
	return -1;
}

unsigned broker_link_fd_epoch(const struct broker_link *l)
{
	return l->fd_epoch;
}

bool broker_link_wants_write(const struct broker_link *l)
{
	if (l->state == LINK_PROBING)
		return true;
	return l->mosq && mosquitto_want_write(l->mosq);
}

void broker_link_on_readable(struct broker_link *l)
{
	if (l->state == LINK_PROBING) {
		probe_result(l);
		return;
	}
	if (l->mosq)
		broker_link_check(l, mosquitto_loop_read(l->mosq, 64));
}

void broker_link_on_writable(struct broker_link *l)
{
	if (l->state == LINK_PROBING) {
		probe_result(l);
		return;
	}
	if (l->mosq)
		broker_link_check(l, mosquitto_loop_write(l->mosq, 64));
}

void broker_link_tick(struct broker_link *l)
{
	uint64_t now = bgw_mono_us();
	char b[272];

	switch (l->state) {
	case LINK_IDLE:
		if (!l->paused && now >= l->next_attempt_us)
			start_probe(l);
		break;
	case LINK_PROBING:
		probe_result(l);
		if (l->state == LINK_PROBING && now >= l->deadline_us)
			failed(l, BROKER_FAIL_UNREACHABLE,
			       "broker %s unreachable: no answer within %.1f s",
			       broker(l, b, sizeof(b)), l->cfg.connect_timeout_ms / 1000.0);
		break;
	case LINK_CONNECTING:
		broker_link_check(l, mosquitto_loop_misc(l->mosq));
		if (l->state == LINK_CONNECTING && now >= l->deadline_us)
			failed(l, BROKER_FAIL_TIMEOUT, "broker %s: no CONNACK within %.1f s%s%s",
			       broker(l, b, sizeof(b)), l->cfg.connect_timeout_ms / 1000.0,
			       l->cause_text[0] ? ": " : "", l->cause_text);
		break;
	case LINK_CONNECTED:
		broker_link_check(l, mosquitto_loop_misc(l->mosq));
		break;
	}
}

int broker_link_timeout_ms(const struct broker_link *l)
{
	uint64_t now = bgw_mono_us(), until;

	switch (l->state) {
	case LINK_IDLE:
		until = l->paused ? now + 1000000u : l->next_attempt_us;
		break;
	case LINK_CONNECTED:
		until = now + 1000000u;  /* keepalive bookkeeping */
		break;
	default:
		until = now + 100000u;
		break;
	}
	return until <= now ? 0 : (int)((until - now + 999) / 1000);
}

bool broker_link_connected(const struct broker_link *l)
{
	return l->state == LINK_CONNECTED;
}

bool broker_link_up(const struct broker_link *l)
{
	return l->state == LINK_CONNECTED && !l->teardown;
}

int broker_link_publish(struct broker_link *l, int *mid, const char *topic, const void *payload,
			size_t len, bool retain, uint32_t expiry_s)
{
	mosquitto_property *props;
	int rc;

	if (!l->mosq)
		return MOSQ_ERR_NO_CONN;
	props = broker_client_message_props(l->protocol, expiry_s);
	rc = mosquitto_publish_v5(l->mosq, mid, topic, (int)len, payload, 1, retain, props);
	mosquitto_property_free_all(&props);
	return rc;
}

void broker_link_pause(struct broker_link *l, bool paused)
{
	l->paused = paused;
}

void broker_link_subscribe(struct broker_link *l, const char *topic)
{
	if (l->mosq)
		mosquitto_subscribe_v5(l->mosq, NULL, topic, 1, 0, NULL);
}

void broker_link_abort(struct broker_link *l, enum broker_failure kind, const char *fmt, ...)
{
	va_list ap;

	l->cause = kind;
	va_start(ap, fmt);
	vsnprintf(l->cause_text, sizeof(l->cause_text), fmt, ap);
	va_end(ap);
	l->teardown = true;
}

int broker_link_poll(struct broker_link *l, int timeout_ms)
{
	struct pollfd pfd = { .fd = broker_link_fd(l), .events = POLLIN };
	int did_read = 0;

	if (!l->mosq || pfd.fd < 0)
		return -1;
	if (broker_link_wants_write(l))
		pfd.events |= POLLOUT;
	if (poll(&pfd, 1, timeout_ms) > 0) {
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			broker_link_on_readable(l);
			did_read = 1;
		}
		if (l->mosq && (pfd.revents & POLLOUT))
			broker_link_on_writable(l);
	}
	if (l->mosq)
		broker_link_check(l, mosquitto_loop_misc(l->mosq));
	return did_read;
}

void broker_link_close(struct broker_link *l)
{
	if (l->state == LINK_CONNECTED && l->mosq) {
		mosquitto_disconnect_v5(l->mosq, 0, NULL);
		mosquitto_loop_write(l->mosq, 1);
	}
	drop_session(l);
}

const char *broker_link_last_error(const struct broker_link *l)
{
	return l->last_error;
}

enum broker_failure broker_link_failure(const struct broker_link *l)
{
	return l->failure;
}

const struct broker_link_stats *broker_link_get_stats(const struct broker_link *l)
{
	return &l->st;
}
