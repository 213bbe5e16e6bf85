/*
 * id_index.c - static identifier and rolling Eddystone-EID hash tables.
 *
 * Both tables hold 4-byte slots rather than copies of the keys: the static
 * table points into the snapshot's identifiers, the EID table into the
 * per-key windows below. At 100 k enrolled identifiers that is about 600 KB
 * instead of tens of MB, and the snapshot and the index are swapped
 * together anyway.
 *
 * A slot keeps the spare high bits above its index for a fingerprint of the
 * hash, so probes (a miss -- most reports come from devices nobody enrolled
 * -- walks a run of them) are compared in the table itself, without reading
 * an identifier or an EID: the tables can run up to 2/3 full at any size.
 */
#include "id_index.h"
#include "bgw_util.h"

#include <stdlib.h>
#include <string.h>

#define NO_PERIOD INT64_MIN
#define FREE_SLOT 0u

/* One enrolled EID key; its window of EIDs lives in id_index.eids at
 * [key * window, key * window + window): period q in slot q mod window, for
 * the periods cur - tolerance .. cur + tolerance. The key itself and its
 * clock offset stay in the snapshot (ident): at 100 k keys, copies would
 * cost megabytes. When its period ends follows from cur (key_next_roll()):
 * 16 bytes a key. */
struct eid_key {
	int64_t cur;           /* period the window is centred on, NO_PERIOD before the first roll */
	uint32_t ident;
	uint8_t k;
};

struct id_index {
	const struct snapshot *snap; /* the static table's keys live in its identifiers */
	uint32_t *st;          /* fingerprint << st_bits | snapshot identifier index + 1; 0 free */
	uint32_t st_size;
	uint32_t st_ident;     /* mask of the index bits of a slot */
	uint8_t st_bits;       /* index bits: enough for n_identifiers + 1 */
	uint32_t *et;          /* fingerprint << et_bits | window slot (key * window + w) + 1 */
	uint32_t et_size;
	uint32_t et_ident;     /* mask of the window slot bits */
	uint8_t et_bits;
	struct eid_key *keys;
	uint32_t n_keys;
	uint32_t window;       /* 2 * tolerance + 1 */
	uint8_t tolerance;
	int64_t next_due;      /* min over keys of next_roll */
	int64_t last_now;      /* a clock stepping back (replay, NTP) re-checks every key */
	eid_aes128_fn aes;
	uint8_t (*eids)[8];    /* per window slot: its EID */
};

/* Four bytes a step (an iBeacon's 20 bytes in five multiplies, where FNV-1a
 * took twenty): the keys are already high-entropy identifiers, a keyed hash
 * buys nothing here. Both halves of the result are mixed: a home is taken
 * from its high bits, a fingerprint from the low ones. */
static uint32_t hash_bytes(uint8_t type, const uint8_t *p, size_t n)
{
	const uint64_t m = 0xff51afd7ed558ccdull;
	uint64_t h = (0x9e3779b97f4a7c15ull ^ type) * m;
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		h = (h ^ bgw_get_le32(p + i)) * m;
	for (; i < n; i++)
		h = (h ^ p[i]) * m;
	/* A multiply carries differences upwards only: mix them back down. */
	h ^= h >> 33;
	h *= m;
	h ^= h >> 33;
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* Open addressing at a load of at most 2/3: misses (most reports come from
 * devices nobody enrolled) stay short, and the fingerprints make their
 * probes cheap. Any size, not a power of two (a hash's home is its multiple
 * of the size, high bits): a power of two would make a table up to twice
 * that, 4 MiB more for the EIDs of 250 k keys. */
static uint32_t table_size(uint64_t n)
{
	uint64_t c = n + n / 2 + 1;

	return c < 16 ? 16 : c > (1u << 30) ? (1u << 30) : (uint32_t)c;
}

static uint32_t home_slot(uint32_t h, uint32_t size)
{
	return (uint32_t)(((uint64_t)h * size) >> 32);
}

static uint32_t next_slot(uint32_t i, uint32_t size)
{
	return i + 1 == size ? 0 : i + 1;
}

/* The hash's low bits (its home comes from the high ones) that fit above
 * the index bits. */
static uint32_t static_fingerprint(const struct id_index *x, uint32_t h)
{
	return x->st_bits >= 32 ? 0 : h << x->st_bits;
}

static void static_insert(struct id_index *x, uint32_t ident)
{
	const struct snap_identifier *id = &x->snap->identifiers[ident];
	uint8_t buf[SNAP_ID_BYTES_MAX];
	const uint8_t *v = snap_identifier_bytes(x->snap, id, buf);
	uint32_t h = hash_bytes(id->type, v, snap_id_len(id->type));
	uint32_t fp = static_fingerprint(x, h), i = home_slot(h, x->st_size);

	while (x->st[i] != FREE_SLOT) {
		const struct snap_identifier *o =
			&x->snap->identifiers[(x->st[i] & x->st_ident) - 1];

		if ((x->st[i] & ~x->st_ident) == fp && snap_identifier_is(x->snap, o, id->type, v))
			return; /* duplicate identifier: the first enrolment wins */
		i = next_slot(i, x->st_size);
	}
	x->st[i] = fp | (ident + 1);
}

static int64_t static_find(const struct id_index *x, uint8_t type, const uint8_t *v)
{
	uint32_t h = hash_bytes(type, v, snap_id_len(type));
	uint32_t fp = static_fingerprint(x, h), i = home_slot(h, x->st_size);

	for (; x->st[i] != FREE_SLOT; i = next_slot(i, x->st_size)) {
		uint32_t ident = (x->st[i] & x->st_ident) - 1;

		if ((x->st[i] & ~x->st_ident) == fp &&
		    snap_identifier_is(x->snap, &x->snap->identifiers[ident], type, v))
			return ident;
	}
	return -1;
}

/* EIDs are AES output: their bits need mixing only so that the home (high
 * bits) and the fingerprint (low bits) come from all of them. */
static inline uint32_t eid_hash(const uint8_t eid[8])
{
	uint64_t v = bgw_get_le32(eid) | (uint64_t)bgw_get_le32(eid + 4) << 32;

	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 33;
	return (uint32_t)(v >> 32) ^ (uint32_t)v;
}

static uint32_t eid_fingerprint(const struct id_index *x, uint32_t h)
{
	return x->et_bits >= 32 ? 0 : h << x->et_bits;
}

static void eid_insert(struct id_index *x, uint32_t slot)
{
	uint32_t h = eid_hash(x->eids[slot]), i = home_slot(h, x->et_size);

	while (x->et[i] != FREE_SLOT)
		i = next_slot(i, x->et_size);
	x->et[i] = eid_fingerprint(x, h) | (slot + 1);
}

/* Remove a window slot's entry with backward-shift deletion, so lookups need no tombstones. */
static void eid_remove(struct id_index *x, uint32_t slot)
{
	uint32_t i = home_slot(eid_hash(x->eids[slot]), x->et_size);

	while (x->et[i] != FREE_SLOT && (x->et[i] & x->et_ident) != slot + 1)
		i = next_slot(i, x->et_size);
	if (x->et[i] == FREE_SLOT)
		return;
	for (uint32_t j = next_slot(i, x->et_size);; j = next_slot(j, x->et_size)) {
		if (x->et[j] == FREE_SLOT)
			break;
		uint32_t home = home_slot(eid_hash(x->eids[(x->et[j] & x->et_ident) - 1]),
					  x->et_size);
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (!stays) {
			x->et[i] = x->et[j];
			i = j;
		}
	}
	x->et[i] = FREE_SLOT;
}

/* The period a window held in slot w while centred on cur. */
static int64_t slot_period(const struct id_index *x, int64_t cur, uint32_t w)
{
	int64_t lo = cur - x->tolerance;
	int64_t r = ((int64_t)w - lo) % x->window;

	return lo + (r < 0 ? r + x->window : r);
}

int64_t id_index_eid(const struct id_index *x, const uint8_t eid[8], uint32_t *time_base)
{
	uint32_t h, fp, i;

	if (!x->n_keys)
		return -1;
	h = eid_hash(eid);
	fp = eid_fingerprint(x, h);
	for (i = home_slot(h, x->et_size); x->et[i] != FREE_SLOT; i = next_slot(i, x->et_size)) {
		uint32_t slot = (x->et[i] & x->et_ident) - 1;

		if ((x->et[i] & ~x->et_ident) == fp && !memcmp(x->eids[slot], eid, 8)) {
			const struct eid_key *key = &x->keys[slot / x->window];
			int64_t q = slot_period(x, key->cur, slot % x->window);

			if (time_base) /* the tag's 32-bit counter wraps */
				*time_base = (uint32_t)((uint64_t)q << key->k);
			return key->ident;
		}
	}
	return -1;
}

/* Unix seconds when the key's current period ends. */
static int64_t key_next_roll(const struct id_index *x, const struct eid_key *key)
{
	if (key->cur == NO_PERIOD)
		return INT64_MIN;
	return snap_clock_offset(x->snap, &x->snap->identifiers[key->ident]) +
	       ((key->cur + 1) << key->k);
}

/* Bring one key's window to the periods around now_s: compute only the periods missing. */
static uint32_t key_roll(struct id_index *x, uint32_t ki, int64_t now_s)
{
	struct eid_key *key = &x->keys[ki];
	const struct snap_identifier *id = &x->snap->identifiers[key->ident];
	int64_t clock_offset = snap_clock_offset(x->snap, id);
	int64_t t = now_s - clock_offset;      /* tag's seconds counter */
	int64_t cur = t >> key->k;             /* arithmetic shift: floor for negative t too */
	uint32_t computed = 0;
	uint8_t buf[SNAP_ID_BYTES_MAX];
	const uint8_t *eid_key = snap_identifier_bytes(x->snap, id, buf);

	for (int64_t q = cur - x->tolerance; q <= cur + x->tolerance; q++) {
		uint32_t w = (uint32_t)(((q % x->window) + x->window) % x->window);
		uint32_t slot = ki * x->window + w;
		uint32_t tb = (uint32_t)((uint64_t)q << key->k);

		if (key->cur != NO_PERIOD) {
			if (slot_period(x, key->cur, w) == q)
				continue;
			eid_remove(x, slot);
		}
		eid_compute(x->aes, eid_key, key->k, tb, x->eids[slot]);
		eid_insert(x, slot);
		computed++;
	}
	key->cur = cur;
	return computed;
}

uint32_t id_index_roll(struct id_index *x, int64_t now_s)
{
	uint32_t computed = 0;
	int64_t due = INT64_MAX;

	if (!x->n_keys || (now_s < x->next_due && now_s >= x->last_now))
		return 0;
	x->last_now = now_s;
	/* A comparison per key; AES only for the keys whose period ended. */
	for (uint32_t i = 0; i < x->n_keys; i++) {
		int64_t next_roll = key_next_roll(x, &x->keys[i]);

		if (now_s >= next_roll || now_s < next_roll - (1LL << x->keys[i].k)) {
			computed += key_roll(x, i, now_s);
			next_roll = key_next_roll(x, &x->keys[i]);
		}
		if (next_roll < due)
			due = next_roll;
	}
	x->next_due = due;
	return computed;
}

struct id_index *id_index_new(const struct snapshot *s, uint8_t eid_tolerance, int64_t now_s,
			      eid_aes128_fn aes)
{
	struct id_index *x = calloc(1, sizeof(*x));
	uint32_t n_static = 0, n_eid = 0;
	size_t n_win;

	if (!x)
		return NULL;
	x->snap = s;
	x->aes = aes;
	x->tolerance = eid_tolerance;
	x->window = 2u * eid_tolerance + 1u;
	for (uint32_t i = 0; s && i < s->n_identifiers; i++) {
		if (s->identifiers[i].customer >= s->n_customers)
			continue;
		if (s->identifiers[i].type == SNAP_ID_IBEACON ||
		    s->identifiers[i].type == SNAP_ID_EDDYSTONE_UID ||
		    s->identifiers[i].type == SNAP_ID_ALTBEACON)
			n_static++;
		else if (s->identifiers[i].type == SNAP_ID_EDDYSTONE_EID &&
			 s->identifiers[i].exponent <= EID_MAX_EXPONENT)
			n_eid++;
	}
	n_win = (size_t)(n_eid ? n_eid : 1) * x->window;
	x->st_size = table_size(n_static);
	while (x->st_bits < 32 && (1ull << x->st_bits) <= (s ? s->n_identifiers : 0))
		x->st_bits++;
	x->st_ident = x->st_bits >= 32 ? UINT32_MAX : (1u << x->st_bits) - 1;
	x->et_size = table_size((uint64_t)n_eid * x->window);
	while (x->et_bits < 32 && (1ull << x->et_bits) <= n_win)
		x->et_bits++;
	x->et_ident = x->et_bits >= 32 ? UINT32_MAX : (1u << x->et_bits) - 1;
	x->st = calloc(x->st_size, sizeof(*x->st));
	x->et = calloc(x->et_size, sizeof(*x->et));
	x->keys = calloc(n_eid ? n_eid : 1, sizeof(*x->keys));
	x->eids = calloc(n_win, sizeof(*x->eids));
	if (!x->st || !x->et || !x->keys || !x->eids) {
		id_index_free(x);
		return NULL;
	}
	for (uint32_t i = 0; s && i < s->n_identifiers; i++) {
		const struct snap_identifier *id = &s->identifiers[i];

		if (id->customer >= s->n_customers)
			continue;
		if (id->type == SNAP_ID_IBEACON || id->type == SNAP_ID_EDDYSTONE_UID ||
		    id->type == SNAP_ID_ALTBEACON) {
			static_insert(x, i);
		} else if (id->type == SNAP_ID_EDDYSTONE_EID && id->exponent <= EID_MAX_EXPONENT) {
			struct eid_key *k = &x->keys[x->n_keys++];

			k->ident = i;
			k->k = id->exponent;
			k->cur = NO_PERIOD;
		}
	}
	x->next_due = INT64_MIN;
	x->last_now = INT64_MIN;
	id_index_roll(x, now_s);
	return x;
}

void id_index_free(struct id_index *x)
{
	if (!x)
		return;
	free(x->st);
	free(x->et);
	free(x->keys);
	free(x->eids);
	free(x);
}

int64_t id_index_ibeacon(const struct id_index *x, const uint8_t uuid[16], uint16_t major,
			 uint16_t minor)
{
	uint8_t v[20];

	memcpy(v, uuid, 16);
	v[16] = (uint8_t)(major >> 8);
	v[17] = (uint8_t)major;
	v[18] = (uint8_t)(minor >> 8);
	v[19] = (uint8_t)minor;
	return static_find(x, SNAP_ID_IBEACON, v);
}

int64_t id_index_uid(const struct id_index *x, const uint8_t ns[10], const uint8_t instance[6])
{
	uint8_t v[16];

	memcpy(v, ns, 10);
	memcpy(v + 10, instance, 6);
	return static_find(x, SNAP_ID_EDDYSTONE_UID, v);
}

int64_t id_index_altbeacon(const struct id_index *x, uint16_t company_id,
			   const uint8_t beacon_id[20])
{
	uint8_t v[22];

	v[0] = (uint8_t)(company_id >> 8);
	v[1] = (uint8_t)company_id;
	memcpy(v + 2, beacon_id, 20);
	return static_find(x, SNAP_ID_ALTBEACON, v);
}

uint32_t id_index_eid_keys(const struct id_index *x)
{
	return x->n_keys;
}
