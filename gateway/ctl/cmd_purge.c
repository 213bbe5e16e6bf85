/* cmd_purge.c - beaconctl purge: retention. */
#include <time.h>

#include "ctl.h"

const char cmd_purge_help[] =
	"Apply retention: delete old visits and trigger history, archive expired consents\n"
	"Usage: beaconctl purge [--days N] [--yes]\n"
	"Deletes visits and trigger history older than N days (default 30) and moves\n"
	"consents whose expiry has passed to the consents archive (kept as proof, shown\n"
	"by export, out of the data path). Queued triggers are never purged here.\n"
	"On a terminal it asks first; --yes does it without asking (scripts must say so).\n";

int cmd_purge(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' }, CTL_OPTIONS_END
	};
	struct ctl_args a = { .opts = opts, .db = CTL_DB_WRITE };
	struct store_purge_result r;
	unsigned long long days = 30;
	char err[STORE_ERRLEN];
	int c, rc;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'd' && (!ctl_parse_uint(optarg, 36500, &days) || days == 0))
			return ctl_fail(BGW_EXIT_DATAERR, "--days must be 1..36500, got '%.32s'", optarg);
	}
	if (c < 0)
		return a.code;
	if ((rc = ctl_confirm(ctl, "delete visits and trigger history older than %llu days",
			      days)))
		return rc;
	if ((rc = store_purge(ctl->db, ctl->actor, (int)days, (int64_t)time(NULL), &r, err)))
		return ctl_store_fail(rc, err);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "visits", (double)r.visits);
	cJSON_AddNumberToObject(o, "trigger_log", (double)r.trigger_log);
	cJSON_AddNumberToObject(o, "consents_archived", (double)r.consents_archived);
	ctl_print_done(ctl, o, "purged %lld visits and %lld trigger records older than %llu days; "
		       "archived %lld expired consents", (long long)r.visits,
		       (long long)r.trigger_log, days, (long long)r.consents_archived);
	return BGW_EXIT_OK;
}
