/*
 * beaconsim.c - the virtual BLE controller: command line and mode choice.
 * See beaconsim(1).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
	      "  -l, --listen GATEWAY=SPEC\n"
	      "                          once per gateway placed in the scenario: each hears\n"
	      "                          the same shoppers from where it stands\n"
	      "      --truth FILE        write the true zone of every customer tag each second\n"
	      "                          as JSON lines (t, s, customer, zone, gateway,\n"
	      "                          distance_m)\n"
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

enum { OPT_SEED = 256, OPT_SPEED, OPT_ONCE, OPT_DURATION, OPT_START, OPT_EXT, OPT_VERSION,
       OPT_TRUTH };

#define LISTEN_MAX SCN_GATEWAYS_MAX

/* The gateway nearest to (x, y), -1 without gateways. */
static int nearest_gateway(const struct scenario *s, double x, double y)
{
	int best = -1;
	double bd = INFINITY;

	for (size_t i = 0; i < s->n_gateways; i++) {
		double d = hypot(x - s->gateways[i].x, y - s->gateways[i].y);

		if (d < bd) {
			bd = d;
			best = (int)i;
		}
	}
	return best;
}

/*
 * The ground truth, from the scenario alone (no radio): every second, for
 * every tag placed with X,Y waypoints and in the store, the zone of the
 * gateway nearest to it. 0, or an exit code.
 */
static int write_truth(const struct sim_run *run, const char *path)
{
	const struct scenario *s = run->scn;
	FILE *f = fopen(path, "we");

	if (!f) {
		fprintf(stderr, "beaconsim: --truth %s: %s\n", path, strerror(errno));
		return BGW_EXIT_USAGE;
	}
	for (uint64_t t = 0; t <= run->duration_us; t += BGW_US_PER_S) {
		time_t wall = (time_t)(run->start_time + (int64_t)(t / BGW_US_PER_S));
		struct tm tm;
		char ts[32];

		gmtime_r(&wall, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		for (size_t i = 0; i < s->n_tags; i++) {
			const struct scn_tag *tag = &s->tags[i];
			double x, y;
			int g;

			if (!scenario_tag_position(tag, t, &x, &y) ||
			    (g = nearest_gateway(s, x, y)) < 0)
				continue;
			fprintf(f, "{\"t\":\"%s\",\"s\":%" PRIu64 ",\"customer\":\"%s\","
				"\"zone\":\"%s\",\"gateway\":\"%s\",\"distance_m\":%.2f}\n", ts,
				t / BGW_US_PER_S,
				tag->customer[0] ? tag->customer : tag->name, s->gateways[g].zone,
				s->gateways[g].name,
				hypot(x - s->gateways[g].x, y - s->gateways[g].y));
		}
	}
	if (fclose(f)) {
		fprintf(stderr, "beaconsim: --truth %s: %s\n", path, strerror(errno));
		return BGW_EXIT_UNAVAILABLE;
	}
	return 0;
}

static pid_t children[LISTEN_MAX];
static int n_children;

static void forward_signal(int sig)
{
	for (int i = 0; i < n_children; i++)
		if (children[i] > 0)
			kill(children[i], sig);
}

/*
 * One controller per gateway: a child process per -l GATEWAY=SPEC plays the
 * same scenario (same start time, same walks) heard from that gateway's
 * place, with a noise stream of its own. The parent waits for all of them
 * and passes SIGINT/SIGTERM on. Returns the worst exit code.
 */
static int run_site(struct sim_run *run, struct scenario *scn, const char *const *names,
		    const char *const *specs, int n)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	int worst = 0;

	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < n; i++) {
		int g = scenario_gateway(scn, names[i]);
		pid_t pid;

		pid = fork();
		if (pid < 0) {
			log_err("fork: %s", strerror(errno));
			forward_signal(SIGTERM);
			worst = BGW_EXIT_UNAVAILABLE;
			break;
		}
		if (pid == 0) {
			scn->active_gateway = g;
			run->listen = specs[i];
			run->seed += 7919u * (uint64_t)(g + 1);
			_exit(sim_run_live(run));
		}
		children[n_children++] = pid;
		log_info("gateway %s (zone %s) on %s", names[i], scn->gateways[g].zone, specs[i]);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (int i = 0; i < n_children; i++) {
		int st;

		while (waitpid(children[i], &st, 0) < 0 && errno == EINTR)
			;
		children[i] = 0;
		if (WIFEXITED(st) && WEXITSTATUS(st) > worst)
			worst = WEXITSTATUS(st);
		else if (!WIFEXITED(st) && worst == 0)
			worst = BGW_EXIT_SOFTWARE;
	}
	return worst;
}

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
		{ "truth", required_argument, NULL, OPT_TRUTH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sim_run run = { .speed = 1.0 };
	bool seed_given = false, start_given = false, verbose = false;
	const char *listen_name[LISTEN_MAX], *listen_spec[LISTEN_MAX], *truth = NULL;
	int n_listen = 0, n_named = 0;
	uint64_t duration = 0;
	int c;

	while ((c = getopt_long(argc, argv, "s:l:w:vh", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 's':
			run.scenario_path = optarg;
			break;
		case 'l': {
			char *eq = strchr(optarg, '=');

			if (n_listen == LISTEN_MAX)
				return bad_usage("at most %d --listen", LISTEN_MAX);
			/* GATEWAY=SPEC; a SPEC itself has no '=' before its first ':'. */
			if (eq && (!strchr(optarg, ':') || eq < strchr(optarg, ':'))) {
				*eq = '\0';
				listen_name[n_listen] = optarg;
				listen_spec[n_listen++] = eq + 1;
				n_named++;
			} else {
				listen_name[n_listen] = NULL;
				listen_spec[n_listen++] = optarg;
			}
			run.listen = optarg;
			break;
		}
		case OPT_TRUTH:
			truth = optarg;
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
	if (!run.listen && !run.btsnoop_path && !truth)
		return bad_usage("%s", "give --listen SPEC, --btsnoop OUT, or both");
	if (n_named && n_named != n_listen)
		return bad_usage("%s", "give either one --listen SPEC or --listen GATEWAY=SPEC for "
				 "each gateway");
	if (n_named && run.btsnoop_path)
		return bad_usage("%s", "--btsnoop records one controller: not with GATEWAY=SPEC");
	if (!n_named && n_listen > 1)
		return bad_usage("%s", "several --listen need a gateway each: GATEWAY=SPEC");

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
	for (int i = 0; i < n_named; i++) {
		if (scenario_gateway(&scn, listen_name[i]) < 0) {
			fprintf(stderr, "beaconsim: %s: no gateway '%s' in the scenario\n",
				run.scenario_path, listen_name[i]);
			scenario_free(&scn);
			return BGW_EXIT_USAGE;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(listen_name[i], listen_name[j])) {
				scenario_free(&scn);
				return bad_usage("gateway '%s' given twice", listen_name[i]);
			}
	}
	/* One controller in a store with several gateways: the first one's. */
	if (!n_named && scn.n_gateways)
		scn.active_gateway = 0;
	log_set_program("beaconsim");
	log_init(verbose);

	int rc = 0;

	if (truth)
		rc = write_truth(&run, truth);
	if (rc == 0) {
		if (n_named)
			rc = run_site(&run, &scn, listen_name, listen_spec, n_named);
		else if (run.listen)
			rc = sim_run_live(&run);
		else if (run.btsnoop_path)
			rc = sim_run_offline(&run);
	}

	scenario_free(&scn);
	return rc;
}
