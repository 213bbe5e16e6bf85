/* fw_uicr.c - tag configuration <-> UICR CUSTOMER words (layout in fw_uicr.h). */
#include "fw_uicr.h"
#include "bgw_util.h"

#include <string.h>

#define AREA_BYTES ((FW_UICR_WORDS - 3) * 4)

enum {
	OFF_INTERVAL = 0,
	OFF_TX_POWER = 2,
	OFF_IBEACON_POWER = 3,
	OFF_EDDYSTONE_POWER = 4,
	OFF_EXPONENT = 5,
	OFF_TLM_EVERY = 6,
	OFF_SCHEDULE_LEN = 7,
	OFF_SCHEDULE = 8,
	OFF_IDENTITY_KEY = 12,
	OFF_CLOCK_BASE = 28,
	OFF_UUID = 32,
	OFF_MAJOR = 48,
	OFF_MINOR = 50,
	OFF_NAMESPACE = 52,
	OFF_INSTANCE = 62,
	OFF_URL_LEN = 68,
	OFF_URL = 69,
	OFF_TLM_ENCRYPTED = OFF_URL + FW_URL_ENC_MAX,
	OFF_END,
};
_Static_assert(OFF_END <= AREA_BYTES, "UICR byte area overflow");

uint32_t fw_crc32(const uint8_t *data, uint32_t len)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (uint32_t i = 0; i < len; i++) {
		crc ^= data[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void words_to_bytes(const uint32_t *w, unsigned n, uint8_t *out)
{
	for (unsigned i = 0; i < n; i++) {
		out[4 * i] = (uint8_t)w[i];
		out[4 * i + 1] = (uint8_t)(w[i] >> 8);
		out[4 * i + 2] = (uint8_t)(w[i] >> 16);
		out[4 * i + 3] = (uint8_t)(w[i] >> 24);
	}
}

static uint32_t bytes_crc(const uint32_t words[FW_UICR_WORDS])
{
	uint8_t raw[(FW_UICR_WORDS - 1) * 4];

	words_to_bytes(words, FW_UICR_WORDS - 1, raw);
	return fw_crc32(raw, sizeof(raw));
}

enum fw_config_error fw_uicr_encode(const struct fw_config *cfg, uint32_t words[FW_UICR_WORDS])
{
	uint8_t a[AREA_BYTES];
	enum fw_config_error err = fw_config_check(cfg);

	if (err != FW_CONFIG_OK)
		return err;
	memset(a, 0, sizeof(a));
	bgw_put_le16(a + OFF_INTERVAL, cfg->interval_ms);
	a[OFF_TX_POWER] = (uint8_t)cfg->tx_power_dbm;
	a[OFF_IBEACON_POWER] = (uint8_t)cfg->ibeacon_power;
	a[OFF_EDDYSTONE_POWER] = (uint8_t)cfg->eddystone_power;
	a[OFF_EXPONENT] = cfg->eid_exponent;
	a[OFF_TLM_EVERY] = cfg->tlm_every;
	a[OFF_SCHEDULE_LEN] = cfg->schedule_len;
	memcpy(a + OFF_SCHEDULE, cfg->schedule, FW_SCHEDULE_MAX);
	memcpy(a + OFF_IDENTITY_KEY, cfg->identity_key, 16);
	bgw_put_le16(a + OFF_CLOCK_BASE, (uint16_t)cfg->eid_clock_base);
	bgw_put_le16(a + OFF_CLOCK_BASE + 2, (uint16_t)(cfg->eid_clock_base >> 16));
	memcpy(a + OFF_UUID, cfg->ibeacon_uuid, 16);
	bgw_put_le16(a + OFF_MAJOR, cfg->ibeacon_major);
	bgw_put_le16(a + OFF_MINOR, cfg->ibeacon_minor);
	memcpy(a + OFF_NAMESPACE, cfg->uid_namespace, 10);
	memcpy(a + OFF_INSTANCE, cfg->uid_instance, 6);
	a[OFF_URL_LEN] = cfg->url_len;
	memcpy(a + OFF_URL, cfg->url, FW_URL_ENC_MAX);
	a[OFF_TLM_ENCRYPTED] = cfg->tlm_encrypted;

	words[0] = FW_UICR_MAGIC;
	words[1] = FW_UICR_VERSION;
	for (unsigned i = 0; i < FW_UICR_WORDS - 3; i++)
		words[2 + i] = bgw_get_le32(a + 4 * i);
	words[FW_UICR_WORDS - 1] = bytes_crc(words);
	return FW_CONFIG_OK;
}

enum fw_uicr_status fw_uicr_decode(const uint32_t words[FW_UICR_WORDS], struct fw_config *cfg)
{
	uint8_t a[AREA_BYTES];
	struct fw_config c;

	if (words[0] == 0xFFFFFFFFu)
		return FW_UICR_BLANK;
	if (words[0] != FW_UICR_MAGIC)
		return FW_UICR_BAD_MAGIC;
	if (words[1] != FW_UICR_VERSION)
		return FW_UICR_BAD_VERSION;
	if (bytes_crc(words) != words[FW_UICR_WORDS - 1])
		return FW_UICR_BAD_CRC;

	words_to_bytes(words + 2, FW_UICR_WORDS - 3, a);
	memset(&c, 0, sizeof(c));
	c.interval_ms = bgw_get_le16(a + OFF_INTERVAL);
	c.tx_power_dbm = (int8_t)a[OFF_TX_POWER];
	c.ibeacon_power = (int8_t)a[OFF_IBEACON_POWER];
	c.eddystone_power = (int8_t)a[OFF_EDDYSTONE_POWER];
	c.eid_exponent = a[OFF_EXPONENT];
	c.tlm_every = a[OFF_TLM_EVERY];
	c.schedule_len = a[OFF_SCHEDULE_LEN];
	memcpy(c.schedule, a + OFF_SCHEDULE, FW_SCHEDULE_MAX);
	memcpy(c.identity_key, a + OFF_IDENTITY_KEY, 16);
	c.eid_clock_base = (uint32_t)bgw_get_le16(a + OFF_CLOCK_BASE) |
			   (uint32_t)bgw_get_le16(a + OFF_CLOCK_BASE + 2) << 16;
	memcpy(c.ibeacon_uuid, a + OFF_UUID, 16);
	c.ibeacon_major = bgw_get_le16(a + OFF_MAJOR);
	c.ibeacon_minor = bgw_get_le16(a + OFF_MINOR);
	memcpy(c.uid_namespace, a + OFF_NAMESPACE, 10);
	memcpy(c.uid_instance, a + OFF_INSTANCE, 6);
	c.url_len = a[OFF_URL_LEN];
	memcpy(c.url, a + OFF_URL, FW_URL_ENC_MAX);
	c.tlm_encrypted = a[OFF_TLM_ENCRYPTED];
	if (c.tlm_encrypted > 1 || c.url_len > FW_URL_ENC_MAX || fw_config_check(&c) != FW_CONFIG_OK)
		return FW_UICR_BAD_CONFIG;
	*cfg = c;
	return FW_UICR_VALID;
}
