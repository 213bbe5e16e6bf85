/*
 * hub_config.c - read beaconhub's INI file (hub_config.h).
 */
#include "hub_config.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse {
	struct hub_config *c;
	char *err;
	size_t errlen;
	int line;
};

static int set_u32(uint32_t *dst, const char *v, uint32_t min, uint32_t max)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || n < min || n > max)
		return -1;
	*dst = (uint32_t)n;
	return 0;
}

static int set_str(char *dst, size_t n, const char *v)
{
	if (strlen(v) >= n)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int authority(struct hub_config *c, const char *key, const char *v)
{
	if (!strcmp(key, "db"))
		return set_str(c->db, sizeof(c->db), v);
	if (!strcmp(key, "signing_key"))
		return set_str(c->signing_key, sizeof(c->signing_key), v);
	if (!strcmp(key, "fleet")) {
		/* The fleet id is in every signed message and in logs: names only. */
		if (!*v || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789._-") != strlen(v))
			return -1;
		return set_str(c->fleet, sizeof(c->fleet), v);
	}
	if (!strcmp(key, "head_interval_s"))
		return set_u32(&c->head_interval_s, v, 1, 86400);
	if (!strcmp(key, "poll_ms"))
		return set_u32(&c->poll_ms, v, 10, 60000);
	if (!strcmp(key, "snapshot_chunk_bytes"))
		return set_u32(&c->chunk_bytes, v, 512, 1 << 20);
	return 1;
}

static int on_key(void *ctx, const char *section, const char *key, const char *value)
{
	struct parse *p = ctx;
	char derr[256];
	int rc;

	if (p->err[0])
		return 1;
	if (!strcmp(section, "authority")) {
		rc = authority(p->c, key, value);
		if (rc > 0)
			snprintf(p->err, p->errlen, "[authority] %s: unknown key", key);
		else if (rc < 0)
			snprintf(p->err, p->errlen, "[authority] %s: bad value \"%.64s\"", key,
				 value);
		return 1;
	}
	if (!strcmp(section, "mqtt")) {
		rc = delivery_config_set(&p->c->mqtt, section, key, value, derr, sizeof(derr));
		if (rc == 0)
			snprintf(p->err, p->errlen, "[mqtt] %s: unknown key", key);
		else if (rc < 0)
			snprintf(p->err, p->errlen, "[mqtt] %s", derr);
		return 1;
	}
	snprintf(p->err, p->errlen, "[%s]: unknown section", section);
	return 1;
}

int hub_config_load(const char *path, struct hub_config *c, char *err, size_t errlen)
{
	struct parse p = { .c = c, .err = err, .errlen = errlen };
	int rc;

	memset(c, 0, sizeof(*c));
	c->head_interval_s = 60;
	c->poll_ms = 200;
	c->chunk_bytes = 4096;
	delivery_config_defaults(&c->mqtt);
	err[0] = '\0';
	rc = ini_parse(path, on_key, &p);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read", path);
		return -1;
	}
	if (rc > 0 && !err[0])
		snprintf(err, errlen, "%s:%d: syntax error", path, rc);
	if (err[0])
		return -1;
	if (!c->db[0] || !c->signing_key[0] || !c->fleet[0]) {
		snprintf(err, errlen, "%s: [authority] db, signing_key and fleet are required", path);
		return -1;
	}
	/* The broker link names its session and last will after these. */
	snprintf(c->mqtt.site, sizeof(c->mqtt.site), "beaconhub");
	snprintf(c->mqtt.gateway, sizeof(c->mqtt.gateway), "%s", c->fleet);
	return delivery_config_check(&c->mqtt, err, errlen);
}
