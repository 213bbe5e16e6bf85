/*
 * test_store_migrate.c - a database written by the previous schema (v8:
 * identifiers as text, consents with a rowid and purpose names) is read as
 * it is by a read-only open and upgraded in place by the first read-write
 * one: same rows, same ids, same listings, the same identifiers and
 * consents in the data path's snapshot.
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
#include "store_fixture.h"
#include "store_schema.h"

#define U "e2c56db5-dffb-48d2-b060-d0f5a71096e0"
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

	if (!f || store_fixture_dir("migrate", "v8.db", f->dir, f->path))
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

/* Rows as the v8 code wrote them: canonical text, keys also as blobs, and
 * the K and offset an import left on rows after an Eddystone-EID. */
static void make_v8(const char *path)
{
	sqlite3 *raw;

	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	for (int v = 0; v < 8; v++)
		assert_int_equal(sqlite3_exec(raw, store_migrations[v], NULL, NULL, NULL),
				 SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw,
		"INSERT INTO customers (customer_ref, created_at, audit_salt) VALUES "
		"  ('A', 100, zeroblob(16)), ('B', 100, zeroblob(16));"
		"INSERT INTO identifiers (id, customer_id, type, value, key, exponent, clock_offset, "
		"  created_at) VALUES "
		"  (3, 1, 'ibeacon', '" U ":1:2', NULL, NULL, NULL, 100),"
		"  (5, 1, 'eddystone-eid', '" KEY_EID "', x'" KEY_EID "', 10, -7, 101),"
		"  (8, 2, 'ibeacon', '" U ":65535:9', x'" KEY_EID "', 10, -7, 102),"
		"  (9, 2, 'eddystone-uid', '00112233445566778899:aabbccddeeff', NULL, NULL, NULL, 103),"
		"  (12, 2, 'irk', '" KEY_IRK "', x'" KEY_IRK "', NULL, NULL, 104),"
		"  (13, 2, 'altbeacon', '0x0118:00112233445566778899aabbccddeeff00112233', NULL, "
		"   NULL, NULL, 105);"
		"INSERT INTO consents (id, customer_id, purpose, channels, granted_at, withdrawn_at, "
		"  source, policy_version) VALUES "
		"  (1, 1, 'presence', '', 100, NULL, 'import', ''),"
		"  (2, 1, 'retargeting', 'push', 100, 150, 'import', ''),"
		"  (3, 2, 'presence', '', 100, NULL, 'mqtt seq 42', ''),"
		"  (4, 1, 'retargeting', 'push,sms', 200, NULL, 'cli', 'v2');"
		"INSERT INTO consents_archive (id, customer_id, purpose, channels, granted_at, "
		"  expires_at, source, policy_version, archived_at) VALUES "
		"  (7, 2, 'retargeting', 'push', 50, 60, 'cli', '', 70);"
		"PRAGMA user_version = 8", NULL, NULL, NULL), SQLITE_OK);
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

static void v8_reads_and_upgrades(void **state)
{
	struct fixture *f = *state;
	struct store_identifier id;
	struct snapshot *s = NULL;
	char *a_ro, *b_ro, *a, *b;
	sqlite3 *db;

	make_v8(f->path);
	assert_int_equal(store_open(f->path, STORE_OPEN_READONLY, &db, f->err), STORE_OK);
	assert_int_equal(store_schema_version(db), 8);
	a_ro = show(db, "A", f->err);
	b_ro = show(db, "B", f->err);
	store_close(db);
	assert_non_null(strstr(a_ro, "\"type\":\"ibeacon\",\"value\":\"" U ":1:2\""));
	assert_non_null(strstr(b_ro, "\"value\":\"" U ":65535:9\""));
	assert_non_null(strstr(b_ro, "\"value\":\"00112233445566778899:aabbccddeeff\""));
	assert_non_null(strstr(b_ro, "\"value\":\"0x0118:00112233445566778899aabbccddeeff00112233\""));
	assert_non_null(strstr(a_ro, "\"type\":\"eddystone-eid\",\"key_fingerprint\""));

	assert_int_equal(store_open(f->path, 0, &db, f->err), STORE_OK);
	assert_int_equal(store_schema_version(db), STORE_SCHEMA_VERSION);
	/* every row kept with its customer (v11: keyed by type and value, no
	 * rowid), values in their binary form, K and offset on the EID only */
	assert_int_equal(count(db, "SELECT count(*) FROM identifiers WHERE (customer_id, type) IN "
				   "(VALUES (1, 1), (1, 3), (2, 1), (2, 2), (2, 4), (2, 5))"), 6);
	assert_int_equal(count(db, "SELECT sum(length(value)) FROM identifiers"),
			 20 + 16 + 20 + 16 + 16 + 22);
	assert_int_equal(count(db, "SELECT count(*) FROM identifiers WHERE exponent IS NOT NULL"),
			 1);
	assert_int_equal(count(db, "SELECT clock_offset FROM identifiers WHERE type = 3"), -7);
	assert_int_equal(count(db, "SELECT count(*) FROM identifiers WHERE key = x'" KEY_IRK "'"),
			 1);
	a = show(db, "A", f->err);
	b = show(db, "B", f->err);
	/* the same listing as before the upgrade */
	assert_string_equal(a, a_ro);
	assert_string_equal(b, b_ro);
	assert_non_null(strstr(b, "\"type\":\"irk\",\"key_fingerprint\""));

	/* consents: ids kept, clustered by customer, purpose as its number; the
	 * id sequence goes on after the highest id, archived ones included */
	assert_int_equal(count(db, "SELECT count(*) FROM consents WHERE (customer_id, purpose, id) "
				   "IN (VALUES (1, 0, 1), (1, 1, 2), (2, 0, 3), (1, 1, 4))"), 4);
	assert_int_equal(count(db, "SELECT value FROM kv WHERE key = 'consent_next_id'"), 8);
	/* the usual sources as numbers, any other as it was */
	assert_int_equal(count(db, "SELECT count(*) FROM consents WHERE typeof(source) = "
				   "'integer'"), 3);
	assert_int_equal(count(db, "SELECT count(*) FROM consents WHERE source = 'mqtt seq 42'"),
			 1);
	assert_non_null(strstr(b, "\"source\":\"mqtt seq 42\""));
	assert_non_null(strstr(a, "\"source\":\"cli\",\"policy_version\":\"v2\""));
	assert_non_null(strstr(a, "\"source\":\"import\""));
	assert_non_null(strstr(a, "\"purpose\":\"retargeting\",\"channels\":[\"push\",\"sms\"]"));

	/* the snapshot holds all six identifiers; A's newest retargeting row
	 * (4, not the withdrawn 2) is the one in force */
	assert_int_equal(store_snapshot_load(db, &s, f->err, sizeof(f->err)), 0);
	assert_int_equal(s->n_identifiers, 6);
	assert_true(snap_customer_consent(s, &s->customers[0])[SNAP_PRESENCE].granted);
	assert_true(snap_customer_consent(s, &s->customers[0])[SNAP_RETARGETING].granted);
	assert_false(snap_customer_consent(s, &s->customers[1])[SNAP_RETARGETING].granted);
	snapshot_free(s);

	/* a withdrawal stamps the newest row only; a grant takes the next id */
	assert_int_equal(store_consent_withdraw(db, "t", "A", STORE_RETARGETING, f->err), STORE_OK);
	assert_int_equal(count(db, "SELECT group_concat(withdrawn_at IS NOT NULL) FROM consents "
				   "WHERE customer_id = 1 AND purpose = 1 AND id = 4"), 1);
	assert_int_equal(count(db, "SELECT withdrawn_at FROM consents WHERE id = 2"), 150);
	assert_int_equal(store_consent_grant(db, "t", "B", &(struct store_grant){
							.purpose = STORE_RETARGETING,
							.channels = "push" }, f->err),
			 STORE_OK);
	assert_int_equal(count(db, "SELECT id FROM consents WHERE customer_id = 2 AND purpose = 1"),
			 8);

	/* text in, stored form found: taken, then removed, then free */
	assert_int_equal(store_identifier_parse_pair("ibeacon " U ":1:2", &id, f->err), STORE_OK);
	assert_int_equal(store_identifier_add(db, "t", "B", &id, f->err), STORE_EEXIST);
	assert_int_equal(store_identifier_remove(db, "t", &id, f->err), STORE_OK);
	assert_int_equal(store_identifier_add(db, "t", "B", &id, f->err), STORE_OK);
	assert_int_equal(count(db, "SELECT customer_id FROM identifiers WHERE type = 1 AND "
				   "value = x'e2c56db5dffb48d2b060d0f5a71096e000010002'"), 2);
	store_close(db);
	free(a_ro);
	free(b_ro);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(v8_reads_and_upgrades, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
