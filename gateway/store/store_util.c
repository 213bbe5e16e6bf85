/*
 * store_util.c - errors, the statement cache, transactions, names and times.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "store_internal.h"
#include "bgw_util.h"

int store_errf(char *err, int rc, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, STORE_ERRLEN, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int store_sqlite_err(sqlite3 *db, int sqlite_rc, const char *what, char *err)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(sqlite_rc);

	switch (sqlite_rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return store_errf(err, STORE_EBUSY,
				  "%s: database is locked by another process (waited %d ms)", what,
				  STORE_DEFAULT_BUSY_MS);
	case SQLITE_READONLY:
		return store_errf(err, STORE_EREADONLY, "%s: database is read-only", what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return store_errf(err, STORE_ECORRUPT, "%s: database is corrupt or not a database (%s)",
				  what, msg);
	case SQLITE_NOMEM:
		return store_errf(err, STORE_ENOMEM, "%s: out of memory", what);
	case SQLITE_CONSTRAINT:
		return store_errf(err, STORE_EINVAL, "%s: %s", what, msg);
	default:
		return store_errf(err, STORE_EIO, "%s: %s", what, msg);
	}
}

int store_sqlite_raw_err(sqlite3 *db, int sqlite_rc, char *err)
{
	int rc;

	switch (sqlite_rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		rc = STORE_EBUSY;
		break;
	case SQLITE_READONLY:
		rc = STORE_EREADONLY;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		rc = STORE_ECORRUPT;
		break;
	case SQLITE_NOMEM:
		rc = STORE_ENOMEM;
		break;
	case SQLITE_CONSTRAINT:
		rc = STORE_EINVAL;
		break;
	default:
		rc = STORE_EIO;
		break;
	}
	return store_errf(err, rc, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(sqlite_rc));
}

sqlite3_stmt *store_stmt(sqlite3 *db, const char *sql, char *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* The connection already keeps a list of its statements; reusing an idle
	 * one with our exact text saves a prepare per row on bulk imports. */
	while ((st = sqlite3_next_stmt(db, st)) != NULL) {
		const char *s = sqlite3_sql(st);

		if (s && strcmp(s, sql) == 0 && !sqlite3_stmt_busy(st)) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		store_sqlite_err(db, rc, "prepare", err);
		return NULL;
	}
	return st;
}

int store_step_value(sqlite3 *db, sqlite3_stmt *st, int64_t *out, char *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		rc = sqlite3_extended_errcode(db);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : store_sqlite_raw_err(db, rc, err);
}

int store_exec_stmt(sqlite3 *db, sqlite3_stmt *st, const char *what, char *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, what, err);
	return STORE_OK;
}

int store_exec(sqlite3 *db, const char *sql, const char *what, char *err)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_sqlite_err(db, rc, what, err);
	return STORE_OK;
}

int store_begin(sqlite3 *db, char *err)
{
	return store_exec(db, "BEGIN IMMEDIATE", "begin", err);
}

/*
 * Every write transaction made through the store (beaconctl, CSV import,
 * signed consent updates, purge) moves kv 'consent_generation' once, at its
 * end: the daemon reloads its snapshot when it moves. Schema triggers move it
 * too, for every UPDATE and DELETE and for INSERTs into the small tables, so
 * writes outside the store API are seen as well -- except INSERTs into
 * customers, identifiers, consents and customer_segments, which a CSV import
 * makes by the million: a row trigger there doubled a 1 M-row import, one
 * UPDATE per transaction costs nothing. The UPDATE matches no row while the
 * schema is older than version 2 (migrations commit through here too).
 */
static int bump_generation(sqlite3 *db, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("UPDATE kv SET value = CAST(value AS INTEGER) + 1 "
					      "WHERE key = 'consent_generation'"), err);

	if (!st)
		return STORE_EIO;
	return store_exec_stmt(db, st, "commit", err);
}

int store_commit(sqlite3 *db, char *err)
{
	int rc = bump_generation(db, err);

	if (rc == STORE_OK)
		rc = store_exec(db, "COMMIT", "commit", err);

	if (rc != STORE_OK)
		store_rollback(db);
	return rc;
}

void store_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int store_tx_end(sqlite3 *db, int rc, char *err)
{
	if (rc == STORE_OK)
		return store_commit(db, err);
	store_rollback(db);
	return rc;
}

uint64_t store_data_version(sqlite3 *db)
{
	sqlite3_stmt *st = store_stmt(db, SQL("PRAGMA data_version"), NULL);
	uint64_t v = 0;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return v;
}

int64_t store_now(void)
{
	return (int64_t)time(NULL);
}

static bool name_char_ok(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-';
}

int store_name_check(const char *what, const char *name, char *err)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0)
		return store_errf(err, STORE_EINVAL, "%s name is empty", what);
	if (n > STORE_REF_MAX)
		return store_errf(err, STORE_EINVAL, "%s name is longer than %d characters", what,
				  STORE_REF_MAX);
	for (size_t i = 0; i < n; i++)
		if (!name_char_ok((unsigned char)name[i]))
			return store_errf(err, STORE_EINVAL,
					  "%s name '%.*s' may only contain letters, digits, '.', "
					  "'_' and '-'", what, STORE_REF_MAX, name);
	return STORE_OK;
}

int store_ref_check(const char *ref, char *err)
{
	size_t n = ref ? strlen(ref) : 0;

	/* Opaque CRM reference: printable, no separators used by the CSV format. */
	if (n == 0)
		return store_errf(err, STORE_EINVAL, "customer_ref is empty");
	if (n > STORE_REF_MAX)
		return store_errf(err, STORE_EINVAL, "customer_ref is longer than %d characters",
				  STORE_REF_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ref[i];

		if (!(name_char_ok(c) || c == ':' || c == '@' || c == '/' || c == '+' || c == '='))
			return store_errf(err, STORE_EINVAL,
					  "customer_ref may only contain letters, digits and . _ - : "
					  "@ / + =");
	}
	return STORE_OK;
}

int store_channels_normalise(const char *in, char *out, size_t n, char *err)
{
	char buf[1024], *save = NULL, *tok;
	size_t used = 0;

	if (strlen(in) >= sizeof(buf))
		return store_errf(err, STORE_EINVAL, "channel list too long");
	strcpy(buf, in);
	out[0] = '\0';
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int rc = store_name_check("channel", tok, err);
		size_t len = strlen(tok);
		const char *p = out;
		bool dup = false;

		if (rc)
			return rc;
		while (*p) {
			const char *e = strchr(p, ',');
			size_t l = e ? (size_t)(e - p) : strlen(p);

			if (l == len && strncmp(p, tok, len) == 0)
				dup = true;
			p += l + (e ? 1 : 0);
		}
		if (dup)
			continue;
		if (used + len + 2 > n)
			return store_errf(err, STORE_EINVAL, "channel list too long");
		if (used)
			out[used++] = ',';
		memcpy(out + used, tok, len + 1);
		used += len;
	}
	return STORE_OK;
}

int store_purpose_parse(const char *s, enum store_purpose *p)
{
	if (strcmp(s, "presence") == 0)
		*p = STORE_PRESENCE;
	else if (strcmp(s, "retargeting") == 0)
		*p = STORE_RETARGETING;
	else
		return STORE_EINVAL;
	return STORE_OK;
}

const char *store_purpose_name(enum store_purpose p)
{
	return p == STORE_RETARGETING ? "retargeting" : "presence";
}

const char *store_column_purpose(sqlite3_stmt *st, int col)
{
	/* consents_archive keeps the names it always had. */
	if (sqlite3_column_type(st, col) == SQLITE_TEXT)
		return (const char *)sqlite3_column_text(st, col);
	if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
		return "?";
	switch (sqlite3_column_int(st, col)) {
	case STORE_PRESENCE:
		return "presence";
	case STORE_RETARGETING:
		return "retargeting";
	}
	return "?";
}

/* The sources numbered in consents.source, by number: the same numbers as
 * STORE_SQL_SOURCE_TEXT and the v9 migration step. */
static const char *const known_sources[] = { "import", "cli" };

void store_bind_source(sqlite3_stmt *st, int col, const char *source)
{
	for (size_t i = 0; i < BGW_ARRAY_SIZE(known_sources); i++) {
		if (strcmp(source, known_sources[i]) == 0) {
			sqlite3_bind_int(st, col, (int)i);
			return;
		}
	}
	sqlite3_bind_text(st, col, source, -1, SQLITE_TRANSIENT);
}

const char *store_column_source(sqlite3_stmt *st, int col)
{
	const char *t;

	if (sqlite3_column_type(st, col) == SQLITE_INTEGER) {
		int64_t i = sqlite3_column_int64(st, col);

		return i >= 0 && i < (int64_t)BGW_ARRAY_SIZE(known_sources) ? known_sources[i] :
									       "?";
	}
	t = (const char *)sqlite3_column_text(st, col);
	return t ? t : "";
}

int store_consent_next_id(sqlite3 *db, int64_t *id, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("UPDATE kv SET value = CAST(value AS INTEGER) + 1 "
					      "WHERE key = 'consent_next_id' "
					      "RETURNING CAST(value AS INTEGER) - 1"), err);
	int rc;

	*id = 0;
	if (!st)
		return STORE_EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, "consent", err);
	if (*id <= 0)
		return store_errf(err, STORE_EIO, "consent: the store has no consent id sequence");
	return STORE_OK;
}

int store_event_parse(const char *s)
{
	static const char *const names[] = { "enter", "dwell", "exit" };

	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *store_event_name(int event)
{
	static const char *const names[] = { "enter", "dwell", "exit" };

	return event >= 0 && event < 3 ? names[event] : "?";
}

void store_fingerprint(const void *data, size_t n, char out[9])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len < 4) {
		strcpy(out, "????????");
		return;
	}
	snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

void store_time_format(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "@%lld", (long long)t);
}

int store_time_parse(const char *s, int64_t now, int64_t *out, char *err)
{
	struct tm tm = { 0 };
	char *end;
	long long v;

	if (!s || !*s)
		return store_errf(err, STORE_EINVAL, "empty time");
	/* Relative both ways: "+7d" for an expiry, "-1d" for "since yesterday". */
	if (s[0] == '+' || s[0] == '-') {
		errno = 0;
		v = strtoll(s + 1, &end, 10);
		long long mul = 1;

		if (end == s + 1 || errno || v < 0)
			goto bad;
		switch (*end) {
		case 'd': mul = 86400; end++; break;
		case 'h': mul = 3600; end++; break;
		case 'm': mul = 60; end++; break;
		case 's': end++; break;
		case '\0': break;
		default: goto bad;
		}
		if (*end || v > INT32_MAX)
			goto bad;
		*out = s[0] == '-' ? now - v * mul : now + v * mul;
		return STORE_OK;
	}
	if (s[0] == '@' || strspn(s, "0123456789") == strlen(s)) {
		const char *d = s[0] == '@' ? s + 1 : s;

		errno = 0;
		v = strtoll(d, &end, 10);
		if (end == d || *end || errno || v < 0)
			goto bad;
		*out = v;
		return STORE_OK;
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		goto bad;
	if (*end == 'T' || *end == ' ') {
		char *e2 = strptime(end + 1, "%H:%M:%S", &tm);

		if (!e2)
			e2 = strptime(end + 1, "%H:%M", &tm);
		if (!e2)
			goto bad;
		end = e2;
	}
	if (*end == 'Z' && end[1] == '\0') {
		*out = (int64_t)timegm(&tm);
		return STORE_OK;
	}
	if (*end)
		goto bad;
	tm.tm_isdst = -1;
	*out = (int64_t)mktime(&tm);
	return STORE_OK;
bad:
	return store_errf(err, STORE_EINVAL,
			  "bad time '%.40s' (use YYYY-MM-DD[THH:MM[:SS]][Z], @UNIX or +N[smhd] / -N[smhd])", s);
}
