/*
 * scenario.c - the grammar of beaconsim scenario files.
 *
 * One statement per line, words separated by blanks, '#' starts a comment
 * (at the start of a line or after a blank). Global settings come first;
 * "tag NAME" and "crowd NAME" open a block whose attribute lines follow;
 * "fault ..." lines may appear anywhere. Every error names its line.
 * Words and values are read by scn_lex.c; this file knows what they mean.
 */
#include "scenario.h"
#include "bgw_util.h"
#include "scn_lex.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 80

struct parser {
	struct scenario *s;
	struct scn_error *err;
	unsigned line;
	enum { CTX_GLOBAL, CTX_TAG, CTX_CROWD } ctx;
	bool seen_block;
	unsigned total_devices;
};

/* Reject the scenario: the message goes to the caller with the line being
 * read (p->line). Returns -1, for "return reject(...)". */
__attribute__((format(printf, 2, 3)))
static int reject(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->line;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* ------------------------------------------------------------ arrays */

static void *grow(void *arr, size_t n, size_t elem)
{
	/* Grow by doubling when n reaches a power of two (n is the count
	 * before the append). */
	if (n && (n & (n - 1)))
		return arr;
	size_t cap = n ? n * 2 : 4;

	return realloc(arr, cap * elem);
}

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len >= SCN_NAME_MAX)
		return false;
	for (const char *c = n; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			return false;
	return true;
}

static bool name_taken(const struct scenario *s, const char *n)
{
	for (size_t i = 0; i < s->n_tags; i++)
		if (!strcmp(s->tags[i].name, n))
			return true;
	for (size_t i = 0; i < s->n_crowds; i++)
		if (!strcmp(s->crowds[i].name, n))
			return true;
	return false;
}

/* ------------------------------------------------------------ statements */

static bool is_global_keyword(const char *kw)
{
	static const char *const globals[] = {
		"seed", "duration", "start-time", "path-loss", "noise", "sensitivity",
		"gateway-height", "controller", "controller-address", "gateway",
	};

	for (size_t i = 0; i < BGW_ARRAY_SIZE(globals); i++)
		if (!strcmp(kw, globals[i]))
			return true;
	return false;
}

static int need_args(struct parser *p, int argc, int want, const char *usage)
{
	if (argc != want)
		return reject(p, "wrong number of values, expected: %s", usage);
	return 0;
}

static int global_stmt(struct parser *p, int argc, char **argv)
{
	struct scenario *s = p->s;
	const char *kw = argv[0];
	long long v;

	if (p->seen_block)
		return reject(p, "global setting '%s' must come before the first tag or crowd", kw);
	if (!strcmp(kw, "seed")) {
		if (need_args(p, argc, 2, "seed N"))
			return -1;
		if (scn_lex_u64(argv[1], &s->seed))
			return reject(p, "bad seed '%s' (an unsigned 64-bit integer)", argv[1]);
		s->seed_set = true;
	} else if (!strcmp(kw, "duration")) {
		if (need_args(p, argc, 2, "duration TIME"))
			return -1;
		if (scn_lex_duration(argv[1], &s->duration_us) || s->duration_us == 0)
			return reject(p, "bad duration '%s' (e.g. 90s, 10m, 1h30m)", argv[1]);
		s->duration_set = true;
	} else if (!strcmp(kw, "start-time")) {
		if (need_args(p, argc, 2, "start-time UNIX|YYYY-MM-DDTHH:MM:SSZ"))
			return -1;
		if (scn_lex_start_time(argv[1], &s->start_time))
			return reject(p, "bad start-time '%s' (Unix seconds or "
				      "YYYY-MM-DDTHH:MM:SSZ)", argv[1]);
		s->start_time_set = true;
	} else if (!strcmp(kw, "path-loss")) {
		if (need_args(p, argc, 2, "path-loss EXPONENT"))
			return -1;
		if (scn_lex_double(argv[1], 1.0, 6.0, &s->path_loss_n))
			return reject(p, "bad path-loss exponent '%s' (1.0 to 6.0)", argv[1]);
	} else if (!strcmp(kw, "noise")) {
		if (need_args(p, argc, 2, "noise SIGMA_DB"))
			return -1;
		if (scn_lex_double(argv[1], 0.0, 30.0, &s->noise_sigma_db))
			return reject(p, "bad noise sigma '%s' (0 to 30 dB)", argv[1]);
	} else if (!strcmp(kw, "sensitivity")) {
		if (need_args(p, argc, 2, "sensitivity DBM"))
			return -1;
		if (scn_lex_int(argv[1], -127, 0, &v))
			return reject(p, "bad sensitivity '%s' (-127 to 0 dBm)", argv[1]);
		s->sensitivity_dbm = (int)v;
	} else if (!strcmp(kw, "gateway-height")) {
		if (need_args(p, argc, 2, "gateway-height METRES"))
			return -1;
		if (scn_lex_double(argv[1], 0.0, 100.0, &s->gateway_height_m))
			return reject(p, "bad gateway-height '%s' (0 to 100 m)", argv[1]);
	} else if (!strcmp(kw, "gateway")) {
		struct scn_gateway *g;
		char *comma;

		if (argc != 3 && argc != 4)
			return reject(p, "wrong number of values, expected: gateway NAME X,Y [ZONE]");
		if (s->n_gateways == SCN_GATEWAYS_MAX)
			return reject(p, "more than %d gateways", SCN_GATEWAYS_MAX);
		if (strlen(argv[1]) >= SCN_NAME_MAX || (argc == 4 && strlen(argv[3]) >= SCN_NAME_MAX))
			return reject(p, "gateway or zone name too long (at most %d bytes)",
				      SCN_NAME_MAX - 1);
		if (scenario_gateway(s, argv[1]) >= 0)
			return reject(p, "gateway '%s' is placed twice", argv[1]);
		g = &s->gateways[s->n_gateways];
		comma = strchr(argv[2], ',');
		if (!comma)
			return reject(p, "bad gateway position '%s' (X,Y in metres)", argv[2]);
		*comma = 0;
		if (scn_lex_double(argv[2], -10000, 10000, &g->x) ||
		    scn_lex_double(comma + 1, -10000, 10000, &g->y))
			return reject(p, "bad gateway position '%s,%s' (metres)", argv[2], comma + 1);
		snprintf(g->name, sizeof(g->name), "%s", argv[1]);
		snprintf(g->zone, sizeof(g->zone), "%s", argc == 4 ? argv[3] : argv[1]);
		s->n_gateways++;
	} else if (!strcmp(kw, "controller")) {
		if (need_args(p, argc, 2, "controller extended|legacy-only"))
			return -1;
		if (!strcmp(argv[1], "legacy-only"))
			s->legacy_only = true;
		else if (!strcmp(argv[1], "extended"))
			s->legacy_only = false;
		else
			return reject(p, "bad controller '%s' (extended or legacy-only)", argv[1]);
	} else if (!strcmp(kw, "controller-address")) {
		if (need_args(p, argc, 2, "controller-address AA:BB:CC:DD:EE:FF"))
			return -1;
		if (scn_lex_addr(argv[1], s->controller_addr))
			return reject(p, "bad controller-address '%s'", argv[1]);
		s->has_controller_addr = true;
	} else if (!strcmp(kw, "interval") || !strcmp(kw, "txpower") || !strcmp(kw, "path") ||
		   !strcmp(kw, "distance") || !strcmp(kw, "count") || !strcmp(kw, "rotate")) {
		return reject(p, "'%s' belongs in a tag or crowd block", kw);
	} else {
		return reject(p, "unknown setting '%s'", kw);
	}
	return 0;
}

static int tag_id(struct parser *p, struct scn_tag *t, int argc, char **argv)
{
	const char *kw = argv[0];
	char *f[4];
	size_t n;
	long long v;

	if (t->id_type != SCN_ID_NONE)
		return reject(p, "tag '%s' already has an identifier", t->name);
	if (argc != 2)
		return reject(p, "'%s' expects one value", kw);
	char *val = argv[1];

	if (!strcmp(kw, "ibeacon")) {
		n = scn_lex_fields(val, f, 3);
		if (n != 3 || !bgw_hex_decode(f[0], strlen(f[0]), t->id.ibeacon.uuid, 16, "-"))
			return reject(p, "bad ibeacon value (UUID:MAJOR:MINOR)");
		if (scn_lex_int(f[1], 0, 65535, &v))
			return reject(p, "bad ibeacon major '%s' (0 to 65535)", f[1]);
		t->id.ibeacon.major = (uint16_t)v;
		if (scn_lex_int(f[2], 0, 65535, &v))
			return reject(p, "bad ibeacon minor '%s' (0 to 65535)", f[2]);
		t->id.ibeacon.minor = (uint16_t)v;
		t->id_type = SCN_ID_IBEACON;
	} else if (!strcmp(kw, "eddystone-uid")) {
		n = scn_lex_fields(val, f, 2);
		if (n != 2 ||
		    !bgw_hex_decode(f[0], strlen(f[0]), t->id.uid.namespace_id, 10, NULL) ||
		    !bgw_hex_decode(f[1], strlen(f[1]), t->id.uid.instance, 6, NULL))
			return reject(p, "bad eddystone-uid value (NAMESPACE:INSTANCE, 20 and 12 "
				      "hex digits)");
		t->id_type = SCN_ID_EDDYSTONE_UID;
	} else if (!strcmp(kw, "eddystone-eid")) {
		n = scn_lex_fields(val, f, 3);
		if (n < 2 || n > 3 || !bgw_hex_decode(f[0], strlen(f[0]), t->id.eid.key, 16, NULL))
			return reject(p, "bad eddystone-eid value (KEYHEX:K[:OFFSET], "
				      "32 hex digits)");
		if (scn_lex_int(f[1], 0, 15, &v))
			return reject(p, "bad eddystone-eid rotation exponent '%s' (0 to 15)",
				      f[1]);
		t->id.eid.exponent = (uint8_t)v;
		t->id.eid.offset = 0;
		if (n == 3) {
			if (scn_lex_int(f[2], -4294967296LL, 4294967296LL, &v))
				return reject(p, "bad eddystone-eid offset '%s' (seconds)", f[2]);
			t->id.eid.offset = v;
		}
		t->id_type = SCN_ID_EDDYSTONE_EID;
	} else if (!strcmp(kw, "eddystone-url")) {
		uint8_t enc[32];

		if (strlen(val) > BF_URL_MAX || bf_url_encode(val, enc, 18) == 0)
			return reject(p, "URL '%s' cannot be expressed as an Eddystone-URL", val);
		strcpy(t->id.url, val);
		t->id_type = SCN_ID_EDDYSTONE_URL;
	} else if (!strcmp(kw, "altbeacon")) {
		n = scn_lex_fields(val, f, 2);
		if (n < 1 || n > 2 ||
		    !bgw_hex_decode(f[0], strlen(f[0]), t->id.alt.beacon_id, 20, "-"))
			return reject(p, "bad altbeacon value (BEACONID[:COMPANY], 40 hex digits)");
		t->id.alt.company_id = 0x0118; /* Radius Networks, the format's author */
		if (n == 2) {
			if (scn_lex_int(f[1], 0, 65535, &v))
				return reject(p, "bad altbeacon company id '%s'", f[1]);
			t->id.alt.company_id = (uint16_t)v;
		}
		t->id_type = SCN_ID_ALTBEACON;
	} else if (!strcmp(kw, "irk")) {
		if (!bgw_hex_decode(val, strlen(val), t->id.irk, 16, NULL))
			return reject(p, "bad irk '%s' (32 hex digits)", val);
		t->id_type = SCN_ID_IRK;
	}
	return 0;
}

static int waypoint(struct parser *p, struct scn_tag *t, char *w)
{
	char *colon = strchr(w, ':');

	if (!colon)
		return reject(p, "bad waypoint '%s' (TIME:DISTANCE or TIME:X,Y)", w);
	*colon = 0;
	struct scn_waypoint wp = { 0 };

	if (scn_lex_duration(w, &wp.t_us))
		return reject(p, "bad waypoint time '%s'", w);
	char *pos = colon + 1, *comma = strchr(pos, ',');

	if (comma) {
		double x, y;

		*comma = 0;
		if (scn_lex_double(pos, -10000, 10000, &x) ||
		    scn_lex_double(comma + 1, -10000, 10000, &y))
			return reject(p, "bad waypoint position '%s,%s' (metres)", pos, comma + 1);
		wp.dist_m = hypot(x, y);
		wp.x = x;
		wp.y = y;
		wp.xy = true;
	} else if (scn_lex_double(pos, 0, 10000, &wp.dist_m)) {
		return reject(p, "bad waypoint distance '%s' (0 to 10000 m)", pos);
	}
	if (t->n_path == SCN_PATH_MAX)
		return reject(p, "tag '%s' has more than %d waypoints", t->name, SCN_PATH_MAX);
	if (t->n_path && wp.t_us <= t->path[t->n_path - 1].t_us)
		return reject(p, "waypoint times of tag '%s' must increase", t->name);
	t->path[t->n_path++] = wp;
	return 0;
}

/*
 * The radio settings tags and crowds share: interval, txpower, rotate.
 * Returns 1 when kw was one of them (parsed into the fields), 0 when it
 * was not, -1 on an error (already reported).
 */
static int radio_kw(struct parser *p, const char *kw, int argc, char **argv,
		    uint64_t *interval_us, int8_t *txpower, uint64_t *rotate_us)
{
	long long v;

	if (!strcmp(kw, "interval")) {
		if (need_args(p, argc, 2, "interval TIME"))
			return -1;
		if (scn_lex_duration(argv[1], interval_us) || *interval_us < 20000 ||
		    *interval_us > 10485760)
			return reject(p, "bad interval '%s' (20ms to 10.24s)", argv[1]);
		return 1;
	}
	if (!strcmp(kw, "txpower")) {
		if (need_args(p, argc, 2, "txpower DBM_AT_1M"))
			return -1;
		if (scn_lex_int(argv[1], -100, 20, &v))
			return reject(p, "bad txpower '%s' (-100 to 20 dBm at 1 m)", argv[1]);
		*txpower = (int8_t)v;
		return 1;
	}
	if (!strcmp(kw, "rotate")) {
		if (need_args(p, argc, 2, "rotate TIME"))
			return -1;
		if (scn_lex_duration(argv[1], rotate_us) || *rotate_us < 1000000)
			return reject(p, "bad rotate period '%s' (at least 1s)", argv[1]);
		return 1;
	}
	return 0;
}

static int tag_stmt(struct parser *p, int argc, char **argv)
{
	struct scn_tag *t = &p->s->tags[p->s->n_tags - 1];
	const char *kw = argv[0];
	long long v;
	int rc;

	if (!strcmp(kw, "ibeacon") || !strcmp(kw, "eddystone-uid") || !strcmp(kw, "eddystone-eid") ||
	    !strcmp(kw, "eddystone-url") || !strcmp(kw, "altbeacon") || !strcmp(kw, "irk"))
		return tag_id(p, t, argc, argv);
	if ((rc = radio_kw(p, kw, argc, argv, &t->interval_us, &t->txpower, &t->rotate_us)))
		return rc < 0 ? -1 : 0;
	if (!strcmp(kw, "address")) {
		if (argc < 2 || argc > 3)
			return reject(p, "'address' expects: address AA:BB:CC:DD:EE:FF "
				      "[public|random]");
		if (scn_lex_addr(argv[1], t->addr))
			return reject(p, "bad address '%s'", argv[1]);
		t->addr_type = 1;
		if (argc == 3) {
			if (!strcmp(argv[2], "public"))
				t->addr_type = 0;
			else if (strcmp(argv[2], "random"))
				return reject(p, "bad address type '%s' (public or random)",
					      argv[2]);
		}
		t->has_addr = true;
	} else if (!strcmp(kw, "tlm")) {
		if (argc != 3)
			return reject(p, "'tlm' expects: tlm BATTERY_MV TEMP_C");
		if (scn_lex_int(argv[1], 0, 65535, &v))
			return reject(p, "bad tlm battery '%s' (millivolts)", argv[1]);
		t->tlm_battery_mv = (uint16_t)v;
		if (scn_lex_double(argv[2], -128, 127, &t->tlm_temp_c))
			return reject(p, "bad tlm temperature '%s' (-128 to 127 C)", argv[2]);
		t->tlm = true;
	} else if (!strcmp(kw, "tlm-every")) {
		if (need_args(p, argc, 2, "tlm-every N"))
			return -1;
		if (scn_lex_int(argv[1], 1, 1000, &v))
			return reject(p, "bad tlm-every '%s' (1 to 1000)", argv[1]);
		t->tlm_every = (unsigned)v;
	} else if (!strcmp(kw, "extended")) {
		if (need_args(p, argc, 2, "extended PAYLOAD_BYTES"))
			return -1;
		if (scn_lex_int(argv[1], 1, BF_EXT_ADV_MAX, &v))
			return reject(p, "bad extended payload length '%s' (1 to %d)", argv[1],
				      BF_EXT_ADV_MAX);
		t->ext_len = (uint16_t)v;
	} else if (!strcmp(kw, "path")) {
		if (argc < 2)
			return reject(p, "'path' expects waypoints: path TIME:DIST ...");
		for (int i = 1; i < argc; i++)
			if (waypoint(p, t, argv[i]))
				return -1;
	} else if (!strcmp(kw, "customer")) {
		if (need_args(p, argc, 2, "customer REF"))
			return -1;
		if (strlen(argv[1]) >= sizeof(t->customer))
			return reject(p, "customer ref too long (at most %zu bytes)",
				      sizeof(t->customer) - 1);
		snprintf(t->customer, sizeof(t->customer), "%s", argv[1]);
	} else if (!strcmp(kw, "distance")) {
		/* A fixed beacon: in range for the whole scenario. */
		double d;

		if (need_args(p, argc, 2, "distance METRES"))
			return -1;
		if (scn_lex_double(argv[1], 0, 10000, &d))
			return reject(p, "bad distance '%s' (0 to 10000 m)", argv[1]);
		if (t->n_path)
			return reject(p, "tag '%s' already has a path", t->name);
		t->path[0] = (struct scn_waypoint){ .t_us = 0, .dist_m = d };
		t->path[1] = (struct scn_waypoint){ .t_us = SCN_MAX_DURATION_US, .dist_m = d };
		t->n_path = 2;
	} else if (is_global_keyword(kw)) {
		return reject(p, "global setting '%s' must come before the first tag or crowd", kw);
	} else {
		return reject(p, "unknown tag attribute '%s'", kw);
	}
	return 0;
}

static int crowd_stmt(struct parser *p, int argc, char **argv)
{
	struct scn_crowd *c = &p->s->crowds[p->s->n_crowds - 1];
	const char *kw = argv[0];
	long long v;
	int rc;

	if (!strcmp(kw, "count")) {
		if (need_args(p, argc, 2, "count N"))
			return -1;
		if (scn_lex_int(argv[1], 0, SCN_MAX_DEVICES, &v) ||
		    p->total_devices - c->count + (unsigned)v > SCN_MAX_DEVICES)
			return reject(p, "bad count '%s' (at most %d devices in a scenario)",
				      argv[1], SCN_MAX_DEVICES);
		p->total_devices = p->total_devices - c->count + (unsigned)v;
		c->count = (unsigned)v;
	} else if ((rc = radio_kw(p, kw, argc, argv, &c->interval_us, &c->txpower,
				  &c->rotate_us))) {
		return rc < 0 ? -1 : 0;
	} else if (!strcmp(kw, "distance")) {
		if (need_args(p, argc, 2, "distance MIN..MAX"))
			return -1;
		if (scn_lex_range(argv[1], 0, 10000, &c->dist_min, &c->dist_max))
			return reject(p, "bad distance range '%s' (e.g. 2..30, metres)", argv[1]);
	} else if (!strcmp(kw, "dwell")) {
		if (need_args(p, argc, 2, "dwell MIN..MAX"))
			return -1;
		if (scn_lex_duration_range(argv[1], &c->dwell_min_us, &c->dwell_max_us) ||
		    c->dwell_min_us == 0)
			return reject(p, "bad dwell range '%s' (e.g. 2m..20m)", argv[1]);
	} else if (!strcmp(kw, "irk-key")) {
		if (need_args(p, argc, 2, "irk-key HEX32"))
			return -1;
		if (strlen(argv[1]) != 32 ||
		    !bgw_hex_decode(argv[1], 32, c->irk_key, sizeof(c->irk_key), NULL))
			return reject(p, "bad irk-key '%s' (32 hex digits)", argv[1]);
		c->has_irk_key = true;
	} else if (is_global_keyword(kw)) {
		return reject(p, "global setting '%s' must come before the first tag or crowd", kw);
	} else {
		return reject(p, "unknown crowd attribute '%s'", kw);
	}
	return 0;
}

static int fault_stmt(struct parser *p, int argc, char **argv)
{
	struct scenario *s = p->s;
	struct scn_fault f = { .line = p->line, .bytes = 16, .code = 0x01 };
	long long v;

	if (argc < 4 || strcmp(argv[2], "at"))
		return reject(p, "'fault' expects: fault KIND at TIME [OPTIONS]");
	if (!strcmp(argv[1], "garbage"))
		f.kind = SCN_FAULT_GARBAGE;
	else if (!strcmp(argv[1], "hardware-error"))
		f.kind = SCN_FAULT_HW_ERROR;
	else if (!strcmp(argv[1], "silence"))
		f.kind = SCN_FAULT_SILENCE;
	else if (!strcmp(argv[1], "disconnect"))
		f.kind = SCN_FAULT_DISCONNECT;
	else
		return reject(p, "unknown fault '%s' (garbage, hardware-error, silence, "
			      "disconnect)", argv[1]);
	if (scn_lex_duration(argv[3], &f.at_us))
		return reject(p, "bad fault time '%s'", argv[3]);
	int i = 4;

	if (f.kind == SCN_FAULT_SILENCE) {
		if (argc != 6 || strcmp(argv[4], "for") ||
		    scn_lex_duration(argv[5], &f.for_us) || f.for_us == 0)
			return reject(p, "'fault silence' expects: fault silence at TIME for TIME");
		i = 6;
	} else if (f.kind == SCN_FAULT_GARBAGE && argc == 6 && !strcmp(argv[4], "bytes")) {
		if (scn_lex_int(argv[5], 1, 4096, &v))
			return reject(p, "bad garbage length '%s' (1 to 4096 bytes)", argv[5]);
		f.bytes = (unsigned)v;
		i = 6;
	} else if (f.kind == SCN_FAULT_HW_ERROR && argc == 6 && !strcmp(argv[4], "code")) {
		if (scn_lex_int(argv[5], 0, 255, &v))
			return reject(p, "bad hardware error code '%s' (0 to 255)", argv[5]);
		f.code = (uint8_t)v;
		i = 6;
	}
	if (i != argc)
		return reject(p, "unexpected '%s' in fault", argv[i]);
	if (s->n_faults == SCN_MAX_FAULTS)
		return reject(p, "more than %d faults", SCN_MAX_FAULTS);
	void *n = grow(s->faults, s->n_faults, sizeof(*s->faults));

	if (!n)
		return reject(p, "out of memory");
	s->faults = n;
	/* Insertion keeps them sorted by time; equal times keep file order. */
	size_t at = s->n_faults;

	while (at > 0 && s->faults[at - 1].at_us > f.at_us) {
		s->faults[at] = s->faults[at - 1];
		at--;
	}
	s->faults[at] = f;
	s->n_faults++;
	return 0;
}

static int open_block(struct parser *p, int argc, char **argv)
{
	struct scenario *s = p->s;
	bool is_tag = !strcmp(argv[0], "tag");

	if (argc != 2)
		return reject(p, "'%s' expects a name: %s NAME", argv[0], argv[0]);
	if (!name_ok(argv[1]))
		return reject(p, "bad name '%s' (letters, digits, '-', '_', '.'; at most %d)",
			      argv[1], SCN_NAME_MAX - 1);
	if (name_taken(s, argv[1]))
		return reject(p, "name '%s' is used twice", argv[1]);
	p->seen_block = true;
	if (is_tag) {
		if (p->total_devices >= SCN_MAX_DEVICES)
			return reject(p, "more than %d devices", SCN_MAX_DEVICES);
		void *n = grow(s->tags, s->n_tags, sizeof(*s->tags));

		if (!n)
			return reject(p, "out of memory");
		s->tags = n;
		struct scn_tag *t = &s->tags[s->n_tags++];

		memset(t, 0, sizeof(*t));
		strcpy(t->name, argv[1]);
		t->line = p->line;
		t->interval_us = 100000;
		t->txpower = -59;
		t->rotate_us = 15 * 60 * 1000000ull;
		t->tlm_battery_mv = 3000;
		t->tlm_temp_c = 21.0;
		t->tlm_every = 10;
		p->total_devices++;
		p->ctx = CTX_TAG;
	} else {
		void *n = grow(s->crowds, s->n_crowds, sizeof(*s->crowds));

		if (!n)
			return reject(p, "out of memory");
		s->crowds = n;
		struct scn_crowd *c = &s->crowds[s->n_crowds++];

		memset(c, 0, sizeof(*c));
		strcpy(c->name, argv[1]);
		c->line = p->line;
		c->count = 0;
		c->interval_us = 300000;
		c->txpower = -56;
		c->dist_min = 2;
		c->dist_max = 25;
		c->dwell_min_us = 60 * 1000000ull;
		c->dwell_max_us = 20 * 60 * 1000000ull;
		c->rotate_us = 15 * 60 * 1000000ull;
		p->ctx = CTX_CROWD;
	}
	return 0;
}

static int close_block(struct parser *p)
{
	struct scenario *s = p->s;
	unsigned saved = p->line;
	int rc = 0;

	if (p->ctx == CTX_TAG) {
		struct scn_tag *t = &s->tags[s->n_tags - 1];

		p->line = t->line;
		if (t->id_type == SCN_ID_NONE && !t->tlm)
			rc = reject(p, "tag '%s' has no identifier (ibeacon, eddystone-uid, "
				    "eddystone-eid, eddystone-url, altbeacon, irk or tlm)", t->name);
		else if (t->n_path < 2)
			rc = reject(p, "tag '%s' needs a path of at least two waypoints "
				    "(path TIME:DIST ...) or a fixed distance D", t->name);
		else if (t->ext_len && t->id_type == SCN_ID_IRK)
			rc = reject(p, "tag '%s': extended applies to beacon frames, not irk "
				    "phones", t->name);
	} else if (p->ctx == CTX_CROWD) {
		struct scn_crowd *c = &s->crowds[s->n_crowds - 1];

		p->line = c->line;
		if (c->count == 0)
			rc = reject(p, "crowd '%s' needs 'count N' (N > 0)", c->name);
	}
	if (!rc)
		p->line = saved;
	p->ctx = CTX_GLOBAL;
	return rc;
}

static int statement(struct parser *p, int argc, char **argv)
{
	const char *kw = argv[0];

	if (!strcmp(kw, "tag") || !strcmp(kw, "crowd")) {
		if (close_block(p))
			return -1;
		return open_block(p, argc, argv);
	}
	if (!strcmp(kw, "fault")) {
		if (close_block(p))
			return -1;
		return fault_stmt(p, argc, argv);
	}
	switch (p->ctx) {
	case CTX_TAG:
		return tag_stmt(p, argc, argv);
	case CTX_CROWD:
		return crowd_stmt(p, argc, argv);
	default:
		return global_stmt(p, argc, argv);
	}
}

static int finish(struct parser *p)
{
	struct scenario *s = p->s;

	if (close_block(p))
		return -1;
	p->line = 0;
	if (s->n_tags == 0 && s->n_crowds == 0)
		return reject(p, "the scenario has no tag and no crowd");
	if (!s->duration_set) {
		/* Default: until the last mover leaves (fixed beacons excluded). */
		uint64_t end = 0;

		for (size_t i = 0; i < s->n_tags; i++) {
			uint64_t last = s->tags[i].path[s->tags[i].n_path - 1].t_us;

			if (last < SCN_MAX_DURATION_US && last > end)
				end = last;
		}
		s->duration_us = end ? end : 60 * 1000000ull;
	}
	for (size_t i = 0; i < s->n_faults; i++) {
		if (s->faults[i].at_us >= s->duration_us) {
			p->line = s->faults[i].line;
			return reject(p, "fault at %.3fs is after the end of the scenario (%.3fs)",
				      s->faults[i].at_us / 1e6, s->duration_us / 1e6);
		}
	}
	return 0;
}

int scenario_parse(const char *text, size_t len, struct scenario *out, struct scn_error *err)
{
	struct parser p = { .s = out, .err = err };
	char buf[SCN_LINE_MAX + 1];
	char *argv[MAX_WORDS];
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	out->path_loss_n = 2.0;
	out->active_gateway = -1;
	out->noise_sigma_db = 4.0;
	out->sensitivity_dbm = -100;
	while (pos < len) {
		size_t start = pos;

		while (pos < len && text[pos] != '\n')
			pos++;
		size_t llen = pos - start;

		if (pos < len)
			pos++;
		p.line++;
		if (llen > SCN_LINE_MAX) {
			reject(&p, "line longer than %d characters", SCN_LINE_MAX);
			goto bad;
		}
		memcpy(buf, text + start, llen);
		buf[llen] = 0;
		if (memchr(buf, 0, llen)) {
			reject(&p, "NUL byte in the scenario");
			goto bad;
		}
		int argc = scn_lex_words(buf, argv, MAX_WORDS);

		if (argc < 0) {
			reject(&p, "more than %d words on a line", MAX_WORDS);
			goto bad;
		}
		if (argc && statement(&p, argc, argv))
			goto bad;
	}
	if (finish(&p))
		goto bad;
	return 0;
bad:
	scenario_free(out);
	return -1;
}

int scenario_gateway(const struct scenario *s, const char *name)
{
	for (size_t i = 0; i < s->n_gateways; i++)
		if (!strcmp(s->gateways[i].name, name))
			return (int)i;
	return -1;
}

bool scenario_tag_position(const struct scn_tag *t, uint64_t t_us, double *x, double *y)
{
	if (t->n_path == 0 || t_us < t->path[0].t_us || t_us > t->path[t->n_path - 1].t_us)
		return false;
	for (size_t i = 0; i < t->n_path; i++)
		if (!t->path[i].xy)
			return false;
	for (size_t i = 1; i < t->n_path; i++) {
		const struct scn_waypoint *a = &t->path[i - 1], *b = &t->path[i];

		if (t_us <= b->t_us) {
			double f = (double)(t_us - a->t_us) / (double)(b->t_us - a->t_us);

			*x = a->x + f * (b->x - a->x);
			*y = a->y + f * (b->y - a->y);
			return true;
		}
	}
	*x = t->path[t->n_path - 1].x;
	*y = t->path[t->n_path - 1].y;
	return true;
}

double scenario_tag_distance(const struct scenario *s, const struct scn_tag *t, uint64_t t_us)
{
	const struct scn_gateway *g;
	double x, y;

	if (s->active_gateway < 0 || (size_t)s->active_gateway >= s->n_gateways ||
	    !scenario_tag_position(t, t_us, &x, &y)) {
		if (t->n_path == 0 || t_us < t->path[0].t_us || t_us > t->path[t->n_path - 1].t_us)
			return -1.0;
		for (size_t i = 1; i < t->n_path; i++) {
			const struct scn_waypoint *a = &t->path[i - 1], *b = &t->path[i];

			if (t_us <= b->t_us)
				return a->dist_m + (double)(t_us - a->t_us) /
							   (double)(b->t_us - a->t_us) *
							   (b->dist_m - a->dist_m);
		}
		return t->path[t->n_path - 1].dist_m;
	}
	g = &s->gateways[s->active_gateway];
	return hypot(x - g->x, y - g->y);
}

int scenario_load(const char *path, struct scenario *out, struct scn_error *err)
{
	FILE *f = fopen(path, "rb");

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (!f) {
		snprintf(err->msg, sizeof(err->msg), "cannot open: %s", strerror(errno));
		return -1;
	}
	/* Scenario files are small; 16 MiB is far beyond any sensible one. */
	size_t cap = 1 << 16, len = 0;
	char *text = malloc(cap);
	int rc = -1;

	while (text) {
		size_t n = fread(text + len, 1, cap - len, f);

		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			if (cap >= (16u << 20)) {
				snprintf(err->msg, sizeof(err->msg), "file too large");
				goto out;
			}
			char *bigger = realloc(text, cap * 2);

			if (!bigger)
				break;
			text = bigger;
			cap *= 2;
		}
	}
	if (!text) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	} else if (ferror(f)) {
		snprintf(err->msg, sizeof(err->msg), "read error: %s", strerror(errno));
	} else {
		rc = scenario_parse(text, len, out, err);
	}
out:
	free(text);
	fclose(f);
	return rc;
}

void scenario_free(struct scenario *s)
{
	free(s->tags);
	free(s->crowds);
	free(s->faults);
	memset(s, 0, sizeof(*s));
}
