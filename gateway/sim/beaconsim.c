/*
 * beaconsim.c - the virtual BLE controller: command line and mode choice.
 * See beaconsim(1).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "scenario.h"
#include "scn_lex.h"
#include "sim_run.h"

static void usage(FILE *f)
{
	fputs("Usage: beaconsim --scenario FILE --listen unix:PATH|tcp:HOST:PORT [OPTIONS]\n"
	      "       beaconsim --scenario FILE --btsnoop OUT [--once] [OPTIONS]\n"
	      "\n"
	      "A virtual Bluetooth LE controller speaking H4, playing a store scenario.\n"
	      "\n"
	      "  -s, --scenario FILE     scenario to play (format in beaconsim(1))\n"
	      "  -l, --listen SPEC       serve one gateway at a time on a unix or loopback TCP\n"
	      "                          socket, in real time scaled by --speed\n"
	      "  -w, --btsnoop OUT       write what is sent as a btsnoop capture; without\n"
	      "                          --listen: generate the whole scenario into OUT with\n"
	      "                          simulated timestamps, as fast as possible\n"
	      "      --seed N            random seed (default: the scenario's, else 1)\n"
	      "      --speed X           simulated seconds per real second (default 1)\n"
	      "      --once              exit when the scenario ends\n"
	      "      --duration TIME     play this long (e.g. 90s, 10m; default: the scenario's)\n"
	      "      --start-time T      Unix time (or YYYY-MM-DDTHH:MM:SSZ) of scenario time 0\n"
	      "      --extended          offline capture: LE Extended Advertising Reports\n"
	      "  -v, --verbose           more log lines\n"
	      "      --version           print the version and exit\n"
	      "  -h, --help              this help\n", f);
}

/*
 * Command-line and scenario-file mistakes are the answer to what the user
 * typed, printed before logging starts (as beacongw does with its command
 * line), in the FILE:LINE: form editors jump to. Everything that happens
 * while running goes through the log.
 */
__attribute__((format(printf, 1, 2)))
static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("beaconsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (try --help)\n", stderr);
	return BGW_EXIT_USAGE;
}

enum { OPT_SEED = 256, OPT_SPEED, OPT_ONCE, OPT_DURATION, OPT_START, OPT_EXT, OPT_VERSION };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "btsnoop", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "start-time", required_argument, NULL, OPT_START },
		{ "extended", no_argument, NULL, OPT_EXT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sim_run run = { .speed = 1.0 };
	bool seed_given = false, start_given = false, verbose = false;
	uint64_t duration = 0;
	int c;

	while ((c = getopt_long(argc, argv, "s:l:w:vh", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			run.scenario_path = optarg;
			break;
		case 'l':
			run.listen = optarg;
			break;
		case 'w':
			run.btsnoop_path = optarg;
			break;
		case OPT_SEED:
			if (scn_lex_u64(optarg, &run.seed))
				return bad_usage("bad --seed '%s' (an unsigned integer)", optarg);
			seed_given = true;
			break;
		case OPT_SPEED:
			errno = 0;
			run.speed = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(run.speed) ||
			    run.speed < 0.01 || run.speed > 1e6)
				return bad_usage("bad --speed '%s' (0.01 to 1000000)", optarg);
			break;
		case OPT_ONCE:
			run.once = true;
			break;
		case OPT_DURATION:
			if (scn_lex_duration(optarg, &duration) || duration == 0)
				return bad_usage("bad --duration '%s' (e.g. 90s, 10m, 1h)", optarg);
			break;
		case OPT_START:
			if (scn_lex_start_time(optarg, &run.start_time))
				return bad_usage("bad --start-time '%s' (Unix seconds or "
						 "YYYY-MM-DDTHH:MM:SSZ)", optarg);
			start_given = true;
			break;
		case OPT_EXT:
			run.extended = true;
			break;
		case 'v':
			verbose = true;
			break;
		case OPT_VERSION:
			printf("beaconsim %s\n", BGW_VERSION);
			return BGW_EXIT_OK;
		case 'h':
			usage(stdout);
			return BGW_EXIT_OK;
		default:
			usage(stderr);
			return BGW_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (!run.scenario_path)
		return bad_usage("%s", "--scenario FILE is required");
	if (!run.listen && !run.btsnoop_path)
		return bad_usage("%s", "give --listen SPEC, --btsnoop OUT, or both");

	struct scenario scn;
	struct scn_error err;

	if (scenario_load(run.scenario_path, &scn, &err)) {
		if (err.line)
			fprintf(stderr, "beaconsim: %s:%u: %s\n", run.scenario_path, err.line,
				err.msg);
		else
			fprintf(stderr, "beaconsim: %s: %s\n", run.scenario_path, err.msg);
		return BGW_EXIT_DATAERR;
	}
	if (!seed_given)
		run.seed = scn.seed_set ? scn.seed : 1;
	run.duration_us = duration ? duration : scn.duration_us;
	/* Time 0 of the scenario: given, else the scenario's, else now (which
	 * keeps Eddystone-EIDs in step with a live gateway's wall clock). */
	if (!start_given) {
		if (scn.start_time_set)
			run.start_time = scn.start_time;
		else
			run.start_time = (int64_t)time(NULL);
	}
	run.start_time_given = start_given || scn.start_time_set;
	run.scn = &scn;
	log_set_program("beaconsim");
	log_init(verbose);

	int rc = run.listen ? sim_run_live(&run) : sim_run_offline(&run);

	scenario_free(&scn);
	return rc;
}
