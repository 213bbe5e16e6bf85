/* cmd_forget.c - beaconctl forget REF: erasure (GDPR Art. 17). */
#include <stdio.h>

#include "ctl.h"

const char cmd_forget_help[] =
	"Erase a customer and everything held about them (GDPR Art. 17)\n"
	"Usage: beaconctl forget REF [--yes]\n"
	"Deletes the customer's identifiers, consents, segment memberships, visits, trigger\n"
	"history and queued triggers, and the customer. The audit log keeps one tombstone\n"
	"entry with counts only: audit entries never contain customer references or\n"
	"identifiers. The database is then vacuumed and its write-ahead log truncated so\n"
	"the deleted bytes do not remain in the files. A running beacongw stops\n"
	"recognising the customer at its next database check.\n"
	"On a terminal it asks first; --yes does it without asking (scripts must say so).\n";

int cmd_forget(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a = { .min = 1, .max = 1, .db = CTL_DB_WRITE };
	char err[STORE_ERRLEN];
	bool clean;
	int rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	if ((rc = ctl_confirm(ctl, "erase customer %.63s and everything held about them",
			      argv[a.at])))
		return rc;
	if ((rc = store_forget(ctl->db, ctl->actor, argv[a.at], &clean, err)))
		return ctl_store_fail(rc, err);
	if (!clean)
		fprintf(stderr, "beaconctl: warning: customer erased, but %s\n", err);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "scrubbed", clean);
	ctl_print_done(ctl, o, "customer erased%s",
		       clean ? "; database vacuumed" : " (run 'beaconctl forget' cleanup later)");
	return BGW_EXIT_OK;
}
