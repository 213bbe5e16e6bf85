/*
 * pipeline_priv.h - the pipeline's state, shared by pipeline.c and
 * pipeline_site.c (the parts that only several gateways of a site use).
 * Not for use outside gateway/pipeline.
 */
#ifndef BGW_PIPELINE_PRIV_H
#define BGW_PIPELINE_PRIV_H

#include "pipeline.h"
#include "pipeline_config.h"

/* Peers' trigger ids remembered to drop duplicates of at-least-once delivery. */
#define PIPELINE_SEEN_IDS 1024
/* Distinct dwell-campaign thresholds per zone; beyond this the longest are
 * not watched. */
#define DWELL_THRESHOLDS_MAX 256

struct pipeline {
	struct pipeline_config cfg;
	struct pipeline_callbacks cb;
	struct pipeline_stats stats;
	struct snapshot *snap;
	struct id_index *idx;
	struct irk_resolver *irk;
	struct irk_async *irk_async; /* NULL: IRK searches inline (irk_threads = 0) */
	struct pl_aes *aes;
	struct footfall *ff;
	struct presence *pr;
	struct campaign_rules *rules;
	struct beacon_health *bh;
	struct beacon_fleet *fleet;   /* registered store beacons */
	/* Address -> customer index of the EID tag last heard from it: an eTLM
	 * frame carries no identity and is paired through its address. */
	struct addr_cache *eid_addrs;
	/* Bit i: snapshot customer i has at least one identifier (a trigger
	 * of a customer whose identifiers were all removed must not go out). */
	uint8_t *has_ident;
	uint64_t now_us;
	uint32_t dwell_thresholds[DWELL_THRESHOLDS_MAX]; /* the presence tracker watches these */
	/* The event being handed to campaign rules (valid during presence callbacks). */
	const struct visit_event *cur_event;
	/* Several gateways of one site (NULL when [site] enabled is off). */
	struct site_zone *sz;
	struct ref_index *refs;    /* customer_ref -> customer, for peers' messages */
	uint64_t seen_ids[PIPELINE_SEEN_IDS]; /* hashes of peers' trigger ids lately counted */
	uint32_t seen_next;
	struct pipeline_site_stats site;
	bool site_summary_due;     /* a shopper taken or let go: see pipeline_site_summary_due() */
	bool broker_up;
};

/* Event times are µs since the epoch; consent is judged in seconds. */
static inline int64_t to_s(uint64_t us)
{
	return (int64_t)(us / 1000000u);
}

/* Index into p->snap->customers of customer id, -1 if absent. */
int64_t pipeline_find_customer(const struct snapshot *s, int64_t id);

/* pipeline_site.c: wire the site zone into the presence tracker (NULL-safe). */
int pipeline_site_init(struct pipeline *p);
void pipeline_site_snapshot(struct pipeline *p);
void pipeline_site_tick(struct pipeline *p, uint64_t now_us);
/* A visit ended (any cause): this gateway no longer holds the shopper. */
void pipeline_site_visit_ended(struct pipeline *p, int64_t customer_id, uint64_t at_us);
void pipeline_site_free(struct pipeline *p);

#endif
