/* id_index.c - static identifier and rolling Eddystone-EID hash tables. */
#include "id_index.h"

#include <stdlib.h>
#include <string.h>

#define STATIC_KEY_MAX 21 /* type byte + 20 value bytes */
#define NO_PERIOD INT64_MIN

struct static_slot {
	uint8_t used;
	uint8_t key[STATIC_KEY_MAX];
	uint32_t ident;
};

struct eid_slot {
	uint8_t used;
	uint8_t eid[8];
	uint32_t key;          /* index into id_index.keys */
	uint32_t time_base;
};

/* One enrolled EID key and the window of periods it currently has in the table. */
struct eid_key {
	uint32_t ident;
	uint8_t ik[16];
	uint8_t k;
	int64_t clock_offset;
	int64_t next_roll;     /* unix seconds when its current period ends */
	int64_t *win_period;   /* per window slot: period number held there, or NO_PERIOD */
	uint8_t (*win_eid)[8];
};

struct id_index {
	struct static_slot *st;
	uint32_t st_mask;
	struct eid_slot *et;
	uint32_t et_mask;
	struct eid_key *keys;
	uint32_t n_keys;
	uint32_t window;       /* 2 * tolerance + 1 */
	uint8_t tolerance;
	int64_t next_due;      /* min over keys of next_roll */
	int64_t last_now;      /* a clock stepping back (replay, NTP) re-checks every key */
	eid_aes128_fn aes;
	/* per-key window arrays live here, one block */
	int64_t *periods;
	uint8_t (*eids)[8];
};

/* FNV-1a: the keys are already high-entropy identifiers, a keyed hash buys nothing here. */
static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h ^ (h >> 16);
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t c = 16;

	while (c < n && c < (1u << 30))
		c <<= 1;
	return c;
}

static void static_key(uint8_t key[STATIC_KEY_MAX], enum snap_id_type t, const uint8_t *v, size_t n)
{
	memset(key, 0, STATIC_KEY_MAX);
	key[0] = (uint8_t)t;
	memcpy(key + 1, v, n);
}

static void static_insert(struct id_index *x, const uint8_t key[STATIC_KEY_MAX], uint32_t ident)
{
	uint32_t i = hash_bytes(key, STATIC_KEY_MAX) & x->st_mask;

	while (x->st[i].used) {
		if (!memcmp(x->st[i].key, key, STATIC_KEY_MAX))
			return; /* duplicate identifier: the first enrolment wins */
		i = (i + 1) & x->st_mask;
	}
	x->st[i].used = 1;
	memcpy(x->st[i].key, key, STATIC_KEY_MAX);
	x->st[i].ident = ident;
}

static int64_t static_find(const struct id_index *x, const uint8_t key[STATIC_KEY_MAX])
{
	uint32_t i = hash_bytes(key, STATIC_KEY_MAX) & x->st_mask;

	while (x->st[i].used) {
		if (!memcmp(x->st[i].key, key, STATIC_KEY_MAX))
			return x->st[i].ident;
		i = (i + 1) & x->st_mask;
	}
	return -1;
}

static void eid_insert(struct id_index *x, const uint8_t eid[8], uint32_t key, uint32_t time_base)
{
	uint32_t i = hash_bytes(eid, 8) & x->et_mask;

	while (x->et[i].used)
		i = (i + 1) & x->et_mask;
	x->et[i].used = 1;
	memcpy(x->et[i].eid, eid, 8);
	x->et[i].key = key;
	x->et[i].time_base = time_base;
}

/* Remove (eid, key) with backward-shift deletion, so lookups need no tombstones. */
static void eid_remove(struct id_index *x, const uint8_t eid[8], uint32_t key)
{
	uint32_t i = hash_bytes(eid, 8) & x->et_mask;

	while (x->et[i].used && (x->et[i].key != key || memcmp(x->et[i].eid, eid, 8)))
		i = (i + 1) & x->et_mask;
	if (!x->et[i].used)
		return;
	for (uint32_t j = (i + 1) & x->et_mask;; j = (j + 1) & x->et_mask) {
		if (!x->et[j].used)
			break;
		uint32_t home = hash_bytes(x->et[j].eid, 8) & x->et_mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (!stays) {
			x->et[i] = x->et[j];
			i = j;
		}
	}
	x->et[i].used = 0;
}

int64_t id_index_eid(const struct id_index *x, const uint8_t eid[8], uint32_t *time_base)
{
	uint32_t i = hash_bytes(eid, 8) & x->et_mask;

	if (!x->n_keys)
		return -1;
	while (x->et[i].used) {
		if (!memcmp(x->et[i].eid, eid, 8)) {
			if (time_base)
				*time_base = x->et[i].time_base;
			return x->keys[x->et[i].key].ident;
		}
		i = (i + 1) & x->et_mask;
	}
	return -1;
}

/* Bring one key's window to the periods around now_s: compute only the periods missing. */
static uint32_t key_roll(struct id_index *x, uint32_t ki, int64_t now_s)
{
	struct eid_key *key = &x->keys[ki];
	int64_t t = now_s - key->clock_offset; /* tag's seconds counter */
	int64_t cur = t >> key->k;             /* arithmetic shift: floor for negative t too */
	uint32_t computed = 0;

	for (int64_t q = cur - x->tolerance; q <= cur + x->tolerance; q++) {
		uint32_t slot = (uint32_t)(((q % x->window) + x->window) % x->window);
		uint32_t tb =
			(uint32_t)((uint64_t)q << key->k); /* the tag's 32-bit counter wraps */

		if (key->win_period[slot] == q)
			continue;
		if (key->win_period[slot] != NO_PERIOD)
			eid_remove(x, key->win_eid[slot], ki);
		eid_compute(x->aes, key->ik, key->k, tb, key->win_eid[slot]);
		eid_insert(x, key->win_eid[slot], ki, tb);
		key->win_period[slot] = q;
		computed++;
	}
	key->next_roll = key->clock_offset + ((cur + 1) << key->k);
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
		if (now_s >= x->keys[i].next_roll ||
		    now_s < x->keys[i].next_roll - (1LL << x->keys[i].k))
			computed += key_roll(x, i, now_s);
		if (x->keys[i].next_roll < due)
			due = x->keys[i].next_roll;
	}
	x->next_due = due;
	return computed;
}

struct id_index *id_index_new(const struct snapshot *s, uint8_t eid_tolerance, int64_t now_s,
			      eid_aes128_fn aes)
{
	struct id_index *x = calloc(1, sizeof(*x));
	uint32_t n_static = 0, n_eid = 0;

	if (!x)
		return NULL;
	x->aes = aes;
	x->tolerance = eid_tolerance;
	x->window = 2u * eid_tolerance + 1u;
	for (uint32_t i = 0; s && i < s->n_identifiers; i++) {
		if (s->identifiers[i].customer >= s->n_customers)
			continue;
		if (s->identifiers[i].type == SNAP_ID_IBEACON ||
		    s->identifiers[i].type == SNAP_ID_EDDYSTONE_UID)
			n_static++;
		else if (s->identifiers[i].type == SNAP_ID_EDDYSTONE_EID)
			n_eid++;
	}
	x->st_mask = pow2_at_least(2ull * n_static) - 1;
	x->et_mask = pow2_at_least(2ull * n_eid * x->window) - 1;
	x->st = calloc((size_t)x->st_mask + 1, sizeof(*x->st));
	x->et = calloc((size_t)x->et_mask + 1, sizeof(*x->et));
	x->keys = calloc(n_eid ? n_eid : 1, sizeof(*x->keys));
	x->periods = malloc(sizeof(*x->periods) * (n_eid ? n_eid : 1) * x->window);
	x->eids = calloc((size_t)(n_eid ? n_eid : 1) * x->window, sizeof(*x->eids));
	if (!x->st || !x->et || !x->keys || !x->periods || !x->eids) {
		id_index_free(x);
		return NULL;
	}
	for (uint32_t i = 0; s && i < s->n_identifiers; i++) {
		const struct snap_identifier *id = &s->identifiers[i];
		uint8_t key[STATIC_KEY_MAX];

		if (id->customer >= s->n_customers)
			continue;
		if (id->type == SNAP_ID_IBEACON) {
			static_key(key, id->type, id->value, 20);
			static_insert(x, key, i);
		} else if (id->type == SNAP_ID_EDDYSTONE_UID) {
			static_key(key, id->type, id->value, 16);
			static_insert(x, key, i);
		} else if (id->type == SNAP_ID_EDDYSTONE_EID && id->exponent <= EID_MAX_EXPONENT) {
			struct eid_key *k = &x->keys[x->n_keys];

			k->ident = i;
			memcpy(k->ik, id->value, 16);
			k->k = id->exponent;
			k->clock_offset = id->clock_offset;
			k->win_period = &x->periods[(size_t)x->n_keys * x->window];
			k->win_eid = &x->eids[(size_t)x->n_keys * x->window];
			for (uint32_t w = 0; w < x->window; w++)
				k->win_period[w] = NO_PERIOD;
			x->n_keys++;
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
	free(x->periods);
	free(x->eids);
	free(x);
}

int64_t id_index_ibeacon(const struct id_index *x, const uint8_t uuid[16], uint16_t major,
			 uint16_t minor)
{
	uint8_t v[20], key[STATIC_KEY_MAX];

	memcpy(v, uuid, 16);
	v[16] = (uint8_t)(major >> 8);
	v[17] = (uint8_t)major;
	v[18] = (uint8_t)(minor >> 8);
	v[19] = (uint8_t)minor;
	static_key(key, SNAP_ID_IBEACON, v, 20);
	return static_find(x, key);
}

int64_t id_index_uid(const struct id_index *x, const uint8_t ns[10], const uint8_t instance[6])
{
	uint8_t v[16], key[STATIC_KEY_MAX];

	memcpy(v, ns, 10);
	memcpy(v + 10, instance, 6);
	static_key(key, SNAP_ID_EDDYSTONE_UID, v, 16);
	return static_find(x, key);
}

uint32_t id_index_eid_keys(const struct id_index *x)
{
	return x->n_keys;
}
