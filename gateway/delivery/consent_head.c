/*
 * consent_head.c - follow the fleet's authority: apply its changes in order,
 * match its retained head, ask for a snapshot when behind (consent_head.h).
 */
#include "consent_head.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgw_clock.h"
#include "consent_update.h"
#include "delivery_config.h"
#include "fleet_state.h"
#include "log.h"
#include "store.h"

#define TOPIC_MAX 600
/* Changes published just before a head normally arrive before it; a
 * gateway behind the head waits this long for them before asking for a
 * snapshot (it acts on nobody meanwhile). */
#define BEHIND_GRACE_US (3u * BGW_US_PER_S)
/* A snapshot asked for and not complete by then is asked for again, from
 * the first chunk still missing. */
#define REQUEST_RETRY_US (15u * BGW_US_PER_S)
/* A head issued this far in our future is refused (clock skew allowance). */
#define FUTURE_SKEW_S 300

struct consent_follow {
	sqlite3 *db;
	struct consent_follow_io io;
	char fleet[DELIVERY_STR_MAX];
	char site[DELIVERY_STR_MAX];     /* campaigns for other sites are not kept */
	EVP_PKEY *keys[FLEET_KEYS_MAX];
	char fprs[FLEET_KEYS_MAX][CONSENT_FPR_LEN + 1];
	size_t n_keys;
	size_t max_bytes;
	int64_t max_staleness_s;
	char actor[40];
	char t_change[TOPIC_MAX], t_head[TOPIC_MAX], t_snap[TOPIC_MAX], t_request[TOPIC_MAX];

	/* what the store holds (kv fleet.*) */
	char key[CONSENT_FPR_LEN + 1];   /* "" = no snapshot yet */
	int64_t seq, since, head_seen;

	/* the newest valid head */
	bool have_head;
	struct fleet_header head;
	bool synced;                     /* matched a head since the last connect */
	bool connected;
	uint64_t behind_since_us;        /* 0 = not behind */
	bool need_snapshot;
	uint64_t requested_us;           /* 0 = no request outstanding */
	struct snapshot_rx *rx;

	struct consent_follow_stats st;
	char reason[160];
};

static int64_t kv_int(sqlite3 *db, const char *key)
{
	char v[32], err[STORE_ERRLEN];

	if (store_kv_get(db, key, v, sizeof(v), err) != STORE_OK)
		return 0;
	return strtoll(v, NULL, 10);
}

static void load_state(struct consent_follow *cf)
{
	char err[STORE_ERRLEN];

	if (store_kv_get(cf->db, "fleet.key", cf->key, sizeof(cf->key), err) != STORE_OK)
		cf->key[0] = '\0';
	cf->seq = kv_int(cf->db, "fleet.seq");
	cf->since = kv_int(cf->db, "fleet.since");
	cf->head_seen = kv_int(cf->db, "fleet.head");
}

static int load_key(struct consent_follow *cf, const char *path, char *err, size_t errlen)
{
	char kerr[300];
	EVP_PKEY *k;

	if (!path[0])
		return 0;
	k = consent_key_load_public(path, kerr, sizeof(kerr));
	if (!k || consent_key_fingerprint(k, cf->fprs[cf->n_keys])) {
		snprintf(err, errlen, "[consent] %s: %s", path, k ? "cannot read the raw key" : kerr);
		EVP_PKEY_free(k);
		return -1;
	}
	cf->keys[cf->n_keys++] = k;
	return 0;
}

struct consent_follow *consent_follow_new(const struct delivery_config *cfg, sqlite3 *db,
					  const struct consent_follow_io *io, char *err,
					  size_t errlen)
{
	struct consent_follow *cf = calloc(1, sizeof(*cf));

	if (!cf || !(cf->rx = snapshot_rx_new(db))) {
		snprintf(err, errlen, "out of memory");
		free(cf);
		return NULL;
	}
	cf->db = db;
	cf->io = *io;
	snprintf(cf->fleet, sizeof(cf->fleet), "%s", cfg->consent_fleet);
	snprintf(cf->site, sizeof(cf->site), "%s", cfg->site);
	cf->max_bytes = cfg->consent_max_bytes;
	cf->max_staleness_s = cfg->consent_max_staleness_s;
	if (load_key(cf, cfg->consent_pubkey, err, errlen) ||
	    load_key(cf, cfg->consent_pubkey_next, err, errlen))
		goto fail;
	if (!cf->n_keys) {
		snprintf(err, errlen, "[consent] fleet needs public_key (the hub's)");
		goto fail;
	}
	snprintf(cf->actor, sizeof(cf->actor), "fleet:%.32s", cf->fleet);
	snprintf(cf->t_change, sizeof(cf->t_change), "%.500s/consent", cfg->topic_prefix);
	snprintf(cf->t_head, sizeof(cf->t_head), "%.500s/consent/head", cfg->topic_prefix);
	if (delivery_topic(cfg, "consent/snapshot", cf->t_snap, sizeof(cf->t_snap)) ||
	    delivery_topic(cfg, "consent/request", cf->t_request, sizeof(cf->t_request))) {
		snprintf(err, errlen, "topic too long");
		goto fail;
	}
	load_state(cf);
	log_info("consent: following fleet %s (key %s%s%s), holding seq %" PRId64 "%s", cf->fleet,
		 cf->fprs[0], cf->n_keys > 1 ? ", next key " : "", cf->n_keys > 1 ? cf->fprs[1] : "",
		 cf->seq, cf->key[0] ? "" : " (no snapshot yet)");
	return cf;
fail:
	consent_follow_free(cf);
	return NULL;
}

void consent_follow_free(struct consent_follow *cf)
{
	if (!cf)
		return;
	for (size_t i = 0; i < cf->n_keys; i++)
		EVP_PKEY_free(cf->keys[i]);
	snapshot_rx_free(cf->rx);
	free(cf);
}

static int64_t now_s(void)
{
	return (int64_t)bgw_us_to_s(bgw_wall_us());
}

static void reject(struct consent_follow *cf, enum fleet_verdict v, const char *what,
		   const char *why)
{
	char safe[300];

	cf->st.rejected++;
	cf->st.by_verdict[v]++;
	consent_escape(why, safe, sizeof(safe));
	log_limited(LOG_PRIO_WARNING, fleet_verdict_name(v), "consent: fleet %s refused (%s): %s",
		    what, fleet_verdict_name(v), safe);
}

/* ---- asking for a snapshot ---- */

static void request_snapshot(struct consent_follow *cf, const char *why)
{
	uint64_t now = bgw_mono_us();
	uint32_t from;
	const char *id;
	char payload[160];

	if (!cf->need_snapshot)
		log_notice("consent: asking the hub for a snapshot (%s)", why);
	cf->need_snapshot = true;
	if (!cf->connected || (cf->requested_us && now - cf->requested_us < REQUEST_RETRY_US))
		return;
	id = snapshot_rx_id(cf->rx, &from);
	snprintf(payload, sizeof(payload), "{\"snap\":\"%s\",\"from\":%" PRIu32 "}", id,
		 id[0] ? from : 0);
	if (cf->io.publish(cf->io.ctx, cf->t_request, payload, strlen(payload)) == 0) {
		cf->requested_us = now;
		cf->st.requests++;
	}
}

/* ---- where we stand against the head ---- */

/* from_head: a head just came. A change that takes the gateway past the
 * last head seen only waits for the next head; a head behind what the
 * gateway holds is one it cannot match. */
static void evaluate(struct consent_follow *cf, bool from_head)
{
	if (!cf->key[0]) {
		snprintf(cf->reason, sizeof(cf->reason), "no snapshot from the hub yet");
		request_snapshot(cf, cf->reason);
		return;
	}
	if (!cf->have_head)
		return;
	if (!strcmp(cf->head.key, cf->key) && cf->head.seq == cf->seq) {
		if (!cf->synced)
			log_info("consent: current with the hub at seq %" PRId64, cf->seq);
		cf->synced = true;
		cf->behind_since_us = 0;
		cf->need_snapshot = false;
		return;
	}
	cf->synced = false;
	if (!strcmp(cf->head.key, cf->key) && cf->head.seq > cf->seq) {
		snprintf(cf->reason, sizeof(cf->reason), "behind the hub: seq %" PRId64 " of %" PRId64,
			 cf->seq, cf->head.seq);
		if (!cf->behind_since_us)
			cf->behind_since_us = bgw_mono_us();
		if (bgw_mono_us() - cf->behind_since_us >= BEHIND_GRACE_US)
			request_snapshot(cf, cf->reason);
		return;
	}
	if (!from_head && !strcmp(cf->head.key, cf->key) && cf->head.seq < cf->seq) {
		snprintf(cf->reason, sizeof(cf->reason), "waiting for the hub's head at seq %" PRId64,
			 cf->seq);
		return;
	}
	snprintf(cf->reason, sizeof(cf->reason), "cannot match the hub's head (key %s seq %" PRId64
		 ", holding key %s seq %" PRId64 ")", cf->head.key, cf->head.seq, cf->key, cf->seq);
	request_snapshot(cf, cf->reason);
}

bool consent_follow_current(const struct consent_follow *cf, const char **reason)
{
	struct consent_follow *m = (struct consent_follow *)cf;
	int64_t age = consent_follow_age_s(cf);

	if (!cf->key[0] || !cf->have_head || strcmp(cf->head.key, cf->key) ||
	    cf->head.seq != cf->seq) {
		if (!cf->key[0])
			snprintf(m->reason, sizeof(m->reason), "no snapshot from the hub yet");
		else if (!cf->have_head)
			snprintf(m->reason, sizeof(m->reason), "no head from the hub yet");
		*reason = cf->reason;
		return false;
	}
	if (age > cf->max_staleness_s) {
		snprintf(m->reason, sizeof(m->reason), "no valid head from the hub for %" PRId64 " s",
			 age);
		*reason = cf->reason;
		return false;
	}
	*reason = NULL;
	return true;
}

bool consent_follow_synced(const struct consent_follow *cf)
{
	const char *why;

	return cf->synced && consent_follow_current(cf, &why);
}

int64_t consent_follow_seq(const struct consent_follow *cf)
{
	return cf->seq;
}

int64_t consent_follow_age_s(const struct consent_follow *cf)
{
	int64_t age;

	if (!cf->have_head)
		return -1;
	age = now_s() - cf->head.issued_at;
	return age < 0 ? 0 : age;
}

const struct consent_follow_stats *consent_follow_get_stats(const struct consent_follow *cf)
{
	return &cf->st;
}

/* ---- messages ---- */

static void on_head(struct consent_follow *cf, const struct fleet_header *h)
{
	char v[32], err[STORE_ERRLEN];

	if (h->issued_at < cf->head_seen ||
	    (cf->have_head && h->issued_at < cf->head.issued_at)) {
		reject(cf, FLEET_REPLAYED, "head", "older than a head already seen");
		return;
	}
	if (h->issued_at > now_s() + FUTURE_SKEW_S) {
		reject(cf, FLEET_MALFORMED, "head", "issued in the future (clock?)");
		return;
	}
	cf->head = *h;
	cf->have_head = true;
	/* Kept so that a restart (or a restored backup) refuses older heads; a
	 * failure only weakens that and is retried with the next head. */
	if (h->issued_at != cf->head_seen) {
		snprintf(v, sizeof(v), "%" PRId64, h->issued_at);
		store_busy_timeout(cf->db, 50);
		if (store_kv_set(cf->db, "fleet.head", v, err) == STORE_OK)
			cf->head_seen = h->issued_at;
		store_busy_timeout(cf->db, STORE_DEFAULT_BUSY_MS);
	}
	evaluate(cf, true);
}

static void on_change(struct consent_follow *cf, const struct fleet_header *h, cJSON *p)
{
	char err[STORE_ERRLEN], seqtxt[24], bulk_actor[96];
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(p, "item");
	struct store_bulk_add *bulk;
	bool forgot = false;
	int rc;

	if (!cf->key[0]) {
		reject(cf, FLEET_GAP, "change", "no snapshot to apply it to yet");
		request_snapshot(cf, "no snapshot from the hub yet");
		return;
	}
	if (h->issued_at < cf->since || (!strcmp(h->key, cf->key) && h->seq <= cf->seq)) {
		reject(cf, FLEET_REPLAYED, "change", "older than the state held");
		return;
	}
	if (strcmp(h->key, cf->key)) {
		reject(cf, FLEET_GAP, "change", "signed under another key than the state held");
		request_snapshot(cf, "the hub signs with another key");
		return;
	}
	if (h->seq != cf->seq + 1) {
		reject(cf, FLEET_GAP, "change", "a sequence was missed");
		cf->synced = false;
		snprintf(cf->reason, sizeof(cf->reason), "missed changes %" PRId64 "..%" PRId64,
			 cf->seq + 1, h->seq - 1);
		request_snapshot(cf, cf->reason);
		return;
	}
	store_busy_timeout(cf->db, 200);
	rc = store_begin(cf->db, err);
	store_busy_timeout(cf->db, STORE_DEFAULT_BUSY_MS);
	if (!rc) {
		/* A customer it adds is audited compactly, naming this change's sequence. */
		snprintf(bulk_actor, sizeof(bulk_actor), "%s seq %" PRId64, cf->actor, h->seq);
		if (!(bulk = store_bulk_add_new(bulk_actor))) {
			rc = STORE_ENOMEM;
			snprintf(err, sizeof(err), "out of memory");
		}
		if (!rc)
			rc = fleet_state_apply_bulk_tx(cf->db, cf->actor, bulk, cf->site, item,
						       &forgot, err);
		if (!rc)
			rc = store_bulk_add_sync_tx(cf->db, bulk, err);
		store_bulk_add_free(bulk);
		snprintf(seqtxt, sizeof(seqtxt), "%" PRId64, h->seq);
		if (!rc)
			rc = store_kv_set(cf->db, "fleet.seq", seqtxt, err);
		rc = store_tx_end(cf->db, rc, err);
	}
	if (rc) {
		/* Not applied: the state is now behind the hub, a snapshot repairs it. */
		reject(cf, FLEET_FAILED, "change", err);
		cf->synced = false;
		snprintf(cf->reason, sizeof(cf->reason), "a change could not be applied");
		request_snapshot(cf, cf->reason);
		return;
	}
	cf->seq = h->seq;
	cf->st.applied++;
	cf->st.by_verdict[FLEET_OK]++;
	log_info("consent: fleet change seq %" PRId64 " applied", h->seq);
	if (forgot && store_forget_cleanup(cf->db, err) != STORE_OK)
		log_notice("consent: erasure committed; file clean-up postponed: %s", err);
	evaluate(cf, false);
}

static void on_chunk(struct consent_follow *cf, const struct fleet_header *h, cJSON *p)
{
	char err[STORE_ERRLEN];
	struct fleet_header sh;
	enum fleet_verdict v;
	bool complete;
	int rc;

	/* Older than the state held, or the very snapshot already applied
	 * (served again to a gateway that asked twice), or behind a change
	 * already applied under the same key: a streamed snapshot's chunks and
	 * the changes signed meanwhile interleave, and applying the snapshot
	 * after such a change would take the change back. */
	if (h->issued_at < cf->since ||
	    (!strcmp(h->key, cf->key) &&
	     (h->seq < cf->seq || (h->issued_at == cf->since && h->seq <= cf->seq)))) {
		cJSON_Delete(p);
		reject(cf, FLEET_REPLAYED, "snapshot", "not newer than the state held");
		return;
	}
	v = snapshot_rx_chunk(cf->rx, h, p, &complete, err, sizeof(err));
	if (v != FLEET_OK) {
		reject(cf, v, "snapshot chunk", err);
		return;
	}
	if (!complete)
		return;
	sh = *snapshot_rx_header(cf->rx);
	rc = snapshot_rx_apply(cf->rx, cf->db, cf->actor, cf->site, err);
	snapshot_rx_clear(cf->rx);
	cf->requested_us = 0;
	if (rc) {
		reject(cf, FLEET_FAILED, "snapshot", err);
		return;
	}
	snprintf(cf->key, sizeof(cf->key), "%s", sh.key);
	cf->seq = sh.seq;
	cf->since = sh.issued_at;
	cf->st.snapshots++;
	cf->st.applied++;   /* the daemon reloads what the pipeline uses */
	cf->need_snapshot = false;
	log_notice("consent: hub snapshot at seq %" PRId64 " (key %s) applied", sh.seq, sh.key);
	evaluate(cf, false);
}

bool consent_follow_message(struct consent_follow *cf, const char *topic, const void *msg,
			    size_t len)
{
	struct fleet_header h;
	enum fleet_verdict v;
	enum fleet_type want;
	char err[300];
	cJSON *p;

	if (!strcmp(topic, cf->t_change))
		want = FLEET_CHANGE;
	else if (!strcmp(topic, cf->t_head))
		want = FLEET_HEAD;
	else if (!strcmp(topic, cf->t_snap))
		want = FLEET_SNAPSHOT;
	else
		return false;
	if (!len)
		return true;   /* a retained message cleared */
	v = fleet_msg_open(cf->keys, cf->fprs, cf->n_keys, cf->fleet, msg, len, cf->max_bytes,
			   &h, &p, err, sizeof(err));
	if (v != FLEET_OK) {
		reject(cf, v, want == FLEET_HEAD ? "head" : want == FLEET_CHANGE ? "change" :
			   "snapshot", err);
		return true;
	}
	if (h.type != want) {
		cJSON_Delete(p);
		reject(cf, FLEET_MALFORMED, "message", "its type does not belong on this topic");
		return true;
	}
	switch (want) {
	case FLEET_HEAD:
		cJSON_Delete(p);
		on_head(cf, &h);
		break;
	case FLEET_CHANGE:
		on_change(cf, &h, p);
		cJSON_Delete(p);
		break;
	case FLEET_SNAPSHOT:
		on_chunk(cf, &h, p);   /* takes p */
		break;
	}
	return true;
}

void consent_follow_connected(struct consent_follow *cf)
{
	cf->connected = true;
	cf->synced = false;
	cf->requested_us = 0;
	cf->io.subscribe(cf->io.ctx, cf->t_change);
	cf->io.subscribe(cf->io.ctx, cf->t_snap);
	/* Last: the retained head comes after what the session kept for us. */
	cf->io.subscribe(cf->io.ctx, cf->t_head);
	if (!cf->key[0] || cf->need_snapshot)
		request_snapshot(cf, cf->key[0] ? "resuming" : "no snapshot from the hub yet");
}

void consent_follow_disconnected(struct consent_follow *cf)
{
	cf->connected = false;
	cf->synced = false;
}

void consent_follow_tick(struct consent_follow *cf)
{
	if (cf->need_snapshot)
		request_snapshot(cf, cf->reason);
	else if (cf->behind_since_us || !cf->key[0])
		evaluate(cf, false);
}
