/* fw_checks.c - firmware logic checks shared by the host and QEMU runs. */
#include "fw_checks.h"

#include <stdio.h>
#include <string.h>

#include "beacon_frame.h"
#include "ble_air.h"
#include "fw_uicr.h"
#include "hal.h"
#include "nrf52_regs.h"

struct fwc_capture fwc_cap;

int fwc_fail(const char *file, int line, const char *what)
{
	printf("FAIL %s:%d: %s\n", file, line, what);
	return 1;
}

static void on_tx(const struct hal_host_tx *tx, void *ctx)
{
	(void)ctx;
	if (fwc_cap.n < FWC_MAX_TX)
		fwc_cap.tx[fwc_cap.n++] = *tx;
}

void fwc_run(const struct fw_config *cfg, const struct hal_host_params *hp, unsigned ms,
	     struct fw_beacon *b)
{
	struct fw_config loaded;

	fwc_cap.n = 0;
	hal_host_set_tx_hook(on_tx, NULL);
	hal_host_reset(hp);
	if (cfg) {
		uint32_t words[FW_UICR_WORDS];

		if (fw_uicr_encode(cfg, words) != FW_CONFIG_OK) {
			fwc_fail(__FILE__, __LINE__, "test configuration invalid");
			return;
		}
		hal_host_write_uicr(words);
	}
	fw_config_load(&loaded);
	if (!fw_beacon_init(b, &loaded))
		return;
	while (hal_host_now_us() < (uint64_t)ms * 1000u) {
		fw_beacon_event(b);
		fw_beacon_sleep(b);
	}
}

static struct fw_beacon beacon;

static void cfg_store(struct fw_config *c)
{
	fw_config_defaults(c);
	c->interval_ms = 100;
	c->schedule_len = 3;
	c->schedule[0] = FW_FRAME_IBEACON;
	c->schedule[1] = FW_FRAME_UID;
	c->schedule[2] = FW_FRAME_URL;
	c->tlm_every = 5;
}

/* Run the cfg_store configuration on the chip hp describes for ms. */
static void run_store(const struct hal_host_params *hp, unsigned ms)
{
	struct fw_config c;

	cfg_store(&c);
	fwc_run(&c, hp, ms, &beacon);
}

/* The decoded frames of one captured PDU's AdvData. */
static size_t decode(const struct hal_host_tx *tx, struct bf_frame *f, size_t max)
{
	if (tx->pdu_len < 8)
		return 0;
	return bf_decode(tx->pdu + 8, tx->pdu_len - 8, f, max);
}

int fwc_events_on_three_channels(void)
{
	struct hal_host_params hp;
	int fails = 0;

	hal_host_params_default(&hp);
	run_store(&hp, 5000);
	fails += FWC_CHECK(fwc_cap.n >= 3 * 40);
	fails += FWC_CHECK(fwc_cap.n % 3 == 0);
	for (size_t i = 0; i + 2 < fwc_cap.n; i += 3) {
		static const uint32_t freq[3] = { 2, 26, 80 };

		for (size_t j = 0; j < 3; j++) {
			const struct hal_host_tx *t = &fwc_cap.tx[i + j];
			uint8_t ll[BLE_LL_MAX];

			fails += FWC_CHECK(t->frequency == freq[j]);
			fails += FWC_CHECK(t->datawhiteiv == (0x40u | (37u + j)));
			fails += FWC_CHECK(t->access_address == 0x8E89BED6u);
			fails += FWC_CHECK(t->mode == RADIO_MODE_BLE_1MBIT);
			fails += FWC_CHECK(t->crcinit == 0x555555u && t->crcpoly == 0x65Bu);
			fails += FWC_CHECK(t->crccnf == (3u | RADIO_CRCCNF_SKIPADDR));
			fails += FWC_CHECK((t->pcnf1 & RADIO_PCNF1_WHITEEN) != 0);
			fails += FWC_CHECK(ble_air_roundtrip(t, ll) == 4 + t->pdu_len + 3);
			fails += FWC_CHECK(t->pdu_len == fwc_cap.tx[i].pdu_len &&
					   memcmp(t->pdu, fwc_cap.tx[i].pdu, t->pdu_len) == 0);
		}
		if (fails)
			break;
	}
	return fails;
}

int fwc_event_spacing(void)
{
	struct hal_host_params hp;
	struct fw_config c;
	int fails = 0;
	uint64_t min = UINT64_MAX, max = 0;

	hal_host_params_default(&hp);
	cfg_store(&c);
	c.interval_ms = 250;
	fwc_run(&c, &hp, 30000, &beacon);
	fails += FWC_CHECK(fwc_cap.n >= 3 * 100);
	for (size_t i = 3; i < fwc_cap.n; i += 3) {
		uint64_t d = fwc_cap.tx[i].time_us - fwc_cap.tx[i - 3].time_us;

		min = d < min ? d : min;
		max = d > max ? d : max;
	}
	fails += FWC_CHECK(min >= 250000u);
	fails += FWC_CHECK(max <= 260000u);
	/* advDelay is random: the spacing is not constant and spans the range. */
	fails += FWC_CHECK(max - min > 5000u);
	if (fails)
		printf("spacing min %llu max %llu us\n", (unsigned long long)min,
		       (unsigned long long)max);
	return fails;
}

int fwc_header_and_static_address(void)
{
	struct hal_host_params hp;
	int fails = 0;
	static const uint8_t want[6] = { 0x66, 0x55, 0x44, 0x33, 0x22, 0xC1 | 0xC0 };

	hal_host_params_default(&hp);
	hp.device_addr[0] = 0x33445566u;
	hp.device_addr[1] = 0xFFFF0122u; /* top bits not set in FICR: firmware sets them */
	run_store(&hp, 2000);
	fails += FWC_CHECK(fwc_cap.n > 0);
	for (size_t i = 0; i < fwc_cap.n; i++) {
		const struct hal_host_tx *t = &fwc_cap.tx[i];

		fails += FWC_CHECK(t->pdu[0] == 0x42); /* ADV_NONCONN_IND, TxAdd random */
		fails += FWC_CHECK(t->pdu[1] == t->pdu_len - 2);
		fails += FWC_CHECK(t->pdu[1] >= 6 && t->pdu[1] <= 37);
		fails += FWC_CHECK(memcmp(t->pdu + 2, want, 6) == 0);
		fails += FWC_CHECK((t->pdu[7] & 0xC0) == 0xC0);
		if (fails)
			break;
	}
	return fails;
}

int fwc_frames_match_config(void)
{
	struct hal_host_params hp;
	struct fw_config c;
	int fails = 0;
	unsigned seen[8] = { 0 };

	hal_host_params_default(&hp);
	cfg_store(&c);
	c.ibeacon_major = 4242;
	c.ibeacon_minor = 7;
	c.url_len = (uint8_t)bf_url_encode("https://bgw.example/x", c.url, sizeof(c.url));
	fwc_run(&c, &hp, 3000, &beacon);
	for (size_t i = 0; i < fwc_cap.n; i += 3) {
		struct bf_frame f[2];
		size_t n = decode(&fwc_cap.tx[i], f, 2);

		fails += FWC_CHECK(n == 1);
		if (n != 1)
			break;
		seen[f[0].type & 7]++;
		switch (f[0].type) {
		case BF_IBEACON:
			fails += FWC_CHECK(memcmp(f[0].u.ibeacon.uuid, c.ibeacon_uuid, 16) == 0);
			fails += FWC_CHECK(f[0].u.ibeacon.major == 4242 && f[0].u.ibeacon.minor == 7);
			fails += FWC_CHECK(f[0].u.ibeacon.measured_power == c.ibeacon_power);
			break;
		case BF_EDDYSTONE_UID:
			fails += FWC_CHECK(memcmp(f[0].u.uid.namespace_id, c.uid_namespace, 10) == 0);
			fails += FWC_CHECK(memcmp(f[0].u.uid.instance, c.uid_instance, 6) == 0);
			fails += FWC_CHECK(f[0].u.uid.tx_power == c.eddystone_power);
			break;
		case BF_EDDYSTONE_URL:
			fails += FWC_CHECK(strcmp(f[0].u.url.url, "https://bgw.example/x") == 0);
			break;
		case BF_EDDYSTONE_TLM:
			break;
		default:
			fails += FWC_CHECK(!"unexpected frame type");
		}
	}
	fails += FWC_CHECK(seen[BF_IBEACON] > 0 && seen[BF_EDDYSTONE_UID] > 0);
	fails += FWC_CHECK(seen[BF_EDDYSTONE_URL] > 0 && seen[BF_EDDYSTONE_TLM] > 0);
	return fails;
}

int fwc_schedule(void)
{
	struct fw_config c;
	int fails = 0;
	/* ibeacon, uid, url rotate; every 5th event is TLM and does not
	 * consume a rotation slot. */
	static const uint8_t want[12] = { 1, 2, 3, 1, 4, 2, 3, 1, 2, 4, 3, 1 };

	cfg_store(&c);
	for (uint32_t n = 0; n < 12; n++)
		fails += FWC_CHECK(fw_schedule_pick(&c, n) == want[n]);
	c.tlm_every = 0;
	for (uint32_t n = 0; n < 12; n++)
		fails += FWC_CHECK(fw_schedule_pick(&c, n) == c.schedule[n % 3]);
	return fails;
}

int fwc_tlm_counters_rise(void)
{
	struct hal_host_params hp;
	int fails = 0, tlms = 0;
	uint32_t last_cnt = 0, last_up = 0;

	hal_host_params_default(&hp);
	hp.vdd_mv = 2900;
	hp.temp_quarter_c = -21; /* -5.25 degC */
	run_store(&hp, 10000);
	for (size_t i = 0; i < fwc_cap.n; i += 3) {
		struct bf_frame f;

		if (decode(&fwc_cap.tx[i], &f, 1) != 1 || f.type != BF_EDDYSTONE_TLM)
			continue;
		/* ADV_CNT counts PDUs sent before this one; uptime in 0.1 s. */
		fails += FWC_CHECK(f.u.tlm.adv_count == (uint32_t)i);
		fails += FWC_CHECK(tlms == 0 || f.u.tlm.adv_count > last_cnt);
		fails += FWC_CHECK(tlms == 0 || f.u.tlm.uptime_ds > last_up);
		/* Uptime counts from when RTC0 started, after the LFXO start-up;
		 * the packet leaves under a millisecond after its event began. */
		fails += FWC_CHECK(f.u.tlm.uptime_ds ==
				   (fwc_cap.tx[i].time_us - HAL_HOST_LFXO_STARTUP_US - 500u) / 100000u);
		fails += FWC_CHECK(f.u.tlm.battery_mv >= 2890 && f.u.tlm.battery_mv <= 2900);
		fails += FWC_CHECK(f.u.tlm.temp_8_8 == -21 * 64);
		last_cnt = f.u.tlm.adv_count;
		last_up = f.u.tlm.uptime_ds;
		tlms++;
	}
	fails += FWC_CHECK(tlms >= 15);
	return fails;
}

int fwc_hfxo_only_during_events(void)
{
	struct hal_host_params hp;
	int fails = 0;

	hal_host_params_default(&hp);
	run_store(&hp, 5000);
	for (size_t i = 0; i < fwc_cap.n; i++)
		fails += FWC_CHECK(fwc_cap.tx[i].hfxo_running);
	fails += FWC_CHECK(hal_host_sleeps_with_hfxo() == 0);
	fails += FWC_CHECK((hal_read(NRF_REG(CLOCK, HFCLKSTAT)) & CLOCK_HFCLKSTAT_RUNNING) == 0);
	fails += FWC_CHECK((hal_read(NRF_REG(CLOCK, LFCLKSTAT)) & 3u) == CLOCK_LFCLKSRC_XTAL);
	fails += FWC_CHECK(!beacon.clock.lfrc);
	/* The watchdog runs (and was fed: the model fails a sleep past it). */
	fails += FWC_CHECK(hal_read(NRF_REG(WDT, RUNSTATUS)) == 1);
	fails += FWC_CHECK(hal_read(NRF_REG(WDT, CRV)) == FW_WATCHDOG_S * RTC_HZ - 1u);
	return fails;
}

int fwc_lfrc_fallback(void)
{
	struct hal_host_params hp;
	int fails = 0;

	hal_host_params_default(&hp);
	hp.lfxo = false;
	run_store(&hp, 4000); /* 1 s of it waiting for the crystal */
	fails += FWC_CHECK(beacon.clock.lfrc);
	fails += FWC_CHECK((hal_read(NRF_REG(CLOCK, LFCLKSTAT)) & 3u) == CLOCK_LFCLKSRC_RC);
	fails += FWC_CHECK(fwc_cap.n >= 3 * 25);
	return fails;
}

int fwc_errata_per_revision(void)
{
	struct hal_host_params hp;
	int fails = 0;

	hal_host_params_default(&hp);
	hp.variant = 0x41414230u; /* nRF52832 AAB0, rev 1 */
	fwc_run(NULL, &hp, 10, &beacon);
	fails += FWC_CHECK(hal_read(NRF_REG(RADIO, ERRATA_102)) == 0x01000000u);
	fails += FWC_CHECK(hal_read(NRF_REG(RADIO, ERRATA_182)) == 0);

	hp.variant = 0x41414530u; /* nRF52832 AAE0, rev 2 */
	fwc_run(NULL, &hp, 10, &beacon);
	fails += FWC_CHECK(hal_read(NRF_REG(RADIO, ERRATA_102)) == 0);
	fails += FWC_CHECK(hal_read(NRF_REG(RADIO, ERRATA_182)) == 1u << 10);

	hp.part = FICR_PART_NRF52840;
	hp.variant = 0x41414430u; /* nRF52840 AAD0 */
	fwc_run(NULL, &hp, 10, &beacon);
	fails += FWC_CHECK(hal_read(NRF_REG(RADIO, ERRATA_102)) == 0);
	fails += FWC_CHECK(hal_read(NRF_REG(RADIO, ERRATA_182)) == 0);
	return fails;
}

int fwc_tx_power_steps(void)
{
	struct fw_chip n32 = { FICR_PART_NRF52832, 0 }, n40 = { FICR_PART_NRF52840, 0 };
	int fails = 0;

	fails += FWC_CHECK(fw_radio_tx_power_step(&n32, 8) == 4);
	fails += FWC_CHECK(fw_radio_tx_power_step(&n32, 3) == 3);
	fails += FWC_CHECK(fw_radio_tx_power_step(&n32, 2) == 0);
	fails += FWC_CHECK(fw_radio_tx_power_step(&n32, -1) == -4);
	fails += FWC_CHECK(fw_radio_tx_power_step(&n32, -12) == -12);
	fails += FWC_CHECK(fw_radio_tx_power_step(&n32, -21) == -40);
	fails += FWC_CHECK(fw_radio_tx_power_step(&n40, 8) == 8);
	fails += FWC_CHECK(fw_radio_tx_power_step(&n40, 5) == 5);
	fails += FWC_CHECK(fw_radio_tx_power_step(&n40, 1) == 0);
	return fails;
}

int fwc_uicr_layout(void)
{
	struct fw_config c, d;
	uint32_t w[FW_UICR_WORDS];
	int fails = 0;

	cfg_store(&c);
	c.eid_clock_base = 0xA1B2C3D4u;
	c.ibeacon_major = 0xBEEF;
	fails += FWC_CHECK(fw_uicr_encode(&c, w) == FW_CONFIG_OK);
	fails += FWC_CHECK(w[0] == FW_UICR_MAGIC && w[1] == FW_UICR_VERSION);
	/* interval 100 ms (0x0064) and tx power 0 at the start of word 2 */
	fails += FWC_CHECK((w[2] & 0xFFFFFFu) == 0x000064u);
	fails += FWC_CHECK(w[9] == 0xA1B2C3D4u); /* byte 28 of the area */
	fails += FWC_CHECK(fw_uicr_decode(w, &d) == FW_UICR_VALID);
	fails += FWC_CHECK(memcmp(&c, &d, sizeof(c)) == 0);

	w[20] ^= 0x10u;
	fails += FWC_CHECK(fw_uicr_decode(w, &d) == FW_UICR_BAD_CRC);
	memset(w, 0xFF, sizeof(w));
	fails += FWC_CHECK(fw_uicr_decode(w, &d) == FW_UICR_BLANK);
	w[0] = 0x12345678u;
	fails += FWC_CHECK(fw_uicr_decode(w, &d) == FW_UICR_BAD_MAGIC);

	/* A privacy tag must not carry a static identifier too. */
	c.schedule[0] = FW_FRAME_EID;
	fails += FWC_CHECK(fw_config_check(&c) == FW_CONFIG_PRIVACY_MIX);
	fails += FWC_CHECK(fw_uicr_encode(&c, w) == FW_CONFIG_PRIVACY_MIX);
	cfg_store(&c);
	c.interval_ms = 99;
	fails += FWC_CHECK(fw_uicr_encode(&c, w) == FW_CONFIG_BAD_INTERVAL);
	/* CRC-32 check value of "123456789". */
	fails += FWC_CHECK(fw_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u);
	return fails;
}

/* The whitening sequence as a byte-wise LFSR over a bit-reversed register,
 * a different formulation from ble_whiten's, to cross-check it. */
static void whiten_ref(uint8_t channel, uint8_t *d, size_t n)
{
	uint8_t lfsr = 0;

	for (int b = 0; b < 6; b++)
		lfsr |= (uint8_t)(((channel >> b) & 1u) << (7 - b));
	lfsr |= 2;
	for (size_t i = 0; i < n; i++)
		for (uint8_t m = 1; m; m <<= 1) {
			if (lfsr & 0x80) {
				lfsr ^= 0x11;
				d[i] ^= m;
			}
			lfsr <<= 1;
		}
}

int fwc_air_whitening_and_crc(void)
{
	int fails = 0;
	uint8_t a[40], b[40], crc[3];
	/* An iBeacon ADV_NONCONN_IND whose CRC Wireshark's btle dissector
	 * accepts (tshark reports no btle.crc.incorrect for it). */
	static const uint8_t pdu[38] = {
		0x42, 0x24, 0x00, 0x11, 0x22, 0x33, 0x44, 0xd5, 0x02, 0x01, 0x06, 0x1a, 0xff,
		0x4c, 0x00, 0x02, 0x15, 0xe2, 0xc5, 0x6d, 0xb5, 0xdf, 0xfb, 0x48, 0xd2, 0xb0,
		0x60, 0xd0, 0xf5, 0xa7, 0x10, 0x96, 0xe0, 0x00, 0x01, 0x00, 0x01, 0xc5,
	};
	static const uint8_t pdu_crc[3] = { 0x66, 0x21, 0x60 };
	uint8_t bad[38];

	for (uint8_t ch = 0; ch < 40; ch++) {
		for (size_t i = 0; i < sizeof(a); i++)
			a[i] = b[i] = (uint8_t)(i * 37u + ch);
		ble_whiten(0x40u | ch, a, sizeof(a));
		whiten_ref(ch, b, sizeof(b));
		fails += FWC_CHECK(memcmp(a, b, sizeof(a)) == 0);
	}
	ble_crc24(0x65B, 0x555555, pdu, sizeof(pdu), crc);
	fails += FWC_CHECK(memcmp(crc, pdu_crc, 3) == 0);
	memcpy(bad, pdu, sizeof(bad));
	bad[20] ^= 0x01;
	ble_crc24(0x65B, 0x555555, bad, sizeof(bad), crc);
	fails += FWC_CHECK(memcmp(crc, pdu_crc, 3) != 0);
	return fails;
}
