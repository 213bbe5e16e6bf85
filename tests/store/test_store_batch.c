/*
 * The daemon's batches against real SQLite files: the connection recipe and
 * its options, outbox rows, trigger history and visits (store_outbox.h,
 * store_visits.h), including the answers the group commit acts upon
 * (a forgotten customer, a duplicate trigger, a locked database).
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

#include "store.h"
#include "store_fixture.h"
#include "store_outbox.h"
#include "store_visits.h"

/* created_us of a trigger queued after the grant (at unix second 1) */
#define T1 10000000
#define IBEACON "f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2"

struct fixture {
	char dir[STORE_FIXTURE_DIR_MAX];
	char path[STORE_FIXTURE_PATH_MAX];
	sqlite3 *db;          /* the daemon's batch connection: never waits */
	int64_t customer, campaign;
};

static int setup(void **state)
{
	const struct store_open_opts nowait = { .busy_ms = 0, .cache_kib = 512 };
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_campaign c = { .name = "welcome", .zone = "entrance", .hours_from = -1,
				    .hours_until = -1, .enabled = true, .channels = "" };
	/* Granted at unix second 1: the rows below are dated from then on. */
	const struct store_grant presence = { .purpose = STORE_PRESENCE, .channels = "",
					      .granted_at = 1 };
	const struct store_grant retargeting = { .purpose = STORE_RETARGETING,
						 .channels = "push", .granted_at = 1 };
	struct store_identifier id;
	char err[STORE_ERRLEN];
	sqlite3 *admin;

	if (!f || store_fixture_dir("batch", "t.db", f->dir, f->path) ||
	    store_fixture_create(f->path, &admin))
		return -1;
	if (store_customer_add(admin, "test", "c-1", err) != STORE_OK ||
	    store_customer_id(admin, "c-1", &f->customer, err) != STORE_OK ||
	    store_identifier_parse(STORE_ID_IBEACON, IBEACON, &id, err) != STORE_OK ||
	    store_identifier_add(admin, "test", "c-1", &id, err) != STORE_OK ||
	    store_consent_grant(admin, "test", "c-1", &presence, err) != STORE_OK ||
	    store_consent_grant(admin, "test", "c-1", &retargeting, err) != STORE_OK ||
	    store_campaign_add(admin, "test", &c, err) != STORE_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	store_close(admin);
	f->campaign = 1;
	if (store_open_with(f->path, &nowait, &f->db, err) != STORE_OK ||
	    store_batch_prepare(f->db, err) != STORE_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
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

static int64_t pragma(sqlite3 *db, const char *sql)
{
	return store_fixture_int(db, sql, -999);
}

/* Every connection gets the one recipe; the options change only what they name. */
static void test_open_recipe_and_options(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pragma(f->db, "PRAGMA secure_delete"), 1);
	assert_int_equal(pragma(f->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(pragma(f->db, "PRAGMA synchronous"), 2);  /* FULL */
	assert_int_equal(pragma(f->db, "PRAGMA cache_size"), -512);
	assert_int_equal(pragma(f->db, "PRAGMA busy_timeout"), 0);
}

static void test_outbox_rows(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_row row;
	char err[STORE_ERRLEN];
	int64_t n = -1, dropped = -1, last;

	assert_int_equal(store_batch_begin(f->db, err), STORE_OK);
	assert_int_equal(store_outbox_insert(f->db, "t1", T1, "a/trigger", "{\"n\":1}",
					     f->customer, err), STORE_OK);
	assert_int_equal(store_outbox_insert(f->db, "t2", 20, "a/trigger", "{\"n\":2}", 0, err),
			 STORE_OK);
	assert_int_equal(store_outbox_insert(f->db, "t1", 30, "a/trigger", "{}", 0, err),
			 STORE_EEXIST);
	/* No such customer: no consent either, nothing written. */
	assert_int_equal(store_outbox_insert(f->db, "t3", 30, "a/trigger", "{}", 4242, err),
			 STORE_ENDED);
	assert_int_equal(store_outbox_insert(f->db, "t4", 40, "a/trigger", "{\"n\":4}", 0, err),
			 STORE_OK);
	assert_int_equal(store_batch_commit(f->db, err), STORE_OK);
	assert_int_equal(store_outbox_count(f->db, &n, err), STORE_OK);
	assert_int_equal(n, 3);

	/* In id order, from after the cursor. */
	assert_int_equal(store_outbox_next(f->db, 0, &row, err), 1);
	assert_string_equal(row.trigger_id, "t1");
	assert_string_equal(row.payload, "{\"n\":1}");
	assert_int_equal(row.created_us, T1);
	last = row.id;
	store_outbox_row_clear(&row);
	assert_int_equal(store_outbox_next(f->db, last, &row, err), 1);
	assert_string_equal(row.trigger_id, "t2");
	store_outbox_row_clear(&row);

	/* Bound of 2 rows: the oldest goes. */
	assert_int_equal(store_outbox_trim(f->db, 2, &dropped, err), STORE_OK);
	assert_int_equal(dropped, 1);
	assert_int_equal(store_outbox_next(f->db, 0, &row, err), 1);
	assert_string_equal(row.trigger_id, "t2");
	assert_int_equal(store_outbox_delete(f->db, row.id, err), STORE_OK);
	store_outbox_row_clear(&row);
	assert_int_equal(store_outbox_trim(f->db, 0, &dropped, err), STORE_OK);
	assert_int_equal(dropped, 0);
	assert_int_equal(store_outbox_count(f->db, &n, err), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_next(f->db, 0, &row, err), 1);
	assert_string_equal(row.trigger_id, "t4");
	last = row.id;
	store_outbox_row_clear(&row);
	assert_int_equal(store_outbox_next(f->db, last, &row, err), 0);
}

static void test_outbox_delete_customer(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN];
	int64_t n = -1;

	assert_int_equal(store_outbox_insert(f->db, "a", T1, "t", "{}", f->customer, err), STORE_OK);
	assert_int_equal(store_outbox_insert(f->db, "b", T1 + 1, "t", "{}", f->customer, err), STORE_OK);
	assert_int_equal(store_outbox_insert(f->db, "c", 3, "t", "{}", 0, err), STORE_OK);
	assert_int_equal(store_outbox_delete_customer(f->db, f->customer, &n, err), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_outbox_count(f->db, &n, err), STORE_OK);
	assert_int_equal(n, 1);
}

static void test_trigger_log(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN];

	assert_int_equal(store_trigger_log_insert(f->db, "t1", f->customer, f->campaign, 100, err),
			 STORE_OK);
	/* Repeated trigger id: ignored, not an error. */
	assert_int_equal(store_trigger_log_insert(f->db, "t1", f->customer, f->campaign, 100, err),
			 STORE_OK);
	assert_int_equal(store_trigger_log_insert(f->db, "t2", f->customer, 999, 100, err),
			 STORE_ENOENT);
	assert_int_equal(pragma(f->db, "SELECT count(*) FROM trigger_log"), 1);
}

static void test_visits(void **state)
{
	struct fixture *f = *state;
	struct store_visit v = { .enter = true, .customer_id = f->customer, .zone = "entrance",
				 .entered_at = 100, .rssi = -70 };
	char err[STORE_ERRLEN];
	int64_t closed = -1;

	assert_int_equal(store_visit_write(f->db, &v, err), STORE_OK);
	/* Dwell: moves dwell_s and max_rssi, leaves the visit open. */
	v.enter = false;
	v.dwell_s = 30;
	v.rssi = -60;
	assert_int_equal(store_visit_write(f->db, &v, err), STORE_OK);
	assert_int_equal(pragma(f->db, "SELECT count(*) FROM visits WHERE exited_at IS NULL AND "
				"dwell_s = 30 AND max_rssi = -60"), 1);
	/* A visit of a customer forgotten meanwhile. */
	v.enter = true;
	v.customer_id = 4242;
	assert_int_equal(store_visit_write(f->db, &v, err), STORE_ENDED);

	/* Withdrawn by another process between the queueing and the commit:
	 * neither a new visit nor the open one's exit is recorded after it. */
	{
		sqlite3 *admin;

		assert_int_equal(store_open(f->path, 0, &admin, err), STORE_OK);
		assert_int_equal(store_consent_withdraw(admin, "test", "c-1",
							STORE_PRESENCE, err), STORE_OK);
		store_close(admin);
	}
	v.customer_id = f->customer;
	v.zone[0] = 'x';
	assert_int_equal(store_visit_write(f->db, &v, err), STORE_ENDED);
	memcpy(v.zone, "entrance", sizeof("entrance"));
	v.enter = false;
	v.exited_at = 200;
	v.dwell_s = 100;
	assert_int_equal(store_visit_write(f->db, &v, err), STORE_ENDED);
	/* Nor a trigger: presence ended, retargeting alone is not enough. */
	assert_int_equal(store_outbox_insert(f->db, "late", 1000000, "a/trigger", "{}",
					     f->customer, err), STORE_ENDED);
	assert_int_equal(pragma(f->db, "SELECT count(*) FROM visits"), 1);
	assert_int_equal(pragma(f->db, "SELECT count(*) FROM visits WHERE exited_at IS NULL"), 1);
	/* Granted again now: what happened in the gap (a pipeline still on the
	 * old snapshot saw it) is not recorded under the new grant. */
	{
		const struct store_grant again = { .purpose = STORE_PRESENCE, .channels = "" };
		sqlite3 *admin;

		assert_int_equal(store_open(f->path, 0, &admin, err), STORE_OK);
		assert_int_equal(store_consent_grant(admin, "test", "c-1", &again, err), STORE_OK);
		store_close(admin);
	}
	v.enter = true;
	v.entered_at = 150;
	assert_int_equal(store_visit_write(f->db, &v, err), STORE_ENDED);
	v.entered_at = 100;
	v.enter = false;
	assert_int_equal(store_visit_write(f->db, &v, err), STORE_ENDED);

	/* A run that ended without closing: closed at its last dwell. */
	assert_int_equal(store_visits_close_stale(f->db, &closed, err), STORE_OK);
	assert_int_equal(closed, 1);
	assert_int_equal(pragma(f->db, "SELECT exited_at FROM visits"), 130);
	assert_int_equal(store_visits_close_stale(f->db, &closed, err), STORE_OK);
	assert_int_equal(closed, 0);
}

/* Another writer holds the lock: the batch says so at once, in SQLite's words. */
static void test_locked_batch(void **state)
{
	struct fixture *f = *state;
	char err[STORE_ERRLEN];
	sqlite3 *other;

	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_batch_begin(f->db, err), STORE_EBUSY);
	assert_string_equal(err, "database is locked");
	store_batch_rollback(f->db);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(store_batch_begin(f->db, err), STORE_OK);
	assert_int_equal(store_batch_commit(f->db, err), STORE_OK);
}

static void test_eid_key(void **state)
{
	struct fixture *f = *state;
	uint8_t key[16];
	int exponent;
	int64_t offset;
	char err[STORE_ERRLEN];

	assert_int_equal(store_eid_key(f->db, f->customer, key, &exponent, &offset, err),
			 STORE_ENOENT);
	assert_non_null(strstr(err, "eddystone-eid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_recipe_and_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_delete_customer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trigger_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_visits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eid_key, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
