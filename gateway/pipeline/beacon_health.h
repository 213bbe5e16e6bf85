/*
 * beacon_health.h - health of the store's own fixed beacons from their
 * Eddystone-TLM frames, and of enrolled tags from their eTLM.
 *
 * A plain TLM frame carries no identity: it is paired with the identifying
 * frame sent from the same address. A random-address TLM could as well be
 * a shopper's tag, and reporting it would publish a stable identifier of a
 * person who never opted in. So a beacon counts as the store's only when
 * its address has been seen sending an Eddystone-UID in one of the
 * configured store namespaces; only those addresses are remembered
 * (bounded table), and TLM from any other address is ignored. Without
 * configured namespaces nothing is published.
 *
 * Messages are rate-limited per beacon (beacon_health_interval_s).
 */
#ifndef BGW_BEACON_HEALTH_H
#define BGW_BEACON_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "beacon_frame.h"
#include "pipeline_config.h"

struct beacon_health;

typedef void (*beacon_health_emit_fn)(void *ctx, const char *json);

struct beacon_health *beacon_health_new(const struct pipeline_config *cfg,
					beacon_health_emit_fn emit, void *ctx);
void beacon_health_free(struct beacon_health *b);

/* Is this UID namespace one of the store's? */
bool beacon_health_is_store_uid(const struct beacon_health *b, const uint8_t ns[10]);

/* An Eddystone-UID of a store namespace heard from addr: remember the pairing. */
void beacon_health_uid(struct beacon_health *b, const uint8_t addr[6], uint8_t addr_type,
		       const struct bf_eddystone_uid *uid, uint64_t ts_us);

/* A plain TLM from addr: published if addr is a known store beacon and due.
 * Returns true when a message was emitted. */
bool beacon_health_tlm(struct beacon_health *b, const uint8_t addr[6], uint8_t addr_type,
		       const struct bf_eddystone_tlm *tlm, uint64_t ts_us);

/* Decrypted eTLM of an enrolled, consented customer's tag; *last_us is the
 * tag's rate-limit state. Returns true when emitted. */
bool beacon_health_tag(struct beacon_health *b, const char *customer_ref,
		       const struct bf_eddystone_tlm *tlm, uint64_t ts_us, uint64_t *last_us);

uint32_t beacon_health_known(const struct beacon_health *b);

/* Is addr one of the store beacons seen so far? (Their TLM-only reports
 * are not visitors and stay out of the footfall count.) */
bool beacon_health_is_store_addr(const struct beacon_health *b, const uint8_t addr[6],
				 uint8_t addr_type);

#endif
