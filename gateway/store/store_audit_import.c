/*
 * store_audit_import.c - the compact audit entry of a customer made by a CSV
 * import (schema v7).
 *
 * An import writes one audit_bulk row (time, actor) and per new customer one
 * audit_import row: its id in the audit's id sequence and a few bytes saying
 * what arrived. Readers turn it back into the 'customer.import' entry the
 * log always showed: {"created_at", "identifiers": [{"type",
 * "fingerprint"}], "consents": [{"purpose", "channels", "expires_at"?}],
 * "segments": [names]}.
 *
 * detail: a format byte, then records in the order they arrived. Format 2,
 * the one written, puts each record's kind and small fields in its first
 * byte (about 5 bytes a customer fewer than format 1):
 *   0x10|type fingerprint[4]                (enum store_id_type, 4 bytes of hex)
 *   0x20|purpose|2*has_expiry len channels [expires_at: varint]
 *   0x30 len name                            (a segment)
 * Format 1, written by schema v7 to v9 and still read:
 *   'I' type fingerprint[4]
 *   'C' purpose flags len channels [expires_at: 8 bytes LE if flags & 1]
 *   'S' len name
 * Lengths are LEB128 varints. Ids come from the audit table's own
 * AUTOINCREMENT sequence (sqlite_sequence), so that rows of the audit table
 * written during the same import (an --update's changes, the summary row)
 * keep one increasing order with them. Writing the sequence back for every
 * customer cost a 1 M-row import several times its system time, so the ids
 * are counted here and written back (store_audit_import_sync()) only before
 * anything else appends to the log.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "bgw_util.h"

#define DETAIL_FORMAT 2
#define REC_IDENTIFIER 0x10
#define REC_CONSENT 0x20
#define REC_SEGMENT 0x30
#define REC_KIND 0xf0
#define CONSENT_EXPIRES 0x2
/* Format 1's records. */
#define TAG_IDENTIFIER 'I'
#define TAG_CONSENT 'C'
#define TAG_SEGMENT 'S'

static int grow(struct store_audit_detail *d, size_t more)
{
	uint8_t *p;
	size_t cap;

	if (d->len + more <= d->cap)
		return 0;
	cap = d->cap ? d->cap : 64;
	while (cap < d->len + more)
		cap *= 2;
	if (!(p = realloc(d->buf, cap))) {
		d->failed = true;
		return -1;
	}
	d->buf = p;
	d->cap = cap;
	return 0;
}

static void put(struct store_audit_detail *d, const void *p, size_t n)
{
	if (d->failed || grow(d, n))
		return;
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

static void put_byte(struct store_audit_detail *d, uint8_t b)
{
	put(d, &b, 1);
}

static void put_varint(struct store_audit_detail *d, uint64_t v)
{
	do {
		put_byte(d, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void put_text(struct store_audit_detail *d, const char *s)
{
	size_t n = strlen(s);

	put_varint(d, n);
	put(d, s, n);
}

void store_audit_detail_reset(struct store_audit_detail *d)
{
	d->len = 0;
	d->failed = false;
	put_byte(d, DETAIL_FORMAT);
}

void store_audit_detail_free(struct store_audit_detail *d)
{
	free(d->buf);
	memset(d, 0, sizeof(*d));
}

int store_audit_detail_identifier(struct store_audit_detail *d, enum store_id_type type,
				  const char fingerprint[9])
{
	uint8_t fp[4];

	if (!bgw_hex_decode(fingerprint, 8, fp, sizeof(fp), NULL))
		return -1;
	put_byte(d, (uint8_t)(REC_IDENTIFIER | ((unsigned)type & 0x0f)));
	put(d, fp, sizeof(fp));
	return d->failed ? -1 : 0;
}

int store_audit_detail_consent(struct store_audit_detail *d, enum store_purpose purpose,
			       const char *channels, int64_t expires_at)
{
	put_byte(d, (uint8_t)(REC_CONSENT | ((unsigned)purpose & 1) |
			      (expires_at ? CONSENT_EXPIRES : 0)));
	put_text(d, channels);
	if (expires_at)
		put_varint(d, (uint64_t)expires_at);
	return d->failed ? -1 : 0;
}

int store_audit_detail_segment(struct store_audit_detail *d, const char *name)
{
	put_byte(d, REC_SEGMENT);
	put_text(d, name);
	return d->failed ? -1 : 0;
}

static int bulk_begin(sqlite3 *db, struct store_audit_import *ai, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("INSERT INTO audit_bulk (at, actor) VALUES (?, ?)"),
				      err);
	int rc;

	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, ai->at);
	sqlite3_bind_text(st, 2, ai->actor && *ai->actor ? ai->actor : "unknown", -1,
			  SQLITE_STATIC);
	if ((rc = store_exec_stmt(db, st, "audit", err)))
		return rc;
	ai->bulk = sqlite3_last_insert_rowid(db);
	return STORE_OK;
}

/* The next id the audit's AUTOINCREMENT would hand out. */
static int seq_read(sqlite3 *db, struct store_audit_import *ai, char *err)
{
	sqlite3_stmt *st = store_stmt(db, SQL("SELECT seq FROM sqlite_sequence "
					      "WHERE name = 'audit'"), err);
	int rc;

	if (!st)
		return STORE_EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ai->next = sqlite3_column_int64(st, 0) + 1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return store_errf(err, STORE_ESCHEMA, "no audit sequence (schema older than v7?)");
	return rc == SQLITE_ROW ? STORE_OK : store_sqlite_err(db, rc, "audit", err);
}

int store_audit_import_sync(sqlite3 *db, struct store_audit_import *ai, char *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!ai->next)
		return STORE_OK;
	st = store_stmt(db, SQL("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit'"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, ai->next - 1);
	rc = store_exec_stmt(db, st, "audit", err);
	ai->next = 0; /* whoever writes next moves the sequence: read it again */
	return rc;
}

int store_audit_import_row(sqlite3 *db, struct store_audit_import *ai, int64_t customer_id,
			   const struct store_audit_detail *d, char *err)
{
	sqlite3_stmt *st;
	int rc;

	if (d->failed)
		return store_errf(err, STORE_ENOMEM, "out of memory");
	if (!ai->bulk && (rc = bulk_begin(db, ai, err)))
		return rc;
	if (!ai->next && (rc = seq_read(db, ai, err)))
		return rc;
	st = store_stmt(db, SQL("INSERT INTO audit_import (customer_id, id, bulk, detail) "
				"VALUES (?, ?, ?, ?)"), err);
	if (!st)
		return STORE_EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_int64(st, 2, ai->next);
	sqlite3_bind_int64(st, 3, ai->bulk);
	sqlite3_bind_blob(st, 4, d->buf, (int)d->len, SQLITE_STATIC);
	if ((rc = store_exec_stmt(db, st, "audit", err)))
		return rc;
	ai->next++;
	return STORE_OK;
}

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint8_t get_byte(struct reader *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

static uint64_t get_varint(struct reader *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b = get_byte(r);

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

/* A copy of the next varint-length text, or NULL (r->bad set) when it does not fit. */
static char *get_text(struct reader *r)
{
	uint64_t n = get_varint(r);
	char *s;

	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	if (!(s = malloc(n + 1))) {
		r->bad = true;
		return NULL;
	}
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	return s;
}

static void add_identifier(struct reader *r, uint8_t type, cJSON *arr)
{
	char fp[9];
	cJSON *o;

	if (r->bad || r->end - r->p < 4) {
		r->bad = true;
		return;
	}
	bgw_hex_encode(r->p, 4, fp);
	r->p += 4;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", store_id_type_name((enum store_id_type)type));
	cJSON_AddStringToObject(o, "fingerprint", fp);
	cJSON_AddItemToArray(arr, o);
}

/* Format 1 gives the expiry as 8 bytes, format 2 as a varint. */
static void add_consent(struct reader *r, uint8_t purpose, bool expires, bool fixed, cJSON *arr)
{
	char *channels = get_text(r);
	int64_t expires_at = 0;
	cJSON *o;

	if (!channels)
		return;
	if (expires && fixed) {
		uint64_t v = 0;

		for (int i = 0; i < 8; i++)
			v |= (uint64_t)get_byte(r) << (8 * i);
		expires_at = (int64_t)v;
	} else if (expires) {
		expires_at = (int64_t)get_varint(r);
	}
	if (r->bad) {
		free(channels);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "purpose", store_purpose_name((enum store_purpose)purpose));
	cJSON_AddStringToObject(o, "channels", channels);
	if (expires_at)
		cJSON_AddNumberToObject(o, "expires_at", (double)expires_at);
	cJSON_AddItemToArray(arr, o);
	free(channels);
}

cJSON *store_audit_detail_json(const void *detail, size_t n, int64_t created_at)
{
	struct reader r = { .p = detail, .end = (const uint8_t *)detail + n };
	cJSON *doc, *ids, *consents, *segments;

	uint8_t format = get_byte(&r);

	if (format != 1 && format != DETAIL_FORMAT)
		return cJSON_CreateNull();
	doc = cJSON_CreateObject();
	cJSON_AddNumberToObject(doc, "created_at", (double)created_at);
	ids = cJSON_AddArrayToObject(doc, "identifiers");
	consents = cJSON_AddArrayToObject(doc, "consents");
	segments = cJSON_AddArrayToObject(doc, "segments");
	while (!r.bad && r.p < r.end) {
		uint8_t tag = get_byte(&r), kind = format == 1 ? 0 : tag & REC_KIND;
		char *name;

		if (format == 1 && tag == TAG_IDENTIFIER) {
			add_identifier(&r, get_byte(&r), ids);
		} else if (kind == REC_IDENTIFIER) {
			add_identifier(&r, tag & 0x0f, ids);
		} else if (format == 1 && tag == TAG_CONSENT) {
			uint8_t purpose = get_byte(&r);

			add_consent(&r, purpose, get_byte(&r) & 1, true, consents);
		} else if (kind == REC_CONSENT) {
			add_consent(&r, tag & 1, tag & CONSENT_EXPIRES, false, consents);
		} else if ((format == 1 && tag == TAG_SEGMENT) || kind == REC_SEGMENT) {
			if ((name = get_text(&r)))
				cJSON_AddItemToArray(segments, cJSON_CreateString(name));
			free(name);
		} else {
			r.bad = true;
		}
	}
	if (r.bad) {
		cJSON_Delete(doc);
		return cJSON_CreateNull();
	}
	return doc;
}
