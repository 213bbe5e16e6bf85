/*
 * pipeline.c - glue of the data path: decode, identify, gate, then either
 * the presence tracker (consented) or the anonymous footfall sketch (the
 * rest), plus fixed-beacon health. See pipeline.h and docs/pipeline.md.
 */
#include "pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr_cache.h"
#include "aes_openssl.h"
#include "beacon_frame.h"
#include "beacon_fleet.h"
#include "beacon_health.h"
#include "campaign.h"
#include "consent_gate.h"
#include "etlm.h"
#include "footfall.h"
#include "id_index.h"
#include "irk.h"
#include "irk_async.h"
#include "pipeline_config.h"
#include "pl_aes.h"
#include "pipeline_priv.h"
#include "presence.h"
#include "ref_index.h"
#include "site_zone.h"
#include "trigger_json.h"

#define FRAMES_MAX 8
/* Eddystone calibrates at 0 m; the spec's rule of thumb is 41 dB lost by 1 m. */
#define EDDYSTONE_0M_TO_1M 41


/* ------------------------------------------------------------------ callbacks */

static void fire_trigger(void *ctx, uint32_t campaign, uint32_t channels)
{
	struct pipeline *p = ctx;
	const struct visit_event *ev = p->cur_event;
	const struct snap_campaign *cam = &p->snap->campaigns[campaign];
	struct trigger_fields f = {
		.ts_us = ev->ts_us,
		.site = p->cfg.site,
		.gateway = p->cfg.gateway,
		.zone = ev->zone,
		.event = ev->kind,
		.customer_ref = ev->customer_ref,
		.campaign = cam->name,
		.campaign_id = cam->id,
		.dwell_s = ev->dwell_s,
		.rssi = ev->rssi_filtered,
		.proximity_m = ev->proximity_m,
		.rssi_known = ev->rssi_known,
		.policy = snap_consent_policy(p->snap, &snap_customer_consent(p->snap, ev->customer)
							       [SNAP_RETARGETING]),
	};
	struct trigger t = { .ts_us = ev->ts_us, .customer = ev->customer,
			     .customer_id = ev->customer_id,
			     .customer_ref = ev->customer_ref, .campaign = cam };
	char *json;

	for (uint32_t i = 0; i < p->snap->n_channels && i < SNAP_MAX_CHANNELS; i++)
		if (channels & (1u << i))
			f.channels[f.n_channels++] = p->snap->channels[i];
	if (!trigger_uuid7(ev->ts_us, t.id))
		return;
	json = trigger_json_build(&f, t.id);
	if (!json)
		return;
	t.json = json;
	p->stats.triggers++;
	if (p->cb.trigger)
		p->cb.trigger(p->cb.ctx, &t);
	free(json);
}

/* The visit event of d, or false when its customer may not be seen now
 * (events are gated at their own time, not at the sighting's). Its
 * customer_ref is decoded into ref. */
static bool make_event(struct pipeline *p, const struct presence_device *d,
		       enum visit_event_kind kind, uint64_t ts_us, uint32_t dwell_s,
		       struct visit_event *out, char ref[SNAP_REF_MAX])
{
	const struct snap_customer *c;

	if (!p->snap || d->customer >= p->snap->n_customers)
		return false;
	c = &p->snap->customers[d->customer];
	if (!consent_gate_presence(p->snap, c, to_s(ts_us)))
		return false;
	*out = (struct visit_event){
		.kind = kind,
		.ts_us = ts_us,
		.visit_started_us = d->visit_started_us,
		.dwell_s = dwell_s,
		.customer = c,
		.customer_id = snap_customer_id(p->snap, d->customer),
		.customer_ref = snap_customer_ref(p->snap, c, ref),
		.zone = p->cfg.zone,
		.rssi_filtered = d->rssi_filtered,
		.rssi_peak = d->rssi_peak > d->rssi_filtered ? d->rssi_peak : d->rssi_filtered,
		.proximity_m = presence_distance_m(d->rssi_filtered, d->power_1m,
						   p->cfg.path_loss_exponent),
		.rssi_known = d->rssi_known,
	};
	return true;
}

static void match_campaigns(struct pipeline *p, const struct presence_device *d,
			    const struct visit_event *ev, uint32_t threshold_s)
{
	struct campaign_event ce = { .customer = d->customer, .zone = p->cfg.zone,
				     .kind = ev->kind, .dwell_s = ev->dwell_s,
				     .threshold_s = threshold_s, .now_s = to_s(ev->ts_us) };

	p->cur_event = ev;
	campaign_rules_match(p->rules, p->snap, &ce, fire_trigger, p);
	p->cur_event = NULL;
}

static void on_presence(void *ctx, const struct presence_device *d, enum visit_event_kind kind,
			uint64_t ts_us, uint32_t dwell_s, int mark)
{
	struct pipeline *p = ctx;
	struct visit_event ev;
	char ref[SNAP_REF_MAX];

	(void)mark;
	if (kind == VISIT_EXIT)
		pipeline_site_visit_ended(p, d->customer_id, ts_us);
	if (!make_event(p, d, kind, ts_us, dwell_s, &ev, ref))
		return;
	if (kind == VISIT_ENTER)
		p->stats.visits_entered++;
	else if (kind == VISIT_EXIT)
		p->stats.visits_exited++;
	else
		p->stats.dwell_events++;
	if (p->cb.visit)
		p->cb.visit(p->cb.ctx, &ev);
	/* Dwell marks are for reporting; dwell campaigns have their own
	 * thresholds (on_threshold). */
	if (kind != VISIT_DWELL)
		match_campaigns(p, d, &ev, 0);
}

/* A visit reached the min_dwell of some dwell campaign. */
static void on_threshold(void *ctx, const struct presence_device *d, uint64_t ts_us,
			 uint32_t dwell_s, uint32_t threshold_s)
{
	struct pipeline *p = ctx;
	struct visit_event ev;
	char ref[SNAP_REF_MAX];

	if (make_event(p, d, VISIT_DWELL, ts_us, dwell_s, &ev, ref))
		match_campaigns(p, d, &ev, threshold_s);
}

static void on_footfall(void *ctx, const char *json)
{
	struct pipeline *p = ctx;

	p->stats.footfall_published++;
	if (p->cb.footfall)
		p->cb.footfall(p->cb.ctx, json);
}

static void on_health(void *ctx, const char *json)
{
	struct pipeline *p = ctx;

	p->stats.beacon_health++;
	if (p->cb.beacon_health)
		p->cb.beacon_health(p->cb.ctx, json);
}

static void on_beacon_change(void *ctx, const char *json)
{
	struct pipeline *p = ctx;

	if (!p->cb.beacon_change) {
		on_health(ctx, json);
		return;
	}
	p->stats.beacon_health++;
	p->cb.beacon_change(p->cb.ctx, json);
}

/* ------------------------------------------------------------------ life cycle */

static void replay_report(void *ctx, const struct adv_report *r);

struct pipeline *pipeline_new(const struct pipeline_config *cfg,
			      const struct pipeline_callbacks *cb)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *cfg;
	if (cb)
		p->cb = *cb;
	p->aes = pl_aes_new();
	p->ff = footfall_new(cfg->site, cfg->gateway, cfg->zone, cfg->footfall_period_s,
			     cfg->footfall_min_count, on_footfall, p);
	p->pr = presence_new(cfg, on_presence, p);
	p->rules = campaign_rules_new(cfg);
	p->bh = beacon_health_new(cfg, on_health, p);
	p->fleet = beacon_fleet_new(cfg, on_health, on_beacon_change, p);
	p->idx = id_index_new(NULL, cfg->eid_tolerance, 0, aes128_openssl);
	p->irk = irk_resolver_new(NULL, cfg->irk_cache_size);
	p->eid_addrs = addr_cache_new(cfg->max_tracked);
	if (cfg->irk_threads) {
		p->irk_async = irk_async_new(cfg->irk_threads, replay_report, p);
		if (p->irk_async)
			irk_async_set_resolver(p->irk_async, p->irk);
	}
	if (!p->aes || !p->ff || !p->pr || !p->rules || !p->bh || !p->fleet || !p->idx || !p->irk ||
	    !p->eid_addrs || (cfg->irk_threads && !p->irk_async) ||
	    pipeline_site_init(p) < 0) {
		pipeline_free(p);
		return NULL;
	}
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	irk_async_free(p->irk_async); /* first: its workers read the resolver */
	pipeline_site_free(p);
	presence_free(p->pr);
	footfall_free(p->ff);
	campaign_rules_free(p->rules);
	beacon_health_free(p->bh);
	beacon_fleet_free(p->fleet);
	id_index_free(p->idx);
	irk_resolver_free(p->irk);
	addr_cache_free(p->eid_addrs);
	pl_aes_free(p->aes);
	free(p->has_ident);
	if (p->snap)
		snapshot_free(p->snap);
	free(p);
}

int64_t pipeline_find_customer(const struct snapshot *s, int64_t id)
{
	return snap_customer_index(s, id);
}

/* Which customers of s have an identifier (bit per customer); NULL on
 * allocation failure. */
static uint8_t *identified_customers(const struct snapshot *s)
{
	uint8_t *bits = calloc((size_t)(s ? s->n_customers : 0) / 8 + 1, 1);

	if (!bits || !s)
		return bits;
	for (uint32_t i = 0; i < s->n_identifiers; i++) {
		uint32_t c = s->identifiers[i].customer;

		if (c < s->n_customers)
			bits[c / 8] |= (uint8_t)(1u << (c % 8));
	}
	return bits;
}

bool pipeline_trigger_allowed(const struct pipeline *p, int64_t customer_id, int64_t now_s)
{
	int64_t ci;

	if (!p->snap || !p->has_ident)
		return false;
	ci = pipeline_find_customer(p->snap, customer_id);
	if (ci < 0 || !(p->has_ident[ci / 8] & (1u << (ci % 8))))
		return false;
	return consent_gate_trigger_allowed(p->snap, &p->snap->customers[ci], now_s);
}

bool pipeline_trigger_channels_allowed(const struct pipeline *p, int64_t customer_id,
				       int64_t now_s, const char *const *names, size_t n)
{
	const struct snap_customer *c;
	int64_t ci;

	if (!pipeline_trigger_allowed(p, customer_id, now_s))
		return false;
	ci = pipeline_find_customer(p->snap, customer_id);
	c = &p->snap->customers[ci];
	for (size_t i = 0; i < n; i++) {
		uint32_t k;

		for (k = 0; k < p->snap->n_channels; k++)
			if (!strcmp(p->snap->channels[k], names[i]))
				break;
		if (k == p->snap->n_channels ||
		    !(snap_customer_consent(p->snap, c)[SNAP_RETARGETING].channels & (1u << k)))
			return false;
	}
	return true;
}

bool pipeline_visit_allowed(const struct pipeline *p, int64_t customer_id, int64_t now_s)
{
	int64_t ci;

	if (!p->snap)
		return false;
	ci = pipeline_find_customer(p->snap, customer_id);
	return ci >= 0 && consent_gate_presence(p->snap, &p->snap->customers[ci], now_s);
}

/* The identity index and the IRK resolver of a snapshot take the place of
 * the ones before; the workers search with the new keys from now on. */
static void install_indexes(struct pipeline *p, struct id_index *idx, struct irk_resolver *irk)
{
	id_index_free(p->idx);
	irk_resolver_free(p->irk);
	p->idx = idx;
	p->irk = irk;
	if (p->irk_async)
		irk_async_set_resolver(p->irk_async, irk);
}


void pipeline_set_snapshot(struct pipeline *p, struct snapshot *s)
{
	int64_t now_s;
	struct id_index *idx;
	struct irk_resolver *irk;
	uint32_t n_thr;
	uint8_t *has_ident;

	/* Reports parked for an IRK search arrived under the old snapshot:
	 * finish them under it, and no search may still read the old keys. */
	if (p->irk_async)
		irk_async_drain(p->irk_async);
	now_s = p->now_us ? to_s(p->now_us) : (int64_t)time(NULL);
	idx = id_index_new(s, p->cfg.eid_tolerance, now_s, aes128_openssl);
	irk = irk_resolver_new(s, p->cfg.irk_cache_size);
	has_ident = identified_customers(s);

	if (!idx || !irk || !has_ident) {
		/* Out of memory: keep serving the old snapshot rather than none. */
		id_index_free(idx);
		irk_resolver_free(irk);
		free(has_ident);
		if (s)
			snapshot_free(s);
		return;
	}
	/* Open visits follow the customer id into the new snapshot; customers
	 * who are gone (removed, erased) or have no identifier left are
	 * forgotten without an event. (A visit kept across an identifier's
	 * removal would end later with an exit dated inside the gap, or go on
	 * after the identifier is added again as if nothing had happened.) */
	for (uint32_t i = 0; i < presence_capacity(p->pr); i++) {
		struct presence_device *d = presence_slot(p->pr, i);
		int64_t ci;

		if (!d)
			continue;
		ci = s ? pipeline_find_customer(s, d->customer_id) : -1;
		if (ci < 0 || !(has_ident[ci / 8] & (1u << (ci % 8)))) {
			presence_forget(p->pr, d->customer_id);
			if (p->sz)
				site_zone_forget(p->sz, d->customer_id);
			continue;
		}
		d->customer = (uint32_t)ci;
		d->eid_ident = -1; /* identifier indexes changed: re-paired at the next EID */
	}
	campaign_rules_seed(p->rules, s);
	n_thr = campaign_dwell_thresholds(s, p->cfg.zone, p->dwell_thresholds,
					  DWELL_THRESHOLDS_MAX);
	presence_set_thresholds(p->pr, p->dwell_thresholds, n_thr, on_threshold);
	install_indexes(p, idx, irk);
	free(p->has_ident);
	p->has_ident = has_ident;
	if (p->snap)
		snapshot_free(p->snap);
	p->snap = s;
	pipeline_site_snapshot(p);
	p->stats.snapshots++;
	p->stats.tracked_devices = presence_count(p->pr);
}

void pipeline_release_snapshot(struct pipeline *p)
{
	struct id_index *idx;
	struct irk_resolver *irk;

	if (!p->snap)
		return;
	idx = id_index_new(NULL, p->cfg.eid_tolerance, 0, aes128_openssl);
	irk = irk_resolver_new(NULL, p->cfg.irk_cache_size);
	if (!idx || !irk) {
		/* Out of memory: the reload holds both snapshots, as it can. */
		id_index_free(idx);
		irk_resolver_free(irk);
		return;
	}
	/* Parked reports finish under the snapshot they arrived with, and no
	 * search may still read its keys. */
	if (p->irk_async)
		irk_async_drain(p->irk_async);
	install_indexes(p, idx, irk);
	free(p->has_ident);
	p->has_ident = NULL;
	snapshot_free(p->snap);
	p->snap = NULL;
	pipeline_site_snapshot(p);
}

/* ------------------------------------------------------------------ hot path */

/* What one report says, once its frames are decoded. */
struct sighting {
	int64_t ident;                  /* snapshot identifier, -1 = not enrolled */
	uint32_t eid_time_base;
	bool via_eid;
	bool store_beacon;              /* a UID of the store's own namespaces */
	float power_1m;                 /* NAN = no calibration in the frames */
	uint8_t anon[24];               /* what footfall hashes for an unknown device */
	size_t anon_len;
	const struct bf_eddystone_tlm *tlm;
	const struct bf_eddystone_etlm *etlm;
};

/*
 * What the footfall sketch hashes starts with the kind of identity it is,
 * so two kinds that happen to share bytes (an iBeacon UUID and an EID, say)
 * never count as one device.
 */
enum anon_kind {
	ANON_IBEACON = 1,          /* iBeacon UUID, major, minor */
	ANON_ALTBEACON = 2,        /* AltBeacon beacon id */
	ANON_UID = 3,              /* Eddystone-UID namespace + instance */
	ANON_EID = 4,              /* Eddystone-EID, as broadcast */
	ANON_ENROLLED = 5,         /* an enrolled customer without presence consent */
	ANON_ADDRESS = 6,          /* no beacon frame: the advertiser address */
};

static void set_anon(struct sighting *s, enum anon_kind tag, const uint8_t *v, size_t n)
{
	if (s->anon_len)
		return; /* the first identifying frame wins */
	s->anon[0] = (uint8_t)tag;
	memcpy(s->anon + 1, v, n);
	s->anon_len = 1 + n;
}

static void identify(struct pipeline *p, const struct adv_report *r, const struct bf_frame *f,
		     size_t n, struct sighting *s)
{
	for (size_t i = 0; i < n; i++) {
		switch (f[i].type) {
		case BF_IBEACON: {
			const struct bf_ibeacon *b = &f[i].u.ibeacon;
			uint8_t v[20];

			if (beacon_fleet_ibeacon(p->fleet, b, r->addr, r->addr_type, r->ts_us)) {
				s->store_beacon = true;
				break;
			}
			if (s->ident < 0)
				s->ident = id_index_ibeacon(p->idx, b->uuid, b->major, b->minor);
			if (isnan(s->power_1m))
				s->power_1m = b->measured_power;
			memcpy(v, b->uuid, 16);
			v[16] = (uint8_t)(b->major >> 8);
			v[17] = (uint8_t)b->major;
			v[18] = (uint8_t)(b->minor >> 8);
			v[19] = (uint8_t)b->minor;
			set_anon(s, ANON_IBEACON, v, 20);
			break;
		}
		case BF_ALTBEACON:
			if (s->ident < 0)
				s->ident = id_index_altbeacon(p->idx, f[i].u.altbeacon.company_id,
							      f[i].u.altbeacon.beacon_id);
			if (isnan(s->power_1m))
				s->power_1m = f[i].u.altbeacon.ref_rssi;
			set_anon(s, ANON_ALTBEACON, f[i].u.altbeacon.beacon_id, 20);
			break;
		case BF_EDDYSTONE_UID: {
			const struct bf_eddystone_uid *u = &f[i].u.uid;
			uint8_t v[16];

			if (beacon_health_is_store_uid(p->bh, u->namespace_id)) {
				beacon_health_uid(p->bh, r->addr, r->addr_type, u, r->ts_us);
				beacon_fleet_uid(p->fleet, u, r->addr, r->addr_type, r->ts_us);
				s->store_beacon = true;
				break;
			}
			if (beacon_fleet_uid(p->fleet, u, r->addr, r->addr_type, r->ts_us)) {
				s->store_beacon = true;
				break;
			}
			if (s->ident < 0)
				s->ident = id_index_uid(p->idx, u->namespace_id, u->instance);
			if (isnan(s->power_1m))
				s->power_1m = (float)(u->tx_power - EDDYSTONE_0M_TO_1M);
			memcpy(v, u->namespace_id, 10);
			memcpy(v + 10, u->instance, 6);
			set_anon(s, ANON_UID, v, 16);
			break;
		}
		case BF_EDDYSTONE_EID: {
			const struct bf_eddystone_eid *e = &f[i].u.eid;

			if (s->ident < 0) {
				s->ident = id_index_eid(p->idx, e->eid, &s->eid_time_base);
				s->via_eid = s->ident >= 0;
			}
			if (isnan(s->power_1m))
				s->power_1m = (float)(e->tx_power - EDDYSTONE_0M_TO_1M);
			set_anon(s, ANON_EID, e->eid, 8);
			break;
		}
		case BF_EDDYSTONE_URL:
			if (beacon_fleet_url(p->fleet, &f[i].u.url, r->addr, r->addr_type, r->ts_us))
				s->store_beacon = true;
			break;
		case BF_EDDYSTONE_TLM:
			s->tlm = &f[i].u.tlm;
			break;
		case BF_EDDYSTONE_ETLM:
			s->etlm = &f[i].u.etlm;
			break;
		default:
			break;
		}
	}
	if (s->ident < 0 && irk_is_rpa(r->addr, r->addr_type)) {
		s->ident = irk_resolve(p->irk, p->aes, r->addr);
		if (s->ident >= 0)
			p->stats.irk_resolved++;
	}
}

/* eTLM: pair with the consented tag whose EID came from this address. The
 * address cache only points at a candidate, in constant time (anyone can send
 * eTLM frames, so no search of the presence table per frame); the tag's own
 * state confirms it. A tag pushed out of the cache loses eTLM frames until
 * its next EID frame, and they count as nobody's. */
static bool pair_etlm(struct pipeline *p, const struct adv_report *r,
		      const struct bf_eddystone_etlm *e, struct presence_device *known)
{
	struct presence_device *d = known;
	const struct snap_identifier *id;
	uint8_t key[SNAP_ID_BYTES_MAX];
	struct bf_eddystone_tlm tlm;
	int64_t now_s = to_s(r->ts_us);
	char ref[SNAP_REF_MAX];
	uint32_t ci;

	if (!d && p->snap && addr_cache_get(p->eid_addrs, r->addr, &ci) &&
	    ci < p->snap->n_customers)
		d = presence_find(p->pr, snap_customer_id(p->snap, ci));
	if (!d || d->eid_ident < 0 || memcmp(d->last_addr, r->addr, 6) || !p->snap ||
	    (uint64_t)d->eid_ident >= p->snap->n_identifiers || d->customer >= p->snap->n_customers)
		return false;
	if (!consent_gate_presence(p->snap, &p->snap->customers[d->customer], now_s))
		return false;
	id = &p->snap->identifiers[d->eid_ident];
	if (!etlm_decrypt(p->aes, snap_identifier_bytes(p->snap, id, key), d->eid_time_base, e,
			  &tlm)) {
		p->stats.etlm_failed++;
		return true; /* still the tag's frame: not for footfall */
	}
	p->stats.etlm_decrypted++;
	beacon_health_tag(p->bh, snap_customer_ref(p->snap, &p->snap->customers[d->customer], ref),
			  &tlm,
			  r->ts_us, &d->last_health_us);
	return true;
}

static void advance(struct pipeline *p, uint64_t now_us)
{
	if (now_us > p->now_us)
		p->now_us = now_us;
	p->stats.eid_computed += id_index_roll(p->idx, to_s(now_us));
}

/*
 * A consented customer was heard. Controllers that report no RSSI (0x7F:
 * some UART dongles, BlueZ's virtual controllers) still prove the tag is in
 * radio range: such a sighting counts towards entry as if at the enter
 * threshold, or leaves an already measured filter where it is, and the
 * visit is marked rssi_known = false until a real reading arrives, so that
 * no made-up RSSI or distance is ever published.
 */
static struct presence_device *sighting(struct pipeline *p, int64_t customer_id, uint32_t ci,
					const struct adv_report *r, float power)
{
	struct presence_device *d;
	bool real = adv_rssi_valid(r);
	int8_t rssi = r->rssi;

	if (isnan(power))
		power = r->tx_power != ADV_TX_POWER_UNAVAILABLE ?
				(float)(r->tx_power - EDDYSTONE_0M_TO_1M) :
				(float)p->cfg.default_power_1m;
	if (!real) {
		d = presence_find(p->pr, customer_id);
		rssi = d && d->rssi_known ? (int8_t)lroundf(d->rssi_filtered) : p->cfg.enter_rssi;
	}
	d = presence_sighting(p->pr, customer_id, ci, rssi, power, r->ts_us);
	if (d && real)
		d->rssi_known = true;
	return d;
}

static void report_now(struct pipeline *p, const struct adv_report *r);

/* A report that waited for its address's IRK search (irk_async.h). */
static void replay_report(void *ctx, const struct adv_report *r)
{
	report_now(ctx, r);
}

void pipeline_report(struct pipeline *p, const struct adv_report *r)
{
	if (p->irk_async) {
		irk_async_collect(p->irk_async);
		if (irk_async_park(p->irk_async, r))
			return;
	}
	report_now(p, r);
}

static void report_now(struct pipeline *p, const struct adv_report *r)
{
	struct bf_frame frames[FRAMES_MAX];
	struct sighting s = { .ident = -1, .power_1m = NAN };
	size_t n;
	int64_t now_s = to_s(r->ts_us);

	p->stats.reports++;
	advance(p, r->ts_us);
	n = r->data ? bf_decode(r->data, r->data_len, frames, FRAMES_MAX) : 0;
	if (n > FRAMES_MAX)
		n = FRAMES_MAX;
	if (n)
		p->stats.decoded++;
	identify(p, r, frames, n, &s);
	if (s.tlm) {
		beacon_health_tlm(p->bh, r->addr, r->addr_type, s.tlm, r->ts_us);
		if (s.ident < 0 && beacon_health_is_store_addr(p->bh, r->addr, r->addr_type))
			s.store_beacon = true;
		if (s.ident < 0 && beacon_fleet_tlm(p->fleet, s.tlm, r->addr, r->addr_type, r->ts_us))
			s.store_beacon = true;
	}
	if (s.store_beacon && s.ident < 0)
		return; /* the store's own fixed beacon: not a visitor */

	if (s.ident >= 0 && p->snap) {
		uint32_t ci = p->snap->identifiers[s.ident].customer;
		const struct snap_customer *c = &p->snap->customers[ci];
		const struct snap_consent *presence =
			&snap_customer_consent(p->snap, c)[SNAP_PRESENCE];
		int64_t id = snap_customer_id(p->snap, ci);

		p->stats.identified++;
		if (consent_gate_presence(p->snap, c, now_s)) {
			struct presence_device *d = NULL;

			p->stats.consented++;
			d = sighting(p, id, ci, r, s.power_1m);
			if (d) {
				memcpy(d->last_addr, r->addr, 6);
				if (s.via_eid) {
					d->eid_ident = (int32_t)s.ident;
					d->eid_time_base = s.eid_time_base;
					addr_cache_put(p->eid_addrs, r->addr, ci);
				}
				if (s.etlm)
					pair_etlm(p, r, s.etlm, d);
			}
			p->stats.tracked_devices = presence_count(p->pr);
			return;
		}
		/* Enrolled but no presence consent (never given, expired or
		 * withdrawn): forget any state at once, count anonymously. */
		p->stats.no_consent++;
		if (presence->granted && now_s < (int64_t)presence->from)
			p->stats.before_consent++;
		presence_forget(p->pr, id);
		if (p->sz)
			site_zone_forget(p->sz, id);
		p->stats.tracked_devices = presence_count(p->pr);
		s.anon[0] = ANON_ENROLLED;
		memcpy(s.anon + 1, &id, sizeof(id));
		s.anon_len = 1 + sizeof(id);
	} else if (s.etlm && pair_etlm(p, r, s.etlm, NULL)) {
		return; /* a consented tag's telemetry frame */
	}

	if (!adv_rssi_valid(r) || r->rssi < p->cfg.footfall_min_rssi)
		return;
	if (!s.anon_len) {
		/* No beacon id: the address is all there is (random addresses
		 * of phones rotate, so they may be counted more than once). */
		s.anon[0] = ANON_ADDRESS;
		s.anon[1] = r->addr_type;
		memcpy(s.anon + 2, r->addr, 6);
		s.anon_len = 8;
	}
	footfall_add(p->ff, s.anon, s.anon_len, r->ts_us);
	p->stats.footfall_counted++;
}

/* Consent lapsed since the last sighting (expiry, withdrawal): forget now. */
static void drop_unconsented(struct pipeline *p, int64_t now_s)
{
	uint32_t cap = presence_capacity(p->pr);

	for (uint32_t i = presence_next(p->pr, 0); p->snap && i < cap;
	     i = presence_next(p->pr, i + 1)) {
		struct presence_device *d = presence_slot(p->pr, i);

		if (d && (d->customer >= p->snap->n_customers ||
			  !consent_gate_presence(p->snap, &p->snap->customers[d->customer],
						 now_s))) {
			if (p->sz)
				site_zone_forget(p->sz, d->customer_id);
			presence_forget(p->pr, d->customer_id);
		}
	}
}

static void sync_stats(struct pipeline *p)
{
	const struct irk_stats *is = irk_get_stats(p->irk);

	p->stats.tracked_devices = presence_count(p->pr);
	p->stats.evicted = presence_evicted(p->pr);
	p->stats.footfall_suppressed = footfall_suppressed(p->ff);
	p->stats.irk_lookups = is->lookups;
	p->stats.irk_cache_hits = is->cache_hits;
	p->stats.irk_cache_capacity = is->cache_capacity;
	if (p->irk_async) {
		const struct irk_async_stats *as = irk_async_get_stats(p->irk_async);

		p->stats.irk_async_searches = as->searches;
		p->stats.irk_parked = as->parked;
		p->stats.irk_inline_searches = as->inline_searches;
	}
}

void pipeline_tick(struct pipeline *p, uint64_t now_us)
{
	/* Time-driven decisions (absence exits, dwell marks) must see every
	 * report that came before them, as inline: wait for the searches in
	 * flight, at most one search's time once a tick. */
	if (p->irk_async)
		irk_async_drain(p->irk_async);
	advance(p, now_us);
	drop_unconsented(p, to_s(now_us));
	pipeline_site_tick(p, now_us);
	presence_tick(p->pr, now_us);
	footfall_tick(p->ff, now_us);
	beacon_fleet_tick(p->fleet, now_us);
	irk_resolver_tick(p->irk);
	sync_stats(p);
}

int pipeline_set_store_beacons(struct pipeline *p, const struct store_beacon *v, size_t n)
{
	return beacon_fleet_set(p->fleet, v, n);
}

const struct beacon_fleet *pipeline_beacon_fleet(const struct pipeline *p)
{
	return p->fleet;
}

void pipeline_flush(struct pipeline *p, uint64_t now_us)
{
	if (p->irk_async)
		irk_async_drain(p->irk_async);
	advance(p, now_us);
	drop_unconsented(p, to_s(now_us));
	presence_flush(p->pr, now_us);
	footfall_flush(p->ff);
	sync_stats(p);
}

const struct pipeline_stats *pipeline_get_stats(const struct pipeline *p)
{
	/* The counters owned by the parts are copied in lazily; the pipeline
	 * object itself is never const, only the caller's view of it. */
	sync_stats((struct pipeline *)p);
	return &p->stats;
}

const struct snapshot *pipeline_get_snapshot(const struct pipeline *p)
{
	return p->snap;
}
