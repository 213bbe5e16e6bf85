/*
 * consent_follow against a real store and real signatures: what a gateway
 * accepts from its hub and what it refuses, without a broker (the
 * follower's own topics are handed in directly, its requests recorded).
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

#include <cmocka.h>

#include "consent_head.h"
#include "consent_sig.h"
#include "delivery_config.h"
#include "fleet_msg.h"
#include "store.h"

#define T_CHANGE "beacongw/v1/consent"
#define T_HEAD "beacongw/v1/consent/head"
#define T_SNAP "beacongw/v1/s1/g1/consent/snapshot"

struct fx {
	char dir[64], db_path[128];
	sqlite3 *db;
	EVP_PKEY *key, *evil;
	char fpr[CONSENT_FPR_LEN + 1], evil_fpr[CONSENT_FPR_LEN + 1];
	struct consent_follow *cf;
	int requests;
	char last_request[160];
};

static void io_subscribe(void *ctx, const char *topic)
{
	(void)ctx;
	(void)topic;
}

static int io_publish(void *ctx, const char *topic, const char *payload, size_t len)
{
	struct fx *f = ctx;

	assert_string_equal(topic, "beacongw/v1/s1/g1/consent/request");
	snprintf(f->last_request, sizeof(f->last_request), "%.*s", (int)len, payload);
	f->requests++;
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct delivery_config cfg;
	struct consent_follow_io io = { .subscribe = io_subscribe, .publish = io_publish };
	char err[512], prefix[140], path[160];

	snprintf(f->dir, sizeof(f->dir), "/tmp/bgw-follow-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db_path, sizeof(f->db_path), "%s/gw.db", f->dir);
	snprintf(prefix, sizeof(prefix), "%s/hub", f->dir);
	if (store_open(f->db_path, STORE_OPEN_CREATE, &f->db, err) != STORE_OK ||
	    consent_keygen(prefix, f->fpr, sizeof(f->fpr), err, sizeof(err)))
		return -1;
	snprintf(path, sizeof(path), "%s.key", prefix);
	f->key = consent_key_load_private(path, err, sizeof(err));
	f->evil = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!f->key || !f->evil || consent_key_fingerprint(f->evil, f->evil_fpr))
		return -1;
	delivery_config_defaults(&cfg);
	snprintf(cfg.site, sizeof(cfg.site), "s1");
	snprintf(cfg.gateway, sizeof(cfg.gateway), "g1");
	snprintf(cfg.consent_fleet, sizeof(cfg.consent_fleet), "acme");
	snprintf(cfg.consent_pubkey, sizeof(cfg.consent_pubkey), "%s.pub", prefix);
	io.ctx = f;
	f->cf = consent_follow_new(&cfg, f->db, &io, err, sizeof(err));
	if (!f->cf)
		return -1;
	consent_follow_connected(f->cf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	consent_follow_free(f->cf);
	store_close(f->db);
	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->evil);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

/* Sign payload (a JSON object text, taken over) and hand it to the follower. */
static void send(struct fx *f, const char *topic, EVP_PKEY *k, const char *fpr,
		 const char *fleet, enum fleet_type type, int64_t seq, int64_t issued,
		 const char *json)
{
	char err[256];
	cJSON *p = cJSON_Parse(json);
	char *env;

	assert_non_null(p);
	env = fleet_msg_sign(k, fpr, fleet, type, seq, issued, p, err, sizeof(err));
	cJSON_Delete(p);
	assert_non_null(env);
	assert_true(consent_follow_message(f->cf, topic, env, strlen(env)));
	free(env);
}

static void head(struct fx *f, int64_t seq, int64_t issued)
{
	send(f, T_HEAD, f->key, f->fpr, "acme", FLEET_HEAD, seq, issued, "{}");
}

#define CUST(ref, extra) "{\"customer\":{\"ref\":\"" ref "\",\"identifiers\":[" extra "]," \
	"\"consents\":[{\"purpose\":\"retargeting\",\"channels\":\"push\",\"granted_at\":" \
	"1700000000,\"expires_at\":0,\"policy\":\"\",\"source\":\"cli\"}],\"segments\":[]}}"

static void chunk(struct fx *f, const char *snap, int i, int n, int64_t seq, int64_t issued,
		  const char *items)
{
	char json[2048];

	snprintf(json, sizeof(json), "{\"snap\":\"%s\",\"chunk\":%d,\"chunks\":%d,\"items\":[%s]}",
		 snap, i, n, items);
	send(f, T_SNAP, f->key, f->fpr, "acme", FLEET_SNAPSHOT, seq, issued, json);
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

static uint64_t rejected(struct fx *f, enum fleet_verdict v)
{
	return consent_follow_get_stats(f->cf)->by_verdict[v];
}

static bool current(struct fx *f)
{
	const char *why;

	return consent_follow_current(f->cf, &why);
}

/* Start from the hub: two chunks, a head at the snapshot's sequence. */
static void start(struct fx *f, int64_t seq)
{
	chunk(f, "s1", 0, 2, seq, now() - 10, CUST("C1", "\"ibeacon e2e0c1c1-0000-4000-8000-"
						   "00000000000a:1:1\""));
	chunk(f, "s1", 1, 2, seq, now() - 10, CUST("C2", ""));
	head(f, seq, now());
	assert_true(current(f));
}

static void test_empty_gateway(void **state)
{
	struct fx *f = *state;

	assert_false(current(f));
	assert_int_equal(f->requests, 1);    /* asked on connect */
	/* A change with nothing to apply it to is refused; so is a head match. */
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 1, now(),
	     "{\"item\":" CUST("C1", "") "}");
	assert_int_equal(rejected(f, FLEET_GAP), 1);
	head(f, 1, now());
	assert_false(current(f));
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 0);
}

static void test_snapshot_whole_or_nothing(void **state)
{
	struct fx *f = *state;
	char *env, *b64, err[256];
	cJSON *p;

	chunk(f, "s1", 0, 2, 7, now() - 10, CUST("C1", ""));
	/* Half a snapshot replaces nothing. */
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 0);
	/* A tampered chunk (the right key's signature over other bytes) is refused. */
	p = cJSON_Parse("{\"snap\":\"s1\",\"chunk\":1,\"chunks\":2,\"items\":[]}");
	env = fleet_msg_sign(f->key, f->fpr, "acme", FLEET_SNAPSHOT, 7, now() - 10, p, err,
			     sizeof(err));
	cJSON_Delete(p);
	/* Another letter of the base64 payload: still base64, other bytes. */
	b64 = strstr(env, "\"payload\":\"") + 11;
	b64[8] = b64[8] == 'A' ? 'B' : 'A';
	consent_follow_message(f->cf, T_SNAP, env, strlen(env));
	free(env);
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 0);
	/* A chunk naming another fleet, or signed by an untrusted key. */
	send(f, T_SNAP, f->key, f->fpr, "other", FLEET_SNAPSHOT, 7, now() - 10,
	     "{\"snap\":\"s1\",\"chunk\":1,\"chunks\":2,\"items\":[]}");
	send(f, T_SNAP, f->evil, f->evil_fpr, "acme", FLEET_SNAPSHOT, 7, now() - 10,
	     "{\"snap\":\"s1\",\"chunk\":1,\"chunks\":2,\"items\":[]}");
	assert_int_equal(rejected(f, FLEET_OTHER_FLEET), 1);
	assert_true(rejected(f, FLEET_BAD_SIGNATURE) >= 2);
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 0);
	chunk(f, "s1", 1, 2, 7, now() - 10, CUST("C2", ""));
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 2);
	assert_int_equal(consent_follow_seq(f->cf), 7);
	head(f, 7, now());
	assert_true(current(f));
}

static void test_changes_in_order(void **state)
{
	struct fx *f = *state;
	int requests;

	start(f, 3);
	/* Withdrawal of C1's retargeting: the state without the consent. */
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 4, now(),
	     "{\"item\":{\"customer\":{\"ref\":\"C1\",\"identifiers\":[],\"consents\":[],"
	     "\"segments\":[\"vip\"]}}}");
	assert_int_equal(consent_follow_seq(f->cf), 4);
	assert_int_equal(count(f, "SELECT count(*) FROM consents c JOIN customers u ON "
			 "u.id = c.customer_id WHERE u.customer_ref = 'C1' AND "
			 "c.withdrawn_at IS NULL"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM identifiers"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM customer_segments"), 1);
	/* Replayed, then issued before the snapshot: refused, nothing changes. */
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 4, now(),
	     "{\"item\":" CUST("C1", "") "}");
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 5, now() - 3600,
	     "{\"item\":" CUST("C1", "") "}");
	assert_int_equal(rejected(f, FLEET_REPLAYED), 2);
	assert_int_equal(consent_follow_seq(f->cf), 4);
	/* The head is not at 4 yet: not current until it is. */
	assert_false(current(f));
	head(f, 4, now());
	assert_true(current(f));
	/* An older head is refused and changes nothing. */
	head(f, 3, now() - 60);
	assert_int_equal(rejected(f, FLEET_REPLAYED), 3);
	assert_true(current(f));
	/* A gap: refused, not current once the head shows it, a snapshot asked for. */
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 9, now(),
	     "{\"item\":" CUST("C3", "") "}");
	assert_int_equal(rejected(f, FLEET_GAP), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM customers WHERE customer_ref = 'C3'"), 0);
	head(f, 9, now());
	assert_false(current(f));
	/* It asks again on its own (here: at the next connect). */
	requests = f->requests;
	consent_follow_disconnected(f->cf);
	consent_follow_connected(f->cf);
	assert_int_equal(f->requests, requests + 1);
	/* Forget: the customer and everything about them goes. */
	start(f, 20);
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 21, now(),
	     "{\"item\":{\"customer\":{\"ref\":\"C2\",\"gone\":true}}}");
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 1);
}

static void test_stale_head(void **state)
{
	struct fx *f = *state;
	const char *why;

	chunk(f, "s1", 0, 1, 2, now() - 2000, CUST("C1", ""));
	/* The only head there is was issued longer ago than max_staleness_s
	 * (900 s by default): matched, but not current. */
	head(f, 2, now() - 1000);
	assert_false(consent_follow_current(f->cf, &why));
	assert_non_null(strstr(why, "no valid head"));
	assert_false(consent_follow_synced(f->cf));
	head(f, 2, now());
	assert_true(consent_follow_current(f->cf, &why));
	/* An older head than the newest seen is refused. */
	head(f, 2, now() - 500);
	assert_int_equal(rejected(f, FLEET_REPLAYED), 1);
	assert_true(current(f));
}

static void test_snapshot_resumes(void **state)
{
	struct fx *f = *state;

	assert_string_equal(f->last_request, "{\"snap\":\"\",\"from\":0}");
	chunk(f, "s7", 0, 3, 4, now() - 5, CUST("C1", ""));
	chunk(f, "s7", 1, 3, 4, now() - 5, CUST("C2", ""));
	/* The connection drops before the last chunk: the gateway asks for the
	 * rest of the same snapshot, and nothing is applied before it is in. */
	consent_follow_disconnected(f->cf);
	consent_follow_connected(f->cf);
	assert_string_equal(f->last_request, "{\"snap\":\"s7\",\"from\":2}");
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 0);
	chunk(f, "s7", 1, 3, 4, now() - 5, CUST("C2", ""));   /* a resend: ignored */
	chunk(f, "s7", 2, 3, 4, now() - 5, CUST("C3", ""));
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 3);
	assert_int_equal(consent_follow_seq(f->cf), 4);
	/* A chunk that disagrees with its snapshot's other chunks is refused. */
	chunk(f, "s8", 0, 2, 9, now(), CUST("C1", ""));
	chunk(f, "s8", 1, 3, 9, now(), CUST("C2", ""));
	assert_int_equal(rejected(f, FLEET_MALFORMED), 1);
}

static void test_snapshot_replaces(void **state)
{
	struct fx *f = *state;

	start(f, 2);
	/* A newer snapshot without C2 makes C2 go; an older one is refused. */
	chunk(f, "s2", 0, 1, 5, now() - 1, CUST("C1", ""));
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 1);
	assert_int_equal(consent_follow_seq(f->cf), 5);
	chunk(f, "s0", 0, 1, 1, now() - 100000, CUST("C9", ""));
	assert_int_equal(count(f, "SELECT count(*) FROM customers WHERE customer_ref = 'C9'"), 0);
	assert_int_equal(rejected(f, FLEET_REPLAYED), 1);
}

#define CAMP(name, sites) "{\"campaign\":{\"name\":\"" name "\",\"zone\":\"entrance\"," \
	"\"event\":\"enter\",\"min_dwell_s\":0,\"cooldown_s\":0,\"daily_cap\":0," \
	"\"channels\":\"\",\"valid_from\":0,\"valid_until\":0,\"hours_from\":-1," \
	"\"hours_until\":-1,\"enabled\":true,\"sites\":[" sites "]}}"

/* The gateway is s1/g1: it keeps the campaigns for every site and for s1. */
static void test_campaign_sites(void **state)
{
	struct fx *f = *state;

	chunk(f, "s1", 0, 1, 3, now() - 10,
	      CAMP("hello", "") "," CAMP("door-s2", "\"s2\"") "," CAMP("door-s1", "\"s1\""));
	head(f, 3, now());
	assert_true(current(f));
	assert_int_equal(count(f, "SELECT count(*) FROM campaigns WHERE name IN "
			 "('hello', 'door-s1')"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM campaigns"), 2);
	/* door-s2 now for both sites: added here, with its sites. */
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 4, now(),
	     "{\"item\":" CAMP("door-s2", "\"s2\",\"s1\"") "}");
	assert_int_equal(count(f, "SELECT count(*) FROM campaigns c JOIN campaign_sites t ON "
			 "t.campaign_id = c.id WHERE c.name = 'door-s2' AND t.sites = 's2,s1'"), 1);
	/* door-s1 retargeted to s2 only: removed here. */
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 5, now(),
	     "{\"item\":" CAMP("door-s1", "\"s2\"") "}");
	assert_int_equal(count(f, "SELECT count(*) FROM campaigns WHERE name = 'door-s1'"), 0);
	assert_int_equal(consent_follow_seq(f->cf), 5);
	/* A site list that is not one (signed all the same) is refused and
	 * changes nothing. */
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 6, now(),
	     "{\"item\":" CAMP("hello", "\"s 1\"") "}");
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 6, now(),
	     "{\"item\":{\"campaign\":{\"name\":\"hello\",\"zone\":\"entrance\","
	     "\"event\":\"enter\",\"sites\":\"s1\"}}}");
	assert_int_equal(rejected(f, FLEET_FAILED), 2);
	assert_int_equal(consent_follow_seq(f->cf), 5);
	assert_int_equal(count(f, "SELECT count(*) FROM campaigns"), 2);
}

/* A snapshot at seq 3 still being streamed when change 4 arrives (the hub
 * sends chunks as the broker takes them, changes in between): its last
 * chunk must not take change 4 back. */
static void test_snapshot_behind_a_change(void **state)
{
	struct fx *f = *state;

	start(f, 3);
	chunk(f, "s2", 0, 2, 3, now() - 5, CUST("C1", "\"ibeacon e2e0c1c1-0000-4000-8000-"
					   "00000000000a:1:1\""));
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 4, now(),
	     "{\"item\":{\"customer\":{\"ref\":\"C1\",\"identifiers\":[],\"consents\":[],"
	     "\"segments\":[]}}}");
	assert_int_equal(consent_follow_seq(f->cf), 4);
	chunk(f, "s2", 1, 2, 3, now() - 5, CUST("C2", ""));
	assert_int_equal(consent_follow_seq(f->cf), 4);
	assert_int_equal(count(f, "SELECT count(*) FROM identifiers"), 0);
	assert_true(rejected(f, FLEET_REPLAYED) >= 1);
}

/* A consent without granted_at, for a customer held (a change) or added (a
 * snapshot's bulk add): refused alike, counted, nothing of it written. */
#define NO_GRANTED_AT(ref) "{\"customer\":{\"ref\":\"" ref "\",\"identifiers\":[]," \
	"\"consents\":[{\"purpose\":\"presence\",\"channels\":\"\"}],\"segments\":[]}}"

static void test_consent_needs_granted_at(void **state)
{
	struct fx *f = *state;
	const char *in_force = "SELECT count(*) FROM consents c JOIN customers u ON "
			       "u.id = c.customer_id WHERE u.customer_ref = 'C1' AND "
			       "c.withdrawn_at IS NULL";

	start(f, 3);
	assert_int_equal(count(f, in_force), 1);
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 4, now(),
	     "{\"item\":" NO_GRANTED_AT("C1") "}");
	assert_int_equal(rejected(f, FLEET_FAILED), 1);
	assert_int_equal(consent_follow_seq(f->cf), 3);
	assert_int_equal(count(f, in_force), 1);
	chunk(f, "s2", 0, 1, 5, now() - 5, CUST("C1", "") "," NO_GRANTED_AT("C9"));
	assert_int_equal(rejected(f, FLEET_FAILED), 2);
	assert_int_equal(consent_follow_seq(f->cf), 3);
	assert_int_equal(count(f, "SELECT count(*) FROM customers"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM customers WHERE customer_ref = 'C9'"), 0);
}

/* The entry of one action in a list of audit entries, the n-th such (0 first). */
static const cJSON *entry(const cJSON *log, const char *action, int n)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, log)
		if (!strcmp(cJSON_GetObjectItem(e, "action")->valuestring, action) && n-- == 0)
			return e;
	return NULL;
}

/*
 * What a gateway's log says about what the fleet gave it: one compact
 * 'customer.fleet' entry per customer a snapshot or change added, naming
 * the hub's sequence, with what arrived (identifiers as salted
 * fingerprints); changes to a customer held keep their full entries.
 */
static void test_audit_of_what_arrived(void **state)
{
	struct fx *f = *state;
	const cJSON *e, *after, *c;
	cJSON *log, *doc;
	char err[STORE_ERRLEN];
	int64_t last_id;

	start(f, 3);
	/* C3 arrives with C1's tag: it moves, C1's loss logged in full. */
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 4, now(),
	     "{\"item\":{\"customer\":{\"ref\":\"C3\",\"identifiers\":[\"ibeacon e2e0c1c1-0000-"
	     "4000-8000-00000000000a:1:1\"],\"consents\":[],\"segments\":[\"vip\"]}}}");
	send(f, T_CHANGE, f->key, f->fpr, "acme", FLEET_CHANGE, 5, now(),
	     "{\"item\":{\"customer\":{\"ref\":\"C1\",\"identifiers\":[],\"consents\":[],"
	     "\"segments\":[]}}}");
	assert_int_equal(consent_follow_seq(f->cf), 5);
	assert_int_equal(store_audit_list(f->db, 0, NULL, &log, err), STORE_OK);
	/* No full entries for the additions. */
	assert_null(entry(log, "customer.add", 0));
	assert_null(entry(log, "consent.grant", 0));
	e = entry(log, "customer.fleet", 0);
	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItem(e, "actor")->valuestring, "fleet:acme seq 3");
	assert_string_equal(cJSON_GetObjectItem(e, "customer_ref")->valuestring, "C1");
	after = cJSON_GetObjectItem(e, "after");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(after, "identifiers")), 1);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(after, "identifiers"), 0);
	assert_string_equal(cJSON_GetObjectItem(c, "type")->valuestring, "ibeacon");
	assert_int_equal(strlen(cJSON_GetObjectItem(c, "fingerprint")->valuestring), 8);
	c = cJSON_GetArrayItem(cJSON_GetObjectItem(after, "consents"), 0);
	assert_string_equal(cJSON_GetObjectItem(c, "purpose")->valuestring, "retargeting");
	assert_string_equal(cJSON_GetObjectItem(c, "channels")->valuestring, "push");
	e = entry(log, "customer.fleet", 1);
	assert_string_equal(cJSON_GetObjectItem(e, "customer_ref")->valuestring, "C2");
	e = entry(log, "customer.fleet", 2);
	assert_string_equal(cJSON_GetObjectItem(e, "actor")->valuestring, "fleet:acme seq 4");
	assert_string_equal(cJSON_GetObjectItem(e, "customer_ref")->valuestring, "C3");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "after"),
								   "segments"), 0)->valuestring,
			    "vip");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "after"),
								"identifiers")), 1);
	last_id = (int64_t)cJSON_GetObjectItem(e, "id")->valuedouble;
	/* Changing a customer held: full entries, in id order with the compact ones. */
	e = entry(log, "identifier.remove", 0);
	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItem(e, "actor")->valuestring, "fleet:acme");
	assert_string_equal(cJSON_GetObjectItem(e, "customer_ref")->valuestring, "C1");
	assert_true((int64_t)cJSON_GetObjectItem(e, "id")->valuedouble < last_id);
	e = entry(log, "consent.withdraw", 0);
	assert_non_null(e);
	assert_true((int64_t)cJSON_GetObjectItem(e, "id")->valuedouble > last_id);
	assert_int_equal(count(f, "SELECT count(*) FROM identifiers i JOIN customers c ON "
			 "c.id = i.customer_id WHERE c.customer_ref = 'C3'"), 1);
	cJSON_Delete(log);
	/* The customer's export holds the same entry. */
	assert_int_equal(store_export(f->db, "C2", &doc, err), STORE_OK);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "audit"), 0);
	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItem(e, "action")->valuestring, "customer.fleet");
	assert_string_equal(cJSON_GetObjectItem(e, "actor")->valuestring, "fleet:acme seq 3");
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_whole_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_sites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_behind_a_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consent_needs_granted_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_of_what_arrived, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
