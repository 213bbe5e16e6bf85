/* fw_beacon.c - advertising events, frame schedule, address rotation. */
#include "fw_beacon.h"

#include <string.h>

#include "beacon_frame.h"
#include "eddystone_eid.h"
#include "eddystone_etlm.h"
#include "fw_periph.h"
#include "fw_power.h"
#include "fw_uicr.h"
#include "hal.h"
#include "nrf52_regs.h"

#define PDU_TYPE_ADV_NONCONN_IND 0x2u
#define PDU_TXADD_RANDOM (1u << 6)
#define ADDR_LEN 6

void fw_config_load(struct fw_config *cfg)
{
	uint32_t words[FW_UICR_WORDS];

	for (unsigned i = 0; i < FW_UICR_WORDS; i++)
		words[i] = hal_read(FW_UICR_ADDR + 4u * i);
	if (fw_uicr_decode(words, cfg) != FW_UICR_VALID)
		fw_config_defaults(cfg);
}

enum fw_frame_kind fw_schedule_pick(const struct fw_config *cfg, uint32_t n)
{
	if (cfg->tlm_every && n % cfg->tlm_every == cfg->tlm_every - 1u)
		return FW_FRAME_TLM;
	if (cfg->tlm_every)
		n -= n / cfg->tlm_every; /* TLM events do not advance the rotation */
	return (enum fw_frame_kind)cfg->schedule[n % cfg->schedule_len];
}

void fw_static_address(uint8_t addr[6])
{
	uint32_t lo = hal_read(NRF_REG(FICR, DEVICEADDR[0]));
	uint32_t hi = hal_read(NRF_REG(FICR, DEVICEADDR[1]));

	addr[0] = (uint8_t)lo;
	addr[1] = (uint8_t)(lo >> 8);
	addr[2] = (uint8_t)(lo >> 16);
	addr[3] = (uint8_t)(lo >> 24);
	addr[4] = (uint8_t)hi;
	addr[5] = (uint8_t)((hi >> 8) | 0xC0u); /* static random: top bits 11 */
}

void fw_nrpa(uint8_t addr[6])
{
	for (;;) {
		bool zeros = true, ones = true;

		fw_rng_bytes(addr, ADDR_LEN);
		addr[5] &= 0x3Fu;
		/* The 46 random bits shall not be all 0 or all 1. */
		for (unsigned i = 0; i < ADDR_LEN; i++) {
			uint8_t full = i == 5 ? 0x3Fu : 0xFFu;

			zeros = zeros && addr[i] == 0;
			ones = ones && addr[i] == full;
		}
		if (!zeros && !ones)
			return;
	}
}

uint32_t fw_eid_seconds(const struct fw_beacon *b, uint64_t t)
{
	return fw_eidclock_seconds(&b->eidclock, t);
}

bool fw_beacon_init(struct fw_beacon *b, const struct fw_config *cfg)
{
	memset(b, 0, sizeof(*b));
	b->cfg = *cfg;
	/* First, so that every wait below is bounded by a reset. */
	fw_wdt_start(FW_WATCHDOG_S);
	fw_chip_read(&b->chip);
	fw_power_init(&b->chip);
	if (fw_config_check(cfg) != FW_CONFIG_OK)
		return false;
	fw_clock_init(&b->clock);
	fw_radio_init(&b->chip, cfg->tx_power_dbm);
	b->next_event = fw_clock_now(&b->clock);
	if (fw_config_is_private(cfg))
		fw_eidclock_init(&b->eidclock, cfg, b->next_event);
	else
		fw_static_address(b->addr);
	return true;
}

/* On a privacy tag the EID and the address change together, at the start
 * of each 2^K s period, so an observer can't link two EIDs by address. */
static void rotate_identity(struct fw_beacon *b, uint64_t now)
{
	uint32_t t = fw_eid_seconds(b, now);
	uint32_t period = eid_period_start(b->cfg.eid_exponent, t);

	if (b->eid_valid && period == b->eid_period)
		return;
	eid_compute(fw_ecb_aes128, b->cfg.identity_key, b->cfg.eid_exponent, t, b->eid);
	fw_nrpa(b->addr);
	b->eid_period = period;
	b->eid_valid = true;
}

static bool build_frame(struct fw_beacon *b, enum fw_frame_kind kind, uint64_t now,
			struct bf_frame *f)
{
	const struct fw_config *c = &b->cfg;

	memset(f, 0, sizeof(*f));
	switch (kind) {
	case FW_FRAME_IBEACON:
		f->type = BF_IBEACON;
		memcpy(f->u.ibeacon.uuid, c->ibeacon_uuid, 16);
		f->u.ibeacon.major = c->ibeacon_major;
		f->u.ibeacon.minor = c->ibeacon_minor;
		f->u.ibeacon.measured_power = c->ibeacon_power;
		return true;
	case FW_FRAME_UID:
		f->type = BF_EDDYSTONE_UID;
		f->u.uid.tx_power = c->eddystone_power;
		memcpy(f->u.uid.namespace_id, c->uid_namespace, 10);
		memcpy(f->u.uid.instance, c->uid_instance, 6);
		f->u.uid.has_reserved = true;
		return true;
	case FW_FRAME_URL:
		f->type = BF_EDDYSTONE_URL;
		f->u.url.tx_power = c->eddystone_power;
		return bf_url_decode(c->url, c->url_len, f->u.url.url, sizeof(f->u.url.url));
	case FW_FRAME_TLM: {
		struct bf_eddystone_tlm t = {
			.battery_mv = fw_vdd_mv(),
			.temp_8_8 = fw_temp_8_8(),
			.adv_count = b->adv_count,
			.uptime_ds = (uint32_t)(now * 10u / RTC_HZ),
		};
		uint8_t salt[2];

		if (!c->tlm_encrypted) {
			f->type = BF_EDDYSTONE_TLM;
			f->u.tlm = t;
			return true;
		}
		/* eTLM: the counters only under the identity key, with the EID
		 * time base the gateway resolved this address's EID at. */
		fw_rng_bytes(salt, sizeof(salt));
		f->type = BF_EDDYSTONE_ETLM;
		f->u.etlm.salt = (uint16_t)(salt[0] << 8 | salt[1]);
		eddystone_etlm_seal(fw_ecb_aes128, c->identity_key, b->eid_period, f->u.etlm.salt,
				    t.battery_mv, t.temp_8_8, t.adv_count, t.uptime_ds, f->u.etlm.etlm,
				    &f->u.etlm.mic);
		return true;
	}
	case FW_FRAME_EID:
		f->type = BF_EDDYSTONE_EID;
		f->u.eid.tx_power = c->eddystone_power;
		memcpy(f->u.eid.eid, b->eid, 8);
		return true;
	}
	return false;
}

void fw_beacon_event(struct fw_beacon *b)
{
	uint64_t now = fw_clock_now(&b->clock);
	enum fw_frame_kind kind = fw_schedule_pick(&b->cfg, b->event_count);
	struct bf_frame frame;
	size_t len = 0;
	uint8_t rnd[2];

	fw_wdt_feed();
	fw_clock_hfxo_start();
	if (b->clock.lfrc && b->event_count % 16u == 0)
		fw_clock_calibrate(&b->clock);
	if (fw_config_is_private(&b->cfg)) {
		fw_eidclock_update(&b->eidclock, now);
		rotate_identity(b, now);
	}
	if (build_frame(b, kind, now, &frame))
		len = bf_encode(&frame, b->pdu + 2 + ADDR_LEN, BF_LEGACY_ADV_MAX);
	if (len > 0) {
		b->pdu[0] = PDU_TYPE_ADV_NONCONN_IND | PDU_TXADD_RANDOM;
		b->pdu[1] = (uint8_t)(ADDR_LEN + len);
		memcpy(b->pdu + 2, b->addr, ADDR_LEN);
		for (uint8_t ch = 37; ch <= 39; ch++) {
			fw_radio_send(ch, b->pdu);
			b->adv_count++;
		}
	}
	fw_clock_hfxo_stop();

	fw_rng_bytes(rnd, sizeof(rnd));
	/* Events are spaced from when they were due, so the interval does not
	 * drift; but a late event (debugger halt) never triggers a burst. */
	if (b->next_event < now)
		b->next_event = now;
	b->next_event += FW_MS_TO_TICKS_CEIL(b->cfg.interval_ms) +
			 ((uint32_t)rnd[0] | (uint32_t)rnd[1] << 8) % (FW_ADV_DELAY_MAX_TICKS + 1u);
	b->event_count++;
}

void fw_beacon_sleep(struct fw_beacon *b)
{
	fw_clock_sleep_until(&b->clock, b->next_event);
}
