/*
 * ctl.h - what beaconctl's command files share: the global options, the
 * database handle, exit codes, output helpers and the command table entry.
 *
 * Adding a command: write cmd_<name>.c with an int cmd_<name>(struct ctl *,
 * int argc, char **argv) handler and a help text, and add one line to the
 * table in main.c.
 */
#ifndef BGW_CTL_H
#define BGW_CTL_H

#include <getopt.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "bgw_exit.h"
#include "store.h"
#include "bgw_util.h"

#define CTL_DEFAULT_DB "/var/lib/beacongw/beacongw.db"

struct ctl {
	const char *db_path;
	bool json;
	const char *actor;
	sqlite3 *db;
	const char *help;      /* help text of the running command */
	bool yes;              /* --yes: destructive commands do not ask */
};

struct ctl_command {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *help;      /* full usage text, first line is the summary */
};

/* One-line error to stderr ("beaconctl: ..."); returns code. */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: message plus a pointer to --help; returns BGW_EXIT_USAGE. */
int ctl_usage(const struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit code for a store error, after printing err. */
int ctl_store_fail(int rc, const char *err);

/* Opens ctl->db (STORE_OPEN_* flags); returns BGW_EXIT_OK or an exit code. */
int ctl_open(struct ctl *ctl, unsigned flags);

/* The end of a command's option table: the options every command takes
 * (--help, --json, handled by ctl_option()) and the terminator. */
#define CTL_OPTIONS_END { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'J' }, \
		{ "yes", no_argument, NULL, 'Y' }, { NULL, 0, NULL, 0 }

/* Whether, and how, a command opens the database once its arguments are good. */
enum ctl_db {
	CTL_NO_DB,
	CTL_DB_READ,
	CTL_DB_WRITE,
	CTL_DB_CREATE,
};

/*
 * What a command takes, filled in with designated initializers; the fields
 * after db are set by ctl_option() / ctl_parse(). A command that checks its
 * arguments further before touching the database (so that bad data is
 * reported as such even when the database is unavailable) leaves db at
 * CTL_NO_DB and calls ctl_open() itself.
 */
struct ctl_args {
	const struct option *opts; /* own options, ending in CTL_OPTIONS_END; NULL: none */
	const char *shortopts;     /* getopt letters; NULL: "h" */
	int min, max;              /* how many positional arguments */
	enum ctl_db db;            /* opened after the arguments were checked */
	int at;                    /* out: argv index of the first positional argument */
	int code;                  /* out: exit code when parsing stopped (help or error) */
	bool started;              /* getopt was reset for this command */
};

/*
 * The next of the command's own options (> 0, optarg set); 0 once all were
 * parsed, the positional count checked and the database opened as asked; or
 * -1 when the command should return a->code: help was printed (BGW_EXIT_OK), a
 * usage error or the database error was reported.
 */
int ctl_option(struct ctl *ctl, int argc, char **argv, struct ctl_args *a);
/* The same for commands without options of their own: 0 or -1 (a->code). */
int ctl_parse(struct ctl *ctl, int argc, char **argv, struct ctl_args *a);
/* Usage error for getopt's ':' (missing value) or '?' (unknown option) c. */
int ctl_bad_option(const struct ctl *ctl, int c, char **argv);

/* Output: JSON (pretty, one document) or a table with the given columns. */
struct ctl_column {
	const char *key, *title;
};
void ctl_print_json(const cJSON *j);
void ctl_print_table(const cJSON *rows, const struct ctl_column *cols, size_t ncols);
/* The tail of every listing: the store query's result rc/rows/err printed
 * as JSON or as a table (rows are freed), or its error. */
int ctl_print_rows(const struct ctl *ctl, int rc, cJSON *rows, const char *err,
		   const struct ctl_column *cols, size_t ncols);
/* A confirmation: "message" for people, {"ok":true,...fields} for scripts. */
void ctl_print_done(const struct ctl *ctl, cJSON *fields, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The tail of every change: the store call's error for rc != 0 (fields are
 * freed), else the confirmation as ctl_print_done(); returns the exit code. */
int ctl_done(const struct ctl *ctl, int rc, const char *err, cJSON *fields, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* An object of string fields: key, value, key, value, ..., NULL. */
cJSON *ctl_fields(const char *key, ...) __attribute__((sentinel));

/* Subcommands of a family ("customer add"): argv[0] is the family. */
struct ctl_sub {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
};
int ctl_dispatch(struct ctl *ctl, int argc, char **argv, const struct ctl_sub *subs, size_t n);

/*
 * Before a change that cannot be undone: with --yes, go on (0); on a
 * terminal, ask "QUESTION [y/N]" and go on only for y or yes; otherwise
 * (a script without --yes) refuse. Returns 0 to go on, or the exit code
 * after saying why nothing was changed (64 without a terminal, 1 when
 * the answer was no).
 */
int ctl_confirm(const struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define CTL_EXIT_DECLINED 1

/* Parses an unsigned decimal within max into *v. */
bool ctl_parse_uint(const char *s, unsigned long long max, unsigned long long *v);

/* The command handlers (one family per file). */
int cmd_init(struct ctl *ctl, int argc, char **argv);
int cmd_customer(struct ctl *ctl, int argc, char **argv);
int cmd_identifier(struct ctl *ctl, int argc, char **argv);
int cmd_consent(struct ctl *ctl, int argc, char **argv);
int cmd_segment(struct ctl *ctl, int argc, char **argv);
int cmd_campaign(struct ctl *ctl, int argc, char **argv);
int cmd_import(struct ctl *ctl, int argc, char **argv);
int cmd_export(struct ctl *ctl, int argc, char **argv);
int cmd_forget(struct ctl *ctl, int argc, char **argv);
int cmd_audit(struct ctl *ctl, int argc, char **argv);
int cmd_purge(struct ctl *ctl, int argc, char **argv);
int cmd_eid(struct ctl *ctl, int argc, char **argv);
int cmd_uicr(struct ctl *ctl, int argc, char **argv);
int cmd_beacon(struct ctl *ctl, int argc, char **argv);
/* cmd_keys.c (signed consent updates; built when the delivery library is) */
int cmd_keygen(struct ctl *ctl, int argc, char **argv);
int cmd_sign(struct ctl *ctl, int argc, char **argv);
int cmd_fleet(struct ctl *ctl, int argc, char **argv);

extern const char cmd_init_help[], cmd_customer_help[], cmd_identifier_help[], cmd_consent_help[],
	cmd_segment_help[], cmd_campaign_help[], cmd_import_help[], cmd_export_help[],
	cmd_forget_help[], cmd_audit_help[], cmd_purge_help[], cmd_eid_help[], cmd_uicr_help[], cmd_beacon_help[], cmd_keygen_help[],
	cmd_sign_help[], cmd_fleet_help[];

#endif
