/*
 * fleet_db_size.c - the database a fleet gateway's first sync leaves, per
 * customer: every customer of an authority database read as the hub
 * serves it (fleet_reader_customer()) and applied to an empty database as
 * a gateway applies a snapshot (500 a transaction), once with each
 * customer's changes audited in full (fleet_state_apply_tx(), as before the
 * compact fleet entries) and once compactly (fleet_state_apply_bulk_tx(),
 * as consent_snapshot_rx.c does). Prints bytes per customer of each file
 * and of its audit tables (dbstat). A figure, never a pass/fail criterion.
 *
 *   fleet_db_size AUTHORITY.db OUT_DIR
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fleet_state.h"
#include "store.h"

#define PER_TX 500

static int apply_all(sqlite3 *src, const char *path, bool compact, int64_t *n)
{
	char err[STORE_ERRLEN];
	struct fleet_reader *fr = fleet_reader_new(src, err, sizeof(err));
	struct store_bulk_add *b = NULL;
	sqlite3_stmt *ids;
	sqlite3 *db;
	int rc = 0;

	if (!fr || store_open(path, STORE_OPEN_CREATE, &db, err) ||
	    sqlite3_prepare_v2(src, "SELECT id FROM customers ORDER BY id", -1, &ids, NULL)) {
		fprintf(stderr, "fleet_db_size: %s\n", err);
		return -1;
	}
	*n = 0;
	while (!rc && sqlite3_step(ids) == SQLITE_ROW) {
		bool gone = false, forgot = false;
		cJSON *c = fleet_reader_customer(fr, sqlite3_column_int64(ids, 0), &gone, err,
						 sizeof(err));

		if (*n % PER_TX == 0) {
			rc = store_begin(db, err);
			if (compact && !rc && !(b = store_bulk_add_new("fleet:bench seq 1")))
				rc = STORE_ENOMEM;
		}
		if (!rc)
			rc = c ? fleet_state_apply_bulk_tx(db, "fleet:bench", b, NULL, c, &forgot, err)
			       : STORE_EIO;
		cJSON_Delete(c);
		if (++*n % PER_TX == 0) {
			if (b && !rc)
				rc = store_bulk_add_sync_tx(db, b, err);
			store_bulk_add_free(b);
			b = NULL;
			rc = store_tx_end(db, rc, err);
		}
	}
	if (*n % PER_TX) {
		if (b && !rc)
			rc = store_bulk_add_sync_tx(db, b, err);
		store_bulk_add_free(b);
		rc = store_tx_end(db, rc, err);
	}
	sqlite3_finalize(ids);
	fleet_reader_free(fr);
	if (rc)
		fprintf(stderr, "fleet_db_size: %s\n", err);
	else
		sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	store_close(db);
	return rc ? -1 : 0;
}

static double audit_bytes(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	double bytes = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT sum(pgsize) FROM dbstat WHERE name IN ('audit', "
			       "'audit_customer', 'audit_bulk', 'audit_import')", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			bytes = sqlite3_column_double(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return bytes;
}

int main(int argc, char **argv)
{
	char err[STORE_ERRLEN], path[2][4096];
	sqlite3 *src;
	int64_t n = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: fleet_db_size AUTHORITY.db OUT_DIR\n");
		return 64;
	}
	if (store_open(argv[1], STORE_OPEN_READONLY, &src, err)) {
		fprintf(stderr, "fleet_db_size: %s\n", err);
		return 66;
	}
	printf("| audit of what the fleet adds | customers | bytes/customer | of it audit |\n"
	       "|---|---|---|---|\n");
	for (int compact = 0; compact < 2; compact++) {
		struct stat sb;

		snprintf(path[compact], sizeof(path[0]), "%s/gw-%s.db", argv[2],
			 compact ? "compact" : "full");
		remove(path[compact]);
		if (apply_all(src, path[compact], compact, &n) || stat(path[compact], &sb))
			return 70;
		printf("| %s | %" PRId64 " | %.0f | %.0f |\n",
		       compact ? "compact (one entry per customer)" : "full (six entries)", n,
		       (double)sb.st_size / (double)n, audit_bytes(path[compact]) / (double)n);
	}
	store_close(src);
	return 0;
}
