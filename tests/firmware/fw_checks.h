/*
 * fw_checks.h - checks of the firmware logic running on the RAM-backed
 * registers. Plain C with no test framework, so the same checks run on the
 * host (test_fw_logic.c, cmocka) and on a Cortex-M4F in QEMU
 * (qemu_main.c, semihosting). Each returns the number of failed checks.
 */
#ifndef FW_CHECKS_H
#define FW_CHECKS_H

#include <stddef.h>

#include "fw_beacon.h"
#include "hal_host.h"

#define FWC_MAX_TX 1500

struct fwc_capture {
	size_t n;
	struct hal_host_tx tx[FWC_MAX_TX];
};

extern struct fwc_capture fwc_cap;

/* Reset the simulated chip, program cfg into UICR (NULL: leave it blank),
 * run the firmware for the given simulated time, capturing into fwc_cap. */
void fwc_run(const struct fw_config *cfg, const struct hal_host_params *hp, unsigned ms,
	     struct fw_beacon *b);

int fwc_fail(const char *file, int line, const char *what);
#define FWC_CHECK(c) ((c) ? 0 : fwc_fail(__FILE__, __LINE__, #c))

int fwc_events_on_three_channels(void);
int fwc_event_spacing(void);
int fwc_header_and_static_address(void);
int fwc_frames_match_config(void);
int fwc_tlm_counters_rise(void);
int fwc_hfxo_only_during_events(void);
int fwc_lfrc_fallback(void);
int fwc_errata_per_revision(void);
int fwc_tx_power_steps(void);
int fwc_uicr_layout(void);
int fwc_air_whitening_and_crc(void);
int fwc_schedule(void);

#endif
