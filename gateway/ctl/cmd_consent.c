/* cmd_consent.c - beaconctl consent grant|withdraw|list|seq. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "bgw_util.h"

const char cmd_consent_help[] =
	"Record, withdraw and list consents\n"
	"Usage: beaconctl consent grant REF PURPOSE [--channel C]... [--expires TIME]\n"
	"                               [--policy V] [--source S]\n"
	"       beaconctl consent withdraw REF PURPOSE\n"
	"       beaconctl consent list [REF]\n"
	"       beaconctl consent seq [--set N]\n"
	"PURPOSE: presence (visits may be recorded) | retargeting (triggers may be sent)\n"
	"C: a channel the customer accepts (push, email, display, ...), repeatable;\n"
	"   retargeting needs at least one (a trigger goes only to accepted channels).\n"
	"TIME: YYYY-MM-DD[THH:MM[:SS]][Z] (local time unless Z), @UNIXSECONDS, +N[smhd] or -N[smhd]\n"
	"(N seconds, minutes, hours or days after or before now).\n"
	"Every grant is kept as history; the newest entry per purpose is the one in force.\n"
	"seq: the signed-update sequence: the last update applied, the highest received and\n"
	"whether some are missing (the gateway then acts on nobody until they are re-sent).\n"
	"--set N says this database holds the full state as of update N (after re-importing\n"
	"it, e.g. import --sync); the next update applied is N + 1. It never goes backwards.\n";

static int purpose_arg(const char *s, enum store_purpose *p)
{
	if (store_purpose_parse(s, p))
		return ctl_fail(BGW_EXIT_DATAERR, "unknown purpose '%.32s' (use presence or retargeting)",
				s);
	return BGW_EXIT_OK;
}

/* The result of grant and withdraw (what: "granted" / "withdrawn"). */
static int done(const struct ctl *ctl, int rc, const char *err, const char *ref,
		enum store_purpose p, const char *what)
{
	const char *purpose = store_purpose_name(p);

	return ctl_done(ctl, rc, err, ctl_fields("customer_ref", ref, "purpose", purpose, NULL),
			"%s consent %s for customer %s", purpose, what, ref);
}

static int grant(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "expires", required_argument, NULL, 'e' },
		{ "policy", required_argument, NULL, 'p' },
		{ "source", required_argument, NULL, 's' },
		CTL_OPTIONS_END,
	};
	struct ctl_args a = { .opts = opts, .shortopts = "hc:e:p:s:", .min = 2, .max = 2 };
	struct store_grant g = { 0 };
	char channels[1024] = "", err[STORE_ERRLEN];
	const char *ref;
	int c, rc;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		switch (c) {
		case 'c':
			if (strlen(channels) + strlen(optarg) + 2 > sizeof(channels))
				return ctl_fail(BGW_EXIT_DATAERR, "too many channels");
			if (channels[0])
				strcat(channels, ",");
			if (strchr(optarg, ','))
				return ctl_fail(BGW_EXIT_DATAERR, "one channel per --channel option");
			strcat(channels, optarg);
			break;
		case 'e':
			if ((rc = store_time_parse(optarg, (int64_t)time(NULL), &g.expires_at, err)))
				return ctl_fail(BGW_EXIT_DATAERR, "--expires: %s", err);
			break;
		case 'p':
			g.policy = optarg;
			break;
		case 's':
			g.source = optarg;
			break;
		}
	}
	if (c < 0)
		return a.code;
	ref = argv[a.at];
	if ((rc = purpose_arg(argv[a.at + 1], &g.purpose)))
		return rc;
	/* Triggers go to the channels the customer accepted (intersected with
	 * the campaign's): a retargeting grant without one can never send any. */
	if (g.purpose == STORE_RETARGETING && !channels[0])
		return ctl_fail(BGW_EXIT_DATAERR, "retargeting consent needs at least one --channel: "
				"triggers are sent only on channels the customer accepted, so "
				"without one no trigger could ever reach %.64s", ref);
	g.channels = channels;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	rc = store_consent_grant(ctl->db, ctl->actor, ref, &g, err);
	return done(ctl, rc, err, ref, g.purpose, "granted");
}

static int withdraw(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_args a = { .min = 2, .max = 2 };
	enum store_purpose p;
	char err[STORE_ERRLEN];
	const char *ref;
	int rc;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	ref = argv[a.at];
	if ((rc = purpose_arg(argv[a.at + 1], &p)))
		return rc;
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	rc = store_consent_withdraw(ctl->db, ctl->actor, ref, p, err);
	return done(ctl, rc, err, ref, p, "withdrawn");
}

static int list(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_column cols[] = {
		{ "customer_ref", "REF" },	 { "purpose", "PURPOSE" },
		{ "channels", "CHANNELS" },	 { "granted_at", "GRANTED" },
		{ "expires_at", "EXPIRES" },	 { "withdrawn_at", "WITHDRAWN" },
		{ "source", "SOURCE" },		 { "policy_version", "POLICY" },
	};
	struct ctl_args a = { .min = 0, .max = 1, .db = CTL_DB_READ };
	char err[STORE_ERRLEN];
	int rc;
	cJSON *rows = NULL;

	if (ctl_parse(ctl, argc, argv, &a) < 0)
		return a.code;
	rc = store_consent_list(ctl->db, a.at < argc ? argv[a.at] : NULL, &rows, err);
	return ctl_print_rows(ctl, rc, rows, err, cols, BGW_ARRAY_SIZE(cols));
}

static int seq_show(const struct ctl *ctl)
{
	char err[STORE_ERRLEN];
	int64_t last, seen;
	int rc = store_consent_seq_get(ctl->db, &last, &seen, err);
	bool behind = seen > last;
	cJSON *o;

	if (rc)
		return ctl_store_fail(rc, err);
	if (ctl->json) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "last_applied", (double)last);
		cJSON_AddNumberToObject(o, "highest_received", (double)(behind ? seen : last));
		cJSON_AddBoolToObject(o, "current", !behind);
		ctl_print_json(o);
		cJSON_Delete(o);
	} else if (behind) {
		printf("last applied update: %" PRId64 "; received up to %" PRId64 ": BEHIND, "
		       "re-send from %" PRId64 " (no visits, no triggers meanwhile)\n",
		       last, seen, last + 1);
	} else {
		printf("last applied update: %" PRId64 "; none missing\n", last);
	}
	return BGW_EXIT_OK;
}

static int seq(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "set", required_argument, NULL, 's' },
		CTL_OPTIONS_END,
	};
	struct ctl_args a = { .opts = opts, .shortopts = "hs:", .min = 0, .max = 0 };
	unsigned long long n = 0;
	bool set = false;
	char err[STORE_ERRLEN], text[24];
	int c, rc;

	while ((c = ctl_option(ctl, argc, argv, &a)) > 0) {
		/* The range a signed update's seq has (docs/backend.md). */
		if (!ctl_parse_uint(optarg, 9007199254740991ull, &n))
			return ctl_usage(ctl, "--set takes a sequence number 0..2^53-1, not '%.32s'",
					 optarg);
		set = true;
	}
	if (c < 0)
		return a.code;
	if (!set) {
		if ((rc = ctl_open(ctl, STORE_OPEN_READONLY)))
			return rc;
		return seq_show(ctl);
	}
	if ((rc = ctl_open(ctl, 0)))
		return rc;
	rc = store_consent_seq_set(ctl->db, ctl->actor, (int64_t)n, err);
	snprintf(text, sizeof(text), "%llu", n);
	return ctl_done(ctl, rc, err, ctl_fields("last_applied", text, NULL),
			"consent update sequence set: %s is the last applied; the next is %llu", text,
			n + 1);
}

int cmd_consent(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_sub subs[] = {
		{ "grant", grant }, { "withdraw", withdraw }, { "list", list }, { "seq", seq },
	};

	return ctl_dispatch(ctl, argc, argv, subs, BGW_ARRAY_SIZE(subs));
}
