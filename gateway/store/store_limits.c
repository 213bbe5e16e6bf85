/*
 * store_limits.c - what the daemon's snapshot can hold, enforced when data
 * is written. The snapshot keeps channels as a 32-bit mask over the store's
 * distinct channel names (consents, current and past, and enabled
 * campaigns) and policy versions as a 16-bit index; a store past either
 * limit cannot be loaded, and a daemon that cannot load its consent state
 * acts on nobody. So the store refuses the change that would go past them,
 * with a message that says which limit.
 *
 * Only a change that brings a name the store does not hold yet pays for a
 * full count; the usual grant (a channel already in use) costs one short
 * look-up per channel.
 */
#include <string.h>

#include "store_internal.h"

/* Every distinct channel name in the rows the snapshot reads. */
#define CHANNEL_LISTS                                                                       \
	"WITH RECURSIVE lists(rest) AS ("                                                   \
	"  SELECT DISTINCT channels || ',' FROM consents WHERE channels <> '' UNION "       \
	"  SELECT channels || ',' FROM campaigns WHERE enabled AND channels <> ''), "       \
	"split(name, rest) AS (SELECT '', rest FROM lists UNION ALL "                       \
	"  SELECT substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1) " \
	"  FROM split WHERE rest <> '') "

static int count_query(sqlite3 *db, const char *sql, const char *bind, int64_t *n, char *err)
{
	sqlite3_stmt *st = store_stmt(db, sql, err);
	int rc;

	if (!st)
		return STORE_EIO;
	if (bind)
		sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : store_sqlite_err(db, rc, "limits", err);
}

static int channel_known(sqlite3 *db, const char *name, bool *known, char *err)
{
	int64_t n;
	int rc = count_query(db, SQL("SELECT EXISTS (SELECT 1 FROM consents WHERE "
				     "instr(',' || channels || ',', ',' || ?1 || ',') > 0) OR "
				     "EXISTS (SELECT 1 FROM campaigns WHERE enabled AND "
				     "instr(',' || channels || ',', ',' || ?1 || ',') > 0)"),
			     name, &n, err);

	*known = n != 0;
	return rc;
}

/* Distinct channel names in the store plus the new ones of csv (normalised:
 * no duplicates, no empty items). */
static int check_channels(sqlite3 *db, const char *csv, char *err)
{
	char name[STORE_REF_MAX + 1];
	int64_t have, added = 0;
	int rc;

	for (const char *p = csv; csv && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		bool known;

		if (len && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			if ((rc = channel_known(db, name, &known, err)))
				return rc;
			added += !known;
		}
		p = e ? e + 1 : p + len;
	}
	if (csv && !added)
		return STORE_OK;
	rc = count_query(db, SQL(CHANNEL_LISTS "SELECT count(DISTINCT name) FROM split "
				 "WHERE name <> ''"), NULL, &have, err);
	if (rc)
		return rc;
	if (have + added > STORE_CHANNELS_MAX)
		return store_errf(err, STORE_EINVAL,
				  "too many channel names: the gateway handles at most %d distinct "
				  "channels (consents and campaigns together), this would make %lld",
				  STORE_CHANNELS_MAX, (long long)(have + added));
	return STORE_OK;
}

static int check_policies(sqlite3 *db, const char *policy, char *err)
{
	int64_t n;
	int rc;

	if (policy && !*policy)
		return STORE_OK;
	if (policy) {
		rc = count_query(db, SQL("SELECT EXISTS (SELECT 1 FROM consents "
					 "WHERE policy_version = ?)"), policy, &n, err);
		if (rc || n)
			return rc;
	}
	rc = count_query(db, SQL("SELECT count(DISTINCT policy_version) FROM consents "
				 "WHERE policy_version <> ''"), NULL, &n, err);
	if (rc)
		return rc;
	if (n + (policy != NULL) > STORE_POLICIES_MAX)
		return store_errf(err, STORE_EINVAL,
				  "too many consent policy versions: the gateway handles at most %d",
				  STORE_POLICIES_MAX);
	return STORE_OK;
}

int store_limits_check_tx(sqlite3 *db, const char *channels_csv, const char *policy, char *err)
{
	bool all = !channels_csv && !policy;
	int rc = STORE_OK;

	if (all || channels_csv)
		rc = check_channels(db, channels_csv, err);
	if (rc == STORE_OK && (all || policy))
		rc = check_policies(db, policy, err);
	return rc;
}
