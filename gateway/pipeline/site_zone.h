/*
 * site_zone.h - which gateway of a site holds a shopper: one zone per
 * shopper at a time across several gateways, without a leader.
 *
 * Every gateway of a site publishes, every [site] summary_ms, the level at
 * which it hears each presence-consented shopper and whether it holds them
 * (its "claim", with the moment the claim starts and, for a handover, the
 * gateway it took them from). The level is the mean of the readings of the
 * last SITE_LEVEL_WINDOW_S seconds: it follows a walking shopper about
 * twice as fast as the presence median, and the margin and hold time take
 * care of the noise. Each gateway applies the same rule to what it hears
 * itself and what its peers said:
 *
 *  - a challenger compares its level with each of the holder's summaries
 *    over the same window (the summary's time). A lead begins with a
 *    summary that shows it margin_db above the holder (and above every
 *    other peer); it lasts while the challenger stays the stronger and
 *    shows the margin again within hold_s. Once the lead is hold_s old and
 *    at the margin, the challenger takes the shopper over on that summary
 *    of the holder as it arrives (site_zone_decide_one()): its claim names
 *    the holder and starts where its level rose above the
 *    holder's (where the nearest gateway changed; at most hold_s before
 *    the lead began): interpolated between the holder's summaries around
 *    it and dated half a level window earlier, because a mean describes
 *    the middle of its window. Its visit opens from that moment, without
 *    waiting for its own enter window. The holder, reading that claim,
 *    lets go with its visit ending at the same moment: no gap and no
 *    overlap (the gateways' clocks agree, NTP). A holder whose visit
 *    ended by itself later than that, before it read the claim, says when
 *    in its next summary, and the new visit starts there instead (the
 *    move action);
 *  - a gateway takes a shopper nobody holds once it has been the strongest,
 *    at or above the enter level, for hold_s; the claim starts when that
 *    began (dated as a handover is), but never before a peer last held
 *    them. At once when no peer
 *    of the site has been heard for peer_timeout_s since it started: a
 *    gateway alone behaves as it always did;
 *  - the holder lets go by itself only when it no longer hears the shopper;
 *  - two claims at once that are not a handover (both took a free shopper
 *    within one summary, or a split site heals): the claimant whose
 *    published level is lower lets go, ties go to the smaller gateway
 *    name. Both compare the same two published numbers, so both reach the
 *    same answer;
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
/* The arbitration level: mean of the readings of this many last seconds. */
#define SITE_LEVEL_WINDOW_S 2

struct site_zone;

struct site_zone_stats {
	uint64_t claims, releases;   /* shoppers taken / let go by this gateway */
	uint64_t handovers;          /* taken from a holder this gateway beat */
	uint64_t handed_over;        /* let go to a peer that beat this gateway */
	uint64_t takeovers;          /* taken free from a peer that held them at the
	                              * decision before (it went silent or let go) */
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
/* One customer of that summary, as the peer published it. */
struct site_zone_view {
	float level;
	uint64_t at_us;          /* the summary's time (0: unknown, taken as now) */
	float local_at;          /* this gateway's level over the same window (NAN: unknown) */
	bool claim;
	uint64_t since_us;       /* the claim starts (0: unknown) */
	bool from_me;            /* the peer took them from this gateway */
	uint64_t released_us;    /* not a claim: the peer's last hold ended (0: unknown) */
};
void site_zone_peer_level(struct site_zone *z, int peer, int64_t customer_id,
			  const struct site_zone_view *v, uint64_t now_us);

/* What this gateway hears of a customer now (the arbitration level; NAN:
 * nothing recent). */
void site_zone_local(struct site_zone *z, int64_t customer_id, float level, uint64_t now_us);

/* May the presence tracker open a visit for this customer now? Takes the
 * current local level, decides for this customer at once. *since_us: when
 * this gateway's claim starts if a peer of the site was alive then (the
 * visit starts no earlier), else 0 (alone: the visit starts as it always
 * did). NULL allowed. */
bool site_zone_gate(struct site_zone *z, int64_t customer_id, float level, uint64_t now_us,
		    uint64_t *since_us);

/* Does this gateway hold the customer? */
bool site_zone_holds(const struct site_zone *z, int64_t customer_id);

/* What the caller does when site_zone_decide() changes a holder. */
struct site_zone_actions {
	/* This gateway let the customer go: its visit ends at at_us (a
	 * handover's start, or now). */
	void (*release)(void *ctx, int64_t customer_id, uint64_t at_us);
	/* This gateway took the customer with peers alive: its visit opens
	 * now, starting at since_us. */
	void (*take)(void *ctx, int64_t customer_id, uint64_t since_us);
	/* The peer this gateway took the customer from let go by itself
	 * before it read the claim: the visit opened by take() starts at
	 * since_us instead (later), where that peer's ended at the latest. */
	void (*move)(void *ctx, int64_t customer_id, uint64_t since_us);
	void *ctx;
};

/* Decide for every customer (once per tick, after the site_zone_local()
 * calls of that tick). Entries nobody has heard of for peer_timeout_s are
 * forgotten. act may be NULL. */
void site_zone_decide(struct site_zone *z, uint64_t now_us, const struct site_zone_actions *act);

/* This gateway's visit of the customer ended by itself at at_us (presence
 * exit): it no longer holds them (no action). */
void site_zone_let_go(struct site_zone *z, int64_t customer_id, uint64_t at_us);

/* The same for one customer, as an entry of a peer's summary comes in:
 * handovers are decided there, and a claim taken from us ends our visit. */
void site_zone_decide_one(struct site_zone *z, int64_t customer_id, uint64_t now_us,
			  const struct site_zone_actions *act);

/* Forget a customer (consent ended, erased): no event, no summary. */
void site_zone_forget(struct site_zone *z, int64_t customer_id);

/* Is any peer alive now (heard within peer_timeout_s)? And is a peer that
 * was alive silent now (the site may be split: see campaign.h)? */
uint32_t site_zone_peers_alive(const struct site_zone *z, uint64_t now_us);
bool site_zone_peer_lost(const struct site_zone *z, uint64_t now_us);

/* Iterate for the summary: what this gateway publishes of customer slot i
 * (false: free slot or nothing heard locally). Records the level as the
 * published one (see the conflict rule). */
struct site_zone_summary {
	int64_t customer_id;
	float level;
	bool claim;
	uint64_t since_us;       /* claim only */
	const char *from;        /* claim only: taken from this peer, NULL if not a handover */
	uint64_t released_us;    /* not a claim: when our last claim (and visit) ended, 0 = never */
};
uint32_t site_zone_capacity(const struct site_zone *z);
bool site_zone_summary_entry(struct site_zone *z, uint32_t i, uint64_t now_us,
			     struct site_zone_summary *out);

const struct site_zone_stats *site_zone_get_stats(struct site_zone *z, uint64_t now_us);

#endif
