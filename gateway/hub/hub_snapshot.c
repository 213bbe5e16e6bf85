/*
 * hub_snapshot.c - a signed, chunked snapshot of the authority's consent
 * state, streamed from a read transaction (hub_snapshot.h).
 *
 * Items are customers by id, then campaigns by id. A chunk starts at a
 * position (phase, id); the build walks every item once, measuring its JSON
 * text, to fix where each chunk starts, so that "chunks" is known for the
 * first one sent. Sending chunk i walks from its start to the next one's.
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
#include "store.h"

enum { PH_CUSTOMERS, PH_CAMPAIGNS, PH_END };

struct pos {
	int phase;
	int64_t id;
};

struct hub_snapshot_src {
	sqlite3 *db;                  /* read-only, in a read transaction */
	struct fleet_reader *reader;
	sqlite3_stmt *walk[PH_END];
	struct pos *starts;           /* n + 1: the last is the end */
	size_t cap;
	size_t chunk_bytes;
	char *cached;                 /* the last chunk signed */
	size_t cached_i;
};

static const char *const walk_sql[PH_END] = {
	[PH_CUSTOMERS] = "SELECT id, NULL FROM customers WHERE id >= ? ORDER BY id",
	[PH_CAMPAIGNS] = "SELECT id, name FROM campaigns WHERE id >= ? ORDER BY id",
};

void hub_snapshot_free(struct hub_snapshot *s)
{
	struct hub_snapshot_src *src;

	if (!s)
		return;
	if ((src = s->src)) {
		for (int i = 0; i < PH_END; i++)
			sqlite3_finalize(src->walk[i]);
		fleet_reader_free(src->reader);
		if (src->db) {
			sqlite3_exec(src->db, "COMMIT", NULL, NULL, NULL);
			store_close(src->db);
		}
		free(src->starts);
		free(src->cached);
		free(src);
	}
	free(s);
}

/* Called with each item's text; a negative return stops the walk. */
typedef int (*item_fn)(void *ctx, struct pos at, const char *text, size_t len);

static bool before(struct pos a, struct pos b)
{
	return a.phase < b.phase || (a.phase == b.phase && a.id < b.id);
}

/* Every item from `from` up to, not including, `to`. */
static int walk(struct hub_snapshot_src *src, struct pos from, struct pos to, item_fn fn,
		void *ctx, char *err, size_t errlen)
{
	for (int ph = from.phase; ph < PH_END && ph <= to.phase; ph++) {
		sqlite3_stmt *st = src->walk[ph];
		int rc;

		sqlite3_bind_int64(st, 1, ph == from.phase ? from.id : INT64_MIN);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct pos at = { ph, sqlite3_column_int64(st, 0) };
			cJSON *item;
			char *text;
			bool gone;
			int frc;

			if (!before(at, to))
				break;
			item = ph == PH_CUSTOMERS ?
				fleet_reader_customer(src->reader, at.id, &gone, err, errlen) :
				fleet_reader_campaign(src->reader,
						      (const char *)sqlite3_column_text(st, 1),
						      &gone, err, errlen);
			if (!item) {
				sqlite3_reset(st);
				return -1;
			}
			text = cJSON_PrintUnformatted(item);
			cJSON_Delete(item);
			if (!text) {
				sqlite3_reset(st);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			frc = fn(ctx, at, text, strlen(text));
			cJSON_free(text);
			if (frc < 0) {
				sqlite3_reset(st);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			snprintf(err, errlen, "snapshot: %s", sqlite3_errmsg(src->db));
			return -1;
		}
	}
	return 0;
}

struct measure {
	struct hub_snapshot *s;
	size_t len;                   /* of the chunk being filled */
};

static int measure_item(void *ctx, struct pos at, const char *text, size_t len)
{
	struct measure *m = ctx;
	struct hub_snapshot_src *src = m->s->src;

	(void)text;
	/* A new chunk when this item would not fit (an item never waits alone). */
	if (m->len && m->len + len + 1 > src->chunk_bytes) {
		if (m->s->n + 2 > src->cap) {
			size_t cap = src->cap * 2;
			struct pos *p = realloc(src->starts, cap * sizeof(*p));

			if (!p)
				return -1;
			src->starts = p;
			src->cap = cap;
		}
		src->starts[m->s->n++] = at;
		m->len = 0;
	}
	m->len += len + (m->len ? 1 : 0);
	m->s->items++;
	m->s->item_bytes += len;
	return 0;
}

struct buf {
	char *text;
	size_t len, cap;
};

static int append(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *t = realloc(b->text, cap);

		if (!t)
			return -1;
		b->text = t;
		b->cap = cap;
	}
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = '\0';
	return 0;
}

static int collect_item(void *ctx, struct pos at, const char *text, size_t len)
{
	struct buf *b = ctx;

	(void)at;
	if (b->text && b->text[b->len - 1] != '[' && append(b, ",", 1))
		return -1;
	return append(b, text, len);
}

static int open_src(struct hub_snapshot *s, struct hub_auth *a, size_t chunk_bytes, char *err,
		    size_t errlen)
{
	struct hub_snapshot_src *src = calloc(1, sizeof(*src));
	const char *path = sqlite3_db_filename(a->db, "main");
	char serr[STORE_ERRLEN];

	if (!src) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->src = src;
	src->chunk_bytes = chunk_bytes;
	src->cached_i = SIZE_MAX;
	if (!path || !path[0] || store_open(path, STORE_OPEN_READONLY, &src->db, serr)) {
		snprintf(err, errlen, "snapshot: %s", path && path[0] ? serr : "no database file");
		return -1;
	}
	/* The read transaction starts with the first read and holds that moment. */
	if (sqlite3_exec(src->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto sqlerr;
	for (int i = 0; i < PH_END; i++)
		if (sqlite3_prepare_v3(src->db, walk_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &src->walk[i], NULL) != SQLITE_OK)
			goto sqlerr;
	src->reader = fleet_reader_new(src->db, err, errlen);
	if (!src->reader)
		return -1;
	src->cap = 64;
	src->starts = malloc(src->cap * sizeof(*src->starts));
	if (!src->starts) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
sqlerr:
	snprintf(err, errlen, "snapshot: %s", sqlite3_errmsg(src->db));
	return -1;
}

struct hub_snapshot *hub_snapshot_build(struct hub_auth *a, int64_t seq, size_t chunk_bytes,
					char *err, size_t errlen)
{
	struct hub_snapshot *s = calloc(1, sizeof(*s));
	struct measure m = { .s = s };
	uint8_t r[8];

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	arc4random_buf(r, sizeof(r));
	bgw_hex_encode(r, sizeof(r), s->id);
	snprintf(s->key, sizeof(s->key), "%s", a->fpr);
	s->seq = seq;
	s->issued_at = hub_now_s();
	s->built_us = s->used_us = bgw_mono_us();
	if (open_src(s, a, chunk_bytes, err, errlen))
		goto fail;
	/* An empty authority is a state too: one chunk without items. */
	s->src->starts[0] = (struct pos){ PH_CUSTOMERS, INT64_MIN };
	s->n = 1;
	if (walk(s->src, s->src->starts[0], (struct pos){ PH_END, 0 }, measure_item, &m, err,
		 errlen))
		goto fail;
	s->src->starts[s->n] = (struct pos){ PH_END, 0 };
	return s;
fail:
	hub_snapshot_free(s);
	return NULL;
}

const char *hub_snapshot_chunk(struct hub_snapshot *s, struct hub_auth *a, size_t i, char *err,
			       size_t errlen)
{
	struct hub_snapshot_src *src = s->src;
	struct buf b = { 0 };
	char head[160];
	cJSON *p;

	if (i >= s->n) {
		snprintf(err, errlen, "no chunk %zu of %zu", i, s->n);
		return NULL;
	}
	if (src->cached && src->cached_i == i)
		return src->cached;
	snprintf(head, sizeof(head), "{\"snap\":\"%s\",\"chunk\":%zu,\"chunks\":%zu,\"items\":[",
		 s->id, i, s->n);
	if (append(&b, head, strlen(head)) ||
	    walk(src, src->starts[i], src->starts[i + 1], collect_item, &b, err, errlen) ||
	    append(&b, "]}", 2)) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		free(b.text);
		return NULL;
	}
	p = cJSON_Parse(b.text);
	free(b.text);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	free(src->cached);
	src->cached = fleet_msg_sign(a->key, a->fpr, a->fleet, FLEET_SNAPSHOT, s->seq,
				     s->issued_at, p, err, errlen);
	cJSON_Delete(p);
	src->cached_i = src->cached ? i : SIZE_MAX;
	return src->cached;
}
