/*
 * consent_head.h - a gateway following its fleet's consent authority
 * (beaconhub, docs/fleet.md).
 *
 * With [consent] fleet set, the gateway takes its whole consent state from
 * the hub's signed messages: a snapshot to start from, then every change in
 * sequence, and the retained head that says which sequence is the latest
 * and when the hub said so. It is *current* when it holds a snapshot, has
 * applied every change up to the head, and the head it matched was issued
 * less than [consent] max_staleness_s ago. Anything else (a gap, a head it
 * cannot match, no fresh head) makes it not current: the daemon then acts on
 * nobody (its fail-closed path) and this module asks the hub for a snapshot,
 * which brings it back without anyone's help.
 *
 * Refused, counted and logged, changing nothing: messages that do not
 * verify with a trusted key ([consent] public_key, and public_key_next
 * during a rotation), name another fleet, are older than what the gateway
 * holds (a replayed change or head, a change from before its snapshot, an
 * older snapshot), or skip a sequence (then a snapshot is asked for).
 *
 * What the gateway holds survives restarts in kv: fleet.key and fleet.seq
 * (the last applied sequence and the key it counts under), fleet.since (the
 * issue time of the snapshot it started from: no change issued before it is
 * ever applied) and fleet.head (the newest head seen).
 */
#ifndef BGW_CONSENT_HEAD_H
#define BGW_CONSENT_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "fleet_msg.h"

struct consent_follow;
struct delivery_config;

/* How the follower talks to the broker (the daemon's publisher). */
struct consent_follow_io {
	void *ctx;
	void (*subscribe)(void *ctx, const char *topic);
	int (*publish)(void *ctx, const char *topic, const char *payload, size_t len);
};

struct consent_follow_stats {
	uint64_t applied;                    /* changes applied */
	uint64_t snapshots;                  /* snapshots applied */
	uint64_t requests;                   /* snapshots asked for */
	uint64_t rejected;                   /* sum of by_verdict */
	uint64_t by_verdict[FLEET_VERDICTS];
};

struct consent_follow *consent_follow_new(const struct delivery_config *cfg, sqlite3 *db,
					  const struct consent_follow_io *io, char *err,
					  size_t errlen);
void consent_follow_free(struct consent_follow *cf);

/* The session is up: subscribe (the retained head comes back). */
void consent_follow_connected(struct consent_follow *cf);
void consent_follow_disconnected(struct consent_follow *cf);
/* A message on any topic; false if it is not one of ours. */
bool consent_follow_message(struct consent_follow *cf, const char *topic, const void *payload,
			    size_t len);
/* Timers: staleness, asking for a snapshot, resuming one. */
void consent_follow_tick(struct consent_follow *cf);

/* Current now? If not, reason says why (for the status and the log). */
bool consent_follow_current(const struct consent_follow *cf, const char **reason);
/* Current and the head matched since the last connect: triggers may leave
 * (changes the broker kept for us are applied before the head comes back). */
bool consent_follow_synced(const struct consent_follow *cf);
int64_t consent_follow_seq(const struct consent_follow *cf);
/* Seconds since the matched head was issued; -1 if none. */
int64_t consent_follow_age_s(const struct consent_follow *cf);
const struct consent_follow_stats *consent_follow_get_stats(const struct consent_follow *cf);

/* ---- snapshots (consent_snapshot_rx.c) ---- */
struct snapshot_rx;
struct cJSON;
/* Chunks are staged in a TEMP table of db (the store connection). */
struct snapshot_rx *snapshot_rx_new(sqlite3 *db);
void snapshot_rx_free(struct snapshot_rx *sx);
/* One verified chunk (payload is taken over). FLEET_OK while collecting or
 * once the whole snapshot is in (then *complete). */
enum fleet_verdict snapshot_rx_chunk(struct snapshot_rx *sx, const struct fleet_header *h,
				     struct cJSON *payload, bool *complete, char *err,
				     size_t errlen);
/* The snapshot being collected: its id ("" if none) and the first chunk
 * still missing. */
const char *snapshot_rx_id(const struct snapshot_rx *sx, uint32_t *first_missing);
/* Replace the store's consent state with the complete snapshot in one
 * transaction (kv fleet.* included; campaigns only those for site); the
 * collection is cleared either way. 0, or a negative enum store_rc + err. */
int snapshot_rx_apply(struct snapshot_rx *sx, sqlite3 *db, const char *actor, const char *site,
		      char *err);
const struct fleet_header *snapshot_rx_header(const struct snapshot_rx *sx);
void snapshot_rx_clear(struct snapshot_rx *sx);

#endif
