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

#include "store.h"

/* sysexits.h values named in the user contract */
enum ctl_exit {
	CTL_OK = 0,
	CTL_USAGE = 64,
	CTL_DATAERR = 65,
	CTL_UNAVAILABLE = 69,
	CTL_CONFIG = 78,
};

#define CTL_DEFAULT_DB "/var/lib/beacongw/beacongw.db"

struct ctl {
	const char *db_path;
	bool json;
	const char *actor;
	sqlite3 *db;
	const char *help;      /* help text of the running command */
};

struct ctl_command {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *help;      /* full usage text, first line is the summary */
};

/* One-line error to stderr ("beaconctl: ..."); returns code. */
int ctl_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Usage error: message plus a pointer to --help; returns CTL_USAGE. */
int ctl_usage(const struct ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Exit code for a store error, after printing err. */
int ctl_store_fail(int rc, const char *err);

/* Opens ctl->db (STORE_OPEN_* flags); returns CTL_OK or an exit code. */
int ctl_open(struct ctl *ctl, unsigned flags);

/*
 * getopt_long over a command's own options. The options every command takes
 * (--help, --json) are handled here: returns the option character, -1 at the
 * end, or 'H' when help was printed (the caller returns CTL_OK) and '?' after
 * a usage error was reported (the caller returns CTL_USAGE).
 */
int ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
	       const struct option *longopts);
#define CTL_COMMON_OPTIONS { "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, 'J' }

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
#define CTL_NCOLS(cols) (sizeof(cols) / sizeof((cols)[0]))
/* A confirmation: "message" for people, {"ok":true,...fields} for scripts. */
void ctl_print_done(const struct ctl *ctl, cJSON *fields, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Subcommands of a family ("customer add"): argv[0] is the family. */
struct ctl_sub {
	const char *name;
	int (*run)(struct ctl *ctl, int argc, char **argv);
};
int ctl_dispatch(struct ctl *ctl, int argc, char **argv, const struct ctl_sub *subs, size_t n);
/* For commands with only the common options: parses them and checks that
 * min..max positional arguments follow. Returns the index of the first one,
 * or -1 with the exit code in *code (help printed or usage error). */
int ctl_positional(struct ctl *ctl, int argc, char **argv, int min, int max, int *code);
/* The count check alone, after a command's own getopt loop. */
int ctl_check_args(struct ctl *ctl, int argc, char **argv, int min, int max, int *code);

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
/* cmd_keys.c (signed consent updates; built when the delivery library is) */
int cmd_keygen(struct ctl *ctl, int argc, char **argv);
int cmd_sign(struct ctl *ctl, int argc, char **argv);

extern const char cmd_init_help[], cmd_customer_help[], cmd_identifier_help[], cmd_consent_help[],
	cmd_segment_help[], cmd_campaign_help[], cmd_import_help[], cmd_export_help[],
	cmd_forget_help[], cmd_audit_help[], cmd_purge_help[], cmd_eid_help[], cmd_uicr_help[], cmd_keygen_help[],
	cmd_sign_help[];

#endif
