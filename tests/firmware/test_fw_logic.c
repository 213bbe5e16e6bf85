/*
 * test_fw_logic.c - the firmware logic on RAM-backed registers (host):
 * the shared checks (fw_checks.c) plus Eddystone-EID through the ECB model
 * against eid_compute and the published vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aes_openssl.h"
#include "beacon_frame.h"
#include "eddystone_eid.h"
#include "eddystone_etlm.h"
#include "fw_checks.h"
#include "fw_periph.h"
#include "fw_power.h"
#include "fw_uicr.h"

#define SHARED(name)                          \
	static void test_##name(void **state) \
	{                                     \
		(void)state;                  \
		assert_int_equal(fwc_##name(), 0); \
	}

SHARED(events_on_three_channels)
SHARED(event_spacing)
SHARED(header_and_static_address)
SHARED(frames_match_config)
SHARED(tlm_counters_rise)
SHARED(hfxo_only_during_events)
SHARED(lfrc_fallback)
SHARED(errata_per_revision)
SHARED(tx_power_steps)
SHARED(uicr_layout)
SHARED(air_whitening_and_crc)
SHARED(schedule)

/* RadiusNetworks/ephemeral_calc's published vector (as in tests/codec). */
static const uint8_t radius_ik[16] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				       0x09, 0x0a, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16 };

static struct fw_beacon beacon;

static void eid_cfg(struct fw_config *c, uint8_t k, uint32_t base)
{
	fw_config_eid_tag(c, radius_ik, k, base);
	assert_int_equal(fw_config_check(c), FW_CONFIG_OK);
	assert_true(fw_config_is_private(c));
	c->interval_ms = 100;
}

static const uint8_t *eid_of(const struct hal_host_tx *tx)
{
	static struct bf_frame f;

	if (tx->pdu_len < 8 || bf_decode(tx->pdu + 8, tx->pdu_len - 8, &f, 1) != 1 ||
	    f.type != BF_EDDYSTONE_EID)
		return NULL;
	return f.u.eid.eid;
}

static void test_ecb_peripheral_is_aes(void **state)
{
	static const uint8_t key[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	static const uint8_t pt[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	static const uint8_t ct[16] = { 0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
					0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a };
	struct hal_host_params hp;
	uint8_t out[16];

	(void)state;
	hal_host_params_default(&hp);
	hal_host_reset(&hp);
	fw_ecb_aes128(key, pt, out); /* FIPS-197 C.1 through the ECB registers */
	assert_memory_equal(out, ct, 16);
}

static void test_eid_published_vectors(void **state)
{
	static const uint8_t at0[8] = { 0xa9, 0xb7, 0x6a, 0x71, 0xc5, 0xf8, 0x92, 0x90 };
	static const uint8_t at2000[8] = { 0x41, 0x44, 0x41, 0x3e, 0x45, 0xfe, 0xfa, 0x58 };
	struct hal_host_params hp;
	struct fw_config c;
	const uint8_t *eid;

	(void)state;
	hal_host_params_default(&hp);
	eid_cfg(&c, 10, 0);
	fwc_run(&c, &hp, 300, &beacon); /* 250 ms of it for the LFXO to start */
	assert_true(fwc_cap.n >= 3);
	eid = eid_of(&fwc_cap.tx[0]);
	assert_non_null(eid);
	assert_memory_equal(eid, at0, 8);

	eid_cfg(&c, 10, 2000);
	fwc_run(&c, &hp, 300, &beacon);
	eid = eid_of(&fwc_cap.tx[0]);
	assert_non_null(eid);
	assert_memory_equal(eid, at2000, 8);
}

/* Every broadcast EID equals eid_compute at that second; the EID and the
 * address change exactly when the 2^K s period changes, never within. */
static void test_eid_rotation_and_address(void **state)
{
	const uint8_t k = 2;
	const uint32_t base = 1000; /* 1000 = 250 * 4: a boundary at start */
	struct hal_host_params hp;
	struct fw_config c;
	uint8_t prev_eid[8], prev_addr[6];
	uint32_t prev_period = 0;
	unsigned rotations = 0;

	(void)state;
	hal_host_params_default(&hp);
	eid_cfg(&c, k, base);
	fwc_run(&c, &hp, 20000, &beacon);
	assert_true(fwc_cap.n >= 3 * 150);
	for (size_t i = 0; i < fwc_cap.n; i += 3) {
		const struct hal_host_tx *tx = &fwc_cap.tx[i];
		/* The clock starts once the LFXO runs; the first PDU leaves 0.4 ms
		 * (HFXO, ramp-up) to 2 ms (a new address from the RNG, a flash
		 * record) after the wake-up tick the EID time is taken at. */
		uint64_t since = tx->time_us - HAL_HOST_LFXO_STARTUP_US;
		uint32_t t = base + (uint32_t)((since - 400u) / 1000000u);
		uint32_t t_early = base + (uint32_t)((since - 2000u) / 1000000u);
		uint32_t period;
		const uint8_t *eid = eid_of(tx);
		uint8_t want[8];

		assert_non_null(eid);
		eid_compute(aes128_openssl, radius_ik, k, t, want);
		if (memcmp(eid, want, 8) != 0) {
			t = t_early;
			eid_compute(aes128_openssl, radius_ik, k, t, want);
		}
		assert_memory_equal(eid, want, 8);
		period = eid_period_start(k, t);
		/* Non-resolvable private address: top bits 00. */
		assert_int_equal(tx->pdu[7] & 0xC0, 0x00);
		if (i > 0) {
			bool new_period = period != prev_period;
			bool eid_changed = memcmp(eid, prev_eid, 8) != 0;
			bool addr_changed = memcmp(tx->pdu + 2, prev_addr, 6) != 0;

			assert_int_equal(new_period, eid_changed);
			assert_int_equal(new_period, addr_changed);
			rotations += new_period;
		}
		memcpy(prev_eid, eid, 8);
		memcpy(prev_addr, tx->pdu + 2, 6);
		prev_period = period;
	}
	assert_true(rotations >= 4);
}

/* A privacy tag's telemetry is eTLM only; nothing static and no plain TLM
 * ever appears beside its EID, and a configuration asking for plain TLM or
 * EID without a key is refused. */
static void test_privacy_tag_frames(void **state)
{
	static const uint8_t zero[16];
	struct hal_host_params hp;
	struct fw_config c;
	unsigned eids = 0, etlms = 0;

	(void)state;
	eid_cfg(&c, 4, 0);
	c.tlm_every = 10;
	assert_int_equal(fw_config_check(&c), FW_CONFIG_PLAIN_TLM);
	c.tlm_every = 0;
	c.schedule_len = 2;
	c.schedule[1] = FW_FRAME_TLM;
	assert_int_equal(fw_config_check(&c), FW_CONFIG_PLAIN_TLM);
	fw_config_eid_tag(&c, zero, 4, 0);
	assert_int_equal(fw_config_check(&c), FW_CONFIG_NO_KEY);
	fw_config_defaults(&c);
	c.tlm_encrypted = 1;
	assert_int_equal(fw_config_check(&c), FW_CONFIG_ETLM_NO_EID);

	hal_host_params_default(&hp);
	eid_cfg(&c, 4, 0);
	c.tlm_every = 10;
	c.tlm_encrypted = 1;
	assert_int_equal(fw_config_check(&c), FW_CONFIG_OK);
	fwc_run(&c, &hp, 10300, &beacon);
	for (size_t i = 0; i < fwc_cap.n; i += 3) {
		struct bf_frame f;

		assert_int_equal(bf_decode(fwc_cap.tx[i].pdu + 8, fwc_cap.tx[i].pdu_len - 8, &f, 1),
				 1);
		assert_true(f.type == BF_EDDYSTONE_EID || f.type == BF_EDDYSTONE_ETLM);
		eids += f.type == BF_EDDYSTONE_EID;
		etlms += f.type == BF_EDDYSTONE_ETLM;
	}
	assert_true(etlms >= 5 && eids >= 9 * etlms - 9);
}

/* A tag whose configuration schedules EID without a key sends nothing and
 * turns itself off (the build defaults of such an image). */
static void test_eid_without_key_stays_silent(void **state)
{
	static const uint8_t zero[16];
	struct hal_host_params hp;
	struct fw_config c;

	(void)state;
	hal_host_params_default(&hp);
	fw_config_eid_tag(&c, zero, 4, 0);
	fwc_cap.n = 0;
	hal_host_reset(&hp);
	assert_false(fw_beacon_init(&beacon, &c));
	assert_int_equal(fwc_cap.n, 0);
	fw_system_off();
	assert_true(hal_host_system_off());
}

/* The tag's AES-EAX (common/eddystone_etlm.c) against the vectors of the
 * EAX paper (Bellare, Rogaway, Wagner), as the gateway's is tested. */
static void unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void test_eax_vectors(void **state)
{
	static const struct {
		const char *key, *nonce, *hdr, *msg, *ct_tag;
	} v[] = {
		{ "233952DEE4D5ED5F9B9C6D6FF80FF478", "62EC67F9C3A4A407FCB2A8C49031A8B3",
		  "6BFB914FD07EAE6B", "", "E037830E8389F27B025A2D6527E79D01" },
		{ "91945D3F4DCBEE0BF45EF52255F095A4", "BECAF043B0A23D843194BA972C66DEBD",
		  "FA3BFD4806EB53FA", "F7FB", "19DD5C4C9331049D0BDAB0277408F67967E5" },
		{ "01F74AD64077F2E704C0F60ADA3DD523", "70C3DB4F0D26368400A10ED05D2BFF5E",
		  "234A3463C1264AC6", "1A47CB4933", "D851D5BAE03A59F238A23E39199DC9266626C40F80" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t key[16], nonce[16], hdr[8], msg[16], want[32], ct[16], tag[16];
		size_t mlen = strlen(v[i].msg) / 2;

		unhex(v[i].key, key, 16);
		unhex(v[i].nonce, nonce, 16);
		unhex(v[i].hdr, hdr, 8);
		unhex(v[i].msg, msg, mlen);
		unhex(v[i].ct_tag, want, mlen + 16);
		eddystone_eax_seal(aes128_openssl, key, nonce, 16, hdr, 8, msg, mlen, ct, tag, 16);
		assert_memory_equal(ct, want, mlen);
		assert_memory_equal(tag, want + mlen, 16);
	}
}

/* ------------------------------------------------ EID clock across resets */

/* The gateway's default eid_tolerance: one period either side. */
#define GATEWAY_EID_TOLERANCE 1

struct reset_run {
	uint8_t k;
	uint32_t base;
	uint64_t clock_start_us; /* when the tag's clock first ran */
	uint64_t lag_bound_us;   /* what the resets so far may have cost, at most */
	uint64_t next_reset_us;
	uint32_t max_tag_s;
	unsigned frames, resets, power_losses, flash_cuts;
	unsigned from_retained, from_flash;
	uint64_t rng;
	const unsigned *cuts;    /* flash operation indices to cut power at, in turn */
	unsigned ncuts;
};

static struct reset_run rr;
static jmp_buf reset_jmp;

static uint64_t rr_rand(uint64_t n)
{
	rr.rng ^= rr.rng << 13;
	rr.rng ^= rr.rng >> 7;
	rr.rng ^= rr.rng << 17;
	return rr.rng % n;
}

static void on_reset(void *ctx)
{
	(void)ctx;
	longjmp(reset_jmp, 1);
}

/* Every EID the tag sends: the one for the tag's own clock, within the
 * gateway's tolerance of the true time, behind it by no more than the
 * resets may cost, and never further back than one save period. */
static void check_eid_tx(const struct hal_host_tx *tx, void *ctx)
{
	const uint8_t *eid = eid_of(tx);
	uint32_t tag_s, true_s, tag_q, true_q, save = fw_eidclock_save_period(rr.k);
	uint8_t want[8];

	(void)ctx;
	if (tx->frequency != 2 || !eid)
		return; /* one check per event, on channel 37 */
	tag_s = fw_eidclock_seconds(&beacon.eidclock, beacon.clock.ticks);
	true_s = rr.base + (uint32_t)((tx->time_us - rr.clock_start_us) / 1000000u);
	eid_compute(aes128_openssl, radius_ik, rr.k, tag_s, want);
	assert_memory_equal(eid, want, 8);
	assert_true(tag_s <= true_s + 1u);
	assert_true((uint64_t)(true_s - tag_s) * 1000000u <= rr.lag_bound_us + 2000000u);
	tag_q = tag_s >> rr.k;
	true_q = true_s >> rr.k;
	assert_true(true_q - tag_q <= GATEWAY_EID_TOLERANCE);
	assert_true(tag_s + save >= rr.max_tag_s);
	if (tag_s > rr.max_tag_s)
		rr.max_tag_s = tag_s;
	rr.frames++;
}

/* Run an EID tag for `seconds` with resets at random (seeded) moments:
 * mostly soft resets (RAM kept), sometimes a power loss of up to off_max_s,
 * and power cut at the given flash operations. */
static void run_with_resets(uint8_t k, uint16_t interval_ms, unsigned seconds,
			    unsigned mean_gap_s, unsigned off_max_s, const unsigned *cuts,
			    unsigned ncuts, uint64_t seed)
{
	static struct hal_host_params hp;
	static struct fw_config c;
	static uint32_t w[FW_UICR_WORDS];
	struct fw_config loaded;

	memset(&rr, 0, sizeof(rr));
	rr.k = k;
	rr.base = 100000;
	rr.rng = seed;
	rr.cuts = cuts;
	rr.ncuts = ncuts;
	rr.clock_start_us = HAL_HOST_LFXO_STARTUP_US;
	hal_host_params_default(&hp);
	hp.rng_seed = seed;
	eid_cfg(&c, k, rr.base);
	c.interval_ms = interval_ms;
	assert_int_equal(fw_uicr_encode(&c, w), FW_CONFIG_OK);
	hal_host_set_tx_hook(check_eid_tx, NULL);
	hal_host_set_reset_hook(on_reset, NULL);
	hal_host_reset(&hp);
	hal_host_write_uicr(w);

	if (setjmp(reset_jmp)) {
		/* Back from a reset: the model says which kind it was. */
		rr.resets++;
	}
	{
		uint64_t now = hal_host_now_us();
		uint64_t gap = (mean_gap_s / 2u + rr_rand(mean_gap_s)) * 1000000u + rr_rand(1000000u);
		uint64_t startup = HAL_HOST_LFXO_STARTUP_US + 10000u;
		uint64_t since_event = (uint64_t)interval_ms * 1000u + 11000u;

		if (rr.ncuts) {
			/* Power is cut at that flash operation, whenever it comes. */
			hal_host_cut_power_at_flash_op(rr.cuts[0], 0);
			hal_host_schedule_reset(0, false, 0);
			rr.cuts++;
			rr.ncuts--;
			rr.flash_cuts++;
			rr.lag_bound_us += (uint64_t)fw_eidclock_save_period(k) * 1000000u + since_event +
					   startup;
		} else if (off_max_s && rr_rand(5) == 0) {
			uint64_t off = rr_rand((uint64_t)off_max_s * 1000000u);

			hal_host_schedule_reset(now + gap, true, off);
			rr.power_losses++;
			rr.lag_bound_us += (uint64_t)fw_eidclock_save_period(k) * 1000000u + since_event +
					   startup + off;
		} else {
			hal_host_schedule_reset(now + gap, false, 0);
			rr.lag_bound_us += since_event + startup;
		}
	}
	fw_config_load(&loaded);
	assert_true(fw_beacon_init(&beacon, &loaded));
	rr.from_retained += beacon.eidclock.source == FW_EIDCLOCK_RETAINED;
	rr.from_flash += beacon.eidclock.source == FW_EIDCLOCK_FLASH;
	while (hal_host_now_us() < (uint64_t)seconds * 1000000u) {
		fw_beacon_event(&beacon);
		fw_beacon_sleep(&beacon);
	}
	hal_host_schedule_reset(0, false, 0);
	hal_host_set_reset_hook(NULL, NULL);
}

/* Soft resets and power losses at random moments over three hours: the EID
 * sequence stays continuous and every EID resolvable by the gateway. */
static void test_eid_clock_survives_resets(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		run_with_resets(8, 1000, 3 * 3600, 400, 20, NULL, 0, seed * 0x9E3779B97F4A7C15ull);
		printf("seed %u: %u frames, %u resets (%u power), resumed %u from RAM, %u from "
		       "flash, lag bound %llu s\n",
		       (unsigned)seed, rr.frames, rr.resets, rr.power_losses, rr.from_retained,
		       rr.from_flash, (unsigned long long)(rr.lag_bound_us / 1000000u));
		assert_true(rr.frames > 3 * 3000);
		assert_true(rr.resets >= 15);
		assert_true(rr.from_retained > 0 && rr.from_flash > 0);
	}
}

/* Power cut in the middle of flash operations: the first erase of the
 * second page (after 512 records), that erase again after the reset, then
 * the check word of the first record in it. Each time the tag resumes
 * from the newest intact record; no half-done operation is taken for one. */
static void test_eid_clock_power_fail_safe(void **state)
{
	static const unsigned cuts[] = { 2 * FW_EIDCLOCK_SLOTS, 0, 2 };

	(void)state;
	run_with_resets(8, 10240, 12 * 3600, 1000000, 0, cuts, 3, 7);
	assert_int_equal(rr.flash_cuts, 3);
	assert_int_equal(rr.resets, 3);
	assert_int_equal(rr.from_flash, 3);
	assert_true(rr.frames > 4000);
}

/* Blank or damaged UICR falls back to the build-time defaults. */
static void test_uicr_fallback(void **state)
{
	struct hal_host_params hp;
	struct fw_config c, want;
	uint32_t w[FW_UICR_WORDS];

	(void)state;
	fw_config_defaults(&want);
	hal_host_params_default(&hp);
	hal_host_reset(&hp);
	fw_config_load(&c);
	assert_memory_equal(&c, &want, sizeof(c));

	eid_cfg(&c, 3, 77);
	assert_int_equal(fw_uicr_encode(&c, w), FW_CONFIG_OK);
	hal_host_write_uicr(w);
	fw_config_load(&c);
	assert_int_equal(c.eid_clock_base, 77);

	w[5] ^= 1u;
	hal_host_write_uicr(w);
	fw_config_load(&c);
	assert_memory_equal(&c, &want, sizeof(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_on_three_channels),
		cmocka_unit_test(test_event_spacing),
		cmocka_unit_test(test_header_and_static_address),
		cmocka_unit_test(test_frames_match_config),
		cmocka_unit_test(test_tlm_counters_rise),
		cmocka_unit_test(test_hfxo_only_during_events),
		cmocka_unit_test(test_lfrc_fallback),
		cmocka_unit_test(test_errata_per_revision),
		cmocka_unit_test(test_tx_power_steps),
		cmocka_unit_test(test_uicr_layout),
		cmocka_unit_test(test_air_whitening_and_crc),
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_ecb_peripheral_is_aes),
		cmocka_unit_test(test_eid_published_vectors),
		cmocka_unit_test(test_eid_rotation_and_address),
		cmocka_unit_test(test_privacy_tag_frames),
		cmocka_unit_test(test_eid_without_key_stays_silent),
		cmocka_unit_test(test_uicr_fallback),
		cmocka_unit_test(test_eax_vectors),
		cmocka_unit_test(test_eid_clock_survives_resets),
		cmocka_unit_test(test_eid_clock_power_fail_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
