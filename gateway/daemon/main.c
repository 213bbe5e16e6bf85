/*
 * main.c - beacongw: command line, modes (--dump, --check-config, the full
 * run), signals, systemd notification and the event loop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bgw_exit.h"
#include "config.h"
#include "broker_dropin.h"
#include "config_audit.h"
#include "config_files.h"
#include "crypto_init.h"
#include "hci_event.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "report_json.h"
#include "run.h"
#include "scanner.h"
#include "service_notify.h"
#include "source.h"

#define STATUS_INTERVAL_MS 10000
/* After a replay: how long to wait for the broker to take the triggers. */
#define DRAIN_MS 5000
#define DRAIN_CHECK_MS 50

struct options {
	const char *config_path;
	bool config_given;
	const char *source;
	const char *db;
	bool once, check_config, dump, realtime, verbose, broker_dropin;
};

struct app {
	struct options opt;
	struct config cfg;
	struct source_spec spec;
	struct loop *loop;
	struct scanner *scanner;
	struct run *run;            /* NULL in --dump */
	struct metrics *metrics;    /* NULL unless [metrics] textfile is set */
	uint64_t start_ms;          /* monotonic, for the uptime */
	uint64_t start_time_s;
	int status;                 /* exit status once the loop ends */
	bool stopping;
	bool capture_clock;  /* a replay: time comes from the capture, per packet */
	uint64_t drain_deadline_ms;
	uint64_t dump_lines;
	char line[REPORT_JSON_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: beacongw [-c FILE] [--source SPEC] [--db FILE] [--once] [--check-config]\n"
		"                [--dump] [--realtime] [-v] [--version] [--help]\n"
		"\n"
		"Bluetooth LE proximity gateway: scans for beacons, recognises consented\n"
		"customers, records visits and publishes campaign triggers over MQTT.\n"
		"\n"
		"  -c, --config FILE   configuration file (default %s)\n"
		"      --source SPEC   hci:hciN | h4:unix:PATH | h4:tcp:HOST:PORT |\n"
		"                      h4:tty:DEVICE[@BAUD] | btsnoop:FILE\n"
		"                      (overrides [source] spec)\n"
		"      --db FILE       SQLite database (overrides [storage] db)\n"
		"      --once          with btsnoop:, process the capture, close visits,\n"
		"                      deliver or queue every trigger, then exit\n"
		"      --check-config  validate the configuration and the database, exit 0 or 78\n"
		"      --broker-drop-in  print the systemd drop-in that lets the service reach\n"
		"                      [mqtt] host when it is on a public address\n"
		"      --dump          print every advertising report as a JSON line instead of\n"
		"                      running the pipeline (no database, no MQTT)\n"
		"      --realtime      replay a capture at its recorded speed\n"
		"  -v, --verbose       debug logging\n"
		"      --version       print the version and exit\n"
		"  -h, --help          this help\n"
		"\n"
		"Exit status: 0 ok, 64 usage error, 65 bad input data, 69 service unavailable,\n"
		"78 configuration error.\n",
		CONFIG_DEFAULT_PATH);
}

enum { OPT_SOURCE = 256, OPT_DB, OPT_ONCE, OPT_CHECK, OPT_DUMP, OPT_REALTIME, OPT_VERSION,
       OPT_DROPIN };

/* 0 to go on, or an exit status (0 for --help/--version). */
static int parse_args(int argc, char **argv, struct options *o, bool *done)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "db", required_argument, NULL, OPT_DB },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "broker-drop-in", no_argument, NULL, OPT_DROPIN },
		{ "dump", no_argument, NULL, OPT_DUMP },
		{ "realtime", no_argument, NULL, OPT_REALTIME },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*done = false;
	o->config_path = CONFIG_DEFAULT_PATH;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config_path = optarg;
			o->config_given = true;
			break;
		case OPT_SOURCE: o->source = optarg; break;
		case OPT_DB: o->db = optarg; break;
		case OPT_ONCE: o->once = true; break;
		case OPT_CHECK: o->check_config = true; break;
		case OPT_DROPIN: o->broker_dropin = true; break;
		case OPT_DUMP: o->dump = true; break;
		case OPT_REALTIME: o->realtime = true; break;
		case 'v': o->verbose = true; break;
		case OPT_VERSION:
			printf("beacongw %s\n", BGW_VERSION);
			*done = true;
			return 0;
		case 'h':
			usage(stdout);
			*done = true;
			return 0;
		case ':':
			fprintf(stderr, "beacongw: option %s needs an argument\n",
				argv[optind - 1]);
			usage(stderr);
			return BGW_EXIT_USAGE;
		default:
			if (optopt)
				fprintf(stderr, "beacongw: unknown option -%c\n", optopt);
			else
				fprintf(stderr, "beacongw: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return BGW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "beacongw: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return BGW_EXIT_USAGE;
	}
	if (o->broker_dropin && (o->dump || o->once || o->check_config)) {
		fprintf(stderr, "beacongw: --broker-drop-in is a mode of its own\n");
		return BGW_EXIT_USAGE;
	}
	if (o->check_config && (o->dump || o->once)) {
		fprintf(stderr,
			"beacongw: --check-config cannot be combined with --dump or --once\n");
		return BGW_EXIT_USAGE;
	}
	return 0;
}

/* Read the configuration and apply the command-line overrides. 0 or 78. */
static int load_config(const struct options *o, struct config *cfg, struct source_spec *spec)
{
	char err[CONFIG_ERR_MAX];
	struct stat st;

	if (!o->config_given && stat(o->config_path, &st) < 0 && errno == ENOENT) {
		/* No config at all: built-in defaults (handy for --dump on a laptop). */
		config_defaults(cfg);
	} else if (config_load(cfg, o->config_path, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return BGW_EXIT_CONFIG;
	}
	if (o->source) {
		if (strlen(o->source) >= sizeof(cfg->source.spec)) {
			log_err("--source: too long");
			return BGW_EXIT_CONFIG;
		}
		snprintf(cfg->source.spec, sizeof(cfg->source.spec), "%s", o->source);
	}
	if (o->db) {
		if (!*o->db || strlen(o->db) >= sizeof(cfg->storage.db)) {
			log_err("--db: empty or too long");
			return BGW_EXIT_CONFIG;
		}
		snprintf(cfg->storage.db, sizeof(cfg->storage.db), "%s", o->db);
	}
	if (source_spec_parse(cfg->source.spec, spec, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return BGW_EXIT_CONFIG;
	}
	return 0;
}

/* ---- systemd ---- */

static void notify_status(struct app *a)
{
	char buf[512];
	const struct scanner_stats *st = scanner_get_stats(a->scanner);
	int n;

	n = snprintf(buf, sizeof(buf), "STATUS=source %s, %s, reports=%llu",
		     scanner_source_name(a->scanner),
		     controller_state_name(scanner_controller_state(a->scanner)),
		     (unsigned long long)st->reports);
	if (a->run && n > 0 && (size_t)n < sizeof(buf)) {
		buf[n++] = ' ';
		run_status(a->run, buf + n, sizeof(buf) - (size_t)n);
	}
	service_notify(buf);
}

static void on_status_timer(struct loop *l, int id, void *ctx)
{
	(void)l;
	(void)id;
	notify_status(ctx);
}

static void on_watchdog_timer(struct loop *l, int id, void *ctx)
{
	(void)l;
	(void)id;
	(void)ctx;
	/* Sent from the loop itself: a stuck loop stops feeding systemd. */
	service_notify("WATCHDOG=1");
}

static void setup_systemd(struct app *a)
{
	uint64_t usec = 0;

	if (service_watchdog_usec(&usec) > 0) {
		uint64_t ms = usec / 2000u;

		loop_timer_add(a->loop, ms ? ms : 1, ms ? ms : 1, on_watchdog_timer, a);
	}
	loop_timer_add(a->loop, STATUS_INTERVAL_MS, STATUS_INTERVAL_MS, on_status_timer, a);
}

/* ---- health metrics ---- */

static void fill_metrics(void *ctx, struct metrics_sample *m)
{
	struct app *a = ctx;
	const struct hci_event_stats *hs = scanner_parser_stats(a->scanner);
	const struct controller_stats *cs = scanner_controller_stats(a->scanner);
	const struct watchdog_stats *ws = scanner_watchdog_stats(a->scanner);

	m->version = BGW_VERSION;
	m->site = a->cfg.pipeline.site;
	m->gateway = a->cfg.pipeline.gateway;
	m->zone = a->cfg.pipeline.zone;
	m->uptime_s = (loop_now_ms() - a->start_ms) / 1000u;
	m->start_time_s = a->start_time_s;
	m->hci_events = hs->events;
	m->hci_malformed = hs->malformed;
	m->h4_garbage_bytes = scanner_garbage_bytes(a->scanner);
	m->controller_errors = cs->failed + cs->timeouts + cs->hw_errors;
	m->watchdog_rescans = ws->rescans;
	m->watchdog_resets = ws->resets;
	run_metrics(a->run, m);
}

static void start_metrics(struct app *a)
{
	if (a->run)
		a->metrics = metrics_new(a->loop, a->cfg.metrics.textfile,
					 a->cfg.metrics.interval_s, fill_metrics, a);
}

/* ---- scanner callbacks ---- */

static void on_report(void *ctx, const struct adv_report *r)
{
	struct app *a = ctx;
	size_t n;

	if (a->run) {
		run_report(a->run, r);
		return;
	}
	if (a->stopping)
		return;
	n = report_json_format(r, a->line, sizeof(a->line));
	if (n >= sizeof(a->line))
		n = sizeof(a->line) - 1;
	a->line[n] = '\n';
	if (fwrite(a->line, 1, n + 1, stdout) != n + 1) {
		/* The reader went away (e.g. "| head"): nothing left to do. */
		a->stopping = true;
		loop_stop(a->loop, 0);
		return;
	}
	a->dump_lines++;
}

static void on_clock(void *ctx, uint64_t ts_us)
{
	struct app *a = ctx;

	if (a->capture_clock)
		run_clock(a->run, ts_us);
}

static void on_stopped(void *ctx)
{
	struct app *a = ctx;

	loop_stop(a->loop, a->status);
}

static void begin_stop(struct app *a, int status)
{
	if (a->stopping)
		return;
	a->stopping = true;
	a->status = status;
	service_notify("STOPPING=1");
	scanner_stop(a->scanner);
}

/* End of a replay in a full run: give the publisher a moment to deliver. */
static void on_drain_check(struct loop *l, int id, void *ctx)
{
	struct app *a = ctx;

	(void)l;
	if (a->stopping)
		return;
	if (run_drained(a->run) || loop_now_ms() >= a->drain_deadline_ms) {
		if (!run_drained(a->run))
			log_notice("broker not reachable: triggers stay queued in the outbox");
		loop_timer_del(a->loop, id);
		begin_stop(a, 0);
	}
}

static void on_finished(void *ctx, int status)
{
	struct app *a = ctx;

	if (status == 0)
		log_info("end of %s source", scanner_source_name(a->scanner));
	if (status == 0 && a->run && !a->stopping) {
		run_flush(a->run, 0);
		a->drain_deadline_ms = loop_now_ms() + DRAIN_MS;
		if (loop_timer_add(a->loop, 0, DRAIN_CHECK_MS, on_drain_check, a) >= 0)
			return;
	}
	begin_stop(a, status);
}

static void reload(struct app *a)
{
	struct config cfg;
	struct source_spec spec;
	int rc;

	log_notice("SIGHUP: reloading the configuration");
	rc = load_config(&a->opt, &cfg, &spec);
	if (rc) {
		log_err("reload failed; keeping the running configuration");
		return;
	}
	if (strcmp(cfg.source.spec, a->cfg.source.spec) != 0 ||
	    strcmp(cfg.storage.db, a->cfg.storage.db) != 0)
		log_warn("reload: source and database changes take effect after a restart");
	a->cfg.pipeline = cfg.pipeline;
	a->cfg.delivery = cfg.delivery;
	if (memcmp(&cfg.metrics, &a->cfg.metrics, sizeof(cfg.metrics)) != 0) {
		/* Metrics hold no state of their own: start over with the new settings. */
		metrics_free(a->metrics);
		a->metrics = NULL;
		a->cfg.metrics = cfg.metrics;
		start_metrics(a);
	}
	if (a->run)
		run_reload(a->run, &a->cfg);
}

static void on_signal(struct loop *l, int signo, void *ctx)
{
	struct app *a = ctx;

	(void)l;
	if (signo == SIGHUP) {
		reload(a);
		return;
	}
	if (a->stopping) {
		/* Second signal: stop now. */
		loop_stop(a->loop, a->status);
		return;
	}
	log_notice("%s: stopping", signo == SIGINT ? "SIGINT" : "SIGTERM");
	begin_stop(a, 0);
}

static void print_warning(void *ctx, const char *msg)
{
	(void)ctx;
	printf("warning: %s\n", msg);
}

static void log_problem(void *ctx, const char *msg)
{
	(void)ctx;
	log_err("%s", msg);
}

/*
 * What start-up checks before it sets anything up, and all that
 * --check-config adds to parsing: the files the configuration names, read
 * as the daemon reads them (run it as the service's user to check the
 * permissions too). Every problem is logged; 0 or 78.
 */
static int check_files(const struct app *a)
{
	return config_check_files(&a->cfg, log_problem, NULL) ? BGW_EXIT_CONFIG : 0;
}

/*
 * The metrics file is written next to itself and renamed into place, so its
 * directory must exist and be writable by the service's user. Only a
 * warning: the daemon runs without metrics, and node_exporter (which makes
 * the directory) may be installed after the gateway.
 */
static uint32_t check_metrics_dir(const struct config *cfg)
{
	const char *file = cfg->metrics.textfile;
	const char *slash = strrchr(file, '/');
	char dir[CONFIG_PATH_MAX], msg[CONFIG_PATH_MAX + 160];
	struct stat sb;

	if (!*file)
		return 0;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (stat(dir, &sb) != 0)
		snprintf(msg, sizeof(msg), "[metrics] textfile: directory %s: %s; no metrics are "
			 "written until it exists", dir, strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		snprintf(msg, sizeof(msg), "[metrics] textfile: %s is not a directory", dir);
	else if (access(dir, W_OK | X_OK) != 0)
		snprintf(msg, sizeof(msg), "[metrics] textfile: directory %s is not writable by this "
			 "user (%s); run the check as the service's user", dir, strerror(errno));
	else
		return 0;
	print_warning(NULL, msg);
	return 1;
}

static int check_config(struct app *a)
{
	bool from_file = a->opt.config_given || access(a->opt.config_path, F_OK) == 0;
	struct audit_sink sink = { .warn = print_warning, .ctx = NULL };
	struct audit_counts n;
	uint32_t total;
	char err[512], missing[256], msg[1024];
	uint32_t extra = 0;
	int rc = check_files(a);

	/* The database too, even after a bad file: every problem at once. */
	if (run_check_db(&a->cfg, &sink, &n, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return BGW_EXIT_CONFIG;
	}
	if (rc)
		return rc;
	broker_dropin_missing(&a->cfg, BROKER_DROPIN_DIR, missing, sizeof(missing));
	if (*missing) {
		snprintf(msg, sizeof(msg), "[mqtt] host %s is on a public address (%s) that the "
			 "service's lockdown (IPAddressDeny=any) refuses, and no drop-in in %s "
			 "allows it: see 'beacongw --broker-drop-in' in beacongw(8)",
			 a->cfg.delivery.host, missing, BROKER_DROPIN_DIR);
		print_warning(NULL, msg);
		extra++;
	}
	extra += check_metrics_dir(&a->cfg);
	/* Findings are warnings: each row is valid, the daemon runs, but that
	 * part of it can never do what it says. */
	total = n.store_namespace_ids + n.channelless_consents + n.idle_campaigns + extra;
	if (total)
		printf("configuration OK with %u warning(s) (%s)\n", total,
		       from_file ? a->opt.config_path : "built-in defaults");
	else
		printf("configuration OK (%s)\n",
		       from_file ? a->opt.config_path : "built-in defaults");
	return 0;
}

/* The radio driver takes only its own settings, not the whole config. */
static void scanner_settings_from_config(const struct config *cfg, struct scanner_settings *ss)
{
	static const enum controller_ext ext[] = {
		[CONFIG_AUTO] = CTRL_EXT_AUTO, [CONFIG_ON] = CTRL_EXT_ON, [CONFIG_OFF] = CTRL_EXT_OFF,
	};
	static const enum scanner_reset reset[] = {
		[CONFIG_AUTO] = SCANNER_RESET_AUTO, [CONFIG_ON] = SCANNER_RESET_ON,
		[CONFIG_OFF] = SCANNER_RESET_OFF,
	};

	*ss = (struct scanner_settings){
		.active = cfg->source.scan == CONFIG_SCAN_ACTIVE,
		.interval_ms = cfg->source.interval_ms,
		.window_ms = cfg->source.window_ms,
		.extended = ext[cfg->source.extended],
		.reset = reset[cfg->source.reset],
		.command_timeout_ms = cfg->source.command_timeout_ms,
		.watchdog = {
			.silence_s = cfg->source.watchdog_silence_s,
			.rescan_tries = cfg->source.watchdog_rescan_tries,
			.reset_tries = cfg->source.watchdog_reset_tries,
			.error_limit = cfg->source.watchdog_error_limit,
		},
	};
}

static int run(struct app *a)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP };
	struct scanner_settings ss;
	struct scanner_callbacks cb = {
		.ctx = a, .report = on_report, .clock = on_clock,
		.finished = on_finished, .stopped = on_stopped,
	};
	char err[512];
	int rc;

	if (a->opt.once && a->spec.kind != SOURCE_BTSNOOP) {
		log_err("--once needs a finite source (btsnoop:FILE)");
		return BGW_EXIT_USAGE;
	}
	a->loop = loop_new();
	if (!a->loop || loop_add_signals(a->loop, signals, 3, on_signal, a) < 0) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		return BGW_EXIT_UNAVAILABLE;
	}
	if (!a->opt.dump) {
		a->run = run_new(a->loop, &a->cfg, a->spec.kind == SOURCE_BTSNOOP, err,
				 sizeof(err), &rc);
		if (!a->run) {
			log_err("%s", err);
			return rc;
		}
	}
	scanner_settings_from_config(&a->cfg, &ss);
	a->scanner = scanner_new(a->loop, &ss, &a->spec, a->opt.realtime, &cb);
	if (!a->scanner) {
		log_err("out of memory");
		return BGW_EXIT_UNAVAILABLE;
	}
	a->capture_clock = a->run && scanner_is_finite(a->scanner);
	if (a->run)
		run_set_scanner(a->run, a->scanner);
	rc = scanner_start(a->scanner, err, sizeof(err));
	if (rc) {
		log_err("source: %s", err);
		return rc;
	}
	if (a->opt.dump && !scanner_is_finite(a->scanner))
		setvbuf(stdout, NULL, _IOLBF, 0);
	setup_systemd(a);
	start_metrics(a);
	log_info("started: source %s%s", scanner_source_name(a->scanner),
		 a->opt.dump ? " (dump)" : "");
	service_notify("READY=1");
	notify_status(a);
	rc = loop_run(a->loop);
	if (rc < 0) {
		log_err("event loop failed: %s", strerror(-rc));
		rc = BGW_EXIT_UNAVAILABLE;
	}
	if (a->run)
		run_stop(a->run, rc == 0 ? 2000 : 500);
	/* The last counts, marked stopped (beacongw_up 0). */
	metrics_final(a->metrics);
	if (fflush(stdout) != 0 && rc == 0 && errno != EPIPE)
		rc = BGW_EXIT_UNAVAILABLE;
	return rc;
}

int main(int argc, char **argv)
{
	static struct app app;  /* big (line buffer): not on the stack */
	bool done;
	int rc;

	/* First of all: the memory will hold identifiers of devices nobody
	 * consented for and the MQTT password. Non-dumpable: no core file, no
	 * ptrace or /proc/PID/mem by other processes of the same user. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* SQLite's memory statistics (unused here) take a process-wide mutex
	 * around every allocation; the library is built without lookaside, so a
	 * statement's cursors are malloc'd and freed on every step. Off before
	 * SQLite is first used: ~80 instructions per report of a busy store. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	rc = parse_args(argc, argv, &app.opt, &done);
	if (rc || done)
		return rc;
	log_init(app.opt.verbose);
	/* A closed pipe or socket is an error code, not a killing signal. */
	signal(SIGPIPE, SIG_IGN);
	rc = load_config(&app.opt, &app.cfg, &app.spec);
	if (rc)
		return rc;
	if (app.cfg.allow_core_dumps) {
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		log_notice("[gateway] allow_core_dumps: this process may be dumped; a core file "
			   "holds device identifiers and the MQTT password");
	}
	/* The configuration is read: only now is it known whether OpenSSL's
	 * error strings can be of use, and nothing has used OpenSSL yet
	 * unless the configuration names its files. */
	crypto_init(&app.cfg);
	if (app.opt.check_config)
		return check_config(&app);
	if (app.opt.broker_dropin) {
		char err[512];

		rc = broker_dropin_write(&app.cfg, stdout, err, sizeof(err));
		if (rc)
			log_err("%s", err);
		return rc;
	}
	if (!app.opt.dump && (rc = check_files(&app)))
		return rc;
	app.start_ms = loop_now_ms();
	app.start_time_s = (uint64_t)time(NULL);
	rc = run(&app);
	metrics_free(app.metrics);
	if (app.run)
		run_free(app.run);
	if (app.scanner)
		scanner_free(app.scanner);
	loop_free(app.loop);
	log_flush_all_suppressed();
	return rc;
}
