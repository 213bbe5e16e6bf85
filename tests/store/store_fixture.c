/*
 * store_fixture.c - directories, stores and single answers for the store
 * tests (see store_fixture.h).
 */
#include "store_fixture.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"

int store_fixture_dir(const char *what, const char *file, char dir[STORE_FIXTURE_DIR_MAX],
		      char path[STORE_FIXTURE_PATH_MAX])
{
	int n = snprintf(dir, STORE_FIXTURE_DIR_MAX, "/tmp/bgw-%s-XXXXXX", what);

	if (n < 0 || n >= STORE_FIXTURE_DIR_MAX || !mkdtemp(dir)) {
		fprintf(stderr, "store fixture: no directory for %s: %s\n", what,
			n < 0 || n >= STORE_FIXTURE_DIR_MAX ? "name too long" : strerror(errno));
		return -1;
	}
	n = snprintf(path, STORE_FIXTURE_PATH_MAX, "%s/%s", dir, file);
	if (n < 0 || n >= STORE_FIXTURE_PATH_MAX) {
		fprintf(stderr, "store fixture: %s/%s: name too long\n", dir, file);
		return -1;
	}
	return 0;
}

int store_fixture_create(const char *path, sqlite3 **db)
{
	char err[STORE_ERRLEN];

	if (store_open(path, STORE_OPEN_CREATE, db, err) != STORE_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0) {
		fprintf(stderr, "store fixture: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int store_fixture_remove(const char *dir)
{
	/* Depth first, so a directory is empty by the time it is removed;
	 * links are removed, never followed. */
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int64_t store_fixture_int(sqlite3 *db, const char *sql, int64_t none)
{
	sqlite3_stmt *st;
	int64_t v = none;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}
