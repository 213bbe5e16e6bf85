/*
 * store_consent_seq.c - where the gateway stands in its backend's sequence
 * of signed consent updates (docs/backend.md, "Sequence numbers").
 *
 * Two kv rows: the last update applied (consent.last_seq, written with each
 * update in its transaction) and the highest verified update received
 * (consent.seen_seq, written when one arrives beyond last + 1, i.e. some
 * were missed). While seen > last the daemon acts on nobody. An operator who
 * re-imported the full state as of update N says so here, once, audited.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"
#include "store_internal.h"

static int read_seq(sqlite3 *db, const char *key, int64_t *v, char *err)
{
	char text[32];
	char *end;
	int rc = store_kv_get(db, key, text, sizeof(text), err);

	*v = 0;
	if (rc == STORE_ENOENT)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	*v = strtoll(text, &end, 10);
	if (*end || *v < 0) {
		snprintf(err, STORE_ERRLEN, "kv %s holds \"%.32s\", not a sequence", key, text);
		return STORE_ECORRUPT;
	}
	return STORE_OK;
}

int store_consent_seq_get(sqlite3 *db, int64_t *last, int64_t *seen, char *err)
{
	int rc = read_seq(db, STORE_KV_CONSENT_LAST_SEQ, last, err);

	return rc ? rc : read_seq(db, STORE_KV_CONSENT_SEEN_SEQ, seen, err);
}

int store_consent_seq_set(sqlite3 *db, const char *actor, int64_t seq, char *err)
{
	char before[64], after[64], text[24];
	int64_t last = 0, seen = 0;
	int rc = store_begin(db, err);

	if (rc)
		return rc;
	rc = store_consent_seq_get(db, &last, &seen, err);
	if (rc == STORE_OK && seq < last) {
		/* Lowering it would let captured updates last..seq be applied again. */
		snprintf(err, STORE_ERRLEN, "update %" PRId64 " is already applied; the sequence "
			 "only moves forward", last);
		rc = STORE_EINVAL;
	}
	snprintf(text, sizeof(text), "%" PRId64, seq);
	if (rc == STORE_OK)
		rc = store_kv_set(db, STORE_KV_CONSENT_LAST_SEQ, text, err);
	snprintf(before, sizeof(before), "{\"last_seq\":%" PRId64 ",\"seen_seq\":%" PRId64 "}",
		 last, seen);
	snprintf(after, sizeof(after), "{\"last_seq\":%" PRId64 "}", seq);
	if (rc == STORE_OK)
		rc = store_audit_append(db, actor, "consent.seq_set", "consent", 0, before, after,
					err);
	if (rc == STORE_OK)
		return store_commit(db, err);
	store_rollback(db);
	return rc;
}
