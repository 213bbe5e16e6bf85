/*
 * fuzz_csv_import: any bytes as a CSV file fed to store_import_csv_tx() on a
 * scratch database (one per process, every input rolled back), plus the
 * identifier parser on each line. Import must reject or accept, never crash,
 * and a rejected file must leave no row behind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;
static char path[64];

static void cleanup(void)
{
	char wal[80];

	store_close(db);
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
}

static void open_once(void)
{
	char err[STORE_ERRLEN];
	int fd;

	strcpy(path, "/tmp/fuzz-csv-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	if (store_open(path, STORE_OPEN_CREATE, &db, err) != STORE_OK) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	atexit(cleanup);
}

static int64_t customers(void)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM customers", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_import_stats stats;
	struct store_identifier id;
	char err[STORE_ERRLEN], *line;
	FILE *in;
	int rc;

	if (!db)
		open_once();
	/* The identifier syntax alone, on the input as one string. */
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
	rc = store_import_csv_tx(db, "fuzz", in, "p", NULL, NULL, &stats, err);
	fclose(in);
	if (rc != STORE_OK && strlen(err) == 0)
		abort();   /* every rejection names its reason */
	store_rollback(db);
	if (customers() != 0)
		abort();   /* rolled back means nothing left */
	return 0;
}
