/* consent_update_handle() against a real store: apply, reject, replay, purge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "consent_sig.h"
#include "consent_update.h"
#include "delivery_config.h"
#include "store.h"

struct fx {
	char dir[64], db_path[128], pub_path[160];
	sqlite3 *db;
	EVP_PKEY *key, *evil;
	struct consent_update *cu;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct delivery_config cfg;
	char err[512], prefix[140], fpr[32];

	snprintf(f->dir, sizeof(f->dir), "/tmp/bgw-cu-XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	snprintf(f->db_path, sizeof(f->db_path), "%s/t.db", f->dir);
	snprintf(prefix, sizeof(prefix), "%s/backend", f->dir);
	if (store_open(f->db_path, STORE_OPEN_CREATE, &f->db, err) != STORE_OK)
		return -1;
	if (consent_keygen(prefix, fpr, sizeof(fpr), err, sizeof(err)))
		return -1;
	snprintf(f->pub_path, sizeof(f->pub_path), "%s.pub", prefix);
	snprintf(err, sizeof(err), "%s.key", prefix);
	f->key = consent_key_load_private(err, err, sizeof(err));
	f->evil = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	delivery_config_defaults(&cfg);
	snprintf(cfg.consent_pubkey, sizeof(cfg.consent_pubkey), "%s", f->pub_path);
	f->cu = consent_update_new(&cfg, f->db, err, sizeof(err));
	if (!f->key || !f->evil || !f->cu)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	consent_update_free(f->cu);
	store_close(f->db);
	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->evil);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static enum consent_result send(struct fx *f, EVP_PKEY *k, const char *payload)
{
	char err[200];
	char *env = consent_sign_envelope(k, payload, strlen(payload), err, sizeof(err));
	enum consent_result r;

	assert_non_null(env);
	r = consent_update_handle(f->cu, env, strlen(env));
	free(env);
	return r;
}

static int64_t count(struct fx *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_apply_and_reject(void **state)
{
	struct fx *f = *state;
	int64_t audit;

	assert_int_equal(send(f, f->key, "{\"seq\":1,\"op\":\"grant\",\"ref\":\"C1\","
					 "\"purpose\":\"retargeting\",\"channels\":[\"push\"]}"),
			 CONSENT_APPLIED);
	assert_int_equal(count(f, "SELECT count(*) FROM customers WHERE customer_ref='C1'"), 1);
	audit = count(f, "SELECT count(*) FROM audit");
	assert_true(audit >= 1);
	assert_int_equal(count(f, "SELECT count(*) FROM audit WHERE actor LIKE 'mqtt:%'"), audit);

	/* Replay, forged, wrong purpose: nothing changes. */
	assert_int_equal(send(f, f->key, "{\"seq\":1,\"op\":\"forget\",\"ref\":\"C1\"}"),
			 CONSENT_REPLAYED);
	assert_int_equal(send(f, f->evil, "{\"seq\":2,\"op\":\"forget\",\"ref\":\"C1\"}"),
			 CONSENT_BAD_SIGNATURE);
	assert_int_equal(send(f, f->key, "{\"seq\":2,\"op\":\"withdraw\",\"ref\":\"C1\","
					 "\"purpose\":\"marketing\"}"),
			 CONSENT_FAILED);
	assert_int_equal(count(f, "SELECT count(*) FROM audit"), audit);
	assert_int_equal(count(f, "SELECT value FROM kv WHERE key='consent.last_seq'"), 1);
	assert_int_equal(consent_update_get_stats(f->cu)->rejected, 3);
}

static void test_withdraw_purges_outbox(void **state)
{
	struct fx *f = *state;
	char sql[300];

	assert_int_equal(send(f, f->key, "{\"seq\":1,\"op\":\"grant\",\"ref\":\"C2\","
					 "\"purpose\":\"retargeting\",\"channels\":[\"push\"]}"),
			 CONSENT_APPLIED);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO outbox(trigger_id, created_us, topic, payload, customer_id) "
		 "SELECT 'x1', 1, 't', '{}', id FROM customers WHERE customer_ref='C2'");
	assert_int_equal(sqlite3_exec(f->db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(f->db, "INSERT INTO outbox(trigger_id, created_us, topic, "
					     "payload) VALUES('x2', 1, 't', '{}')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(send(f, f->key, "{\"seq\":2,\"op\":\"withdraw\",\"ref\":\"C2\","
					 "\"purpose\":\"retargeting\"}"),
			 CONSENT_APPLIED);
	/* The customer's queued trigger is gone, the other one stays. */
	assert_int_equal(count(f, "SELECT count(*) FROM outbox"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE trigger_id='x2'"), 1);
	/* Forget of an unknown customer: nothing to do, but the sequence moves on. */
	assert_int_equal(send(f, f->key, "{\"seq\":3,\"op\":\"forget\",\"ref\":\"nobody\"}"),
			 CONSENT_APPLIED);
	assert_int_equal(send(f, f->key, "{\"seq\":4,\"op\":\"forget\",\"ref\":\"C2\"}"),
			 CONSENT_APPLIED);
	assert_int_equal(count(f, "SELECT count(*) FROM customers WHERE customer_ref='C2'"), 0);
	assert_int_equal(count(f, "SELECT value FROM kv WHERE key='consent.last_seq'"), 4);
}

/* A retargeting grant without a channel could never send a trigger: refused
 * as beaconctl consent grant refuses it, counted, and nothing changes (not
 * even the customer it would have created, nor the sequence). */
static void test_retargeting_without_channel(void **state)
{
	struct fx *f = *state;

	assert_int_equal(send(f, f->key, "{\"seq\":1,\"op\":\"grant\",\"ref\":\"C4\","
					 "\"purpose\":\"retargeting\"}"),
			 CONSENT_MALFORMED);
	assert_int_equal(send(f, f->key, "{\"seq\":2,\"op\":\"grant\",\"ref\":\"C4\","
					 "\"purpose\":\"retargeting\",\"channels\":[]}"),
			 CONSENT_MALFORMED);
	assert_int_equal(consent_update_get_stats(f->cu)->rejected, 2);
	assert_int_equal(consent_update_get_stats(f->cu)->by_result[CONSENT_MALFORMED], 2);
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM audit"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM kv WHERE key='consent.last_seq'"), 0);
	/* presence needs none; retargeting with one is applied */
	assert_int_equal(send(f, f->key, "{\"seq\":1,\"op\":\"grant\",\"ref\":\"C4\","
					 "\"purpose\":\"presence\"}"),
			 CONSENT_APPLIED);
	assert_int_equal(send(f, f->key, "{\"seq\":2,\"op\":\"grant\",\"ref\":\"C4\","
					 "\"purpose\":\"retargeting\",\"channels\":[\"push\"]}"),
			 CONSENT_APPLIED);
	assert_int_equal(count(f, "SELECT count(*) FROM consents"), 2);
}

static void test_locked_database_retried(void **state)
{
	struct fx *f = *state;
	sqlite3 *other;

	assert_int_equal(send(f, f->key, "{\"seq\":1,\"op\":\"grant\",\"ref\":\"C3\","
					 "\"purpose\":\"presence\"}"),
			 CONSENT_APPLIED);
	/* Another process (beaconctl) holds the write lock. */
	assert_int_equal(sqlite3_open(f->db_path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(send(f, f->key, "{\"seq\":2,\"op\":\"withdraw\",\"ref\":\"C3\","
					 "\"purpose\":\"presence\"}"),
			 CONSENT_FAILED);
	/* A later update queues behind it, so the order holds. */
	assert_int_equal(send(f, f->key, "{\"seq\":3,\"op\":\"forget\",\"ref\":\"C3\"}"),
			 CONSENT_FAILED);
	assert_int_equal(consent_update_get_stats(f->cu)->rejected, 0);
	assert_int_equal(consent_update_retry(f->cu), 2);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(consent_update_retry(f->cu), 0);
	assert_int_equal(consent_update_get_stats(f->cu)->applied, 3);
	assert_int_equal(consent_update_get_stats(f->cu)->rejected, 0);
	assert_int_equal(count(f, "SELECT value FROM kv WHERE key='consent.last_seq'"), 3);
}

/*
 * A gap (updates missed: a session lost, a kill between PUBACK and commit)
 * is never skipped: the update beyond it is not applied, the gateway is
 * behind, also after a restart, until the missing ones are re-sent in order
 * or an operator declares a full re-import with store_consent_seq_set().
 */
static void test_gap_fails_closed(void **state)
{
	struct fx *f = *state;
	struct delivery_config cfg;
	char err[512];
	const char *why = NULL;

	assert_int_equal(send(f, f->key, "{\"seq\":1,\"op\":\"grant\",\"ref\":\"C5\","
					 "\"purpose\":\"presence\"}"),
			 CONSENT_APPLIED);
	assert_true(consent_update_current(f->cu, &why));
	/* Seq 2 was lost; 3 (a withdrawal) arrives. */
	assert_int_equal(send(f, f->key, "{\"seq\":3,\"op\":\"withdraw\",\"ref\":\"C5\","
					 "\"purpose\":\"presence\"}"),
			 CONSENT_GAP);
	assert_false(consent_update_current(f->cu, &why));
	assert_non_null(strstr(why, "re-send from seq 2"));
	assert_int_equal(consent_update_get_stats(f->cu)->by_result[CONSENT_GAP], 1);
	assert_int_equal(count(f, "SELECT value FROM kv WHERE key='consent.last_seq'"), 1);
	assert_int_equal(count(f, "SELECT value FROM kv WHERE key='consent.seen_seq'"), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM consents WHERE withdrawn_at IS NOT NULL"),
			 0);
	/* A restart still knows. */
	consent_update_free(f->cu);
	delivery_config_defaults(&cfg);
	snprintf(cfg.consent_pubkey, sizeof(cfg.consent_pubkey), "%s", f->pub_path);
	f->cu = consent_update_new(&cfg, f->db, err, sizeof(err));
	assert_non_null(f->cu);
	assert_false(consent_update_current(f->cu, &why));
	/* The backend re-sends from 2: behind until 3 is in again. */
	assert_int_equal(send(f, f->key, "{\"seq\":2,\"op\":\"grant\",\"ref\":\"C6\","
					 "\"purpose\":\"presence\"}"),
			 CONSENT_APPLIED);
	assert_false(consent_update_current(f->cu, &why));
	assert_int_equal(send(f, f->key, "{\"seq\":3,\"op\":\"withdraw\",\"ref\":\"C5\","
					 "\"purpose\":\"presence\"}"),
			 CONSENT_APPLIED);
	assert_true(consent_update_current(f->cu, &why));
	assert_int_equal(count(f, "SELECT count(*) FROM consents WHERE withdrawn_at IS NOT NULL"),
			 1);
	/* Another gap, settled by an operator's full re-import as of update 9. */
	assert_int_equal(send(f, f->key, "{\"seq\":9,\"op\":\"forget\",\"ref\":\"C6\"}"),
			 CONSENT_GAP);
	assert_false(consent_update_current(f->cu, &why));
	assert_int_equal(store_consent_seq_set(f->db, "test", 2, err), STORE_EINVAL);
	assert_int_equal(store_consent_seq_set(f->db, "test", 9, err), STORE_OK);
	consent_update_reload(f->cu);
	assert_true(consent_update_current(f->cu, &why));
	assert_int_equal(send(f, f->key, "{\"seq\":9,\"op\":\"forget\",\"ref\":\"C6\"}"),
			 CONSENT_REPLAYED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_and_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdraw_purges_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retargeting_without_channel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_database_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_fails_closed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
