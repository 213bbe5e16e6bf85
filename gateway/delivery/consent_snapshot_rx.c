/*
 * consent_snapshot_rx.c - collect a hub snapshot chunk by chunk (each one
 * verified by the caller) into a staging table and, once all are in, make
 * the store equal to it in one transaction: nothing is replaced before the
 * whole snapshot is here and verified.
 *
 * The staging table is a TEMP table of the daemon's connection: its pages
 * live in a temporary file beyond SQLite's page cache, so a snapshot of a
 * million customers costs the gateway one chunk of memory, not the whole
 * state; it goes with the connection (a restarted gateway asks again).
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_head.h"
#include "fleet_state.h"
#include "store.h"

/* A bound on what one snapshot may claim: 2^20 chunks of a few KiB. */
#define SNAP_CHUNKS_MAX (1u << 20)

struct snapshot_rx {
	sqlite3 *db;
	bool staged;                 /* the staging table exists */
	struct fleet_header h;
	char id[40];
	uint32_t chunks, have;
	uint8_t *got;                /* a bit per chunk: in the staging table */
};

static int exec(sqlite3 *db, const char *sql, char *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return STORE_OK;
	snprintf(err, STORE_ERRLEN, "snapshot: %s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return STORE_EIO;
}

struct snapshot_rx *snapshot_rx_new(sqlite3 *db)
{
	struct snapshot_rx *sx = calloc(1, sizeof(struct snapshot_rx));

	if (sx)
		sx->db = db;
	return sx;
}

static bool got(const struct snapshot_rx *sx, uint32_t i)
{
	return sx->got[i / 8] & (1u << (i % 8));
}

void snapshot_rx_clear(struct snapshot_rx *sx)
{
	sqlite3 *db = sx->db;
	bool staged = sx->staged;
	char err[STORE_ERRLEN];

	if (staged && sx->have)
		exec(db, "DELETE FROM temp.fleet_snapshot_rx", err);
	free(sx->got);
	memset(sx, 0, sizeof(*sx));
	sx->db = db;
	sx->staged = staged;
}

void snapshot_rx_free(struct snapshot_rx *sx)
{
	if (!sx)
		return;
	snapshot_rx_clear(sx);
	free(sx);
}

const struct fleet_header *snapshot_rx_header(const struct snapshot_rx *sx)
{
	return &sx->h;
}

const char *snapshot_rx_id(const struct snapshot_rx *sx, uint32_t *first_missing)
{
	uint32_t i = 0;

	while (sx->got && i < sx->chunks && got(sx, i))
		i++;
	*first_missing = i;
	return sx->id;
}

/* One verified chunk's items into the staging table (autocommit: the temp
 * database only, so a beaconctl holding the store's lock does not stop it). */
static int stage(struct snapshot_rx *sx, uint32_t i, const char *text, char *err, size_t errlen)
{
	char serr[STORE_ERRLEN];
	sqlite3_stmt *st;
	int rc;

	if (!sx->staged) {
		if (exec(sx->db, "CREATE TEMP TABLE IF NOT EXISTS fleet_snapshot_rx ("
			 "chunk INTEGER PRIMARY KEY, items TEXT NOT NULL);"
			 "DELETE FROM temp.fleet_snapshot_rx", serr)) {
			snprintf(err, errlen, "%s", serr);
			return -1;
		}
		sx->staged = true;
	}
	if (sqlite3_prepare_v2(sx->db, "INSERT OR REPLACE INTO temp.fleet_snapshot_rx "
			       "(chunk, items) VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "snapshot staging: %s", sqlite3_errmsg(sx->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, i);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "snapshot staging: %s", sqlite3_errmsg(sx->db));
		return -1;
	}
	return 0;
}

enum fleet_verdict snapshot_rx_chunk(struct snapshot_rx *sx, const struct fleet_header *h,
				     cJSON *payload, bool *complete, char *err, size_t errlen)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(payload, "snap");
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(payload, "chunk");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(payload, "chunks");
	cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(payload, "items");
	uint32_t i, chunks;

	*complete = false;
	if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) >= sizeof(sx->id) ||
	    !cJSON_IsNumber(idx) || !cJSON_IsNumber(n) || !cJSON_IsArray(items) ||
	    n->valuedouble < 1 || n->valuedouble > SNAP_CHUNKS_MAX || idx->valuedouble < 0 ||
	    idx->valuedouble >= n->valuedouble) {
		snprintf(err, errlen, "snapshot chunk without a valid snap, chunk, chunks or items");
		cJSON_Delete(items);
		cJSON_Delete(payload);
		return FLEET_MALFORMED;
	}
	i = (uint32_t)idx->valuedouble;
	chunks = (uint32_t)n->valuedouble;
	if (strcmp(sx->id, id->valuestring)) {
		/* Another snapshot: only a newer one displaces the one collected. */
		if (sx->id[0] && h->issued_at < sx->h.issued_at) {
			snprintf(err, errlen, "chunk of an older snapshot than the one collected");
			cJSON_Delete(items);
			cJSON_Delete(payload);
			return FLEET_REPLAYED;
		}
		snapshot_rx_clear(sx);
		sx->got = calloc((chunks + 7) / 8, 1);
		if (!sx->got) {
			snprintf(err, errlen, "out of memory for %" PRIu32 " chunks", chunks);
			cJSON_Delete(items);
			cJSON_Delete(payload);
			return FLEET_FAILED;
		}
		snprintf(sx->id, sizeof(sx->id), "%s", id->valuestring);
		sx->h = *h;
		sx->chunks = chunks;
	} else if (chunks != sx->chunks || h->seq != sx->h.seq || strcmp(h->key, sx->h.key) ||
		   h->issued_at != sx->h.issued_at) {
		snprintf(err, errlen, "chunk disagrees with the rest of its snapshot");
		cJSON_Delete(items);
		cJSON_Delete(payload);
		return FLEET_MALFORMED;
	}
	cJSON_Delete(payload);
	if (!got(sx, i)) {
		char *text = cJSON_PrintUnformatted(items);
		int rc = text ? stage(sx, i, text, err, errlen) : -1;

		if (!text)
			snprintf(err, errlen, "out of memory");
		cJSON_free(text);
		if (rc) {
			cJSON_Delete(items);
			return FLEET_FAILED;
		}
		sx->got[i / 8] |= (uint8_t)(1u << (i % 8));
		sx->have++;
	}
	cJSON_Delete(items);   /* a resend is dropped */
	*complete = sx->have == sx->chunks;
	return FLEET_OK;
}

static int remember(sqlite3_stmt *st, const cJSON *item)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(item, "customer");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(item, "campaign");
	const cJSON *key = c ? cJSON_GetObjectItemCaseSensitive(c, "ref") :
			   k ? cJSON_GetObjectItemCaseSensitive(k, "name") : NULL;
	int rc;

	if (!cJSON_IsString(key))
		return SQLITE_ERROR;
	sqlite3_bind_text(st, 1, c ? "customer" : "campaign", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key->valuestring, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Everything the snapshot does not hold goes: customers are forgotten (as
 * the hub forgot them, or never had them), campaigns removed. */
static int remove_absent(sqlite3 *db, const char *actor, bool *forgot, char *err)
{
	sqlite3_stmt *st;
	int rc = STORE_OK, step;

	if (sqlite3_prepare_v2(db, "SELECT 'customer', customer_ref FROM customers WHERE "
			       "customer_ref NOT IN (SELECT name FROM temp.fleet_seen WHERE "
			       "kind = 'customer') UNION ALL SELECT 'campaign', name FROM "
			       "campaigns WHERE name NOT IN (SELECT name FROM temp.fleet_seen "
			       "WHERE kind = 'campaign')", -1, &st, NULL) != SQLITE_OK)
		return exec(db, "SELECT RAISE(FAIL, 'cannot list')", err);
	while (rc == STORE_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		cJSON *gone = fleet_state_gone(kind, kind[1] == 'u' ? "ref" : "name", name);

		rc = gone ? fleet_state_apply_tx(db, actor, NULL, gone, forgot, err) : STORE_ENOMEM;
		cJSON_Delete(gone);
	}
	sqlite3_finalize(st);
	return rc;
}

static int set_kv(sqlite3 *db, const char *key, int64_t v, const char *s, char *err)
{
	char buf[32];

	if (!s) {
		snprintf(buf, sizeof(buf), "%" PRId64, v);
		s = buf;
	}
	return store_kv_set(db, key, s, err);
}

int snapshot_rx_apply(struct snapshot_rx *sx, sqlite3 *db, const char *actor, const char *site,
		      char *err)
{
	sqlite3_stmt *seen = NULL, *chunk = NULL;
	struct store_bulk_add *bulk;
	char bulk_actor[96];
	bool forgot = false;
	int rc;

	if (!sx->chunks || sx->have != sx->chunks) {
		snprintf(err, STORE_ERRLEN, "snapshot incomplete");
		return STORE_EINVAL;
	}
	/* The customers it adds, audited as one batch naming the hub's sequence. */
	snprintf(bulk_actor, sizeof(bulk_actor), "%s seq %" PRId64, actor, sx->h.seq);
	if (!(bulk = store_bulk_add_new(bulk_actor))) {
		snprintf(err, STORE_ERRLEN, "out of memory");
		return STORE_ENOMEM;
	}
	rc = store_begin(db, err);
	if (rc) {
		store_bulk_add_free(bulk);
		return rc;
	}
	rc = exec(db, "CREATE TEMP TABLE IF NOT EXISTS fleet_seen (kind TEXT, name TEXT, "
		  "PRIMARY KEY (kind, name)); DELETE FROM temp.fleet_seen;", err);
	if (!rc && sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.fleet_seen VALUES (?, ?)",
				      -1, &seen, NULL) != SQLITE_OK)
		rc = exec(db, "SELECT RAISE(FAIL, 'cannot prepare')", err);
	if (!rc && sqlite3_prepare_v2(db, "SELECT chunk, items FROM temp.fleet_snapshot_rx "
				      "ORDER BY chunk", -1, &chunk, NULL) != SQLITE_OK)
		rc = exec(db, "SELECT RAISE(FAIL, 'cannot read the staged snapshot')", err);
	for (uint32_t i = 0; !rc && i < sx->chunks; i++) {
		cJSON *arr;
		const cJSON *item;

		/* Every chunk, in order, as verified: anything else is refused. */
		if (sqlite3_step(chunk) != SQLITE_ROW || sqlite3_column_int64(chunk, 0) != i) {
			rc = STORE_EIO;
			snprintf(err, STORE_ERRLEN, "snapshot: chunk %" PRIu32 " is not staged", i);
			break;
		}
		arr = cJSON_Parse((const char *)sqlite3_column_text(chunk, 1));
		if (!arr) {
			rc = STORE_ENOMEM;
			snprintf(err, STORE_ERRLEN, "out of memory");
			break;
		}
		cJSON_ArrayForEach(item, arr) {
			if (remember(seen, item) != SQLITE_OK) {
				rc = STORE_EINVAL;
				snprintf(err, STORE_ERRLEN, "snapshot item without a ref or name");
				break;
			}
			rc = fleet_state_apply_bulk_tx(db, actor, bulk, site, item, &forgot, err);
			if (rc)
				break;
		}
		cJSON_Delete(arr);
	}
	sqlite3_finalize(seen);
	sqlite3_finalize(chunk);
	if (!rc)
		rc = store_bulk_add_sync_tx(db, bulk, err);
	store_bulk_add_free(bulk);
	if (!rc)
		rc = remove_absent(db, actor, &forgot, err);
	if (!rc && !(rc = set_kv(db, "fleet.key", 0, sx->h.key, err)) &&
	    !(rc = set_kv(db, "fleet.seq", sx->h.seq, NULL, err)))
		rc = set_kv(db, "fleet.since", sx->h.issued_at, NULL, err);
	rc = store_tx_end(db, rc, err);
	exec(db, "DELETE FROM temp.fleet_seen", err);
	if (!rc && forgot)
		store_forget_cleanup(db, err);
	return rc;
}
