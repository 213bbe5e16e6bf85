/* cmd_segment.c - beaconctl segment add|remove. */
#include <string.h>

#include "ctl.h"

const char cmd_segment_help[] =
	"Put a customer into a segment or take them out\n"
	"Usage: beaconctl segment add REF SEGMENT\n"
	"       beaconctl segment remove REF SEGMENT\n"
	"SEGMENT: a customer group name used by campaigns (letters, digits, . _ -),\n"
	"created on first use.\n";

static int change(struct ctl *ctl, int argc, char **argv, bool add)
{
	char err[STORE_ERRLEN];
	int code, at, rc;

	if ((at = ctl_positional(ctl, argc, argv, 2, 2, &code)) < 0)
		return code;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	rc = add ? store_segment_add(ctl->db, ctl->actor, argv[at], argv[at + 1], err)
		 : store_segment_remove(ctl->db, ctl->actor, argv[at], argv[at + 1], err);
	if (rc)
		return ctl_store_fail(rc, err);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "customer_ref", argv[at]);
	cJSON_AddStringToObject(o, "segment", argv[at + 1]);
	ctl_print_done(ctl, o, "customer %s %s segment %s", argv[at], add ? "added to" : "removed from",
		       argv[at + 1]);
	return CTL_OK;
}

static int add(struct ctl *ctl, int argc, char **argv)
{
	return change(ctl, argc, argv, true);
}

static int removecmd(struct ctl *ctl, int argc, char **argv)
{
	return change(ctl, argc, argv, false);
}

int cmd_segment(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_sub subs[] = { { "add", add }, { "remove", removecmd } };

	return ctl_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]));
}
