/*
 * pipeline_site.c - the pipeline's side of a site with several gateways:
 * the presence tracker opens visits only for shoppers this gateway holds
 * (site_zone.h), the summaries for the peers are built from the tracker,
 * and peers' summaries and triggers come in here (parsed off the hot path:
 * they arrive a few times a second, not per advertising report).
 *
 * Consent: a summary lists only customers whose presence consent is in
 * force now, checked when it is built; peers' entries for anyone without
 * presence consent in this gateway's snapshot are dropped unread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "campaign.h"
#include "consent_gate.h"
#include "pipeline_priv.h"
#include "pl_json.h"
#include "presence.h"
#include "ref_index.h"
#include "site_zone.h"

/* A summary stays well under the broker's packet bound of the peers
 * ([consent] max_bytes + 4 KiB): about 60 bytes per customer. */
#define SUMMARY_MAX 120

/* The arbitration level: quicker than the presence median that qualified
 * the visit (site_zone.h). */
static float level_now(const struct pipeline *p, const struct presence_device *d,
		       uint64_t now_us)
{
	return presence_level_recent(p->pr, d, SITE_LEVEL_WINDOW_S, now_us);
}

static bool gate(void *ctx, const struct presence_device *d, float level, uint64_t ts_us,
		 uint64_t *not_before_us)
{
	struct pipeline *p = ctx;

	(void)level;
	return site_zone_gate(p->sz, d->customer_id, level_now(p, d, ts_us), ts_us,
			      not_before_us);
}

int pipeline_site_init(struct pipeline *p)
{
	if (!p->cfg.site_enabled)
		return 0;
	p->sz = site_zone_new(&p->cfg);
	p->refs = ref_index_new(NULL);
	if (!p->sz || !p->refs)
		return -1;
	presence_set_gate(p->pr, gate, p);
	p->broker_up = true;
	return 0;
}

void pipeline_site_free(struct pipeline *p)
{
	site_zone_free(p->sz);
	ref_index_free(p->refs);
	p->sz = NULL;
	p->refs = NULL;
}

void pipeline_site_snapshot(struct pipeline *p)
{
	struct ref_index *x;

	if (!p->sz)
		return;
	x = ref_index_new(p->snap);
	if (!x)
		return; /* out of memory: the old index finds nobody (refs are compared) */
	ref_index_free(p->refs);
	p->refs = x;
}

static void release(void *ctx, int64_t customer_id, uint64_t at_us)
{
	struct pipeline *p = ctx;
	struct presence_device *d = presence_find(p->pr, customer_id);

	p->site_summary_due = true;
	if (d)
		presence_end_visit(p->pr, d, at_us);
}

static void take(void *ctx, int64_t customer_id, uint64_t since_us)
{
	struct pipeline *p = ctx;
	struct presence_device *d = presence_find(p->pr, customer_id);

	p->site_summary_due = true;
	if (d)
		presence_open_visit(p->pr, d, since_us, p->now_us);
}

static void move(void *ctx, int64_t customer_id, uint64_t since_us)
{
	struct pipeline *p = ctx;
	struct presence_device *d = presence_find(p->pr, customer_id);

	p->site_summary_due = true;
	if (d)
		presence_move_start(p->pr, d, since_us);
}

bool pipeline_site_summary_due(struct pipeline *p)
{
	bool due = p->site_summary_due;

	p->site_summary_due = false;
	return due;
}

/* What this gateway hears of everyone now. */
static void hear_all(struct pipeline *p, uint64_t now_us)
{
	for (uint32_t i = 0; i < presence_capacity(p->pr); i++) {
		struct presence_device *d = presence_slot(p->pr, i);

		if (d && d->rssi_known)
			site_zone_local(p->sz, d->customer_id, level_now(p, d, now_us), now_us);
	}
}

void pipeline_site_tick(struct pipeline *p, uint64_t now_us)
{
	const struct site_zone_actions act = { .release = release, .take = take, .move = move,
					       .ctx = p };

	if (!p->sz)
		return;
	hear_all(p, now_us);
	site_zone_decide(p->sz, now_us, &act);
	p->site.split = !p->broker_up || site_zone_peer_lost(p->sz, now_us);
	campaign_rules_set_split(p->rules, p->site.split);
}

void pipeline_site_broker(struct pipeline *p, bool connected)
{
	p->broker_up = connected;
}

void pipeline_site_visit_ended(struct pipeline *p, int64_t customer_id, uint64_t at_us)
{
	if (p->sz && site_zone_holds(p->sz, customer_id)) {
		site_zone_let_go(p->sz, customer_id, at_us);
		p->site_summary_due = true;
	}
}

bool pipeline_site_holds(const struct pipeline *p, int64_t customer_id)
{
	return !p->sz || site_zone_holds(p->sz, customer_id);
}

/* The customer may appear in a summary now. */
static const struct snap_customer *consented(const struct pipeline *p, int64_t id, int64_t now_s)
{
	int64_t ci = p->snap ? pipeline_find_customer(p->snap, id) : -1;

	if (ci < 0 || !consent_gate_presence(p->snap, &p->snap->customers[ci], now_s))
		return NULL;
	return &p->snap->customers[ci];
}

static void add_entries(struct pipeline *p, cJSON *arr, uint64_t now_us, bool held, int *n)
{
	for (uint32_t i = 0; *n < SUMMARY_MAX && i < site_zone_capacity(p->sz); i++) {
		const struct snap_customer *c;
		struct site_zone_summary e;
		char since[40], ref[SNAP_REF_MAX];
		cJSON *o;

		if (!site_zone_summary_entry(p->sz, i, now_us, &e) || e.claim != held ||
		    !(c = consented(p, e.customer_id, to_s(now_us))))
			continue;
		o = cJSON_CreateObject();
		if (!o)
			return;
		cJSON_AddStringToObject(o, "ref", snap_customer_ref(p->snap, c, ref));
		cJSON_AddNumberToObject(o, "rssi", round((double)e.level * 10.0) / 10.0);
		cJSON_AddBoolToObject(o, "holds", e.claim);
		if (e.claim && e.since_us) {
			pl_json_time(since, sizeof(since), e.since_us);
			cJSON_AddStringToObject(o, "since", since);
		}
		if (e.claim && e.from)
			cJSON_AddStringToObject(o, "from", e.from);
		/* When its visit ended: a peer that took them from us dated
		 * its own from the levels, and starts no earlier. */
		if (!e.claim && e.released_us) {
			pl_json_time(since, sizeof(since), e.released_us);
			cJSON_AddStringToObject(o, "released", since);
		}
		cJSON_AddItemToArray(arr, o);
		(*n)++;
	}
}

char *pipeline_site_summary(struct pipeline *p, uint64_t now_us)
{
	cJSON *root, *arr;
	char ts[40], *out, *copy = NULL;
	int n = 0;

	if (!p->sz)
		return NULL;
	/* The levels of the summary's time: peers compare theirs over the
	 * same window (pipeline_site_peer()). */
	hear_all(p, now_us);
	root = cJSON_CreateObject();
	if (!root)
		return NULL;
	pl_json_time(ts, sizeof(ts), now_us);
	cJSON_AddNumberToObject(root, "schema", 1);
	cJSON_AddStringToObject(root, "site", p->cfg.site);
	cJSON_AddStringToObject(root, "gateway", p->cfg.gateway);
	cJSON_AddStringToObject(root, "zone", p->cfg.zone);
	cJSON_AddStringToObject(root, "ts", ts);
	arr = cJSON_AddArrayToObject(root, "customers");
	/* The shoppers it holds first: past SUMMARY_MAX, a shopper only heard
	 * is the one left out. */
	if (arr) {
		add_entries(p, arr, now_us, true, &n);
		add_entries(p, arr, now_us, false, &n);
	}
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (out) {
		copy = strdup(out);
		cJSON_free(out);
		p->site.summaries++;
	}
	return copy;
}

/* "2026-11-22T20:40:12.345Z" -> Unix seconds (and the milliseconds), -1 if
 * malformed. */
static int64_t parse_ts_ms(const char *s, int *ms_out)
{
	struct tm tm = { 0 };
	int ms = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7 || ms < 0 || ms > 999)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if (ms_out)
		*ms_out = ms;
	return (int64_t)timegm(&tm);
}

static int64_t parse_ts(const char *s)
{
	return parse_ts_ms(s, NULL);
}

/* A claim's start in microseconds, 0 when absent or malformed (the claim
 * then starts when it is heard). */
static uint64_t parse_since(const cJSON *v)
{
	int ms = 0;
	int64_t s = cJSON_IsString(v) ? parse_ts_ms(v->valuestring, &ms) : -1;

	return s > 0 ? (uint64_t)s * 1000000u + (uint64_t)ms * 1000u : 0;
}

int pipeline_site_peer(struct pipeline *p, const char *gateway, const void *json, size_t len,
		       uint64_t now_us)
{
	const struct site_zone_actions act = { .release = release, .take = take, .move = move,
					       .ctx = p };
	cJSON *root, *arr, *it;
	uint64_t at_us;
	int peer;

	if (!p->sz)
		return 0;
	root = cJSON_ParseWithLength(json, len);
	arr = cJSON_GetObjectItemCaseSensitive(root, "customers");
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(root);
		p->site.peer_bad++;
		p->site.peer_summaries_bad++;
		return -1;
	}
	/* What the peer heard is compared with what we heard over the same
	 * window: its summary's time (now if it has none). */
	at_us = parse_since(cJSON_GetObjectItemCaseSensitive(root, "ts"));
	if (!at_us || at_us > now_us)
		at_us = now_us;
	peer = site_zone_peer_begin(p->sz, gateway, now_us);
	if (peer < 0) {
		cJSON_Delete(root);
		return 0; /* our own summary, or no room for another peer (counted there) */
	}
	p->site.peer_summaries++;
	cJSON_ArrayForEach(it, arr) {
		const cJSON *ref = cJSON_GetObjectItemCaseSensitive(it, "ref");
		const cJSON *rssi = cJSON_GetObjectItemCaseSensitive(it, "rssi");
		const cJSON *holds = cJSON_GetObjectItemCaseSensitive(it, "holds");
		const cJSON *from = cJSON_GetObjectItemCaseSensitive(it, "from");
		const cJSON *since = cJSON_GetObjectItemCaseSensitive(it, "since");
		const cJSON *released = cJSON_GetObjectItemCaseSensitive(it, "released");
		struct site_zone_view v;
		const struct presence_device *d;
		int64_t ci;

		/* since, from and released are optional (older peers), but
		 * not wrong. */
		if (!cJSON_IsString(ref) || !cJSON_IsNumber(rssi) || !cJSON_IsBool(holds) ||
		    !isfinite(rssi->valuedouble) || (from && !cJSON_IsString(from)) ||
		    (since && !parse_since(since)) || (released && !parse_since(released))) {
			p->site.peer_bad++;
			p->site.peer_entries_bad++;
			continue;
		}
		ci = ref_index_find(p->refs, p->snap, ref->valuestring);
		if (ci < 0 || !consent_gate_presence(p->snap, &p->snap->customers[ci],
						     to_s(now_us))) {
			p->site.peer_ignored++;
			continue;
		}
		d = presence_find(p->pr, snap_customer_id(p->snap, (uint32_t)ci));
		v = (struct site_zone_view){
			.level = (float)rssi->valuedouble,
			.at_us = at_us,
			.local_at = d ? level_now(p, d, at_us) : NAN,
			.claim = cJSON_IsTrue(holds),
			.since_us = parse_since(since),
			.from_me = cJSON_IsString(from) && !strcmp(from->valuestring, p->cfg.gateway),
			.released_us = parse_since(released),
		};
		site_zone_peer_level(p->sz, peer, snap_customer_id(p->snap, (uint32_t)ci), &v,
				     now_us);
		p->site.peer_customers++;
		/* Handovers are decided on the holder's summary as it arrives
		 * (site_zone.h); and taken from us, our visit ends now. */
		site_zone_decide_one(p->sz, snap_customer_id(p->snap, (uint32_t)ci), now_us, &act);
	}
	cJSON_Delete(root);
	return 0;
}

static uint64_t id_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;   /* FNV-1a 64 */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h ? h : 1;
}

/* At-least-once delivery: a peer's trigger may come twice. */
static bool seen_before(struct pipeline *p, const char *id)
{
	uint64_t h = id_hash(id);

	for (uint32_t i = 0; i < PIPELINE_SEEN_IDS; i++)
		if (p->seen_ids[i] == h)
			return true;
	p->seen_ids[p->seen_next] = h;
	p->seen_next = (p->seen_next + 1) % PIPELINE_SEEN_IDS;
	return false;
}

int pipeline_site_trigger(struct pipeline *p, const char *gateway, const void *json, size_t len,
			  struct pipeline_peer_trigger *out)
{
	cJSON *root;
	const cJSON *id, *ref, *camp, *ts;
	int64_t ci, at, camp_id = 0;
	int counted = 0;

	if (!p->sz || !strcmp(gateway, p->cfg.gateway))
		return 0;
	root = cJSON_ParseWithLength(json, len);
	id = cJSON_GetObjectItemCaseSensitive(root, "id");
	ref = cJSON_GetObjectItemCaseSensitive(root, "customer_ref");
	camp = cJSON_GetObjectItemCaseSensitive(root, "campaign");
	ts = cJSON_GetObjectItemCaseSensitive(root, "ts");
	at = cJSON_IsString(ts) ? parse_ts(ts->valuestring) : -1;
	if (!cJSON_IsString(id) || !cJSON_IsString(ref) || !cJSON_IsString(camp) || at < 0) {
		cJSON_Delete(root);
		p->site.peer_bad++;
		p->site.peer_triggers_bad++;
		return -1;
	}
	if (seen_before(p, id->valuestring)) {
		p->site.peer_duplicates++;
		cJSON_Delete(root);
		return 0;
	}
	ci = ref_index_find(p->refs, p->snap, ref->valuestring);
	if (ci >= 0) {
		/* Campaigns are the same on every gateway of a site: matched by name. */
		for (uint32_t i = 0; i < p->snap->n_campaigns; i++)
			if (!strcmp(p->snap->campaigns[i].name, camp->valuestring))
				camp_id = p->snap->campaigns[i].id;
		campaign_rules_note(p->rules, snap_customer_id(p->snap, (uint32_t)ci), camp_id, at);
		p->site.peer_triggers++;
		if (out) {
			snprintf(out->id, sizeof(out->id), "%s", id->valuestring);
			out->customer_id = snap_customer_id(p->snap, (uint32_t)ci);
			out->campaign_id = camp_id;
			out->at_s = at;
		}
		counted = 1;
	}
	cJSON_Delete(root);
	return counted;
}

const struct pipeline_site_stats *pipeline_site_get_stats(struct pipeline *p)
{
	if (p->sz) {
		const struct site_zone_stats *z = site_zone_get_stats(p->sz, p->now_us);

		p->site.claims = z->claims;
		p->site.releases = z->releases;
		p->site.takeovers = z->takeovers;
		p->site.conflicts = z->conflicts;
		p->site.handovers = z->handovers;
		p->site.handed_over = z->handed_over;
		p->site.peer_summaries_dropped = z->peers_dropped;
		p->site.peers_alive = z->peers_alive;
	}
	return &p->site;
}
