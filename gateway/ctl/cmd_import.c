/*
 * cmd_import.c - beaconctl import [--update | --sync] FILE.csv: bulk
 * enrolment, or applying a CRM export to an existing database, in one
 * transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

const char cmd_import_help[] =
	"Import customers from a CSV file, all or nothing\n"
	"Usage: beaconctl import [--update | --sync] [--policy V] FILE.csv\n"
	"       (FILE '-' reads standard input)\n"
	"Header line: customer_ref,identifiers,consents,segments\n"
	"  identifiers  'TYPE VALUE' items separated by '|'\n"
	"               e.g. ibeacon f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2|irk 00112233...\n"
	"  consents     PURPOSE[@CHANNEL[+CHANNEL]...][/EXPIRES] items separated by ';'\n"
	"               e.g. presence;retargeting@push+email/2027-12-31\n"
	"               (retargeting needs at least one channel)\n"
	"  segments     names separated by '|'\n"
	"Cells may be quoted (RFC 4180). Consents are recorded with source 'import' and\n"
	"policy version V. A bad row rejects the whole file, naming its line, and the\n"
	"database is left untouched. An import into a store without customers compacts\n"
	"the file afterwards (VACUUM: it needs about the file's size of free space).\n"
	"Modes:\n"
	"  (default)  every row creates a new customer; an existing one is an error\n"
	"  --update   new customers are added; a listed customer gets the identifiers,\n"
	"             consents and segments its row adds or changes; nothing is removed\n"
	"  --sync     the database is made equal to the file: as --update, and a listed\n"
	"             customer loses the consents, identifiers and segments its row no\n"
	"             longer names; a customer the file does not list has every consent\n"
	"             withdrawn (the customer, identifiers and history stay: use forget\n"
	"             to erase). Withdrawals delete queued messages as consent withdraw.\n"
	"Prints how many customers were added, changed and left unchanged, and how many\n"
	"consents were withdrawn.\n";

struct progress {
	uint64_t total;
	struct timespec last;
	bool shown;
};

static void show_progress(void *ctx, uint64_t rows, uint64_t bytes)
{
	struct progress *p = ctx;
	struct timespec now;
	int pct = p->total ? (int)(bytes * 100 / p->total) : 0;
	int bar = pct / 4;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (bytes < p->total && (now.tv_sec - p->last.tv_sec) * 1000 +
					(now.tv_nsec - p->last.tv_nsec) / 1000000 < 200)
		return;
	p->last = now;
	p->shown = true;
	fprintf(stderr, "\r[%-25.*s] %3d%% %llu rows", bar, "#########################", pct,
		(unsigned long long)rows);
}

static void print_summary(const struct ctl *ctl, enum store_import_mode mode, const char *path,
			  const struct store_import_stats *st, double secs, bool compacted)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "customers", (double)st->rows);
	cJSON_AddNumberToObject(o, "identifiers", (double)st->identifiers);
	cJSON_AddNumberToObject(o, "consents", (double)st->consents);
	cJSON_AddNumberToObject(o, "segment_memberships", (double)st->segments);
	cJSON_AddStringToObject(o, "mode", store_import_mode_name(mode));
	cJSON_AddNumberToObject(o, "added", (double)st->added);
	cJSON_AddNumberToObject(o, "changed", (double)st->changed);
	cJSON_AddNumberToObject(o, "withdrawn", (double)st->withdrawn);
	cJSON_AddNumberToObject(o, "unchanged", (double)st->unchanged);
	cJSON_AddNumberToObject(o, "identifiers_removed", (double)st->identifiers_removed);
	cJSON_AddNumberToObject(o, "segment_memberships_removed", (double)st->segments_removed);
	cJSON_AddNumberToObject(o, "seconds", secs);
	cJSON_AddBoolToObject(o, "compacted", compacted);
	if (mode == STORE_IMPORT_CREATE) {
		ctl_print_done(ctl, o,
			       "imported %llu customers, %llu identifiers, %llu consents, "
			       "%llu segment memberships from %s in %.1f s",
			       (unsigned long long)st->rows, (unsigned long long)st->identifiers,
			       (unsigned long long)st->consents, (unsigned long long)st->segments,
			       path, secs);
		return;
	}
	/* Customers first (what the CRM team checks), then the detail. */
	ctl_print_done(ctl, o,
		       "%s from %s: %llu added, %llu changed, %llu withdrawn, %llu unchanged "
		       "(identifiers %llu added, %llu removed; %llu consents granted; "
		       "segment memberships %llu added, %llu removed) in %.1f s",
		       store_import_mode_name(mode), path, (unsigned long long)st->added,
		       (unsigned long long)st->changed, (unsigned long long)st->withdrawn,
		       (unsigned long long)st->unchanged, (unsigned long long)st->identifiers,
		       (unsigned long long)st->identifiers_removed,
		       (unsigned long long)st->consents, (unsigned long long)st->segments,
		       (unsigned long long)st->segments_removed, secs);
}

int cmd_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "update", no_argument, NULL, 'u' },
		{ "sync", no_argument, NULL, 's' },
		CTL_OPTIONS_END
	};
	enum store_import_mode mode = STORE_IMPORT_CREATE;
	struct ctl_args a = { .opts = opts, .shortopts = "hp:", .min = 1, .max = 1 };
	struct store_import_stats st;
	struct progress prog = { 0 };
	struct timespec t0, t1;
	const char *policy = "", *path;
	char err[STORE_ERRLEN];
	bool first_load, compacted = false;
	int c, rc;
	FILE *in;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'p') {
			policy = optarg;
			continue;
		}
		enum store_import_mode m = c == 's' ? STORE_IMPORT_SYNC : STORE_IMPORT_UPDATE;

		if (mode != STORE_IMPORT_CREATE && mode != m)
			return ctl_usage(ctl, "--update and --sync exclude each other");
		mode = m;
	}
	if (c < 0)
		return a.code;
	path = argv[a.at];
	in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!in)
		return ctl_fail(BGW_EXIT_DATAERR, "cannot read %s: %s", path, strerror(errno));
	if (in != stdin) {
		struct stat sb;

		if (fstat(fileno(in), &sb) == 0)
			prog.total = (uint64_t)sb.st_size;
	}
	if ((rc = ctl_open(ctl, 0)))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	first_load = !store_has_customers(ctl->db);
	rc = store_begin(ctl->db, err);
	if (!rc) {
		rc = store_import_csv_tx(ctl->db, ctl->actor, in, policy, mode,
					 isatty(STDERR_FILENO) ? show_progress : NULL, &prog, &st,
					 err);
		rc = store_tx_end(ctl->db, rc, err);
	}
	if (prog.shown)
		fputc('\n', stderr);
	if (rc) {
		rc = ctl_store_fail(rc, err);
		goto out;
	}
	/* The import is committed whatever happens here: a file left
	 * uncompacted is only larger. */
	if (first_load && st.added) {
		compacted = store_compact(ctl->db, err) == STORE_OK;
		if (!compacted)
			fprintf(stderr, "beaconctl: imported; the file was not compacted: %s\n", err);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_summary(ctl, mode, path, &st,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		      compacted);
	rc = BGW_EXIT_OK;
out:
	if (in != stdin)
		fclose(in);
	return rc;
}
