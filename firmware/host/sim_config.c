/* sim_config.c - INI configuration of beaconfw-sim (format in sim_config.h). */
#include "sim_config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "beacon_frame.h"
#include "nrf52_regs.h"
#include "bgw_util.h"

struct load_ctx {
	struct fw_config *cfg;
	struct hal_host_params *hp;
	char *err;
	size_t errlen;
	int line;
	bool failed;
};

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Hex digits into exactly n bytes; '-' and ':' may separate the bytes. */
static bool parse_hex(const char *s, uint8_t *out, size_t n)
{
	return bgw_hex_decode(s, strlen(s), out, n, "-:");
}

static bool parse_frames(const char *s, struct fw_config *cfg)
{
	static const struct {
		const char *name;
		enum fw_frame_kind kind;
	} names[] = {
		{ "ibeacon", FW_FRAME_IBEACON }, { "uid", FW_FRAME_UID }, { "url", FW_FRAME_URL },
		{ "tlm", FW_FRAME_TLM },         { "eid", FW_FRAME_EID },
	};
	char buf[128];
	char *save = NULL;
	uint8_t n = 0;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		bool found = false;

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strcasecmp(tok, names[i].name) == 0 && n < FW_SCHEDULE_MAX) {
				cfg->schedule[n++] = (uint8_t)names[i].kind;
				found = true;
			}
		}
		if (!found)
			return false;
	}
	cfg->schedule_len = n;
	return n > 0;
}

static bool set_tag(struct fw_config *c, const char *key, const char *v)
{
	long n;

	if (!strcmp(key, "frames"))
		return parse_frames(v, c);
	if (!strcmp(key, "tlm_every") && parse_long(v, 0, 255, &n))
		return c->tlm_every = (uint8_t)n, true;
	if (!strcmp(key, "tlm")) {
		if (!strcasecmp(v, "plain") || !strcasecmp(v, "encrypted"))
			return c->tlm_encrypted = !strcasecmp(v, "encrypted"), true;
		return false;
	}
	if (!strcmp(key, "interval_ms") && parse_long(v, 0, 65535, &n))
		return c->interval_ms = (uint16_t)n, true;
	if (!strcmp(key, "tx_power") && parse_long(v, -40, 8, &n))
		return c->tx_power_dbm = (int8_t)n, true;
	if (!strcmp(key, "ibeacon_uuid"))
		return parse_hex(v, c->ibeacon_uuid, 16);
	if (!strcmp(key, "ibeacon_major") && parse_long(v, 0, 65535, &n))
		return c->ibeacon_major = (uint16_t)n, true;
	if (!strcmp(key, "ibeacon_minor") && parse_long(v, 0, 65535, &n))
		return c->ibeacon_minor = (uint16_t)n, true;
	if (!strcmp(key, "ibeacon_power") && parse_long(v, -128, 127, &n))
		return c->ibeacon_power = (int8_t)n, true;
	if (!strcmp(key, "uid_namespace"))
		return parse_hex(v, c->uid_namespace, 10);
	if (!strcmp(key, "uid_instance"))
		return parse_hex(v, c->uid_instance, 6);
	if (!strcmp(key, "url")) {
		size_t len = bf_url_encode(v, c->url, sizeof(c->url));

		c->url_len = (uint8_t)len;
		return len >= 2;
	}
	if (!strcmp(key, "eddystone_power") && parse_long(v, -128, 127, &n))
		return c->eddystone_power = (int8_t)n, true;
	if (!strcmp(key, "identity_key"))
		return parse_hex(v, c->identity_key, 16);
	if (!strcmp(key, "eid_exponent") && parse_long(v, 0, 15, &n))
		return c->eid_exponent = (uint8_t)n, true;
	if (!strcmp(key, "eid_clock_base") && parse_long(v, 0, 0xFFFFFFFFL, &n))
		return c->eid_clock_base = (uint32_t)n, true;
	return false;
}

static bool set_sim(struct hal_host_params *hp, const char *key, const char *v)
{
	long n;

	if (!strcmp(key, "chip")) {
		if (!strcasecmp(v, "nrf52832")) {
			hp->part = FICR_PART_NRF52832;
			hp->variant = 0x41414530u; /* AAE0 */
		} else if (!strcasecmp(v, "nrf52840")) {
			hp->part = FICR_PART_NRF52840;
			hp->variant = 0x41414430u; /* AAD0 */
		} else {
			return false;
		}
		return true;
	}
	if (!strcmp(key, "device_address")) {
		uint8_t a[6];

		if (!parse_hex(v, a, 6))
			return false;
		hp->device_addr[0] = (uint32_t)a[5] | (uint32_t)a[4] << 8 | (uint32_t)a[3] << 16 |
				     (uint32_t)a[2] << 24;
		hp->device_addr[1] = 0xFFFF0000u | (uint32_t)a[1] | (uint32_t)a[0] << 8;
		return true;
	}
	if (!strcmp(key, "lfxo")) {
		if (!strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "true"))
			return hp->lfxo = true, true;
		if (!strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "false"))
			return hp->lfxo = false, true;
		return false;
	}
	if (!strcmp(key, "temperature")) {
		char *end;
		double t = strtod(v, &end);

		if (end == v || *end || t < -40 || t > 85)
			return false;
		hp->temp_quarter_c = (int32_t)(t * 4.0 + (t < 0 ? -0.5 : 0.5));
		return true;
	}
	if (!strcmp(key, "dcdc")) {
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "no"))
			return hp->dcdc = !strcasecmp(v, "yes"), true;
		return false;
	}
	if (!strcmp(key, "vdd_mv") && parse_long(v, 1700, 3600, &n))
		return hp->vdd_mv = (uint16_t)n, true;
	if (!strcmp(key, "seed") && parse_long(v, 1, 0x7FFFFFFFL, &n))
		return hp->rng_seed = (uint64_t)n, true;
	return false;
}

static int on_value(void *user, const char *section, const char *key, const char *value)
{
	struct load_ctx *ctx = user;
	bool ok;

	if (ctx->failed)
		return 0;
	if (!strcmp(section, "tag"))
		ok = set_tag(ctx->cfg, key, value);
	else if (!strcmp(section, "sim"))
		ok = set_sim(ctx->hp, key, value);
	else
		ok = false;
	if (!ok) {
		snprintf(ctx->err, ctx->errlen, "[%s] %s = %s: unknown key or bad value", section,
			 key, value);
		ctx->failed = true;
		return 0;
	}
	return 1;
}

int fw_sim_config_load(const char *path, struct fw_config *cfg, struct hal_host_params *hp,
		    char *err, size_t errlen)
{
	struct fw_config c = *cfg;
	struct hal_host_params h = *hp;
	struct load_ctx ctx = { .cfg = &c, .hp = &h, .err = err, .errlen = errlen };
	enum fw_config_error e;
	int rc = ini_parse(path, on_value, &ctx);

	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read", path);
		return -1;
	}
	if (rc > 0) {
		if (!ctx.failed)
			snprintf(err, errlen, "syntax error");
		size_t used = strlen(err);

		snprintf(err + used, errlen - used, " (%s line %d)", path, rc);
		return -1;
	}
	e = fw_config_check(&c);
	if (e != FW_CONFIG_OK) {
		snprintf(err, errlen, "%s: %s", path, fw_config_error_str(e));
		return -1;
	}
	*cfg = c;
	*hp = h;
	return 0;
}
