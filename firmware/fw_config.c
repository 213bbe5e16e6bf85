/* fw_config.c - build-time defaults and validation of a tag configuration. */
#include "fw_config.h"

#include <string.h>

#include "fw_build_config.h"

void fw_config_defaults(struct fw_config *cfg)
{
	static const uint8_t schedule[] = { FW_CFG_SCHEDULE };
	static const uint8_t key[16] = { FW_CFG_IDENTITY_KEY };
	static const uint8_t uuid[16] = { FW_CFG_IBEACON_UUID };
	static const uint8_t ns[10] = { FW_CFG_UID_NAMESPACE };
	static const uint8_t inst[6] = { FW_CFG_UID_INSTANCE };
	static const uint8_t url[] = { FW_CFG_URL };
	_Static_assert(sizeof(schedule) <= FW_SCHEDULE_MAX, "FW_CFG_SCHEDULE too long");
	_Static_assert(sizeof(url) <= FW_URL_ENC_MAX, "FW_CFG_URL too long");

	memset(cfg, 0, sizeof(*cfg));
	cfg->interval_ms = FW_CFG_INTERVAL_MS;
	cfg->tx_power_dbm = FW_CFG_TX_POWER_DBM;
	cfg->ibeacon_power = FW_CFG_IBEACON_POWER;
	cfg->eddystone_power = FW_CFG_EDDYSTONE_POWER;
	cfg->eid_exponent = FW_CFG_EID_EXPONENT;
	cfg->tlm_every = FW_CFG_TLM_EVERY;
	cfg->tlm_encrypted = FW_CFG_TLM_ENCRYPTED;
	cfg->schedule_len = sizeof(schedule);
	memcpy(cfg->schedule, schedule, sizeof(schedule));
	memcpy(cfg->identity_key, key, sizeof(key));
	memcpy(cfg->ibeacon_uuid, uuid, sizeof(uuid));
	cfg->ibeacon_major = FW_CFG_IBEACON_MAJOR;
	cfg->ibeacon_minor = FW_CFG_IBEACON_MINOR;
	memcpy(cfg->uid_namespace, ns, sizeof(ns));
	memcpy(cfg->uid_instance, inst, sizeof(inst));
	cfg->url_len = sizeof(url);
	memcpy(cfg->url, url, sizeof(url));
}

void fw_config_eid_tag(struct fw_config *cfg, const uint8_t identity_key[16], uint8_t exponent,
		       uint32_t clock_base)
{
	fw_config_defaults(cfg);
	cfg->schedule_len = 1;
	memset(cfg->schedule, 0, sizeof(cfg->schedule));
	cfg->schedule[0] = FW_FRAME_EID;
	cfg->tlm_every = 0;
	cfg->tlm_encrypted = 0;
	memcpy(cfg->identity_key, identity_key, sizeof(cfg->identity_key));
	cfg->eid_exponent = exponent;
	cfg->eid_clock_base = clock_base;
}

bool fw_config_is_private(const struct fw_config *cfg)
{
	for (unsigned i = 0; i < cfg->schedule_len && i < FW_SCHEDULE_MAX; i++)
		if (cfg->schedule[i] == FW_FRAME_EID)
			return true;
	return false;
}

enum fw_config_error fw_config_check(const struct fw_config *cfg)
{
	bool is_private = fw_config_is_private(cfg);

	if (cfg->interval_ms < FW_INTERVAL_MIN_MS || cfg->interval_ms > FW_INTERVAL_MAX_MS)
		return FW_CONFIG_BAD_INTERVAL;
	if (cfg->schedule_len == 0 || cfg->schedule_len > FW_SCHEDULE_MAX)
		return FW_CONFIG_BAD_SCHEDULE;
	for (unsigned i = 0; i < cfg->schedule_len; i++) {
		uint8_t k = cfg->schedule[i];

		if (k < FW_FRAME_IBEACON || k > FW_FRAME_EID)
			return FW_CONFIG_BAD_SCHEDULE;
		if (is_private && k != FW_FRAME_EID && k != FW_FRAME_TLM)
			return FW_CONFIG_PRIVACY_MIX;
		if (k == FW_FRAME_URL && (cfg->url_len < 2 || cfg->url_len > FW_URL_ENC_MAX))
			return FW_CONFIG_BAD_URL;
	}
	if (cfg->eid_exponent > 15)
		return FW_CONFIG_BAD_EXPONENT;
	if (!is_private)
		return cfg->tlm_encrypted ? FW_CONFIG_ETLM_NO_EID : FW_CONFIG_OK;
	for (unsigned i = 0; i < cfg->schedule_len; i++)
		if (cfg->schedule[i] == FW_FRAME_TLM)
			return FW_CONFIG_PLAIN_TLM;
	if (cfg->tlm_every && !cfg->tlm_encrypted)
		return FW_CONFIG_PLAIN_TLM;
	for (unsigned i = 0; i < sizeof(cfg->identity_key); i++)
		if (cfg->identity_key[i])
			return FW_CONFIG_OK;
	return FW_CONFIG_NO_KEY;
}

const char *fw_config_error_str(enum fw_config_error e)
{
	switch (e) {
	case FW_CONFIG_OK:
		return "ok";
	case FW_CONFIG_BAD_INTERVAL:
		return "interval must be 100..10240 ms";
	case FW_CONFIG_BAD_SCHEDULE:
		return "schedule must list 1..4 frames of ibeacon, uid, url, tlm, eid";
	case FW_CONFIG_BAD_EXPONENT:
		return "EID rotation exponent must be 0..15";
	case FW_CONFIG_BAD_URL:
		return "URL frame scheduled without a valid encoded URL";
	case FW_CONFIG_PRIVACY_MIX:
		return "an EID tag must not also broadcast ibeacon, uid or url";
	case FW_CONFIG_PLAIN_TLM:
		return "an EID tag must not send plain TLM (its counters link the rotations): use "
		       "tlm = encrypted";
	case FW_CONFIG_NO_KEY:
		return "an EID tag needs a provisioned identity key (all zero is not one)";
	case FW_CONFIG_ETLM_NO_EID:
		return "encrypted TLM needs an EID tag (the identity key and EID time)";
	}
	return "unknown error";
}
