/*
 * beacon_frame.c - decoding and encoding of iBeacon, AltBeacon and
 * Eddystone frames inside BLE advertising data.
 *
 * This file is compiled for the gateway and, unchanged, for the nRF52
 * firmware: it uses nothing but <string.h> and never allocates. Every
 * read is preceded by a length check against the AD structure that holds
 * it, and AD structures are only produced by bf_ad_next, which checks them
 * against the buffer. The decisions on ambiguous inputs are explained in
 * docs/beacon-frames.md.
 */
#include "beacon_frame.h"
#include "bgw_util.h"

#include <string.h>

/* Fixed sizes on air, counted in bytes of AD value (after the type byte). */
#define IBEACON_VALUE_LEN 25   /* company 2, type 1, len 1, uuid 16, major 2, minor 2, power 1 */
#define IBEACON_TYPE 0x02
#define IBEACON_TLV_LEN 0x15   /* 21 bytes follow the iBeacon type/length pair */
#define ALTBEACON_VALUE_LEN 26 /* mfg id 2, code 2, beacon id 20, ref rssi 1, reserved 1 */

/* Eddystone frame lengths, counted from the frame type byte. */
#define ES_UID_LEN 20
#define ES_UID_LEN_NO_RFU 18
#define ES_URL_MIN_LEN 3       /* frame type, tx power, scheme */
#define ES_URL_BODY_MAX 17
#define ES_URL_MAX_LEN (ES_URL_MIN_LEN + ES_URL_BODY_MAX)
#define ES_TLM_LEN 14
#define ES_ETLM_LEN 18
#define ES_EID_LEN 10

#define ES_FRAME_UID 0x00
#define ES_FRAME_URL 0x10
#define ES_FRAME_TLM 0x20
#define ES_FRAME_EID 0x30
#define ES_TLM_PLAIN 0x00
#define ES_TLM_ENCRYPTED 0x01

/* Flags value written by the encoder: LE General Discoverable, BR/EDR not supported. */
#define BF_FLAGS_VALUE 0x06

/* ---------------------------------------------------------------- AD */

bool bf_ad_next(const uint8_t *data, size_t len, size_t *off, struct bf_ad *ad)
{
	size_t o, ad_len;

	if (!data || !off || !ad || *off >= len)
		return false;
	o = *off;
	ad_len = data[o];
	/* Length 0 is early termination (Core spec Vol 3 Part C 11); the
	 * rest is padding, often zeros, never more structures. */
	if (ad_len == 0) {
		*off = len;
		return false;
	}
	/* Runs past the end: this structure and anything after it are
	 * unusable, but the caller keeps what it already got. */
	if (ad_len > len - o - 1) {
		*off = len;
		return false;
	}
	ad->type = data[o + 1];
	ad->len = (uint8_t)(ad_len - 1);
	ad->value = &data[o + 2];
	*off = o + 1 + ad_len;
	return true;
}

/* ---------------------------------------------------------------- URL */

static const char *const url_schemes[] = {
	"http://www.",
	"https://www.",
	"http://",
	"https://",
};

static const char *const url_expansions[] = {
	".com/", ".org/", ".edu/", ".net/", ".info/", ".biz/", ".gov/",
	".com",  ".org",  ".edu",  ".net",  ".info",  ".biz",  ".gov",
};

#define N_SCHEMES (sizeof(url_schemes) / sizeof(url_schemes[0]))
#define N_EXPANSIONS (sizeof(url_expansions) / sizeof(url_expansions[0]))

/* Characters that stand for themselves in an encoded URL body. */
static bool url_literal_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

static bool url_append(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
	/* keep one byte for the NUL */
	if (n >= cap - *pos)
		return false;
	memcpy(out + *pos, s, n);
	*pos += n;
	return true;
}

bool bf_url_decode(const uint8_t *enc, size_t len, char *out, size_t cap)
{
	size_t pos = 0, i;

	if (!enc || !out || cap == 0 || len == 0 || enc[0] >= N_SCHEMES)
		return false;
	if (!url_append(out, cap, &pos, url_schemes[enc[0]], strlen(url_schemes[enc[0]])))
		return false;
	for (i = 1; i < len; i++) {
		uint8_t c = enc[i];

		if (c < N_EXPANSIONS) {
			if (!url_append(out, cap, &pos, url_expansions[c],
					strlen(url_expansions[c])))
				return false;
		} else if (url_literal_ok(c)) {
			if (!url_append(out, cap, &pos, (const char *)&enc[i], 1))
				return false;
		} else {
			return false;
		}
	}
	out[pos] = '\0';
	return true;
}

static bool starts_with(const char *s, const char *prefix, size_t *n)
{
	size_t l = strlen(prefix);

	if (strncmp(s, prefix, l) != 0)
		return false;
	*n = l;
	return true;
}

/* Compress a URL body (after the scheme) into at most room bytes, taking
 * at each position the longest expansion that matches. */
static bool url_encode_body(const char *p, uint8_t *out, size_t room, size_t *n)
{
	size_t used = 0;

	while (*p) {
		size_t best_len = 0, e;
		uint8_t best = 0;

		for (e = 0; e < N_EXPANSIONS; e++) {
			size_t el;

			if (starts_with(p, url_expansions[e], &el) && el > best_len) {
				best_len = el;
				best = (uint8_t)e;
			}
		}
		if (used >= room)
			return false;
		if (best_len) {
			out[used++] = best;
			p += best_len;
		} else if (url_literal_ok((uint8_t)*p)) {
			out[used++] = (uint8_t)*p++;
		} else {
			return false;
		}
	}
	*n = used;
	return true;
}

size_t bf_url_encode(const char *url, uint8_t *out, size_t cap)
{
	uint8_t best[1 + ES_URL_BODY_MAX], tmp[1 + ES_URL_BODY_MAX];
	size_t limit = sizeof(best), best_n = 0, s, used, body;

	if (!url || !out)
		return 0;
	if (cap < limit)
		limit = cap;
	if (limit == 0)
		return 0;
	/* Two schemes can match ("http://www." and "http://"). The longer
	 * one is not always the shorter encoding ("http://www.info/" is
	 * 0x02 "www" 0x04 but 0x00 "info/"), so try both and keep the
	 * shorter: re-encoding a decoded URL then never grows it. */
	for (s = 0; s < N_SCHEMES; s++) {
		if (!starts_with(url, url_schemes[s], &used))
			continue;
		tmp[0] = (uint8_t)s;
		if (!url_encode_body(url + used, tmp + 1, limit - 1, &body))
			continue;
		if (best_n == 0 || 1 + body < best_n) {
			best_n = 1 + body;
			memcpy(best, tmp, best_n);
		}
	}
	if (best_n)
		memcpy(out, best, best_n);
	return best_n;
}

/* ---------------------------------------------------------------- decode */

static bool decode_manufacturer(const struct bf_ad *ad, struct bf_frame *f)
{
	const uint8_t *v = ad->value;

	if (ad->len < 4)
		return false;
	/* iBeacon: Apple's first TLV is type 0x02 length 0x15. Apple
	 * manufacturer data is a sequence of such TLVs, so bytes after the
	 * 21-byte iBeacon TLV belong to another TLV and do not disqualify it. */
	if (bgw_get_le16(v) == BF_COMPANY_APPLE && v[2] == IBEACON_TYPE && v[3] == IBEACON_TLV_LEN) {
		if (ad->len < IBEACON_VALUE_LEN)
			return false;
		memset(f, 0, sizeof(*f));
		f->type = BF_IBEACON;
		memcpy(f->u.ibeacon.uuid, v + 4, 16);
		f->u.ibeacon.major = bgw_get_be16(v + 20);
		f->u.ibeacon.minor = bgw_get_be16(v + 22);
		f->u.ibeacon.measured_power = (int8_t)v[24];
		return true;
	}
	/* AltBeacon: any company, beacon code 0xBEAC, exactly the 26-byte
	 * layout the specification fixes (AD length 0x1B). */
	if (v[2] == (BF_ALTBEACON_CODE >> 8) && v[3] == (BF_ALTBEACON_CODE & 0xff)) {
		if (ad->len != ALTBEACON_VALUE_LEN)
			return false;
		memset(f, 0, sizeof(*f));
		f->type = BF_ALTBEACON;
		f->u.altbeacon.company_id = bgw_get_le16(v);
		memcpy(f->u.altbeacon.beacon_id, v + 4, 20);
		f->u.altbeacon.ref_rssi = (int8_t)v[24];
		f->u.altbeacon.mfg_reserved = v[25];
		return true;
	}
	return false;
}

static bool decode_eddystone(const uint8_t *fr, size_t len, struct bf_frame *f)
{
	if (len < 1)
		return false;
	memset(f, 0, sizeof(*f));
	switch (fr[0]) {
	case ES_FRAME_UID:
		if (len != ES_UID_LEN && len != ES_UID_LEN_NO_RFU)
			return false;
		f->type = BF_EDDYSTONE_UID;
		f->u.uid.tx_power = (int8_t)fr[1];
		memcpy(f->u.uid.namespace_id, fr + 2, 10);
		memcpy(f->u.uid.instance, fr + 12, 6);
		f->u.uid.has_reserved = len == ES_UID_LEN;
		return true;
	case ES_FRAME_URL:
		if (len < ES_URL_MIN_LEN || len > ES_URL_MAX_LEN)
			return false;
		if (!bf_url_decode(fr + 2, len - 2, f->u.url.url, sizeof(f->u.url.url)))
			return false;
		f->type = BF_EDDYSTONE_URL;
		f->u.url.tx_power = (int8_t)fr[1];
		return true;
	case ES_FRAME_TLM:
		if (len == ES_TLM_LEN && fr[1] == ES_TLM_PLAIN) {
			f->type = BF_EDDYSTONE_TLM;
			f->u.tlm.battery_mv = bgw_get_be16(fr + 2);
			f->u.tlm.temp_8_8 = (int16_t)bgw_get_be16(fr + 4);
			f->u.tlm.adv_count = bgw_get_be32(fr + 6);
			f->u.tlm.uptime_ds = bgw_get_be32(fr + 10);
			return true;
		}
		if (len == ES_ETLM_LEN && fr[1] == ES_TLM_ENCRYPTED) {
			f->type = BF_EDDYSTONE_ETLM;
			memcpy(f->u.etlm.etlm, fr + 2, 12);
			f->u.etlm.salt = bgw_get_be16(fr + 14);
			f->u.etlm.mic = bgw_get_be16(fr + 16);
			return true;
		}
		return false;
	case ES_FRAME_EID:
		if (len != ES_EID_LEN)
			return false;
		f->type = BF_EDDYSTONE_EID;
		f->u.eid.tx_power = (int8_t)fr[1];
		memcpy(f->u.eid.eid, fr + 2, 8);
		return true;
	default:
		return false;
	}
}

/* The frame in one AD structure, if it holds one. f is scratch: the
 * decoders zero it once they know they have a frame (most manufacturer
 * data is not one), so that two decodes of the same bytes compare equal
 * byte for byte, but a failed decode may leave it half written. */
static bool decode_ad(const struct bf_ad *ad, struct bf_frame *f)
{
	if (ad->type == BF_AD_MANUFACTURER)
		return decode_manufacturer(ad, f);
	if (ad->type == BF_AD_SERVICE_DATA16 && ad->len >= 2 &&
	    bgw_get_le16(ad->value) == BF_EDDYSTONE_UUID16)
		return decode_eddystone(ad->value + 2, ad->len - 2u, f);
	return false;
}

bool bf_decode_ad(const struct bf_ad *ad, struct bf_frame *f)
{
	struct bf_frame tmp;

	if (!ad || !f || (ad->len && !ad->value))
		return false;
	/* Through a scratch frame: *f is either untouched or fully written. */
	if (!decode_ad(ad, &tmp))
		return false;
	*f = tmp;
	return true;
}

size_t bf_decode(const uint8_t *data, size_t len, struct bf_frame *out, size_t max)
{
	size_t off = 0, found = 0;
	struct bf_ad ad;
	struct bf_frame f;

	if (!out)
		max = 0;
	while (bf_ad_next(data, len, &off, &ad)) {
		if (!decode_ad(&ad, &f))
			continue;
		if (found < max)
			out[found] = f;
		found++;
	}
	return found;
}

/* ---------------------------------------------------------------- encode */

/* Frame-specific part of an encoded payload, written after the header. */
static size_t encode_eddystone_frame(const struct bf_frame *f, uint8_t *fr)
{
	size_t n;

	switch (f->type) {
	case BF_EDDYSTONE_UID:
		fr[0] = ES_FRAME_UID;
		fr[1] = (uint8_t)f->u.uid.tx_power;
		memcpy(fr + 2, f->u.uid.namespace_id, 10);
		memcpy(fr + 12, f->u.uid.instance, 6);
		if (!f->u.uid.has_reserved)
			return ES_UID_LEN_NO_RFU;
		fr[18] = 0;
		fr[19] = 0;
		return ES_UID_LEN;
	case BF_EDDYSTONE_URL:
		fr[0] = ES_FRAME_URL;
		fr[1] = (uint8_t)f->u.url.tx_power;
		/* The URL must be NUL-terminated inside its array. */
		if (memchr(f->u.url.url, '\0', sizeof(f->u.url.url)) == NULL)
			return 0;
		n = bf_url_encode(f->u.url.url, fr + 2, 1 + ES_URL_BODY_MAX);
		return n ? n + 2 : 0;
	case BF_EDDYSTONE_TLM:
		fr[0] = ES_FRAME_TLM;
		fr[1] = ES_TLM_PLAIN;
		bgw_put_be16(fr + 2, f->u.tlm.battery_mv);
		bgw_put_be16(fr + 4, (uint16_t)f->u.tlm.temp_8_8);
		bgw_put_be32(fr + 6, f->u.tlm.adv_count);
		bgw_put_be32(fr + 10, f->u.tlm.uptime_ds);
		return ES_TLM_LEN;
	case BF_EDDYSTONE_ETLM:
		fr[0] = ES_FRAME_TLM;
		fr[1] = ES_TLM_ENCRYPTED;
		memcpy(fr + 2, f->u.etlm.etlm, 12);
		bgw_put_be16(fr + 14, f->u.etlm.salt);
		bgw_put_be16(fr + 16, f->u.etlm.mic);
		return ES_ETLM_LEN;
	case BF_EDDYSTONE_EID:
		fr[0] = ES_FRAME_EID;
		fr[1] = (uint8_t)f->u.eid.tx_power;
		memcpy(fr + 2, f->u.eid.eid, 8);
		return ES_EID_LEN;
	default:
		return 0;
	}
}

/* Build the payload in a scratch buffer of the largest legacy size, then
 * copy it out only if it fits: the caller's buffer is never half written. */
size_t bf_encode(const struct bf_frame *f, uint8_t *out, size_t cap)
{
	uint8_t buf[BF_LEGACY_ADV_MAX];
	size_t n = 0, fl;

	if (!f || !out)
		return 0;
	buf[n++] = 2;
	buf[n++] = BF_AD_FLAGS;
	buf[n++] = BF_FLAGS_VALUE;

	switch (f->type) {
	case BF_IBEACON:
		buf[n++] = 1 + IBEACON_VALUE_LEN;
		buf[n++] = BF_AD_MANUFACTURER;
		bgw_put_le16(buf + n, BF_COMPANY_APPLE);
		buf[n + 2] = IBEACON_TYPE;
		buf[n + 3] = IBEACON_TLV_LEN;
		memcpy(buf + n + 4, f->u.ibeacon.uuid, 16);
		bgw_put_be16(buf + n + 20, f->u.ibeacon.major);
		bgw_put_be16(buf + n + 22, f->u.ibeacon.minor);
		buf[n + 24] = (uint8_t)f->u.ibeacon.measured_power;
		n += IBEACON_VALUE_LEN;
		break;
	case BF_ALTBEACON:
		buf[n++] = 1 + ALTBEACON_VALUE_LEN;
		buf[n++] = BF_AD_MANUFACTURER;
		bgw_put_le16(buf + n, f->u.altbeacon.company_id);
		buf[n + 2] = BF_ALTBEACON_CODE >> 8;
		buf[n + 3] = BF_ALTBEACON_CODE & 0xff;
		memcpy(buf + n + 4, f->u.altbeacon.beacon_id, 20);
		buf[n + 24] = (uint8_t)f->u.altbeacon.ref_rssi;
		buf[n + 25] = f->u.altbeacon.mfg_reserved;
		n += ALTBEACON_VALUE_LEN;
		break;
	case BF_EDDYSTONE_UID:
	case BF_EDDYSTONE_URL:
	case BF_EDDYSTONE_TLM:
	case BF_EDDYSTONE_ETLM:
	case BF_EDDYSTONE_EID:
		/* Complete list of 16-bit service UUIDs: FEAA. */
		buf[n++] = 3;
		buf[n++] = BF_AD_UUID16_COMPLETE;
		bgw_put_le16(buf + n, BF_EDDYSTONE_UUID16);
		n += 2;
		/* Service data: length, type, UUID, then the frame. The largest
		 * frame (20 bytes) ends exactly at byte 31. */
		fl = encode_eddystone_frame(f, buf + n + 4);
		if (fl == 0)
			return 0;
		buf[n] = (uint8_t)(3 + fl);
		buf[n + 1] = BF_AD_SERVICE_DATA16;
		bgw_put_le16(buf + n + 2, BF_EDDYSTONE_UUID16);
		n += 4 + fl;
		break;
	default:
		return 0;
	}
	if (n > cap)
		return 0;
	memcpy(out, buf, n);
	return n;
}

/* ---------------------------------------------------------------- misc */

const char *bf_type_name(enum bf_type t)
{
	switch (t) {
	case BF_IBEACON:
		return "ibeacon";
	case BF_ALTBEACON:
		return "altbeacon";
	case BF_EDDYSTONE_UID:
		return "eddystone-uid";
	case BF_EDDYSTONE_URL:
		return "eddystone-url";
	case BF_EDDYSTONE_TLM:
		return "eddystone-tlm";
	case BF_EDDYSTONE_ETLM:
		return "eddystone-etlm";
	case BF_EDDYSTONE_EID:
		return "eddystone-eid";
	case BF_NONE:
	default:
		return "none";
	}
}

bool bf_frame_equal(const struct bf_frame *a, const struct bf_frame *b)
{
	if (!a || !b || a->type != b->type)
		return false;
	switch (a->type) {
	case BF_IBEACON:
		return memcmp(a->u.ibeacon.uuid, b->u.ibeacon.uuid, 16) == 0 &&
		       a->u.ibeacon.major == b->u.ibeacon.major &&
		       a->u.ibeacon.minor == b->u.ibeacon.minor &&
		       a->u.ibeacon.measured_power == b->u.ibeacon.measured_power;
	case BF_ALTBEACON:
		return a->u.altbeacon.company_id == b->u.altbeacon.company_id &&
		       memcmp(a->u.altbeacon.beacon_id, b->u.altbeacon.beacon_id, 20) == 0 &&
		       a->u.altbeacon.ref_rssi == b->u.altbeacon.ref_rssi &&
		       a->u.altbeacon.mfg_reserved == b->u.altbeacon.mfg_reserved;
	case BF_EDDYSTONE_UID:
		return a->u.uid.tx_power == b->u.uid.tx_power &&
		       memcmp(a->u.uid.namespace_id, b->u.uid.namespace_id, 10) == 0 &&
		       memcmp(a->u.uid.instance, b->u.uid.instance, 6) == 0 &&
		       a->u.uid.has_reserved == b->u.uid.has_reserved;
	case BF_EDDYSTONE_URL:
		return a->u.url.tx_power == b->u.url.tx_power &&
		       strncmp(a->u.url.url, b->u.url.url, sizeof(a->u.url.url)) == 0;
	case BF_EDDYSTONE_TLM:
		return a->u.tlm.battery_mv == b->u.tlm.battery_mv &&
		       a->u.tlm.temp_8_8 == b->u.tlm.temp_8_8 &&
		       a->u.tlm.adv_count == b->u.tlm.adv_count &&
		       a->u.tlm.uptime_ds == b->u.tlm.uptime_ds;
	case BF_EDDYSTONE_ETLM:
		return memcmp(a->u.etlm.etlm, b->u.etlm.etlm, 12) == 0 &&
		       a->u.etlm.salt == b->u.etlm.salt && a->u.etlm.mic == b->u.etlm.mic;
	case BF_EDDYSTONE_EID:
		return a->u.eid.tx_power == b->u.eid.tx_power &&
		       memcmp(a->u.eid.eid, b->u.eid.eid, 8) == 0;
	case BF_NONE:
	default:
		return true;
	}
}
