/*
 * store_change.c - customers, identifiers, consents and segment membership.
 * Each *_tx function makes one change plus its audit row inside the caller's
 * transaction; the plain form wraps it in its own. The *_x forms behind the
 * additions take a capture: given one, the change is recorded there for a
 * new customer's compact entry (store_bulk_add.c) instead of its own row.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store_internal.h"
#include "bgw_util.h"

static void subject_of(int64_t customer_id, char *buf, size_t n)
{
	snprintf(buf, n, "customer:%lld", (long long)customer_id);
}

/* Prints j compactly, frees it and appends the audit row. */
static int audit_json(sqlite3 *db, const char *actor, const char *action, int64_t customer_id,
		      cJSON *before, cJSON *after, char *err)
{
	char subject[40], *b = NULL, *a = NULL;
	int rc = STORE_ENOMEM;

	subject_of(customer_id, subject, sizeof(subject));
	if (before && !(b = cJSON_PrintUnformatted(before)))
		goto out;
	if (after && !(a = cJSON_PrintUnformatted(after)))
		goto out;
	rc = store_audit_append(db, actor, action, subject, customer_id, b, a, err);
out:
	if (rc == STORE_ENOMEM)
		store_errf(err, rc, "out of memory");
	cJSON_free(b);
	cJSON_free(a);
	cJSON_Delete(before);
	cJSON_Delete(after);
	return rc;
}

/*
 * A change that ends a person's consent for a purpose also deletes what the
 * daemon queued for them under that purpose and has not yet handed to the
 * broker, in the same transaction: once it commits, no queued message of
 * theirs can go out, whichever process (beaconctl, an import, a signed update
 * over MQTT) made the change. Outbox rows carry triggers (retargeting); rows
 * on a .../visit topic carry visits (presence).
 */
int store_outbox_drop_tx(sqlite3 *db, int64_t customer_id, unsigned what, int64_t *dropped,
			 char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("DELETE FROM outbox WHERE customer_id = ?1 AND "
					      "((?2 & 1 AND topic NOT LIKE '%/visit') OR "
					      "(?2 & 2 AND topic LIKE '%/visit'))"), err);
	int rc;

	if (dropped)
		*dropped = 0;
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_int(st, 2, (int)what);
	rc = store_exec_stmt(db, st, "outbox", err);
	if (rc == STORE_OK && dropped)
		*dropped = sqlite3_changes(db);
	return rc;
}

int store_customer_id(sqlite3 *db, const char *ref, int64_t *id, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT id FROM customers WHERE customer_ref = ?"),
				      err);
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return STORE_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return store_errf(err, STORE_ENOENT, "no customer '%.*s'", STORE_REF_MAX, ref);
	return store_sqlite_err(db, rc, "lookup", err);
}

int store_customer_lookup(sqlite3 *db, const char *ref, int64_t *id, char *err)
{
	int rc = store_ref_check(ref, err);

	return rc ? rc : store_customer_id(db, ref, id, err);
}

int store_customer_add_x(sqlite3 *db, const char *actor, const char *ref, int64_t *id,
			 struct store_audit_detail *capture, char *err)
{
	sqlite3_stmt *st;
	uint8_t salt[16];
	int64_t now = store_now();
	int rc = store_ref_check(ref, err);
	cJSON *after;

	if (rc)
		return rc;
	st = store_stmt(db, SQL("INSERT INTO customers (customer_ref, created_at, audit_salt) "
				"VALUES (?, ?, ?)"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_randomness(sizeof(salt), salt);
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_blob(st, 3, salt, sizeof(salt), SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return store_errf(err, STORE_EEXIST, "customer '%s' already exists", ref);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, "customer add", err);
	int64_t cid = sqlite3_last_insert_rowid(db);

	if (id)
		*id = cid;
	if (capture)
		return STORE_OK; /* the compact entry's time is its creation */
	after = cJSON_CreateObject();
	cJSON_AddNumberToObject(after, "created_at", (double)now);
	return audit_json(db, actor, "customer.add", cid, NULL, after, err);
}

int store_customer_add_tx(sqlite3 *db, const char *actor, const char *ref, int64_t *id,
			  char *err)
{
	return store_customer_add_x(db, actor, ref, id, NULL, err);
}

int store_customer_add(sqlite3 *db, const char *actor, const char *ref, char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_customer_add_tx(db, actor, ref, NULL, err), err);
}

/* Counts what a customer holds, for the removal / tombstone audit row. */
static cJSON *holdings(sqlite3 *db, int64_t cid)
{
	static const struct {
		const char *name, *sql;
	} q[] = {
		{ "identifiers", SQL("SELECT count(*) FROM identifiers WHERE customer_id = ?") },
		{ "consents", SQL("SELECT count(*) FROM consents WHERE customer_id = ?") },
		{ "consents_archived",
		  SQL("SELECT count(*) FROM consents_archive WHERE customer_id = ?") },
		{ "segments", SQL("SELECT count(*) FROM customer_segments WHERE customer_id = ?") },
		{ "visits", SQL("SELECT count(*) FROM visits WHERE customer_id = ?") },
		{ "trigger_log", SQL("SELECT count(*) FROM trigger_log WHERE customer_id = ?") },
		{ "pending_triggers", SQL("SELECT count(*) FROM outbox WHERE customer_id = ?") },
	};
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; i < BGW_ARRAY_SIZE(q); i++) {
		sqlite3_stmt *st = store_stmt(db, q[i].sql, NULL);

		if (!st)
			continue;
		sqlite3_bind_int64(st, 1, cid);
		if (sqlite3_step(st) == SQLITE_ROW)
			cJSON_AddNumberToObject(o, q[i].name, (double)sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
	}
	return o;
}

/* Deletes the customer row; foreign keys cascade to everything about them. */
int store_customer_delete_tx(sqlite3 *db, const char *actor, const char *action,
			     const char *ref, char *err)
{
	int64_t cid;
	int rc = store_customer_lookup(db, ref, &cid, err);
	sqlite3_stmt *st;
	cJSON *before;

	if (rc)
		return rc;
	before = holdings(db, cid);
	st = store_stmt(db, SQL("DELETE FROM customers WHERE id = ?"), err);
	if (!st) {
		cJSON_Delete(before);
		return STORE_EIO;
	}
	sqlite3_bind_int64(st, 1, cid);
	rc = store_exec_stmt(db, st, action, err);
	if (rc) {
		cJSON_Delete(before);
		return rc;
	}
	return audit_json(db, actor, action, cid, before, NULL, err);
}

int store_customer_remove_tx(sqlite3 *db, const char *actor, const char *ref, char *err)
{
	return store_customer_delete_tx(db, actor, "customer.remove", ref, err);
}

int store_customer_remove(sqlite3 *db, const char *actor, const char *ref, char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_customer_remove_tx(db, actor, ref, err), err);
}

static cJSON *identifier_audit(sqlite3 *db, int64_t cid, const struct store_identifier *id,
			       char *err, int *rc)
{
	char fp[9];
	cJSON *o;

	*rc = store_audit_fingerprint(db, cid, id, fp, err);
	if (*rc)
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", store_id_type_name(id->type));
	cJSON_AddStringToObject(o, "fingerprint", fp);
	return o;
}

int store_identifier_add_x(sqlite3 *db, const char *actor, int64_t cid,
			   const struct store_identifier *id, struct store_audit_detail *capture,
			   char *err)
{
	sqlite3_stmt *st;
	cJSON *after;
	char fp[9];
	int rc;

	st = store_stmt(db, SQL("INSERT INTO identifiers (customer_id, type, value, exponent, "
				"clock_offset, created_at) VALUES (?,?,?,?,?,?)"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cid);
	store_bind_identifier(st, 2, id);
	if (id->type == STORE_ID_EDDYSTONE_EID) {
		sqlite3_bind_int(st, 4, id->exponent);
		sqlite3_bind_int64(st, 5, id->clock_offset);
	}
	sqlite3_bind_int64(st, 6, store_now());
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		/* Deliberately not saying whose it is. */
		return store_errf(err, STORE_EEXIST, "%s identifier is already enrolled",
				  store_id_type_name(id->type));
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, "identifier add", err);
	if (capture) {
		if ((rc = store_audit_fingerprint(db, cid, id, fp, err)))
			return rc;
		return store_audit_detail_identifier(capture, id->type, fp)
			       ? store_errf(err, STORE_ENOMEM, "out of memory")
			       : STORE_OK;
	}
	after = identifier_audit(db, cid, id, err, &rc);
	if (!after)
		return rc;
	return audit_json(db, actor, "identifier.add", cid, NULL, after, err);
}

int store_identifier_add_tx(sqlite3 *db, const char *actor, const char *ref,
			    const struct store_identifier *id, char *err)
{
	int64_t cid;
	int rc = store_customer_lookup(db, ref, &cid, err);

	return rc ? rc : store_identifier_add_x(db, actor, cid, id, NULL, err);
}

int store_identifier_add(sqlite3 *db, const char *actor, const char *ref,
			 const struct store_identifier *id, char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_identifier_add_tx(db, actor, ref, id, err), err);
}

int store_identifier_remove_tx(sqlite3 *db, const char *actor, const struct store_identifier *id,
			       char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT customer_id FROM identifiers "
					      "WHERE type = ? AND value = ?"), err);
	int64_t cid, dropped = 0;
	int rc;
	cJSON *before;

	if (!st)
		return STORE_EIO;
	store_bind_identifier(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return store_errf(err, STORE_ENOENT, "no such %s identifier is enrolled",
					  store_id_type_name(id->type));
		return store_sqlite_err(db, rc, "identifier remove", err);
	}
	cid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	before = identifier_audit(db, cid, id, err, &rc);
	if (!before)
		return rc;
	st = store_stmt(db, SQL("DELETE FROM identifiers WHERE type = ? AND value = ?"), err);
	if (!st) {
		cJSON_Delete(before);
		return STORE_EIO;
	}
	store_bind_identifier(st, 1, id);
	rc = store_exec_stmt(db, st, "identifier remove", err);
	/* Queued messages name the customer, not the device that was heard: all
	 * of theirs go, whichever identifier produced them. */
	if (rc == STORE_OK)
		rc = store_outbox_drop_tx(db, cid, STORE_QUEUED_ALL, &dropped, err);
	if (rc) {
		cJSON_Delete(before);
		return rc;
	}
	if (dropped)
		cJSON_AddNumberToObject(before, "queued_dropped", (double)dropped);
	return audit_json(db, actor, "identifier.remove", cid, before, NULL, err);
}

int store_identifier_remove(sqlite3 *db, const char *actor, const struct store_identifier *id,
			    char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_identifier_remove_tx(db, actor, id, err), err);
}

/* The current (newest) consent row of purpose p as JSON; NULL if none. */
static cJSON *current_consent(sqlite3 *db, int64_t cid, enum store_purpose p, int64_t *row,
			      bool *withdrawn)
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT id, channels, granted_at, expires_at, "
					      "withdrawn_at, source, policy_version FROM consents "
					      "WHERE customer_id = ? AND purpose = ? "
					      "ORDER BY id DESC LIMIT 1"), NULL);
	cJSON *o = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int(st, 2, (int)p);
	if (sqlite3_step(st) == SQLITE_ROW) {
		o = cJSON_CreateObject();
		*row = sqlite3_column_int64(st, 0);
		*withdrawn = sqlite3_column_type(st, 4) != SQLITE_NULL;
		cJSON_AddStringToObject(o, "purpose", store_purpose_name(p));
		cJSON_AddStringToObject(o, "channels", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddNumberToObject(o, "granted_at", (double)sqlite3_column_int64(st, 2));
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			cJSON_AddNumberToObject(o, "expires_at",
						(double)sqlite3_column_int64(st, 3));
		if (*withdrawn)
			cJSON_AddNumberToObject(o, "withdrawn_at",
						(double)sqlite3_column_int64(st, 4));
		cJSON_AddStringToObject(o, "source", store_column_source(st, 5));
		cJSON_AddStringToObject(o, "policy_version",
					(const char *)sqlite3_column_text(st, 6));
	}
	sqlite3_reset(st);
	return o;
}

int store_consent_grant_x(sqlite3 *db, const char *actor, int64_t cid,
			  const struct store_grant *g, struct store_audit_detail *capture,
			  char *err)
{
	char channels[512];
	const char *source = g->source && *g->source ? g->source : "cli";
	const char *policy = g->policy ? g->policy : "";
	int64_t row, now = store_now(), granted = g->granted_at ? g->granted_at : now;
	bool withdrawn;
	int rc;
	sqlite3_stmt *st;
	cJSON *before, *after;

	rc = store_channels_normalise(g->channels ? g->channels : "", channels, sizeof(channels),
				      err);
	if (rc)
		return rc;
	/* Triggers go only to channels the customer accepted: a retargeting
	 * grant without one could never send any, whoever records it. */
	if (g->purpose == STORE_RETARGETING && !channels[0])
		return store_errf(err, STORE_EINVAL, "retargeting consent needs at least one "
				  "channel: without one no trigger could ever be sent");
	if (strlen(source) > STORE_REF_MAX || strlen(policy) > STORE_POLICY_LEN_MAX)
		return store_errf(err, STORE_EINVAL, "consent source (max %d) or policy version "
				  "(max %d characters) too long", STORE_REF_MAX,
				  STORE_POLICY_LEN_MAX);
	if (g->expires_at && g->expires_at <= granted)
		return store_errf(err, STORE_EINVAL, "consent expiry is not after the grant time");
	rc = store_limits_check_tx(db, channels, policy, err);
	if (rc)
		return rc;
	/* A new customer has no consent before this one. */
	before = capture ? NULL : current_consent(db, cid, g->purpose, &row, &withdrawn);
	if ((rc = store_consent_next_id(db, &row, err))) {
		cJSON_Delete(before);
		return rc;
	}
	st = store_stmt(db, SQL("INSERT INTO consents (customer_id, purpose, channels, granted_at, "
				"expires_at, source, policy_version, id) VALUES (?,?,?,?,?,?,?,?)"),
			err);
	if (!st) {
		cJSON_Delete(before);
		return STORE_EIO;
	}
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int(st, 2, (int)g->purpose);
	sqlite3_bind_int64(st, 8, row);
	sqlite3_bind_text(st, 3, channels, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, granted);
	if (g->expires_at)
		sqlite3_bind_int64(st, 5, g->expires_at);
	store_bind_source(st, 6, source);
	sqlite3_bind_text(st, 7, policy, -1, SQLITE_STATIC);
	rc = store_exec_stmt(db, st, "consent grant", err);
	if (rc) {
		cJSON_Delete(before);
		return rc;
	}
	if (capture)
		return store_audit_detail_consent(capture, g->purpose, channels, g->expires_at)
			       ? store_errf(err, STORE_ENOMEM, "out of memory")
			       : STORE_OK;
	after = current_consent(db, cid, g->purpose, &row, &withdrawn);
	return audit_json(db, actor, "consent.grant", cid, before, after, err);
}

int store_consent_grant_tx(sqlite3 *db, const char *actor, const char *ref,
			   const struct store_grant *g, char *err)
{
	int64_t cid;
	int rc = store_customer_lookup(db, ref, &cid, err);

	return rc ? rc : store_consent_grant_x(db, actor, cid, g, NULL, err);
}

int store_consent_grant(sqlite3 *db, const char *actor, const char *ref,
			const struct store_grant *g, char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_consent_grant_tx(db, actor, ref, g, err), err);
}

int store_consent_withdraw_tx(sqlite3 *db, const char *actor, const char *ref,
			      enum store_purpose p, char *err)
{
	int64_t cid, row = 0, dropped = 0;
	bool withdrawn = false;
	int rc = store_customer_lookup(db, ref, &cid, err);
	sqlite3_stmt *st;
	cJSON *before, *after;

	if (rc)
		return rc;
	before = current_consent(db, cid, p, &row, &withdrawn);
	if (!before || withdrawn) {
		cJSON_Delete(before);
		return store_errf(err, STORE_ENOENT, "customer '%s' has no %s consent to withdraw",
				  ref, store_purpose_name(p));
	}
	st = store_stmt(db, SQL("UPDATE consents SET withdrawn_at = ? WHERE customer_id = ? AND "
				"purpose = ? AND id = ?"), err);
	if (!st) {
		cJSON_Delete(before);
		return STORE_EIO;
	}
	sqlite3_bind_int64(st, 1, store_now());
	sqlite3_bind_int64(st, 2, cid);
	sqlite3_bind_int(st, 3, (int)p);
	sqlite3_bind_int64(st, 4, row);
	rc = store_exec_stmt(db, st, "consent withdraw", err);
	if (rc == STORE_OK)
		rc = store_outbox_drop_tx(db, cid, p == STORE_RETARGETING ? STORE_QUEUED_TRIGGERS
									 : STORE_QUEUED_VISITS,
					  &dropped, err);
	if (rc) {
		cJSON_Delete(before);
		return rc;
	}
	after = current_consent(db, cid, p, &row, &withdrawn);
	if (after && dropped)
		cJSON_AddNumberToObject(after, "queued_dropped", (double)dropped);
	return audit_json(db, actor, "consent.withdraw", cid, before, after, err);
}

int store_consent_withdraw(sqlite3 *db, const char *actor, const char *ref,
			   enum store_purpose p, char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_consent_withdraw_tx(db, actor, ref, p, err), err);
}

int store_segment_add_x(sqlite3 *db, const char *actor, int64_t cid, const char *ref,
			const char *segment, struct store_audit_detail *capture, char *err)
{
	sqlite3_stmt *st;
	cJSON *after;
	int rc = store_name_check("segment", segment, err);

	if (rc)
		return rc;
	st = store_stmt(db, SQL("INSERT INTO segments (name) VALUES (?) "
				"ON CONFLICT (name) DO NOTHING"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, segment, -1, SQLITE_STATIC);
	if ((rc = store_exec_stmt(db, st, "segment add", err)))
		return rc;
	st = store_stmt(db, SQL("INSERT INTO customer_segments (customer_id, segment_id) "
				"SELECT ?, id FROM segments WHERE name = ?"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, segment, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return store_errf(err, STORE_EEXIST, "customer '%s' is already in segment '%s'", ref,
				  segment);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, "segment add", err);
	if (capture)
		return store_audit_detail_segment(capture, segment)
			       ? store_errf(err, STORE_ENOMEM, "out of memory")
			       : STORE_OK;
	after = cJSON_CreateObject();
	cJSON_AddStringToObject(after, "segment", segment);
	return audit_json(db, actor, "segment.add", cid, NULL, after, err);
}

int store_segment_add_tx(sqlite3 *db, const char *actor, const char *ref, const char *segment,
			 char *err)
{
	int64_t cid;
	int rc = store_customer_lookup(db, ref, &cid, err);

	return rc ? rc : store_segment_add_x(db, actor, cid, ref, segment, NULL, err);
}

int store_segment_add(sqlite3 *db, const char *actor, const char *ref, const char *segment,
		      char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc : store_tx_end(db, store_segment_add_tx(db, actor, ref, segment, err), err);
}

int store_segment_remove_tx(sqlite3 *db, const char *actor, const char *ref,
			    const char *segment, char *err)
{
	int64_t cid;
	int rc = store_customer_lookup(db, ref, &cid, err);
	sqlite3_stmt *st;
	cJSON *before;

	if (rc || (rc = store_name_check("segment", segment, err)))
		return rc;
	st = store_stmt(db, SQL("DELETE FROM customer_segments WHERE customer_id = ? AND "
				"segment_id = (SELECT id FROM segments WHERE name = ?)"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_text(st, 2, segment, -1, SQLITE_STATIC);
	if ((rc = store_exec_stmt(db, st, "segment remove", err)))
		return rc;
	if (sqlite3_changes(db) == 0)
		return store_errf(err, STORE_ENOENT, "customer '%s' is not in segment '%s'", ref,
				  segment);
	before = cJSON_CreateObject();
	cJSON_AddStringToObject(before, "segment", segment);
	return audit_json(db, actor, "segment.remove", cid, before, NULL, err);
}

int store_segment_remove(sqlite3 *db, const char *actor, const char *ref, const char *segment,
			 char *err)
{
	int rc = store_begin(db, err);

	return rc ? rc
		  : store_tx_end(db, store_segment_remove_tx(db, actor, ref, segment, err), err);
}
