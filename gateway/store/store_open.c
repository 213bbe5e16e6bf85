/*
 * store_open.c - opening the database: checks before any write, then pragmas
 * and migrations. A file that is not a database, is damaged, or has a newer
 * schema than this binary is reported without being touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store_internal.h"
#include "store_schema.h"

int store_schema_version(sqlite3 *db)
{
	sqlite3_stmt *st = store_stmt(db, SQL("PRAGMA user_version"), NULL);
	int v = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	if (st)
		sqlite3_reset(st);
	return v;
}

static int read_user_version(sqlite3 *db, int *v, char *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*v = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return store_sqlite_err(db, rc, "open", err);
	return STORE_OK;
}

static int migrate(sqlite3 *db, int from, char *err)
{
	for (int v = from; v < STORE_SCHEMA_VERSION; v++) {
		char set[48];
		int rc = store_begin(db, err);

		if (rc)
			return rc;
		/* Re-check under the write lock: another process may have migrated. */
		int now_v = 0;

		rc = read_user_version(db, &now_v, err);
		if (rc == STORE_OK && now_v > v) {
			store_rollback(db);
			v = now_v - 1;
			continue;
		}
		if (rc == STORE_OK)
			rc = store_exec(db, store_migrations[v], "migrate", err);
		snprintf(set, sizeof(set), "PRAGMA user_version = %d", v + 1);
		if (rc == STORE_OK)
			rc = store_exec(db, set, "migrate", err);
		rc = store_tx_end(db, rc, err);
		if (rc)
			return rc;
	}
	return STORE_OK;
}

static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t n)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	out[0] = '\0';
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(out, n, "%s", t ? (const char *)t : "");
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The one recipe every connection gets, whoever opens it: foreign keys (the
 * cascades that make forgetting a customer complete), secure_delete (deleted
 * rows leave no bytes behind in the file), synchronous=FULL (a commit
 * survives a power cut, WAL or not) and WAL (readers never block the writer). */
static int configure(sqlite3 *db, bool readonly, int cache_kib, char *err)
{
	char mode[16];
	int rc;

	rc = store_exec(db, "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;"
			    "PRAGMA synchronous = FULL", "open", err);
	if (rc)
		return rc;
	if (cache_kib > 0) {
		char sql[48];

		/* Negative: a bound in KiB rather than in pages. */
		snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", cache_kib);
		rc = store_exec(db, sql, "open", err);
		if (rc)
			return rc;
	}
	rc = pragma_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	if (rc != SQLITE_OK)
		return store_sqlite_err(db, rc, "open", err);
	if (!readonly && strcmp(mode, "wal") != 0) {
		rc = pragma_text(db, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
		if (rc != SQLITE_OK)
			return store_sqlite_err(db, rc, "open", err);
		if (strcmp(mode, "wal") != 0)
			return store_errf(err, STORE_EIO, "open: cannot switch the database to WAL "
					  "mode (journal mode stays '%s')", mode);
	}
	return STORE_OK;
}

/*
 * A database on a read-only file system: SQLite cannot create the -shm file a
 * WAL database needs, even to read. Nobody can write there either, so opening
 * it immutable is exact -- unless a -wal file still holds commits that were
 * never checkpointed, which immutable mode would not see.
 */
static int readonly_fs_uri(const char *path, char *uri, size_t n, char *err)
{
	char wal[4096];
	struct stat sb;
	size_t used;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &sb) == 0 && sb.st_size > 0)
		return store_errf(err, STORE_EREADONLY,
				  "database %s is on a read-only file system with un-checkpointed "
				  "changes in %s", path, wal);
	used = (size_t)snprintf(uri, n, "file:");
	for (const char *p = path; *p && used + 4 < n; p++) {
		if (*p == '?' || *p == '#' || *p == '%')
			used += (size_t)snprintf(uri + used, n - used, "%%%02X", (unsigned char)*p);
		else
			uri[used++] = *p;
	}
	if (used + 16 >= n)
		return store_errf(err, STORE_EIO, "database path too long");
	snprintf(uri + used, n - used, "?immutable=1");
	return STORE_OK;
}

/*
 * The database holds customer references, identifiers and keys: created
 * 0600 whatever the umask (SQLite would make it 0644 under umask 022). Its
 * -wal and -shm files take the database file's mode when SQLite creates
 * them, so they are private too. An existing file keeps its mode (an admin
 * may have chosen 0640 for a service group).
 */
static int create_private(const char *path, char *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return STORE_OK;
		return store_errf(err, errno == EROFS || errno == EACCES ? STORE_EREADONLY : STORE_EIO,
				  "cannot create database %s: %s", path, strerror(errno));
	}
	/* open() applied the umask to 0600, which can only have narrowed it. */
	fchmod(fd, 0600);
	close(fd);
	return STORE_OK;
}

int store_open(const char *path, unsigned flags, sqlite3 **out, char err[STORE_ERRLEN])
{
	struct store_open_opts o = { .flags = flags, .busy_ms = STORE_DEFAULT_BUSY_MS };

	return store_open_with(path, &o, out, err);
}

int store_open_with(const char *path, const struct store_open_opts *o, sqlite3 **out,
		    char err[STORE_ERRLEN])
{
	unsigned flags = o->flags;
	char uri[4200];
	const char *open_path = path;
	bool readonly = flags & STORE_OPEN_READONLY;
	int oflags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX |
		     (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	bool is_uri = strncmp(path, "file:", 5) == 0;
	sqlite3 *db = NULL;
	int rc, version = 0;

	*out = NULL;
	if (!is_uri) {
		struct stat sb;

		if (stat(path, &sb) != 0) {
			if (errno != ENOENT || !(flags & STORE_OPEN_CREATE))
				return store_errf(err, STORE_EIO,
						  "cannot open database %s: %s%s", path,
						  strerror(errno),
						  errno == ENOENT ? " (run 'beaconctl init' first)" : "");
		} else if (!S_ISREG(sb.st_mode)) {
			return store_errf(err, STORE_EIO, "cannot open database %s: not a regular file",
					  path);
		} else {
			struct statvfs vfs;

			if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
				int urc;

				if (!readonly)
					return store_errf(err, STORE_EREADONLY,
							  "database %s is on a read-only file system",
							  path);
				urc = readonly_fs_uri(path, uri, sizeof(uri), err);
				if (urc)
					return urc;
				open_path = uri;
			}
		}
	}
	if ((flags & STORE_OPEN_CREATE) && !readonly) {
		oflags |= SQLITE_OPEN_CREATE;
		if (!is_uri && (rc = create_private(path, err)) != STORE_OK)
			return rc;
	}

	rc = sqlite3_open_v2(open_path, &db, oflags, NULL);
	if (rc != SQLITE_OK) {
		store_errf(err, STORE_EIO,
			   "cannot open database %s: %s", path,
			   db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close_v2(db);
		return STORE_EIO;
	}
	sqlite3_extended_result_codes(db, 0);
	sqlite3_busy_timeout(db, o->busy_ms > 0 ? o->busy_ms : 0);

	/* Reading the header first: a damaged file or a database from the future
	 * is reported before anything (even the journal mode) is written. */
	rc = read_user_version(db, &version, err);
	if (rc)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		rc = store_errf(err, STORE_ESCHEMA,
				"database %s has schema version %d, newer than this program knows "
				"(%d): upgrade beacongw", path, version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0 && !(flags & STORE_OPEN_CREATE)) {
		rc = store_errf(err, STORE_ESCHEMA,
				"database %s is not initialised (run 'beaconctl init')", path);
		goto fail;
	}
	if (version == 0) {
		/* A non-empty file with user_version 0 belongs to someone else. */
		int n = -1;
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) ==
			    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (n != 0) {
			rc = store_errf(err, STORE_ESCHEMA,
					"%s is a SQLite database but not a beacongw one", path);
			goto fail;
		}
	}
	rc = configure(db, readonly, o->cache_kib, err);
	if (rc)
		goto fail;
	/* Read-only users (beaconctl queries, beacongw --check) read a schema
	 * back to STORE_SCHEMA_READABLE as it is; the next read-write open
	 * upgrades it. */
	if (version < STORE_SCHEMA_VERSION && !(readonly && version >= STORE_SCHEMA_READABLE)) {
		if (readonly) {
			rc = store_errf(err, STORE_ESCHEMA,
					"database %s has schema version %d and needs an upgrade, but "
					"is opened read-only", path, version);
			goto fail;
		}
		if (store_identifier_sql_register(db) != SQLITE_OK) {
			rc = store_sqlite_err(db, sqlite3_errcode(db), "open", err);
			goto fail;
		}
		rc = migrate(db, version, err);
		if (rc)
			goto fail;
	} else if (version < STORE_SCHEMA_VERSION) {
		rc = store_compat_views(db, version, err);
		if (rc)
			goto fail;
	}
	*out = db;
	return STORE_OK;
fail:
	store_close(db);
	return rc;
}

void store_busy_timeout(sqlite3 *db, int ms)
{
	sqlite3_busy_timeout(db, ms > 0 ? ms : 0);
}

void store_close(sqlite3 *db)
{
	sqlite3_stmt *st;

	if (!db)
		return;
	while ((st = sqlite3_next_stmt(db, NULL)) != NULL)
		sqlite3_finalize(st);
	sqlite3_close_v2(db);
}
