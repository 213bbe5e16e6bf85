/*
 * consent_update.c - verify a signed consent change and apply it to the
 * store in one transaction (see consent_update.h for the rules).
 */
#include "consent_update.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent_sig.h"
#include "delivery_config.h"
#include "log.h"
#include "store.h"
#include "store_outbox.h"


struct consent_update {
	sqlite3 *db;
	EVP_PKEY *key;
	char fpr[CONSENT_FPR_LEN + 1];
	char actor[CONSENT_FPR_LEN + 8];
	size_t max_bytes;
	size_t queue_max;
	struct consent_update_stats st;
	/* Verified updates that met a locked database wait here, parsed, in
	 * arrival order; later ones queue behind them. Never dropped: past
	 * queue_max the publisher stops taking messages off the connection
	 * (consent_update_full()), so the rest wait in the broker session. */
	struct consent_change *wait;
	size_t n_wait, cap_wait;
	bool busy;                 /* set by the last attempt: database locked */
	bool lost;                 /* a verified update could not be kept (no memory) */
	char why[200];             /* consent_update_current()'s reason */
};

/* The last applied and the highest seen sequence (store_consent_seq.c). */
static int load_seqs(sqlite3 *db, int64_t *last, int64_t *seen, char *err, size_t errlen)
{
	char serr[STORE_ERRLEN];

	if (store_consent_seq_get(db, last, seen, serr) == STORE_OK)
		return 0;
	snprintf(err, errlen, "consent: cannot read the update sequence: %.120s", serr);
	return -1;
}

struct consent_update *consent_update_new(const struct delivery_config *cfg, sqlite3 *db,
					  char *err, size_t errlen)
{
	struct consent_update *cu = calloc(1, sizeof(*cu));
	char kerr[300];

	if (!cu) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cu->db = db;
	cu->max_bytes = cfg->consent_max_bytes;
	cu->queue_max = cfg->consent_queue_max ? cfg->consent_queue_max : 1;
	cu->key = consent_key_load_public(cfg->consent_pubkey, kerr, sizeof(kerr));
	if (!cu->key) {
		snprintf(err, errlen, "[consent] public_key: %s", kerr);
		goto fail;
	}
	if (consent_key_fingerprint(cu->key, cu->fpr)) {
		snprintf(err, errlen, "[consent] public_key: cannot read the raw key");
		goto fail;
	}
	snprintf(cu->actor, sizeof(cu->actor), "mqtt:%s", cu->fpr);
	if (load_seqs(db, &cu->st.last_seq, &cu->st.seen_seq, err, errlen))
		goto fail;
	log_info( "consent: accepting updates signed by key %s after seq %" PRId64,
		     cu->fpr, cu->st.last_seq);
	if (cu->st.seen_seq > cu->st.last_seq)
		log_err("consent: behind: update seq %" PRId64 " was received but %" PRId64
			" is the last applied; acting on nobody until the backend re-sends "
			"from seq %" PRId64, cu->st.seen_seq, cu->st.last_seq,
			cu->st.last_seq + 1);
	return cu;
fail:
	consent_update_free(cu);
	return NULL;
}

void consent_update_free(struct consent_update *cu)
{
	if (!cu)
		return;
	free(cu->wait);
	EVP_PKEY_free(cu->key);
	free(cu);
}

size_t consent_update_waiting(const struct consent_update *cu)
{
	return cu->n_wait;
}

bool consent_update_full(const struct consent_update *cu)
{
	return cu->n_wait >= cu->queue_max;
}

bool consent_update_lost(const struct consent_update *cu)
{
	return cu->lost;
}

const struct consent_update_stats *consent_update_get_stats(const struct consent_update *cu)
{
	return &cu->st;
}

bool consent_update_current(const struct consent_update *cu, const char **why)
{
	struct consent_update *w = (struct consent_update *)cu;  /* the reason buffer only */

	if (cu->lost) {
		*why = "a verified update was lost (out of memory); restart the gateway and "
		       "re-send from consent_seq + 1";
		return false;
	}
	if (cu->st.seen_seq <= cu->st.last_seq)
		return true;
	snprintf(w->why, sizeof(w->why), "missed updates: seq %" PRId64 " received, %" PRId64
		 " applied; re-send from seq %" PRId64, cu->st.seen_seq, cu->st.last_seq,
		 cu->st.last_seq + 1);
	*why = w->why;
	return false;
}

void consent_update_reload(struct consent_update *cu)
{
	int64_t last, seen;
	char err[300];

	if (load_seqs(cu->db, &last, &seen, err, sizeof(err))) {
		log_limited(LOG_PRIO_WARNING, "consent seq", "%s", err);
		return;
	}
	cu->st.last_seq = last;
	cu->st.seen_seq = seen;
}

/* Make sure ref exists (grants and identifiers may introduce a customer). */
static int ensure_customer(sqlite3 *db, const char *actor, const char *ref, char *err)
{
	int64_t id;
	int rc = store_customer_id(db, ref, &id, err);

	if (rc == STORE_ENOENT)
		rc = store_customer_add_tx(db, actor, ref, &id, err);
	return rc;
}

static int apply_tx(struct consent_update *cu, const struct consent_change *c, bool *noop,
		    char *err)
{
	struct store_identifier id;
	struct store_grant g = { 0 };
	enum store_purpose purpose = STORE_PRESENCE;
	enum store_id_type type;
	char source[64];
	int rc;

	*noop = false;
	if ((c->op == CONSENT_OP_GRANT || c->op == CONSENT_OP_WITHDRAW) &&
	    store_purpose_parse(c->purpose, &purpose) != STORE_OK) {
		snprintf(err, STORE_ERRLEN, "unknown purpose \"%.32s\"", c->purpose);
		return STORE_EINVAL;
	}
	if (c->op == CONSENT_OP_IDENTIFIER_ADD || c->op == CONSENT_OP_IDENTIFIER_REMOVE) {
		type = store_id_type_parse(c->id_type);
		if (!type) {
			snprintf(err, STORE_ERRLEN, "unknown identifier type \"%.32s\"",
				 c->id_type);
			return STORE_EINVAL;
		}
		rc = store_identifier_parse(type, c->id_value, &id, err);
		if (rc)
			return rc;
	}
	switch (c->op) {
	case CONSENT_OP_GRANT:
		rc = ensure_customer(cu->db, cu->actor, c->ref, err);
		if (rc)
			return rc;
		snprintf(source, sizeof(source), "mqtt seq %" PRId64, c->seq);
		g.purpose = purpose;
		g.channels = c->channels;
		g.expires_at = c->expires;
		g.source = source;
		g.policy = c->policy[0] ? c->policy : NULL;
		return store_consent_grant_tx(cu->db, cu->actor, c->ref, &g, err);
	case CONSENT_OP_WITHDRAW:
		rc = store_consent_withdraw_tx(cu->db, cu->actor, c->ref, purpose, err);
		if (rc == STORE_ENOENT) {
			*noop = true;  /* nothing to withdraw here: already the wanted state */
			return STORE_OK;
		}
		/* The store's withdrawal also empties the outbox of what it ends. */
		return rc;
	case CONSENT_OP_FORGET:
		rc = store_forget_tx(cu->db, cu->actor, c->ref, err);
		if (rc == STORE_ENOENT) {
			*noop = true;
			return STORE_OK;
		}
		return rc;
	case CONSENT_OP_IDENTIFIER_ADD:
		rc = ensure_customer(cu->db, cu->actor, c->ref, err);
		return rc ? rc : store_identifier_add_tx(cu->db, cu->actor, c->ref, &id, err);
	case CONSENT_OP_IDENTIFIER_REMOVE:
		rc = store_identifier_remove_tx(cu->db, cu->actor, &id, err);
		if (rc == STORE_ENOENT) {
			*noop = true;
			return STORE_OK;
		}
		return rc;
	}
	snprintf(err, STORE_ERRLEN, "unknown op");
	return STORE_EINVAL;
}

static enum consent_result reject(struct consent_update *cu, enum consent_result r, int64_t seq,
				  const char *why)
{
	char safe[300];

	cu->st.rejected++;
	cu->st.by_result[r]++;
	/* Every rejection is counted; the log is rate-limited per reason (a
	 * flood of junk on the topic must not flood the journal) and never
	 * carries a control character from an unauthenticated message. */
	consent_escape(why, safe, sizeof(safe));
	if (seq > 0)
		log_limited(LOG_PRIO_WARNING, consent_result_name(r),
			    "consent: update seq %" PRId64 " rejected (%s): %s", seq,
			    consent_result_name(r), safe);
	else
		log_limited(LOG_PRIO_WARNING, consent_result_name(r),
			    "consent: update rejected (%s): %s", consent_result_name(r), safe);
	return r;
}

/* Envelope, signature, then payload: nothing is kept or queued before the
 * signature verified. CONSENT_APPLIED here means "valid", with *c filled. */
static enum consent_result verify(struct consent_update *cu, const void *msg, size_t len,
				  struct consent_change *c)
{
	uint8_t sig[CONSENT_SIG_LEN], *payload = NULL;
	char fpr[CONSENT_FPR_LEN + 8], why[300];
	enum consent_result r;
	size_t plen;
	int rc;

	r = consent_envelope_parse(msg, len, cu->max_bytes, &payload, &plen, sig, fpr, sizeof(fpr),
				   why, sizeof(why));
	if (r != CONSENT_APPLIED)
		return reject(cu, r, 0, why);
	/* The signature comes first: nothing from an unverified payload is trusted,
	 * not even its sequence number. */
	if (!consent_sig_verify(cu->key, payload, plen, sig, sizeof(sig))) {
		free(payload);
		snprintf(why, sizeof(why), "does not verify with key %s%s%s", cu->fpr,
			 fpr[0] && strcmp(fpr, cu->fpr) ? "; it names key " : "",
			 fpr[0] && strcmp(fpr, cu->fpr) ? fpr : "");
		return reject(cu, CONSENT_BAD_SIGNATURE, 0, why);
	}
	rc = consent_change_parse(payload, plen, c, why, sizeof(why));
	free(payload);
	if (rc)
		return reject(cu, CONSENT_MALFORMED, 0, why);
	return CONSENT_APPLIED;
}

/*
 * The end of apply()'s transaction: if the change went in (rc), record
 * key = value and commit. A locked database sets cu->busy (tried again
 * later, nothing counted); any other failure rolls back and is rejected.
 * CONSENT_APPLIED when committed.
 */
static enum consent_result commit_seq(struct consent_update *cu, int rc, const char *key,
				      int64_t value, int64_t seq, char *serr)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRId64, value);
	if (rc == STORE_OK)
		rc = store_kv_set(cu->db, key, text, serr);
	if (rc == STORE_OK)
		rc = store_commit(cu->db, serr);
	if (rc == STORE_OK)
		return CONSENT_APPLIED;
	store_rollback(cu->db);
	if (rc == STORE_EBUSY) {
		cu->busy = true;
		return CONSENT_FAILED;
	}
	return reject(cu, CONSENT_FAILED, seq, serr);
}

/*
 * A verified update beyond last + 1, inside apply()'s transaction: updates
 * were missed. It is not applied (applying it out of order could re-grant
 * what a missing one withdrew); the highest sequence seen is committed
 * instead, so a restart still knows the gateway is behind.
 */
static enum consent_result behind(struct consent_update *cu, const struct consent_change *c,
				  int64_t last)
{
	char why[200], serr[STORE_ERRLEN];
	enum consent_result r;
	int64_t seen;

	if (load_seqs(cu->db, &(int64_t){ 0 }, &seen, why, sizeof(why))) {
		store_rollback(cu->db);
		return reject(cu, CONSENT_FAILED, c->seq, why);
	}
	if (c->seq > seen)
		seen = c->seq;
	r = commit_seq(cu, STORE_OK, STORE_KV_CONSENT_SEEN_SEQ, seen, c->seq, serr);
	if (r != CONSENT_APPLIED)
		return r;
	if (cu->st.seen_seq <= cu->st.last_seq)
		log_err("consent: behind: updates after seq %" PRId64 " are missing; acting on "
			"nobody until the backend re-sends from seq %" PRId64, last, last + 1);
	cu->st.last_seq = last;
	cu->st.seen_seq = seen;
	snprintf(why, sizeof(why), "updates %" PRId64 "..%" PRId64 " missing; re-send from seq %"
		 PRId64, last + 1, c->seq - 1, last + 1);
	return reject(cu, CONSENT_GAP, c->seq, why);
}

/* Apply one verified update; CONSENT_FAILED with cu->busy set if the
 * database is locked (nothing counted: it will be tried again). */
static enum consent_result apply(struct consent_update *cu, const struct consent_change *cp)
{
	char why[300], serr[STORE_ERRLEN];
	const struct consent_change c = *cp;
	enum consent_result r;
	int64_t last, seen;
	bool noop, forgot;
	int rc;

	/* Wait briefly for the write lock, not the store's usual 2 s: this runs in
	 * the event loop, and a locked database is retried on the next tick. */
	store_busy_timeout(cu->db, 50);
	rc = store_begin(cu->db, serr);
	store_busy_timeout(cu->db, STORE_DEFAULT_BUSY_MS);
	if (rc == STORE_EBUSY) {
		cu->busy = true;
		return CONSENT_FAILED;
	}
	if (rc != STORE_OK)
		return reject(cu, CONSENT_FAILED, c.seq, serr);
	/* Re-read inside the transaction: beaconctl or a second daemon may share it. */
	if (load_seqs(cu->db, &last, &seen, why, sizeof(why))) {
		store_rollback(cu->db);
		return reject(cu, CONSENT_FAILED, c.seq, why);
	}
	if (c.seq <= last) {
		store_rollback(cu->db);
		snprintf(why, sizeof(why), "the last applied update is seq %" PRId64, last);
		return reject(cu, CONSENT_REPLAYED, c.seq, why);
	}
	if (c.seq - last > CONSENT_SEQ_STEP_MAX) {
		store_rollback(cu->db);
		snprintf(why, sizeof(why), "seq jumps more than %" PRId64 " beyond the last "
			 "applied update (%" PRId64 ")", CONSENT_SEQ_STEP_MAX, last);
		return reject(cu, CONSENT_MALFORMED, c.seq, why);
	}
	if (c.seq != last + 1)
		return behind(cu, &c, last);
	rc = apply_tx(cu, &c, &noop, serr);
	r = commit_seq(cu, rc, STORE_KV_CONSENT_LAST_SEQ, c.seq, c.seq, serr);
	if (r != CONSENT_APPLIED)
		return r;
	cu->st.last_seq = c.seq;
	if (cu->st.seen_seq > last && c.seq >= cu->st.seen_seq)
		log_notice("consent: caught up with the missed updates at seq %" PRId64 "; acting "
			   "on people again", c.seq);
	cu->st.applied++;
	cu->st.by_result[CONSENT_APPLIED]++;
	log_info( "consent: update seq %" PRId64 " applied (%s%s%s)%s", c.seq,
		     c.op == CONSENT_OP_GRANT ? "grant " :
		     c.op == CONSENT_OP_WITHDRAW ? "withdraw " :
		     c.op == CONSENT_OP_FORGET ? "forget" :
		     c.op == CONSENT_OP_IDENTIFIER_ADD ? "identifier add" : "identifier remove",
		     c.purpose, "", noop ? ", nothing to change" : "");
	forgot = c.op == CONSENT_OP_FORGET && !noop;
	if (forgot && store_forget_cleanup(cu->db, serr) != STORE_OK)
		log_notice( "consent: erasure committed; file clean-up postponed: %s",
			     serr);
	return CONSENT_APPLIED;
}

/* Keep a verified update, in order, for when the database is free. */
static void keep(struct consent_update *cu, const struct consent_change *c)
{
	if (cu->n_wait == cu->cap_wait) {
		size_t cap = cu->cap_wait ? cu->cap_wait * 2 : 16;
		struct consent_change *nw = realloc(cu->wait, cap * sizeof(*nw));

		if (!nw) {
			/* Cannot keep it and cannot give it back (the broker has our
			 * PUBACK): the consent state is no longer complete. */
			cu->lost = true;
			cu->st.rejected++;
			cu->st.by_result[CONSENT_FAILED]++;
			log_err("consent: out of memory with %zu updates waiting for the database; "
				"update seq %" PRId64 " lost: publishing no trigger until the "
				"gateway is restarted (re-send the state, e.g. beaconctl import)",
				cu->n_wait, c->seq);
			return;
		}
		cu->wait = nw;
		cu->cap_wait = cap;
	}
	cu->wait[cu->n_wait++] = *c;
	if (cu->n_wait == 1)
		log_notice("consent: database locked; updates wait in order until it is free");
}

enum consent_result consent_update_handle(struct consent_update *cu, const void *msg, size_t len)
{
	struct consent_change c;
	enum consent_result r = verify(cu, msg, len, &c);

	if (r != CONSENT_APPLIED)
		return r;
	/* Keep the order: behind updates that already wait for the database. */
	if (!cu->n_wait) {
		cu->busy = false;
		r = apply(cu, &c);
		if (r != CONSENT_FAILED || !cu->busy)
			return r;
	}
	keep(cu, &c);
	return CONSENT_FAILED;
}

int consent_update_retry(struct consent_update *cu)
{
	size_t done = 0;

	while (done < cu->n_wait) {
		enum consent_result r;

		cu->busy = false;
		r = apply(cu, &cu->wait[done]);
		if (r == CONSENT_FAILED && cu->busy)
			break;  /* still locked: try again later */
		done++;
	}
	if (done) {
		memmove(cu->wait, cu->wait + done, (cu->n_wait - done) * sizeof(*cu->wait));
		cu->n_wait -= done;
		if (!cu->n_wait)
			log_notice("consent: the updates that waited for the database are applied");
	}
	return (int)cu->n_wait;
}
