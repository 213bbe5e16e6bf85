/*
 * store_beacons.c - the store_beacons table: parse and normalise what a
 * beacon sends, add, remove, list, and load for the daemon.
 */
#include "store_beacons.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgw_util.h"
#include "store.h"
#include "store_internal.h"

/* Exactly n bytes of hex from s (dashes skipped when allowed). */
static bool hex_exact(const char *s, size_t slen, uint8_t *out, size_t n, const char *skip)
{
	size_t digits = 0;

	for (size_t i = 0; i < slen; i++)
		digits += isxdigit((unsigned char)s[i]) != 0;
	return digits == 2 * n && bgw_hex_decode(s, slen, out, n, skip);
}

static bool u16_parse(const char *s, uint16_t *v)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*s))
		return false;
	n = strtoul(s, &end, 10);
	if (*end || n > 65535)
		return false;
	*v = (uint16_t)n;
	return true;
}

static int parse_ibeacon(const char *v, struct store_beacon *b, char *err)
{
	const char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char major[8], minor[8], uuid[37];
	uint16_t ma, mi;
	const uint8_t *u = b->id;

	if (!c2 || !hex_exact(v, (size_t)(c1 - v), b->id, 16, "-") ||
	    (size_t)(c2 - c1 - 1) >= sizeof(major) || strlen(c2 + 1) >= sizeof(minor))
		goto bad;
	memcpy(major, c1 + 1, (size_t)(c2 - c1 - 1));
	major[c2 - c1 - 1] = '\0';
	snprintf(minor, sizeof(minor), "%s", c2 + 1);
	if (!u16_parse(major, &ma) || !u16_parse(minor, &mi))
		goto bad;
	bgw_put_be16(b->id + 16, ma);
	bgw_put_be16(b->id + 18, mi);
	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
		 u[15]);
	snprintf(b->value, sizeof(b->value), "%s:%u:%u", uuid, ma, mi);
	return STORE_OK;
bad:
	return store_errf(err, STORE_EINVAL, "ibeacon: '%.60s' is not UUID:MAJOR:MINOR "
			  "(MAJOR and MINOR 0..65535)", v);
}

static int parse_uid(const char *v, struct store_beacon *b, bool ns_only, char *err)
{
	const char *c = strchr(v, ':');
	char ns[21], inst[13];

	if (ns_only) {
		if (!hex_exact(v, strlen(v), b->id, 10, NULL))
			return store_errf(err, STORE_EINVAL, "eddystone-ns: '%.60s' is not a namespace "
					  "(20 hex digits)", v);
		bgw_hex_encode(b->id, 10, ns);
		snprintf(b->value, sizeof(b->value), "%s", ns);
		return STORE_OK;
	}
	if (!c || !hex_exact(v, (size_t)(c - v), b->id, 10, NULL) ||
	    !hex_exact(c + 1, strlen(c + 1), b->id + 10, 6, NULL))
		return store_errf(err, STORE_EINVAL, "eddystone-uid: '%.60s' is not NAMESPACE:INSTANCE "
				  "(20:12 hex digits)", v);
	bgw_hex_encode(b->id, 10, ns);
	bgw_hex_encode(b->id + 10, 6, inst);
	snprintf(b->value, sizeof(b->value), "%s:%s", ns, inst);
	return STORE_OK;
}

static int parse_tlm(const char *v, struct store_beacon *b, char *err)
{
	unsigned a[6];
	char tail;

	if (strlen(v) != 17 || sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &a[0], &a[1], &a[2], &a[3],
				      &a[4], &a[5], &tail) != 6)
		return store_errf(err, STORE_EINVAL, "tlm: '%.60s' is not a Bluetooth address "
				  "(AA:BB:CC:DD:EE:FF)", v);
	/* Frames carry the address least significant byte first. */
	for (int i = 0; i < 6; i++)
		b->id[i] = (uint8_t)a[5 - i];
	snprintf(b->value, sizeof(b->value), "%02X:%02X:%02X:%02X:%02X:%02X", a[0], a[1], a[2],
		 a[3], a[4], a[5]);
	return STORE_OK;
}

static int parse_url(const char *v, struct store_beacon *b, char *err)
{
	size_t n = strlen(v);

	/* An Eddystone-URL frame expands to at most a few dozen characters. */
	if (n < 8 || n > 100 || (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)))
		return store_errf(err, STORE_EINVAL, "eddystone-url: '%.60s' is not an http:// or "
				  "https:// URL of at most 100 characters", v);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
			return store_errf(err, STORE_EINVAL, "eddystone-url: spaces or control "
					  "characters in '%.60s'", v);
	snprintf(b->value, sizeof(b->value), "%s", v);
	return STORE_OK;
}

int store_beacon_parse(const char *type, const char *value, struct store_beacon *b, char *err)
{
	size_t t;

	memset(b->id, 0, sizeof(b->id));
	for (t = 0; t <= STORE_BEACON_TLM; t++)
		if (!strcmp(type, store_beacon_type_name((enum store_beacon_type)t)))
			break;
	if (t > STORE_BEACON_TLM)
		return store_errf(err, STORE_EINVAL, "unknown beacon type '%.40s' (ibeacon, "
				  "eddystone-uid, eddystone-ns, eddystone-url, tlm)", type);
	b->type = (enum store_beacon_type)t;
	switch (b->type) {
	case STORE_BEACON_IBEACON: return parse_ibeacon(value, b, err);
	case STORE_BEACON_UID: return parse_uid(value, b, false, err);
	case STORE_BEACON_NS: return parse_uid(value, b, true, err);
	case STORE_BEACON_URL: return parse_url(value, b, err);
	case STORE_BEACON_TLM: return parse_tlm(value, b, err);
	}
	return STORE_EINVAL;
}

static int add_tx(sqlite3 *db, const char *actor, const struct store_beacon *b, char *err)
{
	sqlite3_stmt *st;
	char subject[96], *after;
	cJSON *o;
	int rc;

	if (sqlite3_prepare_v2(db, SQL("INSERT INTO store_beacons (name, type, value, place, "
				       "added_at) VALUES (?, ?, ?, ?, ?)"), -1, &st, NULL) != SQLITE_OK)
		return store_sqlite_err(db, sqlite3_errcode(db), "beacon add", err);
	sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, store_beacon_type_name(b->type), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, b->place, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, store_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return store_errf(err, STORE_EEXIST, "a beacon named '%s' or sending %s %s is "
				  "already registered", b->name, store_beacon_type_name(b->type),
				  b->value);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, "beacon add", err);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", store_beacon_type_name(b->type));
	cJSON_AddStringToObject(o, "value", b->value);
	cJSON_AddStringToObject(o, "place", b->place);
	after = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	snprintf(subject, sizeof(subject), "beacon:%s", b->name);
	rc = store_audit_append(db, actor, "beacon.add", subject, 0, NULL, after, err);
	cJSON_free(after);
	return rc;
}

int store_beacon_add(sqlite3 *db, const char *actor, const char *name, const char *type,
		     const char *value, const char *place, char *err)
{
	struct store_beacon b = { 0 };
	int rc = store_name_check("beacon", name, err);

	if (rc)
		return rc;
	if (strlen(place) >= sizeof(b.place))
		return store_errf(err, STORE_EINVAL, "--place: longer than %zu characters",
				  sizeof(b.place) - 1);
	for (const char *p = place; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return store_errf(err, STORE_EINVAL, "--place: control characters");
	if ((rc = store_beacon_parse(type, value, &b, err)))
		return rc;
	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(b.place, sizeof(b.place), "%s", place);
	if ((rc = store_begin(db, err)))
		return rc;
	return store_tx_end(db, add_tx(db, actor, &b, err), err);
}

static int remove_tx(sqlite3 *db, const char *actor, const char *name, char *err)
{
	sqlite3_stmt *st;
	char subject[96];
	int rc;

	if (sqlite3_prepare_v2(db, SQL("DELETE FROM store_beacons WHERE name = ?"), -1, &st,
			       NULL) != SQLITE_OK)
		return store_sqlite_err(db, sqlite3_errcode(db), "beacon remove", err);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(db, rc, "beacon remove", err);
	if (sqlite3_changes(db) == 0)
		return store_errf(err, STORE_ENOENT, "no beacon '%s'", name);
	snprintf(subject, sizeof(subject), "beacon:%s", name);
	return store_audit_append(db, actor, "beacon.remove", subject, 0, NULL, NULL, err);
}

int store_beacon_remove(sqlite3 *db, const char *actor, const char *name, char *err)
{
	int rc = store_name_check("beacon", name, err);

	if (rc || (rc = store_begin(db, err)))
		return rc;
	return store_tx_end(db, remove_tx(db, actor, name, err), err);
}

static sqlite3_stmt *select_all(sqlite3 *db, char *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, SQL("SELECT name, type, value, place, added_at FROM "
					    "store_beacons ORDER BY name"), -1, &st, NULL);

	if (rc != SQLITE_OK) {
		store_sqlite_err(db, rc, "beacon list", err);
		return NULL;
	}
	return st;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

int store_beacon_list(sqlite3 *db, cJSON **out, char *err)
{
	sqlite3_stmt *st = select_all(db, err);
	char at[32];
	int rc;

	*out = NULL;
	if (!st)
		return STORE_EIO;
	*out = cJSON_CreateArray();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", col(st, 0));
		cJSON_AddStringToObject(o, "type", col(st, 1));
		cJSON_AddStringToObject(o, "value", col(st, 2));
		cJSON_AddStringToObject(o, "place", col(st, 3));
		store_time_format(sqlite3_column_int64(st, 4), at, sizeof(at));
		cJSON_AddStringToObject(o, "added_at", at);
		cJSON_AddItemToArray(*out, o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cJSON_Delete(*out);
		*out = NULL;
		return store_sqlite_err(db, rc, "beacon list", err);
	}
	return STORE_OK;
}

int store_beacon_load(sqlite3 *db, struct store_beacon **out, size_t *n, char *err)
{
	sqlite3_stmt *st = select_all(db, err);
	struct store_beacon *v = NULL, *nv;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return STORE_EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_beacon b = { 0 };
		char perr[STORE_ERRLEN];

		/* A row this version cannot read is skipped, not fatal. */
		if (store_beacon_parse(col(st, 1), col(st, 2), &b, perr))
			continue;
		snprintf(b.name, sizeof(b.name), "%s", col(st, 0));
		snprintf(b.place, sizeof(b.place), "%s", col(st, 3));
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				sqlite3_finalize(st);
				return store_errf(err, STORE_ENOMEM, "out of memory");
			}
			v = nv;
		}
		v[(*n)++] = b;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return store_sqlite_err(db, rc, "beacon load", err);
	}
	*out = v;
	return STORE_OK;
}
