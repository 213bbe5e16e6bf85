/*
 * CSV import modes against a real SQLite file: --update brings listed
 * customers up to the file and touches nobody else, --sync makes the store
 * equal to the file (withdrawals through the store's own path, queued outbox
 * rows deleted in the same transaction), a bad row anywhere leaves the store
 * exactly as it was, and the counts say what happened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cjson/cJSON.h>

#include "snapshot.h"
#include "store.h"
#include "store_fixture.h"

#define HEADER "customer_ref,identifiers,consents,segments\n"
#define U "f7826da6-4fa2-4e98-8024-bc5b71e0893e"

struct fixture {
	char dir[STORE_FIXTURE_DIR_MAX];
	char path[STORE_FIXTURE_PATH_MAX];
	sqlite3 *db;
	struct store_import_stats st;
	char err[STORE_ERRLEN];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || store_fixture_dir("import", "t.db", f->dir, f->path) ||
	    store_fixture_create(f->path, &f->db))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->db);
	if (store_fixture_remove(f->dir))
		return -1;
	free(f);
	return 0;
}

/* One import in its own transaction, as beaconctl runs it. */
static int import(struct fixture *f, enum store_import_mode mode, const char *csv)
{
	FILE *in = fmemopen((void *)csv, strlen(csv), "r");
	int rc;

	assert_non_null(in);
	f->err[0] = '\0';
	rc = store_begin(f->db, f->err);
	if (!rc) {
		rc = store_import_csv_tx(f->db, "test", in, "", mode, NULL, NULL, &f->st, f->err);
		rc = store_tx_end(f->db, rc, f->err);
	}
	fclose(in);
	return rc;
}

static int64_t count(sqlite3 *db, const char *sql)
{
	return store_fixture_int(db, sql, -1);
}

/* Whether ref's newest consent for purpose is in force (not withdrawn). */
static bool in_force(sqlite3 *db, const char *ref, const char *purpose)
{
	char sql[300];

	snprintf(sql, sizeof(sql),
		 "SELECT k.withdrawn_at IS NULL FROM consents k JOIN customers c "
		 "ON c.id = k.customer_id WHERE c.customer_ref = '%s' AND k.purpose = %d "
		 "ORDER BY k.id DESC LIMIT 1", ref, strcmp(purpose, "retargeting") == 0);
	return count(db, sql) == 1;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/* A hash over every value of every table (and the row and column layout):
 * "the store did not change". */
static uint64_t digest(sqlite3 *db)
{
	static const char *const tables[] = { "customers", "identifiers", "consents",
					      "consents_archive", "segments", "customer_segments",
					      "outbox", "kv", "audit" };
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[80];
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1, 2", tables[i]);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
		h = fnv(h, tables[i], strlen(tables[i]) + 1);
		while (sqlite3_step(st) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const void *b = sqlite3_column_blob(st, c);
				int type = sqlite3_column_type(st, c);

				h = fnv(h, &type, sizeof(type));
				if (b)
					h = fnv(h, b, (size_t)sqlite3_column_bytes(st, c));
			}
		sqlite3_finalize(st);
	}
	return h;
}

static const char base[] = HEADER
	"A," "ibeacon " U ":1:1,presence;retargeting@push,vip\n"
	"B," "ibeacon " U ":1:2,presence;retargeting@email,\n"
	"C,,presence,\n";

static void default_mode_refuses_existing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(import(f, STORE_IMPORT_CREATE, base), STORE_OK);
	assert_int_equal(f->st.added, 3);
	assert_int_equal(import(f, STORE_IMPORT_CREATE, base), STORE_EEXIST);
	assert_non_null(strstr(f->err, "line 2: customer 'A' already exists"));
	assert_non_null(strstr(f->err, "--update"));
	/* The same file again in either mode changes nothing and says so. */
	assert_int_equal(import(f, STORE_IMPORT_UPDATE, base), STORE_OK);
	assert_int_equal(f->st.added + f->st.changed + f->st.withdrawn, 0);
	assert_int_equal(f->st.unchanged, 3);
	assert_int_equal(import(f, STORE_IMPORT_SYNC, base), STORE_OK);
	assert_int_equal(f->st.added + f->st.changed + f->st.withdrawn, 0);
	assert_int_equal(f->st.unchanged, 3);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents"), 5);
}

/* Each row's grants are its own: one without an expiry after one with
 * stays without, an iBeacon after an Eddystone-EID has no K or offset. */
static void rows_do_not_inherit(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(import(f, STORE_IMPORT_CREATE, HEADER
				"A,eddystone-eid 00112233445566778899aabbccddeeff:6:100,"
				"presence/2099-01-01,\n"
				"B,ibeacon " U ":7:7,presence;retargeting@push,\n"),
			 STORE_OK);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents WHERE expires_at IS NULL"),
			 2);
	assert_int_equal(count(f->db, "SELECT count(*) FROM identifiers WHERE exponent IS NULL "
				      "AND clock_offset IS NULL"), 1);
}

static void update_adds_and_changes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(import(f, STORE_IMPORT_CREATE, base), STORE_OK);
	/* A: new channel and segment, B: presence not listed (update keeps it),
	 * a second identifier; D: new. C is not in the file. */
	assert_int_equal(import(f, STORE_IMPORT_UPDATE, HEADER
				"A,ibeacon " U ":1:1,presence;retargeting@push+email,vip|new\n"
				"B,ibeacon " U ":1:2|irk 00112233445566778899aabbccddeeff,"
				"retargeting@email,\n"
				"D,ibeacon " U ":1:4,presence,\n"),
			 STORE_OK);
	assert_int_equal(f->st.added, 1);
	assert_int_equal(f->st.changed, 2);
	assert_int_equal(f->st.withdrawn, 0);
	assert_int_equal(f->st.unchanged, 0);
	assert_int_equal(f->st.identifiers, 2);     /* B's irk, D's ibeacon */
	assert_int_equal(f->st.consents, 2);        /* A's retargeting again, D's presence */
	assert_int_equal(f->st.segments, 1);
	assert_int_equal(f->st.identifiers_removed + f->st.segments_removed, 0);
	assert_true(in_force(f->db, "B", "presence"));
	assert_true(in_force(f->db, "C", "presence"));
	/* A's retargeting: a second grant entry, the first one kept as history */
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents k JOIN customers c ON "
				      "c.id = k.customer_id WHERE c.customer_ref = 'A' AND "
				      "k.purpose = 1"), 2);
	assert_true(in_force(f->db, "A", "retargeting"));
	/* every change has its own audit row, made as beaconctl makes it */
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action IN "
				      "('identifier.add', 'consent.grant', 'segment.add')"), 3);
	/* update never moves an identifier: the whole file is refused */
	assert_int_equal(import(f, STORE_IMPORT_UPDATE, HEADER "C,ibeacon " U ":1:1,,\n"),
			 STORE_EEXIST);
	assert_non_null(strstr(f->err, "line 2: ibeacon identifier is already enrolled to "
				       "another customer"));
}

static void sync_withdraws_and_removes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(import(f, STORE_IMPORT_CREATE, base), STORE_OK);
	/* A: retargeting gone, segment gone, identifier replaced by B's old one;
	 * B: keeps presence only, no identifier; C: absent. */
	assert_int_equal(import(f, STORE_IMPORT_SYNC, HEADER
				"A,ibeacon " U ":1:2,presence,\n"
				"B,,presence,\n"),
			 STORE_OK);
	assert_int_equal(f->st.added, 0);
	assert_int_equal(f->st.changed, 3);
	assert_int_equal(f->st.unchanged, 0);
	assert_int_equal(f->st.withdrawn, 3);       /* A and B retargeting, C presence */
	assert_int_equal(f->st.identifiers_removed, 2);
	assert_int_equal(f->st.identifiers, 1);
	assert_int_equal(f->st.segments_removed, 1);
	assert_false(in_force(f->db, "A", "retargeting"));
	assert_true(in_force(f->db, "A", "presence"));
	assert_false(in_force(f->db, "B", "retargeting"));
	assert_true(in_force(f->db, "B", "presence"));
	assert_false(in_force(f->db, "C", "presence"));
	/* withdrawn, not deleted: the customers and their history stay */
	assert_int_equal(count(f->db, "SELECT count(*) FROM customers"), 3);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents"), 5);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = "
				      "'consent.withdraw'"), 3);
	assert_int_equal(count(f->db, "SELECT count(*) FROM identifiers i JOIN customers c "
				      "ON c.id = i.customer_id WHERE c.customer_ref = 'A' AND "
				      "hex(i.value) LIKE '%00010002'"), 1);
	/* once more: nothing left to do */
	assert_int_equal(import(f, STORE_IMPORT_SYNC, HEADER
				"A,ibeacon " U ":1:2,presence,\n"
				"B,,presence,\n"),
			 STORE_OK);
	assert_int_equal(f->st.changed + f->st.withdrawn, 0);
	assert_int_equal(f->st.unchanged, 2);
}

static void sync_purges_queued_rows(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(import(f, STORE_IMPORT_CREATE, base), STORE_OK);
	/* A trigger of A and of B, a visit of C wait in the outbox. */
	assert_int_equal(sqlite3_exec(f->db,
				      "INSERT INTO outbox (trigger_id, created_us, topic, payload, "
				      "customer_id) VALUES "
				      "('ta', 1, 'p/s/g/trigger', '{}', 1), "
				      "('tb', 2, 'p/s/g/trigger', '{}', 2), "
				      "('vc', 3, 'p/s/g/visit', '{}', 3)", NULL, NULL, NULL),
			 SQLITE_OK);
	/* A's retargeting ends in the file; B keeps everything; C is absent. */
	assert_int_equal(import(f, STORE_IMPORT_SYNC, HEADER
				"A,ibeacon " U ":1:1,presence,vip\n"
				"B,ibeacon " U ":1:2,presence;retargeting@email,\n"),
			 STORE_OK);
	assert_int_equal(f->st.withdrawn, 2);
	assert_int_equal(count(f->db, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM outbox WHERE trigger_id = 'tb'"), 1);
	/* the withdrawal's audit row says what it dropped */
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = "
				      "'consent.withdraw' AND "
				      "after LIKE '%\"queued_dropped\":1%'"), 2);
}

#define EIDKEY "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

/* Identifiers follow the file: an EID key with new rotation parameters is
 * enrolled again with them; with --sync a new customer's row takes an
 * identifier from a customer the file no longer lists. */
static void identifiers_follow_the_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(import(f, STORE_IMPORT_CREATE, HEADER
				"A,eddystone-eid " EIDKEY ":4:0,presence,\n"
				"B,ibeacon " U ":2:2,presence,\n"),
			 STORE_OK);
	assert_int_equal(import(f, STORE_IMPORT_UPDATE, HEADER
				"A,eddystone-eid " EIDKEY ":6:100,presence,\n"),
			 STORE_OK);
	assert_int_equal(f->st.changed, 1);
	assert_int_equal(f->st.identifiers_removed, 1);
	assert_int_equal(f->st.identifiers, 1);
	assert_int_equal(count(f->db, "SELECT exponent * 1000 + clock_offset FROM identifiers "
				      "WHERE type = 3"), 6100);
	/* B is not listed; the new customer N takes its iBeacon */
	assert_int_equal(import(f, STORE_IMPORT_SYNC, HEADER
				"A,eddystone-eid " EIDKEY ":6:100,presence,\n"
				"N,ibeacon " U ":2:2,presence,\n"),
			 STORE_OK);
	assert_int_equal(f->st.added, 1);
	assert_int_equal(f->st.changed, 1);
	assert_int_equal(f->st.unchanged, 1);
	assert_int_equal(f->st.withdrawn, 1);
	assert_int_equal(f->st.identifiers_removed, 1);
	assert_false(in_force(f->db, "B", "presence"));
	assert_int_equal(count(f->db, "SELECT count(*) FROM identifiers i JOIN customers c ON "
				      "c.id = i.customer_id WHERE c.customer_ref = 'N'"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM identifiers"), 2);
}

static void bad_row_changes_nothing(void **state)
{
	static const char *const bad[] = {
		/* a bad identifier in the middle, after good changes */
		HEADER "A,,presence;retargeting@sms,new\nB,ibeacon nope,presence,\nC,,,\n",
		/* a retargeting grant without a channel, as beaconctl refuses it */
		HEADER "A,,presence;retargeting,\nB,,,\n",
		/* the same customer twice */
		HEADER "A,,presence,\nD,,,\nA,,,\n",
		/* the same purpose twice */
		HEADER "A,,presence;presence,\n",
		/* an identifier named for two customers */
		HEADER "A,ibeacon " U ":1:9,,\nB,ibeacon " U ":1:9,,\n",
		/* a consent that expired already */
		HEADER "A,,presence/2001-01-01,\n",
		/* the last line breaks it, after every withdrawal of --sync was due */
		HEADER "A,,,\nB,,,\nC,,,\nE,,,a||b\n",
	};
	struct fixture *f = *state;
	uint64_t before;

	assert_int_equal(import(f, STORE_IMPORT_CREATE, base), STORE_OK);
	assert_int_equal(sqlite3_exec(f->db,
				      "INSERT INTO outbox (trigger_id, created_us, topic, payload, "
				      "customer_id) VALUES ('ta', 1, 't', '{}', 1)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	before = digest(f->db);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (int mode = STORE_IMPORT_UPDATE; mode <= STORE_IMPORT_SYNC; mode++) {
			int rc = import(f, (enum store_import_mode)mode, bad[i]);

			if (rc == STORE_OK)
				fail_msg("bad file %zu accepted in mode %d", i, mode);
			assert_non_null(strstr(f->err, "line "));
			assert_true(digest(f->db) == before);
		}
	assert_non_null(strstr(f->err, "line 5:"));
}

/* What an import leaves in the log: one 'customer.import' entry per new
 * customer with what arrived (fingerprints, not identifiers), in the log's
 * id order with the rows around it; forget empties it and keeps the entry. */
static void audit_entry_per_customer(void **state)
{
	struct fixture *f = *state;
	cJSON *log, *e, *after;
	bool cleanup_ok;

	assert_int_equal(store_customer_add(f->db, "test", "FIRST", f->err), STORE_OK);
	assert_int_equal(import(f, STORE_IMPORT_CREATE, HEADER
				"A,ibeacon " U ":1:1|irk 00112233445566778899aabbccddeeff,"
				"presence;retargeting@push+email/2099-01-01,vip|new\n"
				"B,,presence,\n"),
			 STORE_OK);
	assert_int_equal(store_audit_list(f->db, 0, NULL, &log, f->err), STORE_OK);
	assert_int_equal(cJSON_GetArraySize(log), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(log, i), "id")->valuedouble,
				 i + 1);
	e = cJSON_GetArrayItem(log, 1);
	assert_string_equal(cJSON_GetObjectItem(e, "action")->valuestring, "customer.import");
	assert_string_equal(cJSON_GetObjectItem(e, "actor")->valuestring, "test");
	assert_string_equal(cJSON_GetObjectItem(e, "subject")->valuestring, "customer:2");
	assert_string_equal(cJSON_GetObjectItem(e, "customer_ref")->valuestring, "A");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "before")));
	after = cJSON_GetObjectItem(e, "after");
	{
		char *text = cJSON_PrintUnformatted(after);
		const char *fp;
		cJSON *ids = cJSON_GetObjectItem(after, "identifiers");
		cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItem(after, "consents"), 1);

		assert_int_equal(cJSON_GetArraySize(ids), 2);
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 1), "type")
					    ->valuestring, "irk");
		fp = cJSON_GetObjectItem(cJSON_GetArrayItem(ids, 1), "fingerprint")->valuestring;
		assert_int_equal(strlen(fp), 8);
		assert_int_equal(strspn(fp, "0123456789abcdef"), 8);
		assert_string_equal(cJSON_GetObjectItem(k, "channels")->valuestring, "push,email");
		assert_true(cJSON_GetObjectItem(k, "expires_at")->valuedouble > 4e9);
		assert_null(strstr(text, "00112233"));
		assert_non_null(strstr(text, "\"segments\":[\"vip\",\"new\"]"));
		assert_non_null(strstr(text, "{\"created_at\":"));
		cJSON_free(text);
	}
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 3), "action")->valuestring,
			    "import");
	cJSON_Delete(log);

	assert_int_equal(store_forget(f->db, "test", "A", &cleanup_ok, f->err), STORE_OK);
	assert_int_equal(store_audit_list(f->db, 0, NULL, &log, f->err), STORE_OK);
	e = cJSON_GetArrayItem(log, 1);
	assert_string_equal(cJSON_GetObjectItem(e, "action")->valuestring, "customer.import");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "after")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "customer_ref")));
	cJSON_Delete(log);
	/* append-only for everyone else */
	assert_int_not_equal(sqlite3_exec(f->db, "UPDATE audit_import SET detail = NULL", NULL,
					  NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(f->db, "DELETE FROM audit_import", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit_import WHERE detail IS NULL"), 1);
}

/* An entry written in the first compact format (databases of schema v7 to
 * v9) reads as it always did. */
static void audit_entry_of_format_1(void **state)
{
	struct fixture *f = *state;
	cJSON *log, *after;
	char *text;

	assert_int_equal(sqlite3_exec(f->db,
		"INSERT INTO customers (id, customer_ref, created_at, audit_salt) VALUES "
		"(7, 'OLD', 1700000000, zeroblob(16));"
		"INSERT INTO audit_bulk (id, at, actor) VALUES (1, 1700000000, 'beaconctl:ops');"
		/* 'I' ibeacon deadbeef, 'C' retargeting expiring push 2099, 'S' vip */
		"INSERT INTO audit_import (customer_id, id, bulk, detail) VALUES (7, 1, 1, "
		"X'01" "4901DEADBEEF" "4301010470757368" "804C0EF400000000" "5303766970')",
		NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_audit_list(f->db, 0, NULL, &log, f->err), STORE_OK);
	after = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "after");
	text = cJSON_PrintUnformatted(after);
	assert_string_equal(text, "{\"created_at\":1700000000,\"identifiers\":[{\"type\":"
			    "\"ibeacon\",\"fingerprint\":\"deadbeef\"}],\"consents\":[{\"purpose\":"
			    "\"retargeting\",\"channels\":\"push\",\"expires_at\":4094577792}],"
			    "\"segments\":[\"vip\"]}");
	cJSON_free(text);
	cJSON_Delete(log);
}

/* Customers enrolled together share their consent pair in the snapshot;
 * each still reads its own current grants. */
static void snapshot_shares_consents(void **state)
{
	struct fixture *f = *state;
	struct snapshot *s;
	char err[STORE_ERRLEN];

	assert_int_equal(import(f, STORE_IMPORT_CREATE, HEADER
				"A,ibeacon " U ":1:1,presence;retargeting@push,\n"
				"B,ibeacon " U ":1:2,presence;retargeting@push,\n"
				"C,ibeacon " U ":1:3,presence,\n"
				"D,ibeacon " U ":1:4,,\n"
				"A2,ibeacon " U ":1:6,presence;retargeting@push,\n"),
			 STORE_OK);
	assert_int_equal(store_consent_withdraw(f->db, "test", "B", STORE_RETARGETING, f->err),
			 STORE_OK);
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_customers, 5);
	assert_ptr_equal(snap_customer_consent(s, &s->customers[0]),
			 snap_customer_consent(s, &s->customers[4]));
	assert_true(snap_customer_consent(s, &s->customers[0])[SNAP_RETARGETING].granted);
	assert_int_equal(snap_customer_consent(s, &s->customers[0])[SNAP_RETARGETING].until, 0);
	assert_true(snap_customer_consent(s, &s->customers[1])[SNAP_RETARGETING].until != 0);
	assert_true(snap_customer_consent(s, &s->customers[2])[SNAP_PRESENCE].granted);
	assert_false(snap_customer_consent(s, &s->customers[2])[SNAP_RETARGETING].granted);
	assert_false(snap_customer_consent(s, &s->customers[3])[SNAP_PRESENCE].granted);
	assert_ptr_equal(snap_customer_consent(s, &s->customers[3]), s->consent_sets[0]);
	/* none, A's and A2's, B's (withdrawn), C's */
	assert_int_equal(s->n_consent_sets, 4);
	snapshot_free(s);
	assert_int_equal(import(f, STORE_IMPORT_CREATE, HEADER
				"E,ibeacon " U ":1:5,presence;retargeting@push,\n"),
			 STORE_OK);
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	/* E's grants are newer than A's: a pair of its own */
	assert_int_equal(s->n_consent_sets,
			 4 + (snap_customer_consent(s, &s->customers[5]) !=
			      snap_customer_consent(s, &s->customers[0])));
	assert_true(snap_customer_consent(s, &s->customers[5])[SNAP_RETARGETING].granted);
	snapshot_free(s);
}

/* A read-only open leaves an older schema as it is: the log of a database
 * from before the compact import entries (v6) still lists and exports. */
static void audit_of_older_schema(void **state)
{
	struct fixture *f = *state;
	sqlite3 *ro;
	cJSON *log, *doc;

	assert_int_equal(store_customer_add(f->db, "test", "OLD", f->err), STORE_OK);
	assert_int_equal(sqlite3_exec(f->db, "DROP TABLE audit_import; DROP TABLE audit_bulk; "
					     "PRAGMA user_version = 6", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_open(f->path, STORE_OPEN_READONLY, &ro, f->err), STORE_OK);
	assert_int_equal(store_audit_list(ro, 0, NULL, &log, f->err), STORE_OK);
	assert_int_equal(cJSON_GetArraySize(log), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "customer_ref")
				    ->valuestring, "OLD");
	cJSON_Delete(log);
	assert_int_equal(store_export(ro, "OLD", &doc, f->err), STORE_OK);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "audit")), 1);
	cJSON_Delete(doc);
	store_close(ro);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(default_mode_refuses_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_do_not_inherit, setup, teardown),
		cmocka_unit_test_setup_teardown(update_adds_and_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(sync_withdraws_and_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(sync_purges_queued_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(identifiers_follow_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_row_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_entry_per_customer, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_entry_of_format_1, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_shares_consents, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_of_older_schema, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
