/* pl_harness.c - see pl_harness.h. */
#include "pl_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

/* Appends into a buffer grown only outside measured sections (reserve first). */
static void out_add(struct harness *h, const char *kind, const char *text)
{
	size_t need = strlen(kind) + strlen(text) + 3;

	if (h->out_len + need >= h->out_cap) {
		size_t cap = (h->out_cap + need) * 2;
		char *n = realloc(h->out, cap);
		if (!n)
			abort();
		h->out = n;
		h->out_cap = cap;
	}
	h->out_len += (size_t)snprintf(h->out + h->out_len, h->out_cap - h->out_len, "%s %s\n",
				       kind, text);
}

static void on_visit(void *ctx, const struct visit_event *ev)
{
	struct harness *h = ctx;
	char line[256];

	h->visits[ev->kind]++;
	snprintf(line, sizeof(line), "%d %s %s %u %.1f %.2f", ev->kind, ev->customer_ref, ev->zone,
		 ev->dwell_s, ev->rssi_filtered, ev->proximity_m);
	out_add(h, "visit", line);
}

static void on_trigger(void *ctx, const struct trigger *t)
{
	struct harness *h = ctx;
	const char *e = strstr(t->json, "\"event\":\"");

	if (h->triggers < 64) {
		snprintf(h->trigger_events[h->triggers], 16, "%.5s", e ? e + 9 : "?");
		char *q = strchr(h->trigger_events[h->triggers], '"');
		if (q)
			*q = '\0';
		snprintf(h->trigger_campaigns[h->triggers], 64, "%s", t->campaign->name);
	}
	h->triggers++;
	snprintf(h->last_trigger, sizeof(h->last_trigger), "%s", t->json);
	out_add(h, "trigger", t->json);
}

static void on_footfall(void *ctx, const char *json)
{
	struct harness *h = ctx;

	h->footfalls++;
	snprintf(h->last_footfall, sizeof(h->last_footfall), "%s", json);
	out_add(h, "footfall", json);
}

static void on_health(void *ctx, const char *json)
{
	struct harness *h = ctx;

	h->health++;
	snprintf(h->last_health, sizeof(h->last_health), "%s", json);
	out_add(h, "beacons", json);
}

void harness_init(struct harness *h, const struct pipeline_config *cfg)
{
	struct pipeline_callbacks cb = { .ctx = h, .visit = on_visit, .trigger = on_trigger,
					 .footfall = on_footfall, .beacon_health = on_health };

	memset(h, 0, sizeof(*h));
	h->out_cap = 1 << 20;
	h->out = calloc(1, h->out_cap);
	h->p = pipeline_new(cfg, &cb);
	if (!h->p || !h->out)
		abort();
}

void harness_fini(struct harness *h)
{
	pipeline_free(h->p);
	free(h->out);
}

void harness_report(struct harness *h, uint64_t ts_us, const uint8_t addr[6], uint8_t addr_type,
		    int8_t rssi, const struct bf_frame *f)
{
	uint8_t data[BF_LEGACY_ADV_MAX] = { 2, BF_AD_FLAGS, 0x06 };
	size_t n = f ? bf_encode(f, data, sizeof(data)) : 3;
	struct adv_report r = { .ts_us = ts_us, .addr_type = addr_type, .rssi = rssi,
				.kind = ADV_KIND_NONCONN_IND, .tx_power = ADV_TX_POWER_UNAVAILABLE,
				.sid = 0xFF, .data_len = (uint16_t)n, .data = data };

	if (!n)
		abort();
	memcpy(r.addr, addr, 6);
	pipeline_report(h->p, &r);
}

void harness_walk(struct harness *h, uint64_t t0_s, uint64_t t1_s, const uint8_t addr[6],
		  int8_t rssi, const struct bf_frame *f)
{
	for (uint64_t t = t0_s; t < t1_s; t++) {
		harness_report(h, S(t), addr, ADV_ADDR_RANDOM, rssi, f);
		pipeline_tick(h->p, S(t) + 500000);
	}
}

struct bf_frame frame_ibeacon(const uint8_t uuid[16], uint16_t major, uint16_t minor)
{
	struct bf_frame f = { .type = BF_IBEACON };

	memcpy(f.u.ibeacon.uuid, uuid, 16);
	f.u.ibeacon.major = major;
	f.u.ibeacon.minor = minor;
	f.u.ibeacon.measured_power = -59;
	return f;
}
