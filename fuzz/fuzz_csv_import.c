/*
 * fuzz_csv_import: any bytes as a CSV file fed to store_import_csv_tx() on a
 * scratch database (one per process, every input rolled back), in each mode
 * (new customers, --update, --sync), plus the identifier parser on each line.
 * The database holds two customers from the start (S1 with both consents and
 * a queued trigger, S2 with presence and a queued visit), so that --update
 * and --sync meet existing ones. Import must reject or accept, never crash;
 * a rejected file must leave no row behind; an accepted one must have made
 * exactly one customer per row it added, counted every row as added, changed
 * or unchanged, and left no queued row of a consent that is not in force.
 *
 * The database is opened once, before the first input, with durability off
 * on this connection: every input is rolled back, so nothing it writes ever
 * needs to reach a disk, and each input starts from the same empty database.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "bgw_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every table an import writes to. */
#define ROWS_SQL                                                                          \
	"SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM identifiers) + " \
	"(SELECT count(*) FROM consents) + (SELECT count(*) FROM segments) + "            \
	"(SELECT count(*) FROM customer_segments) + (SELECT count(*) FROM audit) + "      \
	"(SELECT count(*) FROM audit_import) + (SELECT count(*) FROM audit_bulk) + "      \
	"(SELECT count(*) FROM kv) + (SELECT count(*) FROM outbox) + "                    \
	"(SELECT count(*) FROM consents WHERE withdrawn_at IS NOT NULL)"

/* Queued rows whose purpose (visit: presence, else retargeting; stored as
 * 0 and 1 since schema v9) has no consent in force for their customer: the
 * invariant says none. */
#define ORPHANS_SQL                                                                    \
	"SELECT count(*) FROM outbox o WHERE o.customer_id IS NOT NULL AND NOT EXISTS ("  \
	"SELECT 1 FROM consents k WHERE k.id = (SELECT max(id) FROM consents "            \
	"WHERE customer_id = o.customer_id AND purpose = CASE WHEN o.topic LIKE '%/visit' " \
	"THEN 0 ELSE 1 END) AND k.withdrawn_at IS NULL)"

static const char seed_csv[] =
	"customer_ref,identifiers,consents,segments\n"
	"S1,ibeacon f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2,presence;retargeting@push,vip\n"
	"S2,irk 00112233445566778899aabbccddeeff,presence,\n";
static const char seed_outbox[] =
	"INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) "
	"SELECT 't1', 1, 'p/s/g/trigger', '{}', id FROM customers WHERE customer_ref = 'S1';"
	"INSERT INTO outbox (trigger_id, created_us, topic, payload, customer_id) "
	"SELECT 'v2', 2, 'p/s/g/visit', '{}', id FROM customers WHERE customer_ref = 'S2';";

static sqlite3 *db;
static sqlite3_stmt *q_customers, *q_rows, *q_orphans;
static int64_t rows_at_start, customers_at_start;
static char path[4096];

static void cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char f[sizeof(path) + 16];

	sqlite3_finalize(q_customers);
	sqlite3_finalize(q_rows);
	sqlite3_finalize(q_orphans);
	store_close(db);
	for (size_t i = 0; i < BGW_ARRAY_SIZE(suffix); i++) {
		snprintf(f, sizeof(f), "%s%s", path, suffix[i]);
		unlink(f);
	}
}

/* $TMPDIR when set (run-fuzzer.sh points it into the directory it removes,
 * so a crash or a timeout, which skip atexit, leaves nothing behind), else
 * RAM when there is some. */
static const char *scratch_dir(void)
{
	const char *t = getenv("TMPDIR");

	if (t && *t)
		return t;
	return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

static void must(int sqlite_rc, const char *what)
{
	if (sqlite_rc != SQLITE_OK) {
		fprintf(stderr, "fuzz_csv_import: %s: %s\n", what, sqlite3_errmsg(db));
		abort();
	}
}

static int64_t count(sqlite3_stmt *st)
{
	int64_t n = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* The two customers every input starts from, committed once. */
static void seed(void)
{
	struct store_import_stats st;
	char err[STORE_ERRLEN];
	FILE *in = fmemopen((void *)seed_csv, sizeof(seed_csv) - 1, "r");

	if (!in || store_begin(db, err) != STORE_OK ||
	    store_import_csv_tx(db, "seed", in, "p", STORE_IMPORT_CREATE, NULL, NULL, &st, err) ||
	    sqlite3_exec(db, seed_outbox, NULL, NULL, NULL) != SQLITE_OK ||
	    store_commit(db, err) != STORE_OK) {
		fprintf(stderr, "fuzz_csv_import: seed: %s\n", err);
		abort();
	}
	fclose(in);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[STORE_ERRLEN];
	int fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/fuzz-csv-XXXXXX", scratch_dir());
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	if (store_open(path, STORE_OPEN_CREATE, &db, err) != STORE_OK) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	atexit(cleanup);
	/* store_open asks for synchronous=FULL; a scratch database that is
	 * rolled back after every input needs no fsync at all. */
	must(sqlite3_exec(db, "PRAGMA synchronous = OFF", NULL, NULL, NULL), "synchronous");
	/* Nobody else opens it: holding the lock spares the lock calls and the
	 * re-reads that check for other writers at every transaction. */
	must(sqlite3_exec(db, "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL, NULL), "locking_mode");
	seed();
	/* The checks run after every input: prepared once. */
	must(sqlite3_prepare_v2(db, "SELECT count(*) FROM customers", -1, &q_customers, NULL),
	     "prepare");
	must(sqlite3_prepare_v2(db, ROWS_SQL, -1, &q_rows, NULL), "prepare");
	must(sqlite3_prepare_v2(db, ORPHANS_SQL, -1, &q_orphans, NULL), "prepare");
	rows_at_start = count(q_rows);
	customers_at_start = count(q_customers);
	if (rows_at_start < 0 || customers_at_start != 2 || count(q_orphans) != 0)
		abort();
	return 0;
}

static void import_once(const uint8_t *data, size_t size, enum store_import_mode mode)
{
	struct store_import_stats st;
	char err[STORE_ERRLEN];
	FILE *in = fmemopen((void *)data, size, "r");
	int rc;

	if (!in)
		return;
	if (store_begin(db, err) != STORE_OK)
		abort();
	err[0] = '\0';
	rc = store_import_csv_tx(db, "fuzz", in, "p", mode, NULL, NULL, &st, err);
	fclose(in);
	if (rc != STORE_OK && strlen(err) == 0)
		abort();   /* every rejection names its reason */
	if (rc == STORE_OK) {
		if (count(q_customers) != customers_at_start + (int64_t)st.added)
			abort();   /* one customer per added row, and none deleted */
		if (mode == STORE_IMPORT_CREATE && st.added != st.rows)
			abort();
		if (st.added + st.unchanged > st.rows ||
		    st.rows > st.added + st.unchanged + st.changed)
			abort();   /* every row added, changed or unchanged */
		if (count(q_orphans) != 0)
			abort();   /* nothing queued outlives its consent */
	}
	store_rollback(db);
	if (count(q_customers) != customers_at_start || count(q_rows) != rows_at_start)
		abort();   /* rolled back means nothing left */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_identifier id;
	char err[STORE_ERRLEN], *line;

	/* The identifier syntax alone, on the input as one string (an exact-size
	 * copy, so a read past its end is caught). */
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	store_identifier_parse_pair(line, &id, err);
	free(line);

	import_once(data, size, STORE_IMPORT_CREATE);
	import_once(data, size, STORE_IMPORT_UPDATE);
	import_once(data, size, STORE_IMPORT_SYNC);
	return 0;
}
