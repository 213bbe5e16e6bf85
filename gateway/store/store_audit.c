/*
 * store_audit.c - the append-only audit log and the kv table.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

int store_audit_append(sqlite3 *db, const char *actor, const char *action, const char *subject,
		       int64_t customer_id, const char *before, const char *after, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("INSERT INTO audit (at, actor, action, subject, "
					      "customer_id, before, after) VALUES (?,?,?,?,?,?,?)"),
				      err);

	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, store_now());
	sqlite3_bind_text(st, 2, actor && *actor ? actor : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, subject, -1, SQLITE_STATIC);
	if (customer_id > 0)
		sqlite3_bind_int64(st, 5, customer_id);
	if (before)
		sqlite3_bind_text(st, 6, before, -1, SQLITE_STATIC);
	if (after)
		sqlite3_bind_text(st, 7, after, -1, SQLITE_STATIC);
	return store_exec_stmt(db, st, "audit", err);
}

int store_audit_fingerprint(sqlite3 *db, int64_t customer_id, const struct store_identifier *id,
			    char out[9], char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT audit_salt FROM customers WHERE id = ?"), err);
	uint8_t buf[16];
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 0) != 16) {
		sqlite3_reset(st);
		return rc == SQLITE_ROW || rc == SQLITE_DONE
			       ? store_errf(err, STORE_ENOENT, "customer #%lld has no salt",
					    (long long)customer_id)
			       : store_sqlite_err(db, rc, "audit", err);
	}
	memcpy(buf, sqlite3_column_blob(st, 0), 16);
	sqlite3_reset(st);
	store_salted_fingerprint(buf, id, out);
	return STORE_OK;
}

void store_salted_fingerprint(const uint8_t salt[16], const struct store_identifier *id,
			      char out[9])
{
	uint8_t buf[16 + 1 + sizeof(id->value)];
	size_t vlen = strnlen(id->value, sizeof(id->value));

	memcpy(buf, salt, 16);
	buf[16] = (uint8_t)id->type;
	memcpy(buf + 17, id->value, vlen);
	store_fingerprint(buf, 17 + vlen, out);
}

int store_kv_get(sqlite3 *db, const char *key, char *value, size_t n, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT value FROM kv WHERE key = ?"), err);
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(value, n, "%s", t ? (const char *)t : "");
		sqlite3_reset(st);
		return STORE_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return store_errf(err, STORE_ENOENT, "no value for '%s'", key);
	return store_sqlite_err(db, rc, "kv", err);
}

int store_kv_set(sqlite3 *db, const char *key, const char *value, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("INSERT INTO kv (key, value) VALUES (?, ?) "
					      "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
				      err);

	if (!st)
		return STORE_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return store_exec_stmt(db, st, "kv", err);
}

int store_consent_generation(sqlite3 *db, uint64_t *gen, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT CAST(value AS INTEGER) FROM kv "
					      "WHERE key = 'consent_generation'"), err);
	int rc;

	if (!st)
		return STORE_EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*gen = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return STORE_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return store_errf(err, STORE_ESCHEMA, "no consent_generation in kv");
	return store_sqlite_err(db, rc, "kv", err);
}
