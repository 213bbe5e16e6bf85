/* snap_builder.c - see snap_builder.h. */
#include "snap_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_MAX_CUST 4096
#define SB_MAX_IDS 8192
#define SB_MAX_CAMP 64
#define SB_MAX_SEG 32
#define SB_MAX_HIST 256
#define SB_SEG_PER_CUST 8

struct snap_builder {
	struct snap_customer cust[SB_MAX_CUST];
	int64_t cust_id[SB_MAX_CUST];
	struct snap_consent consent[SB_MAX_CUST][SNAP_PURPOSES];
	uint32_t cust_seg[SB_MAX_CUST][SB_SEG_PER_CUST];
	uint32_t n_cust_seg[SB_MAX_CUST];
	uint32_t n_cust;
	char ref[SB_MAX_CUST][SNAP_REF_MAX];
	struct snap_identifier ids[SB_MAX_IDS];
	uint8_t id_bytes[SB_MAX_IDS][SNAP_ID_BYTES_MAX]; /* each identifier's value or key */
	int64_t clock_offset[SB_MAX_IDS];  /* EID keys */
	uint32_t n_ids;
	struct snap_campaign camp[SB_MAX_CAMP];
	uint32_t n_camp;
	char seg[SB_MAX_SEG][SNAP_REF_MAX];
	uint32_t n_seg;
	char chan[SNAP_MAX_CHANNELS][SNAP_REF_MAX];
	uint32_t n_chan;
	struct snap_trigger_history hist[SB_MAX_HIST];
	uint32_t n_hist;
	/* Consent policy per customer and purpose; sb_build() shares equal ones
	 * in snapshot.policies, as the store's loader does. */
	char policy[SB_MAX_CUST][SNAP_PURPOSES][SNAP_POLICY_MAX];
};

/* The store links its own snapshot_free; the tests own this one. */
void snapshot_free(struct snapshot *s)
{
	free(s);
}

struct snap_builder *sb_new(void)
{
	return calloc(1, sizeof(struct snap_builder));
}

void sb_free(struct snap_builder *b)
{
	free(b);
}

uint32_t sb_customer(struct snap_builder *b, int64_t id, const char *ref)
{
	struct snap_customer *c = &b->cust[b->n_cust];

	if (b->n_cust >= SB_MAX_CUST || (b->n_cust && b->cust_id[b->n_cust - 1] >= id))
		abort();
	memset(c, 0, sizeof(*c));
	memset(b->consent[b->n_cust], 0, sizeof(b->consent[b->n_cust]));
	memset(b->policy[b->n_cust], 0, sizeof(b->policy[b->n_cust]));
	b->n_cust_seg[b->n_cust] = 0;
	b->cust_id[b->n_cust] = id;
	snprintf(b->ref[b->n_cust], SNAP_REF_MAX, "%s", ref);
	return b->n_cust++;
}

void sb_consent(struct snap_builder *b, uint32_t cust, enum snap_purpose p, int64_t granted_at,
		int64_t expires_at, int64_t withdrawn_at, uint32_t channels, const char *policy)
{
	struct snap_consent *c = &b->consent[cust][p];

	c->granted = true;
	c->from = snap_time32(granted_at);
	c->until = snap_until32(snap_consent_until(expires_at, withdrawn_at));
	c->channels = channels;
	snprintf(b->policy[cust][p], SNAP_POLICY_MAX, "%s", policy);
}

uint32_t sb_channel(struct snap_builder *b, const char *name)
{
	snprintf(b->chan[b->n_chan], SNAP_REF_MAX, "%s", name);
	return b->n_chan++;
}

uint32_t sb_segment(struct snap_builder *b, const char *name)
{
	snprintf(b->seg[b->n_seg], SNAP_REF_MAX, "%s", name);
	return b->n_seg++;
}

void sb_customer_segment(struct snap_builder *b, uint32_t cust, uint32_t seg)
{
	if (b->n_cust_seg[cust] >= SB_SEG_PER_CUST)
		abort();
	b->cust_seg[cust][b->n_cust_seg[cust]++] = seg;
}

/* The new identifier's bytes (its record is filled in by sb_build()). */
static uint8_t *add_id(struct snap_builder *b, uint32_t cust, enum snap_id_type t)
{
	struct snap_identifier *id = &b->ids[b->n_ids++];

	if (b->n_ids > SB_MAX_IDS)
		abort();
	memset(id, 0, sizeof(*id));
	memset(b->id_bytes[b->n_ids - 1], 0, SNAP_ID_BYTES_MAX);
	id->type = t;
	id->customer = cust;
	return b->id_bytes[b->n_ids - 1];
}

void sb_ibeacon(struct snap_builder *b, uint32_t cust, const uint8_t uuid[16], uint16_t major,
		uint16_t minor)
{
	uint8_t *v = add_id(b, cust, SNAP_ID_IBEACON);

	memcpy(v, uuid, 16);
	v[16] = (uint8_t)(major >> 8);
	v[17] = (uint8_t)major;
	v[18] = (uint8_t)(minor >> 8);
	v[19] = (uint8_t)minor;
}

void sb_uid(struct snap_builder *b, uint32_t cust, const uint8_t ns[10], const uint8_t inst[6])
{
	uint8_t *v = add_id(b, cust, SNAP_ID_EDDYSTONE_UID);

	memcpy(v, ns, 10);
	memcpy(v + 10, inst, 6);
}

void sb_eid(struct snap_builder *b, uint32_t cust, const uint8_t key[16], uint8_t k,
	    int64_t clock_offset)
{
	memcpy(add_id(b, cust, SNAP_ID_EDDYSTONE_EID), key, 16);
	b->ids[b->n_ids - 1].exponent = k;
	b->clock_offset[b->n_ids - 1] = clock_offset;
}

void sb_irk(struct snap_builder *b, uint32_t cust, const uint8_t irk[16])
{
	memcpy(add_id(b, cust, SNAP_ID_IRK), irk, 16);
}

struct snap_campaign *sb_campaign(struct snap_builder *b, int64_t id, const char *name,
				  const char *zone, enum snap_event ev)
{
	struct snap_campaign *c = &b->camp[b->n_camp++];

	if (b->n_camp > SB_MAX_CAMP)
		abort();
	memset(c, 0, sizeof(*c));
	c->id = id;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->zone, sizeof(c->zone), "%s", zone);
	c->event = ev;
	c->segment = -1;
	c->hours_from_min = -1;
	c->hours_until_min = -1;
	return c;
}

void sb_history(struct snap_builder *b, uint32_t cust, uint32_t campaign, int64_t last_at,
		uint32_t count_today)
{
	struct snap_trigger_history *h = &b->hist[b->n_hist++];

	h->customer = cust;
	h->campaign = campaign;
	h->last_at = last_at;
	h->count_today = count_today;
}

/* Carve aligned pieces out of one block. */
static void *carve(uint8_t **p, size_t n)
{
	void *r = *p;

	*p += (n + 15) & ~(size_t)15;
	return r;
}

/* Index of name in the first n entries of tab, or n. */
static uint32_t policy_find(char (*tab)[SNAP_POLICY_MAX], uint32_t n, const char *name)
{
	uint32_t i = 0;

	while (i < n && strcmp(tab[i], name) != 0)
		i++;
	return i;
}

struct snapshot *sb_build(const struct snap_builder *b, uint64_t data_version)
{
	static char pol[SB_MAX_CUST * SNAP_PURPOSES][SNAP_POLICY_MAX];
	uint32_t n_cs = 0, n_pol = 0, n_str = 0;
	size_t size;
	uint8_t *block, *p;
	struct snapshot *s;

	for (uint32_t i = 0; i < b->n_cust; i++) {
		n_str += (uint32_t)strlen(b->ref[i]) + 1;
		n_cs += b->n_cust_seg[i];
		for (int k = 0; k < SNAP_PURPOSES; k++)
			if (b->policy[i][k][0] && policy_find(pol, n_pol, b->policy[i][k]) == n_pol)
				memcpy(pol[n_pol++], b->policy[i][k], SNAP_POLICY_MAX);
	}
#define SZ(n) ((((size_t)(n)) + 15) & ~(size_t)15)
	size = SZ(sizeof(*s)) + SZ(sizeof(struct snap_customer) * b->n_cust) +
	       SZ(sizeof(struct snap_identifier) * b->n_ids) +
	       SZ(sizeof(struct snap_campaign) * b->n_camp) + SZ(SNAP_REF_MAX * b->n_seg) +
	       SZ(SNAP_REF_MAX * b->n_chan) + SZ(sizeof(uint32_t) * n_cs) +
	       SZ(sizeof(struct snap_trigger_history) * b->n_hist) + SZ(SNAP_POLICY_MAX * n_pol) +
	       SZ(n_str) + SZ(sizeof(int64_t) * b->n_ids) +
	       SZ(sizeof(struct snap_consent) * SNAP_PURPOSES * (b->n_cust + 1)) +
	       SZ((size_t)SNAP_ID_BYTES_MAX * b->n_ids) +
	       SZ(sizeof(uint32_t) * snap_id_blocks(b->n_cust)) +
	       SZ(sizeof(uint32_t) * b->n_cust) + SZ(sizeof(int64_t) * b->n_cust) +
	       SZ(sizeof(struct snap_profile) * (b->n_cust + 1));
#undef SZ
	block = calloc(1, size);
	if (!block)
		return NULL;
	p = block;
	s = carve(&p, sizeof(*s));
	s->data_version = data_version;
	s->n_customers = b->n_cust;
	s->n_identifiers = b->n_ids;
	s->n_campaigns = b->n_camp;
	s->n_segments = b->n_seg;
	s->n_channels = b->n_chan;
	s->n_history = b->n_hist;
	s->n_customer_segments = n_cs;
	s->n_policies = n_pol;
	s->customers = carve(&p, sizeof(struct snap_customer) * b->n_cust);
	s->identifiers = carve(&p, sizeof(struct snap_identifier) * b->n_ids);
	s->campaigns = carve(&p, sizeof(struct snap_campaign) * b->n_camp);
	s->segments = carve(&p, SNAP_REF_MAX * b->n_seg);
	s->channels = carve(&p, SNAP_REF_MAX * b->n_chan);
	s->customer_segments = carve(&p, sizeof(uint32_t) * n_cs);
	s->history = carve(&p, sizeof(struct snap_trigger_history) * b->n_hist);
	s->policies = carve(&p, SNAP_POLICY_MAX * n_pol);
	s->strings = carve(&p, n_str);
	s->n_strings_bytes = n_str;
	s->clock_offsets = carve(&p, sizeof(int64_t) * b->n_ids);
	/* One pair per customer after the empty set 0: the store's loader
	 * shares equal ones, nothing here may depend on either. */
	s->consent_sets = carve(&p, sizeof(struct snap_consent) * SNAP_PURPOSES * (b->n_cust + 1));
	s->n_consent_sets = b->n_cust + 1;
	/* Every identifier's bytes in id_bytes, none shared: the store's loader
	 * shares iBeacon UUIDs, nothing here may depend on either. */
	s->id_bytes = carve(&p, (size_t)SNAP_ID_BYTES_MAX * b->n_ids);
	s->n_id_bytes = SNAP_ID_BYTES_MAX * b->n_ids;
	s->id_run_of_block = carve(&p, sizeof(uint32_t) * snap_id_blocks(b->n_cust));
	s->id_run_start = carve(&p, sizeof(uint32_t) * b->n_cust);
	s->id_run_delta = carve(&p, sizeof(int64_t) * b->n_cust);
	/* A profile per customer after the empty profile 0: the store's loader
	 * shares equal ones, nothing here may depend on either. Segments are
	 * ranges (segment_lists false). */
	s->profiles = carve(&p, sizeof(struct snap_profile) * (b->n_cust + 1));
	s->n_profiles = b->n_cust + 1;
	memcpy(s->id_bytes, b->id_bytes, (size_t)SNAP_ID_BYTES_MAX * b->n_ids);
	memcpy(s->consent_sets + 1, b->consent, sizeof(struct snap_consent) * SNAP_PURPOSES *
						       b->n_cust);
	memcpy(s->policies, pol, SNAP_POLICY_MAX * n_pol);
	memcpy(s->customers, b->cust, sizeof(struct snap_customer) * b->n_cust);
	memcpy(s->identifiers, b->ids, sizeof(struct snap_identifier) * b->n_ids);
	memcpy(s->campaigns, b->camp, sizeof(struct snap_campaign) * b->n_camp);
	memcpy(s->segments, b->seg, SNAP_REF_MAX * b->n_seg);
	memcpy(s->channels, b->chan, SNAP_REF_MAX * b->n_chan);
	memcpy(s->history, b->hist, sizeof(struct snap_trigger_history) * b->n_hist);
	n_cs = n_str = 0;
	for (uint32_t i = 0; i < b->n_cust; i++) {
		s->profiles[i + 1].first_segment = n_cs;
		s->profiles[i + 1].consent = i + 1;
		s->customers[i].profile = i + 1;
		s->customers[i].ref = n_str;
		n_str += snap_ref_encode(s->strings + n_str, i, i ? b->ref[i - 1] : "", b->ref[i],
					 (uint32_t)strlen(b->ref[i]));
		snap_customer_id_note(s, i, b->cust_id[i]);
		for (int k = 0; k < SNAP_PURPOSES; k++)
			s->consent_sets[i + 1][k].policy =
				b->policy[i][k][0]
					? (uint16_t)(1 + policy_find(s->policies, n_pol,
								     b->policy[i][k]))
					: 0;
		for (uint32_t k = 0; k < b->n_cust_seg[i]; k++)
			s->customer_segments[n_cs++] = b->cust_seg[i][k];
	}
	s->n_strings_bytes = n_str; /* the last reference ends where the used part does */
	/* EID keys find their clock offset beside the identifiers, as the store lays them out. */
	for (uint32_t i = 0; i < b->n_ids; i++) {
		s->identifiers[i].data = SNAP_ID_BYTES_MAX * i;
		if (s->identifiers[i].type != SNAP_ID_EDDYSTONE_EID)
			continue;
		s->clock_offsets[s->n_clock_offsets] = b->clock_offset[i];
		memcpy(s->id_bytes + SNAP_ID_BYTES_MAX * i + 16, &s->n_clock_offsets,
		       sizeof(uint32_t));
		s->n_clock_offsets++;
	}
	return s;
}
