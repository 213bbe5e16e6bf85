/*
 * pipeline_config.h - every tunable of the data path. The daemon's INI
 * parser maps the [gateway], [presence], [footfall], [identity] and
 * [beacons] keys onto these fields; pipeline_config_defaults() gives the
 * values used when a key is absent.
 */
#ifndef BGW_PIPELINE_CONFIG_H
#define BGW_PIPELINE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define PIPELINE_NAME_MAX 64        /* site, gateway id, zone */
#define PIPELINE_DWELL_MARKS_MAX 8
#define PIPELINE_STORE_NS_MAX 8     /* Eddystone-UID namespaces of the store's own beacons */
#define PIPELINE_CONFIRM_MAX 16     /* upper bound of enter_confirmations */
#define PIPELINE_EID_TOLERANCE_MAX 8

struct pipeline_config {
	char site[PIPELINE_NAME_MAX];
	char gateway[PIPELINE_NAME_MAX];
	char zone[PIPELINE_NAME_MAX];     /* the zone this gateway covers */

	/* Obsolete (the old asymmetric EWMA's gains): still parsed and range
	 * checked so that existing files load, no longer used (presence.h). */
	float rssi_alpha_up;
	float rssi_alpha_down;
	float path_loss_exponent;         /* log-distance model, n */
	int8_t default_power_1m;          /* dBm at 1 m when a frame has no calibration */

	/* Visit state machine. */
	int8_t enter_rssi;                /* dBm the median of the sightings must reach ... */
	uint8_t enter_confirmations;      /* ... with at least N sightings ... */
	uint32_t enter_window_s;          /* ... within this many seconds */
	int8_t exit_rssi;                 /* median RSSI below this ... (hysteresis < enter) */
	uint32_t exit_below_s;            /* ... over the last this many seconds ends the visit */
	uint32_t absence_timeout_s;       /* no sighting for this long ends the visit */
	uint32_t dwell_marks_s[PIPELINE_DWELL_MARKS_MAX]; /* ascending */
	uint8_t n_dwell_marks;
	uint32_t max_tracked;             /* consented devices held at once */

	/* Anonymous footfall. */
	uint32_t footfall_period_s;
	uint32_t footfall_min_count;      /* counts below this are not published */
	int8_t footfall_min_rssi;         /* weaker reports are not counted */

	/* Identity. */
	uint8_t eid_tolerance;            /* EID periods accepted either side of the current one */
	uint32_t irk_cache_size;          /* most addresses remembered (resolved or not) */
	uint32_t irk_threads;             /* IRK search threads; 0 = inline on the caller's */

	/* Fixed store beacons (health over Eddystone-TLM). */
	uint8_t store_namespaces[PIPELINE_STORE_NS_MAX][10];
	uint8_t n_store_namespaces;
	uint32_t beacon_health_interval_s; /* at most one health message per beacon per interval */
	uint32_t max_store_beacons;
	uint32_t beacon_missing_after_s;  /* registered beacon not heard this long: missing */
	uint32_t beacon_low_battery_mv;   /* TLM battery below this: low_battery */

	/* Campaign cooldown / daily-cap state kept in memory. */
	uint32_t max_campaign_state;

	/* Several gateways of one site (site_zone.h): off = the gateway decides alone. */
	bool site_enabled;
	float site_margin_db;             /* a challenger must beat the owner by this ... */
	uint32_t site_hold_s;             /* ... for this long to take a shopper over */
	uint32_t site_peer_timeout_s;     /* a peer silent this long holds nobody */
	uint32_t site_summary_ms;         /* how often this gateway tells its peers what it hears */

	/* Contact pressure, site-wide (campaign.h). */
	uint32_t contact_max;             /* triggers per customer per contact_period_s; 0 = no limit */
	uint32_t contact_period_s;
	char quiet_hours[16];             /* HH:MM-HH:MM local time without triggers; "" = none */
};

/* Quiet hours "HH:MM-HH:MM" into minutes of the day; false if malformed.
 * "" gives -1, -1 (none). */
bool pipeline_quiet_hours(const char *s, int32_t *from_min, int32_t *until_min);

void pipeline_config_defaults(struct pipeline_config *cfg);

/* NULL when the configuration is usable, else a one-line reason. */
const char *pipeline_config_check(const struct pipeline_config *cfg);

#endif
