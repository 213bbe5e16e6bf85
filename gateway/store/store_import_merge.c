/*
 * store_import_merge.c - what `beaconctl import --update` and `--sync` add to
 * the streaming import (store_import.c): a row whose customer already exists
 * is applied through the store's own changes (store_change.c), so that every
 * change has its usual audit row and every consent that ends goes the way of
 * `beaconctl consent withdraw` or `identifier remove`: the customer's queued
 * outbox rows are deleted in the same transaction. With --sync, the consents
 * of customers the file no longer lists are withdrawn after the last row.
 *
 * A temporary table remembers, for this import only, which customers the
 * file listed (a ref listed twice is an error, the unlisted ones are what
 * --sync withdraws) and which the import added or changed (the counts).
 * Existing customers are rare in an import of new ones and common in a
 * resync: the per-row cost here is a few indexed look-ups, with writes only
 * for what differs.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "bgw_util.h"

struct import_merge {
	sqlite3 *db;
	const char *actor, *policy;
	enum store_import_mode mode;
	int64_t now;
	struct store_import_stats *st;
	sqlite3_stmt *seen_get, *seen_put, *changed_put, *owner, *ids_of, *consent_of, *segs_of,
		*absent, *counts;
};

static const char sql_table[] =
	"DROP TABLE IF EXISTS temp.import_seen;"
	"CREATE TEMP TABLE import_seen ("
	"  customer_id INTEGER PRIMARY KEY,"
	"  seen INTEGER NOT NULL DEFAULT 0,"     /* the file has a row for them */
	"  added INTEGER NOT NULL DEFAULT 0,"    /* that row created them */
	"  changed INTEGER NOT NULL DEFAULT 0);"; /* the import changed them */

static int prepare_all(struct import_merge *m, char *err)
{
	const struct {
		sqlite3_stmt **st;
		const char *sql;
	} all[] = {
		{ &m->seen_get, "SELECT seen FROM temp.import_seen WHERE customer_id = ?" },
		{ &m->seen_put, "INSERT INTO temp.import_seen (customer_id, seen, added) "
				"VALUES (?1, 1, ?2) "
				"ON CONFLICT (customer_id) DO UPDATE SET seen = 1" },
		{ &m->changed_put, "INSERT INTO temp.import_seen (customer_id, changed) "
				   "VALUES (?, 1) "
				   "ON CONFLICT (customer_id) DO UPDATE SET changed = 1" },
		{ &m->owner, "SELECT customer_id, exponent, clock_offset FROM identifiers "
			     "WHERE type = ? AND value = ?" },
		{ &m->ids_of, "SELECT type, value FROM identifiers WHERE customer_id = ?" },
		{ &m->consent_of, "SELECT channels, expires_at, withdrawn_at, policy_version "
				  "FROM consents WHERE customer_id = ? AND purpose = ? "
				  "ORDER BY id DESC LIMIT 1" },
		{ &m->segs_of, "SELECT s.name FROM customer_segments cs JOIN segments s "
			       "ON s.id = cs.segment_id WHERE cs.customer_id = ?" },
		/* One at a time, from where the last one was: the withdrawals in
		 * between write to the tables this reads. */
		{ &m->absent, "SELECT c.id, c.customer_ref FROM customers c WHERE c.id > ?1 "
			      "AND NOT EXISTS (SELECT 1 FROM temp.import_seen s "
			      "  WHERE s.customer_id = c.id AND s.seen) "
			      "AND EXISTS (SELECT 1 FROM consents k WHERE k.customer_id = c.id "
			      "  AND k.withdrawn_at IS NULL "
			      "  AND (k.expires_at IS NULL OR k.expires_at > ?2)) "
			      "ORDER BY c.id LIMIT 1" },
		{ &m->counts, "SELECT sum(added), sum(changed AND NOT added), "
			      "sum(seen AND NOT added AND NOT changed) FROM temp.import_seen" },
	};

	for (size_t i = 0; i < BGW_ARRAY_SIZE(all); i++) {
		int rc = sqlite3_prepare_v3(m->db, all[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
					    all[i].st, NULL);

		if (rc != SQLITE_OK)
			return store_sqlite_err(m->db, rc, "import", err);
	}
	return STORE_OK;
}

int store_import_merge_open(sqlite3 *db, const char *actor, const char *policy,
			    enum store_import_mode mode, int64_t now,
			    struct store_import_stats *st, struct import_merge **out, char *err)
{
	struct import_merge *m = calloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	if (!m)
		return store_errf(err, STORE_ENOMEM, "out of memory");
	*m = (struct import_merge){ .db = db, .actor = actor, .policy = policy, .mode = mode,
				    .now = now, .st = st };
	rc = store_exec(db, sql_table, "import", err);
	if (!rc)
		rc = prepare_all(m, err);
	if (rc) {
		store_import_merge_close(m);
		return rc;
	}
	*out = m;
	return STORE_OK;
}

void store_import_merge_close(struct import_merge *m)
{
	if (!m)
		return;
	sqlite3_finalize(m->seen_get);
	sqlite3_finalize(m->seen_put);
	sqlite3_finalize(m->changed_put);
	sqlite3_finalize(m->owner);
	sqlite3_finalize(m->ids_of);
	sqlite3_finalize(m->consent_of);
	sqlite3_finalize(m->segs_of);
	sqlite3_finalize(m->absent);
	sqlite3_finalize(m->counts);
	/* Inside the import's transaction: a rollback takes it away as well. */
	sqlite3_exec(m->db, "DROP TABLE IF EXISTS temp.import_seen", NULL, NULL, NULL);
	free(m);
}

static int step_done(struct import_merge *m, sqlite3_stmt *st, char *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlite_err(m->db, rc, "import", err);
}

static int mark_seen(struct import_merge *m, int64_t cid, bool added, char *err)
{
	sqlite3_bind_int64(m->seen_put, 1, cid);
	sqlite3_bind_int(m->seen_put, 2, added);
	return step_done(m, m->seen_put, err);
}

static int mark_changed(struct import_merge *m, int64_t cid, char *err)
{
	sqlite3_bind_int64(m->changed_put, 1, cid);
	return step_done(m, m->changed_put, err);
}

static bool seen(struct import_merge *m, int64_t cid)
{
	bool yes = false;

	sqlite3_bind_int64(m->seen_get, 1, cid);
	if (sqlite3_step(m->seen_get) == SQLITE_ROW)
		yes = sqlite3_column_int(m->seen_get, 0) != 0;
	sqlite3_reset(m->seen_get);
	return yes;
}

int store_import_merge_lookup(struct import_merge *m, const char *ref, int64_t *cid, char *err)
{
	int rc = store_ref_check(ref, err);

	*cid = 0;
	if (rc)
		return rc;
	rc = store_customer_id(m->db, ref, cid, err);
	if (rc == STORE_ENOENT) {
		*cid = 0;
		return STORE_OK;
	}
	if (rc)
		return rc;
	if (seen(m, *cid))
		return store_errf(err, STORE_EEXIST, "customer '%s' is listed twice", ref);
	return mark_seen(m, *cid, false, err);
}

int store_import_merge_added(struct import_merge *m, int64_t cid, char *err)
{
	return mark_seen(m, cid, true, err);
}

/* Splits cell in place at sep; *items is malloc()ed (NULL for an empty cell).
 * The same rules as the rows of new customers: no empty item. */
static int split_items(char *cell, char sep, char ***items, size_t *n, char *err)
{
	size_t cap = 1;
	char **v, *p;

	*items = NULL;
	*n = 0;
	if (!*cell)
		return STORE_OK;
	for (p = cell; *p; p++)
		cap += *p == sep;
	v = malloc(cap * sizeof(*v));
	if (!v)
		return store_errf(err, STORE_ENOMEM, "out of memory");
	for (p = cell; p;) {
		char *e = strchr(p, sep);

		if (e)
			*e = '\0';
		if (!*p) {
			free(v);
			if (!e && p != cell)
				return store_errf(err, STORE_EINVAL, "list ends with '%c'", sep);
			return store_errf(err, STORE_EINVAL, "empty item in a '%c'-separated list",
					  sep);
		}
		v[(*n)++] = p;
		p = e ? e + 1 : NULL;
	}
	*items = v;
	return STORE_OK;
}

static bool same_identifier(const struct store_identifier *a, const struct store_identifier *b)
{
	return a->type == b->type && strcmp(a->value, b->value) == 0;
}

/* The identifier goes from its holder (a customer the file has not listed
 * yet: a later row naming it again is an error) to the row being imported. */
static int release(struct import_merge *m, int64_t holder, const struct store_identifier *id,
		   char *err)
{
	const char *type = store_id_type_name(id->type);
	int rc;

	if (m->mode != STORE_IMPORT_SYNC)
		return store_errf(err, STORE_EEXIST, "%s identifier is already enrolled to another "
				  "customer (import --sync moves it)", type);
	if (seen(m, holder))
		return store_errf(err, STORE_EEXIST, "%s identifier is listed for two customers",
				  type);
	rc = store_identifier_remove_tx(m->db, m->actor, id, err);
	if (rc)
		return rc;
	m->st->identifiers_removed++;
	return mark_changed(m, holder, err);
}

/* The holder of id and its EID parameters; *holder 0 if nobody has it. */
static int holder_of(struct import_merge *m, const struct store_identifier *id, int64_t *holder,
		     bool *same_params, char *err)
{
	sqlite3_stmt *st = m->owner;
	int rc;

	*holder = 0;
	*same_params = true;
	store_bind_identifier(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*holder = sqlite3_column_int64(st, 0);
		if (id->type == STORE_ID_EDDYSTONE_EID)
			*same_params = sqlite3_column_int(st, 1) == id->exponent &&
				       sqlite3_column_int64(st, 2) == id->clock_offset;
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlite_err(m->db, rc, "import", err);
}

int store_import_merge_release(struct import_merge *m, int64_t cid,
			       const struct store_identifier *id, char *err)
{
	int64_t holder;
	bool same;
	int rc = holder_of(m, id, &holder, &same, err);

	if (rc)
		return rc;
	if (holder == cid)
		return store_errf(err, STORE_EEXIST, "%s identifier is listed twice",
				  store_id_type_name(id->type));
	if (!holder)
		return store_errf(err, STORE_EIO, "import: identifier conflict without a holder");
	return release(m, holder, id, err);
}

static int put_identifier(struct import_merge *m, const char *ref, int64_t cid,
			  const struct store_identifier *id, bool *changed, char *err)
{
	int64_t holder;
	bool same;
	int rc = holder_of(m, id, &holder, &same, err);

	if (rc)
		return rc;
	if (holder == cid && same)
		return STORE_OK;
	if (holder == cid) {
		/* Same key, new rotation parameters: enrolled again as the file says. */
		rc = store_identifier_remove_tx(m->db, m->actor, id, err);
		m->st->identifiers_removed++;
	} else if (holder) {
		rc = release(m, holder, id, err);
	}
	if (!rc)
		rc = store_identifier_add_tx(m->db, m->actor, ref, id, err);
	if (!rc) {
		m->st->identifiers++;
		*changed = true;
	}
	return rc;
}

/* --sync: the customer's identifiers the row does not list are removed. */
static int drop_unlisted_identifiers(struct import_merge *m, int64_t cid,
				     const struct store_identifier *want, size_t n_want,
				     bool *changed, char *err)
{
	struct store_identifier *gone = NULL, one;
	size_t n = 0, cap = 0;
	int rc;

	sqlite3_bind_int64(m->ids_of, 1, cid);
	while ((rc = sqlite3_step(m->ids_of)) == SQLITE_ROW) {
		bool listed = false;

		if (store_column_identifier(m->ids_of, 0, &one) != STORE_OK)
			continue; /* not a value this program stores: left alone */
		for (size_t i = 0; i < n_want && !listed; i++)
			listed = same_identifier(&one, &want[i]);
		if (listed)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct store_identifier *g = realloc(gone, ncap * sizeof(*g));

			if (!g) {
				rc = SQLITE_NOMEM;
				break;
			}
			gone = g;
			cap = ncap;
		}
		gone[n++] = one;
	}
	sqlite3_reset(m->ids_of);
	if (rc != SQLITE_DONE) {
		free(gone);
		return store_sqlite_err(m->db, rc, "import", err);
	}
	rc = STORE_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = store_identifier_remove_tx(m->db, m->actor, &gone[i], err);
		m->st->identifiers_removed++;
		*changed = true;
	}
	free(gone);
	return rc;
}

static int merge_identifiers(struct import_merge *m, const char *ref, int64_t cid, char *cell,
			     bool *changed, char *err)
{
	struct store_identifier *want = NULL;
	char **items;
	size_t n;
	int rc = split_items(cell, '|', &items, &n, err);

	if (rc)
		return rc;
	if (n && !(want = calloc(n, sizeof(*want))))
		rc = store_errf(err, STORE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		rc = store_identifier_parse_pair(items[i], &want[i], err);
		for (size_t j = 0; j < i && !rc; j++)
			if (same_identifier(&want[i], &want[j]))
				rc = store_errf(err, STORE_EEXIST, "%s identifier is listed twice",
						store_id_type_name(want[i].type));
	}
	/* Removals first: an identifier that moves between two listed customers
	 * must be free before the second one's row takes it. */
	if (!rc && m->mode == STORE_IMPORT_SYNC)
		rc = drop_unlisted_identifiers(m, cid, want, n, changed, err);
	for (size_t i = 0; i < n && !rc; i++)
		rc = put_identifier(m, ref, cid, &want[i], changed, err);
	free(want);
	free(items);
	return rc;
}

/* "a,b" and "b,a" are the same grant. */
static bool same_channels(const char *a, const char *b)
{
	size_t na = 0, nb = 0;

	for (const char *p = a; *p; p++)
		na += *p == ',';
	for (const char *p = b; *p; p++)
		nb += *p == ',';
	if ((*a == '\0') != (*b == '\0') || na != nb)
		return false;
	while (*a) {
		size_t len = strcspn(a, ",");
		const char *p = b;
		bool found = false;

		while (*p && !found) {
			size_t l = strcspn(p, ",");

			found = l == len && strncmp(p, a, len) == 0;
			p += l + (p[l] == ',');
		}
		if (!found)
			return false;
		a += len + (a[len] == ',');
	}
	return true;
}

struct consent_now {
	bool in_force;
	char channels[512];
	int64_t expires_at;
	char policy[STORE_POLICY_LEN_MAX + 1];
};

static int consent_of(struct import_merge *m, int64_t cid, enum store_purpose p,
		      struct consent_now *c, char *err)
{
	sqlite3_stmt *st = m->consent_of;
	int rc;

	memset(c, 0, sizeof(*c));
	sqlite3_bind_int64(st, 1, cid);
	sqlite3_bind_int(st, 2, (int)p);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *ch = (const char *)sqlite3_column_text(st, 0);
		const char *pol = (const char *)sqlite3_column_text(st, 3);

		c->expires_at = sqlite3_column_int64(st, 1);
		c->in_force = sqlite3_column_type(st, 2) == SQLITE_NULL &&
			      (sqlite3_column_type(st, 1) == SQLITE_NULL || c->expires_at > m->now);
		snprintf(c->channels, sizeof(c->channels), "%s", ch ? ch : "");
		snprintf(c->policy, sizeof(c->policy), "%s", pol ? pol : "");
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlite_err(m->db, rc, "import", err);
}

static int withdraw(struct import_merge *m, const char *ref, enum store_purpose p, char *err)
{
	int rc = store_consent_withdraw_tx(m->db, m->actor, ref, p, err);

	if (!rc)
		m->st->withdrawn++;
	return rc;
}

static int merge_consents(struct import_merge *m, const char *ref, int64_t cid, char *cell,
			  bool *changed, char *err)
{
	struct {
		bool listed;
		struct store_grant g;
		char channels[512];
	} want[2] = { 0 };
	char **items;
	size_t n;
	int rc = split_items(cell, ';', &items, &n, err);

	for (size_t i = 0; i < n && !rc; i++) {
		struct store_grant g;
		char channels[512];

		rc = store_csv_consent_parse(items[i], &g, channels, sizeof(channels), err);
		if (rc)
			break;
		if (want[g.purpose].listed)
			rc = store_errf(err, STORE_EINVAL, "consent '%s' listed twice",
					store_purpose_name(g.purpose));
		else if (g.expires_at && g.expires_at <= m->now)
			rc = store_errf(err, STORE_EINVAL, "consent expiry is in the past");
		if (rc)
			break;
		want[g.purpose].listed = true;
		want[g.purpose].g = g;
		memcpy(want[g.purpose].channels, channels, sizeof(channels));
		want[g.purpose].g.channels = want[g.purpose].channels;
	}
	free(items);
	for (int p = STORE_PRESENCE; p <= STORE_RETARGETING && !rc; p++) {
		struct store_grant *g = &want[p].g;
		struct consent_now cur;

		if ((rc = consent_of(m, cid, (enum store_purpose)p, &cur, err)))
			break;
		if (!want[p].listed) {
			if (m->mode == STORE_IMPORT_SYNC && cur.in_force) {
				rc = withdraw(m, ref, (enum store_purpose)p, err);
				*changed = true;
			}
			continue;
		}
		/* The same grant again changes nothing (the policy version only
		 * counts when --policy names one). */
		if (cur.in_force && same_channels(cur.channels, g->channels) &&
		    cur.expires_at == g->expires_at &&
		    (!m->policy[0] || strcmp(cur.policy, m->policy) == 0))
			continue;
		g->source = "import";
		g->policy = m->policy;
		rc = store_consent_grant_tx(m->db, m->actor, ref, g, err);
		m->st->consents++;
		*changed = true;
	}
	return rc;
}

static int merge_segments(struct import_merge *m, const char *ref, int64_t cid, char *cell,
			  bool *changed, char *err)
{
	char **items, (*have)[STORE_REF_MAX + 1] = NULL;
	size_t n, n_have = 0, cap = 0;
	int rc = split_items(cell, '|', &items, &n, err);

	for (size_t i = 0; i < n && !rc; i++) {
		rc = store_name_check("segment", items[i], err);
		for (size_t j = 0; j < i && !rc; j++)
			if (strcmp(items[i], items[j]) == 0)
				rc = store_errf(err, STORE_EEXIST, "segment '%s' listed twice",
						items[i]);
	}
	if (rc) {
		free(items);
		return rc;
	}
	sqlite3_bind_int64(m->segs_of, 1, cid);
	while ((rc = sqlite3_step(m->segs_of)) == SQLITE_ROW) {
		if (n_have == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char (*h)[STORE_REF_MAX + 1] = realloc(have, ncap * sizeof(*h));

			if (!h) {
				rc = SQLITE_NOMEM;
				break;
			}
			have = h;
			cap = ncap;
		}
		snprintf(have[n_have++], sizeof(have[0]), "%s",
			 (const char *)sqlite3_column_text(m->segs_of, 0));
	}
	sqlite3_reset(m->segs_of);
	rc = rc == SQLITE_DONE ? STORE_OK : store_sqlite_err(m->db, rc, "import", err);
	for (size_t i = 0; i < n && !rc; i++) {
		bool member = false;

		for (size_t j = 0; j < n_have && !member; j++)
			member = strcmp(items[i], have[j]) == 0;
		if (member)
			continue;
		rc = store_segment_add_tx(m->db, m->actor, ref, items[i], err);
		m->st->segments++;
		*changed = true;
	}
	for (size_t j = 0; j < n_have && !rc && m->mode == STORE_IMPORT_SYNC; j++) {
		bool listed = false;

		for (size_t i = 0; i < n && !listed; i++)
			listed = strcmp(items[i], have[j]) == 0;
		if (listed)
			continue;
		rc = store_segment_remove_tx(m->db, m->actor, ref, have[j], err);
		m->st->segments_removed++;
		*changed = true;
	}
	free(have);
	free(items);
	return rc;
}

int store_import_merge_row(struct import_merge *m, const char *ref, int64_t cid,
			   struct store_csv_row *row, char *err)
{
	bool changed = false;
	int rc = merge_identifiers(m, ref, cid, row->field[1], &changed, err);

	if (!rc)
		rc = merge_consents(m, ref, cid, row->field[2], &changed, err);
	if (!rc)
		rc = merge_segments(m, ref, cid, row->field[3], &changed, err);
	if (!rc && changed)
		rc = mark_changed(m, cid, err);
	return rc;
}

/* --sync: everyone in the store the file did not list keeps their record
 * (and its history) but loses every consent still in force. */
static int withdraw_unlisted(struct import_merge *m, char *err)
{
	int64_t last = 0;
	int rc;

	for (;;) {
		char ref[STORE_REF_MAX + 1];
		bool changed = false;
		int64_t cid;

		sqlite3_bind_int64(m->absent, 1, last);
		sqlite3_bind_int64(m->absent, 2, m->now);
		rc = sqlite3_step(m->absent);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(m->absent);
			break;
		}
		cid = last = sqlite3_column_int64(m->absent, 0);
		snprintf(ref, sizeof(ref), "%s", (const char *)sqlite3_column_text(m->absent, 1));
		sqlite3_reset(m->absent);
		for (int p = STORE_PRESENCE; p <= STORE_RETARGETING; p++) {
			struct consent_now cur;

			if ((rc = consent_of(m, cid, (enum store_purpose)p, &cur, err)))
				return rc;
			if (!cur.in_force)
				continue;
			if ((rc = withdraw(m, ref, (enum store_purpose)p, err)))
				return rc;
			changed = true;
		}
		if (changed && (rc = mark_changed(m, cid, err)))
			return rc;
	}
	return rc == SQLITE_DONE ? STORE_OK : store_sqlite_err(m->db, rc, "import", err);
}

int store_import_merge_finish(struct import_merge *m, char *err)
{
	int rc = STORE_OK;

	if (m->mode == STORE_IMPORT_SYNC)
		rc = withdraw_unlisted(m, err);
	if (rc)
		return rc;
	rc = sqlite3_step(m->counts);
	if (rc == SQLITE_ROW) {
		m->st->added = (uint64_t)sqlite3_column_int64(m->counts, 0);
		m->st->changed = (uint64_t)sqlite3_column_int64(m->counts, 1);
		m->st->unchanged = (uint64_t)sqlite3_column_int64(m->counts, 2);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(m->counts);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlite_err(m->db, rc, "import", err);
}
