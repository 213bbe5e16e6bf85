/* ref_index.c - open addressing over the snapshot's customer refs. */
#include "ref_index.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX

struct ref_index {
	uint32_t *slot;          /* customer index, EMPTY */
	uint32_t mask;
};

static uint32_t ref_hash(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

struct ref_index *ref_index_new(const struct snapshot *s)
{
	struct ref_index *x = calloc(1, sizeof(*x));
	uint32_t n = s ? s->n_customers : 0, m = 16;
	char ref[SNAP_REF_MAX];

	if (!x)
		return NULL;
	while (m < 2u * n)
		m <<= 1;
	x->mask = m - 1;
	x->slot = malloc(sizeof(*x->slot) * m);
	if (!x->slot) {
		free(x);
		return NULL;
	}
	memset(x->slot, 0xff, sizeof(*x->slot) * m);
	/* The references decode one after the other: a step each. */
	for (uint32_t i = 0, len = 0; i < n; i++) {
		uint32_t h;

		snap_ref_step(s, i, ref, &len);
		h = ref_hash(ref) & x->mask;

		while (x->slot[h] != EMPTY)
			h = (h + 1) & x->mask;
		x->slot[h] = i;
	}
	return x;
}

void ref_index_free(struct ref_index *x)
{
	if (!x)
		return;
	free(x->slot);
	free(x);
}

int64_t ref_index_find(const struct ref_index *x, const struct snapshot *s, const char *ref)
{
	char buf[SNAP_REF_MAX];
	uint32_t h;

	if (!x || !s || !ref)
		return -1;
	for (h = ref_hash(ref) & x->mask; x->slot[h] != EMPTY; h = (h + 1) & x->mask) {
		uint32_t i = x->slot[h];

		if (i < s->n_customers && !strcmp(snap_customer_ref(s, &s->customers[i], buf), ref))
			return i;
	}
	return -1;
}
