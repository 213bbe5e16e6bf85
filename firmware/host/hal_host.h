/*
 * hal_host.h - the RAM backing of the register HAL for the host build:
 * register blocks in memory plus small models of the peripherals the
 * firmware uses (CLOCK, POWER, RADIO, RTC0, TIMER0, RNG, TEMP, SAADC, ECB,
 * NVMC with two RAM-backed flash pages, WDT), driven by a simulated clock.
 *
 * Each peripheral operation takes the time the product specification
 * gives (typical values, HAL_HOST_*_US below) and sets its event only when
 * that time has passed. Time passes in two ways, which the model accounts
 * separately: the CPU polling a register it waits on (busy), or the CPU in
 * WFE until an enabled interrupt becomes pending (asleep). That split, and
 * how long each peripheral was active, is the input of the power model.
 *
 * Every packet the radio would send is handed to a hook together with the
 * radio configuration it was sent with. Resets can be scheduled at any
 * simulated moment or at any flash write step; the model then resets the
 * chip and calls the reset hook, which must not return (longjmp back to
 * the caller's "main").
 */
#ifndef HAL_HOST_H
#define HAL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Times the model gives operations (PS typical values). */
#define HAL_HOST_HFXO_STARTUP_US 360u  /* nRF52832 PS: tSTART,HFXO */
#define HAL_HOST_LFXO_STARTUP_US 250000u
#define HAL_HOST_LFRC_STARTUP_US 600u
#define HAL_HOST_LFCLK_STOP_US 100u
#define HAL_HOST_LFRC_CAL_US 1000u
#define HAL_HOST_RAMPUP_US 140u        /* RADIO tTXEN */
#define HAL_HOST_RAMPUP_FAST_US 40u    /* RADIO tTXEN,FAST */
#define HAL_HOST_DISABLE_US 6u
#define HAL_HOST_RNG_BYTE_US 120u      /* with bias correction */
#define HAL_HOST_TEMP_US 36u
#define HAL_HOST_SAADC_US 12u          /* tACQ 10 us + conversion */
#define HAL_HOST_ECB_US 7u
#define HAL_HOST_FLASH_WRITE_US 41u    /* tWRITE, one word */
#define HAL_HOST_FLASH_ERASE_US 85000u /* tERASEPAGE */

struct hal_host_params {
	uint32_t device_addr[2]; /* FICR DEVICEADDR[0..1] */
	uint32_t part;           /* FICR INFO.PART */
	uint32_t variant;        /* FICR INFO.VARIANT */
	bool lfxo;               /* a 32.768 kHz crystal is fitted */
	bool dcdc;               /* the board has the DC/DC inductor */
	uint32_t clock_pages;    /* the two flash pages of the EID clock */
	int32_t temp_quarter_c;  /* TEMP reading, 0.25 degC units */
	uint16_t vdd_mv;         /* supply seen by the SAADC */
	uint64_t rng_seed;
};

/* One transmitted packet and the RADIO registers it went out with. */
struct hal_host_tx {
	uint64_t time_us;      /* start of the packet on the simulated clock */
	uint32_t frequency;    /* RADIO FREQUENCY (MHz above 2400) */
	uint32_t datawhiteiv;
	uint32_t access_address;
	uint32_t crcinit;
	uint32_t crcpoly;
	uint32_t crccnf;
	uint32_t pcnf0;
	uint32_t pcnf1;
	uint32_t mode;
	uint32_t txpower;
	bool hfxo_running;
	size_t pdu_len;        /* header + payload */
	uint8_t pdu[2 + 255];
};

/* Where the simulated time went since power-on (microseconds), for the
 * power model: every resource's active time, and CPU time spent polling. */
struct hal_host_usage {
	uint64_t total_us;
	uint64_t cpu_busy_us;   /* CPU polling a register (not in WFE) */
	uint64_t hfxo_us;       /* HFXO starting or running */
	uint64_t radio_us;      /* RADIO ramp-up, packet and disable */
	uint64_t rng_us;
	uint64_t timer_us;      /* TIMER0 running (on HFINT) */
	uint64_t lfrc_cal_us;
	uint64_t temp_us;
	uint64_t saadc_us;
	uint64_t ecb_us;
	uint64_t flash_write_us;
	uint64_t flash_erase_us;
	unsigned wakeups;       /* RTC wake-ups from sleep */
	unsigned packets;
	unsigned flash_writes;
	unsigned flash_erases;
	unsigned resets;
};

typedef void (*hal_host_tx_fn)(const struct hal_host_tx *tx, void *ctx);
typedef void (*hal_host_reset_fn)(void *ctx);

void hal_host_params_default(struct hal_host_params *p);
/* Power-on of a new chip: all registers to reset values, FICR from p,
 * UICR blank, flash pages erased, retained RAM garbage, time 0. */
void hal_host_reset(const struct hal_host_params *p);
void hal_host_set_tx_hook(hal_host_tx_fn fn, void *ctx);
/* Program UICR CUSTOMER[0..31]. */
void hal_host_write_uicr(const uint32_t words[32]);
/* Simulated time in microseconds since power-on. */
uint64_t hal_host_now_us(void);
/* Sleeps (WFE until the RTC) so far during which HFXO was left running: must stay 0. */
unsigned hal_host_sleeps_with_hfxo(void);
void hal_host_usage(struct hal_host_usage *u);
void hal_host_usage_clear(void);

/* Resets. At the simulated time at_us (0: none), a soft reset (RAM
 * retained, like a watchdog or pin reset) or a power loss (RAM lost,
 * off_us without power). The flash cut interrupts the n-th flash operation
 * from now (0: the next one) half-way: a random part of its bits changed,
 * then power is lost for off_us. The model resets the chip and calls the
 * hook, which must not return. */
void hal_host_set_reset_hook(hal_host_reset_fn fn, void *ctx);
void hal_host_schedule_reset(uint64_t at_us, bool power_loss, uint64_t off_us);
void hal_host_cut_power_at_flash_op(unsigned n, uint64_t off_us);

/* After fw_system_off(): the chip is off. */
bool hal_host_system_off(void);
/* RAM sections (4 KiB, or 32 KiB in nRF52840 RAM8) still powered. */
unsigned hal_host_ram_sections_on(void);
bool hal_host_dcdc_on(void);

#endif
