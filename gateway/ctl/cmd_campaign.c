/* cmd_campaign.c - beaconctl campaign add|list|target|remove. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "bgw_util.h"

const char cmd_campaign_help[] =
	"Define, list and remove campaigns\n"
	"Usage: beaconctl campaign add NAME --zone Z --event enter|dwell|exit [--segment S]\n"
	"           [--min-dwell SEC] [--cooldown SEC] [--daily-cap N] [--channel C]...\n"
	"           [--from TIME] [--until TIME] [--hours HH:MM-HH:MM] [--sites S1,S2]\n"
	"       beaconctl campaign list\n"
	"       beaconctl campaign target NAME --sites S1,S2 | --all-sites\n"
	"       beaconctl campaign remove NAME [--yes]\n"
	"A campaign triggers for customers with retargeting consent (and, if --channel is\n"
	"given, consent for one of those channels) in segment S (any customer without\n"
	"--segment) on entering zone Z, after --min-dwell seconds in it, or on leaving.\n"
	"--cooldown: seconds between two triggers for the same customer; --daily-cap:\n"
	"triggers per customer per local day (0 = no limit); --from/--until: validity\n"
	"window; --hours: local opening hours. --sites: the [gateway] sites the campaign\n"
	"is for (default every site); in a fleet's authority database the hub sends it\n"
	"to the gateways of those sites only, and 'target' moves it (gateways of a site\n"
	"it no longer names remove it). On a terminal 'remove' asks first; --yes\n"
	"does it without asking (scripts must say so).\n";

static int hours_parse(const char *s, int32_t *from, int32_t *until)
{
	unsigned h1, m1, h2, m2;
	char tail;

	if (sscanf(s, "%2u:%2u-%2u:%2u%c", &h1, &m1, &h2, &m2, &tail) != 4 || h1 > 24 ||
	    h2 > 24 || m1 > 59 || m2 > 59 || (h1 == 24 && m1) || (h2 == 24 && m2) ||
	    h1 * 60 + m1 == h2 * 60 + m2)
		return -1;
	*from = (int32_t)(h1 * 60 + m1);
	*until = (int32_t)(h2 * 60 + m2);
	return 0;
}

static int u32_opt(const char *name, const char *arg, uint32_t *v)
{
	unsigned long long x;

	if (!ctl_parse_uint(arg, UINT32_MAX, &x))
		return ctl_fail(BGW_EXIT_DATAERR, "--%s must be a whole number, got '%.32s'", name, arg);
	*v = (uint32_t)x;
	return BGW_EXIT_OK;
}

static int add(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "zone", required_argument, NULL, 'z' },
		{ "event", required_argument, NULL, 'e' },
		{ "segment", required_argument, NULL, 's' },
		{ "min-dwell", required_argument, NULL, 'm' },
		{ "cooldown", required_argument, NULL, 'c' },
		{ "daily-cap", required_argument, NULL, 'd' },
		{ "channel", required_argument, NULL, 'C' },
		{ "from", required_argument, NULL, 'f' },
		{ "until", required_argument, NULL, 'u' },
		{ "hours", required_argument, NULL, 'o' },
		{ "disabled", no_argument, NULL, 'D' },
		{ "sites", required_argument, NULL, 'S' },
		CTL_OPTIONS_END,
	};
	struct ctl_args a = { .opts = opts, .min = 1, .max = 1 };
	struct store_campaign cp = { .event = -1, .hours_from = -1, .hours_until = -1,
				     .enabled = true };
	char channels[1024] = "", err[STORE_ERRLEN];
	const char *event = NULL;
	int c, rc = 0;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		switch (c) {
		case 'z': cp.zone = optarg; break;
		case 'e': event = optarg; break;
		case 's': cp.segment = optarg; break;
		case 'm': rc = u32_opt("min-dwell", optarg, &cp.min_dwell_s); break;
		case 'c': rc = u32_opt("cooldown", optarg, &cp.cooldown_s); break;
		case 'd': rc = u32_opt("daily-cap", optarg, &cp.daily_cap); break;
		case 'D': cp.enabled = false; break;
		case 'S':
			if (!optarg[0])
				return ctl_fail(BGW_EXIT_DATAERR,
						"--sites needs at least one site (leave it out "
						"for every site)");
			cp.sites = optarg;
			break;
		case 'C':
			if (strchr(optarg, ',') ||
			    strlen(channels) + strlen(optarg) + 2 > sizeof(channels))
				return ctl_fail(BGW_EXIT_DATAERR, "bad --channel '%.32s'", optarg);
			if (channels[0])
				strcat(channels, ",");
			strcat(channels, optarg);
			break;
		case 'f':
		case 'u':
			if (store_time_parse(optarg, (int64_t)time(NULL),
					     c == 'f' ? &cp.valid_from : &cp.valid_until, err))
				return ctl_fail(BGW_EXIT_DATAERR, "--%s: %s", c == 'f' ? "from" : "until",
						err);
			break;
		case 'o':
			if (hours_parse(optarg, &cp.hours_from, &cp.hours_until))
				return ctl_fail(BGW_EXIT_DATAERR,
						"--hours must be HH:MM-HH:MM, got '%.32s'", optarg);
			break;
		}
		if (rc)
			return rc;
	}
	if (c < 0)
		return a.code;
	if (!cp.zone)
		return ctl_usage(ctl, "campaign add: --zone is required");
	if (!event)
		return ctl_usage(ctl, "campaign add: --event is required");
	cp.event = store_event_parse(event);
	if (cp.event < 0)
		return ctl_fail(BGW_EXIT_DATAERR, "--event must be enter, dwell or exit, got '%.32s'",
				event);
	cp.name = argv[a.at];
	cp.channels = channels;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	rc = store_campaign_add(ctl->db, ctl->actor, &cp, err);
	return ctl_done(ctl, rc, err, ctl_fields("campaign", cp.name, NULL), "campaign %s added",
			cp.name);
}

static int list(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_column cols[] = {
		{ "name", "NAME" },	       { "zone", "ZONE" },
		{ "event", "EVENT" },	       { "segment", "SEGMENT" },
		{ "min_dwell_s", "MIN-DWELL" }, { "cooldown_s", "COOLDOWN" },
		{ "daily_cap", "CAP" },	       { "channels", "CHANNELS" },
		{ "valid_from", "FROM" },      { "valid_until", "UNTIL" },
		{ "hours", "HOURS" },	       { "enabled", "ENABLED" },
		{ "sites", "SITES" },
	};
	struct ctl_args a = { .db = CTL_DB_READ };
	char err[STORE_ERRLEN];
	int rc;
	cJSON *rows = NULL;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	rc = store_campaign_list(ctl->db, &rows, err);
	return ctl_print_rows(ctl, rc, rows, err, cols, BGW_ARRAY_SIZE(cols));
}

static int target(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sites", required_argument, NULL, 'S' },
		{ "all-sites", no_argument, NULL, 'A' },
		CTL_OPTIONS_END,
	};
	struct ctl_args a = { .opts = opts, .min = 1, .max = 1 };
	const char *sites = NULL, *name;
	char err[STORE_ERRLEN];
	bool all = false;
	int c, rc;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		if (c == 'S')
			sites = optarg;
		else
			all = true;
	}
	if (c < 0)
		return a.code;
	if (!sites == !all)
		return ctl_usage(ctl, "campaign target: give either --sites S1,S2 or --all-sites");
	if (sites && !sites[0])
		return ctl_fail(BGW_EXIT_DATAERR,
				"--sites needs at least one site (--all-sites for every site)");
	name = argv[a.at];
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	rc = store_campaign_target(ctl->db, ctl->actor, name, all ? "" : sites, err);
	return ctl_done(ctl, rc, err, ctl_fields("campaign", name, "sites", all ? "*" : sites,
						 NULL),
			"campaign %s is for %s", name, all ? "every site" : sites);
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
	if ((rc = ctl_confirm(ctl, "remove campaign %.63s", name)))
		return rc;
	rc = store_campaign_remove(ctl->db, ctl->actor, name, err);
	return ctl_done(ctl, rc, err, ctl_fields("campaign", name, NULL), "campaign %s removed",
			name);
}

int cmd_campaign(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_sub subs[] = {
		{ "add", add }, { "list", list }, { "target", target }, { "remove", removecmd },
	};

	return ctl_dispatch(ctl, argc, argv, subs, BGW_ARRAY_SIZE(subs));
}
