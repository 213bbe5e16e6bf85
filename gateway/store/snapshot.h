/*
 * snapshot.h - an immutable, in-memory copy of everything the data path
 * needs from the consent store: customers, their identifiers, consents,
 * segments and the campaigns. Built from SQLite off the hot path (at start,
 * and whenever PRAGMA data_version says the database changed, or on SIGHUP),
 * then handed to the pipeline, which indexes it. No SQL per advertisement.
 *
 * One allocation owns everything (snapshot_free releases it); strings and
 * arrays point inside it, and records refer to strings by offset or index
 * (snap_customer_ref(), snap_consent_policy()). Sizes matter: a Pi-class
 * gateway holds 100 k customers or more. Records have no inner padding and
 * share what repeats (consent pairs, policy versions, segment lists, channel
 * and segment names, EID clock offsets).
 */
#ifndef BGW_SNAPSHOT_H
#define BGW_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SNAP_REF_MAX 64        /* customer_ref, segment, zone, campaign, channel names */
#define SNAP_POLICY_MAX 32
#define SNAP_MAX_CHANNELS 32   /* channels are a bit mask over snapshot.channels[] */

enum snap_purpose { SNAP_PRESENCE = 0, SNAP_RETARGETING = 1, SNAP_PURPOSES = 2 };

enum snap_id_type {
	SNAP_ID_IBEACON = 1,       /* value: uuid[16] major(BE)[2] minor(BE)[2] -> 20 bytes */
	SNAP_ID_EDDYSTONE_UID,     /* value: namespace[10] instance[6] -> 16 bytes */
	SNAP_ID_EDDYSTONE_EID,     /* key[16], exponent, clock offset */
	SNAP_ID_IRK,               /* key[16] (as written by the user: most significant byte first) */
	SNAP_ID_ALTBEACON,         /* value: company id(BE)[2] beacon id[20] -> 22 bytes */
};

/* Records are packed for size: at 100 k customers and more, every byte of a
 * per-customer or per-identifier record is 100 kB or more of the gateway's
 * memory.
 * Times are unsigned 32-bit unix seconds (good until 2106; the loader clamps,
 * see snap_time32()). */
#define SNAP_ID_BYTES_MAX 22

/* An identifier's bytes (snap_identifier_bytes()): an iBeacon's UUID is
 * shared -- a store's tags carry one or a few -- so it is kept once in
 * snapshot.uuids and the record holds major and minor; every other value
 * (UID 16 bytes, AltBeacon 22, IRK 16, an EID key 16 followed by the index
 * of its clock offset in snapshot.clock_offsets, a uint32 in host order) and
 * an iBeacon whose UUID did not fit the table sit in snapshot.id_bytes. */
struct snap_identifier {
	uint32_t customer;         /* index into snapshot.customers */
	uint8_t type;              /* enum snap_id_type */
	uint8_t exponent;          /* EID rotation exponent 0..15 */
	uint16_t uuid;             /* iBeacon: 1 + index into snapshot.uuids; 0: in id_bytes */
	uint32_t data;             /* uuid set: major << 16 | minor; else offset in id_bytes */
};

/* A grant is in force over [from, until): granted_at, and the earlier of its
 * expiry and its withdrawal. until 0 = neither (so a zeroed grant with only
 * `granted` set is in force). */
struct snap_consent {
	uint32_t from;             /* granted_at, unix seconds */
	uint32_t until;            /* min(expires_at, withdrawn_at) of those set; 0 = never */
	uint32_t channels;         /* bit i = snapshot.channels[i] */
	uint16_t policy;           /* 1 + index into snapshot.policies (shared); 0 = none */
	bool granted;              /* a grant exists (possibly withdrawn or expired) */
};

/* What customers enrolled together share: their consent pair (an index
 * into snapshot.consent_sets; set 0 is nothing granted) and their segments
 * (snap_customer_segments(): with snapshot.segment_lists the shared list
 * that starts at first_segment in snapshot.customer_segments, else its
 * range up to the next customer's first_segment). Profile 0 is nothing
 * granted and no segment. */
struct snap_profile {
	uint32_t consent;
	uint32_t first_segment;
};

/* A customer: 8 bytes, as at 100 k customers each byte is 100 kB of the
 * gateway's memory. One import or one sync gives its customers equal
 * consents and segments, so they point at one profile (snap_customer_consent(),
 * snap_customer_segments()). Its customers.id is not kept here but in the
 * snapshot's id runs (snap_customer_id()): rowids are mostly dense, so most
 * stores need one run for all their customers. */
struct snap_customer {
	uint32_t profile;          /* index into snapshot.profiles */
	uint32_t ref;              /* offset of its reference's entry in snapshot.strings */
};

/* Customers in a block of this many share an entry of snapshot.id_run_of_block. */
#define SNAP_ID_BLOCK_SHIFT 6

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

/* Recent triggers, so cooldown and daily cap survive a restart: of the
 * campaigns that have either (no others read them). */
struct snap_trigger_history {
	uint32_t customer;         /* index into customers */
	uint32_t campaign;         /* index into campaigns */
	int64_t last_at;           /* unix seconds of the newest trigger */
	uint32_t count_today;      /* triggers in the current local day */
};

struct snapshot {
	uint64_t data_version;     /* what the store was at when this was read */
	uint32_t n_customers, n_identifiers, n_campaigns, n_segments, n_channels, n_history;
	uint32_t n_customer_segments, n_policies, n_consent_sets, n_profiles;
	struct snap_customer *customers;        /* sorted by id */
	struct snap_profile *profiles;          /* distinct (consents, segments); 0: none */
	struct snap_consent (*consent_sets)[SNAP_PURPOSES]; /* distinct pairs; 0: none granted */
	struct snap_identifier *identifiers;
	struct snap_campaign *campaigns;
	char (*segments)[SNAP_REF_MAX];
	char (*channels)[SNAP_REF_MAX];
	char (*policies)[SNAP_POLICY_MAX];      /* distinct consent policy versions */
	uint32_t *customer_segments;            /* segment indices, per customer range */
	struct snap_trigger_history *history;
	char *strings;                          /* customer refs (snap_customer_ref()) */
	int64_t *clock_offsets;                 /* EID keys: tag counter = unix time - offset */
	uint32_t n_strings_bytes, n_clock_offsets;
	uint8_t (*uuids)[16];                   /* distinct iBeacon UUIDs */
	uint8_t *id_bytes;                      /* other identifier values, see snap_identifier */
	uint32_t n_uuids, n_id_bytes;
	/* customer_segments holds lists, each its length and then its segment
	 * indices, shared by the customers that have the same segments (most
	 * do: one import, one list); list 0 is empty. Otherwise a customer's
	 * segments are a range of it (see snap_customer). */
	bool segment_lists;
	/* customers.id of customer i is i + id_run_delta[r], r the run that
	 * holds i: runs start where the ids have a gap (id_run_start ascending,
	 * [0] = 0). id_run_of_block[i >> SNAP_ID_BLOCK_SHIFT] is the run of
	 * that block's first customer, so finding i's run looks at most at the
	 * run starts inside one block: constant time on the data path. */
	uint32_t n_id_runs;
	uint32_t *id_run_start;
	int64_t *id_run_delta;
	uint32_t *id_run_of_block;
};

/* Unix seconds -> the snapshot's 32-bit times. Before 1970 clamps to 0 and
 * after 2106 to the last second; both are decades from any real grant. */
static inline uint32_t snap_time32(int64_t t)
{
	return t <= 0 ? 0u : t >= (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* An end time (until): 0 keeps its meaning "never"; an end before 1970
 * becomes the first second (ended), one after 2106 "never". */
static inline uint32_t snap_until32(int64_t t)
{
	return t == 0 ? 0u : t < 0 ? 1u : t >= (int64_t)UINT32_MAX ? 0u : (uint32_t)t;
}

/*
 * Customer references, front-coded: customer i's entry in snapshot.strings
 * (at customers[i].ref, up to the next customer's) is one byte, how many
 * leading bytes its reference shares with customer i - 1's, then the bytes
 * that differ, no NUL. Every SNAP_REF_RESTART-th customer shares nothing.
 * A CRM's numbered references ("R0000001", "R0000002", ...) take 2 or 3
 * bytes instead of 9; references with nothing in common take as many as
 * with a NUL. Decoding starts at the last restart: at most 15 short steps,
 * no allocation (a visit event decodes one; restarts every 64th would save
 * 30 KB at 100 k numbered references and cost four times the steps).
 */
#define SNAP_REF_RESTART 16

/* Entry i of the pool: the reference before it in buf (*len bytes, less than
 * SNAP_REF_MAX) becomes customer i's, NUL-terminated. */
static inline void snap_ref_step(const struct snapshot *s, uint32_t i, char buf[SNAP_REF_MAX],
				 uint32_t *len)
{
	uint32_t off = s->customers[i].ref;
	uint32_t end = i + 1 < s->n_customers ? s->customers[i + 1].ref : s->n_strings_bytes;
	uint32_t shared, n;

	if (off >= end || end > s->n_strings_bytes) {
		*len = 0; /* cannot: the loader writes a byte per customer at least */
	} else {
		shared = (uint8_t)s->strings[off];
		if (shared > *len || i % SNAP_REF_RESTART == 0)
			shared = 0;
		n = end - off - 1;
		if (n > SNAP_REF_MAX - 1 - shared)
			n = SNAP_REF_MAX - 1 - shared;
		memcpy(buf + shared, s->strings + off + 1, n);
		*len = shared + n;
	}
	buf[*len] = '\0';
}

/* The CRM's opaque customer_ref of customer c, decoded into buf. */
static inline const char *snap_customer_ref(const struct snapshot *s,
					    const struct snap_customer *c, char buf[SNAP_REF_MAX])
{
	uint32_t i = (uint32_t)(c - s->customers), len = 0;

	buf[0] = '\0';
	if (i >= s->n_customers)
		return buf;
	for (uint32_t j = i - i % SNAP_REF_RESTART; j <= i; j++)
		snap_ref_step(s, j, buf, &len);
	return buf;
}

/* Customer i's entry for reference ref (len bytes, less than SNAP_REF_MAX)
 * after prev (customer i - 1's, NUL-terminated) into dst: the bytes written. */
static inline uint32_t snap_ref_encode(char *dst, uint32_t i, const char *prev, const char *ref,
				       uint32_t len)
{
	uint32_t shared = 0;

	if (i % SNAP_REF_RESTART)
		while (shared < len && prev[shared] == ref[shared])
			shared++;
	dst[0] = (char)shared;
	memcpy(dst + 1, ref + shared, len - shared);
	return 1 + len - shared;
}

/* Customer c's consent pair ([SNAP_PURPOSES]); set 0 (nothing granted) when
 * out of range. */
static inline const struct snap_consent *snap_customer_consent(const struct snapshot *s,
							       const struct snap_customer *c)
{
	uint32_t k = c->profile < s->n_profiles ? s->profiles[c->profile].consent : 0;

	return s->consent_sets[k < s->n_consent_sets ? k : 0];
}

/* customers.id of customer i (i < n_customers). */
static inline int64_t snap_customer_id(const struct snapshot *s, uint32_t i)
{
	uint32_t r = s->id_run_of_block[i >> SNAP_ID_BLOCK_SHIFT];

	while (r + 1 < s->n_id_runs && s->id_run_start[r + 1] <= i)
		r++;
	return (int64_t)i + s->id_run_delta[r];
}

/* The index of the customer with customers.id id, or -1: a search over the
 * runs (one, in a store that saw few removals). */
static inline int64_t snap_customer_index(const struct snapshot *s, int64_t id)
{
	uint32_t lo = 0, hi = s->n_id_runs, end;
	int64_t i;

	/* The last run whose first id is at most id: first ids ascend. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if ((int64_t)s->id_run_start[mid] + s->id_run_delta[mid] <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	end = lo < s->n_id_runs ? s->id_run_start[lo] : s->n_customers;
	i = id - s->id_run_delta[lo - 1];
	return i >= (int64_t)s->id_run_start[lo - 1] && i < (int64_t)end ? i : -1;
}

/* Note customers.id of customer i while a snapshot is built, i = 0, 1, ...
 * in turn and ids ascending; the run arrays have room for a run per
 * customer and id_run_of_block an entry per block. */
static inline void snap_customer_id_note(struct snapshot *s, uint32_t i, int64_t id)
{
	if (!s->n_id_runs || id - (int64_t)i != s->id_run_delta[s->n_id_runs - 1]) {
		s->id_run_start[s->n_id_runs] = i;
		s->id_run_delta[s->n_id_runs] = id - (int64_t)i;
		s->n_id_runs++;
	}
	if (!(i & ((1u << SNAP_ID_BLOCK_SHIFT) - 1)))
		s->id_run_of_block[i >> SNAP_ID_BLOCK_SHIFT] = s->n_id_runs - 1;
}

/* How many entries id_run_of_block needs for n customers. */
static inline size_t snap_id_blocks(size_t n)
{
	return (n >> SNAP_ID_BLOCK_SHIFT) + 1;
}

static inline const char *snap_consent_policy(const struct snapshot *s,
					      const struct snap_consent *c)
{
	return c->policy && c->policy <= s->n_policies ? s->policies[c->policy - 1] : "";
}

static inline uint32_t snap_customer_first_segment(const struct snapshot *s, uint32_t i)
{
	uint32_t k = s->customers[i].profile;

	return k < s->n_profiles ? s->profiles[k].first_segment : 0;
}

/* Customer i's segment indices: *segs, and how many. */
static inline uint32_t snap_customer_segments(const struct snapshot *s, uint32_t i,
					      const uint32_t **segs)
{
	uint32_t first = snap_customer_first_segment(s, i);
	uint32_t end;

	if (s->segment_lists) {
		uint32_t n = first < s->n_customer_segments ? s->customer_segments[first] : 0;

		*segs = s->customer_segments + (n ? first + 1 : 0);
		return n <= s->n_customer_segments - first - 1 ? n : 0;
	}
	end = i + 1 < s->n_customers ? snap_customer_first_segment(s, i + 1)
				     : s->n_customer_segments;
	if (end > s->n_customer_segments)
		end = s->n_customer_segments;
	*segs = s->customer_segments + first;
	return end > first ? end - first : 0;
}

/* How many bytes make the identifier: what a frame carries (iBeacon UUID,
 * major, minor; UID namespace, instance; AltBeacon company, beacon id) or
 * the key. */
static inline size_t snap_id_len(uint8_t type)
{
	return type == SNAP_ID_IBEACON ? 20 : type == SNAP_ID_ALTBEACON ? 22 : 16;
}

/* The identifier's bytes: inside the snapshot, or assembled in buf (an
 * iBeacon with a shared UUID). */
static inline const uint8_t *snap_identifier_bytes(const struct snapshot *s,
						   const struct snap_identifier *id,
						   uint8_t buf[SNAP_ID_BYTES_MAX])
{
	if (!id->uuid && id->data < s->n_id_bytes)
		return s->id_bytes + id->data;
	memset(buf, 0, SNAP_ID_BYTES_MAX);
	if (!id->uuid)
		return buf;
	if (id->uuid <= s->n_uuids)
		memcpy(buf, s->uuids[id->uuid - 1], 16);
	buf[16] = (uint8_t)(id->data >> 24);
	buf[17] = (uint8_t)(id->data >> 16);
	buf[18] = (uint8_t)(id->data >> 8);
	buf[19] = (uint8_t)id->data;
	return buf;
}

/* Is the identifier of type `type` with bytes v (snap_id_len(type) of them)? */
static inline bool snap_identifier_is(const struct snapshot *s, const struct snap_identifier *id,
				      uint8_t type, const uint8_t *v)
{
	if (id->type != type)
		return false;
	if (id->uuid)
		return id->uuid <= s->n_uuids && !memcmp(s->uuids[id->uuid - 1], v, 16) &&
		       id->data == ((uint32_t)v[16] << 24 | (uint32_t)v[17] << 16 |
				    (uint32_t)v[18] << 8 | v[19]);
	return id->data < s->n_id_bytes && !memcmp(s->id_bytes + id->data, v, snap_id_len(type));
}

static inline int64_t snap_clock_offset(const struct snapshot *s,
					const struct snap_identifier *id)
{
	uint32_t i;

	if (id->uuid || id->data + 20 > s->n_id_bytes)
		return 0;
	memcpy(&i, s->id_bytes + id->data + 16, sizeof(i));
	return i < s->n_clock_offsets ? s->clock_offsets[i] : 0;
}

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
	return c->granted && (int64_t)c->from <= now && (c->until == 0 || now < (int64_t)c->until);
}

void snapshot_free(struct snapshot *s);

/* A snapshot with nobody in it (freed with snapshot_free()): what the daemon
 * acts on while it cannot load the real one, so that nobody's visits or
 * triggers are processed on a state it cannot trust. NULL if out of memory. */
struct snapshot *snapshot_empty(void);

#endif
