/*
 * gateway_counts.h - the one declaration of each plain counter that both
 * the status document's "counts" and the health metrics publish: its
 * status key, its Prometheus name, counter or gauge, the HELP text, and
 * the field of struct gateway_counters it is read from.
 *
 * Adding such a counter is one field in struct gateway_counters (status.h),
 * the code that fills it, and one row of the table in gateway_counts.c;
 * status.c and the daemon's metrics.c take it from there.
 *
 * Why groups: both outputs were published before this table, in orders of
 * their own (a user sees the JSON key order, the metrics file is read as
 * text), and those orders are kept. A group is a run of rows that sits
 * together in both outputs; each output places every group where its
 * counters always were, around the counters it alone publishes. A new
 * counter joins the group it belongs with, and so appears in both.
 */
#ifndef BGW_GATEWAY_COUNTS_H
#define BGW_GATEWAY_COUNTS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "status.h"

enum gateway_count_type {
	GATEWAY_COUNT_COUNTER,  /* only grows while the daemon runs: beacongw_*_total */
	GATEWAY_COUNT_GAUGE,    /* a level that goes up and down */
};

enum gateway_count_group {
	GATEWAY_COUNTS_REPORTS,         /* advertising reports seen, decoded, consented */
	GATEWAY_COUNTS_TRIGGERS,        /* triggers the campaign rules produced */
	GATEWAY_COUNTS_DELIVERY,        /* triggers through the outbox to the broker */
	GATEWAY_COUNTS_OUTBOX,          /* the outbox's depth */
	GATEWAY_COUNTS_VISITS_DROPPED,  /* visit changes not recorded: consent ended */
	GATEWAY_COUNTS_BROKER,          /* consent updates received, reconnects */
	GATEWAY_COUNTS_SYNC,            /* the consent sync after a connect */
	GATEWAY_COUNTS_IRK,             /* resolvable private addresses */
	GATEWAY_COUNTS_GROUPS
};

struct gateway_count {
	const char *status_key;   /* in the status document's "counts" */
	const char *metric;       /* the whole Prometheus name, beacongw_... */
	enum gateway_count_type type;
	const char *help;         /* the metric's HELP text */
	size_t offset;            /* of its uint64_t in struct gateway_counters */
	enum gateway_count_group group;
};

/* In the order both outputs publish the rows of a group. */
extern const struct gateway_count gateway_counts[];
extern const size_t gateway_counts_n;

static inline uint64_t gateway_count_value(const struct gateway_count *g,
					   const struct gateway_counters *c)
{
	uint64_t v;

	memcpy(&v, (const char *)c + g->offset, sizeof(v));
	return v;
}

#endif
