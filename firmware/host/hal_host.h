/*
 * hal_host.h - the RAM backing of the register HAL for the host build:
 * register blocks in memory plus small models of the peripherals the
 * firmware uses (CLOCK, RADIO, RTC0, RNG, TEMP, SAADC, ECB), driven by a
 * simulated clock. Every packet the radio would send is handed to a hook
 * together with the radio configuration it was sent with.
 */
#ifndef HAL_HOST_H
#define HAL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hal_host_params {
	uint32_t device_addr[2]; /* FICR DEVICEADDR[0..1] */
	uint32_t part;           /* FICR INFO.PART */
	uint32_t variant;        /* FICR INFO.VARIANT */
	bool lfxo;               /* a 32.768 kHz crystal is fitted */
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

typedef void (*hal_host_tx_fn)(const struct hal_host_tx *tx, void *ctx);

void hal_host_params_default(struct hal_host_params *p);
/* Power-on: all registers to reset values, FICR from p, UICR blank. */
void hal_host_reset(const struct hal_host_params *p);
void hal_host_set_tx_hook(hal_host_tx_fn fn, void *ctx);
/* Program UICR CUSTOMER[0..31]. */
void hal_host_write_uicr(const uint32_t words[32]);
/* Simulated time in microseconds since reset. */
uint64_t hal_host_now_us(void);
/* Sleeps (WFE) so far during which HFXO was left running: must stay 0. */
unsigned hal_host_sleeps_with_hfxo(void);

#endif
