/*
 * store_forget.c - erasure (GDPR Art. 17) and retention.
 *
 * Forget deletes the customer row; foreign keys cascade to identifiers,
 * consents (and their archive), segment membership, visits, trigger history
 * and queued triggers. Their audit rows keep action and time only; one
 * tombstone with counts is appended.
 * secure_delete zeroes freed cells; VACUUM then rewrites the file so no page
 * keeps an older copy, and a TRUNCATE checkpoint empties the WAL, which would
 * otherwise still hold page images from before the deletion.
 */
#include <cjson/cJSON.h>

#include "store_internal.h"

int store_forget_tx(sqlite3 *db, const char *actor, const char *ref, char *err)
{
	int64_t cid, tomb;
	sqlite3_stmt *st;
	int rc = store_customer_lookup(db, ref, &cid, err);

	if (rc || (rc = store_customer_delete_tx(db, actor, "forget", ref, err)))
		return rc;
	/* Their earlier audit rows keep action and time, not what they held:
	 * free-text consent sources, "mqtt seq N" of payloads that name them,
	 * fingerprints (schema v3 allows exactly this, once the customer row
	 * is gone). The tombstone just appended keeps its counts. */
	tomb = sqlite3_last_insert_rowid(db);
	st = store_stmt(db, SQL("UPDATE audit SET before = NULL, after = NULL WHERE "
				"customer_id = ? AND id < ? AND "
				"(before IS NOT NULL OR after IS NOT NULL)"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int64(st, 2, tomb);
	if ((rc = store_exec_stmt(db, st, "forget", err)))
		return rc;
	/* The same for their compact import entry (schema v7). */
	st = store_stmt(db, SQL("UPDATE audit_import SET detail = NULL WHERE customer_id = ? "
				"AND detail IS NOT NULL"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cid);
	return store_exec_stmt(db, st, "forget", err);
}

int store_forget_cleanup(sqlite3 *db, char *err)
{
	/* The erased rows' old pages must leave the file and its log too. */
	return store_compact(db, err);
}

int store_forget(sqlite3 *db, const char *actor, const char *ref, bool *cleanup_ok, char *err)
{
	int rc = store_begin(db, err);

	*cleanup_ok = false;
	if (rc)
		return rc;
	rc = store_tx_end(db, store_forget_tx(db, actor, ref, err), err);
	if (rc)
		return rc;
	*cleanup_ok = store_forget_cleanup(db, err) == STORE_OK;
	return STORE_OK;
}

static int purge_tx(sqlite3 *db, const char *actor, int days, int64_t now,
		    struct store_purge_result *r, char *err)
{
	int64_t cutoff = now - (int64_t)days * 86400;
	sqlite3_stmt *st;
	int rc;
	cJSON *after;
	char *a;

	st = store_stmt(db, SQL("DELETE FROM visits WHERE coalesce(exited_at, entered_at) < ?"),
			err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cutoff);
	if ((rc = store_exec_stmt(db, st, "purge", err)))
		return rc;
	r->visits = sqlite3_changes(db);

	st = store_stmt(db, SQL("DELETE FROM trigger_log WHERE at < ?"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cutoff);
	if ((rc = store_exec_stmt(db, st, "purge", err)))
		return rc;
	r->trigger_log = sqlite3_changes(db);

	/* Expired rows leave the data path, and with an expired current row
	 * (the newest of its customer and purpose) go the older rows it had
	 * superseded: left behind, the newest of them would become "current"
	 * again and bring back a grant the person had replaced, most often a
	 * grant without an expiry by one with. */
	st = store_stmt(db, SQL("INSERT INTO consents_archive (id, customer_id, purpose, channels, "
				"granted_at, expires_at, withdrawn_at, source, policy_version, "
				"archived_at) SELECT id, customer_id, "
				STORE_SQL_PURPOSE_NAME("purpose") ", channels, granted_at, "
				"expires_at, withdrawn_at, " STORE_SQL_SOURCE_TEXT("source") ", "
				"policy_version, ?1 FROM consents "
				"WHERE (expires_at IS NOT NULL AND expires_at <= ?1) OR EXISTS ("
				"SELECT 1 FROM consents cur WHERE cur.customer_id = consents.customer_id "
				"AND cur.purpose = consents.purpose AND cur.id > consents.id AND "
				"cur.expires_at IS NOT NULL AND cur.expires_at <= ?1 AND cur.id = ("
				"SELECT max(id) FROM consents m WHERE m.customer_id = consents.customer_id "
				"AND m.purpose = consents.purpose))"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, now);
	if ((rc = store_exec_stmt(db, st, "purge", err)))
		return rc;
	r->consents_archived = sqlite3_changes(db);
	st = store_stmt(db, SQL("DELETE FROM consents WHERE (customer_id, purpose, id) IN ("
				"SELECT customer_id, CASE purpose WHEN 'presence' THEN "
				STORE_SQL_PURPOSE("presence") " WHEN 'retargeting' THEN "
				STORE_SQL_PURPOSE("retargeting") " END, id FROM consents_archive "
				"WHERE archived_at = ?)"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, now);
	if ((rc = store_exec_stmt(db, st, "purge", err)))
		return rc;

	/* Queued messages whose purpose is no longer in force (expired above, or
	 * at any time before) leave the outbox with it. */
	st = store_stmt(db, SQL("DELETE FROM outbox WHERE customer_id IS NOT NULL AND NOT EXISTS ("
				"SELECT 1 FROM consents c WHERE c.customer_id = outbox.customer_id "
				"AND c.purpose = CASE WHEN outbox.topic LIKE '%/visit' THEN "
				STORE_SQL_PURPOSE("presence") " ELSE " STORE_SQL_PURPOSE("retargeting")
				" END "
				"AND c.id = (SELECT max(id) FROM consents "
				"WHERE customer_id = outbox.customer_id AND purpose = c.purpose) "
				"AND c.withdrawn_at IS NULL AND c.granted_at <= ?1 AND "
				"(c.expires_at IS NULL OR c.expires_at > ?1))"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, now);
	if ((rc = store_exec_stmt(db, st, "purge", err)))
		return rc;
	r->queued_dropped = sqlite3_changes(db);

	after = cJSON_CreateObject();
	cJSON_AddNumberToObject(after, "days", days);
	cJSON_AddNumberToObject(after, "queued_dropped", (double)r->queued_dropped);
	cJSON_AddNumberToObject(after, "visits", (double)r->visits);
	cJSON_AddNumberToObject(after, "trigger_log", (double)r->trigger_log);
	cJSON_AddNumberToObject(after, "consents_archived", (double)r->consents_archived);
	a = cJSON_PrintUnformatted(after);
	cJSON_Delete(after);
	rc = store_audit_append(db, actor, "purge", "retention", 0, NULL, a, err);
	cJSON_free(a);
	return rc;
}

int store_purge(sqlite3 *db, const char *actor, int days, int64_t now,
		struct store_purge_result *r, char *err)
{
	int rc;

	*r = (struct store_purge_result){ 0 };
	if (days < 1)
		return store_errf(err, STORE_EINVAL, "retention must be at least 1 day");
	rc = store_begin(db, err);
	return rc ? rc : store_tx_end(db, purge_tx(db, actor, days, now, r, err), err);
}
