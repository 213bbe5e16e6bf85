/*
 * hub.h - what beaconhub's units share: the authority database, the signing
 * key and the fleet's sequence under it.
 *
 * beaconhub is the head-office side of a fleet (docs/fleet.md):
 *   hub_log.c       committed changes (fleet_changes rows) -> signed messages
 *                   in the durable fleet_outbox, in one transaction
 *   hub_pump.c      fleet_outbox -> <prefix>/consent (QoS 1), row deleted on
 *                   PUBACK; the retained head
 *   hub_snapshot.c  signed, chunked full-state snapshots on request
 *   hub_fleet.c     the gateways' retained statuses -> fleet_gateways
 *   hub_main.c      command line, config, event loop, signals
 */
#ifndef BGW_HUB_H
#define BGW_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "consent_sig.h"
#include "hub_config.h"

struct fleet_reader;

struct hub_auth {
	sqlite3 *db;
	struct fleet_reader *reader;
	EVP_PKEY *key;
	char fpr[CONSENT_FPR_LEN + 1];
	const char *fleet;
	char seq_kv[48];          /* kv hub.seq.<fpr>: the last sequence signed */
	int64_t signed_seq;
	bool busy;                /* the last attempt met a locked database: try again */
};

/* ---- hub_log.c ---- */
/* Opens the database, marks it as the fleet's authority, loads the key and
 * the sequence. 0 or -1 + err. */
int hub_auth_open(struct hub_auth *a, const struct hub_config *cfg, char *err, size_t errlen);
void hub_auth_close(struct hub_auth *a);
/* Sign from now on with the key in signing_key (SIGHUP): its sequence goes
 * on from what kv holds for it. 0 if it is the key in use, 1 once switched,
 * -1 + err with nothing changed. */
int hub_auth_rekey(struct hub_auth *a, const char *signing_key, char *err, size_t errlen);
/* --check-config: the key loads, the database opens read-only and is not
 * another fleet's authority. Changes nothing. 0 or -1 + err. */
int hub_auth_check(const struct hub_config *cfg, char *err, size_t errlen);
/* Signs every committed change not yet signed into fleet_outbox (batches, one
 * transaction each). Returns how many messages were made, 0 if none or the
 * database is busy (tried again at the next poll), -1 on an error. */
int hub_log_sign_pending(struct hub_auth *a, char *err, size_t errlen);
/* Unix seconds now. */
int64_t hub_now_s(void);

#endif
