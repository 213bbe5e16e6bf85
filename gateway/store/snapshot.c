/*
 * snapshot.c - builds the data path's in-memory copy of the store.
 *
 * Everything is read inside one read transaction (a consistent view even
 * while beaconctl writes), counted first and then filled into a single
 * allocation, so snapshot_free() is one release and the pipeline can swap
 * snapshots without walking them.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "snapshot.h"
#include "store_internal.h"
#include "bgw_util.h"

struct loader {
	sqlite3 *db;
	struct snapshot *s;
	char *err;
	size_t errlen;
	int64_t *segment_ids;   /* temporary: segments.id per index */
	uint32_t *policy_slots; /* temporary: open-addressing set of policies, index + 1 */
	uint32_t policy_mask;
	uint32_t policy_cap;    /* distinct policy versions in the table */
	uint32_t strings_used;  /* bytes of snapshot.strings filled so far */
	uint32_t clock_cap;     /* EID keys counted: room in snapshot.clock_offsets */
	uint32_t *set_slots;    /* temporary: open-addressing set of consent pairs, index + 1 */
	uint32_t set_mask;
	uint32_t set_cap;       /* room in snapshot.consent_sets */
	uint32_t *profile_slots; /* temporary: open-addressing set of profiles, index + 1 */
	uint32_t profile_mask;
	uint32_t profile_cap;   /* room in snapshot.profiles */
	uint32_t profiled;      /* customers before this one have their profile */
	uint32_t uuid_slots[4096]; /* distinct iBeacon UUIDs seen, index + 1 */
	uint32_t uuid_cap;      /* room in snapshot.uuids */
	uint32_t bytes_cap;     /* room in snapshot.id_bytes */
	uint32_t *list;         /* temporary: the segments of the customer being read */
	uint32_t *list_slots;   /* temporary: open-addressing set of segment lists, offset + 1 */
	uint32_t list_mask;
	uint32_t n_lists;       /* lists in the set */
	uint32_t lists_cap;     /* room in snapshot.customer_segments */
	uint32_t *clock_slots;  /* temporary: open-addressing set of clock offsets, index + 1 */
	uint32_t clock_mask;
	int rc;                 /* the first failure (enum store_rc) */
};

/* Failures return -1; the first one sets l->rc (the enum store_rc that
 * store_snapshot_load() returns) and the message. A failed SQLite call: */
static int sql_failed(struct loader *l, const char *what)
{
	int code = sqlite3_errcode(l->db);

	if (!l->rc)
		l->rc = code == SQLITE_NOMEM ? STORE_ENOMEM
			: code == SQLITE_CORRUPT || code == SQLITE_NOTADB ? STORE_ECORRUPT
			: code == SQLITE_BUSY || code == SQLITE_LOCKED ? STORE_EBUSY
			: code == SQLITE_ERROR ? STORE_ESCHEMA   /* no such table / column */
			: STORE_EIO;
	if (l->err && l->errlen)
		snprintf(l->err, l->errlen, "snapshot: %s: %s", what, sqlite3_errmsg(l->db));
	return -1;
}

/* A limit or a check of the loader's own: */
static int load_refused(struct loader *l, int rc, const char *msg)
{
	if (!l->rc)
		l->rc = rc;
	if (l->err && l->errlen)
		snprintf(l->err, l->errlen, "snapshot: %s", msg);
	return -1;
}

static int64_t count(struct loader *l, const char *sql, int64_t bind)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_failed(l, "count");
	if (bind >= 0)
		sqlite3_bind_int64(st, 1, bind);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		sql_failed(l, "count");
	sqlite3_finalize(st);
	return v;
}

static int64_t customer_index(const struct snapshot *s, int64_t id)
{
	return snap_customer_index(s, id);
}

static int64_t segment_index(const struct loader *l, int64_t id)
{
	uint32_t lo = 0, hi = l->s->n_segments;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (l->segment_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->s->n_segments && l->segment_ids[lo] == id ? (int64_t)lo : -1;
}

static int64_t campaign_index(const struct snapshot *s, int64_t id)
{
	for (uint32_t i = 0; i < s->n_campaigns; i++)
		if (s->campaigns[i].id == id)
			return i;
	return -1;
}

/* "push,email" -> bit mask over s->channels, adding new names. */
static int channel_mask(struct loader *l, const char *csv, uint32_t *mask)
{
	struct snapshot *s = l->s;

	*mask = 0;
	while (csv && *csv) {
		const char *e = strchr(csv, ',');
		size_t len = e ? (size_t)(e - csv) : strlen(csv);
		uint32_t i;

		if (len >= SNAP_REF_MAX)
			len = SNAP_REF_MAX - 1;
		for (i = 0; i < s->n_channels; i++)
			if (strncmp(s->channels[i], csv, len) == 0 && s->channels[i][len] == '\0')
				break;
		if (i == s->n_channels) {
			if (s->n_channels == SNAP_MAX_CHANNELS)
				return load_refused(l, STORE_EINVAL, "more than 32 distinct channel "
					     "names (consents and campaigns together)");
			memcpy(s->channels[i], csv, len);
			s->channels[i][len] = '\0';
			s->n_channels++;
		}
		*mask |= 1u << i;
		csv = e ? e + 1 : csv + strlen(csv);
	}
	return 0;
}

/* Consents share their policy version string: a handful of distinct values
 * across all customers. Returns 1 + its index in s->policies, 0 for none. */
static uint16_t policy_intern(struct loader *l, const unsigned char *text)
{
	struct snapshot *s = l->s;
	char v[SNAP_POLICY_MAX];
	uint32_t h = 2166136261u, i;

	snprintf(v, sizeof(v), "%s", text ? (const char *)text : "");
	if (!v[0] || !l->policy_slots)
		return 0;
	for (const char *c = v; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	for (i = h & l->policy_mask; l->policy_slots[i]; i = (i + 1) & l->policy_mask)
		if (strcmp(s->policies[l->policy_slots[i] - 1], v) == 0)
			return (uint16_t)l->policy_slots[i];
	if (s->n_policies == l->policy_cap)
		return 0; /* a row appeared since the count: cannot, inside one read transaction */
	memcpy(s->policies[s->n_policies], v, sizeof(v));
	l->policy_slots[i] = ++s->n_policies;
	return (uint16_t)s->n_policies;
}

static sqlite3_stmt *prep(struct loader *l, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sql_failed(l, "prepare");
		return NULL;
	}
	return st;
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static int load_customers(struct loader *l)
{
	sqlite3_stmt *st = prep(l, "SELECT id, customer_ref FROM customers ORDER BY id");
	char prev[SNAP_REF_MAX] = "";
	uint32_t i = 0;

	if (!st)
		return -1;
	while (i < l->s->n_customers && sqlite3_step(st) == SQLITE_ROW) {
		struct snap_customer *c = &l->s->customers[i];
		const char *ref = (const char *)sqlite3_column_text(st, 1);
		uint32_t len = ref ? (uint32_t)sqlite3_column_bytes(st, 1) : 0;

		/* The store refuses longer references; one written around it
		 * is cut, as every other name of the snapshot is. */
		if (len > SNAP_REF_MAX - 1)
			len = SNAP_REF_MAX - 1;
		if (len >= l->s->n_strings_bytes - l->strings_used)
			break; /* cannot: counted inside the same read transaction */
		snap_customer_id_note(l->s, i, sqlite3_column_int64(st, 0));
		c->profile = 0;
		c->ref = l->strings_used;
		l->strings_used += snap_ref_encode(l->s->strings + l->strings_used, i, prev,
						   ref ? ref : "", len);
		memcpy(prev, ref ? ref : "", len);
		prev[len] = '\0';
		i++;
	}
	sqlite3_finalize(st);
	l->s->n_customers = i;
	/* The last entry ends where the pool's used part does. */
	l->s->n_strings_bytes = l->strings_used;
	return 0;
}

/* The set equal to pair, added when new. Pairs are compared as bytes: the
 * caller zeroes them whole, padding included. Past the temporary table's
 * reach (more distinct pairs than it was sized for) pairs are appended
 * without looking: still correct, only less shared. */
static uint32_t set_intern(struct loader *l, const struct snap_consent pair[SNAP_PURPOSES])
{
	struct snapshot *s = l->s;
	const size_t n = sizeof(s->consent_sets[0]);
	const uint8_t *b = (const uint8_t *)pair;
	uint32_t h = 2166136261u, i = 0;
	bool full = s->n_consent_sets >= (l->set_mask + 1) / 2;

	for (size_t k = 0; k < n; k++)
		h = (h ^ b[k]) * 16777619u;
	for (i = h & l->set_mask; l->set_slots[i]; i = (i + 1) & l->set_mask)
		if (!memcmp(s->consent_sets[l->set_slots[i] - 1], pair, n))
			return l->set_slots[i] - 1;
	if (s->n_consent_sets == l->set_cap)
		return 0; /* cannot: one set per customer at most */
	memcpy(s->consent_sets[s->n_consent_sets], pair, n);
	if (!full)
		l->set_slots[i] = s->n_consent_sets + 1;
	return s->n_consent_sets++;
}

static int load_consents(struct loader *l)
{
	/* Per customer and purpose in id order: the newest row of each purpose
	 * is applied last ("current"); the table is clustered in this order
	 * (schema v9), and a customer's pair is complete when the next one
	 * starts. */
	sqlite3_stmt *st = prep(l, "SELECT customer_id, purpose, channels, granted_at, expires_at, "
				   "withdrawn_at, policy_version FROM consents "
				   "ORDER BY customer_id, purpose, id");
	struct snap_consent pair[SNAP_PURPOSES];
	int64_t cur = -1;
	int rc = 0;

	if (!st)
		return -1;
	memset(pair, 0, sizeof(pair));
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t ci = customer_index(l->s, sqlite3_column_int64(st, 0));
		int p = sqlite3_column_int(st, 1);
		struct snap_consent *c;

		if (ci < 0 || sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
		    (p != STORE_PRESENCE && p != STORE_RETARGETING))
			continue;
		if (ci != cur) {
			if (cur >= 0)
				l->s->customers[cur].profile = set_intern(l, pair);
			memset(pair, 0, sizeof(pair));
			cur = ci;
		}
		c = &pair[p == STORE_RETARGETING ? SNAP_RETARGETING : SNAP_PRESENCE];
		memset(c, 0, sizeof(*c));
		c->granted = true;
		c->from = snap_time32(sqlite3_column_int64(st, 3));
		c->until = snap_until32(
			snap_consent_until(sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5)));
		c->policy = policy_intern(l, sqlite3_column_text(st, 6));
		rc = channel_mask(l, (const char *)sqlite3_column_text(st, 2), &c->channels);
	}
	/* Until load_segments() gives them their profile, customers hold
	 * their consent set there. */
	if (rc == 0 && cur >= 0)
		l->s->customers[cur].profile = set_intern(l, pair);
	sqlite3_finalize(st);
	return rc;
}

/* The profile of consent set consent and segment list first: an equal one
 * already stored, or appended. Past the temporary table's reach profiles
 * are appended without looking: still correct, only less shared. */
static uint32_t profile_intern(struct loader *l, uint32_t consent, uint32_t first)
{
	struct snapshot *s = l->s;
	uint32_t h = 2166136261u, i;
	bool full = s->n_profiles >= (l->profile_mask + 1) / 2;

	if (!consent && !first)
		return 0; /* nothing granted, no segment */
	h = (h ^ consent) * 16777619u;
	h = (h ^ first) * 16777619u;
	for (i = h & l->profile_mask; l->profile_slots[i]; i = (i + 1) & l->profile_mask) {
		const struct snap_profile *p = &s->profiles[l->profile_slots[i] - 1];

		if (p->consent == consent && p->first_segment == first)
			return l->profile_slots[i] - 1;
	}
	if (s->n_profiles == l->profile_cap)
		return 0; /* cannot: one profile per customer at most */
	s->profiles[s->n_profiles] = (struct snap_profile){ consent, first };
	if (!full)
		l->profile_slots[i] = s->n_profiles + 1;
	return s->n_profiles++;
}

/* Customers up to end (not included) that have no profile yet: their
 * consents and no segment. */
static void profile_upto(struct loader *l, uint32_t end)
{
	for (; l->profiled < end; l->profiled++) {
		struct snap_customer *c = &l->s->customers[l->profiled];

		c->profile = profile_intern(l, c->profile, 0);
	}
}

/* Customer ci, its segments read: every customer before it gets its
 * profile, then it. */
static void profile_set(struct loader *l, uint32_t ci, uint32_t first)
{
	struct snap_customer *c = &l->s->customers[ci];

	profile_upto(l, ci);
	c->profile = profile_intern(l, c->profile, first);
	l->profiled = ci + 1;
}

/* Customer ci's list (n segment indices): an equal one already stored, or
 * appended as its length and the indices. Past the temporary table's reach
 * lists are appended without looking: still correct, only less shared. */
static int list_intern(struct loader *l, uint32_t ci, const uint32_t *list, uint32_t n)
{
	struct snapshot *s = l->s;
	uint32_t h = 2166136261u, i;
	bool full = l->n_lists >= (l->list_mask + 1) / 2;

	for (uint32_t k = 0; k < n; k++)
		h = (h ^ list[k]) * 16777619u;
	h = (h ^ n) * 16777619u;
	for (i = h & l->list_mask; l->list_slots[i]; i = (i + 1) & l->list_mask) {
		uint32_t at = l->list_slots[i] - 1;

		if (s->customer_segments[at] == n &&
		    !memcmp(s->customer_segments + at + 1, list, n * sizeof(*list))) {
			profile_set(l, ci, at);
			return 0;
		}
	}
	if (n + 1 > l->lists_cap - s->n_customer_segments)
		return -1; /* cannot: counted in the same transaction */
	profile_set(l, ci, s->n_customer_segments);
	s->customer_segments[s->n_customer_segments] = n;
	memcpy(s->customer_segments + s->n_customer_segments + 1, list, n * sizeof(*list));
	if (!full) {
		l->list_slots[i] = s->n_customer_segments + 1;
		l->n_lists++;
	}
	s->n_customer_segments += n + 1;
	return 0;
}

static int load_segments(struct loader *l)
{
	sqlite3_stmt *st = prep(l, "SELECT id, name FROM segments ORDER BY id");
	uint32_t i = 0, n = 0;
	int64_t cur = -1;

	if (!st)
		return -1;
	while (i < l->s->n_segments && sqlite3_step(st) == SQLITE_ROW) {
		l->segment_ids[i] = sqlite3_column_int64(st, 0);
		copy_text(l->s->segments[i], SNAP_REF_MAX, st, 1);
		i++;
	}
	sqlite3_finalize(st);
	l->s->n_segments = i;

	/* List 0, the empty one, is every customer's until its rows come (the
	 * block is zeroed: first_segment 0, length 0). */
	l->s->segment_lists = true;
	l->s->n_customer_segments = 1;
	st = prep(l, "SELECT customer_id, segment_id FROM customer_segments "
		     "ORDER BY customer_id, segment_id");
	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t ci = customer_index(l->s, sqlite3_column_int64(st, 0));
		int64_t si = segment_index(l, sqlite3_column_int64(st, 1));

		/* Rows come in customer order, as the customers are: a
		 * customer's list is complete when the next one's rows start. */
		if (ci < 0 || si < 0 || ci < cur)
			continue;
		if (ci != cur) {
			if (cur >= 0 && n && list_intern(l, (uint32_t)cur, l->list, n))
				break;
			cur = ci;
			n = 0;
		}
		if (n < l->s->n_segments)
			l->list[n++] = (uint32_t)si;
	}
	sqlite3_finalize(st);
	if (cur >= 0 && n)
		list_intern(l, (uint32_t)cur, l->list, n);
	profile_upto(l, l->s->n_customers);
	return 0;
}

/* 1 + the index of uuid in s->uuids, added when new; 0 when the table is
 * full (the identifier then keeps all its bytes in id_bytes). */
static uint16_t uuid_intern(struct loader *l, const uint8_t uuid[16])
{
	struct snapshot *s = l->s;
	const uint32_t mask = BGW_ARRAY_SIZE(l->uuid_slots) - 1;
	uint32_t h = 2166136261u, i;

	for (int k = 0; k < 16; k++)
		h = (h ^ uuid[k]) * 16777619u;
	for (i = h & mask; l->uuid_slots[i]; i = (i + 1) & mask)
		if (!memcmp(s->uuids[l->uuid_slots[i] - 1], uuid, 16))
			return (uint16_t)l->uuid_slots[i];
	if (s->n_uuids == l->uuid_cap || s->n_uuids >= (mask + 1) / 2)
		return 0;
	memcpy(s->uuids[s->n_uuids], uuid, 16);
	l->uuid_slots[i] = ++s->n_uuids;
	return (uint16_t)s->n_uuids;
}

/* Stores the identifier's n bytes: a shared UUID for an iBeacon, else in id_bytes. */
static int id_store(struct loader *l, struct snap_identifier *id, const uint8_t *v, size_t n)
{
	struct snapshot *s = l->s;

	if (id->type == SNAP_ID_IBEACON && (id->uuid = uuid_intern(l, v))) {
		id->data = (uint32_t)v[16] << 24 | (uint32_t)v[17] << 16 | (uint32_t)v[18] << 8 |
			   v[19];
		return 0;
	}
	if (n > l->bytes_cap - s->n_id_bytes)
		return -1; /* cannot: counted in the same transaction */
	id->data = s->n_id_bytes;
	memcpy(s->id_bytes + s->n_id_bytes, v, n);
	s->n_id_bytes += (uint32_t)n;
	return 0;
}

/* The index in s->clock_offsets of offset, added when new. Tags set up
 * together share their clock (most count from the Unix epoch: offset 0),
 * so keys share the entry; past the temporary table's reach offsets are
 * appended without looking. */
static int clock_intern(struct loader *l, int64_t offset, uint32_t *k)
{
	struct snapshot *s = l->s;
	uint64_t v = (uint64_t)offset * 0x9E3779B97F4A7C15ull;
	uint32_t i;
	bool full = s->n_clock_offsets >= (l->clock_mask + 1) / 2;

	for (i = (uint32_t)(v >> 32) & l->clock_mask; l->clock_slots[i];
	     i = (i + 1) & l->clock_mask)
		if (s->clock_offsets[l->clock_slots[i] - 1] == offset) {
			*k = l->clock_slots[i] - 1;
			return 0;
		}
	if (s->n_clock_offsets == l->clock_cap)
		return -1;
	*k = s->n_clock_offsets++;
	s->clock_offsets[*k] = offset;
	if (!full)
		l->clock_slots[i] = *k + 1;
	return 0;
}

/* The data path's type of each stored identifiers.type; 0 (a gap, or past
 * the end) is a type this program does not know. */
static const uint8_t snap_type_of[] = {
	[STORE_ID_IBEACON] = SNAP_ID_IBEACON,
	[STORE_ID_EDDYSTONE_UID] = SNAP_ID_EDDYSTONE_UID,
	[STORE_ID_EDDYSTONE_EID] = SNAP_ID_EDDYSTONE_EID,
	[STORE_ID_IRK] = SNAP_ID_IRK,
	[STORE_ID_ALTBEACON] = SNAP_ID_ALTBEACON,
};

/* The stored form is the bytes the data path matches (schema v9): they are
 * copied as they are; a row of a type or length this program does not
 * know is skipped. Rows come in the table's order (by type and value since
 * v11): an identifier's index is this snapshot's own, and the pipeline
 * pairs its devices again with every new snapshot. */
static int load_identifiers(struct loader *l)
{
	sqlite3_stmt *st = prep(l, "SELECT customer_id, type, value, exponent, clock_offset "
				   "FROM identifiers");
	uint32_t i = 0;

	if (!st)
		return -1;
	while (i < l->s->n_identifiers && sqlite3_step(st) == SQLITE_ROW) {
		int64_t ci = customer_index(l->s, sqlite3_column_int64(st, 0));
		int t = sqlite3_column_int(st, 1);
		const void *v = sqlite3_column_blob(st, 2);
		size_t n = (size_t)sqlite3_column_bytes(st, 2);
		struct snap_identifier *id = &l->s->identifiers[i];
		uint8_t v8[SNAP_ID_BYTES_MAX];

		if (ci < 0 || !v)
			continue;
		memset(id, 0, sizeof(*id)); /* the slot of a skipped row is reused */
		id->customer = (uint32_t)ci;
		if (t < 0 || (size_t)t >= BGW_ARRAY_SIZE(snap_type_of) || !snap_type_of[t])
			continue;
		id->type = snap_type_of[t];
		if (n != snap_id_len(id->type))
			continue;
		memcpy(v8, v, n);
		if (id->type == SNAP_ID_EDDYSTONE_EID) {
			uint32_t k;

			if (clock_intern(l, sqlite3_column_int64(st, 4), &k))
				continue; /* cannot: counted in the same transaction */
			id->exponent = (uint8_t)sqlite3_column_int(st, 3);
			memcpy(v8 + 16, &k, sizeof(k));
			if (id_store(l, id, v8, 20))
				continue;
		} else if (id_store(l, id, v8, n)) {
			continue;
		}
		i++;
	}
	sqlite3_finalize(st);
	l->s->n_identifiers = i;
	return 0;
}

static int load_campaigns(struct loader *l)
{
	sqlite3_stmt *st = prep(l, "SELECT c.id, c.name, z.name, c.event, c.segment_id, "
				   "c.min_dwell_s, c.cooldown_s, c.daily_cap, c.channels, "
				   "c.valid_from, c.valid_until, c.hours_from, c.hours_until "
				   "FROM campaigns c JOIN zones z ON z.id = c.zone_id "
				   "WHERE c.enabled ORDER BY c.id");
	uint32_t i = 0;
	int rc = 0;

	if (!st)
		return -1;
	while (rc == 0 && i < l->s->n_campaigns && sqlite3_step(st) == SQLITE_ROW) {
		struct snap_campaign *c = &l->s->campaigns[i];
		const char *ev = (const char *)sqlite3_column_text(st, 3);

		c->id = sqlite3_column_int64(st, 0);
		copy_text(c->name, sizeof(c->name), st, 1);
		copy_text(c->zone, sizeof(c->zone), st, 2);
		c->event = (enum snap_event)store_event_parse(ev ? ev : "enter");
		c->segment = sqlite3_column_type(st, 4) == SQLITE_NULL
				     ? -1
				     : (int32_t)segment_index(l, sqlite3_column_int64(st, 4));
		c->min_dwell_s = (uint32_t)sqlite3_column_int64(st, 5);
		c->cooldown_s = (uint32_t)sqlite3_column_int64(st, 6);
		c->daily_cap = (uint32_t)sqlite3_column_int64(st, 7);
		rc = channel_mask(l, (const char *)sqlite3_column_text(st, 8), &c->channels);
		c->valid_from = sqlite3_column_int64(st, 9);
		c->valid_until = sqlite3_column_int64(st, 10);
		if (sqlite3_column_type(st, 11) == SQLITE_NULL) {
			c->hours_from_min = c->hours_until_min = -1;
		} else {
			c->hours_from_min = sqlite3_column_int(st, 11);
			c->hours_until_min = sqlite3_column_int(st, 12);
		}
		i++;
	}
	sqlite3_finalize(st);
	l->s->n_campaigns = i;
	return rc;
}

/* The history is read only for cooldowns and daily caps (campaign.c): a
 * campaign with neither needs none, and one that fired for every shopper
 * in the store today would add as many entries to every load. The count
 * and the load name the same rows. */
#define CAPPED_CAMPAIGNS \
	"(SELECT id FROM campaigns WHERE enabled AND (cooldown_s > 0 OR daily_cap > 0))"

static int load_history(struct loader *l, int64_t since, int64_t day_start)
{
	sqlite3_stmt *st = prep(l, "SELECT customer_id, campaign_id, max(at), "
				   "sum(at >= ?2) FROM trigger_log WHERE at >= ?1 AND "
				   "campaign_id IN " CAPPED_CAMPAIGNS " "
				   "GROUP BY customer_id, campaign_id");
	uint32_t i = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, day_start);
	while (i < l->s->n_history && sqlite3_step(st) == SQLITE_ROW) {
		int64_t ci = customer_index(l->s, sqlite3_column_int64(st, 0));
		int64_t ki = campaign_index(l->s, sqlite3_column_int64(st, 1));
		struct snap_trigger_history *h = &l->s->history[i];

		if (ci < 0 || ki < 0)
			continue;   /* disabled campaign */
		h->customer = (uint32_t)ci;
		h->campaign = (uint32_t)ki;
		h->last_at = sqlite3_column_int64(st, 2);
		h->count_today = (uint32_t)sqlite3_column_int64(st, 3);
		i++;
	}
	sqlite3_finalize(st);
	l->s->n_history = i;
	return 0;
}

static size_t take(size_t *off, size_t count, size_t size)
{
	size_t at = (*off + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

	*off = at + count * size;
	return at;
}

/* Big snapshots get their own mapping. From the malloc heap, the old and the
 * new block of each reload would leave holes that glibc keeps (its mmap
 * threshold rises to the size of the last block freed), so RSS would creep
 * towards three snapshots; unmapped, a reload returns the old one at once.
 * Small ones (tests, small stores) stay on the heap, where leak checkers see
 * them. The header before the snapshot says which. */
#define MAP_MIN ((size_t)1 << 20)

struct block_head {
	size_t size;
	bool mapped;
};

static char *block_alloc(size_t size)
{
	struct block_head *h;

	if (size >= MAP_MIN) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		h = p == MAP_FAILED ? NULL : p; /* anonymous pages come zeroed */
	} else {
		h = calloc(1, size);
	}
	if (h) {
		h->size = size;
		h->mapped = size >= MAP_MIN;
	}
	return (char *)h;
}

static void block_free(char *base)
{
	const struct block_head *h = (const struct block_head *)base;

	if (h && h->mapped)
		munmap(base, h->size);
	else
		free(base);
}

static int64_t local_day_start(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return now - now % 86400;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static int load_all(struct loader *l, struct snapshot **out)
{
	int64_t now = store_now(), day_start = local_day_start(now), since, max_cd;
	int64_t nc, ni, ns, ncs, nk, nh, np, nb, ne;
	size_t off = 0, o_snap, o_cust, o_ids, o_camp, o_seg, o_chan, o_cs, o_hist, o_pol, o_str,
	       o_clk, o_sets, o_uuid, o_bytes, o_blocks, o_run_start, o_run_delta, o_prof;
	uint32_t slots = 16, set_slots = 16, list_slots = 16, clock_slots = 16;
	char *base;

	max_cd = count(l, "SELECT coalesce(max(cooldown_s), 0) FROM campaigns WHERE enabled", -1);
	since = now - max_cd < day_start ? now - max_cd : day_start;
	nc = count(l, "SELECT count(*) FROM customers", -1);
	ni = count(l, "SELECT count(*) FROM identifiers", -1);
	ns = count(l, "SELECT count(*) FROM segments", -1);
	ncs = count(l, "SELECT count(*) FROM customer_segments", -1);
	nk = count(l, "SELECT count(*) FROM campaigns WHERE enabled", -1);
	nh = count(l, "SELECT count(*) FROM (SELECT 1 FROM trigger_log WHERE at >= ? AND "
		      "campaign_id IN " CAPPED_CAMPAIGNS " GROUP BY customer_id, campaign_id)",
		   since);
	np = count(l, "SELECT count(DISTINCT policy_version) FROM consents "
		      "WHERE policy_version <> ''", -1);
	/* Bytes, not characters: length() of a BLOB counts bytes. */
	nb = count(l, "SELECT coalesce(sum(length(CAST(customer_ref AS BLOB))), 0) + count(*) "
		      "FROM customers", -1);
	ne = count(l, "SELECT count(*) FROM identifiers WHERE type = 3 /* eddystone-eid */", -1);
	if (max_cd < 0 || nc < 0 || ni < 0 || ns < 0 || ncs < 0 || nk < 0 || nh < 0 || np < 0 ||
	    nb < 0 || ne < 0)
		return -1;
	if (nc > UINT32_MAX / 2 || ni > UINT32_MAX / SNAP_ID_BYTES_MAX || ncs > UINT32_MAX / 2 ||
	    nb > UINT32_MAX / 2 || ne > UINT32_MAX / 2)
		return load_refused(l, STORE_EINVAL, "too many rows");
	if (np > STORE_POLICIES_MAX)
		return load_refused(l, STORE_EINVAL, "more than 65535 distinct consent policy versions");

	take(&off, 1, sizeof(struct block_head));
	o_snap = take(&off, 1, sizeof(struct snapshot));
	o_cust = take(&off, (size_t)nc, sizeof(struct snap_customer));
	o_ids = take(&off, (size_t)ni, sizeof(struct snap_identifier));
	o_camp = take(&off, (size_t)nk, sizeof(struct snap_campaign));
	o_seg = take(&off, (size_t)ns, SNAP_REF_MAX);
	o_chan = take(&off, SNAP_MAX_CHANNELS, SNAP_REF_MAX);
	/* Worst case (no two customers share their segments): the rows, a
	 * length per customer and the empty list. */
	o_cs = take(&off, (size_t)ncs + (size_t)nc + 1, sizeof(uint32_t));
	o_hist = take(&off, (size_t)nh, sizeof(struct snap_trigger_history));
	o_pol = take(&off, (size_t)np, SNAP_POLICY_MAX);
	o_str = take(&off, (size_t)nb, 1);
	o_clk = take(&off, (size_t)ne, sizeof(int64_t));
	/* Room for a pair per customer, last: the pages of what distinct pairs
	 * do not use are never touched (the big block is its own mapping). */
	o_uuid = take(&off, (size_t)(ni < 2048 ? ni : 2048), 16);
	/* Worst case, untouched where iBeacons share their UUID: */
	o_bytes = take(&off, (size_t)ni, SNAP_ID_BYTES_MAX);
	o_sets = take(&off, (size_t)nc + 1, sizeof(l->s->consent_sets[0]));
	/* A run of ids per customer at worst; a store with few gaps touches
	 * the first page of each. */
	o_blocks = take(&off, snap_id_blocks((size_t)nc), sizeof(uint32_t));
	o_run_start = take(&off, (size_t)nc, sizeof(uint32_t));
	o_run_delta = take(&off, (size_t)nc, sizeof(int64_t));
	/* A profile per customer at worst; shared, most of it is never touched. */
	o_prof = take(&off, (size_t)nc + 1, sizeof(struct snap_profile));

	while (slots < 2 * (uint64_t)np)
		slots <<= 1;
	/* Sharing needs a set of the pairs seen; its size is bounded (256 KiB) so
	 * that a store of distinct pairs does not pay twice. */
	while (set_slots < 2 * (uint64_t)(nc + 1) && set_slots < (1u << 16))
		set_slots <<= 1;
	while (list_slots < 2 * (uint64_t)(nc + 1) && list_slots < (1u << 16))
		list_slots <<= 1;
	while (clock_slots < 2 * (uint64_t)ne && clock_slots < (1u << 16))
		clock_slots <<= 1;
	base = block_alloc(off);
	l->segment_ids = calloc((size_t)ns + 1, sizeof(int64_t));
	l->policy_slots = calloc(slots, sizeof(uint32_t));
	l->policy_mask = slots - 1;
	l->policy_cap = (uint32_t)np;
	l->set_slots = calloc(set_slots, sizeof(uint32_t));
	l->set_mask = set_slots - 1;
	l->set_cap = (uint32_t)nc + 1;
	l->profile_slots = calloc(set_slots, sizeof(uint32_t));
	l->profile_mask = set_slots - 1;
	l->profile_cap = (uint32_t)nc + 1;
	l->list = calloc((size_t)ns + 1, sizeof(uint32_t));
	l->list_slots = calloc(list_slots, sizeof(uint32_t));
	l->list_mask = list_slots - 1;
	l->lists_cap = (uint32_t)((size_t)ncs + (size_t)nc + 1);
	l->clock_slots = calloc(clock_slots, sizeof(uint32_t));
	l->clock_mask = clock_slots - 1;
	if (!base || !l->segment_ids || !l->policy_slots || !l->set_slots || !l->profile_slots ||
	    !l->list || !l->list_slots || !l->clock_slots) {
		block_free(base);
		return load_refused(l, STORE_ENOMEM, "out of memory");
	}
	l->s = (struct snapshot *)(base + o_snap);
	l->s->customers = (struct snap_customer *)(base + o_cust);
	l->s->identifiers = (struct snap_identifier *)(base + o_ids);
	l->s->campaigns = (struct snap_campaign *)(base + o_camp);
	l->s->segments = (char (*)[SNAP_REF_MAX])(base + o_seg);
	l->s->channels = (char (*)[SNAP_REF_MAX])(base + o_chan);
	l->s->customer_segments = (uint32_t *)(base + o_cs);
	l->s->history = (struct snap_trigger_history *)(base + o_hist);
	l->s->policies = (char (*)[SNAP_POLICY_MAX])(base + o_pol);
	l->s->strings = base + o_str;
	l->s->n_strings_bytes = (uint32_t)nb;
	l->s->clock_offsets = (int64_t *)(base + o_clk);
	l->s->consent_sets = (struct snap_consent (*)[SNAP_PURPOSES])(base + o_sets);
	l->s->uuids = (uint8_t (*)[16])(base + o_uuid);
	l->uuid_cap = (uint32_t)(ni < 2048 ? ni : 2048);
	l->s->id_bytes = (uint8_t *)(base + o_bytes);
	l->s->id_run_of_block = (uint32_t *)(base + o_blocks);
	l->s->id_run_start = (uint32_t *)(base + o_run_start);
	l->s->id_run_delta = (int64_t *)(base + o_run_delta);
	l->s->profiles = (struct snap_profile *)(base + o_prof);
	l->s->n_profiles = 1; /* profile 0: nothing granted, no segment (the block is zeroed) */
	l->bytes_cap = (uint32_t)((size_t)ni * SNAP_ID_BYTES_MAX);
	l->s->n_consent_sets = 1; /* set 0: nothing granted (the block is zeroed) */
	l->clock_cap = (uint32_t)ne;
	l->s->n_customers = (uint32_t)nc;
	l->s->n_identifiers = (uint32_t)ni;
	l->s->n_segments = (uint32_t)ns;
	l->s->n_campaigns = (uint32_t)nk;
	l->s->n_history = (uint32_t)nh;
	l->s->data_version = store_data_version(l->db);

	if (load_customers(l) || load_consents(l) || load_segments(l) || load_identifiers(l) ||
	    load_campaigns(l) || load_history(l, since, day_start)) {
		block_free(base);
		return -1;
	}
	*out = l->s;
	return 0;
}

/* The load reads every row once, in rowid order: a big page cache buys
 * nothing, yet at 100 k customers it would fill the connection's default
 * (2 MiB) with pages kept after the load. */
#define LOAD_CACHE_KIB 256

static int64_t cache_size(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA cache_size", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void set_cache_size(sqlite3 *db, int64_t v)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = %lld", (long long)v);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* A schema this program does not know (migrated by a newer beaconctl while
 * the daemon runs) cannot be trusted to mean what the queries assume. */
static int check_schema(struct loader *l)
{
	char msg[96];
	int64_t v = count(l, "PRAGMA user_version", -1);

	if (v < 0)
		return -1;
	if (v >= STORE_SCHEMA_READABLE && v <= STORE_SCHEMA_VERSION)
		return 0;
	snprintf(msg, sizeof(msg), "schema version %lld is not one this program knows (%d..%d)",
		 (long long)v, STORE_SCHEMA_READABLE, STORE_SCHEMA_VERSION);
	return load_refused(l, STORE_ESCHEMA, msg);
}

int store_snapshot_load(sqlite3 *db, struct snapshot **out, char *err, size_t n)
{
	struct loader l = { .db = db, .err = err, .errlen = n };
	int64_t cache = cache_size(db);
	int rc;

	*out = NULL;
	if (cache)
		set_cache_size(db, -LOAD_CACHE_KIB);
	/* SAVEPOINT opens a read transaction when none is active, so every query
	 * below sees the same state. */
	if (sqlite3_exec(db, "SAVEPOINT snapshot", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sql_failed(&l, "begin");
	} else {
		rc = check_schema(&l);
		if (rc == 0)
			rc = load_all(&l, out);
		sqlite3_exec(db, "RELEASE snapshot", NULL, NULL, NULL);
	}
	if (cache)
		set_cache_size(db, cache);
	sqlite3_db_release_memory(db);
	free(l.segment_ids);
	free(l.policy_slots);
	free(l.set_slots);
	free(l.profile_slots);
	free(l.list);
	free(l.list_slots);
	free(l.clock_slots);
	if (rc < 0 && !l.rc && err && n)
		snprintf(err, n, "snapshot: cannot read the store");
	return rc < 0 ? (l.rc ? l.rc : STORE_EIO) : 0;
}

struct snapshot *snapshot_empty(void)
{
	size_t off = 0, o_snap, o_rest;
	struct snapshot *s;
	char *base, *rest;

	take(&off, 1, sizeof(struct block_head));
	o_snap = take(&off, 1, sizeof(struct snapshot));
	o_rest = take(&off, SNAP_MAX_CHANNELS, SNAP_REF_MAX);
	base = block_alloc(off);
	if (!base)
		return NULL;
	s = (struct snapshot *)(base + o_snap);
	rest = base + o_rest;   /* zeroed; every count is 0, no array is read */
	s->customers = (struct snap_customer *)rest;
	s->id_run_of_block = (uint32_t *)rest;   /* n_customers 0: never read */
	s->id_run_start = (uint32_t *)rest;
	s->id_run_delta = (int64_t *)rest;
	s->profiles = (struct snap_profile *)rest;
	s->consent_sets = (struct snap_consent (*)[SNAP_PURPOSES])rest;
	s->n_consent_sets = 1;
	s->uuids = (uint8_t (*)[16])rest;
	s->id_bytes = (uint8_t *)rest;
	s->identifiers = (struct snap_identifier *)rest;
	s->campaigns = (struct snap_campaign *)rest;
	s->segments = (char (*)[SNAP_REF_MAX])rest;
	s->channels = (char (*)[SNAP_REF_MAX])rest;
	s->policies = (char (*)[SNAP_POLICY_MAX])rest;
	s->customer_segments = (uint32_t *)rest;
	s->history = (struct snap_trigger_history *)rest;
	s->strings = rest;
	s->clock_offsets = (int64_t *)rest;
	return s;
}

void snapshot_free(struct snapshot *s)
{
	size_t off = 0, o_snap;

	if (!s)
		return;
	/* Same layout as load_all(): the header, then the snapshot. */
	take(&off, 1, sizeof(struct block_head));
	o_snap = take(&off, 1, sizeof(struct snapshot));
	block_free((char *)s - o_snap);
}
