#include "delivery_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void delivery_config_defaults(struct delivery_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->site, sizeof(c->site), "site");
	snprintf(c->gateway, sizeof(c->gateway), "gateway");
	snprintf(c->host, sizeof(c->host), "127.0.0.1");
	snprintf(c->topic_prefix, sizeof(c->topic_prefix), "beacongw/v1");
	c->keepalive_s = 30;
	c->tls_required = DELIVERY_TLS_AUTO;
	/* A retargeting trigger ("come to aisle 4") is worthless after ~15 min. */
	c->message_expiry_s = 900;
	c->session_expiry_s = 86400;
	c->max_inflight = 20;
	c->reconnect_min_ms = 1000;
	c->reconnect_max_ms = 60000;
	c->connect_timeout_ms = 10000;
	c->sync_timeout_ms = 10000;
	c->status_interval_s = 60;
	c->protocol = 5;
	c->outbox_max = 10000;
	c->late_after_s = 60;
	c->pending_max = 4096;
	c->consent_max_bytes = 8192;
	c->consent_queue_max = 256;
	c->consent_max_staleness_s = 900;
}

static int set_str(char *dst, size_t n, const char *v, char *err, size_t errlen, const char *key)
{
	if (strlen(v) >= n) {
		snprintf(err, errlen, "%s: value too long (max %zu characters)", key, n - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

static int set_u32(uint32_t *dst, const char *v, uint32_t min, uint32_t max, char *err,
		   size_t errlen, const char *key)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || x < min || x > max) {
		snprintf(err, errlen, "%s: expected an integer from %u to %u, got \"%s\"", key, min,
			 max, v);
		return -1;
	}
	*dst = (uint32_t)x;
	return 1;
}

/* Seconds, possibly fractional ("0.2"), stored as milliseconds. */
static int set_ms(uint32_t *dst, const char *v, double min_s, double max_s, char *err,
		  size_t errlen, const char *key)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(x) || x < min_s || x > max_s) {
		snprintf(err, errlen, "%s: expected seconds from %g to %g, got \"%s\"", key, min_s,
			 max_s, v);
		return -1;
	}
	*dst = (uint32_t)(x * 1000.0 + 0.5);
	return 1;
}

static int set_mqtt(struct delivery_config *c, const char *k, const char *v, char *err, size_t n)
{
	uint32_t u = 0;
	int rc;

	if (!strcmp(k, "host"))
		return set_str(c->host, sizeof(c->host), v, err, n, k);
	if (!strcmp(k, "port")) {
		rc = set_u32(&u, v, 1, 65535, err, n, k);
		c->port = (int)u;
		return rc;
	}
	if (!strcmp(k, "client_id"))
		return set_str(c->client_id, sizeof(c->client_id), v, err, n, k);
	if (!strcmp(k, "topic_prefix"))
		return set_str(c->topic_prefix, sizeof(c->topic_prefix), v, err, n, k);
	if (!strcmp(k, "keepalive")) {
		rc = set_u32(&u, v, 5, 65535, err, n, k);
		c->keepalive_s = (int)u;
		return rc;
	}
	if (!strcmp(k, "username"))
		return set_str(c->username, sizeof(c->username), v, err, n, k);
	if (!strcmp(k, "password")) {
		snprintf(err, n, "password: not accepted in the config; use password_file");
		return -1;
	}
	if (!strcmp(k, "password_file"))
		return set_str(c->password_file, sizeof(c->password_file), v, err, n, k);
	if (!strcmp(k, "cafile"))
		return set_str(c->cafile, sizeof(c->cafile), v, err, n, k);
	if (!strcmp(k, "capath"))
		return set_str(c->capath, sizeof(c->capath), v, err, n, k);
	if (!strcmp(k, "certfile"))
		return set_str(c->certfile, sizeof(c->certfile), v, err, n, k);
	if (!strcmp(k, "keyfile"))
		return set_str(c->keyfile, sizeof(c->keyfile), v, err, n, k);
	if (!strcmp(k, "tls_required")) {
		if (!strcasecmp(v, "auto"))
			c->tls_required = DELIVERY_TLS_AUTO;
		else if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
			c->tls_required = DELIVERY_TLS_YES;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
			c->tls_required = DELIVERY_TLS_NO;
		else {
			snprintf(err, n, "tls_required: expected auto, yes or no, got \"%s\"", v);
			return -1;
		}
		return 1;
	}
	if (!strcmp(k, "message_expiry"))
		return set_u32(&c->message_expiry_s, v, 0, 7 * 86400, err, n, k);
	if (!strcmp(k, "session_expiry"))
		return set_u32(&c->session_expiry_s, v, 0, UINT32_MAX - 1, err, n, k);
	if (!strcmp(k, "max_inflight")) {
		rc = set_u32(&u, v, 1, 1000, err, n, k);
		if (rc > 0)
			c->max_inflight = (int)u;
		return rc;
	}
	if (!strcmp(k, "reconnect_min"))
		return set_ms(&c->reconnect_min_ms, v, 0.05, 3600, err, n, k);
	if (!strcmp(k, "reconnect_max"))
		return set_ms(&c->reconnect_max_ms, v, 0.05, 3600, err, n, k);
	if (!strcmp(k, "connect_timeout"))
		return set_ms(&c->connect_timeout_ms, v, 0.1, 600, err, n, k);
	if (!strcmp(k, "sync_timeout"))
		return set_ms(&c->sync_timeout_ms, v, 0.1, 600, err, n, k);
	if (!strcmp(k, "status_interval"))
		return set_u32(&c->status_interval_s, v, 1, 86400, err, n, k);
	if (!strcmp(k, "protocol")) {
		if (!strcmp(v, "5"))
			c->protocol = 5;
		else if (!strcmp(v, "311") || !strcmp(v, "3.1.1"))
			c->protocol = 4;
		else {
			snprintf(err, n, "protocol: expected 5 or 3.1.1, got \"%s\"", v);
			return -1;
		}
		return 1;
	}
	return 0;
}

int delivery_config_set(struct delivery_config *c, const char *section, const char *key,
			const char *value, char *err, size_t errlen)
{
	if (!strcmp(section, "mqtt"))
		return set_mqtt(c, key, value, err, errlen);
	if (!strcmp(section, "outbox")) {
		if (!strcmp(key, "max"))
			return set_u32(&c->outbox_max, value, 1, 10000000, err, errlen, key);
		if (!strcmp(key, "late_after"))
			return set_u32(&c->late_after_s, value, 0, 7 * 86400, err, errlen, key);
		if (!strcmp(key, "pending_max"))
			return set_u32(&c->pending_max, value, 1, 1000000, err, errlen, key);
		return 0;
	}
	if (!strcmp(section, "consent")) {
		if (!strcmp(key, "public_key"))
			return set_str(c->consent_pubkey, sizeof(c->consent_pubkey), value, err,
				       errlen, key);
		if (!strcmp(key, "max_bytes"))
			return set_u32(&c->consent_max_bytes, value, 256, 1048576, err, errlen,
				       key);
		if (!strcmp(key, "queue_max"))
			return set_u32(&c->consent_queue_max, value, 1, 65536, err, errlen, key);
		if (!strcmp(key, "fleet"))
			return set_str(c->consent_fleet, sizeof(c->consent_fleet), value, err,
				       errlen, key);
		if (!strcmp(key, "public_key_next"))
			return set_str(c->consent_pubkey_next, sizeof(c->consent_pubkey_next), value,
				       err, errlen, key);
		if (!strcmp(key, "max_staleness_s"))
			return set_u32(&c->consent_max_staleness_s, value, 10, 604800, err, errlen,
				       key);
		return 0;
	}
	return 0;
}

bool delivery_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost.localdomain"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

bool delivery_config_tls_enabled(const struct delivery_config *c)
{
	return c->cafile[0] || c->capath[0];
}

int delivery_config_port(const struct delivery_config *c)
{
	if (c->port)
		return c->port;
	return delivery_config_tls_enabled(c) ? 8883 : 1883;
}

int delivery_config_check(const struct delivery_config *c, char *err, size_t errlen)
{
	bool remote = !delivery_host_is_loopback(c->host);
	bool need_tls = c->tls_required == DELIVERY_TLS_YES ||
			(c->tls_required == DELIVERY_TLS_AUTO && remote);

	if (!c->host[0]) {
		snprintf(err, errlen, "[mqtt] host is empty");
		return -1;
	}
	if (need_tls && !delivery_config_tls_enabled(c)) {
		snprintf(err, errlen,
			 "[mqtt] broker %s is not on loopback, so TLS is required: set cafile (or "
			 "capath), or tls_required = no",
			 c->host);
		return -1;
	}
	if (!!c->certfile[0] != !!c->keyfile[0]) {
		snprintf(err, errlen, "[mqtt] certfile and keyfile must be given together");
		return -1;
	}
	if (c->certfile[0] && !delivery_config_tls_enabled(c)) {
		snprintf(err, errlen, "[mqtt] certfile needs TLS: set cafile or capath");
		return -1;
	}
	if (c->password_file[0] && !c->username[0]) {
		snprintf(err, errlen, "[mqtt] password_file needs username");
		return -1;
	}
	if (c->reconnect_min_ms > c->reconnect_max_ms) {
		snprintf(err, errlen, "[mqtt] reconnect_min is greater than reconnect_max");
		return -1;
	}
	if (strchr(c->topic_prefix, '+') || strchr(c->topic_prefix, '#') ||
	    strchr(c->site, '/') || strchr(c->gateway, '/') || strchr(c->site, '+') ||
	    strchr(c->site, '#') || strchr(c->gateway, '+') || strchr(c->gateway, '#')) {
		snprintf(err, errlen, "topic prefix, site and gateway id must not contain + or # "
				      "(site and id also no /)");
		return -1;
	}
	return 0;
}

int delivery_topic(const struct delivery_config *c, const char *leaf, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s/%s", c->topic_prefix, c->site, c->gateway, leaf);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}
