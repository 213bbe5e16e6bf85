/*
 * store_ident.c - the identifier syntax shared by beaconctl, CSV import and
 * signed consent updates:
 *   ibeacon        UUID:MAJOR:MINOR            (UUID with or without dashes)
 *   eddystone-uid  NAMESPACE(20 hex):INSTANCE(12 hex)
 *   eddystone-eid  KEY(32 hex):K[:OFFSET]      (K 0..15, OFFSET signed seconds)
 *   irk            KEY(32 hex)
 *   altbeacon      COMPANY:BEACONID            (COMPANY decimal 0..65535 or 0xHEX --
 *                                               never octal; BEACONID 40 hex,
 *                                               dashes optional)
 * Canonical text is lowercase hex, the UUID with dashes, decimal numbers;
 * an AltBeacon as 0x and 4 hex digits of company id, a colon, 40 hex digits.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "bgw_util.h"

static const struct {
	const char *name;
	enum store_id_type type;
} id_types[] = {
	{ "ibeacon", STORE_ID_IBEACON },
	{ "eddystone-uid", STORE_ID_EDDYSTONE_UID },
	{ "eddystone-eid", STORE_ID_EDDYSTONE_EID },
	{ "irk", STORE_ID_IRK },
	{ "altbeacon", STORE_ID_ALTBEACON },
};

enum store_id_type store_id_type_parse(const char *s)
{
	for (size_t i = 0; i < BGW_ARRAY_SIZE(id_types); i++)
		if (strcmp(s, id_types[i].name) == 0)
			return id_types[i].type;
	return 0;
}

const char *store_id_type_name(enum store_id_type t)
{
	for (size_t i = 0; i < BGW_ARRAY_SIZE(id_types); i++)
		if (id_types[i].type == t)
			return id_types[i].name;
	return "?";
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (bgw_hex_nibble((unsigned char)s[i]) < 0)
			return false;
	return true;
}

static bool parse_u16(const char *s, size_t len, uint16_t *v)
{
	unsigned long x = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	if (x > 65535)
		return false;
	*v = (uint16_t)x;
	return true;
}

/* id->value from id->bytes: the one place the canonical text is made, for
 * what a user typed and for what the database stores (the bytes). */
static void canonical_text(struct store_identifier *id)
{
	const uint8_t *b = id->bytes;
	char hex[45];

	switch (id->type) {
	case STORE_ID_IBEACON:
		bgw_hex_encode(b, 16, hex);
		snprintf(id->value, sizeof(id->value), "%.8s-%.4s-%.4s-%.4s-%.12s:%u:%u", hex,
			 hex + 8, hex + 12, hex + 16, hex + 20, bgw_get_be16(b + 16),
			 bgw_get_be16(b + 18));
		break;
	case STORE_ID_EDDYSTONE_UID:
		bgw_hex_encode(b, 16, hex);
		snprintf(id->value, sizeof(id->value), "%.20s:%.12s", hex, hex + 20);
		break;
	case STORE_ID_EDDYSTONE_EID:
	case STORE_ID_IRK:
		bgw_hex_encode(b, 16, id->value);
		break;
	case STORE_ID_ALTBEACON:
		bgw_hex_encode(b + 2, 20, hex);
		snprintf(id->value, sizeof(id->value), "0x%04x:%s", bgw_get_be16(b), hex);
		break;
	}
}

static int parse_key(const char *s, size_t len, const char *what, uint8_t key[16], char *err)
{
	if (!all_hex(s, len))
		return store_errf(err, STORE_EINVAL, "%s key must be hexadecimal", what);
	if (len != 32)
		return store_errf(err, STORE_EINVAL,
				  "%s key must be 32 hex digits (16 bytes), got %zu", what, len);
	bgw_hex_decode(s, 32, key, 16, NULL);
	return STORE_OK;
}

static int parse_ibeacon(const char *t, struct store_identifier *id, char *err)
{
	const char *c1 = strchr(t, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char hex[33];
	size_t n = 0;
	uint16_t major, minor;

	if (!c1 || !c2 || strchr(c2 + 1, ':'))
		return store_errf(err, STORE_EINVAL, "ibeacon identifier must be UUID:MAJOR:MINOR");
	for (const char *p = t; p < c1; p++) {
		if (*p == '-')
			continue;
		if (n == 32 || bgw_hex_nibble((unsigned char)*p) < 0)
			return store_errf(err, STORE_EINVAL,
					  "ibeacon UUID must be 32 hex digits (dashes optional)");
		hex[n++] = *p;
	}
	if (n != 32)
		return store_errf(err, STORE_EINVAL, "ibeacon UUID must be 32 hex digits, got %zu",
				  n);
	/* Dashes, when present, must be where a UUID has them. */
	if ((size_t)(c1 - t) != 32) {
		static const int dash_at[] = { 8, 13, 18, 23 };

		if (c1 - t != 36)
			return store_errf(err, STORE_EINVAL,
					  "ibeacon UUID must be 8-4-4-4-12 hex digits");
		for (int i = 0; i < 4; i++)
			if (t[dash_at[i]] != '-')
				return store_errf(err, STORE_EINVAL,
						  "ibeacon UUID must be 8-4-4-4-12 hex digits");
	}
	if (!parse_u16(c1 + 1, (size_t)(c2 - c1 - 1), &major))
		return store_errf(err, STORE_EINVAL, "ibeacon MAJOR must be a number 0..65535");
	if (!parse_u16(c2 + 1, strlen(c2 + 1), &minor))
		return store_errf(err, STORE_EINVAL, "ibeacon MINOR must be a number 0..65535");
	bgw_hex_decode(hex, 32, id->bytes, 16, NULL);
	id->bytes[16] = (uint8_t)(major >> 8);
	id->bytes[17] = (uint8_t)major;
	id->bytes[18] = (uint8_t)(minor >> 8);
	id->bytes[19] = (uint8_t)minor;
	id->n_bytes = 20;
	canonical_text(id);
	return STORE_OK;
}

static int parse_uid(const char *t, struct store_identifier *id, char *err)
{
	const char *c = strchr(t, ':');
	size_t nl, il;

	if (!c)
		return store_errf(err, STORE_EINVAL,
				  "eddystone-uid identifier must be NAMESPACE:INSTANCE");
	nl = (size_t)(c - t);
	il = strlen(c + 1);
	if (nl != 20 || !all_hex(t, nl))
		return store_errf(err, STORE_EINVAL,
				  "eddystone-uid NAMESPACE must be 20 hex digits (10 bytes)");
	if (il != 12 || !all_hex(c + 1, il))
		return store_errf(err, STORE_EINVAL,
				  "eddystone-uid INSTANCE must be 12 hex digits (6 bytes)");
	bgw_hex_decode(t, 20, id->bytes, 10, NULL);
	bgw_hex_decode(c + 1, 12, id->bytes + 10, 6, NULL);
	id->n_bytes = 16;
	canonical_text(id);
	return STORE_OK;
}

static int parse_eid(const char *t, struct store_identifier *id, char *err)
{
	const char *c1 = strchr(t, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char *end;
	long k;
	long long off = 0;
	int rc;

	if (!c1)
		return store_errf(err, STORE_EINVAL,
				  "eddystone-eid identifier must be KEY:K[:OFFSET]");
	rc = parse_key(t, (size_t)(c1 - t), "eddystone-eid", id->bytes, err);
	if (rc)
		return rc;
	errno = 0;
	k = strtol(c1 + 1, &end, 10);
	if (end == c1 + 1 || (c2 ? end != c2 : *end != '\0') || errno || !isdigit((unsigned char)c1[1]))
		return store_errf(err, STORE_EINVAL, "eddystone-eid K must be a number 0..15");
	if (k < 0 || k > 15)
		return store_errf(err, STORE_EINVAL,
				  "eddystone-eid rotation exponent K=%ld is out of range 0..15", k);
	if (c2) {
		const char *o = c2 + 1;

		errno = 0;
		off = strtoll(o, &end, 10);
		if (end == o || *end || errno || !(isdigit((unsigned char)*o) || *o == '-' || *o == '+'))
			return store_errf(err, STORE_EINVAL,
					  "eddystone-eid OFFSET must be a signed number of seconds");
		/* Plausibility: a tag clock more than ~136 years off is a typo. */
		if (off > 4294967295LL || off < -4294967295LL)
			return store_errf(err, STORE_EINVAL, "eddystone-eid OFFSET is out of range");
	}
	id->n_bytes = 16;
	id->exponent = (uint8_t)k;
	id->clock_offset = off;
	canonical_text(id);
	return STORE_OK;
}

static int parse_irk(const char *t, struct store_identifier *id, char *err)
{
	int rc = parse_key(t, strlen(t), "irk", id->bytes, err);

	if (rc)
		return rc;
	id->n_bytes = 16;
	canonical_text(id);
	return STORE_OK;
}

/* The company id: decimal, or hexadecimal after 0x. A leading zero is just
 * a zero (company ids are often written 0118 for 0x0118's decimal 280: we do
 * not guess, decimal is decimal). */
static bool parse_company(const char *s, size_t len, uint16_t *v)
{
	unsigned long x = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (len > 6)
			return false;
		for (size_t i = 2; i < len; i++) {
			int d = bgw_hex_nibble((unsigned char)s[i]);

			if (d < 0)
				return false;
			x = x * 16 + (unsigned long)d;
		}
		*v = (uint16_t)x;
		return true;
	}
	return parse_u16(s, len, v);
}

static int parse_altbeacon(const char *t, struct store_identifier *id, char *err)
{
	const char *c = strchr(t, ':');
	char hex[41];
	size_t n = 0;
	uint16_t company;

	if (!c || strchr(c + 1, ':'))
		return store_errf(err, STORE_EINVAL, "altbeacon identifier must be COMPANY:BEACONID");
	if (!parse_company(t, (size_t)(c - t), &company))
		return store_errf(err, STORE_EINVAL,
				  "altbeacon COMPANY must be a number 0..65535 or 0x0000..0xffff");
	for (const char *p = c + 1; *p; p++) {
		if (*p == '-')
			continue;
		if (n == 40 || bgw_hex_nibble((unsigned char)*p) < 0)
			return store_errf(err, STORE_EINVAL,
					  "altbeacon BEACONID must be 40 hex digits (20 bytes, dashes "
					  "optional)");
		hex[n++] = *p;
	}
	if (n != 40)
		return store_errf(err, STORE_EINVAL,
				  "altbeacon BEACONID must be 40 hex digits (20 bytes), got %zu", n);
	id->bytes[0] = (uint8_t)(company >> 8);
	id->bytes[1] = (uint8_t)company;
	bgw_hex_decode(hex, 40, id->bytes + 2, 20, NULL);
	id->n_bytes = 22;
	canonical_text(id);
	return STORE_OK;
}

int store_identifier_parse(enum store_id_type type, const char *text,
			   struct store_identifier *id, char *err)
{
	memset(id, 0, sizeof(*id));
	id->type = type;
	if (!text || !*text)
		return store_errf(err, STORE_EINVAL, "empty identifier value");
	if (strlen(text) > 100)
		return store_errf(err, STORE_EINVAL, "identifier value is too long");
	switch (type) {
	case STORE_ID_IBEACON:
		return parse_ibeacon(text, id, err);
	case STORE_ID_EDDYSTONE_UID:
		return parse_uid(text, id, err);
	case STORE_ID_EDDYSTONE_EID:
		return parse_eid(text, id, err);
	case STORE_ID_IRK:
		return parse_irk(text, id, err);
	case STORE_ID_ALTBEACON:
		return parse_altbeacon(text, id, err);
	}
	return store_errf(err, STORE_EINVAL,
			  "unknown identifier type (use ibeacon, eddystone-uid, eddystone-eid, irk "
			  "or altbeacon)");
}

int store_identifier_parse_pair(const char *text, struct store_identifier *id, char *err)
{
	const char *sp = strchr(text, ' ');
	char type[16];
	size_t n;
	enum store_id_type t;

	if (!sp)
		return store_errf(err, STORE_EINVAL, "identifier must be 'TYPE VALUE'");
	n = (size_t)(sp - text);
	if (n >= sizeof(type))
		n = sizeof(type) - 1;
	memcpy(type, text, n);
	type[n] = '\0';
	t = store_id_type_parse(type);
	if (!t)
		return store_errf(err, STORE_EINVAL,
				  "unknown identifier type '%s' (use ibeacon, eddystone-uid, "
				  "eddystone-eid, irk or altbeacon)", type);
	return store_identifier_parse(t, sp + 1, id, err);
}

void store_identifier_format(const struct store_identifier *id, char *buf, size_t n)
{
	if (id->type == STORE_ID_EDDYSTONE_EID)
		snprintf(buf, n, "%s %s:%u:%lld", store_id_type_name(id->type), id->value,
			 id->exponent, (long long)id->clock_offset);
	else
		snprintf(buf, n, "%s %s", store_id_type_name(id->type), id->value);
}

/* The stored length of each type's value (see store_identifier_from_stored). */
static size_t stored_len(enum store_id_type t)
{
	switch (t) {
	case STORE_ID_IBEACON:
		return 20;
	case STORE_ID_ALTBEACON:
		return 22;
	case STORE_ID_EDDYSTONE_UID:
	case STORE_ID_EDDYSTONE_EID:
	case STORE_ID_IRK:
		return 16;
	}
	return 0;
}

int store_identifier_from_stored(int type, const void *bytes, int n, struct store_identifier *id)
{
	memset(id, 0, sizeof(*id));
	if (type < STORE_ID_IBEACON || type > STORE_ID_ALTBEACON || !bytes || n < 0 ||
	    (size_t)n != stored_len((enum store_id_type)type))
		return STORE_EINVAL;
	id->type = (enum store_id_type)type;
	memcpy(id->bytes, bytes, (size_t)n);
	id->n_bytes = (size_t)n;
	canonical_text(id);
	return STORE_OK;
}

int store_column_identifier(sqlite3_stmt *st, int col, struct store_identifier *id)
{
	return store_identifier_from_stored(sqlite3_column_int(st, col),
					    sqlite3_column_blob(st, col + 1),
					    sqlite3_column_bytes(st, col + 1), id);
}

void store_bind_identifier(sqlite3_stmt *st, int col, const struct store_identifier *id)
{
	sqlite3_bind_int(st, col, (int)id->type);
	sqlite3_bind_blob(st, col + 1, id->bytes, (int)id->n_bytes, SQLITE_TRANSIENT);
}

/* bgw_identifier_stored(type text, value text): the stored bytes of a
 * schema v8 row, for the v9 migration; NULL (the NOT NULL constraint then
 * stops the migration) for text that does not parse. */
static void identifier_stored_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *type = (const char *)sqlite3_value_text(argv[0]);
	const char *value = (const char *)sqlite3_value_text(argv[1]);
	struct store_identifier id;
	enum store_id_type t = type ? store_id_type_parse(type) : 0;

	(void)argc;
	/* The v8 value of an Eddystone-EID is the key alone (its K and offset
	 * were columns of their own): the syntax of an IRK. */
	if (t == STORE_ID_EDDYSTONE_EID)
		t = STORE_ID_IRK;
	if (t && value && store_identifier_parse(t, value, &id, NULL) == STORE_OK)
		sqlite3_result_blob(ctx, id.bytes, (int)id.n_bytes, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
}

int store_identifier_sql_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "bgw_identifier_stored", 2,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
				       identifier_stored_fn, NULL, NULL);
}
