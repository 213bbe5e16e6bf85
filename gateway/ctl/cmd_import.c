/* cmd_import.c - beaconctl import FILE.csv: bulk enrolment in one transaction. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

const char cmd_import_help[] =
	"Import customers from a CSV file, all or nothing\n"
	"Usage: beaconctl import [--policy V] FILE.csv     (FILE '-' reads standard input)\n"
	"Header line: customer_ref,identifiers,consents,segments\n"
	"  identifiers  'TYPE VALUE' items separated by '|'\n"
	"               e.g. ibeacon f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2|irk 00112233...\n"
	"  consents     PURPOSE[@CHANNEL[+CHANNEL]...][/EXPIRES] items separated by ';'\n"
	"               e.g. presence;retargeting@push+email/2027-12-31\n"
	"  segments     names separated by '|'\n"
	"Cells may be quoted (RFC 4180). Every row creates a new customer; consents are\n"
	"recorded with source 'import' and policy version V. A bad row rejects the whole\n"
	"file, naming its line, and the database is left untouched.\n";

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

int cmd_import(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, CTL_OPTIONS_END
	};
	struct ctl_args a = { .opts = opts, .shortopts = "hp:", .min = 1, .max = 1 };
	struct store_import_stats st;
	struct progress prog = { 0 };
	struct timespec t0, t1;
	const char *policy = "", *path;
	char err[STORE_ERRLEN];
	int c, rc;
	FILE *in;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'p')
			policy = optarg;
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
	rc = store_begin(ctl->db, err);
	if (!rc) {
		rc = store_import_csv_tx(ctl->db, ctl->actor, in, policy,
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
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "customers", (double)st.rows);
	cJSON_AddNumberToObject(o, "identifiers", (double)st.identifiers);
	cJSON_AddNumberToObject(o, "consents", (double)st.consents);
	cJSON_AddNumberToObject(o, "segment_memberships", (double)st.segments);
	cJSON_AddNumberToObject(o, "seconds", secs);
	ctl_print_done(ctl, o,
		       "imported %llu customers, %llu identifiers, %llu consents, %llu segment "
		       "memberships from %s in %.1f s",
		       (unsigned long long)st.rows, (unsigned long long)st.identifiers,
		       (unsigned long long)st.consents, (unsigned long long)st.segments, path, secs);
	rc = BGW_EXIT_OK;
out:
	if (in != stdin)
		fclose(in);
	return rc;
}
