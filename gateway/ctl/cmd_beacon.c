/* cmd_beacon.c - beaconctl beacon add|list|remove: the store's own beacons. */
#include <stdio.h>

#include "ctl.h"
#include "store_beacons.h"

const char cmd_beacon_help[] =
	"Register, list and remove the store's own beacons\n"
	"Usage: beaconctl beacon add NAME TYPE VALUE [--place TEXT]\n"
	"       beaconctl beacon list\n"
	"       beaconctl beacon remove NAME [--yes]\n"
	"TYPE VALUE: ibeacon UUID:MAJOR:MINOR | eddystone-uid NAMESPACE:INSTANCE\n"
	"          | eddystone-ns NAMESPACE (every instance) | eddystone-url URL\n"
	"          | tlm AA:BB:CC:DD:EE:FF (a TLM-only beacon, by its address)\n"
	"The gateway reports each registered beacon's battery and temperature (from the\n"
	"Eddystone-TLM frames sent from the same address), when it was last heard and its\n"
	"status (ok, low_battery, missing) on the beacons topic and in its metrics. A\n"
	"registered beacon is never counted as a visitor. NAME: letters, digits, . _ -;\n"
	"--place: where it hangs, free text (\"till 2, ceiling\").\n";

static int add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "place", required_argument, NULL, 'p' }, CTL_OPTIONS_END
	};
	struct ctl_args a = { .opts = opts, .shortopts = "hp:", .min = 3, .max = 3,
			      .db = CTL_DB_WRITE };
	const char *place = "";
	char err[STORE_ERRLEN];
	struct store_beacon b;
	int c, rc;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0)
		if (c == 'p')
			place = optarg;
	if (c < 0)
		return a.code;
	rc = store_beacon_add(ctl->db, ctl->actor, argv[a.at], argv[a.at + 1], argv[a.at + 2],
			      place, err);
	if (rc == STORE_OK)
		store_beacon_parse(argv[a.at + 1], argv[a.at + 2], &b, err);
	return ctl_done(ctl, rc, err,
			rc ? NULL : ctl_fields("beacon", argv[a.at], "type", argv[a.at + 1],
					       "value", b.value, "place", place, NULL),
			"beacon %s registered", argv[a.at]);
}

static int list(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_column cols[] = {
		{ "name", "NAME" }, { "type", "TYPE" }, { "value", "VALUE" },
		{ "place", "PLACE" }, { "added_at", "ADDED" },
	};
	struct ctl_args a = { .db = CTL_DB_READ };
	char err[STORE_ERRLEN];
	cJSON *rows = NULL;
	int rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	rc = store_beacon_list(ctl->db, &rows, err);
	return ctl_print_rows(ctl, rc, rows, err, cols, BGW_ARRAY_SIZE(cols));
}

static int removecmd(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a = { .min = 1, .max = 1, .db = CTL_DB_WRITE };
	char err[STORE_ERRLEN];
	const char *name;
	int rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	name = argv[a.at];
	if ((rc = ctl_confirm(ctl, "remove store beacon %.63s", name)))
		return rc;
	rc = store_beacon_remove(ctl->db, ctl->actor, name, err);
	return ctl_done(ctl, rc, err, ctl_fields("beacon", name, NULL), "beacon %s removed", name);
}

int cmd_beacon(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_sub subs[] = {
		{ "add", add }, { "list", list }, { "remove", removecmd },
	};

	return ctl_dispatch(ctl, argc, argv, subs, BGW_ARRAY_SIZE(subs));
}
