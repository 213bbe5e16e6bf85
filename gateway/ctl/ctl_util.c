/*
 * ctl_util.c - errors, opening the database, option parsing and output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int ctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("beaconctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int ctl_usage(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	(void)ctl;
	fputs("beaconctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	return CTL_USAGE;
}

int ctl_store_fail(int rc, const char *err)
{
	int code;

	switch (rc) {
	case STORE_EINVAL:
	case STORE_ENOENT:
	case STORE_EEXIST:
		code = CTL_DATAERR;
		break;
	case STORE_ESCHEMA:
		code = CTL_CONFIG;
		break;
	default:
		code = CTL_UNAVAILABLE;
		break;
	}
	return ctl_fail(code, "%s", err && *err ? err : "failed");
}

int ctl_open(struct ctl *ctl, unsigned flags)
{
	char err[STORE_ERRLEN];
	int rc = store_open(ctl->db_path, flags, &ctl->db, err);

	return rc ? ctl_store_fail(rc, err) : CTL_OK;
}

int ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
	       const struct option *longopts)
{
	char spec[64];
	int c;

	/* Leading ':' so a missing argument is told apart from an unknown option. */
	snprintf(spec, sizeof(spec), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, spec, longopts, NULL);
	switch (c) {
	case 'h':
		fputs(ctl->help, stdout);
		return 'H';
	case 'J':
		ctl->json = true;
		return ctl_getopt(ctl, argc, argv, shortopts, longopts);
	case ':':
		ctl_usage(ctl, "option '%s' needs a value", argv[optind - 1]);
		return '?';
	case '?':
		ctl_usage(ctl, "unknown option '%s'", argv[optind - 1]);
		return '?';
	default:
		return c;
	}
}

void ctl_print_json(const cJSON *j)
{
	char *s = cJSON_Print(j);

	if (s) {
		puts(s);
		cJSON_free(s);
	}
}

static void cell_text(const cJSON *v, char *buf, size_t n)
{
	if (!v || cJSON_IsNull(v)) {
		snprintf(buf, n, "-");
	} else if (cJSON_IsString(v)) {
		snprintf(buf, n, "%s", v->valuestring[0] ? v->valuestring : "-");
	} else if (cJSON_IsBool(v)) {
		snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "yes" : "no");
	} else if (cJSON_IsNumber(v)) {
		snprintf(buf, n, "%.0f", v->valuedouble);
	} else if (cJSON_IsArray(v)) {
		size_t used = 0;
		const cJSON *e;

		buf[0] = '\0';
		cJSON_ArrayForEach(e, v) {
			char part[128];

			cell_text(e, part, sizeof(part));
			used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s",
						 used ? "," : "", part);
		}
		if (!used)
			snprintf(buf, n, "-");
	} else {
		char *s = cJSON_PrintUnformatted(v);

		snprintf(buf, n, "%s", s ? s : "?");
		cJSON_free(s);
	}
}

#define CELL_MAX 60   /* longer cells (audit JSON) are cut; --json has everything */

static void table_cell(const cJSON *v, char *buf, size_t n)
{
	cell_text(v, buf, n);
	if (strlen(buf) > CELL_MAX)
		strcpy(buf + CELL_MAX - 3, "...");
}

void ctl_print_table(const cJSON *rows, const struct ctl_column *cols, size_t ncols)
{
	size_t width[16] = { 0 };
	char buf[512];
	const cJSON *row;

	if (ncols > 16)
		ncols = 16;
	for (size_t c = 0; c < ncols; c++)
		width[c] = strlen(cols[c].title);
	cJSON_ArrayForEach(row, rows) {
		for (size_t c = 0; c < ncols; c++) {
			table_cell(cJSON_GetObjectItemCaseSensitive(row, cols[c].key), buf,
				   sizeof(buf));
			if (strlen(buf) > width[c])
				width[c] = strlen(buf);
		}
	}
	for (size_t c = 0; c < ncols; c++)
		printf("%-*s%s", c + 1 < ncols ? (int)width[c] : 0, cols[c].title,
		       c + 1 < ncols ? "  " : "\n");
	cJSON_ArrayForEach(row, rows) {
		for (size_t c = 0; c < ncols; c++) {
			table_cell(cJSON_GetObjectItemCaseSensitive(row, cols[c].key), buf,
				   sizeof(buf));
			printf("%-*s%s", c + 1 < ncols ? (int)width[c] : 0, buf,
			       c + 1 < ncols ? "  " : "\n");
		}
	}
}

void ctl_print_done(const struct ctl *ctl, cJSON *fields, const char *fmt, ...)
{
	va_list ap;

	if (ctl->json) {
		cJSON *o = fields ? fields : cJSON_CreateObject();

		cJSON_AddBoolToObject(o, "ok", true);
		ctl_print_json(o);
		cJSON_Delete(o);
		return;
	}
	cJSON_Delete(fields);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

bool ctl_parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	if (!s || !*s || s[0] == '-' || s[0] == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !*end && !errno && *v <= max;
}

int ctl_dispatch(struct ctl *ctl, int argc, char **argv, const struct ctl_sub *subs, size_t n)
{
	if (argc < 2)
		return ctl_usage(ctl, "%s: missing subcommand", argv[0]);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(ctl->help, stdout);
		return CTL_OK;
	}
	if (strcmp(argv[1], "--json") == 0) {
		ctl->json = true;
		argv[1] = argv[0];
		return ctl_dispatch(ctl, argc - 1, argv + 1, subs, n);
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(ctl, argc - 1, argv + 1);
	return ctl_usage(ctl, "%s: unknown subcommand '%.40s'", argv[0], argv[1]);
}

int ctl_positional(struct ctl *ctl, int argc, char **argv, int min, int max, int *code)
{
	static const struct option opts[] = { CTL_COMMON_OPTIONS, { NULL, 0, NULL, 0 } };
	int c;

	optind = 0;
	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		*code = c == 'H' ? CTL_OK : CTL_USAGE;
		if (c != 'H' && c != '?')
			ctl_usage(ctl, "unexpected option");
		return -1;
	}
	return ctl_check_args(ctl, argc, argv, min, max, code);
}

int ctl_check_args(struct ctl *ctl, int argc, char **argv, int min, int max, int *code)
{
	int n = argc - optind;

	if (n < min) {
		*code = ctl_usage(ctl, "%s: missing argument", argv[0]);
		return -1;
	}
	if (n > max) {
		*code = ctl_usage(ctl, "%s: unexpected argument '%.40s'", argv[0], argv[optind + max]);
		return -1;
	}
	return optind;
}

int ctl_print_rows(const struct ctl *ctl, int rc, cJSON *rows, const char *err,
		   const struct ctl_column *cols, size_t ncols)
{
	if (rc)
		return ctl_store_fail(rc, err);
	if (ctl->json)
		ctl_print_json(rows);
	else
		ctl_print_table(rows, cols, ncols);
	cJSON_Delete(rows);
	return CTL_OK;
}
