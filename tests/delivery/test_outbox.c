/* Outbox on a real SQLite file: order, acknowledgement, bound, expiry, rewind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "delivery_config.h"
#include "outbox.h"
#include "store.h"

struct fx {
	char dir[64];
	char path[128];
	struct delivery_config cfg;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[STORE_ERRLEN];
	sqlite3 *db;

	snprintf(f->dir, sizeof(f->dir), "/tmp/bgw-outbox-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	if (store_open(f->path, STORE_OPEN_CREATE, &db, err) != STORE_OK)
		return -1;
	store_close(db);
	delivery_config_defaults(&f->cfg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[160];

	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void enq(struct outbox *ob, int i, int64_t created)
{
	char id[32], payload[64];

	snprintf(id, sizeof(id), "id-%d", i);
	snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
	assert_int_equal(outbox_enqueue(ob, id, "t/trigger", payload, 0, created), 0);
}

static void test_order_ack_rewind(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN];
	struct outbox *ob = outbox_open(f->path, &f->cfg, err);
	struct outbox_msg m;
	int64_t first;
	int i;

	assert_non_null(ob);
	for (i = 1; i <= 5; i++)
		enq(ob, i, 0);
	/* Not committed yet: nothing to publish. */
	assert_int_equal(outbox_next(ob, 0, 0, &m), 0);
	assert_int_equal(outbox_flush(ob), 5);
	assert_int_equal(outbox_get_stats(ob)->depth, 5);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":1}");
	first = m.id;
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":2}");
	outbox_acked(ob, first);
	outbox_rewind(ob);
	/* After a reconnect: from the oldest unacknowledged (2), in order. */
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":2}");
	assert_int_equal(outbox_flush(ob), 0);
	assert_int_equal(outbox_get_stats(ob)->depth, 4);
	outbox_close(ob);

	/* Survives a reopen. */
	ob = outbox_open(f->path, &f->cfg, err);
	assert_non_null(ob);
	assert_int_equal(outbox_get_stats(ob)->depth, 4);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":2}");
	outbox_close(ob);
}

/* The read that finds nothing is not repeated until something can be there
 * again: a commit of new rows, a putback, a rewind. */
static void test_drained_until_new_rows(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN];
	struct outbox *ob = outbox_open(f->path, &f->cfg, err);
	struct outbox_msg m, last;

	assert_non_null(ob);
	enq(ob, 1, 0);
	assert_int_equal(outbox_flush(ob), 1);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	last = m;
	assert_int_equal(outbox_next(ob, 0, 0, &m), 0);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 0);
	outbox_putback(ob, &last);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":1}");
	assert_int_equal(outbox_next(ob, 0, 0, &m), 0);
	enq(ob, 2, 0);
	enq(ob, 3, 0);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 0);  /* not committed yet */
	assert_int_equal(outbox_flush(ob), 2);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":2}");
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":3}");
	assert_int_equal(outbox_next(ob, 0, 0, &m), 0);
	outbox_rewind(ob);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":1}");
	outbox_close(ob);
}

/* Row ids only grow, in commit order: after the outbox was emptied, across
 * a reopen, and past a row another writer committed meanwhile. */
static void test_ids_never_reused(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN], sql[256];
	struct outbox *ob = outbox_open(f->path, &f->cfg, err);
	struct outbox_msg m;
	int64_t a, b, c;
	sqlite3 *other;

	assert_non_null(ob);
	enq(ob, 1, 0);
	assert_int_equal(outbox_flush(ob), 1);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	a = m.id;
	outbox_acked(ob, a);
	assert_int_equal(outbox_flush(ob), 0);
	assert_int_equal(outbox_get_stats(ob)->depth, 0);
	enq(ob, 2, 0);
	assert_int_equal(outbox_flush(ob), 1);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	b = m.id;
	assert_true(b > a);
	outbox_acked(ob, b);
	assert_int_equal(outbox_flush(ob), 0);
	outbox_close(ob);

	/* Empty and reopened: still above every id handed out before. */
	ob = outbox_open(f->path, &f->cfg, err);
	assert_non_null(ob);
	enq(ob, 3, 0);
	assert_int_equal(outbox_flush(ob), 1);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":3}");
	c = m.id;
	assert_true(c > b);

	/* Another writer's row took the next id: ours come after it, in the
	 * order of the commits. */
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	snprintf(sql, sizeof(sql), "INSERT INTO outbox (id, trigger_id, created_us, topic, payload) "
		 "VALUES (%lld, 'ext', 1, 't/trigger', '{}')", (long long)c + 1);
	assert_int_equal(sqlite3_exec(other, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	enq(ob, 4, 0);
	assert_int_equal(outbox_flush(ob), 1);
	outbox_rewind(ob);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":3}");
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.trigger_id, "ext");
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":4}");
	assert_int_equal(m.id, c + 2);
	outbox_close(ob);
}

static void test_bound_drops_oldest(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN];
	struct outbox *ob;
	struct outbox_msg m;
	int i;

	f->cfg.outbox_max = 3;
	ob = outbox_open(f->path, &f->cfg, err);
	assert_non_null(ob);
	for (i = 1; i <= 5; i++)
		enq(ob, i, 0);
	assert_int_equal(outbox_flush(ob), 5);
	assert_int_equal(outbox_get_stats(ob)->depth, 3);
	assert_int_equal(outbox_get_stats(ob)->dropped_full, 2);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":3}");
	outbox_close(ob);
}

static void test_expiry_and_duplicates(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN];
	struct outbox *ob = outbox_open(f->path, &f->cfg, err);
	struct outbox_msg m;

	assert_non_null(ob);
	enq(ob, 1, 1000000);            /* queued at t=1 s */
	enq(ob, 2, 500000000);          /* queued at t=500 s */
	enq(ob, 2, 500000000);          /* same trigger id again: kept once */
	assert_int_equal(outbox_flush(ob), 2);
	/* At t=1000 s with a 900 s expiry the first is dropped, the second goes. */
	assert_int_equal(outbox_next(ob, 1000000000, 900, &m), 1);
	assert_string_equal(m.payload, "{\"n\":2}");
	assert_int_equal(outbox_get_stats(ob)->dropped_expired, 1);
	assert_true(outbox_dirty(ob));
	outbox_flush(ob);
	assert_int_equal(outbox_get_stats(ob)->depth, 1);
	outbox_close(ob);
}

static void test_locked_database_keeps_pending(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN];
	struct outbox *ob;
	sqlite3 *other;
	int i;

	f->cfg.pending_max = 3;
	ob = outbox_open(f->path, &f->cfg, err);
	assert_non_null(ob);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	for (i = 1; i <= 4; i++)
		enq(ob, i, 0);
	/* Locked: nothing blocks, the triggers wait in memory (bounded: oldest dropped). */
	assert_int_equal(outbox_flush(ob), -1);
	assert_int_equal(outbox_get_stats(ob)->pending, 3);
	assert_int_equal(outbox_get_stats(ob)->dropped_full, 1);
	assert_true(outbox_dirty(ob));
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(outbox_flush(ob), 3);
	assert_int_equal(outbox_get_stats(ob)->depth, 3);
	assert_false(outbox_dirty(ob));
	outbox_close(ob);
}

static int64_t count_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Visits and trigger-log rows ride in the group commit: while another
 * connection holds the lock they wait (bounded), an exit whose enter is still
 * waiting closes the right row, last_error says why, and a trigger-log row
 * appears with its outbox row. */
static void test_visits_and_log_in_group_commit(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN];
	struct outbox *ob;
	sqlite3 *other;
	struct store_visit v = { .enter = true, .zone = "entrance", .entered_at = 100,
				  .rssi = -60 };
	int64_t cust;

	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other,
				      "INSERT INTO customers(customer_ref, created_at, audit_salt) "
				      "VALUES ('C1', 1, zeroblob(16));"
				      /* visits are recorded only under presence consent */
				      "INSERT INTO identifiers(customer_id, type, value, created_at) "
				      "VALUES (1, 1, zeroblob(20), 1);"
				      "INSERT INTO consents(customer_id, purpose, granted_at, source, id) "
				      "VALUES (1, 0, 1, 'test', 1);"
				      "INSERT INTO consents(customer_id, purpose, channels, granted_at, "
				      "source, id) VALUES (1, 1, 'push', 1, 'test', 2);"
				      "UPDATE kv SET value = 3 WHERE key = 'consent_next_id';"
				      "INSERT INTO zones(name) VALUES ('entrance');"
				      "INSERT INTO campaigns(name, zone_id, event, created_at) "
				      "VALUES ('k', 1, 'enter', 1);",
				      NULL, NULL, NULL), SQLITE_OK);
	cust = count_sql(f->path, "SELECT id FROM customers");
	f->cfg.pending_max = 3;
	ob = outbox_open(f->path, &f->cfg, err);
	assert_non_null(ob);
	assert_null(outbox_last_error(ob));

	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	v.customer_id = cust;
	v.entered_at = 50;                 /* the oldest change: dropped below */
	assert_int_equal(outbox_visit(ob, &v), 0);
	v.entered_at = 100;
	assert_int_equal(outbox_visit(ob, &v), 0);
	assert_int_equal(outbox_enqueue_logged(ob, "t1", "t/trigger", "{}", cust, 0, 1, 100), 0);
	assert_int_equal(outbox_flush(ob), -1);
	assert_non_null(outbox_last_error(ob));
	assert_non_null(strstr(outbox_last_error(ob), "locked"));
	/* exit (and a dwell before it) of the visit whose insert still waits */
	v.enter = false;
	v.dwell_s = 10;
	assert_int_equal(outbox_visit(ob, &v), 0);
	v.exited_at = 130;
	v.dwell_s = 30;
	assert_int_equal(outbox_visit(ob, &v), 0);
	assert_int_equal(outbox_get_stats(ob)->visits_dropped, 1);
	assert_int_equal(outbox_get_stats(ob)->visits_pending, 3);
	assert_int_equal(count_sql(f->path, "SELECT count(*) FROM trigger_log"), 0);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);

	assert_int_equal(outbox_flush(ob), 1);
	assert_null(outbox_last_error(ob));
	assert_int_equal(outbox_get_stats(ob)->visits_written, 3);
	assert_false(outbox_dirty(ob));
	assert_int_equal(count_sql(f->path, "SELECT count(*) FROM visits"), 1);
	assert_int_equal(count_sql(f->path, "SELECT count(*) FROM visits WHERE entered_at = 100 "
				   "AND exited_at = 130 AND dwell_s = 30"), 1);
	assert_int_equal(count_sql(f->path, "SELECT count(*) FROM trigger_log WHERE "
				   "trigger_id = 't1' AND campaign_id = 1 AND at = 100"), 1);
	assert_int_equal(count_sql(f->path, "SELECT count(*) FROM outbox WHERE trigger_id = 't1'"),
			 1);
	outbox_close(ob);
}

/* A peer's trigger: a trigger_log row only, never an outbox row; twice is once. */
static void test_peer_trigger_log_only(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN];
	struct outbox *ob;
	sqlite3 *other;
	int64_t cust;

	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other,
				      "INSERT INTO customers(customer_ref, created_at, audit_salt) "
				      "VALUES ('C1', 1, zeroblob(16));"
				      "INSERT INTO zones(name) VALUES ('entrance');"
				      "INSERT INTO campaigns(name, zone_id, event, created_at) "
				      "VALUES ('k', 1, 'enter', 1);",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	cust = count_sql(f->path, "SELECT id FROM customers");
	ob = outbox_open(f->path, &f->cfg, err);
	assert_non_null(ob);
	assert_int_equal(outbox_log_trigger(ob, "peer-1", cust, 1, 200), 0);
	assert_int_equal(outbox_log_trigger(ob, "peer-1", cust, 1, 200), 0);
	assert_int_equal(outbox_log_trigger(ob, "peer-2", cust, 0, 200), 0); /* unknown campaign */
	assert_true(outbox_dirty(ob));
	assert_int_equal(outbox_flush(ob), 0);     /* no outbox row inserted */
	assert_null(outbox_last_error(ob));
	assert_int_equal(count_sql(f->path, "SELECT count(*) FROM trigger_log WHERE "
				   "trigger_id = 'peer-1' AND at = 200"), 1);
	assert_int_equal(count_sql(f->path, "SELECT count(*) FROM trigger_log"), 1);
	assert_int_equal(count_sql(f->path, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(outbox_get_stats(ob)->queued, 0);
	outbox_close(ob);
}

static void test_missing_db(void **state)
{
	struct fx *f = *state;
	char err[STORE_ERRLEN], p[200];

	snprintf(p, sizeof(p), "%s/none.db", f->dir);
	assert_null(outbox_open(p, &f->cfg, err));
	assert_non_null(strstr(err, "none.db"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_ack_rewind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drained_until_new_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_database_keeps_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_trigger_log_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_visits_and_log_in_group_commit, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
