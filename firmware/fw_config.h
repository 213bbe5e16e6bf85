/*
 * fw_config.h - what one beacon broadcasts: identifiers, identity key,
 * interval, TX power and the frame schedule. Filled from the build-time
 * defaults (fw_build_config.h) or from UICR (fw_uicr.h); the host
 * simulator also reads it from an INI file.
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum fw_frame_kind {
	FW_FRAME_IBEACON = 1,
	FW_FRAME_UID = 2,
	FW_FRAME_URL = 3,
	FW_FRAME_TLM = 4,
	FW_FRAME_EID = 5,
};

#define FW_SCHEDULE_MAX 4
#define FW_URL_ENC_MAX 18 /* scheme byte + 17 encoded bytes */
#define FW_INTERVAL_MIN_MS 100 /* ADV_NONCONN_IND minimum (Core v5.x Vol 6 B 4.4.2.2) */
#define FW_INTERVAL_MAX_MS 10240

struct fw_config {
	uint16_t interval_ms;     /* advInterval, 100..10240 */
	int8_t tx_power_dbm;      /* RADIO TXPOWER, rounded down to a supported step */
	int8_t ibeacon_power;     /* iBeacon measured power at 1 m */
	int8_t eddystone_power;   /* Eddystone calibrated power at 0 m */
	uint8_t eid_exponent;     /* rotation every 2^K seconds, 0..15 */
	uint8_t tlm_every;        /* a TLM in every Nth event; 0 = never */
	uint8_t tlm_encrypted;    /* 1: that TLM is eTLM (EID tags only, and required there) */
	uint8_t schedule_len;     /* 1..FW_SCHEDULE_MAX */
	uint8_t schedule[FW_SCHEDULE_MAX]; /* enum fw_frame_kind, cycled per event */
	uint8_t identity_key[16]; /* Eddystone-EID identity key; all zero = not provisioned */
	uint32_t eid_clock_base;  /* EID seconds counter value at power-up */
	uint8_t ibeacon_uuid[16];
	uint16_t ibeacon_major;
	uint16_t ibeacon_minor;
	uint8_t uid_namespace[10];
	uint8_t uid_instance[6];
	uint8_t url_len;          /* encoded Eddystone-URL (bf_url_encode) */
	uint8_t url[FW_URL_ENC_MAX];
};

enum fw_config_error {
	FW_CONFIG_OK = 0,
	FW_CONFIG_BAD_INTERVAL,
	FW_CONFIG_BAD_SCHEDULE,
	FW_CONFIG_BAD_EXPONENT,
	FW_CONFIG_BAD_URL,
	FW_CONFIG_PRIVACY_MIX, /* a static identifier scheduled beside EID */
	FW_CONFIG_PLAIN_TLM,   /* plain TLM on an EID tag: its counters link the rotations */
	FW_CONFIG_NO_KEY,      /* EID without a provisioned (non-zero) identity key */
	FW_CONFIG_ETLM_NO_EID, /* eTLM needs the EID key and time base */
};

/* The build-time defaults (CMake cache variables, fw_build_config.h). */
void fw_config_defaults(struct fw_config *cfg);

/* The configuration of a customer's EID tag: build defaults, EID in every
 * event, no telemetry, the given key, exponent and clock base. What
 * beaconctl encodes for provisioning. */
void fw_config_eid_tag(struct fw_config *cfg, const uint8_t identity_key[16], uint8_t exponent,
		       uint32_t clock_base);

/* Validate; FW_CONFIG_OK or the first problem found. */
enum fw_config_error fw_config_check(const struct fw_config *cfg);
const char *fw_config_error_str(enum fw_config_error e);

/* A privacy tag broadcasts EID: its address rotates and no static
 * identifier (iBeacon, UID, URL) is ever sent from it. */
bool fw_config_is_private(const struct fw_config *cfg);

#endif
