/*
 * qemu_main.c - the firmware logic checks compiled for Cortex-M4F and run
 * in QEMU mps2-an386 (test_qemu_logic.sh). The checks drive the same
 * firmware code over the RAM-backed registers as on the host; only the
 * EID checks stay on the host, because the ECB model needs OpenSSL.
 */
#include <stdio.h>
#include <stdlib.h>

#include "aes_openssl.h"
#include "fw_checks.h"

void qemu_semihost_exit(int ok);

/* The ECB model's cipher; no check here schedules EID, so reaching it is a bug. */
void aes128_openssl(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	(void)key;
	(void)in;
	(void)out;
	printf("FAIL: ECB used in the QEMU run\n");
	qemu_semihost_exit(0);
}

int main(void)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} checks[] = {
		{ "events_on_three_channels", fwc_events_on_three_channels },
		{ "event_spacing", fwc_event_spacing },
		{ "header_and_static_address", fwc_header_and_static_address },
		{ "frames_match_config", fwc_frames_match_config },
		{ "tlm_counters_rise", fwc_tlm_counters_rise },
		{ "hfxo_only_during_events", fwc_hfxo_only_during_events },
		{ "lfrc_fallback", fwc_lfrc_fallback },
		{ "errata_per_revision", fwc_errata_per_revision },
		{ "tx_power_steps", fwc_tx_power_steps },
		{ "uicr_layout", fwc_uicr_layout },
		{ "air_whitening_and_crc", fwc_air_whitening_and_crc },
		{ "schedule", fwc_schedule },
	};
	int failed = 0;

	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		int f = checks[i].fn();

		printf("%s %s\n", f ? "FAIL" : "ok  ", checks[i].name);
		failed += f != 0;
	}
	printf("%d of %u checks failed on Cortex-M4F\n", failed,
	       (unsigned)(sizeof(checks) / sizeof(checks[0])));
	qemu_semihost_exit(failed == 0);
	return failed;
}
