/*
 * hub_snapshot.h - the authority's whole consent state as signed chunks
 * (fleet_msg.h, type "snapshot"), built in one read transaction and kept
 * for a while so that many gateways asking at once, or one resuming, get
 * the same snapshot.
 */
#ifndef BGW_HUB_SNAPSHOT_H
#define BGW_HUB_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "consent_sig.h"

struct hub_auth;

struct hub_snapshot {
	char id[24];
	char key[CONSENT_FPR_LEN + 1];
	int64_t seq;
	uint64_t built_us;       /* monotonic */
	char **chunks;           /* signed envelopes */
	size_t n;
	uint64_t items;
	size_t bytes;
};

/* The state as of seq (the caller makes sure every signed change is in the
 * state read: fleet_changes and the outbox are empty). NULL + err. */
struct hub_snapshot *hub_snapshot_build(struct hub_auth *a, int64_t seq, size_t chunk_bytes,
					char *err, size_t errlen);
void hub_snapshot_free(struct hub_snapshot *s);

#endif
