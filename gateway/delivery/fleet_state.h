/*
 * fleet_state.h - the state of one customer or one campaign as the fleet's
 * signed messages carry it, read from a store (the hub, and the gateway to
 * compare) and written into one (the gateway).
 *
 * Changes carry state, not operations: "customer C-1 now has these
 * identifiers, these consents in force, these segments" or "C-1 is gone".
 * Applying a state twice, or an older snapshot's state followed by a newer
 * change, ends in the same store, so a change never depends on the gateway
 * having guessed the operations in between right.
 *
 *   {"customer": {"ref": "C-1", "identifiers": ["ibeacon UUID:1:2", ...],
 *                 "consents": [{"purpose": "retargeting", "channels": "push",
 *                               "granted_at": 1767000000, "expires_at": 0,
 *                               "policy": "v3", "source": "cli"}],
 *                 "segments": ["vip"]}}
 *   {"customer": {"ref": "C-1", "gone": true}}
 *   {"campaign": {"name": "welcome", "zone": "entrance", "event": "enter", ...,
 *                 "sites": ["s0042", "s0107"]}}          ([] = every site)
 *   {"campaign": {"name": "welcome", "gone": true}}
 *
 * Identifiers include EID and IRK keys: the fleet topics must be as
 * protected as the database (TLS and broker ACLs, docs/fleet.md).
 */
#ifndef BGW_FLEET_STATE_H
#define BGW_FLEET_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

struct fleet_reader;
struct store_bulk_add;

/* Prepared statements over db for many reads (a snapshot reads every row). */
struct fleet_reader *fleet_reader_new(sqlite3 *db, char *err, size_t errlen);
void fleet_reader_free(struct fleet_reader *fr);

/* {"customer": {...}} of customers.id, or NULL: *gone set when there is no
 * such customer, else an error in err. */
cJSON *fleet_reader_customer(struct fleet_reader *fr, int64_t customer_id, bool *gone,
			     char *err, size_t errlen);
/* {"campaign": {...}} of the named campaign; NULL + *gone when absent. */
cJSON *fleet_reader_campaign(struct fleet_reader *fr, const char *name, bool *gone, char *err,
			     size_t errlen);
/* {"customer": {"ref": ref, "gone": true}} and the campaign's. */
cJSON *fleet_state_gone(const char *kind, const char *key_name, const char *key);

/*
 * Makes the store hold item, inside the caller's transaction, through the
 * store's own changes (audit rows, outbox rows of an ended consent deleted).
 * site is the gateway's [gateway] site: a campaign whose "sites" do not name
 * it is applied as gone (NULL: no filter). *forgot tells that an erasure
 * ran (store_forget_cleanup() after commit).
 * 0, or a negative enum store_rc with err (STORE_ERRLEN).
 */
int fleet_state_apply_tx(sqlite3 *db, const char *actor, const char *site, const cJSON *item,
			 bool *forgot, char *err);
/*
 * The same, with the customers it adds audited compactly under b's batch
 * (store_bulk_add_new(), whose actor names the hub's sequence; store.h):
 * the caller runs store_bulk_add_sync_tx() before it commits. What changes
 * a customer already held keeps its full audit entries.
 */
int fleet_state_apply_bulk_tx(sqlite3 *db, const char *actor, struct store_bulk_add *b,
			      const char *site, const cJSON *item, bool *forgot, char *err);

#endif
