/*
 * store_import.c - streaming CSV import inside the caller's transaction.
 * Reads one line at a time (memory stays constant), inserts through cached
 * prepared statements and writes one compact audit entry per imported
 * customer (what arrived, identifiers as salted fingerprints; see
 * store_audit_import.c) under one audit_bulk row for the whole file. Any bad row stops the import
 * with its line number; the caller then rolls back, so nothing is kept.
 *
 * In the default mode every row is a new customer. With --update and --sync
 * (enum store_import_mode) a row whose customer exists is handed to
 * store_import_merge.c; new customers still take the fast path here.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store_internal.h"
#include "bgw_util.h"

#define LINE_MAX_BYTES 65536

struct import_row {
	sqlite3 *db;
	const char *actor, *policy;
	int64_t now;
	int64_t cid;
	struct store_audit_import ai;     /* this import's audit entries */
	struct store_audit_detail audit;  /* what the current row brought */
	struct store_import_stats *st;
	struct import_merge *merge;  /* NULL in the default mode */
	uint8_t salt[16];
	/* Statements held for the whole import: the per-row cost is what matters. */
	sqlite3_stmt *customer, *identifier, *consent, *segment_new, *segment_id, *member;
	/* Segment name -> id for the few distinct segments a file names. */
	struct {
		char name[STORE_REF_MAX + 1];
		int64_t id;
	} seg[64];
	unsigned n_seg;
};

static const char sql_customer[] =
	"INSERT INTO customers (customer_ref, created_at, audit_salt) VALUES (?, ?, ?)";
static const char sql_identifier[] =
	"INSERT INTO identifiers (customer_id, type, value, exponent, clock_offset, created_at) "
	"VALUES (?,?,?,?,?,?)";
static const char sql_consent[] =
	"INSERT INTO consents (customer_id, purpose, channels, granted_at, expires_at, source, "
	"policy_version, id) VALUES (?,?,?,?,?,?,?,?)";
static const char sql_segment_new[] =
	"INSERT INTO segments (name) VALUES (?) ON CONFLICT (name) DO NOTHING";
static const char sql_segment_id[] = "SELECT id FROM segments WHERE name = ?";
static const char sql_member[] = "INSERT INTO customer_segments (customer_id, segment_id) "
				 "VALUES (?, ?)";

static int prepare_all(struct import_row *r, char *err)
{
	const struct {
		sqlite3_stmt **st;
		const char *sql;
	} all[] = {
		{ &r->customer, sql_customer }, { &r->identifier, sql_identifier },
		{ &r->consent, sql_consent },	{ &r->segment_new, sql_segment_new },
		{ &r->segment_id, sql_segment_id }, { &r->member, sql_member },
	};

	for (size_t i = 0; i < BGW_ARRAY_SIZE(all); i++) {
		int rc = sqlite3_prepare_v3(r->db, all[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
					    all[i].st, NULL);

		if (rc != SQLITE_OK)
			return store_sqlite_err(r->db, rc, "import", err);
	}
	return STORE_OK;
}

static void finalize_all(struct import_row *r)
{
	sqlite3_finalize(r->customer);
	sqlite3_finalize(r->identifier);
	sqlite3_finalize(r->consent);
	sqlite3_finalize(r->segment_new);
	sqlite3_finalize(r->segment_id);
	sqlite3_finalize(r->member);
}

static int insert_customer(struct import_row *r, const char *ref, char *err)
{
	sqlite3_stmt *st = r->customer;
	int rc = store_ref_check(ref, err);

	if (rc)
		return rc;
	sqlite3_randomness(sizeof(r->salt), r->salt);
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->now);
	sqlite3_bind_blob(st, 3, r->salt, sizeof(r->salt), SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return store_errf(err, STORE_EEXIST, "customer '%s' already exists (import "
				  "--update or --sync applies a file to existing customers)", ref);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(r->db, rc, "import", err);
	r->cid = sqlite3_last_insert_rowid(r->db);
	return STORE_OK;
}

static int insert_identifier(struct import_row *r, const char *text, char *err)
{
	struct store_identifier id;
	sqlite3_stmt *st;
	char fp[9];
	int rc = store_identifier_parse_pair(text, &id, err);

	if (rc)
		return rc;
	st = r->identifier;
	sqlite3_bind_int64(st, 1, r->cid);
	store_bind_identifier(st, 2, &id);
	if (id.type == STORE_ID_EDDYSTONE_EID) {
		sqlite3_bind_int(st, 4, id.exponent);
		sqlite3_bind_int64(st, 5, id.clock_offset);
	} else {
		/* The statement is reused row after row: an iBeacon after an
		 * Eddystone-EID must not inherit its K and offset. */
		sqlite3_bind_null(st, 4);
		sqlite3_bind_null(st, 5);
	}
	sqlite3_bind_int64(st, 6, r->now);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT && r->merge) {
		/* --sync moves it from its holder; --update says whose it is not. */
		if ((rc = store_audit_import_sync(r->db, &r->ai, err)) ||
		    (rc = store_import_merge_release(r->merge, r->cid, &id, err)))
			return rc;
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	if (rc == SQLITE_CONSTRAINT)
		return store_errf(err, STORE_EEXIST, "%s identifier is already enrolled",
				  store_id_type_name(id.type));
	if (rc != SQLITE_DONE)
		return store_sqlite_err(r->db, rc, "import", err);
	store_salted_fingerprint(r->salt, &id, fp);
	if (store_audit_detail_identifier(&r->audit, id.type, fp))
		return store_errf(err, STORE_ENOMEM, "out of memory");
	r->st->identifiers++;
	return STORE_OK;
}

static int insert_consent(struct import_row *r, char *item, char *err)
{
	struct store_grant g;
	char channels[512];
	sqlite3_stmt *st;
	int64_t id;
	int rc = store_csv_consent_parse(item, &g, channels, sizeof(channels), err);

	if (rc)
		return rc;
	if (g.expires_at && g.expires_at <= r->now)
		return store_errf(err, STORE_EINVAL, "consent expiry is in the past");
	if ((rc = store_consent_next_id(r->db, &id, err)))
		return rc;
	st = r->consent;
	sqlite3_bind_int64(st, 1, r->cid);
	sqlite3_bind_int(st, 2, (int)g.purpose);
	sqlite3_bind_int64(st, 8, id);
	sqlite3_bind_text(st, 3, channels, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->now);
	/* The statement is reused row after row: a grant without an expiry
	 * must not inherit the previous grant's. */
	if (g.expires_at)
		sqlite3_bind_int64(st, 5, g.expires_at);
	else
		sqlite3_bind_null(st, 5);
	store_bind_source(st, 6, "import");
	sqlite3_bind_text(st, 7, r->policy, -1, SQLITE_STATIC);
	if ((rc = store_exec_stmt(r->db, st, "import", err)))
		return rc;
	if (store_audit_detail_consent(&r->audit, g.purpose, channels, g.expires_at))
		return store_errf(err, STORE_ENOMEM, "out of memory");
	r->st->consents++;
	return STORE_OK;
}

static int segment_id(struct import_row *r, const char *name, int64_t *id, char *err)
{
	int rc;

	for (unsigned i = 0; i < r->n_seg; i++)
		if (strcmp(r->seg[i].name, name) == 0) {
			*id = r->seg[i].id;
			return STORE_OK;
		}
	sqlite3_bind_text(r->segment_new, 1, name, -1, SQLITE_STATIC);
	if ((rc = store_exec_stmt(r->db, r->segment_new, "import", err)))
		return rc;
	sqlite3_bind_text(r->segment_id, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(r->segment_id);
	*id = sqlite3_column_int64(r->segment_id, 0);
	sqlite3_reset(r->segment_id);
	if (rc != SQLITE_ROW)
		return store_sqlite_err(r->db, rc, "import", err);
	if (r->n_seg < BGW_ARRAY_SIZE(r->seg)) {
		snprintf(r->seg[r->n_seg].name, sizeof(r->seg[0].name), "%s", name);
		r->seg[r->n_seg++].id = *id;
	}
	return STORE_OK;
}

static int insert_segment(struct import_row *r, const char *name, char *err)
{
	int64_t sid;
	int rc = store_name_check("segment", name, err);

	if (rc || (rc = segment_id(r, name, &sid, err)))
		return rc;
	sqlite3_bind_int64(r->member, 1, r->cid);
	sqlite3_bind_int64(r->member, 2, sid);
	rc = sqlite3_step(r->member);
	sqlite3_reset(r->member);
	if (rc == SQLITE_CONSTRAINT)
		return store_errf(err, STORE_EEXIST, "segment '%s' listed twice", name);
	if (rc != SQLITE_DONE)
		return store_sqlite_err(r->db, rc, "import", err);
	if (store_audit_detail_segment(&r->audit, name))
		return store_errf(err, STORE_ENOMEM, "out of memory");
	r->st->segments++;
	return STORE_OK;
}

/* Calls fn for each non-empty sep-separated item of cell (modified in place). */
static int each_item(struct import_row *r, char *cell, char sep,
		     int (*fn)(struct import_row *, char *, char *), char *err)
{
	char *p = cell;

	while (p && *p) {
		char *e = strchr(p, sep);
		int rc;

		if (e)
			*e = '\0';
		if (*p == '\0')
			return store_errf(err, STORE_EINVAL, "empty item in a '%c'-separated list",
					  sep);
		if ((rc = fn(r, p, err)))
			return rc;
		p = e ? e + 1 : NULL;
		if (e && *p == '\0')
			return store_errf(err, STORE_EINVAL, "list ends with '%c'", sep);
	}
	return STORE_OK;
}

static int identifier_item(struct import_row *r, char *s, char *err)
{
	return insert_identifier(r, s, err);
}

static int segment_item(struct import_row *r, char *s, char *err)
{
	return insert_segment(r, s, err);
}

static int import_row(struct import_row *r, char *line, char *err)
{
	struct store_csv_row row;
	int rc = store_csv_split(line, &row, err);

	if (rc)
		return rc;
	if (r->merge) {
		int64_t cid;

		if ((rc = store_import_merge_lookup(r->merge, row.field[0], &cid, err)))
			return rc;
		if (cid) {
			if ((rc = store_audit_import_sync(r->db, &r->ai, err)))
				return rc;
			return store_import_merge_row(r->merge, row.field[0], cid, &row, err);
		}
	}
	if ((rc = insert_customer(r, row.field[0], err)))
		return rc;
	if (r->merge && (rc = store_import_merge_added(r->merge, r->cid, err)))
		return rc;
	store_audit_detail_reset(&r->audit);
	rc = each_item(r, row.field[1], '|', identifier_item, err);
	if (!rc)
		rc = each_item(r, row.field[2], ';', insert_consent, err);
	if (!rc)
		rc = each_item(r, row.field[3], '|', segment_item, err);
	if (rc)
		return rc;
	return store_audit_import_row(r->db, &r->ai, r->cid, &r->audit, err);
}

static void chomp(char *s, ssize_t *len)
{
	while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
		s[--*len] = '\0';
}

const char *store_import_mode_name(enum store_import_mode mode)
{
	return mode == STORE_IMPORT_SYNC     ? "sync"
	       : mode == STORE_IMPORT_UPDATE ? "update"
					     : "create";
}

int store_import_csv_tx(sqlite3 *db, const char *actor, FILE *in, const char *policy,
			enum store_import_mode mode, store_import_progress_fn progress,
			void *progress_ctx, struct store_import_stats *st, char *err)
{
	char rowerr[STORE_ERRLEN];
	struct import_row r = { .db = db, .actor = actor && *actor ? actor : "unknown",
				.policy = policy ? policy : "", .now = store_now(), .st = st };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t bytes = 0;
	int rc = STORE_OK;

	r.ai.actor = r.actor;
	r.ai.at = r.now;
	memset(st, 0, sizeof(*st));
	if (strlen(r.policy) > 31)
		return store_errf(err, STORE_EINVAL, "policy version longer than 31 characters");
	/* The merge's temporary table first: creating it after prepare_all()
	 * would make SQLite prepare every statement again. */
	if (mode != STORE_IMPORT_CREATE &&
	    (rc = store_import_merge_open(db, r.actor, r.policy, mode, r.now, st, &r.merge, err)))
		return rc;
	if ((rc = prepare_all(&r, err))) {
		finalize_all(&r);
		store_import_merge_close(r.merge);
		return rc;
	}
	while ((len = getline(&line, &cap, in)) >= 0) {
		st->line++;
		bytes += (uint64_t)len;
		if (len > LINE_MAX_BYTES) {
			rc = store_errf(err, STORE_EINVAL, "line %llu: longer than %d bytes",
					(unsigned long long)st->line, LINE_MAX_BYTES);
			break;
		}
		if ((size_t)len != strlen(line)) {
			rc = store_errf(err, STORE_EINVAL, "line %llu: contains a NUL byte",
					(unsigned long long)st->line);
			break;
		}
		chomp(line, &len);
		if (st->line == 1) {
			/* Tolerate a UTF-8 byte order mark from spreadsheet exports. */
			const char *h = strncmp(line, "\xef\xbb\xbf", 3) == 0 ? line + 3 : line;

			if (strcmp(h, "customer_ref,identifiers,consents,segments") != 0) {
				rc = store_errf(err, STORE_EINVAL,
						"line 1: header must be "
						"'customer_ref,identifiers,consents,segments'");
				break;
			}
			continue;
		}
		if (len == 0)
			continue;
		rc = import_row(&r, line, rowerr);
		if (rc) {
			store_errf(err, rc, "line %llu: %s", (unsigned long long)st->line, rowerr);
			break;
		}
		st->rows++;
		if (progress && st->rows % 8192 == 0)
			progress(progress_ctx, st->rows, bytes);
	}
	if (!rc && ferror(in))
		rc = store_errf(err, STORE_EIO, "read error after line %llu",
				(unsigned long long)st->line);
	if (!rc && st->line == 0)
		rc = store_errf(err, STORE_EINVAL, "empty file (no header line)");
	free(line);
	store_audit_detail_free(&r.audit);
	finalize_all(&r);
	/* What follows may append to the log: the withdrawals of --sync, the summary. */
	if (!rc)
		rc = store_audit_import_sync(db, &r.ai, err);
	if (!r.merge)
		st->added = st->rows;
	else if (!rc)
		rc = store_import_merge_finish(r.merge, err);
	store_import_merge_close(r.merge);
	r.merge = NULL;
	if (!rc && progress)
		progress(progress_ctx, st->rows, bytes);
	/* Once for the whole file: what the daemon's snapshot can hold. */
	if (!rc)
		rc = store_limits_check_tx(db, NULL, NULL, err);
	if (!rc) {
		char after[400];

		snprintf(after, sizeof(after),
			 "{\"mode\":\"%s\",\"rows\":%llu,\"identifiers\":%llu,\"consents\":%llu,"
			 "\"segments\":%llu,\"added\":%llu,\"changed\":%llu,\"unchanged\":%llu,"
			 "\"withdrawn\":%llu,\"identifiers_removed\":%llu,"
			 "\"segments_removed\":%llu}",
			 store_import_mode_name(mode), (unsigned long long)st->rows,
			 (unsigned long long)st->identifiers, (unsigned long long)st->consents,
			 (unsigned long long)st->segments, (unsigned long long)st->added,
			 (unsigned long long)st->changed, (unsigned long long)st->unchanged,
			 (unsigned long long)st->withdrawn,
			 (unsigned long long)st->identifiers_removed,
			 (unsigned long long)st->segments_removed);
		rc = store_audit_append(db, actor, "import", "import", 0, NULL, after, err);
	}
	return rc;
}
