/*
 * campaign.h - which campaigns a visit event triggers.
 *
 * A campaign fires for a customer's visit event when: its zone is the
 * event's zone; its event kind matches; the customer is in its segment
 * (or it has none); dwell >= min_dwell (dwell campaigns fire once per
 * visit, when the visit reaches their own min_dwell -- the presence
 * tracker's campaign thresholds, not the reporting marks; exit campaigns
 * compare the whole visit); the event time lies in [valid_from,
 * valid_until) and in the opening hours (local time of the gateway,
 * HH:MM-HH:MM, a window past midnight wraps); retargeting consent is in
 * force with at least one channel the campaign may use; and the per-
 * customer cooldown and daily cap (local calendar day) allow it.
 *
 * Cooldown/cap state is kept in memory per (customer id, campaign id),
 * seeded from the snapshot's trigger history so it survives restarts and
 * snapshot swaps; bounded (8-way set-associative, the entry triggered
 * longest ago in a full set is dropped); only for campaigns that have a
 * cooldown or a daily cap, the only ones that read it.
 */
#ifndef BGW_CAMPAIGN_H
#define BGW_CAMPAIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline.h"
#include "pipeline_config.h"
#include "snapshot.h"

struct campaign_rules;

/* Upper bound of [campaigns] contact_max. */
#define CAMPAIGN_CONTACT_MAX 32

struct campaign_stats {
	uint64_t peer_triggers;    /* peers' triggers counted (site) */
	uint64_t split_held;       /* held back: the site is split (see below) */
	uint64_t quiet_held;       /* held back: quiet hours */
	uint64_t contact_held;     /* held back: the customer's contact_max reached */
};

/* What the rules need to know about one visit event. */
struct campaign_event {
	uint32_t customer;       /* index into s->customers */
	const char *zone;
	enum visit_event_kind kind;
	uint32_t dwell_s;
	uint32_t threshold_s;    /* DWELL: the campaign threshold the visit reached */
	int64_t now_s;
};

/* Called for each campaign that fires (state already updated). */
typedef void (*campaign_fire_fn)(void *ctx, uint32_t campaign, uint32_t channels);

struct campaign_rules *campaign_rules_new(const struct pipeline_config *cfg);
void campaign_rules_free(struct campaign_rules *r);

/* Merge the snapshot's trigger history into the in-memory state. */
void campaign_rules_seed(struct campaign_rules *r, const struct snapshot *s);

/* Returns the number of campaigns fired. */
uint32_t campaign_rules_match(struct campaign_rules *r, const struct snapshot *s,
			      const struct campaign_event *ev, campaign_fire_fn fire, void *ctx);

/*
 * A trigger of a peer gateway of the site (its trigger topic), counted
 * toward cooldowns, daily caps and the contact limit as if it were ours.
 * campaign_id <= 0: a campaign this gateway does not know (the contact
 * limit still counts it).
 */
void campaign_rules_note(struct campaign_rules *r, int64_t customer_id, int64_t campaign_id,
			 int64_t at_s);

/*
 * The site is split: a peer that was alive went silent, or the broker is
 * out of reach, so peers' triggers may be missing from the counts. While
 * split, each campaign with a cooldown or a daily cap fires at most once
 * per customer on this gateway (on top of the normal rules); that bounds
 * what a partition costs to one extra trigger per side, campaign and
 * customer (docs/site.md).
 */
void campaign_rules_set_split(struct campaign_rules *r, bool split);

/* Is now_s within [campaigns] quiet_hours? */
bool campaign_quiet(const struct campaign_rules *r, int64_t now_s);

const struct campaign_stats *campaign_rules_get_stats(const struct campaign_rules *r);

/* The distinct min_dwell of the dwell campaigns of zone, ascending, into
 * out[max]; returns how many (at most max). */
uint32_t campaign_dwell_thresholds(const struct snapshot *s, const char *zone, uint32_t *out,
				   uint32_t max);

/* Exposed for tests: is now_s within the campaign's opening hours? */
bool campaign_in_hours(const struct snap_campaign *c, int64_t now_s);

#endif
