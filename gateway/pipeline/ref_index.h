/*
 * ref_index.h - customer_ref -> snapshot customer index, for what peers of
 * the site send (they name customers by the CRM's ref, never by this
 * gateway's row ids). Built with each snapshot, off the hot path.
 */
#ifndef BGW_REF_INDEX_H
#define BGW_REF_INDEX_H

#include <stdint.h>

#include "snapshot.h"

struct ref_index;

/* NULL on allocation failure; an empty index for a NULL snapshot. */
struct ref_index *ref_index_new(const struct snapshot *s);
void ref_index_free(struct ref_index *x);

/* The index into s->customers of ref, -1 if not enrolled. s must be the
 * snapshot the index was built from. */
int64_t ref_index_find(const struct ref_index *x, const struct snapshot *s, const char *ref);

#endif
