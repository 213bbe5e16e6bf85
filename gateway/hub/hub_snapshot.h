/*
 * hub_snapshot.h - the authority's whole consent state as signed chunks
 * (fleet_msg.h, type "snapshot"), streamed from the database.
 *
 * A snapshot is one read transaction on a connection of its own, held open
 * while it lives, so every chunk shows the same moment however long the
 * transfer takes. Building it walks the state once to find where each chunk
 * starts (a few bytes per chunk); a chunk is read, signed and dropped when
 * it is sent. Memory stays at one chunk whatever the number of customers.
 * It is kept for a while so that many gateways asking at once, or one
 * resuming, get the same snapshot.
 */
#ifndef BGW_HUB_SNAPSHOT_H
#define BGW_HUB_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "consent_sig.h"

struct hub_auth;
struct hub_snapshot_src;

struct hub_snapshot {
	char id[24];
	char key[CONSENT_FPR_LEN + 1];
	int64_t seq;
	int64_t issued_at;
	uint64_t built_us;       /* monotonic */
	uint64_t used_us;        /* monotonic: the last chunk sent */
	size_t n;                /* chunks */
	uint64_t items;
	uint64_t item_bytes;     /* the items' JSON text, before signing */
	struct hub_snapshot_src *src;
};

/* The state as of seq (the caller makes sure every signed change is in the
 * state read: fleet_changes and the outbox are empty). NULL + err. */
struct hub_snapshot *hub_snapshot_build(struct hub_auth *a, int64_t seq, size_t chunk_bytes,
					char *err, size_t errlen);
/* Chunk i signed: owned by the snapshot, valid until the next call (the
 * last one is kept, for several gateways fetching the same chunk). NULL +
 * err. */
const char *hub_snapshot_chunk(struct hub_snapshot *s, struct hub_auth *a, size_t i, char *err,
			       size_t errlen);
void hub_snapshot_free(struct hub_snapshot *s);

#endif
