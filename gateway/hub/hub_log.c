/*
 * hub_log.c - the authority database's committed changes become signed,
 * sequenced messages in the hub's durable outbox (hub.h).
 *
 * A change to the authority database writes fleet_changes rows in its own
 * transaction (schema v5 triggers). Here, in one transaction, those rows
 * are read, each customer or campaign they name is read as it is now
 * (fleet_state.h), signed under the next sequence number, queued in
 * fleet_outbox, and the rows deleted. A hub killed at any moment either
 * finds the rows still there or the signed messages queued: nothing
 * committed is lost and nothing is signed twice.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bgw_clock.h"
#include "fleet_msg.h"
#include "fleet_state.h"
#include "hub.h"
#include "log.h"
#include "store.h"

#define BATCH_ROWS 500

int64_t hub_now_s(void)
{
	return (int64_t)bgw_us_to_s(bgw_wall_us());
}

int hub_auth_open(struct hub_auth *a, const struct hub_config *cfg, char *err, size_t errlen)
{
	char serr[STORE_ERRLEN], v[32], kerr[300];
	int rc;

	memset(a, 0, sizeof(*a));
	a->fleet = cfg->fleet;
	a->key = consent_key_load_private(cfg->signing_key, kerr, sizeof(kerr));
	if (!a->key || consent_key_fingerprint(a->key, a->fpr)) {
		snprintf(err, errlen, "[authority] signing_key: %s", a->key ? "unreadable" : kerr);
		return -1;
	}
	rc = store_open(cfg->db, 0, &a->db, serr);
	if (rc != STORE_OK) {
		snprintf(err, errlen, "[authority] db: %s", serr);
		return -1;
	}
	/* From now on every change to this database leaves its fleet_changes rows. */
	rc = store_kv_get(a->db, "fleet.authority", v, sizeof(v), serr);
	if (rc == STORE_OK && strcmp(v, cfg->fleet)) {
		snprintf(err, errlen, "[authority] db is the authority of fleet \"%s\", not \"%s\"",
			 v, cfg->fleet);
		return -1;
	}
	if (rc == STORE_ENOENT && store_kv_set(a->db, "fleet.authority", cfg->fleet, serr)) {
		snprintf(err, errlen, "[authority] db: %s", serr);
		return -1;
	}
	snprintf(a->seq_kv, sizeof(a->seq_kv), "hub.seq.%s", a->fpr);
	/* beaconctl fleet compares each gateway with the sequence of this key. */
	if (store_kv_set(a->db, "hub.key", a->fpr, serr)) {
		snprintf(err, errlen, "[authority] db: %s", serr);
		return -1;
	}
	if (store_kv_get(a->db, a->seq_kv, v, sizeof(v), serr) == STORE_OK)
		a->signed_seq = strtoll(v, NULL, 10);
	a->reader = fleet_reader_new(a->db, err, errlen);
	return a->reader ? 0 : -1;
}

int hub_auth_check(const struct hub_config *cfg, char *err, size_t errlen)
{
	char serr[STORE_ERRLEN], v[80], kerr[300];
	EVP_PKEY *key = consent_key_load_private(cfg->signing_key, kerr, sizeof(kerr));
	sqlite3 *db = NULL;
	int rc = -1;

	if (!key) {
		snprintf(err, errlen, "[authority] signing_key: %s", kerr);
		return -1;
	}
	EVP_PKEY_free(key);
	if (store_open(cfg->db, STORE_OPEN_READONLY, &db, serr) != STORE_OK) {
		snprintf(err, errlen, "[authority] db: %s", serr);
		return -1;
	}
	if (store_kv_get(db, "fleet.authority", v, sizeof(v), serr) == STORE_OK &&
	    strcmp(v, cfg->fleet))
		snprintf(err, errlen, "[authority] db is the authority of fleet \"%s\", not \"%s\"",
			 v, cfg->fleet);
	else
		rc = 0;
	store_close(db);
	return rc;
}

int hub_auth_rekey(struct hub_auth *a, const char *signing_key, char *err, size_t errlen)
{
	char serr[STORE_ERRLEN], v[32], kerr[300], fpr[CONSENT_FPR_LEN + 1], seq_kv[48];
	EVP_PKEY *key = consent_key_load_private(signing_key, kerr, sizeof(kerr));
	int rc;

	if (!key || consent_key_fingerprint(key, fpr)) {
		snprintf(err, errlen, "[authority] signing_key: %s", key ? "unreadable" : kerr);
		EVP_PKEY_free(key);
		return -1;
	}
	if (!strcmp(fpr, a->fpr)) {
		EVP_PKEY_free(key);
		return 0;
	}
	/* Nothing changes unless the database takes the new key. */
	if (store_kv_set(a->db, "hub.key", fpr, serr)) {
		snprintf(err, errlen, "[authority] db: %s", serr);
		EVP_PKEY_free(key);
		return -1;
	}
	snprintf(seq_kv, sizeof(seq_kv), "hub.seq.%s", fpr);
	rc = store_kv_get(a->db, seq_kv, v, sizeof(v), serr);
	EVP_PKEY_free(a->key);
	a->key = key;
	memcpy(a->fpr, fpr, sizeof(fpr));
	memcpy(a->seq_kv, seq_kv, sizeof(seq_kv));
	a->signed_seq = rc == STORE_OK ? strtoll(v, NULL, 10) : 0;
	return 1;
}

void hub_auth_close(struct hub_auth *a)
{
	fleet_reader_free(a->reader);
	a->reader = NULL;
	if (a->db)
		store_close(a->db);
	a->db = NULL;
	EVP_PKEY_free(a->key);
	a->key = NULL;
}

struct entry {
	char kind;                /* 'u' customer, 'a' campaign */
	int64_t customer_id;
	char name[STORE_REF_MAX + 1];
};

static struct entry *find(struct entry *e, size_t n, const char *kind, int64_t cid,
			  const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (kind[1] == 'u' && e[i].kind == 'u' && e[i].customer_id == cid)
			return &e[i];
		if (kind[1] == 'a' && e[i].kind == 'a' && !strcmp(e[i].name, name))
			return &e[i];
	}
	return NULL;
}

static int queue(struct hub_auth *a, sqlite3_stmt *ins, cJSON *item, int64_t now, char *err,
		 size_t errlen)
{
	cJSON *p = cJSON_CreateObject();
	char *env;
	int rc;

	cJSON_AddItemToObject(p, "item", item);
	env = fleet_msg_sign(a->key, a->fpr, a->fleet, FLEET_CHANGE, a->signed_seq + 1, now, p,
			     err, errlen);
	cJSON_Delete(p);
	if (!env)
		return -1;
	sqlite3_bind_text(ins, 1, a->fpr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 2, a->signed_seq + 1);
	sqlite3_bind_text(ins, 3, env, -1, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	free(env);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "fleet outbox: %s", sqlite3_errmsg(a->db));
		return -1;
	}
	a->signed_seq++;
	return 0;
}

/* One batch; returns messages made, 0 when nothing is pending, -1. */
static int sign_batch(struct hub_auth *a, char *err, size_t errlen)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	struct entry *e = calloc(BATCH_ROWS, sizeof(*e));
	size_t n = 0;
	int64_t max_id = 0, start_seq = a->signed_seq, now = hub_now_s();
	char serr[STORE_ERRLEN], seqtxt[24], del[96];
	int rc, made = 0;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	store_busy_timeout(a->db, 50);
	rc = store_begin(a->db, serr);
	store_busy_timeout(a->db, STORE_DEFAULT_BUSY_MS);
	a->busy = rc == STORE_EBUSY;
	if (rc == STORE_EBUSY) {
		free(e);
		return 0;
	}
	if (rc) {
		snprintf(err, errlen, "%s", serr);
		free(e);
		return -1;
	}
	if (sqlite3_prepare_v2(a->db, "SELECT id, kind, customer_id, name FROM fleet_changes "
			       "ORDER BY id LIMIT 500", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(a->db, "INSERT INTO fleet_outbox (key, seq, msg) VALUES (?,?,?)",
			       -1, &ins, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "fleet change log: %s", sqlite3_errmsg(a->db));
		goto fail;
	}
	/* Rows about the same customer or campaign collapse into one message of
	 * its state now, in the order they were first touched. */
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(sel, 1);
		int64_t cid = sqlite3_column_int64(sel, 2);
		const char *name = (const char *)sqlite3_column_text(sel, 3);
		struct entry *x;

		max_id = sqlite3_column_int64(sel, 0);
		if (kind[1] == 'a' && !name)
			continue;
		x = find(e, n, kind, cid, name ? name : "");
		if (!x) {
			x = &e[n++];
			x->kind = kind[1];
			x->customer_id = cid;
			x->name[0] = '\0';
		}
		if (name)
			snprintf(x->name, sizeof(x->name), "%s", name);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "fleet change log: %s", sqlite3_errmsg(a->db));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		bool gone;
		cJSON *item = e[i].kind == 'u' ?
			fleet_reader_customer(a->reader, e[i].customer_id, &gone, err, errlen) :
			fleet_reader_campaign(a->reader, e[i].name, &gone, err, errlen);

		if (!item && !gone)
			goto fail;
		/* A customer gone before the hub saw it under a name: nothing to say. */
		if (!item && !e[i].name[0])
			continue;
		if (!item)
			item = e[i].kind == 'u' ? fleet_state_gone("customer", "ref", e[i].name) :
						  fleet_state_gone("campaign", "name", e[i].name);
		if (queue(a, ins, item, now, err, errlen))
			goto fail;
		made++;
	}
	snprintf(del, sizeof(del), "DELETE FROM fleet_changes WHERE id <= %" PRId64, max_id);
	snprintf(seqtxt, sizeof(seqtxt), "%" PRId64, a->signed_seq);
	if (sqlite3_exec(a->db, del, NULL, NULL, NULL) != SQLITE_OK ||
	    store_kv_set(a->db, a->seq_kv, seqtxt, serr) != STORE_OK) {
		snprintf(err, errlen, "fleet change log: %s", sqlite3_errmsg(a->db));
		goto fail;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	free(e);
	if ((rc = store_commit(a->db, serr)) != STORE_OK) {
		store_rollback(a->db);
		a->signed_seq = start_seq;
		a->busy = rc == STORE_EBUSY;
		if (a->busy)
			return 0;
		snprintf(err, errlen, "%s", serr);
		return -1;
	}
	if (made)
		log_info("hub: %d change(s) signed, seq %" PRId64 "..%" PRId64, made,
			 start_seq + 1, a->signed_seq);
	return max_id ? (made ? made : 1) : 0;
fail:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	free(e);
	store_rollback(a->db);
	a->signed_seq = start_seq;
	/* Whatever went wrong, the rows are still there: try again next poll. */
	a->busy = true;
	return -1;
}

int hub_log_sign_pending(struct hub_auth *a, char *err, size_t errlen)
{
	int total = 0, rc;

	while ((rc = sign_batch(a, err, errlen)) > 0)
		total += rc;
	return rc < 0 ? -1 : total;
}
