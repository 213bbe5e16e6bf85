/*
 * report_json.h - one advertising report as one line of JSON, the
 * `beacongw --dump` output:
 *
 *   {"ts":"2026-03-01T10:00:00.000000Z","addr":"C0:11:22:33:44:55",
 *    "addr_type":"random","rssi":-60,"kind":"adv_nonconn_ind",
 *    "data":"0201061aff4c00...","beacons":[{"type":"ibeacon",...}]}
 *
 * ts: the receive (or capture) time, ISO-8601 UTC with microseconds.
 * addr: most significant byte first. addr_type: "public", "random",
 * "public-id", "random-id", "anonymous" (other values: "unknown").
 * rssi: dBm or null. kind: adv_ind, adv_direct_ind, adv_scan_ind,
 * adv_nonconn_ind, scan_rsp, ext. Extended (kind "ext") reports add
 * "phy" and "secondary_phy" ("1m", "2m", "coded", null for none),
 * "sid" (null without ADI), "tx_power" (dBm or null) and "data_status"
 * ("complete" or "truncated"). data: lowercase hex. beacons: the frames
 * bf_decode() finds, in order (at most REPORT_JSON_MAX_BEACONS):
 *   ibeacon        uuid (lowercase, dashed), major, minor, measured_power
 *   altbeacon      company_id (number), beacon_id (hex), ref_rssi, mfg_reserved
 *   eddystone-uid  namespace (hex), instance (hex), tx_power
 *   eddystone-url  url (JSON-escaped), tx_power
 *   eddystone-tlm  battery_mv, temperature_c (number or null), adv_count,
 *                  uptime_s (counter / 10, one decimal)
 *   eddystone-etlm etlm (hex), salt, mic (numbers)
 *   eddystone-eid  eid (hex), tx_power
 * No trailing newline. No allocation.
 */
#ifndef BGW_REPORT_JSON_H
#define BGW_REPORT_JSON_H

#include <stddef.h>

#include "adv_report.h"

#define REPORT_JSON_MAX_BEACONS 8
/* Enough for any report: 1650 data bytes as hex plus the beacons. */
#define REPORT_JSON_MAX 8192

/*
 * Format r into buf (snprintf-style): returns the length of the whole line
 * (without the NUL); when that is >= cap the line was cut, but buf is
 * always NUL-terminated when cap > 0.
 */
size_t report_json_format(const struct adv_report *r, char *buf, size_t cap);

#endif
