/*
 * main.c - beaconctl: global options and the command table.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "bgw_util.h"

static const struct ctl_command commands[] = {
	{ "init", cmd_init, cmd_init_help },
	{ "customer", cmd_customer, cmd_customer_help },
	{ "identifier", cmd_identifier, cmd_identifier_help },
	{ "consent", cmd_consent, cmd_consent_help },
	{ "segment", cmd_segment, cmd_segment_help },
	{ "campaign", cmd_campaign, cmd_campaign_help },
	{ "import", cmd_import, cmd_import_help },
	{ "export", cmd_export, cmd_export_help },
	{ "forget", cmd_forget, cmd_forget_help },
	{ "audit", cmd_audit, cmd_audit_help },
	{ "purge", cmd_purge, cmd_purge_help },
	{ "eid", cmd_eid, cmd_eid_help },
	{ "uicr", cmd_uicr, cmd_uicr_help },
	{ "beacon", cmd_beacon, cmd_beacon_help },
	{ "keygen", cmd_keygen, cmd_keygen_help },
	{ "sign", cmd_sign, cmd_sign_help },
	{ "fleet", cmd_fleet, cmd_fleet_help },
};

static void usage(FILE *f)
{
	fputs("Usage: beaconctl [--db FILE] [--json] [--yes] COMMAND [ARGS...]\n"
	      "Manage the beacongw consent store: who opted in to what, campaigns, audit.\n\n"
	      "Commands:\n", f);
	for (size_t i = 0; i < BGW_ARRAY_SIZE(commands); i++) {
		const char *h = commands[i].help, *nl = strchr(h, '\n');

		fprintf(f, "  %-11s %.*s\n", commands[i].name, nl ? (int)(nl - h) : (int)strlen(h),
			h);
	}
	fputs("\nOptions:\n"
	      "  --db FILE   database (default $BEACONGW_DB or " CTL_DEFAULT_DB ")\n"
	      "  --json      machine-readable output\n"
	      "  --yes       do not ask before forget, customer/campaign remove, purge\n"
	      "  --help      this text; 'beaconctl COMMAND --help' for a command\n"
	      "  --version   print the version\n\n"
	      "Exit status: 0 ok, 1 not confirmed, 64 usage (also: no terminal to confirm on and\n"
	      "no --yes), 65 bad data, 69 database unavailable, 78 config.\n",
	      f);
}

/* Who made a change, for the audit log: the invoking (sudo) user. */
static const char *actor_name(char *buf, size_t n)
{
	const char *who = getenv("SUDO_USER");
	struct passwd *pw;

	if (!who || !*who) {
		pw = getpwuid(geteuid());
		who = pw ? pw->pw_name : NULL;
	}
	if (who)
		snprintf(buf, n, "beaconctl:%.32s", who);
	else
		snprintf(buf, n, "beaconctl:uid=%u", (unsigned)geteuid());
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'J' },
		{ "yes", no_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char actor[64];
	struct ctl ctl = { 0 };
	int c, rc;

	ctl.db_path = getenv("BEACONGW_DB");
	if (!ctl.db_path || !*ctl.db_path)
		ctl.db_path = CTL_DEFAULT_DB;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hd:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			ctl.db_path = optarg;
			break;
		case 'J':
			ctl.json = true;
			break;
		case 'Y':
			ctl.yes = true;
			break;
		case 'h':
			usage(stdout);
			return BGW_EXIT_OK;
		case 'V':
			printf("beaconctl %s (schema %d)\n", BGW_VERSION, STORE_SCHEMA_VERSION);
			return BGW_EXIT_OK;
		default:
			return ctl_bad_option(&ctl, c, argv);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return BGW_EXIT_USAGE;
	}
	if (!*ctl.db_path)
		return ctl_fail(BGW_EXIT_USAGE, "--db needs a file name");
	ctl.actor = actor_name(actor, sizeof(actor));
	for (size_t i = 0; i < BGW_ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		ctl.help = commands[i].help;
		rc = commands[i].run(&ctl, argc - optind, argv + optind);
		store_close(ctl.db);
		if (fflush(stdout) != 0 && rc == BGW_EXIT_OK)
			rc = ctl_fail(BGW_EXIT_UNAVAILABLE, "cannot write output");
		return rc;
	}
	return ctl_fail(BGW_EXIT_USAGE, "unknown command '%.40s' (see beaconctl --help)", argv[optind]);
}
