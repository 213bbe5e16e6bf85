/*
 * fuzz_csv_import: any bytes as a CSV file fed to store_import_csv_tx() on a
 * scratch database (one per process, every input rolled back), plus the
 * identifier parser on each line. Import must reject or accept, never crash,
 * a rejected file must leave no row behind, and an accepted one must have
 * made exactly one customer per row it counted.
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
	"(SELECT count(*) FROM kv)"

static sqlite3 *db;
static sqlite3_stmt *q_customers, *q_rows;
static int64_t rows_at_start;
static char path[4096];

static void cleanup(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char f[sizeof(path) + 16];

	sqlite3_finalize(q_customers);
	sqlite3_finalize(q_rows);
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
	/* The checks run after every input: prepared once. */
	must(sqlite3_prepare_v2(db, "SELECT count(*) FROM customers", -1, &q_customers, NULL),
	     "prepare");
	must(sqlite3_prepare_v2(db, ROWS_SQL, -1, &q_rows, NULL), "prepare");
	rows_at_start = count(q_rows);
	if (rows_at_start < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_import_stats stats;
	struct store_identifier id;
	char err[STORE_ERRLEN], *line;
	FILE *in;
	int rc;

	/* The identifier syntax alone, on the input as one string (an exact-size
	 * copy, so a read past its end is caught). */
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	store_identifier_parse_pair(line, &id, err);
	free(line);

	in = fmemopen((void *)data, size, "r");
	if (!in)
		return 0;
	if (store_begin(db, err) != STORE_OK)
		abort();
	err[0] = '\0';
	rc = store_import_csv_tx(db, "fuzz", in, "p", STORE_IMPORT_CREATE, NULL, NULL, &stats, err);
	fclose(in);
	if (rc != STORE_OK && strlen(err) == 0)
		abort();   /* every rejection names its reason */
	if (rc == STORE_OK && count(q_customers) != (int64_t)stats.rows)
		abort();   /* one customer per imported row */
	store_rollback(db);
	if (count(q_customers) != 0 || count(q_rows) != rows_at_start)
		abort();   /* rolled back means nothing left */
	return 0;
}
