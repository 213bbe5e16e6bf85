/*
 * id_index.h - identity index built from a consent snapshot: beacon
 * identifiers of enrolled tags -> snapshot identifier (and so customer).
 *
 * Static identifiers (iBeacon uuid/major/minor, Eddystone-UID namespace/
 * instance) live in an open-addressing table that never changes after the
 * build. Eddystone-EID keys get their EIDs for the current period and
 * `tolerance` periods either side precomputed into a second table; as each
 * key's period ends (keys with different exponents roll at different
 * times), only that key's missing EIDs are computed and the stale ones
 * removed. Lookups never allocate.
 */
#ifndef BGW_ID_INDEX_H
#define BGW_ID_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "eddystone_eid.h"
#include "snapshot.h"

struct id_index;

/* now_s: unix seconds the EID window is centred on. NULL on allocation failure.
 * The index refers to s's identifiers: s must outlive it. */
struct id_index *id_index_new(const struct snapshot *s, uint8_t eid_tolerance, int64_t now_s,
			      eid_aes128_fn aes);
void id_index_free(struct id_index *x);

/* Return the snapshot identifier index, or -1. */
int64_t id_index_ibeacon(const struct id_index *x, const uint8_t uuid[16], uint16_t major,
			 uint16_t minor);
int64_t id_index_uid(const struct id_index *x, const uint8_t ns[10], const uint8_t instance[6]);
int64_t id_index_altbeacon(const struct id_index *x, uint16_t company_id,
			   const uint8_t beacon_id[20]);

/* EID: also the tag's time base (counter with low K bits cleared) of the
 * matched period, which the eTLM nonce needs. */
int64_t id_index_eid(const struct id_index *x, const uint8_t eid[8], uint32_t *time_base);

/* Move every key whose period ended by now_s; O(1) when none did. Returns
 * how many EIDs were computed. */
uint32_t id_index_roll(struct id_index *x, int64_t now_s);

uint32_t id_index_eid_keys(const struct id_index *x);

#endif
