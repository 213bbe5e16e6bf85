/*
 * store_bulk_add.c - new customers handed over whole (the fleet's snapshot
 * or change), audited as compactly as a CSV import: one audit_bulk row for
 * the batch (its time and actor) and one audit_import row per customer with
 * what arrived (store_audit_import.c). The changes themselves go through
 * store_change.c, so they are checked exactly as beaconctl's are.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

struct store_bulk_add {
	struct store_audit_import ai;
	struct store_audit_detail detail;
	int64_t cid;   /* the customer being added, 0 between customers */
	char actor[];
};

struct store_bulk_add *store_bulk_add_new(const char *actor)
{
	size_t n = strlen(actor && *actor ? actor : "unknown");
	struct store_bulk_add *b = calloc(1, sizeof(*b) + n + 1);

	if (!b)
		return NULL;
	memcpy(b->actor, actor && *actor ? actor : "unknown", n + 1);
	b->ai.actor = b->actor;
	b->ai.at = store_now();
	return b;
}

void store_bulk_add_free(struct store_bulk_add *b)
{
	if (!b)
		return;
	store_audit_detail_free(&b->detail);
	free(b);
}

int store_bulk_add_customer_tx(sqlite3 *db, struct store_bulk_add *b, const char *ref,
			       int64_t *id, char *err)
{
	int rc = store_customer_add_x(db, b->actor, ref, &b->cid, &b->detail, err);

	if (rc) {
		b->cid = 0;
		return rc;
	}
	store_audit_detail_reset(&b->detail);
	if (id)
		*id = b->cid;
	return STORE_OK;
}

static int no_customer(struct store_bulk_add *b, char *err)
{
	return b->cid ? STORE_OK
		      : store_errf(err, STORE_EINVAL, "no customer is being added");
}

int store_bulk_add_identifier_tx(sqlite3 *db, struct store_bulk_add *b,
				 const struct store_identifier *id, char *err)
{
	int rc = no_customer(b, err);

	return rc ? rc : store_identifier_add_x(db, b->actor, b->cid, id, &b->detail, err);
}

int store_bulk_add_consent_tx(sqlite3 *db, struct store_bulk_add *b, const struct store_grant *g,
			      char *err)
{
	int rc = no_customer(b, err);

	return rc ? rc : store_consent_grant_x(db, b->actor, b->cid, g, &b->detail, err);
}

int store_bulk_add_segment_tx(sqlite3 *db, struct store_bulk_add *b, const char *ref,
			      const char *segment, char *err)
{
	int rc = no_customer(b, err);

	return rc ? rc : store_segment_add_x(db, b->actor, b->cid, ref, segment, &b->detail, err);
}

int store_bulk_add_done_tx(sqlite3 *db, struct store_bulk_add *b, char *err)
{
	int rc = no_customer(b, err);

	if (rc)
		return rc;
	rc = store_audit_import_row(db, &b->ai, b->cid, &b->detail, err);
	b->cid = 0;
	return rc;
}

int store_bulk_add_sync_tx(sqlite3 *db, struct store_bulk_add *b, char *err)
{
	return store_audit_import_sync(db, &b->ai, err);
}
