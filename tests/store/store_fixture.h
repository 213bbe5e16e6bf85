/*
 * store_fixture.h - what the store tests start from: a directory of their
 * own, the path of a database file in it, a store created there, and the
 * one number most of their checks ask a database for.
 *
 * Each test keeps its own struct fixture (fields differ from test to test)
 * and calls these from its setup and teardown.
 */
#ifndef BGW_STORE_FIXTURE_H
#define BGW_STORE_FIXTURE_H

#include <stdint.h>

#include <sqlite3.h>

#define STORE_FIXTURE_DIR_MAX 64
#define STORE_FIXTURE_PATH_MAX 96

/* A new empty directory /tmp/bgw-<what>-XXXXXX into dir, and the path of
 * file inside it into path. 0, or -1 with the reason on stderr. */
int store_fixture_dir(const char *what, const char *file, char dir[STORE_FIXTURE_DIR_MAX],
		      char path[STORE_FIXTURE_PATH_MAX]);

/* A new store at path, open in *db (close with store_close()). 0, or -1
 * with the store's message on stderr. */
int store_fixture_create(const char *path, sqlite3 **db);

/* Removes dir and everything in it. 0, or -1 with the reason on stderr. */
int store_fixture_remove(const char *dir);

/* The first column of the first row sql answers, as an integer; none if it
 * answers no row. A statement that does not compile fails the test. */
int64_t store_fixture_int(sqlite3 *db, const char *sql, int64_t none);

#endif
