/*
 * site_link.h - the site topics: what the gateways of one site tell each
 * other over the broker they share.
 *
 *   <prefix>/<site>/<gateway>/presence   summaries of presence-consented
 *                                        shoppers (site_zone.h), QoS 1, not
 *                                        retained, expiring after a few
 *                                        summary periods
 *   <prefix>/<site>/<gateway>/trigger    the triggers themselves: each
 *                                        gateway reads its peers' to count
 *                                        them toward caps and cooldowns
 *
 * Each gateway publishes only under its own gateway level (a broker ACL
 * can enforce that) and subscribes to both with a wildcard on the gateway
 * level; the gateway a message comes from is read from its topic, never
 * from its payload. Messages of this gateway itself are not handed on.
 */
#ifndef BGW_SITE_LINK_H
#define BGW_SITE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct site_link;
struct publisher;
struct delivery_config;

struct site_link_callbacks {
	void *ctx;
	void (*presence)(void *ctx, const char *gateway, const void *payload, size_t len);
	void (*trigger)(void *ctx, const char *gateway, const void *payload, size_t len);
};

struct site_link_stats {
	uint64_t sent, dropped;       /* summaries published / dropped while offline */
	uint64_t received;            /* peers' messages handed on */
	uint64_t sent_bytes, received_bytes;
};

/* Subscribes through pub (now and after each reconnect). NULL + err. */
struct site_link *site_link_new(const struct delivery_config *cfg, struct publisher *pub,
				const struct site_link_callbacks *cb, char *err, size_t errlen);
void site_link_free(struct site_link *l);

/* A message the publisher did not want: true if it was a site topic. */
bool site_link_message(struct site_link *l, const char *topic, const void *payload, size_t len);

/* Publish this gateway's summary, expiring after expiry_s. 0 or -1 (offline). */
int site_link_publish_presence(struct site_link *l, const char *json, uint32_t expiry_s);

const struct site_link_stats *site_link_get_stats(const struct site_link *l);

#endif
