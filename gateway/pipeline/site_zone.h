/*
 * site_zone.h - which gateway of a site holds a shopper: one zone per
 * shopper at a time across several gateways, without a leader.
 *
 * Every gateway of a site publishes, every [site] summary_ms, the level at
 * which it hears each presence-consented shopper (the presence tracker's
 * median) and whether it holds them (its "claim"). Each gateway applies the
 * same rule to what it hears itself and what its peers said:
 *
 *  - the holder keeps a shopper until another gateway hears them margin_db
 *    stronger for hold_s without a break, or until it no longer hears them
 *    at all; then it lets go (its open visit ends with EXIT);
 *  - a gateway takes a shopper only while no peer claims them, and only once
 *    it has been the strongest for hold_s (at once when no peer of the site
 *    has been heard for peer_timeout_s since it started: a gateway alone
 *    behaves as it always did). A handover
 *    therefore leaves a short gap (about one summary), never an overlap;
 *  - two claims at once (both took a free shopper within one summary): the
 *    claimant whose published level is lower lets go, ties go to the
 *    smaller gateway name. Both compare the same two published numbers, so
 *    both reach the same answer;
 *  - a peer not heard for peer_timeout_s counts for nothing: the shoppers
 *    it held are free and the strongest of the others takes them over.
 *
 * The presence tracker asks site_zone_gate() before it opens a visit: only
 * the holder opens one. Nothing here knows about non-consented devices:
 * only customers the pipeline passes in (consented ones) ever get an entry.
 *
 * Keyed by customer id (peers' customer refs are mapped to this gateway's
 * ids by the caller). Fixed size, no allocation after site_zone_new().
 */
#ifndef BGW_SITE_ZONE_H
#define BGW_SITE_ZONE_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline_config.h"

#define SITE_PEERS_MAX 8

struct site_zone;

struct site_zone_stats {
	uint64_t claims, releases;   /* shoppers taken / let go by this gateway */
	uint64_t takeovers;          /* taken from a peer that held them at the decision
	                              * before (a handover, or the peer went silent) */
	uint64_t conflicts;          /* let go because a peer claimed at the same time */
	uint64_t peer_msgs;          /* summaries received */
	uint64_t peers_dropped;      /* summaries of a peer beyond SITE_PEERS_MAX, ignored */
	uint64_t full;               /* customer entries refused: the table was full */
	uint32_t peers_alive;
	uint32_t tracked;
};

/* Capacity: cfg->max_tracked customers. NULL on allocation failure. */
struct site_zone *site_zone_new(const struct pipeline_config *cfg);
void site_zone_free(struct site_zone *z);

/* A summary of peer `gateway` begins: its index (-1: this gateway itself,
 * or no room for another peer). Marks the peer alive. */
int site_zone_peer_begin(struct site_zone *z, const char *gateway, uint64_t now_us);
/* One customer of that summary. */
void site_zone_peer_level(struct site_zone *z, int peer, int64_t customer_id, float level,
			  bool claim, uint64_t now_us);

/* What this gateway hears of a customer now (NAN: nothing recent). */
void site_zone_local(struct site_zone *z, int64_t customer_id, float level, uint64_t now_us);

/* May the presence tracker open a visit for this customer now? Takes the
 * current local level, decides for this customer at once. *since_us: when
 * this gateway took the shopper if a peer of the site was alive then (the
 * visit starts no earlier), else 0 (alone: the visit starts as it always
 * did). NULL allowed. */
bool site_zone_gate(struct site_zone *z, int64_t customer_id, float level, uint64_t now_us,
		    uint64_t *since_us);

/* Does this gateway hold the customer? */
bool site_zone_holds(const struct site_zone *z, int64_t customer_id);

/* Decide for every customer (once per tick, after the site_zone_local()
 * calls of that tick); release(ctx, id) for each customer let go. Entries
 * nobody has heard of for peer_timeout_s are forgotten. */
void site_zone_decide(struct site_zone *z, uint64_t now_us,
		      void (*release)(void *ctx, int64_t customer_id), void *ctx);

/* Forget a customer (consent ended, erased): no event, no summary. */
void site_zone_forget(struct site_zone *z, int64_t customer_id);

/* Is any peer alive now (heard within peer_timeout_s)? And is a peer that
 * was alive silent now (the site may be split: see campaign.h)? */
uint32_t site_zone_peers_alive(const struct site_zone *z, uint64_t now_us);
bool site_zone_peer_lost(const struct site_zone *z, uint64_t now_us);

/* Iterate for the summary: what this gateway publishes of customer slot i
 * (false: free slot or nothing heard locally). Records the level as the
 * published one (see the conflict rule). */
uint32_t site_zone_capacity(const struct site_zone *z);
bool site_zone_summary_entry(struct site_zone *z, uint32_t i, uint64_t now_us,
			     int64_t *customer_id, float *level, bool *claim);

const struct site_zone_stats *site_zone_get_stats(struct site_zone *z, uint64_t now_us);

#endif
