/*
 * latency_bench.c - advertisement-to-subscriber latency of a live gateway.
 *
 * Plays the gateway's Bluetooth controller (H4 on a unix socket, answered
 * by the same controller logic as beaconsim) and, at the same time, an MQTT
 * subscriber of the gateway's trigger topic. For trigger i it sends one
 * advertising report of enrolled customer L<i> (a fresh iBeacon, so with
 * enter_confirmations = 1 and an enter campaign without cooldown every
 * such report is one trigger), stamping CLOCK_REALTIME just before the
 * bytes are written to the socket. The subscriber stamps each trigger as
 * libmosquitto hands it over. Latency = arrival - send, in microseconds:
 * H4 framing, HCI parsing, the whole pipeline, the SQLite outbox commit,
 * the MQTT publish, the broker and the subscriber's network stack. Only the
 * radio itself is left out. Between triggers it sends `background` reports
 * of unrelated phones (random addresses, anonymous footfall) as load.
 *
 * The trigger's own "ts" field (the gateway's receive time, ms resolution)
 * gives a second, coarser figure: arrival - ts, which leaves out the
 * controller-to-gateway hop and rounds ts down to the millisecond.
 *
 *   latency_bench --listen PATH --port BROKER_PORT --topic TOPIC --status-topic TOPIC
 *                 [--triggers N] [--rate PER_S] [--background N] [--wait S]
 *
 * Prints "key=value" lines for bench/run. Figures only; asserts nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "beacon_frame.h"
#include "bgw_clock.h"
#include "h4.h"
#include "sim_ctrl.h"

#define MAX_TRIGGERS 1000000
static const uint8_t bench_uuid[16] = { 0xbe, 0x4c, 0x4a, 0x7e, 0x00, 0x01, 0x40, 0x00,
					0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };

struct bench {
	unsigned n;
	_Atomic uint64_t *sent_us;     /* per trigger; 0 = not sent yet */
	int64_t *lat_us, *ts_lat_us;   /* per trigger; -1 = not received */
	_Atomic unsigned received, duplicates, unknown;
	_Atomic int subscribed, gateway_online;
	const char *topic, *status_topic;
	int fd;
	bool write_failed;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "2026-11-22T21:05:45.123Z" -> µs since the epoch, 0 if malformed. */
static uint64_t parse_ts(const char *s)
{
	struct tm tm = { 0 };
	unsigned ms = 0;
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!end || sscanf(end, ".%3uZ", &ms) != 1)
		return 0;
	return (uint64_t)timegm(&tm) * 1000000u + ms * 1000u;
}

static void on_message(struct mosquitto *m, void *ctx, const struct mosquitto_message *msg)
{
	struct bench *b = ctx;
	uint64_t now = bgw_wall_us();
	cJSON *o = cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen);
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(o, "customer_ref");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
	unsigned i;

	(void)m;
	if (strcmp(msg->topic, b->status_topic) == 0) {
		/* The gateway's retained status: online once its broker session is up. */
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "online")))
			b->gateway_online = 1;
	} else if (!cJSON_IsString(ref) || sscanf(ref->valuestring, "L%u", &i) != 1 || i >= b->n ||
	    !atomic_load(&b->sent_us[i])) {
		b->unknown++;
	} else if (b->lat_us[i] >= 0) {
		b->duplicates++; /* at-least-once delivery: the id tells them apart */
	} else {
		b->lat_us[i] = (int64_t)(now - atomic_load(&b->sent_us[i]));
		if (cJSON_IsString(ts) && parse_ts(ts->valuestring))
			b->ts_lat_us[i] = (int64_t)(now - parse_ts(ts->valuestring));
		b->received++;
	}
	cJSON_Delete(o);
}

static void on_connect(struct mosquitto *m, void *ctx, int rc)
{
	struct bench *b = ctx;

	if (rc == 0) {
		mosquitto_subscribe(m, NULL, b->status_topic, 1);
		mosquitto_subscribe(m, NULL, b->topic, 1);
	}
}

static void on_subscribe(struct mosquitto *m, void *ctx, int mid, int n, const int *qos)
{
	struct bench *b = ctx;

	(void)m;
	(void)mid;
	(void)n;
	(void)qos;
	b->subscribed = 1;
}

/* The controller's output: blocking writes, like a UART that never drops. */
static void emit(void *ctx, const uint8_t *h4, size_t len)
{
	struct bench *b = ctx;

	while (len && !b->write_failed) {
		ssize_t n = send(b->fd, h4, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->write_failed = true;
			return;
		}
		h4 += n;
		len -= (size_t)n;
	}
}

struct host_in {
	struct sim_ctrl *ctrl;
};

static void on_h4(void *ctx, uint8_t type, const uint8_t *pkt, size_t len)
{
	struct host_in *h = ctx;

	if (type == H4_CMD)
		sim_ctrl_command(h->ctrl, pkt, len);
}

/* Answer whatever the gateway sent; wait up to timeout_ms for it. -1 when
 * the gateway went away. */
static int service(int fd, struct h4_decoder *dec, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[4096];

	while (poll(&p, 1, timeout_ms) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		h4_decoder_feed(dec, buf, (size_t)n);
		timeout_ms = 0;
	}
	return 0;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void trigger_adv(struct sim_adv *a, unsigned i)
{
	struct bf_frame f = { .type = BF_IBEACON };

	memset(a, 0, sizeof(*a));
	memcpy(f.u.ibeacon.uuid, bench_uuid, 16);
	f.u.ibeacon.major = (uint16_t)(1 + i / 65535);
	f.u.ibeacon.minor = (uint16_t)(1 + i % 65535);
	f.u.ibeacon.measured_power = -59;
	a->len = (uint16_t)bf_encode(&f, a->data, sizeof(a->data));
	a->addr_type = 1; /* random static */
	memcpy(a->addr, &i, 4);
	a->addr[4] = 0x42;
	a->addr[5] = 0xc0;
	a->rssi = -50;
	a->legacy = true;
	a->kind = ADV_KIND_NONCONN_IND;
}

/* An unrelated phone: Apple Nearby Info from a fresh non-resolvable address. */
static void background_adv(struct sim_adv *a)
{
	static const uint8_t apple[] = { 0x02, 0x01, 0x1a, 0x0a, 0xff, 0x4c, 0x00,
					 0x10, 0x05, 0x01, 0x18, 0x44, 0x00, 0x00 };
	uint64_t x = rnd();

	memset(a, 0, sizeof(*a));
	memcpy(a->data, apple, sizeof(apple));
	a->len = sizeof(apple);
	memcpy(a->addr, &x, 6);
	a->addr[5] &= 0x3f;
	a->addr_type = 1;
	a->rssi = (int8_t)(-60 - (int)(x >> 56) % 30);
	a->legacy = true;
	a->kind = ADV_KIND_IND;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void print_percentiles(const char *prefix, int64_t *v, unsigned n)
{
	unsigned k = 0;
	double sum = 0;

	for (unsigned i = 0; i < n; i++)
		if (v[i] >= 0)
			v[k++] = v[i];
	if (!k) {
		printf("%s_n=0\n", prefix);
		return;
	}
	qsort(v, k, sizeof(*v), cmp_i64);
	for (unsigned i = 0; i < k; i++)
		sum += (double)v[i];
	printf("%s_n=%u %s_p50_us=%lld %s_p99_us=%lld %s_max_us=%lld %s_mean_us=%.0f\n", prefix,
	       k, prefix, (long long)v[k / 2], prefix, (long long)v[(size_t)k * 99 / 100], prefix,
	       (long long)v[k - 1], prefix, sum / k);
}

static void usage(void)
{
	fprintf(stderr, "usage: latency_bench --listen PATH --port BROKER_PORT --topic TOPIC "
			"--status-topic TOPIC "
			"[--triggers N] [--rate PER_S] [--background N] [--wait S]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "topic", required_argument, NULL, 't' },
		{ "triggers", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "background", required_argument, NULL, 'b' },
		{ "wait", required_argument, NULL, 'w' },
		{ "status-topic", required_argument, NULL, 's' },
		{ 0 },
	};
	static struct h4_decoder dec;
	struct bench b = { .fd = -1 };
	const char *path = NULL;
	int port = 0, c, lfd;
	double rate = 500, wait_s = 10;
	unsigned background = 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sim_ctrl ctrl;
	struct host_in hin = { &ctrl };
	struct mosquitto *m;
	static const uint8_t bdaddr[6] = { 1, 2, 3, 4, 5, 6 };
	uint64_t t_next, t_end, t_first = 0, t_last = 0;
	struct sim_adv adv;

	b.n = 10000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': path = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 't': b.topic = optarg; break;
		case 'n': b.n = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'b': background = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': wait_s = strtod(optarg, NULL); break;
		case 's': b.status_topic = optarg; break;
		default: usage();
		}
	}
	if (!path || !b.topic || !b.status_topic || port <= 0 || !b.n || b.n > MAX_TRIGGERS || rate <= 0 ||
	    strlen(path) >= sizeof(sa.sun_path))
		usage();
	b.sent_us = calloc(b.n, sizeof(*b.sent_us));
	b.lat_us = malloc(b.n * sizeof(*b.lat_us));
	b.ts_lat_us = malloc(b.n * sizeof(*b.ts_lat_us));
	if (!b.sent_us || !b.lat_us || !b.ts_lat_us)
		return 1;
	memset(b.lat_us, 0xff, b.n * sizeof(*b.lat_us));
	memset(b.ts_lat_us, 0xff, b.n * sizeof(*b.ts_lat_us));

	/* Subscriber first, so no trigger can be missed. */
	mosquitto_lib_init();
	m = mosquitto_new("beacongw-latency-bench", true, &b);
	if (!m)
		return 1;
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_message_callback_set(m, on_message);
	if (mosquitto_connect(m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
	    mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "latency_bench: cannot reach the broker on port %d\n", port);
		return 69;
	}
	for (int i = 0; i < 500 && !b.subscribed; i++)
		usleep(10000);
	if (!b.subscribed) {
		fprintf(stderr, "latency_bench: subscription not acknowledged\n");
		return 69;
	}

	/* Then the controller's socket; the gateway connects to it. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		fprintf(stderr, "latency_bench: cannot listen on %s: %s\n", path, strerror(errno));
		return 69;
	}
	printf("listening=%s\n", path);
	fflush(stdout);
	b.fd = accept(lfd, NULL, NULL);
	if (b.fd < 0)
		return 69;
	sim_ctrl_init(&ctrl, false, bdaddr, emit, &b);
	h4_decoder_init(&dec, on_h4, &hin);

	/* Set-up: answer commands until the gateway scans with reports unmasked
	 * and has published its status "online" (its broker session is up:
	 * triggers queued before that would measure the connection set-up). */
	for (;;) {
		if (service(b.fd, &dec, 100) < 0 || b.write_failed) {
			fprintf(stderr, "latency_bench: the gateway went away during set-up\n");
			return 69;
		}
		background_adv(&adv);
		if (b.gateway_online && ctrl.scan != SIM_SCAN_OFF && sim_ctrl_report(&ctrl, &adv))
			break;
	}

	/* Open loop at a fixed rate: a slow gateway does not slow the sender. */
	t_next = mono_ns();
	for (unsigned i = 0; i < b.n; i++) {
		uint64_t now;

		for (;;) {
			now = mono_ns();
			if (now >= t_next)
				break;
			if (service(b.fd, &dec, (int)((t_next - now) / 1000000u)) < 0)
				goto gone;
			if (t_next - mono_ns() < 1000000u) {
				struct timespec d = { 0, (long)(t_next - mono_ns()) };

				if (mono_ns() < t_next)
					nanosleep(&d, NULL);
			}
		}
		for (unsigned k = 0; k < background; k++) {
			background_adv(&adv);
			sim_ctrl_report(&ctrl, &adv);
		}
		trigger_adv(&adv, i);
		atomic_store(&b.sent_us[i], bgw_wall_us());
		sim_ctrl_report(&ctrl, &adv);
		if (b.write_failed)
			goto gone;
		if (!t_first)
			t_first = now;
		t_last = now;
		t_next += (uint64_t)(1e9 / rate);
	}
	t_end = mono_ns() + (uint64_t)(wait_s * 1e9);
	while (b.received < b.n && mono_ns() < t_end)
		if (service(b.fd, &dec, 10) < 0)
			break;
gone:
	mosquitto_disconnect(m);
	mosquitto_loop_stop(m, false);
	printf("triggers_sent=%u received=%u duplicates=%u unknown=%u background_per_trigger=%u "
	       "rate_per_s=%.1f\n",
	       b.n, (unsigned)b.received, (unsigned)b.duplicates, (unsigned)b.unknown, background,
	       t_last > t_first ? (b.n - 1) * 1e9 / (double)(t_last - t_first) : 0.0);
	print_percentiles("send_to_sub", b.lat_us, b.n);
	print_percentiles("ts_to_sub", b.ts_lat_us, b.n);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	close(b.fd);
	close(lfd);
	unlink(path);
	free(b.sent_us);
	free(b.lat_us);
	free(b.ts_lat_us);
	return b.received ? 0 : 1;
}
