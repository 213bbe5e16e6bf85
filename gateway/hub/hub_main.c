/*
 * hub_main.c - beaconhub: command line, configuration, signals, systemd
 * notification and the event loop (docs/man/beaconhub.8, docs/fleet.md).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "bgw_exit.h"
#include "hub.h"
#include "hub_config.h"
#include "hub_run.h"
#include "log.h"
#include "loop.h"

#ifndef BGW_VERSION
#define BGW_VERSION "unknown"
#endif

#define DEFAULT_CONFIG "/etc/beacongw/beaconhub.conf"
#define STOP_TIMEOUT_MS 3000

static const char usage[] =
	"Usage: beaconhub [-c FILE] [--check-config] [-v] [--version] [--help]\n"
	"\n"
	"The head office's consent authority: signs every committed change of the\n"
	"authority database, publishes it with a retained head, serves snapshots to\n"
	"gateways and records their statuses (beaconctl fleet).\n"
	"\n"
	"  -c, --config FILE   INI configuration (default " DEFAULT_CONFIG ")\n"
	"      --check-config  read the configuration, the key and the database; exit 0 or 78\n"
	"  -v, --verbose       debug logging\n"
	"      --version       print the version\n"
	"  -h, --help          this text\n";

struct hub_signals {
	struct hub_run *h;
	const char *path;
};

static void on_signal(struct loop *l, int signo, void *ctx)
{
	struct hub_signals *hs = ctx;

	if (signo == SIGHUP) {
		if (hs->h)
			hub_run_reload(hs->h, hs->path);
		return;
	}
	log_info("hub: signal %d: stopping", signo);
	loop_stop(l, BGW_EXIT_OK);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	const char *path = DEFAULT_CONFIG;
	struct hub_config *cfg = calloc(1, sizeof(*cfg));
	struct hub_run *h = NULL;
	struct hub_signals hs = { 0 };
	struct loop *l = NULL;
	bool check = false;
	char err[512];
	int c, rc = BGW_EXIT_OK;

	signal(SIGPIPE, SIG_IGN);
	log_init(false);
	log_set_program("beaconhub");
	if (!cfg)
		return BGW_EXIT_UNAVAILABLE;
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'C': check = true; break;
		case 'v': log_set_verbose(true); break;
		case 'V': printf("beaconhub %s\n", BGW_VERSION); free(cfg); return BGW_EXIT_OK;
		case 'h': fputs(usage, stdout); free(cfg); return BGW_EXIT_OK;
		default:
			fputs(usage, stderr);
			free(cfg);
			return BGW_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "beaconhub: unexpected argument \"%s\"\n%s", argv[optind], usage);
		free(cfg);
		return BGW_EXIT_USAGE;
	}
	if (hub_config_load(path, cfg, err, sizeof(err))) {
		fprintf(stderr, "beaconhub: %s\n", err);
		free(cfg);
		return BGW_EXIT_CONFIG;
	}
	if (check) {
		rc = hub_auth_check(cfg, err, sizeof(err)) ? BGW_EXIT_CONFIG : BGW_EXIT_OK;
		if (rc)
			fprintf(stderr, "beaconhub: %s\n", err);
		else
			printf("beaconhub: configuration ok\n");
		free(cfg);
		return rc;
	}
	l = loop_new();
	hs.path = path;
	if (!l || loop_add_signals(l, signals, 3, on_signal, &hs) < 0) {
		fprintf(stderr, "beaconhub: cannot set up the event loop\n");
		rc = BGW_EXIT_UNAVAILABLE;
		goto out;
	}
	h = hub_run_new(l, cfg, err, sizeof(err), &rc);
	if (!h) {
		log_err("beaconhub: %s", err);
		goto out;
	}
	hs.h = h;
	sd_notify(0, "READY=1");
	rc = loop_run(l);
	sd_notify(0, "STOPPING=1");
	hub_run_stop(h, STOP_TIMEOUT_MS);
	if (rc < 0)
		rc = BGW_EXIT_SOFTWARE;
out:
	hub_run_free(h);
	loop_free(l);
	free(cfg);
	return rc;
}
