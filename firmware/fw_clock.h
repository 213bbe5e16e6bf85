/* fw_clock.h - LFCLK + RTC0 timebase and the HFXO used only during events. */
#ifndef FW_CLOCK_H
#define FW_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct fw_clock {
	uint64_t ticks;      /* RTC0 ticks (32768 Hz) since start, 24-bit counter extended */
	uint32_t last_counter;
	bool lfrc;           /* no 32.768 kHz crystal: running on the calibrated RC */
};

/* Start LFCLK (LFXO, else LFRC) and RTC0 with the COMPARE0 wake-up path. */
void fw_clock_init(struct fw_clock *c);
/* Current time in ticks; call at least every 512 s (24-bit wrap). */
uint64_t fw_clock_now(struct fw_clock *c);
/* Sleep (WFE) until the tick count reaches t. */
void fw_clock_sleep_until(struct fw_clock *c, uint64_t t);
void fw_clock_hfxo_start(void);
void fw_clock_hfxo_stop(void);
/* Recalibrate the LFRC against the running HFXO (no-op on LFXO). */
void fw_clock_calibrate(const struct fw_clock *c);

/* 32-bit arithmetic (ms <= 10240): no 64-bit division in the image. */
#define FW_MS_TO_TICKS_CEIL(ms) ((((uint32_t)(ms)) * 32768u + 999u) / 1000u)

#endif
