/*
 * snap_builder.h - consent snapshots built by hand for the pipeline tests,
 * laid out like the store builds them: one malloc'd block that owns every
 * array, released with snapshot_free() (= free()).
 */
#ifndef BGW_SNAP_BUILDER_H
#define BGW_SNAP_BUILDER_H

#include <stdint.h>

#include "snapshot.h"

struct snap_builder;

struct snap_builder *sb_new(void);
void sb_free(struct snap_builder *b);

/* Customers must be added in ascending id order (the snapshot is sorted). */
uint32_t sb_customer(struct snap_builder *b, int64_t id, const char *ref);
void sb_consent(struct snap_builder *b, uint32_t cust, enum snap_purpose p, int64_t granted_at,
		int64_t expires_at, int64_t withdrawn_at, uint32_t channels, const char *policy);
uint32_t sb_channel(struct snap_builder *b, const char *name);
uint32_t sb_segment(struct snap_builder *b, const char *name);
void sb_customer_segment(struct snap_builder *b, uint32_t cust, uint32_t seg);

void sb_ibeacon(struct snap_builder *b, uint32_t cust, const uint8_t uuid[16], uint16_t major,
		uint16_t minor);
void sb_uid(struct snap_builder *b, uint32_t cust, const uint8_t ns[10], const uint8_t inst[6]);
void sb_eid(struct snap_builder *b, uint32_t cust, const uint8_t key[16], uint8_t k,
	    int64_t clock_offset);
void sb_irk(struct snap_builder *b, uint32_t cust, const uint8_t irk[16]);

/* A campaign with permissive defaults; returns its index for further edits. */
struct snap_campaign *sb_campaign(struct snap_builder *b, int64_t id, const char *name,
				  const char *zone, enum snap_event ev);
void sb_history(struct snap_builder *b, uint32_t cust, uint32_t campaign, int64_t last_at,
		uint32_t count_today);

/* One block; the builder stays usable (build again after more edits). */
struct snapshot *sb_build(const struct snap_builder *b, uint64_t data_version);

#endif
