/* beacon_health.c - fixed-beacon TLM pairing, rate limiting and JSON. */
#include "beacon_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pl_json.h"

struct store_beacon {
	bool used;
	uint8_t addr[6], addr_type;
	uint8_t ns[10], instance[6];
	uint64_t last_uid_us, last_pub_us;
};

struct beacon_health {
	struct pipeline_config cfg;
	char site[2 * PIPELINE_NAME_MAX], gateway[2 * PIPELINE_NAME_MAX],
		zone[2 * PIPELINE_NAME_MAX];
	beacon_health_emit_fn emit;
	void *ctx;
	struct store_beacon *tab;
	uint32_t n;
};

struct beacon_health *beacon_health_new(const struct pipeline_config *cfg,
					beacon_health_emit_fn emit, void *ctx)
{
	struct beacon_health *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cfg = *cfg;
	b->emit = emit;
	b->ctx = ctx;
	pl_json_escape(b->site, sizeof(b->site), cfg->site);
	pl_json_escape(b->gateway, sizeof(b->gateway), cfg->gateway);
	pl_json_escape(b->zone, sizeof(b->zone), cfg->zone);
	b->n = cfg->max_store_beacons;
	b->tab = calloc(b->n ? b->n : 1, sizeof(*b->tab));
	if (!b->tab) {
		free(b);
		return NULL;
	}
	return b;
}

void beacon_health_free(struct beacon_health *b)
{
	if (!b)
		return;
	free(b->tab);
	free(b);
}

bool beacon_health_is_store_uid(const struct beacon_health *b, const uint8_t ns[10])
{
	for (uint8_t i = 0; i < b->cfg.n_store_namespaces && i < PIPELINE_STORE_NS_MAX; i++)
		if (!memcmp(b->cfg.store_namespaces[i], ns, 10))
			return true;
	return false;
}

static struct store_beacon *find(const struct beacon_health *b, const uint8_t addr[6], uint8_t type)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (b->tab[i].used && b->tab[i].addr_type == type &&
		    !memcmp(b->tab[i].addr, addr, 6))
			return &b->tab[i];
	return NULL;
}

void beacon_health_uid(struct beacon_health *b, const uint8_t addr[6], uint8_t addr_type,
		       const struct bf_eddystone_uid *uid, uint64_t ts_us)
{
	struct store_beacon *e;

	if (!b->n || !beacon_health_is_store_uid(b, uid->namespace_id))
		return;
	e = find(b, addr, addr_type);
	if (!e) {
		e = &b->tab[0];
		for (uint32_t i = 0; i < b->n && e->used; i++)
			if (!b->tab[i].used || b->tab[i].last_uid_us < e->last_uid_us)
				e = &b->tab[i];
		memset(e, 0, sizeof(*e));
		e->used = true;
		memcpy(e->addr, addr, 6);
		e->addr_type = addr_type;
	}
	memcpy(e->ns, uid->namespace_id, 10);
	memcpy(e->instance, uid->instance, 6);
	e->last_uid_us = ts_us;
}

static void hex(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The TLM fields shared by both message kinds. */
static void tlm_fields(char *out, size_t cap, const struct bf_eddystone_tlm *t)
{
	char batt[16] = "null", temp[16] = "null";

	if (t->battery_mv)
		snprintf(batt, sizeof(batt), "%u", t->battery_mv);
	if (t->temp_8_8 != BF_TLM_TEMP_UNSUPPORTED)
		snprintf(temp, sizeof(temp), "%.2f", t->temp_8_8 / 256.0);
	snprintf(out, cap,
		 "\"battery_mv\":%s,\"temperature_c\":%s,\"adv_count\":%u,\"uptime_s\":%.1f", batt,
		 temp, t->adv_count, t->uptime_ds / 10.0);
}

static bool due(const struct beacon_health *b, uint64_t last_us, uint64_t ts_us)
{
	return !last_us || ts_us >= last_us + (uint64_t)b->cfg.beacon_health_interval_s * 1000000u;
}

bool beacon_health_tlm(struct beacon_health *b, const uint8_t addr[6], uint8_t addr_type,
		       const struct bf_eddystone_tlm *tlm, uint64_t ts_us)
{
	struct store_beacon *e = b->n ? find(b, addr, addr_type) : NULL;
	char json[1024], ts[40], fields[256], ns[21], inst[13];

	if (!e || !due(b, e->last_pub_us, ts_us) || !b->emit)
		return false;
	e->last_pub_us = ts_us;
	pl_json_time(ts, sizeof(ts), ts_us);
	tlm_fields(fields, sizeof(fields), tlm);
	hex(ns, e->ns, 10);
	hex(inst, e->instance, 6);
	snprintf(json, sizeof(json),
		 "{\"schema\":1,\"ts\":\"%s\",\"site\":\"%s\",\"gateway\":\"%s\",\"zone\":\"%s\","
		 "\"kind\":\"fixed\",\"address\":\"%02X:%02X:%02X:%02X:%02X:%02X\","
		 "\"namespace\":\"%s\",\"instance\":\"%s\",%s}",
		 ts, b->site, b->gateway, b->zone, addr[5], addr[4], addr[3], addr[2], addr[1],
		 addr[0], ns, inst, fields);
	b->emit(b->ctx, json);
	return true;
}

bool beacon_health_tag(struct beacon_health *b, const char *customer_ref,
		       const struct bf_eddystone_tlm *tlm, uint64_t ts_us, uint64_t *last_us)
{
	char json[1024], ts[40], fields[256], ref[2 * 64];

	if (!due(b, *last_us, ts_us) || !b->emit)
		return false;
	*last_us = ts_us;
	pl_json_time(ts, sizeof(ts), ts_us);
	tlm_fields(fields, sizeof(fields), tlm);
	pl_json_escape(ref, sizeof(ref), customer_ref);
	snprintf(json, sizeof(json),
		 "{\"schema\":1,\"ts\":\"%s\",\"site\":\"%s\",\"gateway\":\"%s\",\"zone\":\"%s\","
		 "\"kind\":\"tag\",\"customer_ref\":\"%s\",%s}",
		 ts, b->site, b->gateway, b->zone, ref, fields);
	b->emit(b->ctx, json);
	return true;
}

uint32_t beacon_health_known(const struct beacon_health *b)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < b->n; i++)
		k += b->tab[i].used;
	return k;
}

bool beacon_health_is_store_addr(const struct beacon_health *b, const uint8_t addr[6],
				 uint8_t addr_type)
{
	return b->n && find(b, addr, addr_type) != NULL;
}
