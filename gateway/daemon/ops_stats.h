/*
 * ops_stats.h - the figures an operator's dashboard needs beyond the
 * health counters: footfall of this gateway's zone, triggers per campaign,
 * how many customers are enrolled and how many consent to what now.
 *
 * Counts only: no customer reference, identifier or device is kept. The
 * footfall figure is the last count the gateway published (periods under
 * [footfall] min_count are withheld there and so here).
 */
#ifndef BGW_OPS_STATS_H
#define BGW_OPS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPS_CAMPAIGNS_MAX 64

struct snapshot;

struct ops_stats {
	bool footfall_have;
	uint64_t footfall_count;      /* distinct devices in the last published period */
	uint64_t footfall_periods;    /* periods published */
	struct {
		char name[64];
		uint64_t triggers;
	} campaign[OPS_CAMPAIGNS_MAX];
	size_t n_campaigns;
	uint64_t triggers_other;      /* campaigns beyond OPS_CAMPAIGNS_MAX */
	bool have_snapshot;
	uint64_t customers;           /* enrolled */
	uint64_t presence, retargeting; /* with that consent in force now */
};

/* A footfall message as published (JSON with "count"). */
void ops_stats_footfall(struct ops_stats *o, const char *json);
/* A trigger of this campaign was queued. */
void ops_stats_trigger(struct ops_stats *o, const char *campaign);
/* Enrolment and consent from the snapshot in use, at now_s (NULL: none). */
void ops_stats_snapshot(struct ops_stats *o, const struct snapshot *s, int64_t now_s);

#endif
