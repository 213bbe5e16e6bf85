/*
 * report_json.c - the --dump JSON line of one advertising report (see
 * report_json.h).
 */
#include "report_json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "beacon_frame.h"

/* An snprintf-style appender: counts everything, stores what fits. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void put_char(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void put_str(struct out *o, const char *s)
{
	while (*s)
		put_char(o, *s++);
}

__attribute__((format(printf, 2, 3)))
static void put_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only short numbers go through here. */
	if (n > 0)
		put_str(o, tmp);
}

static void put_hex(struct out *o, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		put_char(o, digits[p[i] >> 4]);
		put_char(o, digits[p[i] & 0xF]);
	}
}

static void put_json_string(struct out *o, const char *s)
{
	put_char(o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			put_char(o, '\\');
			put_char(o, (char)c);
		} else if (c < 0x20 || c == 0x7F) {
			put_fmt(o, "\\u%04x", c);
		} else {
			put_char(o, (char)c);
		}
	}
	put_char(o, '"');
}

static void put_ts(struct out *o, uint64_t ts_us)
{
	time_t secs = (time_t)(ts_us / 1000000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		put_str(o, "null");
		return;
	}
	put_fmt(o, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ts_us % 1000000));
}

static const char *addr_type_name(uint8_t t)
{
	switch (t) {
	case ADV_ADDR_PUBLIC:    return "public";
	case ADV_ADDR_RANDOM:    return "random";
	case ADV_ADDR_PUBLIC_ID: return "public-id";
	case ADV_ADDR_RANDOM_ID: return "random-id";
	case ADV_ADDR_ANONYMOUS: return "anonymous";
	default:                 return "unknown";
	}
}

static const char *kind_name(enum adv_kind k)
{
	switch (k) {
	case ADV_KIND_IND:         return "adv_ind";
	case ADV_KIND_DIRECT_IND:  return "adv_direct_ind";
	case ADV_KIND_SCAN_IND:    return "adv_scan_ind";
	case ADV_KIND_NONCONN_IND: return "adv_nonconn_ind";
	case ADV_KIND_SCAN_RSP:    return "scan_rsp";
	case ADV_KIND_EXT:         return "ext";
	default:                   return "unknown";
	}
}

static void put_phy(struct out *o, const char *key, uint8_t phy)
{
	put_fmt(o, ",\"%s\":", key);
	switch (phy) {
	case 0:  put_str(o, "null"); break;
	case 1:  put_str(o, "\"1m\""); break;
	case 2:  put_str(o, "\"2m\""); break;
	case 3:  put_str(o, "\"coded\""); break;
	default: put_str(o, "\"unknown\""); break;
	}
}

static void put_uuid(struct out *o, const uint8_t u[16])
{
	put_char(o, '"');
	put_hex(o, u, 4);
	put_char(o, '-');
	put_hex(o, u + 4, 2);
	put_char(o, '-');
	put_hex(o, u + 6, 2);
	put_char(o, '-');
	put_hex(o, u + 8, 2);
	put_char(o, '-');
	put_hex(o, u + 10, 6);
	put_char(o, '"');
}

static void put_hex_field(struct out *o, const char *key, const uint8_t *p, size_t n)
{
	put_fmt(o, ",\"%s\":\"", key);
	put_hex(o, p, n);
	put_char(o, '"');
}

static void put_beacon(struct out *o, const struct bf_frame *f)
{
	put_str(o, "{\"type\":");
	put_json_string(o, bf_type_name(f->type));
	switch (f->type) {
	case BF_IBEACON:
		put_str(o, ",\"uuid\":");
		put_uuid(o, f->u.ibeacon.uuid);
		put_fmt(o, ",\"major\":%u,\"minor\":%u,\"measured_power\":%d",
			f->u.ibeacon.major, f->u.ibeacon.minor, f->u.ibeacon.measured_power);
		break;
	case BF_ALTBEACON:
		put_fmt(o, ",\"company_id\":%u", f->u.altbeacon.company_id);
		put_hex_field(o, "beacon_id", f->u.altbeacon.beacon_id,
			      sizeof(f->u.altbeacon.beacon_id));
		put_fmt(o, ",\"ref_rssi\":%d,\"mfg_reserved\":%u", f->u.altbeacon.ref_rssi,
			f->u.altbeacon.mfg_reserved);
		break;
	case BF_EDDYSTONE_UID:
		put_hex_field(o, "namespace", f->u.uid.namespace_id, sizeof(f->u.uid.namespace_id));
		put_hex_field(o, "instance", f->u.uid.instance, sizeof(f->u.uid.instance));
		put_fmt(o, ",\"tx_power\":%d", f->u.uid.tx_power);
		break;
	case BF_EDDYSTONE_URL:
		put_str(o, ",\"url\":");
		put_json_string(o, f->u.url.url);
		put_fmt(o, ",\"tx_power\":%d", f->u.url.tx_power);
		break;
	case BF_EDDYSTONE_TLM:
		put_fmt(o, ",\"battery_mv\":%u,\"temperature_c\":", f->u.tlm.battery_mv);
		if (f->u.tlm.temp_8_8 == BF_TLM_TEMP_UNSUPPORTED)
			put_str(o, "null");
		else	/* 8.8 fixed point: exact in at most 8 decimals */
			put_fmt(o, "%.10g", f->u.tlm.temp_8_8 / 256.0);
		put_fmt(o, ",\"adv_count\":%lu,\"uptime_s\":%lu.%lu",
			(unsigned long)f->u.tlm.adv_count, (unsigned long)(f->u.tlm.uptime_ds / 10),
			(unsigned long)(f->u.tlm.uptime_ds % 10));
		break;
	case BF_EDDYSTONE_ETLM:
		put_hex_field(o, "etlm", f->u.etlm.etlm, sizeof(f->u.etlm.etlm));
		put_fmt(o, ",\"salt\":%u,\"mic\":%u", f->u.etlm.salt, f->u.etlm.mic);
		break;
	case BF_EDDYSTONE_EID:
		put_hex_field(o, "eid", f->u.eid.eid, sizeof(f->u.eid.eid));
		put_fmt(o, ",\"tx_power\":%d", f->u.eid.tx_power);
		break;
	default:
		break;
	}
	put_char(o, '}');
}

size_t report_json_format(const struct adv_report *r, char *buf, size_t cap)
{
	struct bf_frame frames[REPORT_JSON_MAX_BEACONS];
	struct out o = { buf, cap, 0 };
	size_t n;

	put_str(&o, "{\"ts\":");
	put_ts(&o, r->ts_us);
	put_fmt(&o, ",\"addr\":\"%02X:%02X:%02X:%02X:%02X:%02X\"", r->addr[5], r->addr[4],
		r->addr[3], r->addr[2], r->addr[1], r->addr[0]);
	put_fmt(&o, ",\"addr_type\":\"%s\",\"rssi\":", addr_type_name(r->addr_type));
	if (adv_rssi_valid(r))
		put_fmt(&o, "%d", r->rssi);
	else
		put_str(&o, "null");
	put_fmt(&o, ",\"kind\":\"%s\"", kind_name(r->kind));
	if (r->kind == ADV_KIND_EXT) {
		put_phy(&o, "phy", r->primary_phy);
		put_phy(&o, "secondary_phy", r->secondary_phy);
		put_str(&o, ",\"sid\":");
		if (r->sid == 0xFF)
			put_str(&o, "null");
		else
			put_fmt(&o, "%u", r->sid);
		put_str(&o, ",\"tx_power\":");
		if (r->tx_power == ADV_TX_POWER_UNAVAILABLE)
			put_str(&o, "null");
		else
			put_fmt(&o, "%d", r->tx_power);
		put_fmt(&o, ",\"data_status\":\"%s\"",
			r->data_status == ADV_DATA_TRUNCATED ? "truncated" : "complete");
	}
	put_str(&o, ",\"data\":\"");
	if (r->data_len)
		put_hex(&o, r->data, r->data_len);
	put_str(&o, "\",\"beacons\":[");
	n = r->data_len ? bf_decode(r->data, r->data_len, frames, REPORT_JSON_MAX_BEACONS) : 0;
	if (n > REPORT_JSON_MAX_BEACONS)
		n = REPORT_JSON_MAX_BEACONS;
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_char(&o, ',');
		put_beacon(&o, &frames[i]);
	}
	put_str(&o, "]}");
	if (cap > 0)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}
