/*
 * test_store_migrate_v11.c - a database of schema v10 (identifiers as a
 * rowid table with a UNIQUE (type, value) index) is read as it is by a
 * read-only open and upgraded in place by the first read-write one: the
 * same identifiers with the same customers, the same listings, the same
 * snapshot; afterwards (type, value) is the table's key, "an identifier
 * left" of the consent condition is still one index seek, and removal,
 * enrolment and erasure work on the new table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "snapshot.h"
#include "store.h"
#include "store_internal.h"
#include "store_fixture.h"
#include "store_schema.h"

#define U "e2c56db5dffb48d2b060d0f5a71096e0"
#define U_TEXT "e2c56db5-dffb-48d2-b060-d0f5a71096e0"
#define KEY_EID "00112233445566778899aabbccddeeff"
#define KEY_IRK "ffeeddccbbaa99887766554433221100"

struct fixture {
	char dir[STORE_FIXTURE_DIR_MAX];
	char path[STORE_FIXTURE_PATH_MAX];
	char err[STORE_ERRLEN];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || store_fixture_dir("migrate11", "v10.db", f->dir, f->path))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (store_fixture_remove(f->dir))
		return -1;
	free(f);
	return 0;
}

static int64_t count(sqlite3 *db, const char *sql)
{
	return store_fixture_int(db, sql, -1);
}

/* Rows as v10 stored them. Ids in an order that is not the key's: an
 * AltBeacon enrolled before an iBeacon, two identifiers in the same second. */
static void make_v10(const char *path)
{
	sqlite3 *raw;

	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(store_identifier_sql_register(raw), SQLITE_OK);
	for (int v = 0; v < 10; v++)
		assert_int_equal(sqlite3_exec(raw, store_migrations[v], NULL, NULL, NULL),
				 SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw,
		"INSERT INTO customers (customer_ref, created_at, audit_salt) VALUES "
		"  ('A', 100, zeroblob(16)), ('B', 100, zeroblob(16));"
		"INSERT INTO identifiers (id, customer_id, type, value, exponent, clock_offset, "
		"  created_at) VALUES "
		"  (2, 1, 5, x'0118" KEY_EID "00112233', NULL, NULL, 100),"
		"  (3, 1, 1, x'" U "00010002', NULL, NULL, 101),"
		"  (5, 1, 3, x'" KEY_EID "', 10, -7, 101),"
		"  (8, 2, 4, x'" KEY_IRK "', NULL, NULL, 102),"
		"  (9, 2, 1, x'" U "ffff0009', NULL, NULL, 103);"
		"INSERT OR REPLACE INTO kv (key, value) VALUES ('consent_next_id', '3');"
		"INSERT INTO consents (customer_id, purpose, id, channels, granted_at, source) "
		"  VALUES (1, 0, 1, '', 50, 0), (2, 0, 2, '', 50, 1);"
		"PRAGMA user_version = 10", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
}

static char *show(sqlite3 *db, const char *ref, char *err)
{
	cJSON *doc;
	char *text;

	assert_int_equal(store_customer_show(db, ref, &doc, err), STORE_OK);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}

/* The query plan of the consent condition as the batch writes use it. */
static bool in_force_plan_uses(sqlite3 *db, const char *what)
{
	sqlite3_stmt *st;
	bool found = false;

	assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN SELECT "
					    STORE_SQL_IN_FORCE("presence", "?1", "?2"),
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		found |= strstr((const char *)sqlite3_column_text(st, 3), what) != NULL;
	sqlite3_finalize(st);
	return found;
}

static void v10_reads_and_upgrades(void **state)
{
	struct fixture *f = *state;
	struct store_identifier id;
	struct snapshot *s = NULL;
	char *a_ro, *b_ro, *a, *b;
	bool cleanup_ok;
	sqlite3 *db;

	make_v10(f->path);
	assert_int_equal(store_open(f->path, STORE_OPEN_READONLY, &db, f->err), STORE_OK);
	assert_int_equal(store_schema_version(db), 10);
	a_ro = show(db, "A", f->err);
	b_ro = show(db, "B", f->err);
	store_close(db);
	/* listed by when they were added, then by type */
	assert_non_null(strstr(a_ro, "\"identifiers\":[{\"type\":\"altbeacon\""));
	assert_true(strstr(a_ro, "\"type\":\"ibeacon\"") < strstr(a_ro, "\"type\":\"eddystone-eid\""));

	assert_int_equal(store_open(f->path, 0, &db, f->err), STORE_OK);
	assert_int_equal(store_schema_version(db), STORE_SCHEMA_VERSION);
	a = show(db, "A", f->err);
	b = show(db, "B", f->err);
	assert_string_equal(a, a_ro);
	assert_string_equal(b, b_ro);
	/* no rowid: (type, value) is the key, no other unique index */
	assert_int_equal(count(db, "SELECT count(*) FROM pragma_index_list('identifiers') "
				   "WHERE origin = 'pk'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM pragma_index_list('identifiers')"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM identifiers WHERE (customer_id, type) IN "
				   "(VALUES (1, 5), (1, 1), (1, 3), (2, 4), (2, 1))"), 5);
	assert_int_equal(count(db, "SELECT exponent * 100 + clock_offset FROM identifiers "
				   "WHERE type = 3"), 993);
	assert_int_equal(count(db, "SELECT count(*) FROM identifiers WHERE key = x'" KEY_IRK "'"),
			 1);
	/* "an identifier left": one seek on the index by customer */
	assert_true(in_force_plan_uses(db, "COVERING INDEX identifiers_customer (customer_id=?)"));

	assert_int_equal(store_snapshot_load(db, &s, f->err, sizeof(f->err)), 0);
	assert_int_equal(s->n_identifiers, 5);
	snapshot_free(s);

	/* taken, then removed (the fleet triggers and generation still fire),
	 * then free for another customer */
	assert_int_equal(store_identifier_parse_pair("ibeacon " U_TEXT ":1:2", &id, f->err),
			 STORE_OK);
	assert_int_equal(store_identifier_add(db, "t", "B", &id, f->err), STORE_EEXIST);
	assert_int_equal(store_identifier_remove(db, "t", &id, f->err), STORE_OK);
	assert_int_equal(count(db, "SELECT count(*) FROM identifiers WHERE customer_id = 1"), 2);
	assert_int_equal(store_identifier_add(db, "t", "B", &id, f->err), STORE_OK);
	assert_int_equal(count(db, "SELECT customer_id FROM identifiers WHERE type = 1 AND "
				   "value = x'" U "00010002'"), 2);
	/* erasure takes all of B's identifiers with it */
	assert_int_equal(store_forget(db, "t", "B", &cleanup_ok, f->err), STORE_OK);
	assert_int_equal(count(db, "SELECT count(*) FROM identifiers"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM identifiers WHERE customer_id = 2"), 0);
	store_close(db);
	free(a_ro);
	free(b_ro);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(v10_reads_and_upgrades, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
