/* cmd_segment.c - beaconctl segment add|remove. */
#include <string.h>

#include "ctl.h"
#include "bgw_util.h"

const char cmd_segment_help[] =
	"Put a customer into a segment or take them out\n"
	"Usage: beaconctl segment add REF SEGMENT\n"
	"       beaconctl segment remove REF SEGMENT\n"
	"SEGMENT: a customer group name used by campaigns (letters, digits, . _ -),\n"
	"created on first use.\n";

static int change(struct ctl *ctl, int argc, char **argv, bool add)
{
	struct ctl_args a = { .min = 2, .max = 2, .db = CTL_DB_WRITE };
	char err[STORE_ERRLEN];
	const char *ref, *segment;
	int rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	ref = argv[a.at];
	segment = argv[a.at + 1];
	rc = add ? store_segment_add(ctl->db, ctl->actor, ref, segment, err)
		 : store_segment_remove(ctl->db, ctl->actor, ref, segment, err);
	return ctl_done(ctl, rc, err, ctl_fields("customer_ref", ref, "segment", segment, NULL),
			"customer %s %s segment %s", ref, add ? "added to" : "removed from", segment);
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

	return ctl_dispatch(ctl, argc, argv, subs, BGW_ARRAY_SIZE(subs));
}
