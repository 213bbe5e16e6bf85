/*
 * snapshot.h - an immutable, in-memory copy of everything the data path
 * needs from the consent store: customers, their identifiers, consents,
 * segments and the campaigns. Built from SQLite off the hot path (at start,
 * and whenever PRAGMA data_version says the database changed, or on SIGHUP),
 * then handed to the pipeline, which indexes it. No SQL per advertisement.
 *
 * One allocation owns everything (snapshot_free releases it); strings and
 * arrays point inside it (a consent's policy may also be the literal "").
 * Sizes matter: a Pi-class gateway holds 100 k customers or more, and during
 * a reload the old and the new snapshot are alive at once. Per-customer
 * structs have no inner padding and share what repeats (policy versions).
 */
#ifndef BGW_SNAPSHOT_H
#define BGW_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNAP_REF_MAX 64        /* customer_ref, segment, zone, campaign, channel names */
#define SNAP_POLICY_MAX 32
#define SNAP_MAX_CHANNELS 32   /* channels are a bit mask over snapshot.channels[] */

enum snap_purpose { SNAP_PRESENCE = 0, SNAP_RETARGETING = 1, SNAP_PURPOSES = 2 };

enum snap_id_type {
	SNAP_ID_IBEACON = 1,       /* value: uuid[16] major(BE)[2] minor(BE)[2] -> 20 bytes */
	SNAP_ID_EDDYSTONE_UID,     /* value: namespace[10] instance[6] -> 16 bytes */
	SNAP_ID_EDDYSTONE_EID,     /* key[16], exponent, clock offset */
	SNAP_ID_IRK,               /* key[16] (as written by the user: most significant byte first) */
};

/* Fields ordered widest first: no padding inside, and the arrays are the bulk
 * of a snapshot (100 k customers, 100 k identifiers or more). */
struct snap_identifier {
	int64_t clock_offset;      /* EID: tag counter = unix time - clock_offset */
	enum snap_id_type type;
	uint32_t customer;         /* index into snapshot.customers */
	uint8_t exponent;          /* EID rotation exponent 0..15 */
	uint8_t value[20];         /* ibeacon / uid bytes, or the 16-byte key */
};

/* A grant is in force over [from, until): granted_at, and the earlier of its
 * expiry and its withdrawal. until 0 = neither (so a zeroed grant with only
 * `granted` set is in force, as before). */
struct snap_consent {
	int64_t from;              /* granted_at, unix seconds */
	int64_t until;             /* min(expires_at, withdrawn_at) of those set; 0 = never */
	const char *policy;        /* one of snapshot.policies (shared), or "" */
	uint32_t channels;         /* bit i = snapshot.channels[i] */
	bool granted;              /* a grant exists (possibly withdrawn or expired) */
};

struct snap_customer {
	int64_t id;                /* customers.id in SQLite */
	struct snap_consent consent[SNAP_PURPOSES];
	uint32_t first_segment;    /* index into snapshot.customer_segments */
	uint32_t segment_count;
	char ref[SNAP_REF_MAX];    /* the CRM's opaque customer_ref */
};

enum snap_event { SNAP_EVENT_ENTER = 0, SNAP_EVENT_DWELL = 1, SNAP_EVENT_EXIT = 2 };

struct snap_campaign {
	int64_t id;
	char name[SNAP_REF_MAX];
	char zone[SNAP_REF_MAX];
	enum snap_event event;
	int32_t segment;           /* index into snapshot.segments, -1 = any customer */
	uint32_t min_dwell_s;
	uint32_t cooldown_s;       /* per customer; 0 = none */
	uint32_t daily_cap;        /* per customer per local day; 0 = unlimited */
	uint32_t channels;         /* required channels (any of), 0 = any */
	int64_t valid_from;        /* unix seconds, 0 = open */
	int64_t valid_until;       /* unix seconds, 0 = open */
	int32_t hours_from_min;    /* opening hours in local minutes of day, -1 = always */
	int32_t hours_until_min;
};

/* Recent triggers, so cooldown and daily cap survive a restart. */
struct snap_trigger_history {
	uint32_t customer;         /* index into customers */
	uint32_t campaign;         /* index into campaigns */
	int64_t last_at;           /* unix seconds of the newest trigger */
	uint32_t count_today;      /* triggers in the current local day */
};

struct snapshot {
	uint64_t data_version;     /* what the store was at when this was read */
	uint32_t n_customers, n_identifiers, n_campaigns, n_segments, n_channels, n_history;
	uint32_t n_customer_segments, n_policies;
	struct snap_customer *customers;        /* sorted by id */
	struct snap_identifier *identifiers;
	struct snap_campaign *campaigns;
	char (*segments)[SNAP_REF_MAX];
	char (*channels)[SNAP_REF_MAX];
	char (*policies)[SNAP_POLICY_MAX];      /* distinct consent policy versions */
	uint32_t *customer_segments;            /* segment indices, per customer range */
	struct snap_trigger_history *history;
};

/* until from a grant's expires_at and withdrawn_at (0 = not set). */
static inline int64_t snap_consent_until(int64_t expires_at, int64_t withdrawn_at)
{
	if (!expires_at || !withdrawn_at)
		return expires_at ? expires_at : withdrawn_at;
	return expires_at < withdrawn_at ? expires_at : withdrawn_at;
}

/* Is consent for purpose p in force at unix time now? */
static inline bool snap_consent_active(const struct snap_consent *c, int64_t now)
{
	return c->granted && c->from <= now && (c->until == 0 || now < c->until);
}

void snapshot_free(struct snapshot *s);

#endif
