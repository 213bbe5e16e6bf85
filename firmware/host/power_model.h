/*
 * power_model.h - average current of a tag from the time the host model
 * measured per resource (hal_host_usage) and datasheet currents.
 *
 * Currents are nRF52832 PS v1.4 typical values at 3 V with the DC/DC
 * regulator; without it the regulated parts draw FW_PM_LDO_FACTOR times
 * more. The CPU's own run time per wake-up (frame building, AES, the
 * control flow between waits) is not measurable on the host and is an
 * assumption (FW_PM_CPU_PER_WAKE_US); the time it polls registers is
 * measured. See docs/firmware.md "Power model".
 */
#ifndef POWER_MODEL_H
#define POWER_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "hal_host.h"

#define FW_PM_CPU_PER_WAKE_US 200.0 /* assumed, 64 MHz from flash */
#define FW_PM_LDO_FACTOR 1.9         /* LDO / DC/DC current ratio (PS tables) */
#define FW_PM_CR2032_MAH 220.0

struct fw_power_estimate {
	double avg_ua;
	double sleep_ua, radio_ua, hfxo_ua, cpu_ua, other_ua; /* contributions */
	double life_days;                /* 220 mAh at avg_ua */
};

void fw_power_estimate(const struct hal_host_usage *u, int8_t tx_dbm, bool dcdc,
		       struct fw_power_estimate *e);

#endif
