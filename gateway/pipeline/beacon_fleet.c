/* beacon_fleet.c - registered store beacons: matching, readings, status, JSON. */
#include "beacon_fleet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgw_util.h"
#include "pl_json.h"

#define US_PER_S 1000000u

struct fleet_beacon {
	struct store_beacon def;
	bool have_addr;                 /* the address it was last heard from */
	uint8_t addr[6], addr_type;
	uint64_t last_seen_us, last_pub_us;
	int battery_mv;                 /* -1: no TLM yet, or none reported */
	int16_t temp_8_8;
	bool have_temp;
	enum beacon_fleet_status status;
};

struct beacon_fleet {
	struct pipeline_config cfg;
	char site[2 * PIPELINE_NAME_MAX], gateway[2 * PIPELINE_NAME_MAX],
		zone[2 * PIPELINE_NAME_MAX];
	beacon_health_emit_fn emit, change;
	void *ctx;
	struct fleet_beacon *tab;
	size_t n;
	uint64_t start_us;              /* first time seen: the grace period of the unseen */
};

const char *beacon_fleet_status_name(enum beacon_fleet_status s)
{
	switch (s) {
	case BEACON_OK: return "ok";
	case BEACON_LOW_BATTERY: return "low_battery";
	case BEACON_MISSING: return "missing";
	case BEACON_UNSEEN: break;
	}
	return "unseen";
}

struct beacon_fleet *beacon_fleet_new(const struct pipeline_config *cfg,
				      beacon_health_emit_fn emit, beacon_health_emit_fn change,
				      void *ctx)
{
	struct beacon_fleet *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->cfg = *cfg;
	f->emit = emit;
	f->change = change ? change : emit;
	f->ctx = ctx;
	pl_json_escape(f->site, sizeof(f->site), cfg->site);
	pl_json_escape(f->gateway, sizeof(f->gateway), cfg->gateway);
	pl_json_escape(f->zone, sizeof(f->zone), cfg->zone);
	return f;
}

void beacon_fleet_free(struct beacon_fleet *f)
{
	if (!f)
		return;
	free(f->tab);
	free(f);
}

int beacon_fleet_set(struct beacon_fleet *f, const struct store_beacon *v, size_t n)
{
	struct fleet_beacon *tab = NULL;

	if (n > f->cfg.max_store_beacons)
		n = f->cfg.max_store_beacons;
	if (n && !(tab = calloc(n, sizeof(*tab))))
		return -1;
	for (size_t i = 0; i < n; i++) {
		tab[i].def = v[i];
		tab[i].battery_mv = -1;
		tab[i].status = BEACON_UNSEEN;
		/* Same name, same beacon: keep what was heard of it. */
		for (size_t j = 0; j < f->n; j++) {
			if (strcmp(f->tab[j].def.name, v[i].name) != 0)
				continue;
			tab[i] = f->tab[j];
			tab[i].def = v[i];
			break;
		}
		if (v[i].type == STORE_BEACON_TLM && !tab[i].have_addr) {
			memcpy(tab[i].addr, v[i].id, 6);
			tab[i].have_addr = true;
		}
	}
	free(f->tab);
	f->tab = tab;
	f->n = n;
	return 0;
}

static enum beacon_fleet_status status_at(const struct beacon_fleet *f,
					  const struct fleet_beacon *b, uint64_t now_us)
{
	uint64_t limit = (uint64_t)f->cfg.beacon_missing_after_s * US_PER_S;

	if (!b->last_seen_us)
		return now_us >= f->start_us + limit ? BEACON_MISSING : BEACON_UNSEEN;
	if (now_us >= b->last_seen_us + limit)
		return BEACON_MISSING;
	if (b->battery_mv >= 0 && (uint32_t)b->battery_mv < f->cfg.beacon_low_battery_mv)
		return BEACON_LOW_BATTERY;
	return BEACON_OK;
}

static void publish(struct beacon_fleet *f, struct fleet_beacon *b, uint64_t now_us,
		    bool changed)
{
	char json[2048], ts[40], seen[48] = "null", batt[16] = "null", temp[16] = "null";
	char name[2 * STORE_BEACON_NAME_MAX], place[2 * STORE_BEACON_PLACE_MAX];
	char value[2 * STORE_BEACON_VALUE_MAX], addr[40] = "";
	/* A change is an alert (durable in the daemon), the rest a reading. */
	beacon_health_emit_fn out = changed ? f->change : f->emit;

	if (!out)
		return;
	b->last_pub_us = now_us;
	pl_json_time(ts, sizeof(ts), now_us);
	if (b->last_seen_us) {
		seen[0] = '"';
		pl_json_time(seen + 1, sizeof(seen) - 2, b->last_seen_us);
		strcat(seen, "\"");
	}
	if (b->battery_mv > 0)
		snprintf(batt, sizeof(batt), "%d", b->battery_mv);
	if (b->have_temp)
		snprintf(temp, sizeof(temp), "%.2f", b->temp_8_8 / 256.0);
	if (b->have_addr)
		snprintf(addr, sizeof(addr), ",\"address\":\"%02X:%02X:%02X:%02X:%02X:%02X\"",
			 b->addr[5], b->addr[4], b->addr[3], b->addr[2], b->addr[1], b->addr[0]);
	pl_json_escape(name, sizeof(name), b->def.name);
	pl_json_escape(place, sizeof(place), b->def.place);
	pl_json_escape(value, sizeof(value), b->def.value);
	snprintf(json, sizeof(json),
		 "{\"schema\":1,\"ts\":\"%s\",\"site\":\"%s\",\"gateway\":\"%s\",\"zone\":\"%s\","
		 "\"kind\":\"store\",\"name\":\"%s\",\"place\":\"%s\",\"type\":\"%s\","
		 "\"value\":\"%s\",\"status\":\"%s\",\"last_seen\":%s,\"battery_mv\":%s,"
		 "\"temperature_c\":%s%s}",
		 ts, f->site, f->gateway, f->zone, name, place,
		 store_beacon_type_name(b->def.type), value, beacon_fleet_status_name(b->status),
		 seen, batt, temp, addr);
	out(f->ctx, json);
}

/* Re-evaluate one beacon; a message when its status changed or one is due. */
static void update(struct beacon_fleet *f, struct fleet_beacon *b, uint64_t now_us, bool heard)
{
	enum beacon_fleet_status s = status_at(f, b, now_us);
	bool changed = s != b->status;
	uint64_t interval = (uint64_t)f->cfg.beacon_health_interval_s * US_PER_S;

	b->status = s;
	if (s == BEACON_UNSEEN)
		return;
	if (changed || (heard && (!b->last_pub_us || now_us >= b->last_pub_us + interval)))
		publish(f, b, now_us, changed);
}

static void heard(struct beacon_fleet *f, struct fleet_beacon *b, const uint8_t addr[6],
		  uint8_t addr_type, uint64_t ts_us)
{
	if (!f->start_us)
		f->start_us = ts_us;
	memcpy(b->addr, addr, 6);
	b->addr_type = addr_type;
	b->have_addr = true;
	if (ts_us > b->last_seen_us)
		b->last_seen_us = ts_us;
	update(f, b, ts_us, true);
}

bool beacon_fleet_ibeacon(struct beacon_fleet *f, const struct bf_ibeacon *ib,
			  const uint8_t addr[6], uint8_t addr_type, uint64_t ts_us)
{
	for (size_t i = 0; i < f->n; i++) {
		const uint8_t *id = f->tab[i].def.id;

		if (f->tab[i].def.type == STORE_BEACON_IBEACON && !memcmp(id, ib->uuid, 16) &&
		    bgw_get_be16(id + 16) == ib->major && bgw_get_be16(id + 18) == ib->minor) {
			heard(f, &f->tab[i], addr, addr_type, ts_us);
			return true;
		}
	}
	return false;
}

bool beacon_fleet_uid(struct beacon_fleet *f, const struct bf_eddystone_uid *u,
		      const uint8_t addr[6], uint8_t addr_type, uint64_t ts_us)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct store_beacon *d = &f->tab[i].def;

		if ((d->type == STORE_BEACON_UID && !memcmp(d->id, u->namespace_id, 10) &&
		     !memcmp(d->id + 10, u->instance, 6)) ||
		    (d->type == STORE_BEACON_NS && !memcmp(d->id, u->namespace_id, 10))) {
			heard(f, &f->tab[i], addr, addr_type, ts_us);
			return true;
		}
	}
	return false;
}

bool beacon_fleet_url(struct beacon_fleet *f, const struct bf_eddystone_url *u,
		      const uint8_t addr[6], uint8_t addr_type, uint64_t ts_us)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->tab[i].def.type == STORE_BEACON_URL && !strcmp(f->tab[i].def.value, u->url)) {
			heard(f, &f->tab[i], addr, addr_type, ts_us);
			return true;
		}
	}
	return false;
}

bool beacon_fleet_tlm(struct beacon_fleet *f, const struct bf_eddystone_tlm *t,
		      const uint8_t addr[6], uint8_t addr_type, uint64_t ts_us)
{
	for (size_t i = 0; i < f->n; i++) {
		struct fleet_beacon *b = &f->tab[i];

		if (!b->have_addr || memcmp(b->addr, addr, 6) != 0)
			continue;
		b->battery_mv = t->battery_mv ? t->battery_mv : -1;
		b->have_temp = t->temp_8_8 != BF_TLM_TEMP_UNSUPPORTED;
		b->temp_8_8 = t->temp_8_8;
		heard(f, b, addr, addr_type, ts_us);
		return true;
	}
	return false;
}

void beacon_fleet_tick(struct beacon_fleet *f, uint64_t now_us)
{
	if (!f->start_us)
		f->start_us = now_us;
	for (size_t i = 0; i < f->n; i++)
		update(f, &f->tab[i], now_us, false);
}

size_t beacon_fleet_count(const struct beacon_fleet *f)
{
	return f->n;
}

void beacon_fleet_get(const struct beacon_fleet *f, size_t i, struct beacon_fleet_entry *e)
{
	const struct fleet_beacon *b = &f->tab[i];

	e->name = b->def.name;
	e->place = b->def.place;
	e->type = store_beacon_type_name(b->def.type);
	e->status = b->status;
	e->last_seen_us = b->last_seen_us;
	e->battery_mv = b->battery_mv;
	e->temperature_c = b->have_temp ? b->temp_8_8 / 256.0 : NAN;
}
