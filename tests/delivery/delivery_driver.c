/*
 * delivery_driver.c - drives the delivery part alone, the way the daemon's
 * loop does, for the integration tests: a poll() loop that queues N triggers
 * at a steady rate and runs the publisher (and, with --consent-key, applies
 * signed consent updates).
 *
 * stdout, one line each (the tests read them):
 *   committed N        triggers 1..N are durably in the outbox
 *   done               every trigger was acknowledged by the broker
 *   stats {...}        final counters (JSON) at exit
 */
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "consent_update.h"
#include "delivery_config.h"
#include "outbox.h"
#include "publisher.h"
#include "store.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: delivery_driver --db FILE [--config FILE] [--count N] [--rate PER_S]\n"
		"       [--customer REF] [--until-done] [--seconds S]\n"
		"       [--set SECTION.KEY=VALUE]... [--aux LEAF=JSON]\n");
}

static void status_cb(void *ctx, struct gateway_counters *c)
{
	const uint64_t *queued = ctx;

	c->source = "driver";
	c->adapter = "none";
	c->triggers = *queued;
}

static int set_kv(struct delivery_config *cfg, const char *arg)
{
	char sec[64], err[300];
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');

	if (!dot || !eq || dot > eq || (size_t)(dot - arg) >= sizeof(sec)) {
		fprintf(stderr, "delivery_driver: --set SECTION.KEY=VALUE, got %s\n", arg);
		return -1;
	}
	memcpy(sec, arg, (size_t)(dot - arg));
	sec[dot - arg] = '\0';
	{
		char key[64];

		if ((size_t)(eq - dot - 1) >= sizeof(key))
			return -1;
		memcpy(key, dot + 1, (size_t)(eq - dot - 1));
		key[eq - dot - 1] = '\0';
		if (!strcmp(sec, "gateway")) {
			if (!strcmp(key, "site"))
				snprintf(cfg->site, sizeof(cfg->site), "%s", eq + 1);
			else if (!strcmp(key, "id"))
				snprintf(cfg->gateway, sizeof(cfg->gateway), "%s", eq + 1);
			return 0;
		}
		if (delivery_config_set(cfg, sec, key, eq + 1, err, sizeof(err)) != 1) {
			fprintf(stderr, "delivery_driver: %s.%s: %s\n", sec, key, err);
			return -1;
		}
	}
	return 0;
}

/* Good enough for a test line: no quotes or backslashes inside the string. */
static const char *json_safe(const char *s)
{
	static char buf[1100];
	size_t i;

	snprintf(buf, sizeof(buf), "%s", s);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '"' || buf[i] == '\\' || (unsigned char)buf[i] < 0x20)
			buf[i] = '\'';
	return buf;
}

static void trigger_payload(char *buf, size_t n, const char *id, const struct delivery_config *c,
			    const char *ref, uint64_t seq)
{
	struct timespec ts;
	struct tm tm;
	char t[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, n,
		 "{\"schema\":1,\"id\":\"%s\",\"ts\":\"%s.%03ldZ\",\"site\":\"%s\","
		 "\"gateway\":\"%s\","
		 "\"zone\":\"entrance\",\"event\":\"dwell\",\"customer_ref\":\"%s\","
		 "\"campaign\":\"driver\",\"campaign_id\":1,\"dwell_s\":%" PRIu64 ",\"rssi\":-60.5,"
		 "\"proximity_m\":1.25,\"policy\":\"v1\",\"channels\":[\"push\"]}",
		 id, t, ts.tv_nsec / 1000000, c->site, c->gateway, ref, seq);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "customer", required_argument, NULL, 'c' },
		{ "until-done", no_argument, NULL, 'u' },
		{ "seconds", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "aux", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct delivery_config cfg;
	const char *db_path = NULL, *ref = NULL, *aux = NULL;
	long count = 0;
	double rate = 50, seconds = 0;
	int until_done = 0, opt, rc = 1;
	char err[512], serr[STORE_ERRLEN], id[64], payload[1400];
	sqlite3 *db = NULL;
	struct outbox *ob = NULL;
	struct consent_update *cu = NULL;
	struct publisher *pub = NULL;
	uint64_t queued = 0, last_committed = 0, start, next_enqueue, run_tag;
	int64_t customer_id = 0;
	uint32_t tag;

	delivery_config_defaults(&cfg);
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': db_path = optarg; break;
		case 'n': count = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'c': ref = optarg; break;
		case 'u': until_done = 1; break;
		case 's': seconds = atof(optarg); break;
		case 'a': aux = optarg; break;
		case 'S':
			if (set_kv(&cfg, optarg))
				return 64;
			break;
		default: usage(); return 64;
		}
	}
	if (!db_path || rate <= 0) {
		usage();
		return 64;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (store_open(db_path, STORE_OPEN_CREATE, &db, serr) != STORE_OK) {
		fprintf(stderr, "delivery_driver: %s\n", serr);
		return 69;
	}
	if (ref && store_customer_id(db, ref, &customer_id, serr) != STORE_OK) {
		fprintf(stderr, "delivery_driver: customer %s: %s\n", ref, serr);
		goto out;
	}
	ob = outbox_open(db_path, &cfg, err);
	if (!ob) {
		fprintf(stderr, "delivery_driver: %s\n", err);
		goto out;
	}
	if (cfg.consent_pubkey[0]) {
		cu = consent_update_new(&cfg, db, err, sizeof(err));
		if (!cu) {
			fprintf(stderr, "delivery_driver: %s\n", err);
			rc = 78;
			goto out;
		}
	}
	pub = publisher_new(&cfg, ob, cu,
			    &(struct publisher_callbacks){ .ctx = &queued, .counters = status_cb },
			    err, sizeof(err));
	if (!pub) {
		fprintf(stderr, "delivery_driver: %s\n", err);
		rc = 78;
		goto out;
	}
	if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		tag = (uint32_t)getpid();
	run_tag = tag;
	printf("run %08" PRIx64 "\n", run_tag);
	start = publisher_now_us();
	next_enqueue = start;
	while (!stop) {
		uint64_t now = publisher_now_us();
		int timeout = publisher_timeout_ms(pub);
		struct pollfd pfd = { .fd = publisher_fd(pub), .events = POLLIN };
		const struct outbox_stats *os;

		if (seconds > 0 && now - start >= (uint64_t)(seconds * 1e6))
			break;
		while (queued < (uint64_t)count && now >= next_enqueue) {
			queued++;
			/* UUID-shaped, ordered by the last group: the test checks order. */
			snprintf(id, sizeof(id), "%08" PRIx64 "-0000-7000-8000-%012" PRIx64,
				 run_tag, queued);
			trigger_payload(payload, sizeof(payload), id, &cfg, ref ? ref : "C-driver",
					queued);
			outbox_enqueue(ob, id, publisher_trigger_topic(pub), payload, customer_id,
				       0);
			next_enqueue += (uint64_t)(1e6 / rate);
		}
		if (queued < (uint64_t)count) {
			int until = (int)((next_enqueue > now ? next_enqueue - now : 0) / 1000);

			if (until < timeout)
				timeout = until;
		}
		if (timeout > 200)
			timeout = 200;
		if (pfd.fd >= 0 && publisher_wants_write(pub))
			pfd.events |= POLLOUT;
		if (poll(pfd.fd >= 0 ? &pfd : NULL, pfd.fd >= 0 ? 1 : 0, timeout) > 0) {
			if (pfd.revents & (POLLIN | POLLERR | POLLHUP))
				publisher_on_readable(pub);
			if ((pfd.revents & POLLOUT) && publisher_fd(pub) == pfd.fd)
				publisher_on_writable(pub);
		}
		publisher_tick(pub);
		/* --aux LEAF=JSON: one message; footfall is durable (queued at
		 * once, connected or not), beacons only once connected. */
		if (aux) {
			char leaf[32];
			const char *eq = strchr(aux, '=');

			if (!eq || (size_t)(eq - aux) >= sizeof(leaf)) {
				aux = NULL;
			} else {
				memcpy(leaf, aux, (size_t)(eq - aux));
				leaf[eq - aux] = '\0';
				if (!strcmp(leaf, "footfall")) {
					publisher_publish_durable(pub, leaf, eq + 1);
					aux = NULL;
				} else if (publisher_connected(pub)) {
					publisher_publish_aux(pub, leaf, eq + 1);
					aux = NULL;
				}
			}
		}
		os = outbox_get_stats(ob);
		if (os->committed + os->dropped_gone != last_committed) {
			last_committed = os->committed + os->dropped_gone;
			printf("committed %" PRIu64 "\n", last_committed);
		}
		if (until_done && queued == (uint64_t)count && os->pending == 0 &&
		    os->depth == 0 && !outbox_dirty(ob)) {
			printf("done\n");
			break;
		}
	}
	publisher_stop(pub, 3000);
	{
		const struct outbox_stats *os = outbox_get_stats(ob);
		struct publisher_stats pstats;
		const struct publisher_stats *ps = &pstats;

		publisher_get_stats(pub, &pstats);

		printf("stats {\"queued\":%" PRIu64 ",\"committed\":%" PRIu64 ",\"sent\":%" PRIu64
		       ",\"dropped_full\":%" PRIu64 ",\"dropped_expired\":%" PRIu64
		       ",\"dropped_gone\":%" PRIu64 ",\"depth\":%" PRIu64 ",\"connects\":%" PRIu64
		       ",\"connect_failures\":%" PRIu64 ",\"commits\":%" PRIu64
		       ",\"commit_us_max\":%" PRIu64 ",\"commit_us_total\":%" PRIu64
		       ",\"consent_applied\":%" PRIu64 ",\"consent_rejected\":%" PRIu64
		       ",\"aux_queued\":%" PRIu64 ",\"aux_sent\":%" PRIu64
		       ",\"last_error\":\"%s\"}\n",
		       os->queued, os->committed, os->sent, os->dropped_full, os->dropped_expired,
		       os->dropped_gone, os->depth, ps->connects, ps->connect_failures, os->commits,
		       os->commit_us_max, os->commit_us_total,
		       cu ? consent_update_get_stats(cu)->applied : 0,
		       cu ? consent_update_get_stats(cu)->rejected : 0,
		       os->aux_queued, os->aux_sent,
		       json_safe(publisher_last_error(pub)));
	}
	rc = 0;
out:
	publisher_free(pub);
	consent_update_free(cu);
	outbox_close(ob);
	store_close(db);
	return rc;
}
