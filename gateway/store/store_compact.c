/*
 * store_compact.c - rewriting the file: after an erasure, so that no page
 * of the erased rows stays behind in it or in its log (store_forget.c),
 * and after a first bulk load, to pack its pages. Rows that
 * arrive in key order fill b-tree pages only to ~87 %: SQLite splits a
 * full page it appends to and leaves both halves with room, which later
 * inserts in the middle would use but a store loaded once and then read
 * never does (~20 bytes a customer after an import of 100,000). VACUUM
 * rebuilds every table and index with full pages. It rewrites the whole
 * file (through the write-ahead log, so it needs about the file's size of
 * free space while it runs), which is worth it once, when the store was
 * empty before: not after every import into a store that already has its
 * customers.
 */
#include "store_internal.h"

bool store_has_customers(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool any = true; /* when in doubt, do not rewrite the file */

	if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM customers)", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		any = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return any;
}

int store_compact(sqlite3 *db, char *err)
{
	sqlite3_stmt *st = NULL;
	int rc, busy = 1;

	rc = store_exec(db, "VACUUM", "compact", err);
	if (rc)
		return rc;
	rc = sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		busy = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (busy)
		return store_errf(err, STORE_EBUSY,
				  "another process kept reading the database: old pages stay in "
				  "the write-ahead log until the next checkpoint");
	return STORE_OK;
}
