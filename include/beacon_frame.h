/*
 * beacon_frame.h - the beacon frame codec shared by the gateway and the
 * nRF52 firmware: length-checked AD structure iteration, decoding and
 * encoding of iBeacon, AltBeacon and Eddystone (UID, URL, TLM, eTLM, EID).
 *
 * Pure functions over caller-owned buffers: no allocation, no I/O, no libc
 * beyond <string.h>, so the same C file builds for the host and Cortex-M.
 * Every decoder reads only inside [data, data + len) whatever the bytes say.
 *
 * Byte order: multi-byte values in the structs below are host integers;
 * byte arrays (UUID, namespace, instance, EID, eTLM) are kept in the order
 * they appear on air, which for all these formats is big-endian.
 */
#ifndef BEACON_FRAME_H
#define BEACON_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Legacy advertising data is at most 31 bytes; extended up to 1650. */
#define BF_LEGACY_ADV_MAX 31
#define BF_EXT_ADV_MAX 1650

/* AD types used by the codec (Bluetooth Assigned Numbers). */
#define BF_AD_FLAGS 0x01
#define BF_AD_UUID16_COMPLETE 0x03
#define BF_AD_SERVICE_DATA16 0x16
#define BF_AD_MANUFACTURER 0xFF

#define BF_COMPANY_APPLE 0x004C
#define BF_EDDYSTONE_UUID16 0xFEAA
#define BF_ALTBEACON_CODE 0xBEAC

/* Longest expanded Eddystone-URL: the scheme "https://www." (12) plus a
 * body of at most 17 bytes that each expand to at most 6 characters
 * (".info/"): 12 + 17 * 6 = 114, rounded up. */
#define BF_URL_MAX 128

/* Eddystone-TLM temperature "not supported" marker (8.8 fixed point). */
#define BF_TLM_TEMP_UNSUPPORTED ((int16_t)-32768) /* 0x8000 */

/* ---------------------------------------------------------------- AD */

/* One AD structure: type and value (value excludes the type byte). */
struct bf_ad {
	uint8_t type;
	uint8_t len;          /* length of value */
	const uint8_t *value; /* points into the caller's buffer */
};

/*
 * Iterate AD structures. *off starts at 0. Returns true and fills *ad for
 * each well-formed structure; false at the end of the data. A length byte
 * of 0 ends the data (Core spec Vol 3 Part C 11: the rest is padding). A
 * structure whose length runs past the end is not returned, but earlier
 * ones were, so a stray trailing byte never hides a beacon.
 */
bool bf_ad_next(const uint8_t *data, size_t len, size_t *off, struct bf_ad *ad);

/* ---------------------------------------------------------------- frames */

enum bf_type {
	BF_NONE = 0,
	BF_IBEACON,
	BF_ALTBEACON,
	BF_EDDYSTONE_UID,
	BF_EDDYSTONE_URL,
	BF_EDDYSTONE_TLM,  /* unencrypted TLM, version 0 */
	BF_EDDYSTONE_ETLM, /* encrypted TLM, version 1 */
	BF_EDDYSTONE_EID,
};

struct bf_ibeacon {
	uint8_t uuid[16];
	uint16_t major;
	uint16_t minor;
	int8_t measured_power; /* dBm at 1 m, signed */
};

struct bf_altbeacon {
	uint16_t company_id;   /* manufacturer id, little-endian on air */
	uint8_t beacon_id[20]; /* as on air */
	int8_t ref_rssi;       /* dBm at 1 m */
	uint8_t mfg_reserved;
};

struct bf_eddystone_uid {
	int8_t tx_power;        /* calibrated at 0 m */
	uint8_t namespace_id[10];
	uint8_t instance[6];
	bool has_reserved;      /* the 2 RFU bytes were present */
};

struct bf_eddystone_url {
	int8_t tx_power;
	char url[BF_URL_MAX + 1]; /* expanded, NUL-terminated */
};

struct bf_eddystone_tlm {
	uint16_t battery_mv;  /* 0 = not supported */
	int16_t temp_8_8;     /* degrees C in 8.8 fixed point; BF_TLM_TEMP_UNSUPPORTED */
	uint32_t adv_count;
	uint32_t uptime_ds;   /* time since power-up in 0.1 s */
};

struct bf_eddystone_etlm {
	uint8_t etlm[12]; /* encrypted TLM payload */
	uint16_t salt;    /* big-endian on air */
	uint16_t mic;     /* big-endian on air */
};

struct bf_eddystone_eid {
	int8_t tx_power;
	uint8_t eid[8];
};

struct bf_frame {
	enum bf_type type;
	union {
		struct bf_ibeacon ibeacon;
		struct bf_altbeacon altbeacon;
		struct bf_eddystone_uid uid;
		struct bf_eddystone_url url;
		struct bf_eddystone_tlm tlm;
		struct bf_eddystone_etlm etlm;
		struct bf_eddystone_eid eid;
	} u;
};

/*
 * Decode every beacon frame in one advertising payload (legacy or
 * extended). Writes at most max frames to out and returns how many were
 * found (which may exceed max: only the first max are written). Never
 * fails: bytes that are not a beacon are skipped.
 */
size_t bf_decode(const uint8_t *data, size_t len, struct bf_frame *out, size_t max);

/*
 * Decode a single AD structure; returns true and fills *f when it is a
 * beacon frame. bf_decode is a loop over this.
 */
bool bf_decode_ad(const struct bf_ad *ad, struct bf_frame *f);

/*
 * Encode one frame as a complete advertising payload: Flags AD (0x06,
 * LE General Discoverable + BR/EDR not supported) followed by the frame.
 * Eddystone frames also carry the Complete 16-bit Service UUIDs AD
 * (0xFEAA) the specification requires. Returns the payload length, or 0
 * when the frame does not fit in cap or is invalid (e.g. a URL that the
 * Eddystone encoding cannot express).
 */
size_t bf_encode(const struct bf_frame *f, uint8_t *out, size_t cap);

/*
 * Eddystone-URL compression: scheme prefix byte, then the expansion
 * codes. Returns the encoded length (1 + body) or 0 when the URL has no
 * known scheme or does not fit in cap (at most 18 bytes on air).
 */
size_t bf_url_encode(const char *url, uint8_t *out, size_t cap);

/* Expansion of an encoded URL (scheme byte first). false on an unknown
 * scheme byte or when the result would not fit in cap (incl. NUL). Bytes
 * 0x0E..0x20 and 0x7F..0xFF are invalid in the body. */
bool bf_url_decode(const uint8_t *enc, size_t len, char *out, size_t cap);

/* Name used in JSON output: "ibeacon", "altbeacon", "eddystone-uid", ...
 * "none" for BF_NONE and for values outside the enum. */
const char *bf_type_name(enum bf_type t);

/*
 * Field-by-field equality of two decoded frames (the union's unused bytes
 * and anything after the URL's NUL are ignored). Used by the tests and
 * the fuzz harness to check that encode + decode gives the frame back.
 */
bool bf_frame_equal(const struct bf_frame *a, const struct bf_frame *b);

#ifdef __cplusplus
}
#endif
#endif
