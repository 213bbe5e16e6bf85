/* snapshot_bench DB: times store_snapshot_load() on an existing database. */
#include <stdio.h>
#include <time.h>

#include "snapshot.h"
#include "store.h"

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct snapshot *s;
	char err[STORE_ERRLEN];
	sqlite3 *db;

	if (argc != 2) {
		fprintf(stderr, "usage: store_snapshot_bench DB\n");
		return 64;
	}
	if (store_open(argv[1], STORE_OPEN_READONLY, &db, err)) {
		fprintf(stderr, "%s\n", err);
		return 69;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_snapshot_load(db, &s, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 65;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("snapshot: %u customers, %u identifiers, %u segment memberships in %.3f s\n",
	       s->n_customers, s->n_identifiers, s->n_customer_segments,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	snapshot_free(s);
	store_close(db);
	return 0;
}
