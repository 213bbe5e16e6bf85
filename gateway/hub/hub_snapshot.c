/*
 * hub_snapshot.c - build a signed, chunked snapshot of the authority's
 * consent state (hub_snapshot.h).
 */
#include "hub_snapshot.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgw_clock.h"
#include "bgw_util.h"
#include "fleet_msg.h"
#include "fleet_state.h"
#include "hub.h"

void hub_snapshot_free(struct hub_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s);
}

/* Items are kept as compact JSON text, comma-joined per chunk: a parsed
 * tree of the whole state would take several times the memory. */
struct part {
	char *text;
	size_t len, cap;
};

struct builder {
	struct part *parts;
	size_t n, cap;
	size_t chunk_bytes;
	uint64_t items;
};

static int append(struct part *p, const char *s, size_t n)
{
	if (p->len + n + 2 > p->cap) {
		size_t cap = (p->len + n + 2) * 2;
		char *t = realloc(p->text, cap);

		if (!t)
			return -1;
		p->text = t;
		p->cap = cap;
	}
	if (p->len)
		p->text[p->len++] = ',';
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->text[p->len] = '\0';
	return 0;
}

static int add_item(struct builder *b, cJSON *item)
{
	char *text = cJSON_PrintUnformatted(item);
	size_t len = text ? strlen(text) : 0;
	int rc = -1;

	cJSON_Delete(item);
	if (!text)
		return -1;
	if (!b->n || (b->parts[b->n - 1].len && b->parts[b->n - 1].len + len + 1 > b->chunk_bytes)) {
		if (b->n == b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 64;
			struct part *np = realloc(b->parts, cap * sizeof(*np));

			if (!np)
				goto out;
			b->parts = np;
			b->cap = cap;
		}
		b->parts[b->n++] = (struct part){ 0 };
	}
	rc = append(&b->parts[b->n - 1], text, len);
	if (!rc)
		b->items++;
out:
	cJSON_free(text);
	return rc;
}

static int read_all(struct hub_auth *a, struct builder *b, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;
	bool gone;

	if (sqlite3_prepare_v2(a->db, "SELECT id, NULL FROM customers UNION ALL "
			       "SELECT NULL, name FROM campaigns", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "snapshot: %s", sqlite3_errmsg(a->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *item;

		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			item = fleet_reader_customer(a->reader, sqlite3_column_int64(st, 0), &gone,
						     err, errlen);
		else
			item = fleet_reader_campaign(a->reader,
						     (const char *)sqlite3_column_text(st, 1),
						     &gone, err, errlen);
		if (!item) {
			sqlite3_finalize(st);
			return -1;
		}
		if (add_item(b, item)) {
			sqlite3_finalize(st);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "snapshot: %s", sqlite3_errmsg(a->db));
		return -1;
	}
	/* An empty authority is a state too: one chunk without items. */
	if (!b->n) {
		b->parts = calloc(1, sizeof(*b->parts));
		if (!b->parts) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		b->n = b->cap = 1;
	}
	return 0;
}

struct hub_snapshot *hub_snapshot_build(struct hub_auth *a, int64_t seq, size_t chunk_bytes,
					char *err, size_t errlen)
{
	struct builder b = { .chunk_bytes = chunk_bytes };
	struct hub_snapshot *s = calloc(1, sizeof(*s));
	int64_t now = hub_now_s();
	uint8_t r[8];
	int rc = -1;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	arc4random_buf(r, sizeof(r));
	bgw_hex_encode(r, sizeof(r), s->id);
	snprintf(s->key, sizeof(s->key), "%s", a->fpr);
	s->seq = seq;
	s->built_us = bgw_mono_us();
	/* One read transaction: every chunk shows the same moment. */
	if (sqlite3_exec(a->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "snapshot: %s", sqlite3_errmsg(a->db));
		goto out;
	}
	rc = read_all(a, &b, err, errlen);
	sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
	if (rc)
		goto out;
	rc = -1;
	s->chunks = calloc(b.n, sizeof(*s->chunks));
	if (!s->chunks) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		size_t len = b.parts[i].len + 128;
		char *text = malloc(len);
		cJSON *p;

		if (!text) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		snprintf(text, len, "{\"snap\":\"%s\",\"chunk\":%zu,\"chunks\":%zu,\"items\":[%s]}",
			 s->id, i, b.n, b.parts[i].text ? b.parts[i].text : "");
		/* Each chunk's text goes as soon as it is signed. */
		free(b.parts[i].text);
		b.parts[i] = (struct part){ 0 };
		p = cJSON_Parse(text);
		free(text);
		if (!p) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		s->chunks[i] = fleet_msg_sign(a->key, a->fpr, a->fleet, FLEET_SNAPSHOT, seq, now, p,
					      err, errlen);
		cJSON_Delete(p);
		if (!s->chunks[i])
			goto out;
		s->n++;
		s->bytes += strlen(s->chunks[i]);
	}
	s->items = b.items;
	rc = 0;
out:
	for (size_t i = 0; i < b.n; i++)
		free(b.parts[i].text);
	free(b.parts);
	if (rc) {
		hub_snapshot_free(s);
		return NULL;
	}
	return s;
}
