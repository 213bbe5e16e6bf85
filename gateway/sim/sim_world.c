/*
 * sim_world.c - the scenario engine.
 *
 * Every device (tag or crowd phone) has its next advertising time; a binary
 * min-heap keyed by (time, device index) yields them in order. Devices not
 * in the store are skipped ahead to when they arrive and retired when they
 * leave, so a long scenario with many phones costs only what it sends.
 */
#include "sim_world.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_addr.h"
#include "sim_radio.h"
#include "sim_rng.h"

/* Advertisers add a random 0..10 ms advDelay to every interval (Core spec
 * Vol 6 Part B 4.4.2.2.1), which also keeps devices from phase-locking. */
#define ADV_DELAY_MAX_US 10000

/* Eddystone tx_power is calibrated at 0 m; the scenario's txpower at 1 m. */
#define EDDYSTONE_0M_OFFSET_DB 41

enum dev_kind { DEV_TAG, DEV_PHONE };

enum phone_style { PHONE_NEARBY, PHONE_FINDMY };

struct dev {
	enum dev_kind kind;
	const struct scn_tag *tag;
	const struct scn_crowd *crowd;
	struct sim_rng rng;
	uint64_t next_us;
	uint64_t adv_count;
	uint8_t addr[6];
	uint8_t addr_type;
	uint64_t addr_expires_us;       /* UINT64_MAX: never */
	/* phones */
	uint64_t arrive_us, leave_us;
	double dist_m;
	enum phone_style style;
	uint8_t phone_bytes[24];        /* rotates with the address */
	uint8_t irk[16];                /* phones of a crowd with an irk-key */
	/* EID tags */
	bool eid_valid;
	uint32_t eid_period;
	uint8_t eid[8];
	/* TLM */
	uint32_t tlm_count0;
	uint32_t uptime0_ds;
	uint8_t sid;
};

struct sim_world {
	const struct scenario *s;
	uint64_t seed;
	eid_aes128_fn aes;
	int64_t start_time;
	uint64_t duration_us;
	struct dev *devs;
	size_t n_devs;
	size_t *heap;
	size_t heap_len;
	size_t next_fault;
	uint64_t silence_until;
	bool ended;
	struct sim_world_stats st;
};

/* ------------------------------------------------------------ heap */

static bool before(const struct sim_world *w, size_t a, size_t b)
{
	const struct dev *da = &w->devs[a], *db = &w->devs[b];

	return da->next_us < db->next_us || (da->next_us == db->next_us && a < b);
}

static void heap_swap(struct sim_world *w, size_t i, size_t j)
{
	size_t t = w->heap[i];

	w->heap[i] = w->heap[j];
	w->heap[j] = t;
}

static void sift_down(struct sim_world *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < w->heap_len && before(w, w->heap[l], w->heap[m]))
			m = l;
		if (r < w->heap_len && before(w, w->heap[r], w->heap[m]))
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

static void sift_up(struct sim_world *w, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!before(w, w->heap[i], w->heap[parent]))
			return;
		heap_swap(w, i, parent);
		i = parent;
	}
}

static void heap_push(struct sim_world *w, size_t dev)
{
	w->heap[w->heap_len++] = dev;
	sift_up(w, w->heap_len - 1);
}

/* The top device's next_us changed (or it retires): restore the heap. */
static void heap_fix_top(struct sim_world *w, bool retire)
{
	if (retire) {
		w->heap[0] = w->heap[--w->heap_len];
		if (w->heap_len == 0)
			return;
	}
	sift_down(w, 0);
}

/* ------------------------------------------------------------ payloads */

static size_t put_ad(uint8_t *out, size_t cap, size_t off, uint8_t type, const uint8_t *v,
		     size_t vlen)
{
	if (vlen > 254 || off + 2 + vlen > cap)
		return 0;
	out[off] = (uint8_t)(vlen + 1);
	out[off + 1] = type;
	memcpy(out + off + 2, v, vlen);
	return off + 2 + vlen;
}

/* Apple manufacturer data that is not iBeacon, as phones send all day. */
static size_t phone_payload(struct dev *d, uint8_t *out, size_t cap)
{
	size_t off = 0;

	if (d->style == PHONE_FINDMY) {
		/* Offline finding: no Flags, one 30-byte manufacturer AD. */
		uint8_t v[29] = { 0x4C, 0x00, 0x12, 0x19 };

		memcpy(v + 4, d->phone_bytes, 24);
		v[28] = 0x00;
		return put_ad(out, cap, 0, BF_AD_MANUFACTURER, v, sizeof(v));
	}
	static const uint8_t flags = 0x1A; /* LE General Discoverable, simultaneous LE+BR/EDR */
	uint8_t nearby[9] = { 0x4C, 0x00, 0x10, 0x05 };
	uint8_t txpow = 0x0C;

	memcpy(nearby + 4, d->phone_bytes, 5);
	off = put_ad(out, cap, off, BF_AD_FLAGS, &flags, 1);
	off = off ? put_ad(out, cap, off, BF_AD_MANUFACTURER, nearby, sizeof(nearby)) : 0;
	off = off ? put_ad(out, cap, off, 0x0A /* TX Power Level */, &txpow, 1) : 0;
	return off;
}

static void eid_update(struct sim_world *w, struct dev *d, uint64_t t_us)
{
	const struct scn_tag *tag = d->tag;
	/* Same convention as the gateway's store (snapshot.h): the offset is
	 * the Unix time at which the tag's counter read 0. */
	uint32_t counter = (uint32_t)((int64_t)(t_us / 1000000) + w->start_time -
				      tag->id.eid.offset);
	uint32_t period = eid_period_start(tag->id.eid.exponent, counter);

	if (d->eid_valid && period == d->eid_period)
		return;
	eid_compute(w->aes, tag->id.eid.key, tag->id.eid.exponent, counter, d->eid);
	d->eid_period = period;
	d->eid_valid = true;
	/* A privacy tag changes its address together with its EID, otherwise
	 * the address alone would track it (unless one was configured). */
	if (!tag->has_addr)
		sim_nrpa_new(&d->rng, d->addr);
}

static size_t tag_frame(struct dev *d, uint64_t t_us, uint8_t *out, size_t cap)
{
	const struct scn_tag *tag = d->tag;
	struct bf_frame f;

	memset(&f, 0, sizeof(f));
	bool tlm = tag->tlm && (tag->id_type == SCN_ID_NONE ||
				d->adv_count % tag->tlm_every == tag->tlm_every - 1);

	if (tlm) {
		f.type = BF_EDDYSTONE_TLM;
		f.u.tlm.battery_mv = tag->tlm_battery_mv;
		f.u.tlm.temp_8_8 = (int16_t)lround(tag->tlm_temp_c * 256.0);
		f.u.tlm.adv_count = d->tlm_count0 + (uint32_t)d->adv_count;
		f.u.tlm.uptime_ds = d->uptime0_ds + (uint32_t)(t_us / 100000);
		return bf_encode(&f, out, cap);
	}
	int8_t tx0 = (int8_t)(tag->txpower + EDDYSTONE_0M_OFFSET_DB > 127 ? 127 :
			      tag->txpower + EDDYSTONE_0M_OFFSET_DB);

	switch (tag->id_type) {
	case SCN_ID_IBEACON:
		f.type = BF_IBEACON;
		memcpy(f.u.ibeacon.uuid, tag->id.ibeacon.uuid, 16);
		f.u.ibeacon.major = tag->id.ibeacon.major;
		f.u.ibeacon.minor = tag->id.ibeacon.minor;
		f.u.ibeacon.measured_power = tag->txpower;
		break;
	case SCN_ID_EDDYSTONE_UID:
		f.type = BF_EDDYSTONE_UID;
		f.u.uid.tx_power = tx0;
		memcpy(f.u.uid.namespace_id, tag->id.uid.namespace_id, 10);
		memcpy(f.u.uid.instance, tag->id.uid.instance, 6);
		f.u.uid.has_reserved = true;
		break;
	case SCN_ID_EDDYSTONE_EID:
		f.type = BF_EDDYSTONE_EID;
		f.u.eid.tx_power = tx0;
		memcpy(f.u.eid.eid, d->eid, 8);
		break;
	case SCN_ID_EDDYSTONE_URL:
		f.type = BF_EDDYSTONE_URL;
		f.u.url.tx_power = tx0;
		memcpy(f.u.url.url, tag->id.url, sizeof(f.u.url.url));
		break;
	case SCN_ID_ALTBEACON:
		f.type = BF_ALTBEACON;
		f.u.altbeacon.company_id = tag->id.alt.company_id;
		memcpy(f.u.altbeacon.beacon_id, tag->id.alt.beacon_id, 20);
		f.u.altbeacon.ref_rssi = tag->txpower;
		break;
	case SCN_ID_IRK:
		return phone_payload(d, out, cap);
	default:
		return 0;
	}
	return bf_encode(&f, out, cap);
}

/* Extended payload: the frame, then manufacturer-specific AD structures
 * (company 0xFFFF, reserved for tests) up to the configured length, so
 * the report needs several HCI events. */
static size_t pad_extended(struct dev *d, uint8_t *out, size_t len, size_t want)
{
	while (len + 4 <= want) {
		size_t vlen = want - len - 2;

		if (vlen > 254)
			vlen = 254;
		if (len + 2 + vlen > want)
			break;
		out[len] = (uint8_t)(vlen + 1);
		out[len + 1] = BF_AD_MANUFACTURER;
		out[len + 2] = 0xFF;
		out[len + 3] = 0xFF;
		sim_rng_bytes(&d->rng, out + len + 4, (unsigned)(vlen - 2));
		len += 2 + vlen;
	}
	return len;
}

/* ------------------------------------------------------------ devices */

static void rotate_address(struct sim_world *w, struct dev *d, uint64_t t_us)
{
	uint64_t period = d->kind == DEV_PHONE ? d->crowd->rotate_us : d->tag->rotate_us;

	/* Phones rotate on their own jittered schedule (+-20 %), as the OS's
	 * privacy timer does, so rotations are not synchronised. */
	uint64_t life = (uint64_t)((double)period * sim_rng_range(&d->rng, 0.8, 1.2));

	if (d->kind == DEV_TAG && d->tag->id_type == SCN_ID_IRK)
		sim_rpa_new(w->aes, d->tag->id.irk, &d->rng, d->addr);
	else if (d->kind == DEV_PHONE && d->crowd->has_irk_key)
		sim_rpa_new(w->aes, d->irk, &d->rng, d->addr);
	else
		sim_nrpa_new(&d->rng, d->addr);
	sim_rng_bytes(&d->rng, d->phone_bytes, sizeof(d->phone_bytes));
	d->addr_expires_us = t_us + (life ? life : 1);
}

static void init_tag(struct sim_world *w, struct dev *d, const struct scn_tag *tag, size_t idx)
{
	d->kind = DEV_TAG;
	d->tag = tag;
	sim_rng_seed(&d->rng, w->seed, sim_hash_name(tag->name));
	d->addr_type = ADV_ADDR_RANDOM;
	d->addr_expires_us = UINT64_MAX;
	d->sid = (uint8_t)(idx % 16);
	d->style = PHONE_NEARBY;
	if (tag->has_addr) {
		memcpy(d->addr, tag->addr, 6);
		d->addr_type = tag->addr_type;
	} else {
		sim_static_addr_new(&d->rng, d->addr);
	}
	if (tag->id_type == SCN_ID_IRK && !tag->has_addr)
		d->addr_expires_us = 0; /* an RPA is chosen at the first advertisement */
	d->tlm_count0 = (uint32_t)sim_rng_below(&d->rng, 1000000);
	d->uptime0_ds = (uint32_t)sim_rng_below(&d->rng, 30u * 24 * 36000); /* up to 30 days */
	/* First advertisement: a random phase within one interval of arrival. */
	d->next_us = tag->path[0].t_us + sim_rng_below(&d->rng, tag->interval_us);
}

static void init_phone(struct sim_world *w, struct dev *d, const struct scn_crowd *c,
		       unsigned member)
{
	d->kind = DEV_PHONE;
	d->crowd = c;
	sim_rng_seed(&d->rng, w->seed, sim_hash_name(c->name) + 0x9E3779B97F4A7C15ull * member);
	d->addr_type = ADV_ADDR_RANDOM;
	d->style = sim_rng_uniform(&d->rng) < 0.3 ? PHONE_FINDMY : PHONE_NEARBY;
	uint64_t dwell = c->dwell_min_us +
			 sim_rng_below(&d->rng, c->dwell_max_us - c->dwell_min_us + 1);
	/* Arrivals spread so that the store is already busy at time 0. */
	double arrive = sim_rng_range(&d->rng, -(double)dwell, (double)w->duration_us);

	d->arrive_us = arrive < 0 ? 0 : (uint64_t)arrive;
	d->leave_us = (uint64_t)fmax(arrive + (double)dwell, 0.0);
	if (d->leave_us <= d->arrive_us)
		d->leave_us = d->arrive_us + 1;
	d->dist_m = sim_rng_range(&d->rng, c->dist_min, c->dist_max);
	d->next_us = d->arrive_us + sim_rng_below(&d->rng, c->interval_us);
	d->addr_expires_us = 0; /* chosen at the first advertisement */
	if (c->has_irk_key)
		sim_crowd_irk(w->aes, c->irk_key, member, d->irk);
}

struct sim_world *sim_world_new(const struct scenario *s, uint64_t seed, int64_t start_time,
				uint64_t duration_us, eid_aes128_fn aes)
{
	struct sim_world *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->s = s;
	w->seed = seed;
	w->aes = aes;
	w->start_time = start_time;
	w->duration_us = duration_us ? duration_us : s->duration_us;
	size_t n = s->n_tags;

	for (size_t i = 0; i < s->n_crowds; i++)
		n += s->crowds[i].count;
	w->devs = calloc(n ? n : 1, sizeof(*w->devs));
	w->heap = calloc(n ? n : 1, sizeof(*w->heap));
	if (!w->devs || !w->heap) {
		sim_world_free(w);
		return NULL;
	}
	for (size_t i = 0; i < s->n_tags; i++)
		init_tag(w, &w->devs[w->n_devs++], &s->tags[i], i);
	for (size_t i = 0; i < s->n_crowds; i++)
		for (unsigned m = 0; m < s->crowds[i].count; m++)
			init_phone(w, &w->devs[w->n_devs++], &s->crowds[i], m);
	for (size_t i = 0; i < w->n_devs; i++)
		heap_push(w, i);
	return w;
}

void sim_world_free(struct sim_world *w)
{
	if (!w)
		return;
	free(w->devs);
	free(w->heap);
	free(w);
}

static uint64_t next_adv_us(const struct sim_world *w)
{
	return w->heap_len ? w->devs[w->heap[0]].next_us : UINT64_MAX;
}

static uint64_t next_fault_us(const struct sim_world *w)
{
	return w->next_fault < w->s->n_faults ? w->s->faults[w->next_fault].at_us : UINT64_MAX;
}

uint64_t sim_world_peek(const struct sim_world *w)
{
	if (w->ended)
		return UINT64_MAX;
	uint64_t t = next_adv_us(w), f = next_fault_us(w);

	if (f < t)
		t = f;
	return t < w->duration_us ? t : w->duration_us;
}

/* Where the top device is at t: distance, or negative when not in the
 * store; *gone when it will never be back. */
static double device_distance(const struct sim_world *w, const struct dev *d, uint64_t t,
			      uint64_t *resume_us, bool *gone)
{
	*gone = false;
	*resume_us = 0;
	if (d->kind == DEV_PHONE) {
		if (t >= d->leave_us) {
			*gone = true;
			return -1;
		}
		return d->dist_m;
	}
	double dist = scenario_tag_distance(w->s, d->tag, t);

	if (dist < 0) {
		if (t > d->tag->path[d->tag->n_path - 1].t_us)
			*gone = true;
		else
			*resume_us = d->tag->path[0].t_us;
		return -1;
	}
	return dist;
}

/* Let the top device advertise at its next_us; true with *a filled when
 * the gateway's antenna receives it. */
static bool advertise(struct sim_world *w, struct sim_adv *a, uint64_t *t_out)
{
	struct dev *d = &w->devs[w->heap[0]];
	uint64_t t = d->next_us;
	uint64_t resume;
	bool gone;
	double dist = device_distance(w, d, t, &resume, &gone);

	*t_out = t;
	if (gone) {
		heap_fix_top(w, true);
		return false;
	}
	if (dist < 0) {
		d->next_us = resume > t ? resume : t + 1;
		heap_fix_top(w, false);
		return false;
	}
	uint64_t interval = d->kind == DEV_PHONE ? d->crowd->interval_us : d->tag->interval_us;
	int txpower = d->kind == DEV_PHONE ? d->crowd->txpower : d->tag->txpower;

	d->next_us = t + interval + sim_rng_below(&d->rng, ADV_DELAY_MAX_US + 1);
	if (t >= d->addr_expires_us)
		rotate_address(w, d, t);
	if (d->kind == DEV_TAG && d->tag->id_type == SCN_ID_EDDYSTONE_EID)
		eid_update(w, d, t);

	a->device = d->kind == DEV_PHONE ? d->crowd->name : d->tag->name;
	memcpy(a->addr, d->addr, 6);
	a->addr_type = d->addr_type;
	a->sid = d->sid;
	bool is_phone = d->kind == DEV_PHONE;

	if (is_phone) {
		a->len = (uint16_t)phone_payload(d, a->data, BF_LEGACY_ADV_MAX);
	} else {
		size_t cap = d->tag->ext_len ? BF_EXT_ADV_MAX : BF_LEGACY_ADV_MAX;
		size_t len = tag_frame(d, t, a->data, cap);

		if (d->tag->ext_len && len < d->tag->ext_len)
			len = pad_extended(d, a->data, len, d->tag->ext_len);
		a->len = (uint16_t)len;
	}
	if (d->kind == DEV_TAG && d->tag->ext_len) {
		a->legacy = false;
		a->kind = ADV_KIND_EXT;
	} else {
		a->legacy = true;
		/* Phones are connectable; beacons are not. */
		bool connectable = is_phone || d->tag->id_type == SCN_ID_IRK;

		a->kind = connectable ? ADV_KIND_IND : ADV_KIND_NONCONN_IND;
	}
	d->adv_count++;
	/* Every advertisement draws its noise, received or not, so reception
	 * never shifts a device's random stream. */
	double h = w->s->gateway_height_m;
	int rssi = sim_radio_rssi(&d->rng, txpower, w->s->path_loss_n, w->s->noise_sigma_db,
				  h > 0 ? hypot(dist, h) : dist);

	heap_fix_top(w, false);
	w->st.advertisements++;
	if (rssi < w->s->sensitivity_dbm) {
		w->st.below_sensitivity++;
		return false;
	}
	if (t < w->silence_until) {
		w->st.silenced++;
		return false;
	}
	a->rssi = (int8_t)rssi;
	return true;
}

void sim_world_next(struct sim_world *w, uint64_t until_us, struct sim_event *ev)
{
	ev->fault = NULL;
	while (!w->ended) {
		uint64_t fa = next_fault_us(w), ad = next_adv_us(w);
		uint64_t t = fa <= ad ? fa : ad;

		if (t >= w->duration_us)
			t = w->duration_us;
		if (t > until_us) {
			ev->kind = SIM_EV_NONE;
			ev->t_us = t;
			return;
		}
		if (t >= w->duration_us) {
			w->ended = true;
			break;
		}
		if (fa <= ad) {
			const struct scn_fault *f = &w->s->faults[w->next_fault++];

			if (f->kind == SCN_FAULT_SILENCE && f->at_us + f->for_us > w->silence_until)
				w->silence_until = f->at_us + f->for_us;
			ev->kind = SIM_EV_FAULT;
			ev->t_us = f->at_us;
			ev->fault = f;
			return;
		}
		uint64_t when;

		if (advertise(w, &ev->adv, &when)) {
			w->st.delivered++;
			ev->kind = SIM_EV_ADV;
			ev->t_us = when;
			return;
		}
	}
	ev->kind = SIM_EV_END;
	ev->t_us = w->duration_us;
}

void sim_world_stats(const struct sim_world *w, struct sim_world_stats *st)
{
	*st = w->st;
}

double sim_world_path_distance(const struct scn_tag *t, uint64_t t_us)
{
	if (t->n_path == 0 || t_us < t->path[0].t_us || t_us > t->path[t->n_path - 1].t_us)
		return -1.0;
	if (t->n_path == 1)
		return t->path[0].dist_m;
	for (size_t i = 1; i < t->n_path; i++) {
		const struct scn_waypoint *a = &t->path[i - 1], *b = &t->path[i];

		if (t_us <= b->t_us) {
			double f = (double)(t_us - a->t_us) / (double)(b->t_us - a->t_us);

			return a->dist_m + f * (b->dist_m - a->dist_m);
		}
	}
	return t->path[t->n_path - 1].dist_m;
}
