/*
 * ctl_util.c - errors, opening the database, option parsing and output.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* "beaconctl: " + message + end, to stderr: every error line looks alike. */
__attribute__((format(printf, 2, 0)))
static void say(const char *end, const char *fmt, va_list ap)
{
	fputs("beaconctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(end, stderr);
}

int ctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("\n", fmt, ap);
	va_end(ap);
	return code;
}

int ctl_usage(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	(void)ctl;
	va_start(ap, fmt);
	say(" (see --help)\n", fmt, ap);
	va_end(ap);
	return BGW_EXIT_USAGE;
}

int ctl_store_fail(int rc, const char *err)
{
	int code;

	switch (rc) {
	case STORE_EINVAL:
	case STORE_ENOENT:
	case STORE_EEXIST:
		code = BGW_EXIT_DATAERR;
		break;
	case STORE_ESCHEMA:
		code = BGW_EXIT_CONFIG;
		break;
	default:
		code = BGW_EXIT_UNAVAILABLE;
		break;
	}
	return ctl_fail(code, "%s", err && *err ? err : "failed");
}

int ctl_open(struct ctl *ctl, unsigned flags)
{
	char err[STORE_ERRLEN];
	int rc = store_open(ctl->db_path, flags, &ctl->db, err);

	return rc ? ctl_store_fail(rc, err) : BGW_EXIT_OK;
}

int ctl_bad_option(const struct ctl *ctl, int c, char **argv)
{
	if (c == ':')
		return ctl_usage(ctl, "option '%s' needs a value", argv[optind - 1]);
	return ctl_usage(ctl, "unknown option '%s'", argv[optind - 1]);
}

/* After the last option: the positional count, then the database. */
static int args_done(struct ctl *ctl, int argc, char **argv, struct ctl_args *a)
{
	static const unsigned open_flags[] = {
		[CTL_DB_READ] = STORE_OPEN_READONLY,
		[CTL_DB_WRITE] = 0,
		[CTL_DB_CREATE] = STORE_OPEN_CREATE,
	};
	int n = argc - optind;

	if (n < a->min) {
		a->code = ctl_usage(ctl, "%s: missing argument", argv[0]);
		return -1;
	}
	if (n > a->max) {
		a->code = ctl_usage(ctl, "%s: unexpected argument '%.40s'", argv[0],
				    argv[optind + a->max]);
		return -1;
	}
	a->at = optind;
	if (a->db != CTL_NO_DB && (a->code = ctl_open(ctl, open_flags[a->db])))
		return -1;
	return 0;
}

int ctl_option(struct ctl *ctl, int argc, char **argv, struct ctl_args *a)
{
	static const struct option common[] = { CTL_OPTIONS_END };
	char spec[64];
	int c;

	if (!a->started) {
		optind = 0;
		a->started = true;
	}
	/* Leading ':' so a missing argument is told apart from an unknown option. */
	snprintf(spec, sizeof(spec), ":%s", a->shortopts ? a->shortopts : "h");
	opterr = 0;
	while ((c = getopt_long(argc, argv, spec, a->opts ? a->opts : common, NULL)) == 'J' ||
	       c == 'Y') {
		if (c == 'J')
			ctl->json = true;
		else
			ctl->yes = true;
	}
	switch (c) {
	case -1:
		return args_done(ctl, argc, argv, a);
	case 'h':
		fputs(ctl->help, stdout);
		a->code = BGW_EXIT_OK;
		return -1;
	case ':':
	case '?':
		a->code = ctl_bad_option(ctl, c, argv);
		return -1;
	default:
		return c;
	}
}

int ctl_parse(struct ctl *ctl, int argc, char **argv, struct ctl_args *a)
{
	int c;

	/* Without options of its own, getopt has none to return but the end. */
	while ((c = ctl_option(ctl, argc, argv, a)) > 0)
		;
	return c;
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

__attribute__((format(printf, 3, 0)))
static void print_done(const struct ctl *ctl, cJSON *fields, const char *fmt, va_list ap)
{
	if (ctl->json) {
		cJSON *o = fields ? fields : cJSON_CreateObject();

		cJSON_AddBoolToObject(o, "ok", true);
		ctl_print_json(o);
		cJSON_Delete(o);
		return;
	}
	cJSON_Delete(fields);
	vprintf(fmt, ap);
	putchar('\n');
}

void ctl_print_done(const struct ctl *ctl, cJSON *fields, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_done(ctl, fields, fmt, ap);
	va_end(ap);
}

int ctl_done(const struct ctl *ctl, int rc, const char *err, cJSON *fields, const char *fmt, ...)
{
	va_list ap;

	if (rc) {
		cJSON_Delete(fields);
		return ctl_store_fail(rc, err);
	}
	va_start(ap, fmt);
	print_done(ctl, fields, fmt, ap);
	va_end(ap);
	return BGW_EXIT_OK;
}

cJSON *ctl_fields(const char *key, ...)
{
	cJSON *o = cJSON_CreateObject();
	va_list ap;

	va_start(ap, key);
	for (; key; key = va_arg(ap, const char *))
		cJSON_AddStringToObject(o, key, va_arg(ap, const char *));
	va_end(ap);
	return o;
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
		return BGW_EXIT_OK;
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
	return BGW_EXIT_OK;
}
