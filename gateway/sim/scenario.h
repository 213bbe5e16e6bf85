/*
 * scenario.h - the simulated store a beaconsim run plays: global settings,
 * tags walking paths, crowds of unrelated phones and scheduled faults, read
 * from a line-based text file (format documented in beaconsim(1)).
 *
 * Times are microseconds since the start of the scenario; distances are
 * metres from the gateway, which sits at the origin.
 */
#ifndef BGW_SIM_SCENARIO_H
#define BGW_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "beacon_frame.h"
#include "scn_lex.h"

#define SCN_NAME_MAX 48
#define SCN_PATH_MAX 64
#define SCN_LINE_MAX 1024
#define SCN_MAX_DEVICES 100000  /* tags + crowd members: keeps a hostile file bounded */
#define SCN_MAX_FAULTS 1024
#define SCN_MAX_DURATION_US SCN_LEX_MAX_DURATION_US

enum scn_id_type {
	SCN_ID_NONE = 0,   /* allowed only with tlm: a fixed store beacon */
	SCN_ID_IBEACON,
	SCN_ID_EDDYSTONE_UID,
	SCN_ID_EDDYSTONE_EID,
	SCN_ID_EDDYSTONE_URL,
	SCN_ID_ALTBEACON,
	SCN_ID_IRK,        /* a phone with a resolvable private address */
};

struct scn_waypoint {
	uint64_t t_us;
	double dist_m;           /* from the origin */
	double x, y;             /* xy: a position on the floor plan (metres) */
	bool xy;
};

/* A gateway of a store with several (scenario line "gateway NAME X,Y [ZONE]"). */
#define SCN_GATEWAYS_MAX 16
struct scn_gateway {
	char name[SCN_NAME_MAX];
	char zone[SCN_NAME_MAX];
	double x, y;
};

struct scn_tag {
	char name[SCN_NAME_MAX];
	unsigned line;
	enum scn_id_type id_type;
	union {
		struct {
			uint8_t uuid[16];
			uint16_t major, minor;
		} ibeacon;
		struct {
			uint8_t namespace_id[10];
			uint8_t instance[6];
		} uid;
		struct {
			uint8_t key[16];
			uint8_t exponent;
			int64_t offset; /* tag counter = Unix time - offset (snapshot.h) */
		} eid;
		char url[BF_URL_MAX + 1];
		struct {
			uint8_t beacon_id[20];
			uint16_t company_id;
		} alt;
		uint8_t irk[16];
	} id;
	uint64_t interval_us;
	int8_t txpower;          /* calibrated RSSI at 1 m, dBm */
	uint64_t rotate_us;      /* irk: RPA lifetime */
	bool has_addr;
	uint8_t addr[6];         /* HCI wire order: addr[0] least significant */
	uint8_t addr_type;       /* 0 public, 1 random */
	bool tlm;                /* also (or only) sends Eddystone-TLM */
	uint16_t tlm_battery_mv;
	double tlm_temp_c;
	unsigned tlm_every;      /* every Nth advertisement is TLM when there is an id */
	uint16_t ext_len;        /* > 0: extended (non-legacy) PDU of this payload length */
	size_t n_path;
	struct scn_waypoint path[SCN_PATH_MAX];
	char customer[64];       /* enrolled customer_ref for --truth ("" = the tag's name) */
};

struct scn_crowd {
	char name[SCN_NAME_MAX];
	unsigned line;
	unsigned count;
	uint64_t interval_us;
	int8_t txpower;
	double dist_min, dist_max;
	uint64_t dwell_min_us, dwell_max_us;
	uint64_t rotate_us;      /* address lifetime, jittered +-20 % per phone */
	/* With a key, the phones use resolvable private addresses: member m's
	 * IRK is sim_crowd_irk(irk_key, m), so the crowd can be enrolled. */
	bool has_irk_key;
	uint8_t irk_key[16];
};

enum scn_fault_kind {
	SCN_FAULT_GARBAGE = 0,   /* random non-H4 bytes on the wire */
	SCN_FAULT_HW_ERROR,      /* HCI Hardware Error event */
	SCN_FAULT_SILENCE,       /* no advertising reports for a while */
	SCN_FAULT_DISCONNECT,    /* close the gateway's connection */
};

struct scn_fault {
	enum scn_fault_kind kind;
	unsigned line;
	uint64_t at_us;
	uint64_t for_us;         /* silence */
	unsigned bytes;          /* garbage */
	uint8_t code;            /* hardware error code */
};

struct scenario {
	uint64_t seed;
	bool seed_set;
	uint64_t duration_us;
	bool duration_set;
	int64_t start_time;      /* Unix seconds of scenario time 0 */
	bool start_time_set;
	double path_loss_n;      /* log-distance exponent */
	double noise_sigma_db;   /* Gaussian RSSI noise */
	int sensitivity_dbm;     /* weaker packets are not received */
	double gateway_height_m; /* added in quadrature to every distance */
	bool legacy_only;        /* controller without LE Extended Advertising */
	bool has_controller_addr;
	uint8_t controller_addr[6];

	struct scn_gateway gateways[SCN_GATEWAYS_MAX];
	size_t n_gateways;
	int active_gateway;      /* whose antenna the world is heard from; -1 = the origin */

	struct scn_tag *tags;
	size_t n_tags;
	struct scn_crowd *crowds;
	size_t n_crowds;
	struct scn_fault *faults; /* sorted by at_us */
	size_t n_faults;
};

struct scn_error {
	unsigned line;           /* 0: not tied to a line */
	char msg[200];
};

/* Parse a scenario from memory. On error returns -1, fills *err and leaves
 * *out empty (nothing to free). Never reads outside [text, text + len). */
int scenario_parse(const char *text, size_t len, struct scenario *out, struct scn_error *err);

/* The gateway called name, -1 if none. */
int scenario_gateway(const struct scenario *s, const char *name);

/* Where tag t is at t_us: position (false when it is not in the store, or
 * its path has plain distances rather than X,Y positions). */
bool scenario_tag_position(const struct scn_tag *t, uint64_t t_us, double *x, double *y);

/* Distance of tag t from the active gateway at t_us (from the origin when
 * there is none or the path has plain distances); negative when the tag is
 * not in the store. */
double scenario_tag_distance(const struct scenario *s, const struct scn_tag *t, uint64_t t_us);

/* Read and parse a file; errors about the file itself have line 0. */
int scenario_load(const char *path, struct scenario *out, struct scn_error *err);

void scenario_free(struct scenario *s);

#endif
