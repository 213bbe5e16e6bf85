/* cmd_audit.c - beaconctl audit: read the append-only audit log. */
#include <time.h>

#include "ctl.h"

const char cmd_audit_help[] =
	"List audit log entries\n"
	"Usage: beaconctl audit [--since TIME] [--ref REF]\n"
	"Every change appends who (actor), what (action), when, and the state before and\n"
	"after. Entries name customers by internal number (subject customer:N), never by\n"
	"reference or identifier; the REF column is filled in while the customer exists.\n"
	"TIME: YYYY-MM-DD[THH:MM[:SS]][Z], @UNIXSECONDS, +N[smhd] or -N[smhd]\n"
	"(N seconds, minutes, hours or days after or before now).\n";

int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "ref", required_argument, NULL, 'r' },
		CTL_OPTIONS_END,
	};
	static const struct ctl_column cols[] = {
		{ "id", "ID" },		{ "at", "AT" },		  { "actor", "ACTOR" },
		{ "action", "ACTION" }, { "subject", "SUBJECT" }, { "customer_ref", "REF" },
		{ "before", "BEFORE" }, { "after", "AFTER" },
	};
	struct ctl_args a = { .opts = opts, .db = CTL_DB_READ };
	const char *ref = NULL;
	int64_t since = 0;
	char err[STORE_ERRLEN];
	int c, rc;
	cJSON *rows = NULL;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'r')
			ref = optarg;
		if (c == 's' && store_time_parse(optarg, (int64_t)time(NULL), &since, err))
			return ctl_fail(BGW_EXIT_DATAERR, "--since: %s", err);
	}
	if (c < 0)
		return a.code;
	rc = store_audit_list(ctl->db, since, ref, &rows, err);
	return ctl_print_rows(ctl, rc, rows, err, cols, BGW_ARRAY_SIZE(cols));
}
