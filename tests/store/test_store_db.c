/*
 * The store against real SQLite files: opening, migrations, every change with
 * its audit row, caller-held transactions, erasure, retention and the snapshot
 * the data path loads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "snapshot.h"
#include "store.h"
#include "store_fixture.h"
#include "store_schema.h"

struct fixture {
	char dir[STORE_FIXTURE_DIR_MAX];
	char path[STORE_FIXTURE_PATH_MAX];
	sqlite3 *db;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || store_fixture_dir("store", "t.db", f->dir, f->path) ||
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

/* A consent row written by hand takes its id where the store does. */
#define NEXT_ID "(SELECT value FROM kv WHERE key = 'consent_next_id')"
#define BUMP_ID "UPDATE kv SET value = value + 1 WHERE key = 'consent_next_id';"

static int64_t count(sqlite3 *db, const char *sql)
{
	return store_fixture_int(db, sql, -1);
}

static void open_checks(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN], path[128];
	sqlite3 *db;
	FILE *fp;

	assert_int_equal(store_schema_version(f->db), STORE_SCHEMA_VERSION);
	/* missing file without CREATE */
	snprintf(path, sizeof(path), "%s/missing.db", f->dir);
	assert_int_equal(store_open(path, 0, &db, err), STORE_EIO);
	assert_null(db);
	assert_non_null(strstr(err, "beaconctl init"));
	assert_int_equal(access(path, F_OK), -1);
	/* garbage */
	snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
	fp = fopen(path, "w");
	for (int i = 0; i < 4096; i++)
		fputc(i * 7, fp);
	fclose(fp);
	assert_int_equal(store_open(path, 0, &db, err), STORE_ECORRUPT);
	/* from the future */
	assert_int_equal(sqlite3_exec(f->db, "PRAGMA user_version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_open(f->path, 0, &db, err), STORE_ESCHEMA);
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(sqlite3_exec(f->db, "PRAGMA user_version = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	/* a second connection sees the journal mode and pragmas */
	assert_int_equal(store_open(f->path, 0, &db, err), STORE_OK);
	assert_int_equal(count(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(count(db, "PRAGMA secure_delete"), 1);
	store_close(db);
}

static void changes_and_audit(void **state)
{
	struct fixture *f = *state;
	struct store_identifier id;
	struct store_grant g = { .purpose = STORE_RETARGETING, .channels = "push,email" };
	char err[STORE_ERRLEN];

	assert_int_equal(store_customer_add(f->db, "t", "Q-C1", err), STORE_OK);
	assert_int_equal(store_customer_add(f->db, "t", "Q-C1", err), STORE_EEXIST);
	assert_int_equal(store_identifier_parse(STORE_ID_IRK, "00112233445566778899aabbccddeeff",
						&id, err), STORE_OK);
	assert_int_equal(store_identifier_add(f->db, "t", "Q-C1", &id, err), STORE_OK);
	assert_int_equal(store_identifier_add(f->db, "t", "Q-C1", &id, err), STORE_EEXIST);
	assert_int_equal(store_identifier_add(f->db, "t", "NOPE", &id, err), STORE_ENOENT);
	assert_int_equal(store_consent_grant(f->db, "t", "Q-C1", &g, err), STORE_OK);
	assert_int_equal(store_consent_withdraw(f->db, "t", "Q-C1", STORE_RETARGETING, err),
			 STORE_OK);
	assert_int_equal(store_consent_withdraw(f->db, "t", "Q-C1", STORE_RETARGETING, err),
			 STORE_ENOENT);
	assert_int_equal(store_consent_grant(f->db, "t", "Q-C1", &g, err), STORE_OK);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents"), 2);
	assert_int_equal(store_segment_add(f->db, "t", "Q-C1", "vip", err), STORE_OK);
	assert_int_equal(store_segment_add(f->db, "t", "Q-C1", "vip", err), STORE_EEXIST);
	assert_int_equal(store_segment_remove(f->db, "t", "Q-C1", "vip", err), STORE_OK);
	assert_int_equal(store_segment_remove(f->db, "t", "Q-C1", "vip", err), STORE_ENOENT);
	assert_int_equal(store_identifier_remove(f->db, "t", &id, err), STORE_OK);
	assert_int_equal(store_identifier_remove(f->db, "t", &id, err), STORE_ENOENT);
	/* one audit row per successful change, none for the failed ones */
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit"), 8);
	/* the audit log never holds the ref or the key (a ref with letters no
	 * hex fingerprint has: LIKE ignores case, and "c1" is hex) */
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE before LIKE '%Q-C1%' OR "
				      "after LIKE '%Q-C1%' OR subject LIKE '%Q-C1%' OR "
				      "after LIKE '%00112233%'"), 0);
	/* append-only */
	assert_int_not_equal(sqlite3_exec(f->db, "UPDATE audit SET actor = 'x'", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_non_null(strstr(sqlite3_errmsg(f->db), "append-only"));
	assert_int_not_equal(sqlite3_exec(f->db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit"), 8);
}

static void caller_transaction(void **state)
{
	struct fixture *f = *state;
	struct store_grant g = { .purpose = STORE_PRESENCE };
	char err[STORE_ERRLEN], v[32];

	assert_int_equal(store_begin(f->db, err), STORE_OK);
	assert_int_equal(store_customer_add_tx(f->db, "mqtt", "C2", NULL, err), STORE_OK);
	assert_int_equal(store_consent_grant_tx(f->db, "mqtt", "C2", &g, err), STORE_OK);
	assert_int_equal(store_kv_set(f->db, "consent_seq", "41", err), STORE_OK);
	store_rollback(f->db);
	assert_int_equal(count(f->db, "SELECT count(*) FROM customers"), 0);
	assert_int_equal(store_kv_get(f->db, "consent_seq", v, sizeof(v), err), STORE_ENOENT);

	assert_int_equal(store_begin(f->db, err), STORE_OK);
	assert_int_equal(store_customer_add_tx(f->db, "mqtt", "C2", NULL, err), STORE_OK);
	assert_int_equal(store_consent_grant_tx(f->db, "mqtt", "C2", &g, err), STORE_OK);
	assert_int_equal(store_kv_set(f->db, "consent_seq", "42", err), STORE_OK);
	assert_int_equal(store_commit(f->db, err), STORE_OK);
	assert_int_equal(store_kv_get(f->db, "consent_seq", v, sizeof(v), err), STORE_OK);
	assert_string_equal(v, "42");

	assert_int_equal(store_begin(f->db, err), STORE_OK);
	assert_int_equal(store_forget_tx(f->db, "mqtt", "C2", err), STORE_OK);
	assert_int_equal(store_commit(f->db, err), STORE_OK);
	assert_int_equal(store_forget_cleanup(f->db, err), STORE_OK);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM audit WHERE action = 'forget'"), 1);
}

static void forget_cascades(void **state)
{
	struct fixture *f = *state;
	struct store_campaign c = { .name = "k", .zone = "z", .event = 0, .hours_from = -1,
				    .hours_until = -1, .enabled = true };
	char err[STORE_ERRLEN];
	bool clean;

	assert_int_equal(store_customer_add(f->db, "t", "C3", err), STORE_OK);
	assert_int_equal(store_campaign_add(f->db, "t", &c, err), STORE_OK);
	assert_int_equal(store_campaign_add(f->db, "t", &c, err), STORE_EEXIST);
	assert_int_equal(sqlite3_exec(f->db,
				      "INSERT INTO visits (customer_id, zone, entered_at) VALUES (1, 'z', 1);"
				      "INSERT INTO trigger_log (trigger_id, customer_id, campaign_id, at) "
				      "VALUES ('t1', 1, 1, 1);"
				      "INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) "
				      "VALUES ('t1', 1, 'x', '{}', 1)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_forget(f->db, "t", "C3", &clean, err), STORE_OK);
	assert_true(clean);
	assert_int_equal(count(f->db, "SELECT count(*) FROM visits"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM trigger_log"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(store_forget(f->db, "t", "C3", &clean, err), STORE_ENOENT);
	assert_int_equal(store_campaign_remove(f->db, "t", "k", err), STORE_OK);
	assert_int_equal(store_campaign_remove(f->db, "t", "k", err), STORE_ENOENT);
}

static void purge_retention(void **state)
{
	struct fixture *f = *state;
	struct store_purge_result r;
	char err[STORE_ERRLEN];
	int64_t now = (int64_t)time(NULL);
	char sql[1024];

	assert_int_equal(store_customer_add(f->db, "t", "C4", err), STORE_OK);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO visits (customer_id, zone, entered_at, exited_at) VALUES "
		 "(1, 'z', %lld, %lld), (1, 'z', %lld, %lld);"
		 "INSERT INTO consents (customer_id, purpose, granted_at, expires_at, source, id) "
		 "VALUES (1, 0, 1, %lld, 1 /* cli */, " NEXT_ID ");" BUMP_ID
		 "INSERT INTO consents (customer_id, purpose, granted_at, expires_at, source, id) "
		 "VALUES (1, 1, 1, %lld, 'cli', " NEXT_ID ");" BUMP_ID,
		 (long long)(now - 40 * 86400), (long long)(now - 40 * 86400 + 60),
		 (long long)(now - 3600), (long long)now, (long long)(now - 10),
		 (long long)(now + 86400));
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_purge(f->db, "t", 30, now, &r, err), STORE_OK);
	assert_int_equal(r.visits, 1);
	assert_int_equal(r.consents_archived, 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents_archive"), 1);
	/* the archive names the source and the purpose */
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents_archive WHERE source = 'cli' "
				      "AND purpose = 'presence'"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents"), 1);
	assert_int_equal(store_purge(f->db, "t", 0, now, &r, err), STORE_EINVAL);

	/* A grant without expiry replaced by one with an expiry, now passed:
	 * purging must not bring the older grant back as the current one. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO consents (customer_id, purpose, channels, granted_at, source, id) "
		 "VALUES (1, 1, 'push', 2, 'cli', " NEXT_ID ");" BUMP_ID
		 "INSERT INTO consents (customer_id, purpose, channels, granted_at, expires_at, "
		 "source, id) VALUES (1, 1, 'push', 3, %lld, 'cli', " NEXT_ID ");" BUMP_ID,
		 (long long)(now - 5));
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_purge(f->db, "t", 30, now, &r, err), STORE_OK);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents WHERE purpose = 1 "
			       "AND expires_at IS NULL AND granted_at = 2"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents_archive WHERE granted_at = 2"),
			 1);
}

/* The snapshot keeps times in 32 bits: what falls outside 1970..2106 keeps
 * its meaning (granted long ago, ended long ago, never ends). */
static void snapshot_time_bounds(void **state)
{
	struct snap_consent c = { .granted = true };

	(void)state;
	assert_int_equal(snap_time32(-5), 0);
	assert_int_equal(snap_time32(1800000000), 1800000000u);
	assert_int_equal(snap_time32((int64_t)1 << 40), UINT32_MAX);
	assert_int_equal(snap_until32(0), 0);
	assert_int_equal(snap_until32(-3), 1);
	assert_int_equal(snap_until32((int64_t)1 << 40), 0);
	c.from = snap_time32(-100);
	c.until = snap_until32(-1);
	assert_false(snap_consent_active(&c, 1800000000));
	c.until = snap_until32((int64_t)1 << 40);
	assert_true(snap_consent_active(&c, 1800000000));
	c.from = snap_time32((int64_t)1 << 40);
	assert_false(snap_consent_active(&c, 1800000000));
}

static void snapshot_contents(void **state)
{
	struct fixture *f = *state;
	struct store_identifier id;
	struct store_grant g = { .purpose = STORE_RETARGETING, .channels = "email,push",
				 .policy = "v3" };
	struct store_campaign c = { .name = "sofa", .zone = "living", .event = 1, .segment = "vip",
				    .min_dwell_s = 60, .cooldown_s = 600, .daily_cap = 2,
				    .channels = "push", .hours_from = 540, .hours_until = 1200,
				    .enabled = true };
	struct snapshot *s;
	char err[STORE_ERRLEN], sql[256], ref[SNAP_REF_MAX];
	uint64_t v0;

	assert_int_equal(store_customer_add(f->db, "t", "A", err), STORE_OK);
	assert_int_equal(store_customer_add(f->db, "t", "B", err), STORE_OK);
	assert_int_equal(store_identifier_parse(STORE_ID_IBEACON,
						"f7826da6-4fa2-4e98-8024-bc5b71e0893e:7:9", &id, err),
			 STORE_OK);
	assert_int_equal(store_identifier_add(f->db, "t", "B", &id, err), STORE_OK);
	assert_int_equal(store_identifier_parse(STORE_ID_EDDYSTONE_EID,
						"000102030405060708090a0b0c0d0e0f:4:-7", &id, err),
			 STORE_OK);
	assert_int_equal(store_identifier_add(f->db, "t", "A", &id, err), STORE_OK);
	assert_int_equal(store_consent_grant(f->db, "t", "B", &g, err), STORE_OK);
	assert_int_equal(store_segment_add(f->db, "t", "B", "vip", err), STORE_OK);
	assert_int_equal(store_campaign_add(f->db, "t", &c, err), STORE_OK);
	snprintf(sql, sizeof(sql), "INSERT INTO trigger_log (trigger_id, customer_id, campaign_id, "
				   "at) VALUES ('a', 2, 1, %lld), ('b', 2, 1, %lld)",
		 (long long)time(NULL) - 5, (long long)time(NULL) - 1);
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);

	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_customers, 2);
	assert_string_equal(snap_customer_ref(s, &s->customers[0], ref), "A");
	assert_string_equal(snap_customer_ref(s, &s->customers[1], ref), "B");
	assert_int_equal(s->n_identifiers, 2);
	assert_int_equal(s->identifiers[0].type, SNAP_ID_IBEACON);
	assert_int_equal(s->identifiers[0].customer, 1);
	{
		uint8_t buf[SNAP_ID_BYTES_MAX];
		const uint8_t *v = snap_identifier_bytes(s, &s->identifiers[0], buf);

		assert_int_equal(v[0], 0xf7);
		assert_int_equal(v[17], 7);
		assert_int_equal(v[19], 9);
		/* the UUID is kept once for all the iBeacons that carry it */
		assert_int_equal(s->n_uuids, 1);
		v = snap_identifier_bytes(s, &s->identifiers[1], buf);
		assert_int_equal(v[15], 0x0f);
	}
	assert_int_equal(s->identifiers[1].type, SNAP_ID_EDDYSTONE_EID);
	assert_int_equal(s->identifiers[1].exponent, 4);
	assert_int_equal(snap_clock_offset(s, &s->identifiers[1]), -7);
	assert_true(snap_consent_active(&snap_customer_consent(s, &s->customers[1])[SNAP_RETARGETING],
					time(NULL)));
	assert_false(snap_customer_consent(s, &s->customers[1])[SNAP_PRESENCE].granted);
	assert_string_equal(
		snap_consent_policy(s, &snap_customer_consent(s, &s->customers[1])[SNAP_RETARGETING]),
		"v3");
	assert_int_equal(s->n_channels, 2);
	assert_string_equal(s->channels[0], "email");
	assert_int_equal(snap_customer_consent(s, &s->customers[1])[SNAP_RETARGETING].channels, 3);
	{
		const uint32_t *segs;

		assert_int_equal(snap_customer_segments(s, 0, &segs), 0);
		assert_int_equal(snap_customer_segments(s, 1, &segs), 1);
		assert_string_equal(s->segments[segs[0]], "vip");
	}
	assert_int_equal(s->n_campaigns, 1);
	assert_string_equal(s->campaigns[0].zone, "living");
	assert_int_equal(s->campaigns[0].event, SNAP_EVENT_DWELL);
	assert_int_equal(s->campaigns[0].segment, 0);
	assert_int_equal(s->campaigns[0].channels, 2);
	assert_int_equal(s->campaigns[0].hours_from_min, 540);
	assert_int_equal(s->n_history, 1);
	assert_int_equal(s->history[0].customer, 1);
	assert_int_equal(s->history[0].count_today >= 1, 1);
	v0 = s->data_version;
	snapshot_free(s);

	/* another connection's commit changes data_version; a withdrawal shows */
	sqlite3 *other;

	assert_int_equal(store_open(f->path, 0, &other, err), STORE_OK);
	assert_int_equal(store_consent_withdraw(other, "t", "B", STORE_RETARGETING, err),
			 STORE_OK);
	store_close(other);
	assert_true(store_data_version(f->db) != v0);
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	assert_false(snap_consent_active(&snap_customer_consent(s, &s->customers[1])[SNAP_RETARGETING],
					 time(NULL)));
	snapshot_free(s);
}

/* A row of a type this program does not know (a newer schema's, written
 * past the CHECK here) is left out of the snapshot; the known one next to it
 * is not. */
static void snapshot_unknown_types(void **state)
{
	struct fixture *f = *state;
	struct snapshot *s;
	char err[STORE_ERRLEN];

	assert_int_equal(store_customer_add(f->db, "t", "A", err), STORE_OK);
	assert_int_equal(sqlite3_exec(f->db,
		"PRAGMA ignore_check_constraints = ON;"
		"INSERT INTO identifiers (customer_id, type, value, created_at) VALUES "
		"(1, -1, X'000102030405060708090a0b0c0d0e0f', 1), "
		"(1, 0, X'000102030405060708090a0b0c0d0e0f', 1), "
		"(1, 4, X'000102030405060708090a0b0c0d0e0f', 1), "
		"(1, 6, X'000102030405060708090a0b0c0d0e0f', 1), "
		"(1, 255, X'000102030405060708090a0b0c0d0e0f', 1);"
		"PRAGMA ignore_check_constraints = OFF;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_identifiers, 1);
	assert_int_equal(s->identifiers[0].type, SNAP_ID_IRK);
	snapshot_free(s);
}

/* The trigger history is loaded for campaigns with a cooldown or a daily
 * cap, the only ones that read it. */
static void snapshot_history_of_capped_campaigns(void **state)
{
	struct fixture *f = *state;
	struct store_campaign uncapped = { .name = "hello", .zone = "door", .event = 0,
					   .channels = "", .hours_from = -1, .hours_until = -1,
					   .enabled = true };
	struct store_campaign capped = uncapped;
	struct snapshot *s;
	char err[STORE_ERRLEN], sql[256];

	capped.name = "once-a-day";
	capped.daily_cap = 1;
	assert_int_equal(store_customer_add(f->db, "t", "A", err), STORE_OK);
	assert_int_equal(store_campaign_add(f->db, "t", &uncapped, err), STORE_OK);
	assert_int_equal(store_campaign_add(f->db, "t", &capped, err), STORE_OK);
	snprintf(sql, sizeof(sql), "INSERT INTO trigger_log (trigger_id, customer_id, campaign_id, "
				   "at) VALUES ('a', 1, 1, %lld), ('b', 1, 2, %lld)",
		 (long long)time(NULL) - 5, (long long)time(NULL) - 5);
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_campaigns, 2);
	assert_int_equal(s->n_history, 1);
	assert_string_equal(s->campaigns[s->history[0].campaign].name, "once-a-day");
	snapshot_free(s);
}

/* Customers are found by customers.id and back, and their references read
 * back whole, whatever gaps removals left, across the snapshot's blocks of
 * 64 customers. */
static void snapshot_customer_ids(void **state)
{
	struct fixture *f = *state;
	struct store_grant g = { .purpose = STORE_RETARGETING, .channels = "push" };
	char err[STORE_ERRLEN], ref[SNAP_REF_MAX];
	struct snapshot *s;
	sqlite3_stmt *st;
	bool clean;
	uint32_t k = 0;

	/* References short and as long as the store takes (63 characters). */
	for (int i = 0; i < 150; i++) {
		if (i % 3)
			snprintf(ref, sizeof(ref), "C%d", i);
		else
			snprintf(ref, sizeof(ref), "C%03d%059d", i & 255, i & 255);
		assert_int_equal(store_customer_add(f->db, "t", ref, err), STORE_OK);
	}
	/* C1 and C2 are in "vip", C2 and C4 granted retargeting: customers
	 * differ in what they share with the others. */
	assert_int_equal(store_segment_add(f->db, "t", "C1", "vip", err), STORE_OK);
	assert_int_equal(store_segment_add(f->db, "t", "C2", "vip", err), STORE_OK);
	assert_int_equal(store_consent_grant(f->db, "t", "C2", &g, err), STORE_OK);
	assert_int_equal(store_consent_grant(f->db, "t", "C4", &g, err), STORE_OK);
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	assert_int_equal(s->n_id_runs, 1); /* no gap: one run for everybody */
	for (uint32_t i = 0; i < 6; i++) {
		const uint32_t *segs;

		assert_int_equal(snap_customer_segments(s, i, &segs), i == 1 || i == 2);
		assert_int_equal(
			snap_customer_consent(s, &s->customers[i])[SNAP_RETARGETING].granted,
			i == 2 || i == 4);
	}
	snapshot_free(s);
	for (int i = 0; i < 150; i++) {
		if (i % 7 != 3 && (i < 60 || i > 70))
			continue;
		if (i % 3)
			snprintf(ref, sizeof(ref), "C%d", i);
		else
			snprintf(ref, sizeof(ref), "C%03d%059d", i & 255, i & 255);
		assert_int_equal(store_forget(f->db, "t", ref, &clean, err), STORE_OK);
	}
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT id, customer_ref FROM customers "
						   "ORDER BY id", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);

		assert_true(k < s->n_customers);
		assert_int_equal(snap_customer_id(s, k), id);
		assert_int_equal(snap_customer_index(s, id), k);
		assert_string_equal(snap_customer_ref(s, &s->customers[k], ref),
				    (const char *)sqlite3_column_text(st, 1));
		k++;
	}
	sqlite3_finalize(st);
	assert_int_equal(k, s->n_customers);
	/* C3 (id 4), C60 .. C70 (ids 61 .. 71) are gone; nobody before id 1 or after C149 */
	assert_int_equal(snap_customer_index(s, 4), -1);
	for (int64_t id = 61; id <= 71; id++)
		assert_int_equal(snap_customer_index(s, id), -1);
	assert_int_equal(snap_customer_index(s, 0), -1);
	assert_int_equal(snap_customer_index(s, 151), -1);
	assert_int_equal(snap_customer_index(s, 1), 0);
	snapshot_free(s);
}

static void export_document(void **state)
{
	struct fixture *f = *state;
	struct store_identifier id;
	char err[STORE_ERRLEN], *text;
	cJSON *doc;

	assert_int_equal(store_customer_add(f->db, "t", "E1", err), STORE_OK);
	assert_int_equal(store_identifier_parse(STORE_ID_IRK, "ffeeddccbbaa99887766554433221100",
						&id, err), STORE_OK);
	assert_int_equal(store_identifier_add(f->db, "t", "E1", &id, err), STORE_OK);
	assert_int_equal(store_export(f->db, "E1", &doc, err), STORE_OK);
	text = cJSON_PrintUnformatted(doc);
	assert_null(strstr(text, "ffeeddcc"));   /* keys only as fingerprints */
	assert_non_null(strstr(text, "key_fingerprint"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "audit")), 2);
	cJSON_free(text);
	cJSON_Delete(doc);
	assert_int_equal(store_export(f->db, "E2", &doc, err), STORE_ENOENT);
}

static uint64_t generation(sqlite3 *db)
{
	uint64_t g = 0;
	char err[STORE_ERRLEN];

	assert_int_equal(store_consent_generation(db, &g, err), STORE_OK);
	return g;
}

/* consent_generation moves with every change the snapshot is built from,
 * whoever makes it, and with none of the daemon's own writes. */
static void consent_generation_moves(void **state)
{
	struct fixture *f = *state;
	struct store_grant g = { .purpose = STORE_PRESENCE, .channels = "" };
	struct store_campaign c = { .name = "welcome", .zone = "entrance", .channels = "",
				    .hours_from = -1, .hours_until = -1, .enabled = true };
	char err[STORE_ERRLEN];
	uint64_t g0, g1;
	int64_t id;

	g0 = generation(f->db);
	assert_int_equal(store_customer_add(f->db, "cli", "C1", err), STORE_OK);
	g1 = generation(f->db);
	assert_true(g1 > g0);
	assert_int_equal(store_consent_grant(f->db, "cli", "C1", &g, err), STORE_OK);
	assert_true(generation(f->db) > g1);
	g1 = generation(f->db);
	assert_int_equal(store_segment_add(f->db, "cli", "C1", "vip", err), STORE_OK);
	assert_true(generation(f->db) > g1);
	g1 = generation(f->db);
	assert_int_equal(store_campaign_add(f->db, "cli", &c, err), STORE_OK);
	assert_true(generation(f->db) > g1);
	g1 = generation(f->db);
	/* a plain SQL writer's updates and deletes move it too */
	assert_int_equal(sqlite3_exec(f->db, "UPDATE campaigns SET enabled = 0", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_true(generation(f->db) > g1);
	g1 = generation(f->db);
	assert_int_equal(sqlite3_exec(f->db, "UPDATE consents SET withdrawn_at = 5", NULL, NULL,
				      NULL), SQLITE_OK);
	assert_true(generation(f->db) > g1);
	g1 = generation(f->db);

	/* the daemon's own rows and the audit log leave it alone */
	assert_int_equal(store_customer_id(f->db, "C1", &id, err), STORE_OK);
	assert_int_equal(sqlite3_exec(f->db,
				      "INSERT INTO visits(customer_id, zone, entered_at) "
				      "SELECT id, 'entrance', 1 FROM customers;"
				      "UPDATE visits SET exited_at = 2;"
				      "INSERT INTO trigger_log(trigger_id, customer_id, campaign_id, "
				      "at) SELECT 't1', c.id, k.id, 1 FROM customers c, campaigns k;"
				      "INSERT INTO outbox(trigger_id, created_us, topic, payload, "
				      "customer_id) VALUES ('t1', 1, 't', '{}', NULL);"
				      "DELETE FROM outbox;",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(generation(f->db), g1);

	assert_int_equal(store_customer_remove(f->db, "cli", "C1", err), STORE_OK);
	assert_true(generation(f->db) > g1);
}

/* A version 1 database (as released) is upgraded in place on open. */
static void migrate_from_v1(void **state)
{
	struct fixture *f = *state;
	char path[128], err[STORE_ERRLEN];
	sqlite3 *raw, *db;
	uint64_t g0;

	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "INSERT INTO customers(customer_ref, created_at, "
				      "audit_salt) VALUES ('old', 1, zeroblob(16));"
				      "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	/* readers take it as it is; the first writer upgrades it */
	assert_int_equal(store_open(path, STORE_OPEN_READONLY, &db, err), STORE_OK);
	assert_int_equal(store_schema_version(db), 1);
	store_close(db);
	assert_int_equal(store_open(path, 0, &db, err), STORE_OK);
	assert_int_equal(store_schema_version(db), STORE_SCHEMA_VERSION);
	g0 = generation(db);
	assert_int_equal(store_customer_remove(db, "cli", "old", err), STORE_OK);
	assert_true(generation(db) > g0);
	store_close(db);
}

/* What the snapshot cannot hold is refused at write time; a store edited
 * past it anyway fails to load with STORE_EINVAL (the daemon fails closed). */
static void loader_limits(void **state)
{
	struct fixture *f = *state;
	struct store_grant g = { .purpose = STORE_RETARGETING };
	struct store_campaign c = { .name = "k", .zone = "z", .event = 0, .channels = "fresh",
				    .hours_from = -1, .hours_until = -1, .enabled = true };
	struct snapshot *s = NULL;
	char ch[33 * 6 + 1] = "", err[STORE_ERRLEN];

	assert_int_equal(store_customer_add(f->db, "t", "c1", err), STORE_OK);
	/* Whoever records it (CLI, import, a signed update): a retargeting grant
	 * without a channel could never send a trigger. */
	g.channels = "";
	assert_int_equal(store_consent_grant(f->db, "t", "c1", &g, err), STORE_EINVAL);
	assert_non_null(strstr(err, "at least one channel"));
	for (int i = 1; i <= 33; i++)
		snprintf(ch + strlen(ch), sizeof(ch) - strlen(ch), "%sc%02d", i > 1 ? "," : "", i);
	g.channels = ch;
	assert_int_equal(store_consent_grant(f->db, "t", "c1", &g, err), STORE_EINVAL);
	assert_non_null(strstr(err, "at most 32"));
	assert_int_equal(count(f->db, "SELECT count(*) FROM consents"), 0);
	ch[32 * 4 - 1] = '\0';                     /* c01..c32 */
	assert_int_equal(store_consent_grant(f->db, "t", "c1", &g, err), STORE_OK);
	g.channels = "c05,c32";                    /* known names cost nothing */
	assert_int_equal(store_consent_grant(f->db, "t", "c1", &g, err), STORE_OK);
	assert_int_equal(store_campaign_add(f->db, "t", &c, err), STORE_EINVAL);
	c.channels = "c07";
	assert_int_equal(store_campaign_add(f->db, "t", &c, err), STORE_OK);
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), 0);
	snapshot_free(s);

	assert_int_equal(sqlite3_exec(f->db, "UPDATE consents SET channels = channels || ',x33'",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_snapshot_load(f->db, &s, err, sizeof(err)), STORE_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "32 distinct channel"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(changes_and_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(caller_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(forget_cascades, setup, teardown),
		cmocka_unit_test_setup_teardown(purge_retention, setup, teardown),
		cmocka_unit_test(snapshot_time_bounds),
		cmocka_unit_test_setup_teardown(snapshot_contents, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_unknown_types, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_history_of_capped_campaigns, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_customer_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(export_document, setup, teardown),
		cmocka_unit_test_setup_teardown(consent_generation_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(migrate_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(loader_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
