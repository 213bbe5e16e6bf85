/* site_link.c - site topics over the publisher's connection (site_link.h). */
#include "site_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery_config.h"
#include "publisher.h"

#define TOPIC_MAX 600
#define GATEWAY_MAX 256

struct site_link {
	struct publisher *pub;
	struct site_link_callbacks cb;
	char self[GATEWAY_MAX];
	char base[TOPIC_MAX];         /* "<prefix>/<site>/" */
	size_t base_len;
	char t_presence[TOPIC_MAX];   /* our own */
	struct site_link_stats stats;
};

struct site_link *site_link_new(const struct delivery_config *cfg, struct publisher *pub,
				const struct site_link_callbacks *cb, char *err, size_t errlen)
{
	struct site_link *l = calloc(1, sizeof(*l));
	char filter[TOPIC_MAX + 16];
	int n;

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->pub = pub;
	l->cb = *cb;
	snprintf(l->self, sizeof(l->self), "%s", cfg->gateway);
	n = snprintf(l->base, sizeof(l->base), "%s/%s/", cfg->topic_prefix, cfg->site);
	if (n < 0 || (size_t)n >= sizeof(l->base) - 32 ||
	    delivery_topic(cfg, "presence", l->t_presence, sizeof(l->t_presence))) {
		snprintf(err, errlen, "[mqtt] topic_prefix and site make the site topics too long");
		free(l);
		return NULL;
	}
	l->base_len = (size_t)n;
	snprintf(filter, sizeof(filter), "%s+/presence", l->base);
	if (publisher_subscribe(pub, filter) == 0) {
		snprintf(filter, sizeof(filter), "%s+/trigger", l->base);
		if (publisher_subscribe(pub, filter) == 0)
			return l;
	}
	snprintf(err, errlen, "cannot subscribe to the site topics");
	free(l);
	return NULL;
}

void site_link_free(struct site_link *l)
{
	free(l);
}

bool site_link_message(struct site_link *l, const char *topic, const void *payload, size_t len)
{
	const char *gw, *slash;
	char name[GATEWAY_MAX];
	size_t n;

	if (strncmp(topic, l->base, l->base_len))
		return false;
	gw = topic + l->base_len;
	slash = strchr(gw, '/');
	if (!slash || (n = (size_t)(slash - gw)) == 0 || n >= sizeof(name))
		return false;
	memcpy(name, gw, n);
	name[n] = '\0';
	if (!strcmp(name, l->self))
		return true;  /* our own, back from the broker */
	if (!strcmp(slash, "/presence") && l->cb.presence) {
		l->stats.received++;
		l->stats.received_bytes += len;
		l->cb.presence(l->cb.ctx, name, payload, len);
		return true;
	}
	if (!strcmp(slash, "/trigger") && l->cb.trigger) {
		l->stats.received++;
		l->stats.received_bytes += len;
		l->cb.trigger(l->cb.ctx, name, payload, len);
		return true;
	}
	return false;
}

int site_link_publish_presence(struct site_link *l, const char *json, uint32_t expiry_s)
{
	if (publisher_publish_topic(l->pub, l->t_presence, json, expiry_s ? expiry_s : 1) < 0) {
		l->stats.dropped++;
		return -1;
	}
	l->stats.sent++;
	l->stats.sent_bytes += strlen(json);
	return 0;
}

const struct site_link_stats *site_link_get_stats(const struct site_link *l)
{
	return &l->stats;
}
