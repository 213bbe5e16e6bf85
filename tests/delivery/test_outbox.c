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
	char err[300];
	struct outbox *ob = outbox_open(f->path, &f->cfg, err, sizeof(err));
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
	ob = outbox_open(f->path, &f->cfg, err, sizeof(err));
	assert_non_null(ob);
	assert_int_equal(outbox_get_stats(ob)->depth, 4);
	assert_int_equal(outbox_next(ob, 0, 0, &m), 1);
	assert_string_equal(m.payload, "{\"n\":2}");
	outbox_close(ob);
}

static void test_bound_drops_oldest(void **state)
{
	struct fx *f = *state;
	char err[300];
	struct outbox *ob;
	struct outbox_msg m;
	int i;

	f->cfg.outbox_max = 3;
	ob = outbox_open(f->path, &f->cfg, err, sizeof(err));
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
	char err[300];
	struct outbox *ob = outbox_open(f->path, &f->cfg, err, sizeof(err));
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
	char err[300];
	struct outbox *ob;
	sqlite3 *other;
	int i;

	f->cfg.pending_max = 3;
	ob = outbox_open(f->path, &f->cfg, err, sizeof(err));
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

static void test_missing_db(void **state)
{
	struct fx *f = *state;
	char err[300], p[200];

	snprintf(p, sizeof(p), "%s/none.db", f->dir);
	assert_null(outbox_open(p, &f->cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "none.db"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_ack_rewind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_database_keeps_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_db, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
