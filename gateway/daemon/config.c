/*
 * config.c - the key table and the inih handler that applies it.
 */
#include "config.h"
#include "bgw_util.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const scan_choices[] = { "passive", "active", NULL };
static const char *const tristate_choices[] = { "auto", "on", "off", NULL };

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define NOLIM 0, 0

static const struct config_key keys[] = {
	/* [gateway] */
	{ "gateway", "site", CFG_NAME, F(pipeline.site), NOLIM, NULL, "site",
	  "Site (store) name: the second MQTT topic level.", 0 },
	{ "gateway", "id", CFG_NAME, F(pipeline.gateway), NOLIM, NULL, "gw",
	  "This gateway's name within the site: the third MQTT topic level.", 0 },
	{ "gateway", "zone", CFG_NAME, F(pipeline.zone), NOLIM, NULL, "entrance",
	  "Zone this gateway covers (campaigns select zones).", 0 },
	{ "gateway", "allow_core_dumps", CFG_BOOL, F(allow_core_dumps), NOLIM, NULL, "no",
	  "Let the daemon be dumped (core files, ptrace by the same user) for debugging. Off: "
	  "its memory holds identifiers and the MQTT password, so it makes itself "
	  "non-dumpable at start.", 0 },

	/* [source] */
	{ "source", "spec", CFG_STRING, F(source.spec), NOLIM, NULL, "hci:hci0",
	  "Where advertising reports come from: hci:hciN, h4:unix:PATH, h4:tcp:HOST:PORT, "
	  "h4:tty:DEVICE[@BAUD] or btsnoop:FILE (--source overrides).", 0 },
	{ "source", "scan", CFG_ENUM, F(source.scan), NOLIM, scan_choices, "passive",
	  "passive listens only; active also asks for scan responses.", 0 },
	{ "source", "interval_ms", CFG_UINT, F(source.interval_ms), 3, 10240, NULL, "100",
	  "Scan interval in milliseconds (3..10240).", 0 },
	{ "source", "window_ms", CFG_UINT, F(source.window_ms), 3, 10240, NULL, "100",
	  "Scan window in milliseconds, at most interval_ms (equal = scan all the time).", 0 },
	{ "source", "extended", CFG_ENUM, F(source.extended), NOLIM, tristate_choices, "auto",
	  "Extended scanning: auto (when the controller supports it), on (required), off.", 0 },
	{ "source", "reset", CFG_ENUM, F(source.reset), NOLIM, tristate_choices, "auto",
	  "Send HCI Reset before setup: auto = yes for h4:, no for hci: (the kernel owns it).", 0 },
	{ "source", "command_timeout_ms", CFG_UINT, F(source.command_timeout_ms), 100, 60000, NULL,
	  "2000", "How long to wait for the controller to answer one HCI command.", 0 },
	{ "source", "watchdog_silence_s", CFG_UINT, F(source.watchdog_silence_s), 0, 86400, NULL,
	  "60", "Seconds without any advertising report while scanning before the watchdog acts "
	  "(0 = never). Where nothing may advertise for long (a closed store at night), raise "
	  "it or set 0.", 0 },
	{ "source", "watchdog_rescan_tries", CFG_UINT, F(source.watchdog_rescan_tries), 0, 100,
	  NULL, "2", "Watchdog step 1: how many times to re-enable the scan.", 0 },
	{ "source", "watchdog_reset_tries", CFG_UINT, F(source.watchdog_reset_tries), 0, 100, NULL,
	  "1", "Watchdog step 2: how many times to reset and set up the controller again; "
	  "after that the daemon exits with status 69 so systemd restarts it.", 0 },
	{ "source", "watchdog_error_limit", CFG_UINT, F(source.watchdog_error_limit), 1, 1000,
	  NULL, "5", "Controller errors (failed commands, hardware errors, timeouts) in a row "
	  "that count as one watchdog step.", 0 },

	/* [storage] */
	{ "storage", "db", CFG_PATH, F(storage.db), NOLIM, NULL, "/var/lib/beacongw/beacongw.db",
	  "The SQLite database shared with beaconctl (--db overrides).", 0 },
	{ "storage", "visit_retention_days", CFG_UINT, F(storage.visit_retention_days), 1, 3650,
	  NULL, "30", "Visits older than this many days are deleted.", 0 },
	{ "storage", "poll_ms", CFG_UINT, F(storage.poll_ms), 100, 10000, NULL, "500",
	  "How often to look for database changes (a consent withdrawal takes effect within "
	  "this time).", 0 },

	/* [mqtt], [outbox], [consent]: values parsed by the delivery part */
	{ "mqtt", "host", CFG_DELEGATE, 0, 0, NOLIM, NULL, "127.0.0.1",
	  "Broker host name or address. A broker off loopback needs TLS.", 0 },
	{ "mqtt", "port", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "Broker port; unset = 1883, or 8883 with TLS.", 0 },
	{ "mqtt", "client_id", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "MQTT client id; empty = SITE-ID.", 0 },
	{ "mqtt", "topic_prefix", CFG_DELEGATE, 0, 0, NOLIM, NULL, "beacongw/v1",
	  "Topics are PREFIX/SITE/ID/trigger, .../status, .../footfall, .../beacons.", 0 },
	{ "mqtt", "keepalive", CFG_DELEGATE, 0, 0, NOLIM, NULL, "30",
	  "Keep-alive interval in seconds (5..65535).", 0 },
	{ "mqtt", "username", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "User name for password authentication.", 0 },
	{ "mqtt", "password_file", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "File whose first line is the password (never put it in this file).", 0 },
	{ "mqtt", "password_file_insecure_ok", CFG_BOOL, F(password_file_insecure_ok), NOLIM,
	  NULL, "no", "Accept a password_file that its group or others may read or write "
	  "(refused by default, exit 78: make it 0600, owned by the service's user).", 0 },
	{ "mqtt", "cafile", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "CA certificates (PEM): enables TLS with certificate verification.", 0 },
	{ "mqtt", "capath", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "Directory of CA certificates: enables TLS like cafile.", 0 },
	{ "mqtt", "certfile", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "Client certificate (PEM) for TLS client authentication, with keyfile.", 0 },
	{ "mqtt", "keyfile", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "Private key (PEM) of certfile.", 0 },
	{ "mqtt", "tls_required", CFG_DELEGATE, 0, 0, NOLIM, NULL, "auto",
	  "auto (TLS unless the broker is on loopback), yes or no.", 0 },
	{ "mqtt", "message_expiry", CFG_DELEGATE, 0, 0, NOLIM, NULL, "900",
	  "MQTT v5 expiry of trigger messages in seconds (0 = none).", 0 },
	{ "mqtt", "session_expiry", CFG_DELEGATE, 0, 0, NOLIM, NULL, "86400",
	  "MQTT v5 session expiry in seconds.", 0 },
	{ "mqtt", "max_inflight", CFG_DELEGATE, 0, 0, NOLIM, NULL, "20",
	  "QoS 1 messages awaiting PUBACK at once (1..1000).", 0 },
	{ "mqtt", "reconnect_min", CFG_DELEGATE, 0, 0, NOLIM, NULL, "1",
	  "First reconnect delay in seconds (doubles up to reconnect_max).", 0 },
	{ "mqtt", "reconnect_max", CFG_DELEGATE, 0, 0, NOLIM, NULL, "60",
	  "Longest reconnect delay in seconds.", 0 },
	{ "mqtt", "connect_timeout", CFG_DELEGATE, 0, 0, NOLIM, NULL, "10",
	  "Seconds allowed for a connection attempt.", 0 },
	{ "mqtt", "sync_timeout", CFG_DELEGATE, 0, 0, NOLIM, NULL, "10",
	  "Seconds to wait for the consent sync marker after a connect before sending another "
	  "(no trigger is published until it comes back).", 0 },
	{ "mqtt", "status_interval", CFG_DELEGATE, 0, 0, NOLIM, NULL, "60",
	  "How often the retained status message is refreshed (seconds).", 0 },
	{ "mqtt", "protocol", CFG_DELEGATE, 0, 0, NOLIM, NULL, "5",
	  "MQTT protocol: 5, or 3.1.1 for old brokers (5 falls back to 3.1.1).", 0 },
	{ "outbox", "max", CFG_DELEGATE, 0, 0, NOLIM, NULL, "10000",
	  "Triggers kept while the broker is unreachable; beyond this the oldest are "
	  "dropped.", 0 },
	{ "outbox", "late_after", CFG_DELEGATE, 0, 0, NOLIM, NULL, "60",
	  "Triggers older than this (seconds) when published are marked delivered_late.", 0 },
	{ "outbox", "pending_max", CFG_DELEGATE, 0, 0, NOLIM, NULL, "4096",
	  "Triggers, and visit changes, held in memory while the database is busy; beyond "
	  "it the oldest are dropped and counted. A writable database takes larger bursts in "
	  "slices and drops nothing.", 0 },
	{ "consent", "public_key", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "Ed25519 public key (PEM) of the backend that signs consent updates; empty = "
	  "updates over MQTT are ignored.", 0 },
	{ "consent", "max_bytes", CFG_DELEGATE, 0, 0, NOLIM, NULL, "8192",
	  "Largest consent update message accepted.", 0 },
	{ "consent", "queue_max", CFG_DELEGATE, 0, 0, NOLIM, NULL, "256",
	  "Verified consent updates kept in memory, in order, while the database is locked; "
	  "beyond that the gateway disconnects and the rest wait in the broker (1..65536).", 0 },
	{ "consent", "fleet", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "Fleet id of the beaconhub this gateway follows (docs/fleet.md); empty = single "
	  "signed updates as before.", 0 },
	{ "consent", "public_key_next", CFG_DELEGATE, 0, 0, NOLIM, NULL, "",
	  "A second trusted hub key, during a key rotation.", 0 },
	{ "consent", "max_staleness_s", CFG_DELEGATE, 0, 0, NOLIM, NULL, "900",
	  "With a fleet: act on nobody when no valid head from the hub is younger than this "
	  "(seconds).", 0 },

	/* [presence] */
	{ "presence", "rssi_alpha_up", CFG_REAL, F(pipeline.rssi_alpha_up), 0.001, 1, NULL, "0.5",
	  "Obsolete, accepted and ignored: the RSSI level is now the median of recent "
	  "readings (an average that trusts rises kept distant tags in).", 0 },
	{ "presence", "rssi_alpha_down", CFG_REAL, F(pipeline.rssi_alpha_down), 0.001, 1, NULL,
	  "0.15", "Obsolete, accepted and ignored (see rssi_alpha_up).", 0 },
	{ "presence", "path_loss_exponent", CFG_REAL, F(pipeline.path_loss_exponent), 1, 6, NULL,
	  "2.0", "Path loss exponent of the proximity estimate (2 = free space).", 0 },
	{ "presence", "default_power_1m_dbm", CFG_INT, F(pipeline.default_power_1m), -127, 20,
	  NULL, "-59", "RSSI at 1 m for frames that carry no calibrated power.", 0 },
	{ "presence", "enter_rssi_dbm", CFG_INT, F(pipeline.enter_rssi), -127, 20, NULL, "-75",
	  "RSSI a sighting must reach to count towards entering.", 0 },
	{ "presence", "enter_confirmations", CFG_UINT, F(pipeline.enter_confirmations), 1, 16,
	  NULL, "3", "Sightings needed to confirm an entry, whose median must reach "
	  "enter_rssi_dbm ...", 0 },
	{ "presence", "enter_window_s", CFG_UINT, F(pipeline.enter_window_s), 1, 3600, NULL, "10",
	  "... within this many seconds.", 0 },
	{ "presence", "exit_rssi_dbm", CFG_INT, F(pipeline.exit_rssi), -127, 20, NULL, "-85",
	  "A median RSSI below this (at most enter_rssi_dbm: the gap is the hysteresis) ...", 0 },
	{ "presence", "exit_below_s", CFG_UINT, F(pipeline.exit_below_s), 1, 86400, NULL, "15",
	  "... over the readings of the last this many seconds ends the visit.", 0 },
	{ "presence", "absence_timeout_s", CFG_UINT, F(pipeline.absence_timeout_s), 1, 86400, NULL,
	  "30", "No sighting for this many seconds ends the visit.", 0 },
	{ "presence", "dwell_marks_s", CFG_UINT_LIST, F(pipeline.dwell_marks_s), 1, 86400, NULL,
	  "60,300,900", "Dwell events are reported when a visit reaches each of these "
	  "durations (ascending, at most 8). Dwell campaigns fire at their own --min-dwell, "
	  "not at these marks.", offsetof(struct config, pipeline.n_dwell_marks) },
	{ "presence", "max_tracked", CFG_UINT, F(pipeline.max_tracked), 1, 16777216, NULL, "4096",
	  "Consented devices tracked at once; beyond this the stalest is evicted.", 0 },
	{ "presence", "max_campaign_state", CFG_UINT, F(pipeline.max_campaign_state), 16, 16777216,
	  NULL, "16384", "Customer/campaign pairs whose cooldown and daily cap are kept in "
	  "memory.", 0 },

	/* [visits] */
	{ "visits", "publish", CFG_BOOL, F(visits.publish), NOLIM, NULL, "no",
	  "Publish each closed visit of a presence-consented customer to "
	  "PREFIX/SITE/ID/visit through the durable outbox (QoS 1), for the CRM.", 0 },

	/* [site] */
	{ "site", "enabled", CFG_BOOL, F(pipeline.site_enabled), NOLIM, NULL, "no",
	  "Share presence with the other gateways of the same [gateway] site over the broker, "
	  "so that a shopper is in one zone at a time and caps hold across the site. Off: this "
	  "gateway decides alone.", 0 },
	{ "site", "margin_db", CFG_REAL, F(pipeline.site_margin_db), 0, 40, NULL, "6",
	  "A gateway takes a shopper over from the one that holds them only when it hears them "
	  "this many dB stronger (the mean of the last 2 s against the holder's, at the same "
	  "moment) ...", 0 },
	{ "site", "hold_s", CFG_UINT, F(pipeline.site_hold_s), 0, 3600, NULL, "2",
	  "... again and again over this many seconds, staying the stronger (also how long a "
	  "gateway must be the strongest before it takes a shopper nobody holds, when peers "
	  "hear them too). The new zone's visit starts where the levels crossed.", 0 },
	{ "site", "peer_timeout_s", CFG_UINT, F(pipeline.site_peer_timeout_s), 2, 3600, NULL,
	  "10", "A peer not heard from for this long holds nobody: the others take its shoppers "
	  "over.", 0 },
	{ "site", "summary_ms", CFG_UINT, F(pipeline.site_summary_ms), 200, 60000, NULL, "1000",
	  "How often this gateway publishes what it hears of consented shoppers to its peers "
	  "(at most peer_timeout_s / 2).", 0 },

	/* [campaigns] */
	{ "campaigns", "contact_max", CFG_UINT, F(pipeline.contact_max), 0, 32, NULL, "0",
	  "Triggers one customer may get from all campaigns together within contact_period_s, "
	  "counted across the site (0 = no limit).", 0 },
	{ "campaigns", "contact_period_s", CFG_UINT, F(pipeline.contact_period_s), 60, 604800,
	  NULL, "3600", "The period of contact_max, in seconds (a sliding window).", 0 },
	{ "campaigns", "quiet_hours", CFG_STRING, F(pipeline.quiet_hours), NOLIM, NULL, "",
	  "HH:MM-HH:MM (local time, may wrap past midnight): no trigger of any campaign in this "
	  "window; visits go on. Empty = none.", 0 },

	/* [footfall] */
	{ "footfall", "period_s", CFG_UINT, F(pipeline.footfall_period_s), 60, 86400, NULL, "900",
	  "Length of an anonymous footfall period (the hashing key rotates each period).", 0 },
	{ "footfall", "min_count", CFG_UINT, F(pipeline.footfall_min_count), 1, 1000000, NULL, "5",
	  "Periods with fewer distinct devices are withheld (not published at all): a count of 1 "
	  "at night is one person.", 0 },
	{ "footfall", "min_rssi_dbm", CFG_INT, F(pipeline.footfall_min_rssi), -127, 20, NULL,
	  "-100", "Weaker reports are not counted (devices outside the store).", 0 },

	/* [identity] */
	{ "identity", "eid_tolerance", CFG_UINT, F(pipeline.eid_tolerance), 0, 8, NULL, "1",
	  "Eddystone-EID periods accepted either side of the current one (tag clock drift).", 0 },
	{ "identity", "irk_cache_size", CFG_UINT, F(pipeline.irk_cache_size), 4, 16777216, NULL,
	  "65536", "The most resolvable private addresses the IRK result cache may remember (resolved or not, 16 bytes each); it grows to this from 4096 while addresses still being heard are pushed out.", 0 },
	{ "identity", "irk_threads", CFG_UINT, F(pipeline.irk_threads), 0, 16, NULL, "0",
	  "Worker threads that search new resolvable private addresses through the IRKs, off the event loop (0: inline). On a multi-core Pi with many enrolled IRKs, one less than the cores.", 0 },

	/* [beacons] */
	{ "beacons", "store_namespaces", CFG_NS_LIST, F(pipeline.store_namespaces), NOLIM, NULL,
	  "", "Eddystone-UID namespaces (20 hex digits, comma-separated, at most 8) of the "
	  "store's own fixed beacons, whose TLM health is published.",
	  offsetof(struct config, pipeline.n_store_namespaces) },
	{ "beacons", "health_interval_s", CFG_UINT, F(pipeline.beacon_health_interval_s), 1, 86400,
	  NULL, "300", "At most one health message per fixed beacon per this many seconds.", 0 },
	{ "beacons", "missing_after_s", CFG_UINT, F(pipeline.beacon_missing_after_s), 10, 604800,
	  NULL, "900", "A registered store beacon (beaconctl beacon add) not heard for this many "
	  "seconds is reported missing.", 0 },
	{ "beacons", "low_battery_mv", CFG_UINT, F(pipeline.beacon_low_battery_mv), 0, 65535, NULL,
	  "2500", "A registered store beacon whose Eddystone-TLM battery reading is below this "
	  "(millivolts) is reported low_battery (0 = never).", 0 },
	{ "beacons", "max_store_beacons", CFG_UINT, F(pipeline.max_store_beacons), 0, 65536, NULL,
	  "256", "Fixed beacons tracked for health.", 0 },

	/* [metrics] */
	{ "metrics", "textfile", CFG_PATH, F(metrics.textfile), NOLIM, NULL, "",
	  "File for node_exporter's textfile collector, ending in .prom (e.g. "
	  "/var/lib/prometheus/node-exporter/beacongw.prom); empty = no metrics.", 0 },
	{ "metrics", "interval_s", CFG_UINT, F(metrics.interval_s), 1, 3600, NULL, "15",
	  "How often the metrics file is rewritten (seconds).", 0 },
};

#define N_KEYS (BGW_ARRAY_SIZE(keys))

const struct config_key *config_keys(size_t *n)
{
	*n = N_KEYS;
	return keys;
}

static int config_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int config_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_ll(const char *v, long long *out)
{
	char *end;

	errno = 0;
	if (!*v || isspace((unsigned char)*v))
		return -1;
	*out = strtoll(v, &end, 10);
	return errno || *end ? -1 : 0;
}

static bool name_ok(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '.' && *v != '_' && *v != '-')
			return false;
	return true;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static void store_int(void *field, size_t size, long long n)
{
	switch (size) {
	case 1: { uint8_t v = (uint8_t)n; memcpy(field, &v, 1); break; }
	case 2: { uint16_t v = (uint16_t)n; memcpy(field, &v, 2); break; }
	default: { uint32_t v = (uint32_t)n; memcpy(field, &v, 4); break; }
	}
}

static void trim(char **tok)
{
	char *e;

	while (isspace((unsigned char)**tok))
		(*tok)++;
	for (e = *tok + strlen(*tok); e > *tok && isspace((unsigned char)e[-1]);)
		*--e = '\0';
}

/* A comma-separated list; each element parsed into list slot i. */
static int apply_list(struct config *cfg, const struct config_key *k, const char *v, char *err,
		      size_t errlen)
{
	void *field = (char *)cfg + k->offset;
	size_t elem = k->type == CFG_NS_LIST ? 10 : sizeof(uint32_t);
	size_t cap = k->size / elem, used = 0;
	char buf[512], *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		return config_error(err, errlen, "%s: too long", k->name);
	memcpy(buf, v, strlen(v) + 1);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		trim(&tok);
		if (used == cap)
			return config_error(err, errlen, "%s: more than %zu values", k->name, cap);
		if (k->type == CFG_NS_LIST) {
			uint8_t *ns = (uint8_t *)field + used * 10;

			if (!bgw_hex_decode(tok, strlen(tok), ns, 10, NULL))
				return config_error(err, errlen, "%s: '%s' is not 20 hex digits", k->name,
					    tok);
		} else {
			uint32_t *list = field;
			long long n;

			if (parse_ll(tok, &n) < 0 || n < k->min || n > k->max)
				return config_error(err, errlen, "%s: '%s' is not a number in %g..%g",
					    k->name, tok, k->min, k->max);
			if (used && (uint32_t)n <= list[used - 1])
				return config_error(err, errlen, "%s: values must increase", k->name);
			list[used] = (uint32_t)n;
		}
		used++;
	}
	*((uint8_t *)cfg + k->count_offset) = (uint8_t)used;
	return 0;
}

/* Store one value; on error a reason (without file/line) goes to err. */
static int apply(struct config *cfg, const struct config_key *k, const char *v, char *err,
		 size_t errlen)
{
	void *field = (char *)cfg + k->offset;
	long long n;

	switch (k->type) {
	case CFG_NAME:
		if (!name_ok(v))
			return config_error(err, errlen, "%s: '%s' must be letters, digits, '.', "
				    "'_' or '-'", k->name, v);
		/* fall through */
	case CFG_STRING:
	case CFG_PATH:
		if (strlen(v) >= k->size)
			return config_error(err, errlen, "%s: longer than %zu characters", k->name,
				    k->size - 1);
		memcpy(field, v, strlen(v) + 1);
		return 0;
	case CFG_UINT:
	case CFG_INT:
		if (parse_ll(v, &n) < 0)
			return config_error(err, errlen, "%s: '%s' is not a whole number", k->name, v);
		if (n < k->min || n > k->max)
			return config_error(err, errlen, "%s: %lld is outside %g..%g", k->name, n, k->min,
				    k->max);
		store_int(field, k->size, n);
		return 0;
	case CFG_REAL: {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (!*v || errno || *end || !isfinite(d))
			return config_error(err, errlen, "%s: '%s' is not a number", k->name, v);
		if (d < k->min || d > k->max)
			return config_error(err, errlen, "%s: %s is outside %g..%g", k->name, v, k->min,
				    k->max);
		if (k->size == sizeof(float)) {
			float f = (float)d;

			memcpy(field, &f, sizeof(f));
		} else {
			memcpy(field, &d, sizeof(d));
		}
		return 0;
	}
	case CFG_BOOL:
		if (parse_bool(v, (bool *)field) < 0)
			return config_error(err, errlen, "%s: '%s' is not yes or no", k->name, v);
		return 0;
	case CFG_ENUM:
		for (int i = 0; k->choices[i]; i++) {
			if (strcmp(v, k->choices[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
		}
		return config_error(err, errlen, "%s: '%s' is not one of the allowed values", k->name, v);
	case CFG_UINT_LIST:
	case CFG_NS_LIST:
		return apply_list(cfg, k, v, err, errlen);
	case CFG_DELEGATE: {
		int rc = delivery_config_set(&cfg->delivery, k->section, k->name, v, err, errlen);

		if (rc == 1)
			return 0;
		if (rc == 0)   /* the table and the delivery part disagree: say so */
			return config_error(err, errlen, "%s: not a key of the delivery part", k->name);
		return -1;
	}
	}
	return config_error(err, errlen, "%s: unsupported type", k->name);
}

/* The delivery part names topics after the gateway: one source of truth. */
static void sync_gateway_names(struct config *cfg)
{
	snprintf(cfg->delivery.site, sizeof(cfg->delivery.site), "%s", cfg->pipeline.site);
	snprintf(cfg->delivery.gateway, sizeof(cfg->delivery.gateway), "%s",
		 cfg->pipeline.gateway);
}

void config_defaults(struct config *cfg)
{
	char err[CONFIG_ERR_MAX];

	memset(cfg, 0, sizeof(*cfg));
	delivery_config_defaults(&cfg->delivery);
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *def = keys[i].def ? keys[i].def : "";

		if (keys[i].type == CFG_DELEGATE)
			continue;
		/* The unit tests check that every default parses and that they
		 * agree with pipeline_config_defaults(). */
		apply(cfg, &keys[i], def, err, sizeof(err));
	}
	sync_gateway_names(cfg);
}

_Static_assert(N_KEYS <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

struct parse_ctx {
	struct config *cfg;
	int line;               /* of the line inih is on: the reader counts them */
	FILE *f;                /* the file, or ... */
	const char *text;       /* ... the string being parsed */
	bool seen[N_KEYS];
	char reason[CONFIG_ERR_MAX];
	bool failed;
};

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	char reason[CONFIG_ERR_MAX];
	bool section_known = false;

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct config_key *k = &keys[i];

		if (strcmp(k->section, section) != 0)
			continue;
		section_known = true;
		if (strcmp(k->name, name) != 0)
			continue;
		if (ctx->seen[i]) {
			snprintf(reason, sizeof(reason), "[%s] %s given twice", section, name);
			goto error;
		}
		ctx->seen[i] = true;
		ctx->cfg->key_line[i] = ctx->line > 0 && ctx->line <= UINT16_MAX ? (uint16_t)ctx->line : 0;
		if (apply(ctx->cfg, k, value, reason, sizeof(reason)) == 0)
			return 1;
		goto error;
	}
	if (!*section)
		snprintf(reason, sizeof(reason), "key '%s' outside any section", name);
	else if (!section_known)
		snprintf(reason, sizeof(reason), "unknown section [%s]", section);
	else
		snprintf(reason, sizeof(reason), "unknown key '%s' in [%s]", name, section);
error:
	/* inih reports the line of the FIRST error, so keep the first reason. */
	if (!ctx->failed) {
		ctx->failed = true;
		memcpy(ctx->reason, reason, sizeof(reason));
	}
	return 0;
}

/*
 * inih returns the line of the first error but keeps parsing; stopping
 * there keeps the reason recorded by the handler and the line together
 * (a syntax error comes with no handler call, so no reason).
 */
static void parse_setup(void)
{
	ini_stop_on_first_error = true;
	/* "port = 8883   # TLS" is how people annotate INI files, the docs
	 * included: a ';' or '#' after whitespace starts a comment. (A value
	 * cannot hold " #" or " ;"; no key needs it.) */
	ini_inline_comment_prefixes = ";#";
}

/* inih's reader: one line from the file or the string, counted, so the
 * handler knows which line a key is on (for messages that come later). */
static char *read_line(char *buf, int n, void *stream)
{
	struct parse_ctx *ctx = stream;
	size_t len;
	const char *nl;

	if (ctx->f) {
		if (!fgets(buf, n, ctx->f))
			return NULL;
	} else {
		if (!*ctx->text)
			return NULL;
		nl = strchr(ctx->text, '\n');
		len = nl ? (size_t)(nl - ctx->text) + 1 : strlen(ctx->text);
		if (len > (size_t)n - 1)
			len = (size_t)n - 1;
		memcpy(buf, ctx->text, len);
		buf[len] = '\0';
		ctx->text += len;
	}
	/* A line longer than the buffer comes in pieces: count it once. */
	if (strchr(buf, '\n') || (ctx->f ? feof(ctx->f) : !*ctx->text))
		ctx->line++;
	return buf;
}

static int parse(struct parse_ctx *ctx)
{
	ctx->line = 0;
	parse_setup();
	return ini_parse_stream(read_line, ctx, handler, ctx);
}

static int finish(struct parse_ctx *ctx, int rc, const char *name, char *err, size_t errlen)
{
	sync_gateway_names(ctx->cfg);
	if (rc == -1)
		return config_error(err, errlen, "%s: cannot open: %s", name, strerror(errno));
	if (rc == -2)
		return config_error(err, errlen, "%s: out of memory", name);
	if (rc > 0) {
		if (ctx->failed)
			return config_error(err, errlen, "%s:%d: %s", name, rc, ctx->reason);
		return config_error(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
			    name, rc);
	}
	/* A rule about one key starts with its line ("12: ..."): FILE:12: ... */
	if (config_validate(ctx->cfg, ctx->reason, sizeof(ctx->reason)) < 0)
		return config_error(err, errlen, isdigit((unsigned char)ctx->reason[0]) ? "%s:%s" :
				    "%s: %s", name, ctx->reason);
	return 0;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct parse_ctx *ctx = calloc(1, sizeof(*ctx));
	FILE *f;
	int rc;

	if (!ctx)
		return config_error(err, errlen, "%s: out of memory", path);
	config_defaults(cfg);
	ctx->cfg = cfg;
	f = fopen(path, "re");
	if (!f) {
		rc = config_error(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		free(ctx);
		return rc;
	}
	ctx->f = f;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	rc = finish(ctx, parse(ctx), path, err, errlen);
	fclose(f);
	free(ctx);
	return rc;
}

int config_load_string(struct config *cfg, const char *text, const char *name, char *err,
		       size_t errlen)
{
	struct parse_ctx *ctx = calloc(1, sizeof(*ctx));
	int rc;

	if (!ctx)
		return config_error(err, errlen, "%s: out of memory", name);
	config_defaults(cfg);
	ctx->cfg = cfg;
	ctx->text = text;
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	rc = finish(ctx, parse(ctx), name, err, errlen);
	free(ctx);
	return rc;
}

unsigned config_key_line(const struct config *cfg, const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return cfg->key_line[i];
	return 0;
}

/* node_exporter reads only *.prom files: any other name would be silently ignored. */
static int metrics_check(const struct config *cfg, char *err, size_t errlen)
{
	const char *f = cfg->metrics.textfile;
	size_t n = strlen(f);

	if (n && (n < 6 || strcmp(f + n - 5, ".prom") != 0 || f[n - 6] == '/'))
		return config_error(err, errlen, "[metrics] textfile '%s' must be a file name ending in "
			    ".prom (node_exporter reads no other)", f);
	return 0;
}

/* A password anybody on the machine can read is no secret: refused unless
 * the configuration says so in as many words. A file that cannot be read at
 * all is reported by the connection (same message at start). */
static int password_file_check(const struct config *cfg, char *err, size_t errlen)
{
	const char *f = cfg->delivery.password_file;
	struct stat sb;

	/* Not a file at all (a directory...): config_files.c says so. */
	if (!*f || cfg->password_file_insecure_ok || stat(f, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	if (sb.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH))
		return config_error(err, errlen, "%u: [mqtt] password_file %s is open to %s "
			    "(mode %04o): chmod 600 it, or set password_file_insecure_ok = yes",
			    config_key_line(cfg, "mqtt", "password_file"), f,
			    sb.st_mode & (S_IROTH | S_IWOTH) ? "everyone" : "its group",
			    (unsigned)(sb.st_mode & 07777));
	return 0;
}

int config_validate(const struct config *cfg, char *err, size_t errlen)
{
	const char *why = pipeline_config_check(&cfg->pipeline);

	if (why)
		return config_error(err, errlen, "%s", why);
	if (cfg->source.window_ms > cfg->source.interval_ms)
		return config_error(err, errlen, "[source] window_ms (%u) is larger than interval_ms (%u)",
			    cfg->source.window_ms, cfg->source.interval_ms);
	if (!*cfg->source.spec)
		return config_error(err, errlen, "[source] spec is empty");
	if (!*cfg->storage.db)
		return config_error(err, errlen, "[storage] db is empty");
	if (delivery_config_check(&cfg->delivery, err, errlen) < 0)
		return -1;
	if (password_file_check(cfg, err, errlen) < 0)
		return -1;
	return metrics_check(cfg, err, errlen);
}
