/*
 * metrics.c - the Prometheus text for node_exporter's textfile collector
 * (why a file and not an endpoint: see metrics.h).
 */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beacon_fleet.h"
#include "bgw_util.h"
#include "config.h"
#include "gateway_counts.h"
#include "ops_stats.h"
#include "log.h"
#include "loop.h"

/* Every metric, HELP and TYPE included, fits comfortably. */
#define METRICS_TEXT_MAX 8192

struct out {
	char *buf;
	size_t cap, len;    /* len may pass cap: the length needed */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label_value(struct out *o, const char *v)
{
	put(o, "\"");
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			put(o, "\\%c", *v);
		else if (*v == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *v);
	}
	put(o, "\"");
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric(struct out *o, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	head(o, name, type, help);
	put(o, "%s %llu\n", name, (unsigned long long)v);
}

/* 1 with the kind of failure as its label (limit, out of memory, unknown
 * schema, ...) while the consent state cannot be loaded; 0 otherwise. */
static void consent_state(struct out *o, const struct metrics_sample *s)
{
	char kind[32];
	const char *k = s->consent_failed_kind ? s->consent_failed_kind : "";
	size_t n = strcspn(k, ":");

	head(o, "beacongw_consent_failed", "gauge",
	     "1 while the consent state cannot be loaded: nobody's visits or triggers are "
	     "processed (the label says why); 0 otherwise.");
	if (!s->consent_failed) {
		put(o, "beacongw_consent_failed 0\n");
		return;
	}
	snprintf(kind, sizeof(kind), "%.*s", (int)(n < sizeof(kind) ? n : sizeof(kind) - 1), k);
	put(o, "beacongw_consent_failed{reason=");
	put_label_value(o, kind);
	put(o, "} 1\n");
}

/* A metric family whose samples may be none: HELP and TYPE go out with the
 * first sample (a family without samples is not valid exposition text). */
struct family {
	const char *name, *type, *help;
	bool said;
};

static void family_sample(struct out *o, struct family *f)
{
	if (!f->said)
		head(o, f->name, f->type, f->help);
	f->said = true;
}

/* The zone's footfall, triggers per campaign, enrolment and consent. */
static void operators(struct out *o, const struct metrics_sample *s)
{
	const struct ops_stats *ops = s->ops;

	if (!ops)
		return;
	if (ops->footfall_have) {
		head(o, "beacongw_footfall_devices", "gauge",
		     "Distinct anonymous devices in the zone in the last published footfall "
		     "period (periods under [footfall] min_count are withheld, here too).");
		put(o, "beacongw_footfall_devices{zone=");
		put_label_value(o, s->zone);
		put(o, "} %llu\n", (unsigned long long)ops->footfall_count);
	}
	head(o, "beacongw_footfall_periods_total", "counter", "Footfall periods published.");
	put(o, "beacongw_footfall_periods_total{zone=");
	put_label_value(o, s->zone);
	put(o, "} %llu\n", (unsigned long long)ops->footfall_periods);
	struct family camp = { "beacongw_campaign_triggers_total", "counter",
			       "Triggers queued per campaign since the daemon started (campaign "
			       "\"_other\": beyond the first 64 campaigns).", false };

	for (size_t i = 0; i < ops->n_campaigns; i++) {
		family_sample(o, &camp);
		put(o, "beacongw_campaign_triggers_total{campaign=");
		put_label_value(o, ops->campaign[i].name);
		put(o, "} %llu\n", (unsigned long long)ops->campaign[i].triggers);
	}
	if (ops->triggers_other) {
		family_sample(o, &camp);
		put(o, "beacongw_campaign_triggers_total{campaign=\"_other\"} %llu\n",
		    (unsigned long long)ops->triggers_other);
	}
	if (!ops->have_snapshot)
		return;
	metric(o, "beacongw_customers_enrolled", "gauge", "Customers in the consent store.",
	       ops->customers);
	head(o, "beacongw_customers_consented", "gauge",
	     "Customers whose consent for the purpose is in force now (retargeting: presence "
	     "and retargeting both).");
	put(o, "beacongw_customers_consented{purpose=\"presence\"} %llu\n",
	    (unsigned long long)ops->presence);
	put(o, "beacongw_customers_consented{purpose=\"retargeting\"} %llu\n",
	    (unsigned long long)ops->retargeting);
}

static void beacon_labels(struct out *o, const char *metric, const struct beacon_fleet_entry *e)
{
	put(o, "%s{name=", metric);
	put_label_value(o, e->name);
	put(o, ",place=");
	put_label_value(o, e->place);
	put(o, ",type=");
	put_label_value(o, e->type);
	put(o, "}");
}

/* The store's registered beacons: one series per beacon and reading. */
static void fleet(struct out *o, const struct metrics_sample *s)
{
	static const enum beacon_fleet_status st[] = { BEACON_OK, BEACON_LOW_BATTERY,
						       BEACON_MISSING, BEACON_UNSEEN };
	size_t n = s->fleet ? beacon_fleet_count(s->fleet) : 0;
	struct beacon_fleet_entry e;

	if (!s->fleet)
		return;
	head(o, "beacongw_store_beacons", "gauge",
	     "Registered store beacons (beaconctl beacon add) by status.");
	for (size_t k = 0; k < BGW_ARRAY_SIZE(st); k++) {
		uint64_t c = 0;

		for (size_t i = 0; i < n; i++) {
			beacon_fleet_get(s->fleet, i, &e);
			c += e.status == st[k];
		}
		put(o, "beacongw_store_beacons{status=\"%s\"} %llu\n",
		    beacon_fleet_status_name(st[k]), (unsigned long long)c);
	}
	struct family f_up = { "beacongw_store_beacon_up", "gauge",
	     "1 while the registered beacon is heard (status ok or low_battery), 0 when "
	     "missing; no series before it was first heard or missed.", false };
	for (size_t i = 0; i < n; i++) {
		beacon_fleet_get(s->fleet, i, &e);
		if (e.status == BEACON_UNSEEN)
			continue;
		family_sample(o, &f_up);
		beacon_labels(o, "beacongw_store_beacon_up", &e);
		put(o, " %d\n", e.status != BEACON_MISSING);
	}
	struct family f_low_battery = { "beacongw_store_beacon_low_battery", "gauge",
	     "1 while the beacon's last Eddystone-TLM battery reading is under "
	     "[beacons] low_battery_mv.", false };
	for (size_t i = 0; i < n; i++) {
		beacon_fleet_get(s->fleet, i, &e);
		if (e.status == BEACON_UNSEEN)
			continue;
		family_sample(o, &f_low_battery);
		beacon_labels(o, "beacongw_store_beacon_low_battery", &e);
		put(o, " %d\n", e.status == BEACON_LOW_BATTERY);
	}
	struct family f_battery_millivolts = { "beacongw_store_beacon_battery_millivolts", "gauge",
	     "Battery voltage from the beacon's last Eddystone-TLM frame.", false };
	for (size_t i = 0; i < n; i++) {
		beacon_fleet_get(s->fleet, i, &e);
		if (e.battery_mv < 0)
			continue;
		family_sample(o, &f_battery_millivolts);
		beacon_labels(o, "beacongw_store_beacon_battery_millivolts", &e);
		put(o, " %d\n", e.battery_mv);
	}
	struct family f_temperature_celsius = { "beacongw_store_beacon_temperature_celsius", "gauge",
	     "Temperature from the beacon's last Eddystone-TLM frame.", false };
	for (size_t i = 0; i < n; i++) {
		beacon_fleet_get(s->fleet, i, &e);
		if (isnan(e.temperature_c))
			continue;
		family_sample(o, &f_temperature_celsius);
		beacon_labels(o, "beacongw_store_beacon_temperature_celsius", &e);
		put(o, " %.2f\n", e.temperature_c);
	}
	struct family f_last_seen_seconds = { "beacongw_store_beacon_last_seen_seconds", "gauge",
	     "Time the beacon was last heard (Unix seconds; a replay: the capture's clock).", false };
	for (size_t i = 0; i < n; i++) {
		beacon_fleet_get(s->fleet, i, &e);
		if (!e.last_seen_us)
			continue;
		family_sample(o, &f_last_seen_seconds);
		beacon_labels(o, "beacongw_store_beacon_last_seen_seconds", &e);
		put(o, " %llu\n", (unsigned long long)(e.last_seen_us / 1000000u));
	}
}

#define COUNTER(name, help, v) metric(o, "beacongw_" name "_total", "counter", help, v)
#define GAUGE(name, help, v) metric(o, "beacongw_" name, "gauge", help, v)

/* The counters of one group of the table shared with the status document
 * (gateway_counts.h), in its order. */
static void counts_group(struct out *o, const struct metrics_sample *s,
			 enum gateway_count_group group)
{
	for (size_t i = 0; i < gateway_counts_n; i++) {
		const struct gateway_count *g = &gateway_counts[i];

		if (g->group == group)
			metric(o, g->metric, g->type == GATEWAY_COUNT_COUNTER ? "counter" : "gauge",
			       g->help, gateway_count_value(g, &s->counts));
	}
}

/* Several gateways of one site (docs/site.md): only with [site] enabled. */
static void site(struct out *o, const struct metrics_sample *s)
{
	const struct site_counters *c = &s->counts.site_counts;

	if (!s->counts.site)
		return;
	GAUGE("site_peers_alive", "Gateways of the site heard within [site] peer_timeout_s.",
	      c->peers_alive);
	GAUGE("site_split", "1 while a peer is silent or the broker is away (caps tighten).",
	      c->split);
	COUNTER("site_summaries_sent", "Presence summaries published for the peers.",
		c->summaries_sent);
	COUNTER("site_summaries_received", "Peers' presence summaries taken.",
		c->summaries_received);
	COUNTER("site_summaries_rejected",
		"Peers' presence summaries dropped: did not parse, or a peer beyond the bound.",
		c->summaries_rejected);
	COUNTER("site_entries_rejected", "Customer entries of peers' summaries that did not parse.",
		c->entries_rejected);
	COUNTER("site_entries_ignored",
		"Entries of peers' summaries about customers unknown or without presence consent here.",
		c->entries_ignored);
	COUNTER("site_claims", "Shoppers this gateway took.", c->claims);
	COUNTER("site_releases", "Shoppers this gateway let go.", c->releases);
	COUNTER("site_handovers", "Shoppers taken from a holder this gateway beat.",
		c->handovers);
	COUNTER("site_handed_over", "Shoppers let go to a peer that beat this gateway.",
		c->handed_over);
	COUNTER("site_takeovers", "Shoppers taken after their holder went silent or let go.",
		c->takeovers);
	COUNTER("site_conflicts", "Shoppers let go because a peer claimed them at the same time.",
		c->conflicts);
	COUNTER("site_peer_triggers_applied", "Peers' triggers counted toward caps and cooldowns.",
		c->peer_triggers_applied);
	COUNTER("site_peer_triggers_duplicate",
		"Peers' triggers received again (at-least-once delivery), counted once.",
		c->peer_triggers_duplicate);
	COUNTER("site_peer_triggers_rejected", "Peers' triggers that did not parse (not counted).",
		c->peer_triggers_rejected);
}

size_t metrics_format(const struct metrics_sample *s, char *buf, size_t n)
{
	struct out out = { .buf = buf, .cap = n }, *o = &out;

	if (n)
		buf[0] = '\0';
	head(o, "beacongw_build_info", "gauge", "Always 1; the label is the beacongw version.");
	put(o, "beacongw_build_info{version=");
	put_label_value(o, s->version);
	put(o, "} 1\n");
	head(o, "beacongw_gateway_info", "gauge",
	     "Always 1; the labels are this gateway's [gateway] site, id and zone.");
	put(o, "beacongw_gateway_info{site=");
	put_label_value(o, s->site);
	put(o, ",gateway=");
	put_label_value(o, s->gateway);
	put(o, ",zone=");
	put_label_value(o, s->zone);
	put(o, "} 1\n");
	GAUGE("up", "1 while the daemon runs; 0 in the file left by a graceful stop.",
	      s->running);
	GAUGE("uptime_seconds", "Seconds since the daemon started.", s->uptime_s);
	GAUGE("start_time_seconds", "Unix time when the daemon started.", s->start_time_s);

	COUNTER("hci_events", "HCI events parsed from the source.", s->hci_events);
	COUNTER("hci_events_malformed", "HCI events that disagree with the specification.",
		s->hci_malformed);
	COUNTER("h4_garbage_bytes",
		"Bytes of the H4 stream skipped to find packets again (line noise, restarts).",
		s->h4_garbage_bytes);
	COUNTER("controller_errors",
		"Controller problems: rejected commands, timeouts, hardware errors.",
		s->controller_errors);
	head(o, "beacongw_watchdog_steps_total", "counter",
	     "Scanner watchdog steps taken, by action (a third step exits the daemon).");
	put(o, "beacongw_watchdog_steps_total{action=\"rescan\"} %llu\n",
	    (unsigned long long)s->watchdog_rescans);
	put(o, "beacongw_watchdog_steps_total{action=\"reset\"} %llu\n",
	    (unsigned long long)s->watchdog_resets);

	/* The groups shared with the status document each where their metrics
	 * always were; the ones between them are published here alone. */
	counts_group(o, s, GATEWAY_COUNTS_REPORTS);
	COUNTER("visits_entered", "Visits started (consented customers).",
		s->counts.visits_entered);
	COUNTER("visits_exited", "Visits ended.", s->counts.visits_exited);
	COUNTER("dwell_events", "Dwell marks reached during visits.", s->counts.dwell_events);
	GAUGE("tracked_devices", "Consented devices tracked now.", s->counts.tracked_devices);
	counts_group(o, s, GATEWAY_COUNTS_IRK);

	counts_group(o, s, GATEWAY_COUNTS_TRIGGERS);
	counts_group(o, s, GATEWAY_COUNTS_DELIVERY);
	counts_group(o, s, GATEWAY_COUNTS_VISITS_DROPPED);
	counts_group(o, s, GATEWAY_COUNTS_OUTBOX);
	counts_group(o, s, GATEWAY_COUNTS_BROKER);
	GAUGE("mqtt_connected", "1 while connected to the broker.", s->counts.connected);
	GAUGE("triggers_held_for_consent",
	      "1 while connected but holding triggers until queued consent updates are applied.",
	      s->triggers_held);
	counts_group(o, s, GATEWAY_COUNTS_SYNC);
	GAUGE("last_error", "1 while the MQTT status document carries a last_error.",
	      s->last_error);
	consent_state(o, s);
	operators(o, s);
	fleet(o, s);
	site(o, s);
	COUNTER("consent_load_failures",
		"Consent state loads that failed (the daemon acts on nobody until one succeeds).",
		s->consent_load_failures);
	return out.len;
}

int metrics_write_file(const char *path, const char *text, size_t len, char *err,
		       size_t errlen)
{
	char tmp[CONFIG_PATH_MAX + 16];
	size_t done = 0;
	int fd;

	/* The suffix is not ".prom": the collector ignores the file until renamed. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a temporary file: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) < 0)
		goto fail;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		done += (size_t)w;
	}
	/* No fsync: a metrics file lost in a power cut is rewritten within
	 * interval_s, and an SD card is spared a sync every few seconds. */
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* ---- the periodic writer ---- */

struct metrics {
	struct loop *loop;
	char path[CONFIG_PATH_MAX];
	int timer;
	metrics_fill_cb fill;
	void *ctx;
	bool failing;            /* the last write failed (log the recovery) */
	char *text;              /* grows with the number of campaigns and beacons */
	size_t text_cap;
};

static void write_now(struct metrics *m, bool running)
{
	struct metrics_sample s;
	char err[CONFIG_PATH_MAX + 128];
	size_t len;

	memset(&s, 0, sizeof(s));
	m->fill(m->ctx, &s);
	s.running = running;
	len = metrics_format(&s, m->text, m->text_cap);
	if (len >= m->text_cap) {
		/* More campaigns or beacons than before: a bigger buffer, once. */
		char *t = realloc(m->text, len + METRICS_TEXT_MAX);

		if (!t) {
			log_limited(LOG_PRIO_ERR, "metrics size", "metrics: out of memory (%zu bytes)",
				    len);
			return;
		}
		m->text = t;
		m->text_cap = len + METRICS_TEXT_MAX;
		len = metrics_format(&s, m->text, m->text_cap);
	}
	if (metrics_write_file(m->path, m->text, len, err, sizeof(err)) < 0) {
		log_limited(LOG_PRIO_WARNING, "metrics write", "metrics: %s", err);
		m->failing = true;
		return;
	}
	if (m->failing)
		log_notice("metrics: %s written again", m->path);
	m->failing = false;
}

static void on_timer(struct loop *l, int id, void *ctx)
{
	(void)l;
	(void)id;
	write_now(ctx, true);
}

struct metrics *metrics_new(struct loop *l, const char *path, uint32_t interval_s,
			    metrics_fill_cb fill, void *ctx)
{
	struct metrics *m;

	if (!path || !*path)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		log_err("metrics: out of memory");
		return NULL;
	}
	m->loop = l;
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->fill = fill;
	m->ctx = ctx;
	if (interval_s == 0)
		interval_s = 1;
	m->timer = loop_timer_add(l, (uint64_t)interval_s * 1000u, (uint64_t)interval_s * 1000u,
				  on_timer, m);
	if (m->timer < 0)
		log_err("metrics: no timer left; only the first and last files are written");
	log_info("metrics: writing %s every %u s", m->path, interval_s);
	write_now(m, true);
	return m;
}

void metrics_final(struct metrics *m)
{
	if (!m)
		return;
	if (m->timer >= 0)
		loop_timer_del(m->loop, m->timer);
	m->timer = -1;
	write_now(m, false);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->timer >= 0)
		loop_timer_del(m->loop, m->timer);
	free(m->text);
	free(m);
}
