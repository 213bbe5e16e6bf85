/* cmd_consent.c - beaconctl consent grant|withdraw|list. */
#include <string.h>
#include <time.h>

#include "ctl.h"

const char cmd_consent_help[] =
	"Record, withdraw and list consents\n"
	"Usage: beaconctl consent grant REF PURPOSE [--channel C]... [--expires TIME]\n"
	"                               [--policy V] [--source S]\n"
	"       beaconctl consent withdraw REF PURPOSE\n"
	"       beaconctl consent list [REF]\n"
	"PURPOSE: presence (visits may be recorded) | retargeting (triggers may be sent)\n"
	"C: a channel the customer accepts (push, email, display, ...), repeatable.\n"
	"TIME: YYYY-MM-DD[THH:MM[:SS]][Z] (local time unless Z), @UNIXSECONDS or +N[smhd].\n"
	"Every grant is kept as history; the newest entry per purpose is the one in force.\n";

static int purpose_arg(const char *s, enum store_purpose *p)
{
	if (store_purpose_parse(s, p))
		return ctl_fail(CTL_DATAERR, "unknown purpose '%.32s' (use presence or retargeting)",
				s);
	return CTL_OK;
}

static int grant(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "expires", required_argument, NULL, 'e' },
		{ "policy", required_argument, NULL, 'p' },
		{ "source", required_argument, NULL, 's' },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct store_grant g = { 0 };
	char channels[1024] = "", err[STORE_ERRLEN];
	int c, code, at, rc;

	optind = 0;
	while ((c = ctl_getopt(ctl, argc, argv, "hc:e:p:s:", opts)) != -1) {
		switch (c) {
		case 'H':
			return CTL_OK;
		case '?':
			return CTL_USAGE;
		case 'c':
			if (strlen(channels) + strlen(optarg) + 2 > sizeof(channels))
				return ctl_fail(CTL_DATAERR, "too many channels");
			if (channels[0])
				strcat(channels, ",");
			if (strchr(optarg, ','))
				return ctl_fail(CTL_DATAERR, "one channel per --channel option");
			strcat(channels, optarg);
			break;
		case 'e':
			if ((rc = store_time_parse(optarg, (int64_t)time(NULL), &g.expires_at, err)))
				return ctl_fail(CTL_DATAERR, "--expires: %s", err);
			break;
		case 'p':
			g.policy = optarg;
			break;
		case 's':
			g.source = optarg;
			break;
		}
	}
	if ((at = ctl_check_args(ctl, argc, argv, 2, 2, &code)) < 0)
		return code;
	if ((rc = purpose_arg(argv[at + 1], &g.purpose)))
		return rc;
	g.channels = channels;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	if ((rc = store_consent_grant(ctl->db, ctl->actor, argv[at], &g, err)))
		return ctl_store_fail(rc, err);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "customer_ref", argv[at]);
	cJSON_AddStringToObject(o, "purpose", store_purpose_name(g.purpose));
	ctl_print_done(ctl, o, "%s consent granted for customer %s", store_purpose_name(g.purpose),
		       argv[at]);
	return CTL_OK;
}

static int withdraw(struct ctl *ctl, int argc, char **argv)
{
	enum store_purpose p;
	char err[STORE_ERRLEN];
	int code, at, rc;

	if ((at = ctl_positional(ctl, argc, argv, 2, 2, &code)) < 0)
		return code;
	if ((rc = purpose_arg(argv[at + 1], &p)))
		return rc;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	if ((rc = store_consent_withdraw(ctl->db, ctl->actor, argv[at], p, err)))
		return ctl_store_fail(rc, err);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "customer_ref", argv[at]);
	cJSON_AddStringToObject(o, "purpose", store_purpose_name(p));
	ctl_print_done(ctl, o, "%s consent withdrawn for customer %s", store_purpose_name(p),
		       argv[at]);
	return CTL_OK;
}

static int list(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_column cols[] = {
		{ "customer_ref", "REF" },	 { "purpose", "PURPOSE" },
		{ "channels", "CHANNELS" },	 { "granted_at", "GRANTED" },
		{ "expires_at", "EXPIRES" },	 { "withdrawn_at", "WITHDRAWN" },
		{ "source", "SOURCE" },		 { "policy_version", "POLICY" },
	};
	char err[STORE_ERRLEN];
	int code, at, rc;
	cJSON *rows = NULL;

	if ((at = ctl_positional(ctl, argc, argv, 0, 1, &code)) < 0)
		return code;
	if ((rc = ctl_open(ctl, STORE_OPEN_READONLY)))
		return rc;
	rc = store_consent_list(ctl->db, at < argc ? argv[at] : NULL, &rows, err);
	return ctl_print_rows(ctl, rc, rows, err, cols, CTL_NCOLS(cols));
}

int cmd_consent(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_sub subs[] = {
		{ "grant", grant }, { "withdraw", withdraw }, { "list", list },
	};

	return ctl_dispatch(ctl, argc, argv, subs, sizeof(subs) / sizeof(subs[0]));
}
