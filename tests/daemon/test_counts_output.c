/*
 * test_counts_output.c - the counters as users read them, byte for byte:
 * the status document (from "uptime_s" on: its counts object and the
 * fields around it, in their order) and the whole metrics text, for one
 * reading where every counter has a value of its own. Status keys and
 * metric names are contract, and so is what a user sees of their order;
 * the expected texts in data/ were taken from the code before the
 * counters came from one table. On a mismatch the text produced is left
 * next to the test as counts_*.actual.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "delivery_config.h"
#include "gateway_counts.h"
#include "metrics.h"
#include "status.h"

#ifndef COUNTS_DATA_DIR
#error "COUNTS_DATA_DIR: the directory of the expected texts"
#endif

/* Every field its own value (none a multiple of another's order), so a
 * counter read from the wrong field shows. */
static void fill(struct gateway_counters *c, bool site)
{
	memset(c, 0, sizeof(*c));
	c->source = "hci:hci0";
	c->adapter = "scanning";
	c->reports = 100001;
	c->decoded = 100002;
	c->consented = 100003;
	c->triggers = 100004;
	c->visits_entered = 100005;
	c->visits_exited = 100006;
	c->dwell_events = 100007;
	c->tracked_devices = 100008;
	c->store_namespace_ids = 100009;
	c->before_consent = 100010;
	c->irk_lookups = 100011;
	c->irk_cache_hits = 100012;
	c->irk_resolved = 100013;
	c->irk_worker_searches = 100014;
	c->irk_parked = 100015;
	c->irk_inline_searches = 100016;
	c->irk_cache_capacity = 100017;
	c->triggers_queued = 100018;
	c->triggers_sent = 100019;
	c->triggers_dropped = 100020;
	c->triggers_dropped_consent = 100021;
	c->outbox_depth = 100022;
	c->visits_dropped_consent = 100023;
	c->consent_state = "ok";
	c->consent_applied = 100024;
	c->consent_rejected = 100025;
	c->authority = true;
	c->consent_seq = 100026;
	c->consent_current = true;
	c->consent_age_s = 100027;
	c->reconnects = 100028;
	c->consent_sync = "synced";
	c->consent_sync_timeouts = 100029;
	c->site = site;
	c->site_counts = (struct site_counters){
		.peers_alive = 3, .split = true, .summaries_sent = 200001,
		.summaries_received = 200002, .summaries_rejected = 200003,
		.entries_rejected = 200004, .entries_ignored = 200005, .claims = 200006,
		.releases = 200007, .handovers = 200008, .handed_over = 200009,
		.takeovers = 200010, .conflicts = 200011, .peer_triggers_applied = 200012,
		.peer_triggers_duplicate = 200013, .peer_triggers_rejected = 200014,
	};
	c->protocol = 5;
	c->connected = true;
	c->last_error = "broker: connection refused";
}

/* What the daemon's run_metrics() and fill_metrics() make of it. */
static void to_sample(const struct gateway_counters *c, struct metrics_sample *m)
{
	memset(m, 0, sizeof(*m));
	m->version = "1.2.3";
	m->site = "store1";
	m->gateway = "gw1";
	m->zone = "entrance";
	m->running = true;
	m->uptime_s = 300001;
	m->start_time_s = 300002;
	m->hci_events = 300003;
	m->hci_malformed = 300004;
	m->h4_garbage_bytes = 300005;
	m->controller_errors = 300006;
	m->watchdog_rescans = 300007;
	m->watchdog_resets = 300008;
	m->counts = *c;
	m->triggers_held = c->consent_sync && strcmp(c->consent_sync, "synced") != 0;
	m->last_error = c->last_error != NULL;
	m->consent_load_failures = 300009;
}

static char *slurp(const char *name)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", COUNTS_DATA_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void expect_text(const char *name, const char *got)
{
	char *want = slurp(name);
	char actual[128];

	if (strcmp(want, got) != 0) {
		FILE *f;

		snprintf(actual, sizeof(actual), "%s.actual", name);
		f = fopen(actual, "wb");
		if (f) {
			fputs(got, f);
			fclose(f);
		}
		print_error("%s differs from what was produced (left in %s)\n", name, actual);
	}
	assert_string_equal(got, want);
	free(want);
}

/* The status document from "uptime_s" on: its "ts" is the wall clock. */
static void check_status(bool site, const char *name)
{
	struct delivery_config cfg;
	struct gateway_counters c;
	char *doc, *from, *text;
	size_t n;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.site, sizeof(cfg.site), "store1");
	snprintf(cfg.gateway, sizeof(cfg.gateway), "gw1");
	fill(&c, site);
	doc = status_json(&cfg, true, NULL, 300001, &c);
	assert_non_null(doc);
	from = strstr(doc, "\"uptime_s\":");
	assert_non_null(from);
	n = strlen(from);
	text = malloc(n + 2);
	assert_non_null(text);
	memcpy(text, from, n);
	memcpy(text + n, "\n", 2);
	expect_text(name, text);
	free(text);
	free(doc);
}

static void check_metrics(bool site, const char *name)
{
	struct gateway_counters c;
	struct metrics_sample s;
	char buf[16384];
	size_t n;

	fill(&c, site);
	to_sample(&c, &s);
	n = metrics_format(&s, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	expect_text(name, buf);
}

static void test_status(void **state)
{
	(void)state;
	check_status(false, "counts_status.json");
	check_status(true, "counts_status_site.json");
}

static void test_metrics(void **state)
{
	(void)state;
	check_metrics(false, "counts_metrics.prom");
	check_metrics(true, "counts_metrics_site.prom");
}

static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* A row of the table is in both outputs, once, with its field's value; a
 * row in a group one of them does not place would fail here. The status
 * counts hold the table's rows and the two the status alone publishes. */
static void test_every_row_in_both(void **state)
{
	struct delivery_config cfg;
	struct gateway_counters c;
	struct metrics_sample s;
	char buf[16384], want[512];
	cJSON *doc, *counts;
	char *text;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	fill(&c, false);
	to_sample(&c, &s);
	assert_true(metrics_format(&s, buf, sizeof(buf)) < sizeof(buf));
	text = status_json(&cfg, true, NULL, 1, &c);
	assert_non_null(text);
	doc = cJSON_Parse(text);
	assert_non_null(doc);
	counts = cJSON_GetObjectItemCaseSensitive(doc, "counts");
	assert_true(cJSON_IsObject(counts));
	assert_int_equal(cJSON_GetArraySize(counts), gateway_counts_n + 2);
	for (size_t i = 0; i < gateway_counts_n; i++) {
		const struct gateway_count *g = &gateway_counts[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(counts, g->status_key);
		uint64_t want_v = gateway_count_value(g, &c);

		assert_true(cJSON_IsNumber(v));
		assert_true(v->valuedouble == (double)want_v);
		snprintf(want, sizeof(want), "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", g->metric,
			 g->help, g->metric,
			 g->type == GATEWAY_COUNT_COUNTER ? "counter" : "gauge", g->metric,
			 (unsigned long long)want_v);
		assert_int_equal(occurrences(buf, want), 1);
		snprintf(want, sizeof(want), "\n%s ", g->metric);
		assert_int_equal(occurrences(buf, want), 1);
	}
	cJSON_Delete(doc);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_every_row_in_both),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
